"""The per-read table: every input read once, with its best virus score and an explicit status.

The original tool dropped reads and chunks without a kept frame silently; here the translate stage's
`chunks.tsv` (every chunk of every read) is the list of reads, and the per-frame scores are checked against
it: each scored frame must belong to a listed chunk, and each chunk must have exactly `frames_kept` scores.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from virnucpro.errors import InputError
from virnucpro.report.compatible import ScoreRow

CHUNKS_COLUMNS = ("read_id", "read_length", "chunk_id", "chunk_index", "start", "end", "frames_kept")
READS_COLUMNS = (
    "read_id",
    "read_length",
    "chunks",
    "chunks_with_frames",
    "frames",
    "best_virus_score",
    "best_chunk",
    "best_frame",
    "call",
    "status",
)
READS_NAME = "reads.tsv"
FRAME_SUFFIXES = ("F1", "F2", "F3", "R1", "R2", "R3")
CODON = 3
MISSING = "NA"


@dataclass(frozen=True)
class Chunk:
    """One row of `chunks.tsv`."""

    read_id: str
    read_length: int
    chunk_id: str
    frames_kept: int


@dataclass(frozen=True)
class ReadCall:
    """One row of `reads.tsv`; score and origin fields are `NA` when the read has no scored frame."""

    read_id: str
    read_length: int
    chunks: int
    chunks_with_frames: int
    frames: int
    best_virus_score: str
    best_chunk: str
    best_frame: str
    call: str
    status: str

    def line(self) -> str:
        return "\t".join(str(getattr(self, column)) for column in READS_COLUMNS)


def read_chunks(path: str | Path) -> list[Chunk]:
    """Rows of a translate stage `chunks.tsv`, columns found by header name.

    Raises:
        InputError: missing file, a missing column or a non-integer count (file and line named).
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: chunks table not found")
    lines = path.read_text(encoding="utf-8").splitlines()
    header = lines[0].split("\t") if lines else []
    missing = [c for c in CHUNKS_COLUMNS if c not in header]
    if missing:
        raise InputError(f"{path}: line 1: not a chunks table, missing column(s) {', '.join(missing)}")
    index = {name: header.index(name) for name in CHUNKS_COLUMNS}
    chunks = []
    for number, line in enumerate(lines[1:], start=2):
        fields = line.split("\t")
        if len(fields) != len(header):
            raise InputError(f"{path}: line {number}: expected {len(header)} fields, found {len(fields)}")
        try:
            length, kept = int(fields[index["read_length"]]), int(fields[index["frames_kept"]])
        except ValueError as error:
            raise InputError(f"{path}: line {number}: read_length and frames_kept must be integers") from error
        chunks.append(Chunk(fields[index["read_id"]], length, fields[index["chunk_id"]], kept))
    return chunks


def _group_reads(chunks: list[Chunk]) -> dict[str, list[Chunk]]:
    """Chunks by read in input order; a read's chunks must be contiguous and chunk IDs unique."""
    reads: dict[str, list[Chunk]] = {}
    previous = None
    for chunk in chunks:
        if chunk.read_id != previous and chunk.read_id in reads:
            raise InputError(f"read {chunk.read_id} is listed twice in the chunks tables (duplicate read ID?)")
        reads.setdefault(chunk.read_id, []).append(chunk)
        previous = chunk.read_id
    duplicated = [c for c, n in Counter(c.chunk_id for c in chunks).items() if n > 1]
    if duplicated:
        raise InputError(f"chunk IDs listed twice in the chunks tables: {', '.join(sorted(duplicated)[:10])}")
    return reads


def frames_by_chunk(chunks: list[Chunk], scores: list[ScoreRow]) -> dict[str, list[ScoreRow]]:
    """Scored frames grouped by chunk, after checking them against the chunks tables.

    Raises:
        InputError: a frame of an unknown chunk, a frame ID without an F1..R3 suffix, a duplicated frame, or a
            chunk whose number of scored frames differs from its `frames_kept`.
    """
    by_chunk: dict[str, list[ScoreRow]] = {c.chunk_id: [] for c in chunks}
    for row in scores:
        frame_id = row[0]
        if frame_id[-2:] not in FRAME_SUFFIXES or frame_id[:-2] not in by_chunk:
            raise InputError(f"scored frame {frame_id} does not belong to any chunk of the chunks tables")
        by_chunk[frame_id[:-2]].append(row)
    duplicated = [f for f, n in Counter(r[0] for r in scores).items() if n > 1]
    if duplicated:
        raise InputError(f"frames scored twice: {', '.join(sorted(duplicated)[:10])}")
    for chunk in chunks:
        found = len(by_chunk[chunk.chunk_id])
        if found != chunk.frames_kept:
            raise InputError(
                f"chunk {chunk.chunk_id}: the chunks table says {chunk.frames_kept} frame(s) kept, "
                f"the scores have {found}: were the scores made from these chunks?"
            )
    return by_chunk


def call_reads(chunks: list[Chunk], scores: list[ScoreRow], threshold: float) -> list[ReadCall]:
    """One ReadCall per read, in input order; a read is `virus` when its best P(virus) >= threshold."""
    by_chunk = frames_by_chunk(chunks, scores)
    calls = []
    for read_id, read_chunks_ in _group_reads(chunks).items():
        frames = [row for chunk in read_chunks_ for row in by_chunk[chunk.chunk_id]]
        length = read_chunks_[0].read_length
        with_frames = sum(1 for c in read_chunks_ if by_chunk[c.chunk_id])
        counts = (read_id, length, len(read_chunks_), with_frames, len(frames))
        if length < CODON or not frames:
            status = "too_short" if length < CODON else "no_valid_frame"
            calls.append(ReadCall(*counts, MISSING, MISSING, MISSING, MISSING, status))
            continue
        best = max(frames, key=lambda row: float(row[2]))  # max() keeps the first of equal scores
        call = "virus" if float(best[2]) >= threshold else "others"
        calls.append(ReadCall(*counts, best[2], best[0][:-2], best[0][-2:], call, "called"))
    return calls


def reads_text(calls: list[ReadCall]) -> str:
    """The whole `reads.tsv`."""
    return "\n".join(["\t".join(READS_COLUMNS), *(c.line() for c in calls)]) + "\n"
