process REPORT {
    tag "${meta.id}"
    label 'process_single'

    input:
    // every shard of one sample, in shard order; staged into numbered folders because all are named alike
    // input_info: {"input": the sample's file(s) as given}, recorded in the report
    tuple val(meta), path(scores, stageAs: 'scores/????/*'), path(chunks, stageAs: 'chunks/????/*'), path(infos, stageAs: 'classify/????/*'), path(input_info)

    output:
    tuple val(meta), path("${meta.id}/prediction_results.txt"),              emit: predictions
    tuple val(meta), path("${meta.id}/prediction_results_highestscore.csv"), emit: highest
    tuple val(meta), path("${meta.id}/reads.tsv"),                           emit: reads
    tuple val(meta), path("${meta.id}/contigs.tsv"),                         emit: contigs
    tuple val(meta), path("${meta.id}/regions.bed"),                         emit: regions
    tuple val(meta), path("${meta.id}/summary.json"),                        emit: summary
    tuple val(meta), path("${meta.id}/report.html"),                         emit: html
    tuple val(meta), path("${meta.id}/multiqc/*_mqc.json"),                  emit: multiqc
    path 'versions.yml',                                                 emit: versions

    script:
    def args = task.ext.args ?: ''
    def score_list = scores instanceof List ? scores : [scores]
    def chunk_list = chunks instanceof List ? chunks : [chunks]
    def score_args = score_list.collect { f -> "--scores ${f}" }.join(' ')
    def chunk_args = chunk_list.collect { f -> "--chunks ${f}" }.join(' ')
    def info_list = infos instanceof List ? infos : [infos]
    def info_args = info_list.collect { f -> "--classify-info ${f}" }.join(' ')
    """
    virnucpro report \\
        --threads ${task.cpus} \\
        ${score_args} \\
        ${chunk_args} \\
        ${info_args} \\
        --sample ${meta.id} \\
        --run-info-file ${input_info} \\
        --outdir ${meta.id} \\
        ${args}

    cat <<-END_VERSIONS > versions.yml
    "${task.process}":
        virnucpro: \$(virnucpro --version | sed 's/^virnucpro, version //')
    END_VERSIONS
    """

    stub:
    """
    mkdir -p ${meta.id}
    touch ${meta.id}/prediction_results.txt ${meta.id}/prediction_results_highestscore.csv ${meta.id}/reads.tsv
    touch ${meta.id}/contigs.tsv ${meta.id}/regions.bed
    touch ${meta.id}/summary.json ${meta.id}/report.html
    mkdir -p ${meta.id}/multiqc
    touch ${meta.id}/multiqc/virnucpro_reads_mqc.json
    touch versions.yml
    """
}
