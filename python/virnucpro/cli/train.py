"""`virnucpro train`: train the MLP classifier from labelled FASTA files or precomputed embeddings."""

from __future__ import annotations

import tempfile
from pathlib import Path

import click

from virnucpro.errors import InputError

_PATH = click.Path(path_type=Path)


@click.command("train")
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
    "pairs",
    multiple=True,
    nargs=2,
    type=_PATH,
    help="DNABERT-S and ESM-2 embedding files of the same frames (repeatable), with --labels.",
)
@click.option("--labels", type=_PATH, default=None, help="record_id<TAB>virus|others table for --embeddings.")
@click.option("--seed", type=int, default=42, show_default=True, help="Seed of split, initialisation and batches.")
@click.option("--epochs", type=click.IntRange(min=1), default=200, show_default=True)
@click.option("--batch-size", type=click.IntRange(min=2), default=32, show_default=True)
@click.option("--learning-rate", type=click.FloatRange(min=0, min_open=True), default=0.0002, show_default=True)
@click.option("--patience", type=click.IntRange(min=1), default=5, show_default=True, help="Early-stopping epochs.")
@click.option("--hidden-dim", type=click.IntRange(min=1), default=512, show_default=True)
@click.option("--test-fraction", type=float, default=0.1, show_default=True, help="Share of records held out.")
@click.option("--validation-fraction", type=float, default=0.1, show_default=True, help="Early-stopping records.")
def command(**o) -> None:
    """Split by source record, train with early stopping, and report held-out metrics.

    Give either --viral/--other FASTA files with --chunk-length, --dnabert and --esm, or --embeddings pairs
    with --labels.
    """
    from virnucpro.train import train_and_save
    from virnucpro.train.dataset import from_embeddings, read_labels
    from virnucpro.train.trainer import TrainSettings

    settings = TrainSettings(
        epochs=o["epochs"],
        batch_size=o["batch_size"],
        learning_rate=o["learning_rate"],
        patience=o["patience"],
        hidden_dim=o["hidden_dim"],
        seed=o["seed"],
    )
    split = {"test_fraction": o["test_fraction"], "validation_fraction": o["validation_fraction"]}
    if o["pairs"] and (o["viral"] or o["other"]):
        raise InputError("give either --embeddings with --labels, or --viral/--other FASTA files, not both")
    if o["pairs"]:
        if o["labels"] is None:
            raise InputError("--embeddings needs --labels (record_id<TAB>virus|others)")
        data = from_embeddings(list(o["pairs"]), read_labels(o["labels"]))
        sources = {"embeddings": [[str(a), str(b)] for a, b in o["pairs"]], "labels": str(o["labels"])}
        train_and_save(data, o["outdir"], settings, chunk_length=o["chunk_length"], sources=sources, **split)
        return
    _train_from_fasta(o, settings, split)


def _train_from_fasta(o: dict, settings, split: dict) -> None:
    from virnucpro.train import embed_labelled_fasta, train_and_save

    missing = [name for name in ("chunk_length", "dnabert", "esm") if o[name] is None]
    if not o["viral"] or not o["other"] or missing:
        raise InputError(
            "FASTA training needs --viral and --other files and --chunk-length, --dnabert, --esm"
            + (f" (missing: {', '.join('--' + m.replace('_', '-') for m in missing)})" if missing else "")
        )
    labelled = [(p, 1) for p in o["viral"]] + [(p, 0) for p in o["other"]]
    sources = {
        "viral": [str(p) for p in o["viral"]],
        "other": [str(p) for p in o["other"]],
        "dnabert": o["dnabert"],
        "esm": o["esm"],
        "drop_ambiguous_chunks": o["drop_ambiguous_chunks"],
    }
    with tempfile.TemporaryDirectory(prefix="virnucpro-train-") as scratch:
        workdir = o["workdir"] or Path(scratch)
        data = embed_labelled_fasta(
            labelled,
            workdir,
            chunk_length=o["chunk_length"],
            dnabert=o["dnabert"],
            esm=o["esm"],
            device=o["device"],
            drop_ambiguous_chunks=o["drop_ambiguous_chunks"],
        )
        train_and_save(data, o["outdir"], settings, chunk_length=o["chunk_length"], sources=sources, **split)
