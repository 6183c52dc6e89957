process CLASSIFY {
    tag "${meta.id}"
    label 'process_single'

    input:
    tuple val(meta), path(dnabert), path(esm)
    path classifier

    output:
    tuple val(meta), path('classified/scores.tsv'), emit: scores
    tuple val(meta), path('classified/classify.json'), emit: info
    path 'versions.yml',                            emit: versions

    script:
    def args = task.ext.args ?: ''
    """
    virnucpro classify \\
        --threads ${task.cpus} \\
        --dnabert ${dnabert} \\
        --esm ${esm} \\
        --classifier ${classifier} \\
        --output classified \\
        ${args}

    cat <<-END_VERSIONS > versions.yml
    "${task.process}":
        virnucpro: \$(virnucpro --version | sed 's/^virnucpro, version //')
    END_VERSIONS
    """

    stub:
    """
    mkdir -p classified
    touch classified/scores.tsv classified/classify.json
    touch versions.yml
    """
}
