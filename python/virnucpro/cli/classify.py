"""`virnucpro classify`: score every frame from its two embeddings with the MLP classifier."""

from __future__ import annotations

from pathlib import Path

import click

from virnucpro.cli.threads_option import threads_option


@click.command("classify")
@threads_option(torch_pools=True)
@click.option("--dnabert", "dnabert", required=True, type=click.Path(path_type=Path), help="DNABERT-S embeddings.")
@click.option("--esm", "esm", required=True, type=click.Path(path_type=Path), help="ESM-2 embeddings.")
@click.option(
    "--classifier",
    required=True,
    type=click.Path(path_type=Path),
    help="Published .pth (loaded safely), a state dict, or a converted .safetensors classifier.",
)
@click.option("--output", "outdir", required=True, type=click.Path(path_type=Path), help="Output directory.")
def command(dnabert: Path, esm: Path, classifier: Path, outdir: Path) -> None:
    """Join the embeddings by frame ID and write OUTPUT/scores.tsv (P(others), P(virus) per frame)."""
    from virnucpro.classify import classify_files

    classify_files(dnabert, esm, classifier, outdir)
