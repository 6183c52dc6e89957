"""Chunk and frame IDs, the join key of every file after `translate` (docs/contract.md, sections 2 and 3).

A chunk ID is `<record id>_chunk_<k>` (k from 1); a frame ID is a chunk ID followed by one of the six
two-character suffixes F1 F2 F3 R1 R2 R3. The published tool recovered the chunk of a frame by cutting
the last two characters off its ID, and its per-chunk file depends on that, so `chunk_of` does exactly
that and nothing cleverer.
"""

from __future__ import annotations

from virnucpro.errors import InputError

# In the order the published tool wrote a chunk's frames: forward strand, then reverse complement.
FRAME_SUFFIXES = ("F1", "F2", "F3", "R1", "R2", "R3")
SUFFIX_LENGTH = 2
CHUNK_MARK = "_chunk_"


def chunk_id(record_id: str, index: int) -> str:
    """The chunk ID `<record id>_chunk_<index>`, index 1-based."""
    return f"{record_id}{CHUNK_MARK}{index}"


def frame_id(chunk: str, frame: int) -> str:
    """The ID of frame `frame` (0-5 for F1 F2 F3 R1 R2 R3) of chunk ID `chunk`."""
    return chunk + FRAME_SUFFIXES[frame]


def split_frame_id(frame: str) -> tuple[str, str]:
    """(chunk ID, suffix) of a frame ID: the ID without its last two characters, and those two."""
    return frame[:-SUFFIX_LENGTH], frame[-SUFFIX_LENGTH:]


def chunk_of(frame: str) -> str:
    """The chunk ID of a frame ID (the published rule: drop the 2-character suffix)."""
    return frame[:-SUFFIX_LENGTH]


def source_record(frame: str) -> str:
    """The input record a frame came from: `<record>_chunk_<k><F|R><n>` -> `<record>`.

    Raises:
        InputError: the ID does not have the frame ID shape.
    """
    chunk, suffix = split_frame_id(frame)
    record, found, index = chunk.rpartition(CHUNK_MARK)
    if not found or not record or not index.isdigit() or suffix[:1] not in ("F", "R"):
        raise InputError(f"frame ID {frame!r} is not <record>_chunk_<k><F|R><1-3>")
    return record
