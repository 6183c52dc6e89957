"""`virnucpro report`: the original tool's two files plus reads.tsv, summary.json and report.html."""

from __future__ import annotations

from pathlib import Path

import click

from virnucpro.cli.threads_option import threads_option
from virnucpro.report.reads import DEFAULT_THRESHOLD


@click.command("report")
@threads_option(torch_pools=False)
@click.option(
    "--scores", "scores", multiple=True, required=True, type=click.Path(path_type=Path), help="scores.tsv, per shard."
)
@click.option(
    "--chunks", "chunks", multiple=True, required=True, type=click.Path(path_type=Path), help="chunks.tsv, per shard."
)
@click.option("--outdir", required=True, type=click.Path(path_type=Path), help="Output directory.")
@click.option(
    "--threshold",
    default=DEFAULT_THRESHOLD,
    show_default=True,
    type=click.FloatRange(0, 1),
    help="P(virus) to call a read virus.",
)
@click.option("--sample", default="sample", show_default=True, help="Sample name shown in the summary and page.")
@click.option(
    "--classify-info",
    "provenance",
    multiple=True,
    type=click.Path(path_type=Path),
    help="classify.json of the classify stage, recorded in the summary (repeatable).",
)
def command(
    scores: tuple[Path, ...], chunks: tuple[Path, ...], outdir: Path, threshold: float, sample: str, provenance
) -> None:
    """Write the report from per-frame scores and the chunks tables; give shards in shard order."""
    from virnucpro.report import write_report

    write_report(list(scores), list(chunks), outdir, threshold=threshold, sample=sample, provenance_paths=provenance)
