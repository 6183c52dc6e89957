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
    dnabert_model   // string: DNABERT-S directory or hub name (ignored with make_models)
    esm_model       // string: ESM-2 checkpoint or hub name (ignored with make_models)
    classifier      // string: classifier file (ignored with make_models)

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
    ch_versions = CHECK_INPUT.out.versions
    ch_samples = CHECK_INPUT.out.samplesheet
        .splitCsv(header: true, strip: true)
        .map { row -> [[id: row.sample, sample: row.sample], file(row.fasta, checkIfExists: true)] }

    if (make_models) {
        //
        // MODULE: tiny seeded models for the test profile (same file formats as the real ones)
        //
        MAKE_TEST_MODELS(0)
        ch_dnabert = MAKE_TEST_MODELS.out.dnabert.map { path -> path.toString() }
        ch_esm = MAKE_TEST_MODELS.out.esm.map { path -> path.toString() }
        ch_classifier = MAKE_TEST_MODELS.out.classifier
        ch_versions = ch_versions.mix(MAKE_TEST_MODELS.out.versions)
    }
    else {
        // A model that exists as a file or directory is passed by absolute path, anything else as a hub name.
        ch_dnabert = channel.value(absoluteIfExists(dnabert_model))
        ch_esm = channel.value(absoluteIfExists(esm_model))
        ch_classifier = channel.value(file(classifier, checkIfExists: true))
    }

    emit:
    samples       = ch_samples      // channel: [ meta, reads.fa ] per sample
    dnabert_model = ch_dnabert      // value: string
    esm_model     = ch_esm          // value: string
    classifier    = ch_classifier   // value: path
    versions      = ch_versions
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
