"""`virnucpro shard`: split reads into deterministic, content-named shards of whole reads."""

from __future__ import annotations

from pathlib import Path

import click

from virnucpro.cli.threads_option import threads_option


@click.command("shard")
@threads_option(torch_pools=False)
@click.argument("reads", type=click.Path(path_type=Path))
@click.argument("mate", required=False, type=click.Path(path_type=Path))
@click.option("--shard-size", required=True, type=click.IntRange(min=1), help="Reads per shard.")
@click.option("--outdir", required=True, type=click.Path(path_type=Path), help="Output directory (created).")
@click.option("--prefix", default=None, help="Shard file name prefix [default: READS without extensions].")
def command(reads: Path, mate: Path | None, shard_size: int, outdir: Path, prefix: str | None) -> None:
    """Write OUTDIR/<prefix>.<index>.<sha256[:12]>.fa shards and OUTDIR/<prefix>.shards.tsv.

    READS is FASTA or FASTQ, plain or gzip (told by content), validated as `translate` validates it; shards
    are FASTA (qualities are not used). With MATE, READS and MATE are the first and second mates of paired
    reads: mates are tagged /1 and /2 and each pair stays in one shard.
    """
    from virnucpro.shard import shard_file

    shard_file(reads, outdir, shard_size=shard_size, prefix=prefix, mate=mate)
