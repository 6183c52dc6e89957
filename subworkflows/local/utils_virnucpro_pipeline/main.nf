/*
 * Before and after the pipeline: validate every param and the samplesheet in Python (against the shipped
 * JSON schemas, no plugin needed), resolve the models, and report the outcome.
 */

include { CHECK_INPUT      } from '../../../modules/local/check_input'
include { MAKE_TEST_MODELS } from '../../../modules/local/make_test_models'

workflow PIPELINE_INITIALISATION {

    take:
    params_json     // string: every param as JSON
    make_models     // boolean: make tiny seeded test models instead of using the given ones
    dnabert_param   // string: DNABERT-S directory or hub name (ignored with make_models)
    esm_param       // string: ESM-2 checkpoint or hub name (ignored with make_models)
    classifier_param // string: classifier file (ignored with make_models)

    main:
    //
    // MODULE: validate params and the samplesheet before any work; emits `sample,fasta` rows
    //
    CHECK_INPUT(
        params_json,
        file("${projectDir}/nextflow_schema.json", checkIfExists: true),
        file("${projectDir}/assets/schema_input.json", checkIfExists: true),
        workflow.launchDir.toString(),
    )
    samples = CHECK_INPUT.out.samplesheet
        .splitCsv(header: true, strip: true)
        .map { row -> [[id: row.sample, sample: row.sample], file(row.fasta, checkIfExists: true)] }

    //
    // MODULE: tiny seeded models for the test profile (same file formats as the real ones); it runs only
    // when its seed channel has an item
    //
    MAKE_TEST_MODELS(make_models ? channel.value(0) : channel.empty())
    // Otherwise the given models, resolved once the check has passed: a model that exists as a file or
    // directory is passed by absolute path, anything else as a hub name.
    ch_checked = CHECK_INPUT.out.samplesheet
    dnabert_model = make_models
        ? MAKE_TEST_MODELS.out.dnabert.map { path -> path.toString() }
        : ch_checked.map { _sheet -> absoluteIfExists(dnabert_param) }
    esm_model = make_models
        ? MAKE_TEST_MODELS.out.esm.map { path -> path.toString() }
        : ch_checked.map { _sheet -> absoluteIfExists(esm_param) }
    classifier = make_models
        ? MAKE_TEST_MODELS.out.classifier
        : ch_checked.map { _sheet -> file(classifier_param, checkIfExists: true) }
    versions = CHECK_INPUT.out.versions.mix(MAKE_TEST_MODELS.out.versions)

    // (emits are plain names: Nextflow 25.04's strict parser loses `name = expression` emits)
    emit:
    samples         // channel: [ meta, reads.fa ] per sample
    dnabert_model   // value: string
    esm_model       // value: string
    classifier      // value: path
    versions        // channel: versions.yml files
}

workflow PIPELINE_COMPLETION {

    take:
    ch_versions     // channel: versions.yml files of every task
    outdir          // string: the results directory

    main:
    // One copy of each distinct versions block, in a stable order.
    ch_versions
        .map { versions_file -> versions_file.text }
        .unique()
        .collectFile(name: 'software_versions.yml', storeDir: "${outdir}/pipeline_info", sort: true, newLine: false)
}

def absoluteIfExists(model) {
    def model_path = file(model)
    return model_path.exists() ? model_path.toString() : model
}
