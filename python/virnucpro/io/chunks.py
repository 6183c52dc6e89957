"""`chunks.tsv`: one row per chunk of every input read, written by `translate`, read by `report` and `train`.

The frame files only show chunks that kept a frame; this table lists every chunk, so reads without a kept
frame are still accounted for. Tab-separated, header `read_id read_length chunk_id chunk_index start end
frames_kept`; coordinates are 0-based and half-open on the read, `chunk_index` is the k of the chunk ID.
Readers find columns by header name.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from virnucpro.errors import InputError
from virnucpro.io.outputs import check_complete

CHUNKS_NAME = "chunks.tsv"
CHUNKS_COLUMNS = ("read_id", "read_length", "chunk_id", "chunk_index", "start", "end", "frames_kept")
CHUNKS_HEADER = "\t".join(CHUNKS_COLUMNS)


@dataclass(frozen=True)
class Chunk:
    """One row of `chunks.tsv`."""

    read_id: str
    read_length: int
    chunk_id: str
    chunk_index: int
    start: int
    end: int
    frames_kept: int


def chunk_rows(
    read_ids: Sequence[str],
    read_lengths: Sequence[int],
    chunk_ids: Sequence[str],
    indexes: Sequence[int],
    starts: Sequence[int],
    ends: Sequence[int],
    frames_kept: Sequence[int],
) -> str:
    """The rows of a batch of chunks, given column by column (translate keeps its chunks that way)."""
    return "".join(
        f"{read_id}\t{length}\t{chunk}\t{index}\t{start}\t{end}\t{kept}\n"
        for read_id, length, chunk, index, start, end, kept in zip(
            read_ids, read_lengths, chunk_ids, indexes, starts, ends, frames_kept, strict=True
        )
    )


def read_chunks(path: str | Path) -> list[Chunk]:
    """Rows of a `chunks.tsv`, columns found by header name.

    Raises:
        InputError: missing file, a missing column or a non-integer count or coordinate (file and line named),
            or a file that the translate run writing it did not finish (`io.outputs.check_complete`).
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: chunks table not found")
    check_complete(path)
    lines = path.read_text(encoding="utf-8").splitlines()
    header = lines[0].split("\t") if lines else []
    missing = [c for c in CHUNKS_COLUMNS if c not in header]
    if missing:
        raise InputError(f"{path}: line 1: not a chunks table, missing column(s) {', '.join(missing)}")
    columns = [header.index(name) for name in CHUNKS_COLUMNS]
    chunks = []
    for number, line in enumerate(lines[1:], start=2):
        fields = line.split("\t")
        if len(fields) != len(header):
            raise InputError(f"{path}: line {number}: expected {len(header)} fields, found {len(fields)}")
        chunks.append(_chunk(path, number, [fields[column] for column in columns]))
    return chunks


def _chunk(path: Path, number: int, values: list[str]) -> Chunk:
    """One row, its values in `CHUNKS_COLUMNS` order, with the numbers checked."""
    read_id, length, chunk, index, start, end, kept = values
    try:
        length_, kept_ = int(length), int(kept)
    except ValueError as error:
        raise InputError(f"{path}: line {number}: read_length and frames_kept must be integers") from error
    try:
        index_, start_, end_ = int(index), int(start), int(end)
    except ValueError as error:
        raise InputError(f"{path}: line {number}: chunk_index, start and end must be integers") from error
    return Chunk(read_id, length_, chunk, index_, start_, end_, kept_)
