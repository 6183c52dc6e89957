process MAKE_TEST_MODELS {
    tag "seed ${seed}"
    label 'process_single'

    input:
    val seed

    output:
    path 'test_models/dnabert-s',           emit: dnabert
    path 'test_models/esm2_t2_test.pt',     emit: esm
    path 'test_models/classifier.pth',      emit: classifier
    path 'test_models',                     emit: dir
    path 'versions.yml',                    emit: versions

    script:
    """
    virnucpro make-test-models test_models --seed ${seed} --threads ${task.cpus}

    cat <<-END_VERSIONS > versions.yml
    "${task.process}":
        virnucpro: \$(virnucpro --version | sed 's/^virnucpro, version //')
    END_VERSIONS
    """

    stub:
    """
    mkdir -p test_models/dnabert-s
    touch test_models/esm2_t2_test.pt test_models/esm2_t2_test-contact-regression.pt test_models/classifier.pth
    touch versions.yml
    """
}
