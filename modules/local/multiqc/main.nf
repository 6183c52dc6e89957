process MULTIQC {
    label 'process_single'

    input:
    // every sample's custom-content files, all named alike: staged into numbered folders
    path multiqc_files, stageAs: '?/*'
    path multiqc_config

    output:
    path 'multiqc_report.html', emit: report
    path 'multiqc_data',        emit: data
    path 'versions.yml',        emit: versions

    script:
    def args = task.ext.args ?: ''
    """
    # multiqc has no thread option: its data frames (polars) use at most the task's CPUs
    export POLARS_MAX_THREADS=${task.cpus}
    multiqc --force --config ${multiqc_config} ${args} .

    cat <<-END_VERSIONS > versions.yml
    "${task.process}":
        multiqc: \$(multiqc --version | sed 's/^multiqc, version //')
    END_VERSIONS
    """

    stub:
    """
    mkdir multiqc_data
    touch multiqc_report.html
    touch versions.yml
    """
}
