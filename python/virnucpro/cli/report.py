"""`virnucpro report`: the original tool's two files plus reads.tsv, contigs.tsv, regions.bed, summary.json and
report.html."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import click

from virnucpro.cli.threads_option import threads_option
from virnucpro.report.contigs import DEFAULT_MAX_GAP, DEFAULT_MIN_LENGTH
from virnucpro.report.reads import DEFAULT_THRESHOLD


def _pairs(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> dict[str, str]:
    """KEY=VALUE options as a dict, in the order given."""
    pairs = {}
    for value in values:
        key, found, text = value.partition("=")
        if not found or not key:
            raise click.BadParameter(f"{value!r} is not KEY=VALUE", ctx=ctx, param=param)
        pairs[key] = text
    return pairs


def region_options(command: Callable) -> Callable:
    """The two options that shape contigs' viral regions (shared by `report` and `predict`)."""
    command = click.option(
        "--region-min-length",
        type=click.IntRange(min=1),
        default=DEFAULT_MIN_LENGTH,
        show_default=True,
        help="Leave out viral regions of contigs shorter than this many bases.",
    )(command)
    return click.option(
        "--region-max-gap",
        type=click.IntRange(min=0),
        default=DEFAULT_MAX_GAP,
        show_default=True,
        help="Merge runs of viral chunks separated by at most this many non-viral chunks into one region.",
    )(command)


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
    help="P(virus) to call a read, or a chunk of a contig, virus.",
)
@click.option("--sample", default="sample", show_default=True, help="Sample name shown in the summary and page.")
@click.option(
    "--chunk-length",
    type=click.IntRange(min=1),
    default=None,
    help="The translate stage's chunk length, checked against the chunks tables and recorded [default: read "
    "from them].",
)
@region_options
@click.option(
    "--classify-info",
    "provenance",
    multiple=True,
    type=click.Path(path_type=Path),
    help="classify.json of the classify stage: models, fingerprints, versions (repeatable, one per shard).",
)
@click.option(
    "--setting",
    "settings",
    multiple=True,
    callback=_pairs,
    help="KEY=VALUE: another setting of the run to record as given, e.g. ambiguous=drop (repeatable).",
)
@click.option(
    "--run-info",
    "run",
    multiple=True,
    callback=_pairs,
    help="KEY=VALUE: how the run was made, recorded as given, e.g. input=reads.fq.gz (repeatable).",
)
@click.option(
    "--run-info-file",
    "run_files",
    multiple=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help='A JSON object of further run entries, e.g. {"input": "reads.fq.gz"} (repeatable): the pipeline stages '
    "the input as given in a file, so that no command line names a host path.",
)
def command(
    scores: tuple[Path, ...],
    chunks: tuple[Path, ...],
    outdir: Path,
    provenance: tuple[Path, ...],
    region_max_gap: int,
    region_min_length: int,
    run: dict[str, str],
    run_files: tuple[Path, ...],
    **options,
) -> None:
    """Write the report from per-frame scores and the chunks tables; give shards in shard order."""
    from virnucpro.report import write_report
    from virnucpro.report.contigs import RegionSettings
    from virnucpro.report.provenance import merge_run_info

    regions = RegionSettings(max_gap=region_max_gap, min_length=region_min_length)
    run = merge_run_info(run_files, run)
    write_report(
        list(scores), list(chunks), outdir, regions=regions, provenance_paths=list(provenance), run=run, **options
    )
