"""`virnucpro translate`: chunk reads and six-frame translate them (docs/contract.md, sections 2 and 3)."""

from __future__ import annotations

from pathlib import Path

import click

from virnucpro.cli.threads_option import threads_option
from virnucpro.translate import AMBIGUOUS_MODES, DEFAULT_AMBIGUOUS


@click.command("translate")
@threads_option(torch_pools=False)
@click.argument("reads", type=click.Path(path_type=Path))
@click.argument("mate", required=False, type=click.Path(path_type=Path))
@click.option(
    "--chunk-length",
    required=True,
    type=click.IntRange(min=1),
    help="Expected chunk length C: 300 or 500 for the published models, or any positive integer.",
)
@click.option("--outdir", required=True, type=click.Path(path_type=Path), help="Output directory (created).")
@click.option(
    "--ambiguous",
    type=click.Choice(AMBIGUOUS_MODES),
    default=DEFAULT_AMBIGUOUS,
    show_default=True,
    help="Codons with non-ACGT letters: 'drop' them (published behaviour) or translate them to 'X' "
    "(changes the science: the published models never saw X).",
)
def command(reads: Path, mate: Path | None, chunk_length: int, outdir: Path, ambiguous: str) -> None:
    """Write OUTDIR/nucleotide.fa, OUTDIR/protein.faa (kept frames) and OUTDIR/chunks.tsv (every chunk).

    READS is FASTA or FASTQ, plain or gzip (told by content; qualities are not used). With MATE, READS and
    MATE are the first and second mates of paired reads, scored as reads tagged /1 and /2.
    """
    from virnucpro.translate import translate_file

    translate_file(reads, outdir, chunk_length=chunk_length, ambiguous=ambiguous, mate=mate)
