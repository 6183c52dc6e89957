process CLASSIFY {
    tag "${meta.id}"
    label 'process_single'
    container 'ghcr.io/virnucpro/virnucpro:0.1.0'
    conda "${moduleDir}/../../../environment.yml"

    input:
    tuple val(meta), path(dnabert), path(esm)
    path classifier

    output:
    tuple val(meta), path('classified/scores.tsv'), emit: scores
    path 'versions.yml',                            emit: versions

    script:
    def args = task.ext.args ?: ''
    """
    virnucpro classify \\
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
    touch classified/scores.tsv
    touch versions.yml
    """
}
