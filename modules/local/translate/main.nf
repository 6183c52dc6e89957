process TRANSLATE {
    tag "${meta.id}"
    label 'process_single'
    container 'ghcr.io/virnucpro/virnucpro:0.1.0'
    conda "${moduleDir}/../../../environment.yml"

    input:
    tuple val(meta), path(reads)

    output:
    tuple val(meta), path('frames/nucleotide.fa'), emit: nucleotide
    tuple val(meta), path('frames/protein.faa'),   emit: protein
    tuple val(meta), path('frames/chunks.tsv'),    emit: chunks
    path 'versions.yml',                           emit: versions

    script:
    def args = task.ext.args ?: ''
    """
    virnucpro translate ${reads} --outdir frames ${args}

    cat <<-END_VERSIONS > versions.yml
    "${task.process}":
        virnucpro: \$(virnucpro --version | sed 's/^virnucpro, version //')
    END_VERSIONS
    """

    stub:
    """
    mkdir -p frames
    touch frames/nucleotide.fa frames/protein.faa frames/chunks.tsv
    touch versions.yml
    """
}
