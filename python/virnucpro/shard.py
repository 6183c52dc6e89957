"""Split reads into deterministic, content-named shards of whole reads (the `shard` stage).

A shard's name carries its index and the first 12 hex digits of the SHA-256 of its bytes, so the same input
always gives the same names, and a checkpoint keyed by the name can never be reused for other content.
Reads are streamed once; only the current shard is held (in a temporary file), never the input.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from virnucpro.errors import InputError
from virnucpro.io.outputs import OutputSet
from virnucpro.io.reads import read_reads_bytes
from virnucpro.logging_setup import get_logger

SHARDS_HEADER = "shard_file\tindex\treads"

log = get_logger("shard")


@dataclass(frozen=True)
class Shard:
    """One written shard: its file name (inside the output directory), 1-based index and read count."""

    name: str
    index: int
    reads: int


def default_prefix(path: str | Path) -> str:
    """The input's name without FASTA, FASTQ and gzip extensions: `reads.fq.gz` -> `reads`."""
    name = Path(path).name
    for suffix in (".gz", ".fasta", ".fna", ".fa", ".fas", ".ffn", ".fastq", ".fq"):
        if name.lower().endswith(suffix) and len(name) > len(suffix):
            name = name[: -len(suffix)]
    return name


def shard_file(
    input_path: str | Path,
    outdir: str | Path,
    *,
    shard_size: int,
    prefix: str | None = None,
    mate: str | Path | None = None,
) -> list[Shard]:
    """Write `<prefix>.<index:04d>.<sha256[:12]>.fa` shards of `shard_size` whole reads, plus a table.

    Each read is written as `>ID` and its upper-cased sequence on one line, so a shard's bytes (and name)
    depend only on the reads, not on the input's format (FASTA or FASTQ: qualities are not used), line
    width, case, line endings or compression. Paired reads keep both mates of a pair in one shard. The table
    `<prefix>.shards.tsv` lists every shard file, its index and its read count. The shards and the table
    are one output set (`virnucpro.io.outputs`): they appear under their final names together, after the
    whole input was read and validated, or not at all.

    Args:
        input_path: reads: FASTA or FASTQ, plain or gzip, validated as `translate` validates them.
        outdir: output directory (created).
        shard_size: reads per shard (the last shard may hold fewer; with mates, one more when the size is odd).
        prefix: file name prefix; default the input's name without extensions.
        mate: the second mates of paired reads (`input_path` then holds the first); mates are tagged /1, /2.

    Returns:
        The shards in index order.

    Raises:
        InputError: a bad option or any input problem `read_reads_bytes` reports.
    """
    if isinstance(shard_size, bool) or not isinstance(shard_size, int) or shard_size < 1:
        raise InputError(f"--shard-size must be a positive integer, not {shard_size!r}")
    prefix = default_prefix(input_path) if prefix is None else prefix
    _check_prefix(prefix)
    outdir = Path(outdir)
    records = read_reads_bytes(input_path, mate=mate, unique_ids=True)
    first = next(records)  # opens and checks the input before anything is created
    with OutputSet(outdir, f"shard-{prefix}") as outputs:
        group = 1 if mate is None else 2
        shards = _write_shards(itertools.chain([first], records), outputs, shard_size, prefix, group)
        outputs.write_text(f"{prefix}.shards.tsv", _table_text(shards))
        outputs.commit()
    log.info(
        "%s: %d reads in %d shards of up to %d reads", input_path, sum(s.reads for s in shards), len(shards), shard_size
    )
    return shards


def _check_prefix(prefix: str) -> None:
    if not prefix or "/" in prefix or prefix.startswith(".") or any(ch.isspace() for ch in prefix):
        raise InputError(f"--prefix {prefix!r} must be a plain file name part (no '/', no spaces, not hidden)")


def _write_shards(
    records: Iterable[tuple[str, bytes, int]], outputs: OutputSet, shard_size: int, prefix: str, group: int = 1
) -> list[Shard]:
    """Stream the reads into shard files of the output set, naming each by its content once complete.

    A shard closes at `shard_size` reads or, for pairs (`group` 2), at the next whole pair after that.
    """
    shards: list[Shard] = []
    writer: _ShardWriter | None = None
    try:
        for record_id, sequence, _ in records:
            if writer is None:
                writer = _ShardWriter(outputs, prefix, len(shards) + 1)
            writer.add(b">%s\n%s\n" % (record_id.encode(), sequence))
            if writer.reads >= shard_size and writer.reads % group == 0:
                shards.append(writer.close())
                writer = None
        if writer is not None:
            shards.append(writer.close())
            writer = None
    finally:
        if writer is not None:
            writer.handle.close()
    return shards


class _ShardWriter:
    """Write one shard to a temporary file while hashing it; `close` renames it to its content name."""

    def __init__(self, outputs: OutputSet, prefix: str, index: int) -> None:
        self.outputs, self.prefix, self.index = outputs, prefix, index
        self.partial = f"{prefix}.{index:04d}.partial"
        self.handle = open(outputs.temporary(self.partial), "wb")  # noqa: SIM115 - closed in close()
        self.digest = hashlib.sha256()
        self.reads = 0

    def add(self, record: bytes) -> None:
        self.handle.write(record)
        self.digest.update(record)
        self.reads += 1

    def close(self) -> Shard:
        self.handle.close()
        name = f"{self.prefix}.{self.index:04d}.{self.digest.hexdigest()[:12]}.fa"
        self.outputs.rename(self.partial, name)
        return Shard(name, self.index, self.reads)


def _table_text(shards: list[Shard]) -> str:
    lines = [SHARDS_HEADER] + [f"{shard.name}\t{shard.index}\t{shard.reads}" for shard in shards]
    return "\n".join(lines) + "\n"
