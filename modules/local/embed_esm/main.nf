process EMBED_ESM {
    tag "${meta.id}"
    label 'process_gpu'
    container 'ghcr.io/virnucpro/virnucpro:0.1.0'
    conda "${moduleDir}/../../../environment.yml"

    input:
    tuple val(meta), path(frames), val(checkpoint_dir)  // checkpoint_dir: a string outside the work directory
    val model                                           // a path or a hub name found in the local caches

    output:
    tuple val(meta), path("${meta.id}.esm.safetensors"), emit: embeddings
    tuple val(meta), path("${meta.id}.esm.metrics.json"), emit: metrics
    path 'versions.yml',                                 emit: versions

    script:
    def args = task.ext.args ?: ''
    """
    virnucpro embed \\
        --model-kind esm2 \\
        --model ${model} \\
        --input ${frames} \\
        --output ${meta.id}.esm.safetensors \\
        --checkpoint-dir ${checkpoint_dir} \\
        --metrics ${meta.id}.esm.metrics.json \\
        ${args}

    cat <<-END_VERSIONS > versions.yml
    "${task.process}":
        virnucpro: \$(virnucpro --version | sed 's/^virnucpro, version //')
        torch: \$(python3 -c "import importlib.metadata as m; print(m.version('torch'))")
    END_VERSIONS
    """

    stub:
    """
    touch ${meta.id}.esm.safetensors ${meta.id}.esm.metrics.json
    touch versions.yml
    """
}
