process TRANSLATE {
    tag "${meta.id}"
    label 'process_single'

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
    virnucpro translate ${reads} --outdir frames --threads ${task.cpus} ${args}

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
