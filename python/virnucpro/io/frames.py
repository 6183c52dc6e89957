"""The frame files `nucleotide.fa` and `protein.faa`, written by `translate`, read by `embed` and `train`.

Both hold one record per kept frame, the ID on its `>` line and the sequence on the next line, the same
IDs in the same order (reads, then chunks, then F1 F2 F3 R1 R2 R3), byte for byte as the published tool
wrote them. The translate stage writes them together with `chunks.tsv` (`FramesWriter`), so that the three
appear under their final names only once the whole input has been read.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from virnucpro.io.chunks import CHUNKS_HEADER, CHUNKS_NAME
from virnucpro.io.fasta import FastaRecord, read_fasta

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
        InputError: any problem `read_fasta` reports (a bad letter, a duplicate ID, a truncated file).
    """
    path = Path(path)
    if path.is_file() and path.stat().st_size == 0:
        return []
    return list(read_fasta(path, kind=kind))


class FramesWriter:
    """The translate stage's outputs: both frame files and `chunks.tsv`, renamed together by `commit`.

    Until `commit`, everything goes to hidden temporary files in the output directory; leaving the
    context without a commit (bad input found late, an exception) deletes them.
    """

    NAMES = (NUCLEOTIDE_NAME, PROTEIN_NAME, CHUNKS_NAME)

    def __init__(self, outdir: Path) -> None:
        self.final = [outdir / name for name in self.NAMES]
        self.temporary = [outdir / f".{name}.partial" for name in self.NAMES]
        self.handles = [open(path, "wb") for path in self.temporary]  # noqa: SIM115 - closed in __exit__
        self.handles[2].write(CHUNKS_HEADER.encode() + b"\n")

    def __enter__(self) -> FramesWriter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        for handle in self.handles:
            handle.close()
        for path in self.temporary:
            path.unlink(missing_ok=True)

    def write(self, nucleotide: bytes, protein: bytes, chunk_rows: str) -> None:
        """Append encoded frame records (`encode_frames`) and chunk rows (`io.chunks.chunk_rows`)."""
        self.handles[0].write(nucleotide)
        self.handles[1].write(protein)
        self.handles[2].write(chunk_rows.encode())

    def commit(self) -> None:
        """Close the files and move them to their final names."""
        for handle in self.handles:
            handle.close()
        for temporary, final in zip(self.temporary, self.final, strict=True):
            temporary.replace(final)
