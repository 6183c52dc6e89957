/*
 * Before and after the pipeline: check the files the params name (here, on the head node, where Nextflow
 * resolves local paths and s3://, gs://, az://, https:// alike), validate every param and the samplesheet in
 * Python (against the shipped JSON schemas, no plugin needed), and report. `checkpointRoot` chooses where
 * the embedders keep their pieces.
 */

include { CHECK_INPUT      } from '../../../modules/local/check_input'
include { MAKE_TEST_MODELS } from '../../../modules/local/make_test_models'

workflow PIPELINE_INITIALISATION {

    take:
    params_json      // string: every param as JSON
    input            // string: --input, a FASTA or a samplesheet (path or URI)
    make_models      // boolean: make tiny seeded test models instead of using the given ones
    dnabert_param    // string: DNABERT-S directory or hub name (ignored with make_models)
    esm_param        // string: ESM-2 checkpoint or hub name (ignored with make_models)
    classifier_param // string: classifier file (ignored with make_models)
    gpu_lock_dir     // string or null: the GPU lock directory, when the run uses GPUs

    main:
    //
    // Every file a param names is looked up now; what is wrong goes to CHECK_INPUT, which lists it with
    // every other problem, so one run shows them all
    //
    models = make_models ? [:] : [dnabert_model: dnabert_param, esm_model: esm_param]
    checks = fileChecks(input, make_models ? null : classifier_param, models)
    if (gpu_lock_dir) {
        // made by the user before a container engine would make it, as root, for a mount
        file(gpu_lock_dir).mkdirs()
    }

    //
    // MODULE: validate params and the samplesheet before any work; emits `sample,reads,mate` rows
    //
    CHECK_INPUT(
        channel.of(params_json).collectFile(name: 'params.json'),
        channel.of(groovy.json.JsonOutput.toJson(checks)).collectFile(name: 'file_checks.json'),
        file("${projectDir}/nextflow_schema.json", checkIfExists: true),
        file("${projectDir}/assets/schema_input.json", checkIfExists: true),
        input && input.endsWith('.csv') && file(input).exists() ? file(input) : [],
    )
    samples = CHECK_INPUT.out.samplesheet
        .splitCsv(header: true, strip: true)
        .toList()
        .flatMap { rows ->
            // every reads file that does not exist is named at once (raised here: from inside a function
            // called by an operator, Nextflow would hide the message)
            def missing = missingReads(rows)
            if (missing) {
                error("--input ${input}:\n  " + missing.join('\n  '))
            }
            rows.collect { row -> sampleItem(row) }
        }

    //
    // MODULE: tiny seeded models for the test profile (same file formats as the real ones); it runs only
    // when its seed channel has an item
    //
    MAKE_TEST_MODELS(make_models ? channel.value(0) : channel.empty())
    // Otherwise the given models, once the check has passed: [hub name, []] or ['', staged path]. A value
    // channel (first()), read by every shard's task: a queue channel's one item would feed only the first
    // shard, and the run would end "successfully" with the other shards never embedded and no report
    ch_checked = CHECK_INPUT.out.samplesheet.first()
    dnabert_model = make_models
        ? MAKE_TEST_MODELS.out.dnabert.map { path -> ['', path] }
        : ch_checked.map { _sheet -> modelInput(dnabert_param) }
    esm_model = make_models
        ? MAKE_TEST_MODELS.out.esm.map { path -> ['', path] }
        : ch_checked.map { _sheet -> modelInput(esm_param) }
    classifier = make_models
        ? MAKE_TEST_MODELS.out.classifier
        : ch_checked.map { _sheet -> file(classifier_param, checkIfExists: true) }
    versions = CHECK_INPUT.out.versions.mix(MAKE_TEST_MODELS.out.versions)

    // (emits are plain names: Nextflow 25.04's strict parser loses `name = expression` emits)
    emit:
    samples         // channel: [ meta, [ reads ] or [ R1, R2 ] ] per sample; meta.input: the file(s) as given
    dnabert_model   // value: [ hub name, [] ] or [ '', path ]
    esm_model       // value: [ hub name, [] ] or [ '', path ]
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

//
// What is wrong with the files the params name, and which model params are hub names (with where they
// were looked for as paths): the `--file-checks` JSON of `virnucpro check-input`.
//
def fileChecks(input, classifier, models) {
    def problems = []
    if (input) {
        problems += pathProblems('input', input, 'file')
    }
    if (classifier) {
        problems += pathProblems('classifier', classifier, 'file')
    }
    def hub_names = [:]
    models.each { name, value ->
        if (isModelPath(value)) {
            problems += pathProblems(name, value, name == 'dnabert_model' ? 'model directory' : 'file')
        }
        else {
            hub_names[name] = file(value).toUriString()
        }
    }
    return [problems: problems, hub_names: hub_names]
}

// A model param names a path when it is a URI, starts like a path, or exists (relative to the launch
// directory); anything else is a hub name, which the task resolves from its local caches.
def isModelPath(value) {
    return value ==~ /^[a-zA-Z][a-zA-Z0-9+.-]*:.*/ || value.startsWith('/') || value.startsWith('.') || value.startsWith('~') || file(value).exists()
}

// One line per problem with the path a param names; kind: 'file', 'directory' or 'model directory'
// (a directory with a config.json).
def pathProblems(name, value, kind) {
    def path = file(value)
    def shown = "--${name} = '${value}'"
    def where = path.toUriString()
    if (!path.exists()) {
        return ["${shown}: no such ${kind == 'file' ? 'file' : 'directory'} (looked at ${where})".toString()]
    }
    if (kind == 'file' && path.isDirectory()) {
        return ["${shown}: is a directory, expected a file (${where})".toString()]
    }
    if (kind != 'file' && !path.isDirectory()) {
        return ["${shown}: is a file, expected a directory (${where})".toString()]
    }
    if (kind == 'model directory' && !path.resolve('config.json').exists()) {
        return ["${shown}: ${where} has no config.json; expected a Hugging Face model directory".toString()]
    }
    return []
}

// A model for the EMBED tasks: [hub name, []] for a name, ['', file] for a path (staged into the task).
def modelInput(value) {
    return isModelPath(value) ? ['', file(value, checkIfExists: true)] : [value, []]
}

// One line per reads file of the checked samplesheet that does not exist. Relative paths are relative to
// the launch directory.
def missingReads(rows) {
    return rows.collectMany { row ->
        sampleFiles(row)
            .findAll { value -> !file(value).exists() }
            .collect { value -> "sample ${row.sample}: '${value}': no such file (looked at ${file(value).toUriString()})".toString() }
    }
}

// The reads file of a checked samplesheet row, or both mate files (R1 first), as given.
def sampleFiles(row) {
    return row.mate ? [row.reads, row.mate] : [row.reads]
}

// [meta, files] of one checked samplesheet row; meta.input names the file(s) for the report: absolute
// paths or URIs, comma-separated.
def sampleItem(row) {
    def files = sampleFiles(row).collect { value -> file(value) }
    return [[id: row.sample, sample: row.sample, input: files.collect { path -> path.toUriString() }.join(',')], files]
}

// The root of the embedders' checkpoints as tasks see it: --checkpoint_dir, else `virnucpro-checkpoints`
// in the work directory, so it lives wherever the work does (a shared file system, or object storage that
// Fusion shows tasks as /fusion/<scheme>/<bucket>/...). Object storage without Fusion is out of the tasks'
// reach: then there is no checkpoint root, and a retried task starts over.
def checkpointRoot(checkpoint_dir, work_dir, fusion) {
    def root = checkpoint_dir ? file(checkpoint_dir) : work_dir.resolve('virnucpro-checkpoints')
    if (root.scheme == 'file') {
        // made here so that container engines mount it with the user's ownership
        root.mkdirs()
        return root.toString()
    }
    if (fusion) {
        def uri = root.toUri()
        return "/fusion/${root.scheme}/${uri.authority}${uri.path}".toString()
    }
    log.warn("checkpoints: ${root.toUriString()} is object storage and Fusion is off, so tasks cannot reach it; a killed or retried embedding task starts over (enable Fusion, or give --checkpoint_dir on a shared file system)")
    return ''
}

// After a run that succeeded: the checkpoint folders left under a local root, or '' when there are none.
// Every embedding task removes its own folder once its output is written, so what is left belongs to other
// inputs (a changed input leaves its old folder, which nothing reads again), other models or settings, or
// another run using the same root now. Only the user can tell which, so they are named, not removed.
def leftCheckpointsText(root) {
    if (!root || root.startsWith('/fusion/')) {
        return ''  // object storage: the head job does not see it as a path
    }
    def folders = files("${root}/*/*/*/fingerprint.json").collect { record -> record.parent }.sort()
    if (!folders) {
        return ''
    }
    def bytes = folders.sum { folder -> files("${folder}/*").sum(0) { piece -> piece.size() } }
    def size = bytes < 1e6 ? "${Math.round(bytes / 1e3)} kB" : "${String.format('%.1f', bytes / 1e6)} MB"
    def names = folders.collect { folder -> folder.toString().substring(root.length() + 1) }
    def shown = names.take(5).join(', ') + (names.size() > 5 ? " and ${names.size() - 5} more" : '')
    def tops = names.collect { name -> name.tokenize('/')[0] }.unique().collect { name -> "${root}/${name}" }
    def remove = tops.size() <= 5 ? "rm -r ${tops.join(' ')}" :
        "rm -r ${root}/<folder> for each of the ${tops.size()} folders that ls ${root}/*/*/*/fingerprint.json names"
    return "checkpoints: ${folders.size()} folder(s) in ${root} hold pieces that no task of this run reads " +
        "(${size}): ${shown}. A changed input, model or setting leaves its old " +
        "folder behind; a run that was killed is resumed from its folder only when it is repeated. If no other " +
        "run uses this root, remove them: ${remove}"
}
