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

from virnucpro.errors import InputError
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
        InputError: any problem `read_fasta` reports (a bad letter, a duplicate ID, a truncated file), a file
            of the other alphabet (`check_alphabet`), or a file that the translate run writing it did not
            finish (`io.outputs.check_complete`).
    """
    path = Path(path)
    check_complete(path)
    if path.is_file() and path.stat().st_size == 0:
        return []
    records = list(read_fasta(path, kind=kind))
    check_alphabet(path, records, kind)
    return records


# Letters of both alphabets: A C G T (U, N) are nucleotides and also amino acids, so a file of the wrong
# kind passes the letter check. What gives it away is the mix: a real protein frame uses about twenty
# letters, a nucleotide frame almost only these.
NUCLEOTIDE_LETTERS = "ACGTUN"
_KEEP_OTHERS = str.maketrans("", "", NUCLEOTIDE_LETTERS)
# The decision needs enough letters to be safe (30 random amino acids are all A C G T U N with probability
# about 1e-18) and no more than a prefix: a frame file is one kind from start to end.
_DECIDE_AFTER, _DECIDE_WITHIN = 30, 100_000


def check_alphabet(path: Path, records: list[FastaRecord], kind: str) -> None:
    """Refuse a frame file of the other alphabet: nucleotides given as proteins, or proteins as nucleotides.

    Judged on the first 100,000 letters (all of them in a smaller file) once there are at least 30: a
    protein file whose letters are all A C G T U N, or a nucleotide file where other letters are the
    majority, is the other kind. `kind` "any" is not checked.

    Raises:
        InputError: naming the file, what it looks like and which file was expected.
    """
    if kind not in FRAME_FILES:
        return
    letters = others = 0
    for record in records:
        letters += len(record.sequence)
        others += len(record.sequence.translate(_KEEP_OTHERS))
        if letters >= _DECIDE_WITHIN or (kind == "protein" and others):
            break
    if letters < _DECIDE_AFTER:
        return
    if kind == "protein" and others == 0:
        raise InputError(
            f"{path}: every letter is one of {' '.join(NUCLEOTIDE_LETTERS)}: these are nucleotides, but proteins "
            f"were expected (ESM-2 embeds the proteins, {PROTEIN_NAME}; DNABERT-S the nucleotides, {NUCLEOTIDE_NAME})"
        )
    if kind == "nucleotide" and others * 2 > letters:
        raise InputError(
            f"{path}: {others} of the first {letters} letters are not {' '.join(NUCLEOTIDE_LETTERS)}: these are "
            f"proteins, but nucleotides were expected (DNABERT-S embeds the nucleotides, {NUCLEOTIDE_NAME}; "
            f"ESM-2 the proteins, {PROTEIN_NAME})"
        )


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
