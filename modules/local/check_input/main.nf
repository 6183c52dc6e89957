process CHECK_INPUT {
    tag 'params'
    label 'process_single'
    container 'ghcr.io/virnucpro/virnucpro:0.1.0'
    conda "${moduleDir}/../../../environment.yml"

    input:
    val params_json     // every pipeline param, as JSON text
    path schema         // nextflow_schema.json
    path input_schema   // assets/schema_input.json
    val base_dir        // relative paths in the params and the samplesheet are relative to this

    output:
    path 'samplesheet.valid.csv', emit: samplesheet
    path 'versions.yml',          emit: versions

    script:
    def args = task.ext.args ?: ''
    """
    cat <<'PARAMS_JSON' > params.json
    ${params_json}
    PARAMS_JSON
    virnucpro check-input \\
        --params params.json \\
        --schema ${schema} \\
        --input-schema ${input_schema} \\
        --base-dir ${base_dir} \\
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
    """
    cat <<'PARAMS_JSON' > params.json
    ${params_json}
    PARAMS_JSON
    virnucpro check-input --params params.json --schema ${schema} --input-schema ${input_schema} \\
        --base-dir ${base_dir} --output samplesheet.valid.csv
    touch versions.yml
    """
}
