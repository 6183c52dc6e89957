process CHECK_INPUT {
    tag 'params'
    label 'process_single'

    input:
    path params_json    // every pipeline param, as a JSON object
    path file_checks    // what the pipeline found about the files the params name (problems, hub names)
    path schema         // nextflow_schema.json
    path input_schema   // assets/schema_input.json
    path samplesheet    // the samplesheet, when --input is one (else empty)

    output:
    path 'samplesheet.valid.csv', emit: samplesheet
    path 'versions.yml',          emit: versions

    script:
    def args = task.ext.args ?: ''
    def sheet = samplesheet ? "--samplesheet ${samplesheet}" : ''
    """
    virnucpro check-input \\
        --threads ${task.cpus} \\
        --params ${params_json} \\
        --file-checks ${file_checks} \\
        --schema ${schema} \\
        --input-schema ${input_schema} \\
        ${sheet} \\
        --output samplesheet.valid.csv \\
        ${args}

    cat <<-END_VERSIONS > versions.yml
    "${task.process}":
        virnucpro: \$(virnucpro --version | sed 's/^virnucpro, version //')
    END_VERSIONS
    """

    // The check is light (no model is loaded) and everything downstream depends on its samplesheet, so
    // the stub runs it for real.
    stub:
    def sheet = samplesheet ? "--samplesheet ${samplesheet}" : ''
    """
    virnucpro check-input --params ${params_json} --file-checks ${file_checks} --schema ${schema} \\
        --input-schema ${input_schema} ${sheet} --output samplesheet.valid.csv
    touch versions.yml
    """
}
