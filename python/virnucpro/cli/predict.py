"""`virnucpro predict`: reads in, report out, every stage in one process (no Nextflow needed)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import click

from virnucpro.cli.report import region_options
from virnucpro.cli.threads_option import threads_option
from virnucpro.predict import PredictSettings
from virnucpro.translate import AMBIGUOUS_MODES

_DEFAULTS = {field.name: field.default for field in dataclasses.fields(PredictSettings)}


@click.command("predict")
@threads_option(torch_pools=True)
@click.argument("reads", type=click.Path(path_type=Path))
@click.argument("mate", required=False, type=click.Path(path_type=Path))
@click.option("--chunk-length", required=True, type=click.IntRange(min=1), help="Chunk length: 300 or 500.")
@click.option("--dnabert", required=True, help="DNABERT-S directory or hub name (zhihan1996/DNABERT-S).")
@click.option("--esm", required=True, help="ESM-2 checkpoint path or name (esm2_t36_3B_UR50D).")
@click.option("--classifier", required=True, type=click.Path(path_type=Path), help="Classifier .pth or .safetensors.")
@click.option("--outdir", required=True, type=click.Path(path_type=Path), help="Output directory.")
@click.option("--device", default=_DEFAULTS["device"], show_default=True, help="auto, cpu, cuda or cuda:N.")
@click.option("--token-budget", type=click.IntRange(min=1), default=None, help="Tokens per packed batch.")
@click.option(
    "--checkpoint-dir",
    type=click.Path(path_type=Path),
    default=None,
    help="Keep resumable embedding pieces here; rerunning the same command after a kill continues "
    "[default: OUTDIR/checkpoints].",
)
@click.option(
    "--checkpoint-every",
    type=click.IntRange(min=1),
    default=_DEFAULTS["checkpoint_every"],
    show_default=True,
    help="Write a checkpoint piece after this many new sequences.",
)
@click.option(
    "--checkpoint-interval",
    type=click.FloatRange(min=0, min_open=True),
    default=_DEFAULTS["checkpoint_interval"],
    show_default=True,
    help="... or after this many seconds, whichever comes first.",
)
@click.option(
    "--threshold", default=_DEFAULTS["threshold"], show_default=True, type=click.FloatRange(0, 1), help="P(virus) call."
)
@click.option("--sample", default=None, help="Sample name in the report [default: the reads file name].")
@click.option(
    "--ambiguous",
    type=click.Choice(AMBIGUOUS_MODES),
    default=_DEFAULTS["ambiguous"],
    show_default=True,
    help="Codons with letters other than ACGT: drop (published) or translate to X.",
)
@click.option("--keep-intermediates", is_flag=True, help="Keep frames, embeddings and scores in OUTDIR/intermediates.")
@region_options
def command(reads: Path, mate: Path | None, outdir: Path, **options) -> None:
    """Find viral sequences in READS and write the report files into OUTDIR.

    READS is FASTA or FASTQ, plain or gzip (told by content; qualities are not used). With MATE, READS and
    MATE are the first and second mates of paired reads, scored as reads tagged /1 and /2.
    """
    from virnucpro.predict import predict_file

    predict_file(reads, outdir, PredictSettings(**options), mate=mate)
