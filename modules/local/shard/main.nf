process SHARD {
    tag "${meta.id}"
    label 'process_single'

    input:
    // one reads file, or the two mate files of paired reads (R1 first); numbered folders keep alike names apart
    tuple val(meta), path(reads, stageAs: 'input?/*')

    output:
    tuple val(meta), path('shards/*.fa'), emit: shards
    path 'versions.yml',                  emit: versions

    script:
    def args = task.ext.args ?: ''
    def prefix = task.ext.prefix ?: "${meta.id}"
    """
    virnucpro shard ${reads} --outdir shards --prefix ${prefix} --threads ${task.cpus} ${args}

    cat <<-END_VERSIONS > versions.yml
    "${task.process}":
        virnucpro: \$(virnucpro --version | sed 's/^virnucpro, version //')
    END_VERSIONS
    """

    stub:
    def prefix = task.ext.prefix ?: "${meta.id}"
    """
    mkdir -p shards
    touch shards/${prefix}.0001.000000000000.fa
    touch versions.yml
    """
}
