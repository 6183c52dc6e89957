process EMBED_DNABERT {
    tag "${meta.id}"
    label 'process_gpu'
    container 'ghcr.io/virnucpro/virnucpro:0.1.0'
    conda "${moduleDir}/../../../environment.yml"

    input:
    tuple val(meta), path(frames), val(checkpoint_dir)  // checkpoint_dir: a string outside the work directory
    val model                                           // a path or a hub name found in the local caches

    output:
    tuple val(meta), path("${meta.id}.dnabert.safetensors"), emit: embeddings
    tuple val(meta), path("${meta.id}.dnabert.metrics.json"), emit: metrics
    path 'versions.yml',                                 emit: versions

    script:
    def args = task.ext.args ?: ''
    """
    virnucpro embed \\
        --model-kind dnabert-s \\
        --model ${model} \\
        --input ${frames} \\
        --output ${meta.id}.dnabert.safetensors \\
        --checkpoint-dir ${checkpoint_dir} \\
        --metrics ${meta.id}.dnabert.metrics.json \\
        ${args}

    cat <<-END_VERSIONS > versions.yml
    "${task.process}":
        virnucpro: \$(virnucpro --version | sed 's/^virnucpro, version //')
        torch: \$(python3 -c "import importlib.metadata as m; print(m.version('torch'))")
    END_VERSIONS
    """

    stub:
    """
    touch ${meta.id}.dnabert.safetensors ${meta.id}.dnabert.metrics.json
    touch versions.yml
    """
}
