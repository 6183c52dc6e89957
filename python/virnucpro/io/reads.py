"""Input reads in any supported form: FASTA or FASTQ (told by content), one file or two mate files.

Paired-end reads (R1 and R2 files) are scored as reads of one sample: the two files are read in
lockstep, each pair's mates are checked to be mates (same name), and they come out one after the other
as `<name>/1` and `<name>/2`, the mate tag that read IDs have carried since the first Illumina
pipelines. `<name>` is the first word of the R1 header without a trailing `/1` (R2: without `/2`), so
both header styles work: `@pair7/1` + `@pair7/2` and `@pair7 1:N:0:ACGT` + `@pair7 2:N:0:ACGT`.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

from virnucpro.errors import InputError
from virnucpro.io.fasta import read_fasta_bytes
from virnucpro.io.fastq import read_fastq_bytes
from virnucpro.io.sniff import FASTQ, sniff
from virnucpro.io.unique_ids import IdRegistry

MATE_TAGS = ("/1", "/2")

Read = tuple[str, bytes, int]  # ID, upper-case sequence bytes, line of the record's header in its file


def read_reads_bytes(path: str | Path, *, mate: str | Path | None = None, unique_ids: bool = True) -> Iterator[Read]:
    """Yield the reads of a FASTA or FASTQ file (plain or gzip), or of a pair of mate files, validated.

    Args:
        path: the reads, or the first mates (R1).
        mate: the second mates (R2), in the same order as `path`; None for single reads.
        unique_ids: raise if two reads share an ID (reported at the latest when the iterator ends).

    Raises:
        InputError: anything the FASTA or FASTQ reader reports; for pairs, mates out of step or one file
            ending before the other.
    """
    if mate is None:
        return _single(Path(path), unique_ids)
    return _paired(Path(path), Path(mate), unique_ids)


def _single(path: Path, unique_ids: bool) -> Iterator[Read]:
    if sniff(path).format == FASTQ:
        return read_fastq_bytes(path, unique_ids=unique_ids)
    return read_fasta_bytes(path, kind="nucleotide", unique_ids=unique_ids)


def pair_name(read_id: str, mate: int) -> str:
    """The pair's name: the ID without its mate's trailing tag (`/1` for mate 1, `/2` for mate 2)."""
    tag = MATE_TAGS[mate - 1]
    return read_id[: -len(tag)] if read_id.endswith(tag) and len(read_id) > len(tag) else read_id


def _paired(first: Path, second: Path, unique_ids: bool) -> Iterator[Read]:
    """Both mates of each pair, tagged, mate 1 first; the pair names must agree in every row."""
    registry = IdRegistry() if unique_ids else None
    pairs = itertools.zip_longest(_single(first, False), _single(second, False))
    for count, (one, two) in enumerate(pairs):
        if one is None or two is None:
            short, long = (first, second) if one is None else (second, first)
            raise InputError(
                f"{short}: ends after {count} reads but its mate file {long} has more; both mate files must "
                "hold the same pairs in the same order"
            )
        name = pair_name(one[0], 1)
        if pair_name(two[0], 2) != name:
            raise InputError(
                f"{first}, line {one[2]} and {second}, line {two[2]}: mates out of step: {one[0]!r} and "
                f"{two[0]!r} do not name the same pair; both mate files must hold the same pairs in the same order"
            )
        if registry is not None:
            registry.add(name)
        yield f"{name}{MATE_TAGS[0]}", one[1], one[2]
        yield f"{name}{MATE_TAGS[1]}", two[1], two[2]
    if registry is not None:
        registry.check(first, lambda: ((pair_name(read[0], 1), read[2]) for read in _single(first, False)))
