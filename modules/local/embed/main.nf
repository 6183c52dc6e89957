process EMBED {
    tag "${meta.id}"
    label 'process_gpu'

    input:
    // checkpoint_dir: a plain value (a staged path would change the task hash as pieces appear) on storage
    // that a retry on another machine reaches; empty when there is none
    tuple val(meta), path(frames), val(checkpoint_dir)
    // either a hub name found in the task's local caches (model_files empty), or the staged model
    tuple val(model_name), path(model_files)

    output:
    tuple val(meta), path('*.safetensors'),   emit: embeddings
    tuple val(meta), path('*.metrics.json'),  emit: metrics
    path 'versions.yml',                      emit: versions

    script:
    def args = task.ext.args ?: ''
    def kind = task.ext.model_kind  // esm2 or dnabert-s, set per include in conf/modules.config
    def prefix = task.ext.prefix ?: "${meta.id}.${kind}"
    def model = model_name ?: model_files
    def checkpoints = checkpoint_dir ? "--checkpoint-dir ${checkpoint_dir}" : ''
    """
    virnucpro embed \\
        --threads ${task.cpus} \\
        --model-kind ${kind} \\
        --model ${model} \\
        --input ${frames} \\
        --output ${prefix}.safetensors \\
        --metrics ${prefix}.metrics.json \\
        ${checkpoints} \\
        ${args}

    cat <<-END_VERSIONS > versions.yml
    "${task.process}":
        virnucpro: \$(virnucpro --version | sed 's/^virnucpro, version //')
        torch: \$(python3 -c "import importlib.metadata as m; print(m.version('torch'))")
    END_VERSIONS
    """

    stub:
    def prefix = task.ext.prefix ?: "${meta.id}.${task.ext.model_kind}"
    """
    touch ${prefix}.safetensors ${prefix}.metrics.json
    touch versions.yml
    """
}
