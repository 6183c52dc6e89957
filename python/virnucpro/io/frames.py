"""The frame files `nucleotide.fa` and `protein.faa`, written by `translate`, read by `embed` and `train`.

Both hold one record per kept frame, the ID on its `>` line and the sequence on the next line, the same
IDs in the same order (reads, then chunks, then F1 F2 F3 R1 R2 R3), byte for byte as the published tool
wrote them. The translate stage writes them together with `chunks.tsv` (`FramesWriter`), as one output set
(`virnucpro.io.outputs`): the three appear under their final names together, once the whole input has
been read, or not at all.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import BinaryIO

from virnucpro.io.chunks import CHUNKS_HEADER, CHUNKS_NAME
from virnucpro.io.fasta import FastaRecord, read_fasta
from virnucpro.io.outputs import OutputSet, check_complete

NUCLEOTIDE_NAME = "nucleotide.fa"
PROTEIN_NAME = "protein.faa"
# The frame file of each alphabet: DNABERT-S embeds the nucleotide slices, ESM-2 the proteins.
FRAME_FILES = {"nucleotide": NUCLEOTIDE_NAME, "protein": PROTEIN_NAME}


def encode_frames(ids: Sequence[bytes], sequences: Sequence[bytes]) -> bytes:
    """Frame records as file bytes: `>ID`, then the sequence on one line, per frame."""
    parts: list[bytes] = []
    for frame, sequence in zip(ids, sequences, strict=True):
        parts += (b">", frame, b"\n", sequence, b"\n")
    return b"".join(parts)


def write_frames(path: Path, records: Iterable[FastaRecord]) -> int:
    """Write records as a frame file (one line per sequence); returns how many were written."""
    records = list(records)
    ids = [record.id.encode() for record in records]
    path.write_bytes(encode_frames(ids, [record.sequence.encode() for record in records]))
    return len(records)


def read_frames(path: str | Path, kind: str) -> list[FastaRecord]:
    """All records of a frame file of alphabet `kind` (as `read_fasta` takes it); zero bytes is no frame.

    Translate writes empty frame files for input in which no chunk kept a frame; reading them gives no
    record, not an error, so such a shard flows through the stages like any other.

    Raises:
        InputError: any problem `read_fasta` reports (a bad letter, a duplicate ID, a truncated file), or a
            file that the translate run writing it did not finish (`io.outputs.check_complete`).
    """
    path = Path(path)
    check_complete(path)
    if path.is_file() and path.stat().st_size == 0:
        return []
    return list(read_fasta(path, kind=kind))


class FramesWriter:
    """The translate stage's outputs: both frame files and `chunks.tsv`, committed together as one set.

    Until `commit`, everything goes to temporary files in the output directory (`virnucpro.io.outputs`);
    leaving the context without a commit (bad input found late, an exception) deletes them and leaves the
    directory as it was.
    """

    NAMES = (NUCLEOTIDE_NAME, PROTEIN_NAME, CHUNKS_NAME)
    LABEL = "translate"

    def __init__(self, outdir: Path) -> None:
        self.outputs = OutputSet(outdir, self.LABEL, self.NAMES)
        self.handles: list[BinaryIO] = []

    def __enter__(self) -> FramesWriter:
        self.outputs.__enter__()
        self.handles = [self.outputs.open(name) for name in self.NAMES]
        self.handles[2].write(CHUNKS_HEADER.encode() + b"\n")
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.outputs.__exit__(*exc_info)

    def write(self, nucleotide: bytes, protein: bytes, chunk_rows: str) -> None:
        """Append encoded frame records (`encode_frames`) and chunk rows (`io.chunks.chunk_rows`)."""
        self.handles[0].write(nucleotide)
        self.handles[1].write(protein)
        self.handles[2].write(chunk_rows.encode())

    def commit(self) -> None:
        """Put the three files in place together (`OutputSet.commit`)."""
        self.outputs.commit()
