"""The per-read table: every input read once, with its best virus score and an explicit status.

The original tool dropped reads and chunks without a kept frame silently; here the translate stage's
`chunks.tsv` (every chunk of every read) is the list of reads, and the per-frame scores are checked against
it: each scored frame must belong to a listed chunk, and each chunk must have exactly `frames_kept` scores.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from virnucpro.errors import InputError
from virnucpro.io.chunks import Chunk
from virnucpro.io.frame_ids import FRAME_SUFFIXES, split_frame_id
from virnucpro.io.scores import ScoreRow

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
CODON = 3
MISSING = "NA"
DEFAULT_THRESHOLD = 0.5


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


def group_reads(chunks: list[Chunk]) -> dict[str, list[Chunk]]:
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
        chunk_id, suffix = split_frame_id(row[0])
        if suffix not in FRAME_SUFFIXES or chunk_id not in by_chunk:
            raise InputError(f"scored frame {row[0]} does not belong to any chunk of the chunks tables")
        by_chunk[chunk_id].append(row)
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


def check_threshold(threshold: float) -> None:
    """Refuse a P(virus) threshold outside [0, 1] (checked before any work, by every caller of `call_reads`).

    Raises:
        InputError: the threshold is not a probability.
    """
    if not 0.0 <= threshold <= 1.0:
        raise InputError(f"--threshold {threshold} must be between 0 and 1")


def call_reads(chunks: list[Chunk], scores: list[ScoreRow], threshold: float) -> list[ReadCall]:
    """One ReadCall per read, in input order; a read is `virus` when its best P(virus) >= threshold."""
    return call_grouped(group_reads(chunks), frames_by_chunk(chunks, scores), threshold)


def call_grouped(
    reads: dict[str, list[Chunk]], by_chunk: dict[str, list[ScoreRow]], threshold: float
) -> list[ReadCall]:
    """`call_reads` on chunks already grouped by read (`group_reads`) and frames by chunk (`frames_by_chunk`)."""
    calls = []
    for read_id, read_chunks_ in reads.items():
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
        calls.append(ReadCall(*counts, best[2], *split_frame_id(best[0]), call, "called"))
    return calls


def reads_text(calls: list[ReadCall]) -> str:
    """The whole `reads.tsv`."""
    return "\n".join(["\t".join(READS_COLUMNS), *(c.line() for c in calls)]) + "\n"
