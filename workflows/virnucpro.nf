/*
 * The VirNucPro method over shards: reads -> shards -> frames -> two embeddings -> scores -> one report
 * per sample -> one MultiQC report over all samples. Each step is one `virnucpro <stage>` call (or
 * `multiqc`); the logic lives in the Python package.
 */

include { SHARD         } from '../modules/local/shard'
include { TRANSLATE     } from '../modules/local/translate'
include { EMBED as EMBED_DNABERT } from '../modules/local/embed'
include { EMBED as EMBED_ESM     } from '../modules/local/embed'
include { CLASSIFY      } from '../modules/local/classify'
include { REPORT        } from '../modules/local/report'
include { MULTIQC       } from '../modules/local/multiqc'

workflow VIRNUCPRO {

    take:
    ch_samples      // channel: [ meta, [ reads ] or [ R1, R2 ] ], one item per sample; meta.id = meta.sample = the sample,
                    // meta.input = the reads file(s), absolute paths or URIs (comma-separated)
    dnabert_model   // value: [ hub name, [] ] or [ '', DNABERT-S directory ]
    esm_model       // value: [ hub name, [] ] or [ '', ESM-2 .pt file ]
    classifier      // value: classifier file
    checkpoint_root // string: the embedders' checkpoint root as tasks see it ('' for none)
    skip_multiqc    // boolean: no MultiQC report
    multiqc_config  // path: assets/multiqc_config.yml

    main:
    ch_versions = channel.empty()

    //
    // MODULE: split each sample into content-named shards of whole reads
    //
    SHARD(ch_samples)
    ch_versions = ch_versions.mix(SHARD.out.versions)
    ch_shards = SHARD.out.shards.flatMap { meta, files -> shardItems(meta, files) }

    //
    // MODULE: chunk and six-frame translate each shard
    //
    TRANSLATE(ch_shards)
    ch_versions = ch_versions.mix(TRANSLATE.out.versions)

    //
    // MODULE: embed the frames, one EMBED module for both models; checkpoints live outside the tasks' own
    // directories, one folder per sample, shard and content, so a task rerun by -resume or by a retry (in a
    // new work or scratch directory, maybe on another machine) continues where the killed one stopped, and
    // two samples with the same reads never share one
    //
    EMBED_DNABERT(
        TRANSLATE.out.nucleotide.map { meta, frames -> [meta, frames, checkpointDir(checkpoint_root, meta, 'dnabert-s')] },
        dnabert_model,
    )
    EMBED_ESM(
        TRANSLATE.out.protein.map { meta, frames -> [meta, frames, checkpointDir(checkpoint_root, meta, 'esm2')] },
        esm_model,
    )
    ch_versions = ch_versions.mix(EMBED_DNABERT.out.versions, EMBED_ESM.out.versions)

    //
    // MODULE: join the two embeddings of a shard and score every frame
    //
    CLASSIFY(EMBED_DNABERT.out.embeddings.join(EMBED_ESM.out.embeddings, failOnMismatch: true), classifier)
    ch_versions = ch_versions.mix(CLASSIFY.out.versions)

    //
    // MODULE: gather every shard of a sample, in shard order, into the per-sample report
    //
    ch_report_input = CLASSIFY.out.scores
        .join(CLASSIFY.out.info, failOnMismatch: true)
        .join(TRANSLATE.out.chunks, failOnMismatch: true)
        .map { meta, scores, info, chunks -> [groupKey(meta.sample, meta.n_shards), meta.shard, scores, chunks, info] }
        .groupTuple()
        .map { sample, shards, scores, chunks, infos -> inShardOrder(sample.toString(), shards, scores, chunks, infos) }
    // what each report records about its input, the sample's file(s) as absolute paths or URIs: in a staged
    // file, since a host path must not appear in a task script
    ch_input_info = ch_samples
        .collectFile { meta, _files -> ["${meta.sample}.input.json", groovy.json.JsonOutput.toJson([input: meta.input])] }
        .map { info -> [info.name.replace('.input.json', ''), info] }
    REPORT(
        ch_report_input
            .map { meta, scores, chunks, infos -> [meta.sample, meta, scores, chunks, infos] }
            .join(ch_input_info, failOnMismatch: true)
            .map { _sample, meta, scores, chunks, infos, input_info -> [meta, scores, chunks, infos, input_info] }
    )
    ch_versions = ch_versions.mix(REPORT.out.versions)

    //
    // MODULE: one MultiQC report over every sample's custom content, with the versions of every tool
    //
    multiqc_report = channel.empty()
    if (!skip_multiqc) {
        ch_software_versions = ch_versions
            .map { versions_file -> versions_file.text }
            .unique()
            .collectFile(name: 'virnucpro_software_mqc_versions.yml', sort: true, newLine: false)
        MULTIQC(
            REPORT.out.multiqc.map { _meta, files -> files }.mix(ch_software_versions).collect(),
            multiqc_config,
        )
        multiqc_report = MULTIQC.out.report
        ch_versions = ch_versions.mix(MULTIQC.out.versions)
    }
    reads = REPORT.out.reads
    contigs = REPORT.out.contigs
    regions = REPORT.out.regions
    summary = REPORT.out.summary
    versions = ch_versions

    // (emits are plain names: Nextflow 25.04's strict parser loses `name = expression` emits)
    emit:
    reads       // channel: [ meta, reads.tsv ] per sample
    contigs     // channel: [ meta, contigs.tsv ] per sample
    regions     // channel: [ meta, regions.bed ] per sample
    summary     // channel: [ meta, summary.json ] per sample
    multiqc_report // channel: multiqc_report.html (none with skip_multiqc)
    versions    // channel: versions.yml of every task
}

// One [meta, shard] item per shard file `<sample>.<index>.<sha256 prefix>.fa`; the index orders shards, and
// the file's name without `.fa` names the task's checkpoint folder.
def shardItems(meta, files) {
    def shard_files = files instanceof List ? files : [files]
    return shard_files.collect { shard_file ->
        def parts = shard_file.name.tokenize('.')
        def index = parts[parts.size() - 3]
        def fingerprint = parts[parts.size() - 2]
        def shard_meta = meta + [id: "${meta.sample}.${index}", shard: index, fingerprint: fingerprint, n_shards: shard_files.size()]
        [shard_meta, shard_file]
    }
}

// <root>/<sample>.<shard index>.<shard fingerprint>/<model kind> (the shard file's name: one task's own
// folder, found again by its retries), or '' (no checkpoints) when there is no root.
def checkpointDir(root, meta, kind) {
    return root ? "${root}/${meta.id}.${meta.fingerprint}/${kind}".toString() : ''
}

// [meta, scores files, chunks files, classify records] of one sample with the lists in shard order.
def inShardOrder(sample, shards, scores, chunks, infos) {
    def rows = [shards, scores, chunks, infos].transpose().sort { row -> row[0] }
    def meta = [id: sample, sample: sample]
    return [meta, rows.collect { row -> row[1] }, rows.collect { row -> row[2] }, rows.collect { row -> row[3] }]
}
