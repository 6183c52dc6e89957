#!/usr/bin/env nextflow
/*
 * virnucpro: find viral sequences in reads and contigs with the VirNucPro method.
 *
 *   nextflow run . -profile test --outdir results                        # demo, tiny models, CPU
 *   nextflow run . --input reads.fa --classifier 300_model.pth --outdir results -profile gpu
 *
 * Docs: docs/pipeline.md. Every param: nextflow_schema.json (or --help).
 */

include { VIRNUCPRO               } from './workflows/virnucpro'
include { PIPELINE_INITIALISATION } from './subworkflows/local/utils_virnucpro_pipeline'
include { PIPELINE_COMPLETION     } from './subworkflows/local/utils_virnucpro_pipeline'
include { checkpointRoot          } from './subworkflows/local/utils_virnucpro_pipeline'
include { leftCheckpointsText     } from './subworkflows/local/utils_virnucpro_pipeline'

workflow {

    main:
    if (params.help || params.version) {
        log.info(params.help ? helpText(params) : "virnucpro ${workflow.manifest.version}")
    }
    else {
        //
        // SUBWORKFLOW: validate params and inputs, resolve the models
        //
        PIPELINE_INITIALISATION(
            groovy.json.JsonOutput.toJson(params),
            params.input,
            params.make_test_models,
            params.dnabert_model,
            params.esm_model,
            params.classifier,
            params.use_gpu ? params.gpu_lock_dir : null,
        )

        // Where the embedders keep resumable pieces: reachable by a retry on another machine (the work
        // directory's file system or object storage by default), so not inside any task's directory.
        checkpoint_root = checkpointRoot(params.checkpoint_dir, workflow.workDir, workflow.fusion.enabled)

        //
        // WORKFLOW: shard, translate, embed, classify, report, MultiQC
        //
        VIRNUCPRO(
            PIPELINE_INITIALISATION.out.samples,
            PIPELINE_INITIALISATION.out.dnabert_model,
            PIPELINE_INITIALISATION.out.esm_model,
            PIPELINE_INITIALISATION.out.classifier,
            checkpoint_root,
            params.skip_multiqc,
            file("${projectDir}/assets/multiqc_config.yml", checkIfExists: true),
        )

        //
        // SUBWORKFLOW: collect tool versions
        //
        PIPELINE_COMPLETION(
            PIPELINE_INITIALISATION.out.versions.mix(VIRNUCPRO.out.versions),
            params.outdir,
        )

        // where to look once the run has succeeded
        def outdir = params.outdir
        def skip_multiqc = params.skip_multiqc
        def run = workflow
        workflow.onComplete {
            if (run.success) {
                log.info(resultsText(outdir, skip_multiqc))
                def left = leftCheckpointsText(checkpoint_root)
                if (left) {
                    log.warn(left)
                }
            }
        }
    }
}

def resultsText(outdir, skip_multiqc) {
    def multiqc = skip_multiqc ? '' : "\n      ${outdir}/multiqc/multiqc_report.html   every sample in one MultiQC report"
    return """\
    Results in ${outdir}:
      ${outdir}/<sample>/reads.tsv, contigs.tsv, regions.bed, summary.json, report.html${multiqc}
    """.stripIndent()
}

def helpText(defaults) {
    // the params come in as an argument: under the strict syntax a function does not read `params`
    return """
    virnucpro ${workflow.manifest.version}: find viral sequences with the VirNucPro method

    Usage:
      nextflow run . --input READS|SAMPLESHEET.csv --classifier MODEL.pth --outdir DIR [options]
      nextflow run . -profile test --outdir DIR

    Main options (all of them, with help: nextflow_schema.json, docs/pipeline.md):
      --input           FASTA or FASTQ (plain or .gz), or samplesheet CSV: sample,fasta or sample,fastq_1,fastq_2
      --outdir          results directory [${defaults.outdir}]
      --chunk_length    300 or 500 for the published classifiers [${defaults.chunk_length}]
      --classifier      classifier file (300_model.pth / 500_model.pth or converted)
      --dnabert_model   DNABERT-S directory (path or URI) or hub name [${defaults.dnabert_model}]
      --esm_model       ESM-2 checkpoint (path or URI) or hub name [${defaults.esm_model}]
      --region_max_gap  contigs: non-viral chunks bridged inside a viral region [${defaults.region_max_gap}]
      --region_min_length  contigs: shortest viral region in regions.bed, bases [${defaults.region_min_length}]
      --shard_size      reads per shard [${defaults.shard_size}]
      --use_gpu         embed on GPUs (or -profile gpu)
      --max_gpus        at most this many GPUs at once for the whole run [${defaults.max_gpus}]
      --max_cpus, --max_memory, --max_time   the most one task may ask for [this machine, ${defaults.max_time}]
      --checkpoint_dir  resumable embedding pieces [virnucpro-checkpoints in the work directory]
      --skip_multiqc    no MultiQC report over all samples (<outdir>/multiqc) [${defaults.skip_multiqc}]
    Profiles: test, gpu, docker, singularity, apptainer, conda, slurm
    """.stripIndent()
}
