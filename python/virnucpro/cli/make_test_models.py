"""`virnucpro make-test-models DIR`: write the tiny, seeded checkpoints the tests and test profile use."""

from __future__ import annotations

from pathlib import Path

import click

from virnucpro.cli.threads_option import threads_option
from virnucpro.logging_setup import get_logger


@click.command("make-test-models")
@threads_option(torch_pools=True)
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the weights and the tokenizer.")
@click.option(
    "--full-size",
    is_flag=True,
    help="The published sizes instead (DNABERT-S 12 x 768, ESM-2 3B in float16): about 6.3 GB, for benchmarks.",
)
def command(directory: Path, seed: int, full_size: bool) -> None:
    """Write tiny DNABERT-S, ESM-2 and classifier checkpoints into DIRECTORY.

    They have the published file formats and key names (a DNABERT-S Hugging Face directory, a fair-esm
    ESM-2 .pt with its contact-regression file, a pickled classifier module) and tiny sizes, so they load
    through the same code as the real models. The same seed gives the same bytes.
    """
    from virnucpro.models.tiny_checkpoints import write_test_models

    paths = write_test_models(directory, seed=seed, full_size=full_size)
    log = get_logger("make_test_models")
    log.info("DNABERT-S: %s", paths.dnabert_s)
    log.info("ESM-2: %s", paths.esm2)
    log.info("classifier: %s", paths.classifier)
