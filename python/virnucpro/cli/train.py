"""`virnucpro train`: train the MLP classifier from labelled FASTA files or precomputed embeddings."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import click

from virnucpro.cli.threads_option import threads_option
from virnucpro.train.settings import TrainSettings

_PATH = click.Path(path_type=Path)
_DEFAULTS = TrainSettings()


@click.command("train")
@threads_option(torch_pools=True)
@click.option("--outdir", required=True, type=_PATH, help="Writes classifier.safetensors, metrics.json, split.tsv.")
@click.option("--viral", multiple=True, type=_PATH, help="FASTA of viral records (repeatable).")
@click.option("--other", multiple=True, type=_PATH, help="FASTA of non-viral records (repeatable).")
@click.option("--chunk-length", type=click.IntRange(min=1), default=None, help="Chunk length (FASTA inputs).")
@click.option("--dnabert", default=None, help="DNABERT-S directory or hub name (FASTA inputs).")
@click.option("--esm", default=None, help="ESM-2 checkpoint path or name (FASTA inputs).")
@click.option("--device", default="auto", show_default=True, help="Device for the embedding models.")
@click.option("--drop-ambiguous-chunks", is_flag=True, help="Leave out chunks with N R Y M K S W H B V D (published).")
@click.option("--workdir", type=_PATH, default=None, help="Keep frames and embeddings here [default: temporary].")
@click.option(
    "--embeddings",
    multiple=True,
    nargs=2,
    type=_PATH,
    help="DNABERT-S and ESM-2 embedding files of the same frames (repeatable), with --labels.",
)
@click.option("--labels", type=_PATH, default=None, help="record_id<TAB>virus|others table for --embeddings.")
@click.option(
    "--seed", type=int, default=_DEFAULTS.seed, show_default=True, help="Seed of split, initialisation and batches."
)
@click.option("--epochs", type=click.IntRange(min=1), default=_DEFAULTS.epochs, show_default=True)
@click.option("--batch-size", type=click.IntRange(min=2), default=_DEFAULTS.batch_size, show_default=True)
@click.option(
    "--learning-rate",
    type=click.FloatRange(min=0, min_open=True),
    default=_DEFAULTS.learning_rate,
    show_default=True,
)
@click.option(
    "--patience",
    type=click.IntRange(min=1),
    default=_DEFAULTS.patience,
    show_default=True,
    help="Early-stopping epochs.",
)
@click.option("--hidden-dim", type=click.IntRange(min=1), default=_DEFAULTS.hidden_dim, show_default=True)
@click.option(
    "--test-fraction",
    type=float,
    default=_DEFAULTS.test_fraction,
    show_default=True,
    help="Share of records held out.",
)
@click.option(
    "--validation-fraction",
    type=float,
    default=_DEFAULTS.validation_fraction,
    show_default=True,
    help="Early-stopping records.",
)
def command(outdir: Path, **options) -> None:
    """Split by source record, train with early stopping, and report held-out metrics.

    Give either --viral/--other FASTA files with --chunk-length, --dnabert and --esm, or --embeddings pairs
    with --labels.
    """
    from virnucpro.train import TrainInputs, train

    exposed = [field.name for field in dataclasses.fields(TrainSettings) if field.name in options]
    settings = TrainSettings(**{name: options.pop(name) for name in exposed})
    train(TrainInputs(**options), outdir, settings)
