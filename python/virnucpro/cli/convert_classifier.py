"""`virnucpro convert-classifier`: rewrite a pickled classifier in the pickle-free format with metadata."""

from __future__ import annotations

from pathlib import Path

import click

from virnucpro.cli.threads_option import threads_option


@click.command("convert-classifier")
@threads_option(torch_pools=True)
@click.argument("old", type=click.Path(path_type=Path))
@click.argument("new", type=click.Path(path_type=Path))
@click.option(
    "--chunk-length",
    type=click.IntRange(min=1),
    default=None,
    help="Chunk length the classifier was trained for (default: read from a name like 300_model.pth).",
)
@click.option(
    "--dnabert-dim",
    type=click.IntRange(min=1),
    default=None,
    help="How many leading features are DNABERT-S values (default: 768 for the published 3328-wide models).",
)
def command(old: Path, new: Path, chunk_length: int | None, dnabert_dim: int | None) -> None:
    """Read OLD (a published .pth, loaded without running its pickle) and write NEW (.safetensors)."""
    from virnucpro.models.classifier import convert_classifier

    convert_classifier(old, new, chunk_length=chunk_length, dnabert_dim=dnabert_dim)
