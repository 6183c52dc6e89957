"""`virnucpro fetch-models --dest DIR`: download the published models, verify them, print how to use them."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from virnucpro.cli.threads_option import threads_option
from virnucpro.fetch.catalogue import DEFAULT_CLASSIFIER_MIRROR, DEFAULT_ESM_MIRROR, DEFAULT_HF_ENDPOINT, KEYS


def _split_only(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> tuple[str, ...]:
    """`--only a --only b` and `--only a,b` alike; unknown names are a usage error (exit 2)."""
    keys = tuple(key.strip() for value in values for key in value.split(",") if key.strip())
    unknown = [key for key in keys if key not in KEYS]
    if unknown:
        raise click.BadParameter(f"unknown model {', '.join(unknown)}; choose from {', '.join(KEYS)}")
    return keys or KEYS


@click.command("fetch-models")
@threads_option(torch_pools=True)  # the downloaded models are loaded to check them
@click.option("--dest", required=True, type=click.Path(file_okay=False, path_type=Path), help="Directory to fill.")
@click.option(
    "--only",
    multiple=True,
    callback=_split_only,
    metavar="MODEL[,MODEL]",
    help=f"Fetch only these (repeatable or comma-separated): {', '.join(KEYS)}. Default: all.",
)
@click.option(
    "--hf-endpoint",
    envvar="HF_ENDPOINT",
    default=DEFAULT_HF_ENDPOINT,
    show_default=True,
    help="Hugging Face hub (or a mirror of it) for DNABERT-S; also read from HF_ENDPOINT.",
)
@click.option(
    "--esm-mirror", default=DEFAULT_ESM_MIRROR, show_default=True, help="fair-esm download location, or a mirror."
)
@click.option(
    "--classifier-mirror",
    default=DEFAULT_CLASSIFIER_MIRROR,
    show_default=True,
    help="Where 300_model.pth and 500_model.pth are served: the VirNucPro repository, or a mirror.",
)
@click.option("--retries", type=click.IntRange(min=0), default=3, show_default=True, help="Retries per file.")
@click.option("--progress/--no-progress", default=None, help="Progress bars [default: when stderr is a terminal].")
def command(
    dest: Path,
    only: tuple[str, ...],
    hf_endpoint: str,
    esm_mirror: str,
    classifier_mirror: str,
    retries: int,
    progress: bool | None,
) -> None:
    """Download DNABERT-S, ESM-2 3B and VirNucPro's classifiers into --dest, then print the options to use.

    Each file is checked before it takes its final name: against the size and digest its source
    publishes (the hub's listing for DNABERT-S, the pinned git blob ids for the classifiers), and by
    loading it with virnucpro's own loaders (the only check there is for ESM-2, whose source publishes no
    digest). An interrupted download continues where it stopped when the command is run again. Models
    already in --dest are kept.
    """
    from virnucpro.fetch.fetcher import Sources, fetch_models
    from virnucpro.fetch.usage import usage_text

    sources = Sources(hf_endpoint=hf_endpoint, esm_mirror=esm_mirror, classifier_mirror=classifier_mirror)
    with _progress_bars(sys.stderr.isatty() if progress is None else progress) as bars:
        fetch_models(dest, only, sources=sources, retries=retries, progress=bars)
    click.echo(usage_text(dest), nl=False)


@contextmanager
def _progress_bars(enabled: bool) -> Iterator:
    """A factory of per-file progress callbacks drawing rich bars on stderr, or None when disabled."""
    if not enabled:
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn, TransferSpeedColumn

    columns = (TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn())
    with Progress(*columns, TimeRemainingColumn(), console=Console(stderr=True)) as bars:

        def start(label: str):
            task = bars.add_task(label, total=None)

            def update(done: int, total: int | None) -> None:
                bars.update(task, completed=done, total=total)

            return update

        yield start
