"""Chunk reads and six-frame translate every chunk, exactly as the published tool did (contract.md 2-3).

Per chunk, frames F1 F2 F3 translate the chunk from offsets 0, 1, 2 and R1 R2 R3 its reverse complement;
a codon with a letter other than A C G T is dropped (`ambiguous="drop"`, the published behaviour) or becomes
`X` (`ambiguous="x"`, which changes the science); a frame is kept if its protein is non-empty and has no
`*`, and is paired with the nucleotide slice `S[f-1 : f + 3*len(protein)]` (one base past the last codon).

Speed comes from working on many chunks at once: each batch of chunks is joined into one buffer, every
codon of the buffer and of its reverse complement is translated by a numpy table lookup, and the frames
with a stop codon are found by stride-3 cumulative sums, so Python only touches the frames it keeps.
Memory stays flat: reads stream in, batches hold a bounded number of bases.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np

from virnucpro.chunking import chunk_id, iter_chunks
from virnucpro.codon import COMPLEMENT, DROPPED, STOP, amino_lookup, codon_bytes
from virnucpro.errors import InputError
from virnucpro.io.fasta import FastaRecord, read_fasta
from virnucpro.logging_setup import get_logger

AMBIGUOUS_MODES = ("drop", "x")
FRAME_SUFFIXES = ("F1", "F2", "F3", "R1", "R2", "R3")
CHUNKS_HEADER = "read_id\tread_length\tchunk_id\tchunk_index\tstart\tend\tframes_kept"
BATCH_BASES = 1 << 20  # bases per batch: large enough to amortise numpy calls, small enough to stay flat

log = get_logger("translate")


class Frame(NamedTuple):
    """One kept frame: `<chunk id><suffix>`, its nucleotide slice and its protein."""

    id: str
    nucleotide: str
    protein: str


@dataclass(frozen=True, slots=True)
class TranslatedChunk:
    """A chunk, where it lies in its read, and its kept frames (possibly none) in F1..R3 order."""

    read_id: str
    read_length: int
    chunk_index: int
    start: int
    end: int
    frames: tuple[Frame, ...]

    @property
    def chunk_id(self) -> str:
        return chunk_id(self.read_id, self.chunk_index)


@dataclass
class TranslateSummary:
    """Counts for the log and for callers; every read and chunk is accounted for."""

    reads: int = 0
    chunks: int = 0
    frames: int = 0
    chunks_without_frame: int = 0
    reads_without_frame: int = 0
    short_reads: int = 0
    reads_with_ambiguous: int = 0
    ambiguous_bases: int = 0


class _Chunk(NamedTuple):
    read_id: str
    read_length: int
    index: int
    start: int
    end: int
    bases: bytes


def translate_records(
    records: Iterable[FastaRecord],
    chunk_length: int,
    *,
    ambiguous: str = "drop",
    summary: TranslateSummary | None = None,
) -> Iterator[TranslatedChunk]:
    """Chunk and six-frame translate records, yielding every chunk (kept frames or not) in input order.

    Args:
        records: nucleotide records with upper-case sequences (as `read_fasta` gives them).
        chunk_length: the expected length C, a positive integer (300 and 500 for the published models).
        ambiguous: "drop" (published: codons with non-ACGT letters vanish) or "x" (they become `X`).
        summary: if given, read and base counts are added to it as records are consumed.

    Returns:
        An iterator of `TranslatedChunk`, chunk order within each read, reads in input order.
    """
    _check_options(chunk_length, ambiguous)
    for batch in _chunk_batches(records, chunk_length, summary or TranslateSummary()):
        for chunk, frames in zip(batch, _translate_batch([c.bases for c in batch], ambiguous), strict=True):
            yield TranslatedChunk(
                chunk.read_id,
                chunk.read_length,
                chunk.index,
                chunk.start,
                chunk.end,
                tuple(
                    Frame(f"{chunk_id(chunk.read_id, chunk.index)}{suffix}", nuc.decode(), prot.decode())
                    for suffix, nuc, prot in frames
                ),
            )


def translate_file(
    input_path: str | Path, outdir: str | Path, *, chunk_length: int, ambiguous: str = "drop"
) -> TranslateSummary:
    """The `translate` stage: write `nucleotide.fa`, `protein.faa` and `chunks.tsv` under `outdir`.

    The two FASTA files hold one line per sequence, the same IDs in the same order (chunk order, then F1 F2
    F3 R1 R2 R3), byte for byte as the published tool wrote them. `chunks.tsv` has one row per chunk of
    every read (a read shorter than one codon is one chunk with 0 frames), so nothing disappears silently.
    Outputs are written under temporary names and renamed only when the whole input was valid.

    Args:
        input_path: nucleotide FASTA, plain or gzip.
        outdir: output directory, created if missing.
        chunk_length: the expected length C (positive integer).
        ambiguous: "drop" (default, published) or "x".

    Returns:
        The run's `TranslateSummary`.

    Raises:
        InputError: a bad option value or any input problem `read_fasta` reports.
    """
    _check_options(chunk_length, ambiguous)
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    summary = TranslateSummary()
    records = read_fasta(input_path, kind="nucleotide", unique_ids=True)
    with _Outputs(outdir) as outputs:
        for batch in _chunk_batches(records, chunk_length, summary):
            outputs.write_batch(batch, _translate_batch([c.bases for c in batch], ambiguous), summary)
        outputs.finish(summary)
    _log_summary(Path(input_path), summary, ambiguous)
    return summary


def _check_options(chunk_length: int, ambiguous: str) -> None:
    if isinstance(chunk_length, bool) or not isinstance(chunk_length, int) or chunk_length < 1:
        raise InputError(f"--chunk-length must be a positive integer, not {chunk_length!r}")
    if ambiguous not in AMBIGUOUS_MODES:
        raise InputError(f"--ambiguous must be one of {', '.join(AMBIGUOUS_MODES)}, not {ambiguous!r}")


@functools.cache
def _lookup_for(ambiguous: str) -> np.ndarray:
    """The codon table of a mode: non-ACGT codons become DROPPED (deleted later) or `X`."""
    return amino_lookup(DROPPED if ambiguous == "drop" else ord("X"))


def _chunk_batches(
    records: Iterable[FastaRecord], chunk_length: int, summary: TranslateSummary
) -> Iterator[list[_Chunk]]:
    """Group the chunks of consecutive reads into batches of about BATCH_BASES bases.

    A long read's chunks may span several batches, so one contig never makes a batch unbounded.
    Side effect: adds read, short-read and ambiguous-base counts to `summary`.
    """
    batch: list[_Chunk] = []
    size = 0
    for record in records:
        bases = record.sequence.encode("ascii")
        _count_read(bases, summary)
        for index, (start, end) in enumerate(iter_chunks(len(bases), chunk_length), start=1):
            batch.append(_Chunk(record.id, len(bases), index, start, end, bases[start:end]))
            size += end - start
            if size >= BATCH_BASES:
                yield batch
                batch, size = [], 0
    if batch:
        yield batch


def _count_read(bases: bytes, summary: TranslateSummary) -> None:
    summary.reads += 1
    if len(bases) < 3:
        summary.short_reads += 1
    ambiguous = len(bases.translate(None, b"ACGT"))
    if ambiguous:
        summary.reads_with_ambiguous += 1
        summary.ambiguous_bases += ambiguous


def _translate_batch(pieces: list[bytes], ambiguous: str) -> list[list[tuple[str, bytes, bytes]]]:
    """Six-frame translate every chunk in `pieces`; per chunk, the kept (suffix, nucleotide, protein).

    Frame geometry: chunk k sits at `offsets[k]` in the joined buffer, and its reverse complement at
    `total - offsets[k] - lengths[k]` in the reversed, complemented buffer. Frame f (0-based within its
    strand) starts at `base + f` and has m = (length - f) // 3 complete codons, one every 3 positions.
    """
    buffers = _StrandBuffers(pieces, _lookup_for(ambiguous))
    starts, codons = buffers.frame_geometry()
    stops = _strided_sums(buffers.stop_flags, starts, codons)
    # protein length: codons minus the dropped ones ("drop"), or every codon ("x")
    lengths = _strided_sums(buffers.kept_flags, starts, codons) if ambiguous == "drop" else codons
    keep = (lengths > 0) & (stops == 0)
    result: list[list[tuple[str, bytes, bytes]]] = [[] for _ in pieces]
    for frame, chunk in zip(*np.nonzero(keep), strict=True):
        start, length = int(starts[frame, chunk]), int(lengths[frame, chunk])
        result[chunk].append(buffers.frame(int(frame), int(chunk), start, length))
    return result


class _StrandBuffers:
    """A batch of chunks joined into one buffer, its reverse complement, and both translated at every base."""

    def __init__(self, pieces: list[bytes], lookup: np.ndarray) -> None:
        self.forward = b"".join(pieces)
        self.reverse = self.forward[::-1].translate(COMPLEMENT)
        self.total = len(self.forward)
        self.lengths = np.fromiter(map(len, pieces), dtype=np.int64, count=len(pieces))
        self.offsets = np.cumsum(self.lengths) - self.lengths
        self.aminos = (codon_bytes(self.forward, lookup), codon_bytes(self.reverse, lookup))
        both = np.frombuffer(self.aminos[0] + self.aminos[1], dtype=np.uint8)
        self.stop_flags = both == STOP
        self.kept_flags = both != DROPPED

    def frame_geometry(self) -> tuple[np.ndarray, np.ndarray]:
        """Start positions (in the forward+reverse amino array) and codon counts, both shaped (6, chunks)."""
        shift = np.arange(3, dtype=np.int64)[:, None]
        forward_starts = self.offsets[None, :] + shift
        reverse_starts = self.total + (self.total - self.offsets - self.lengths)[None, :] + shift
        codons = np.maximum((self.lengths[None, :] - shift) // 3, 0)
        return np.vstack([forward_starts, reverse_starts]), np.vstack([codons, codons])

    def frame(self, frame: int, chunk: int, start: int, length: int) -> tuple[str, bytes, bytes]:
        """The kept frame's (suffix, nucleotide slice, protein); `start` indexes the joined amino array."""
        strand, shift = divmod(frame, 3)
        chunk_length = int(self.lengths[chunk])
        codons = (chunk_length - shift) // 3
        begin = start - strand * self.total
        protein = self.aminos[strand][begin : begin + 3 * codons : 3]
        if length != codons:
            protein = protein.translate(None, bytes([DROPPED]))
        chunk_start = begin - shift
        # S[f-1 : f + 3*len(protein)] with f 1-based: one base past the last codon, clipped to the chunk.
        end = chunk_start + min(chunk_length, shift + 3 * length + 1)
        bases = (self.forward, self.reverse)[strand][begin:end]
        return FRAME_SUFFIXES[frame], bases, protein


def _strided_sums(flags: np.ndarray, starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Sum flags[q] + flags[q+3] + ... over `counts` terms for every start q, without a Python loop.

    Positions q, q+3, ... share q % 3, so one cumulative sum per residue class answers every frame:
    sum = cum_j[q//3 + m] - cum_j[q//3] with j = q % 3.
    """
    cumulative, bases, size = [], [], 0
    for residue in range(3):
        cum = np.zeros(len(flags[residue::3]) + 1, dtype=np.int64)
        np.cumsum(flags[residue::3], out=cum[1:])
        cumulative.append(cum)
        bases.append(size)
        size += len(cum)
    flat = np.concatenate(cumulative)
    safe_starts = np.where(counts > 0, starts, 0)  # a frame with no codon may start past the buffer
    index = np.asarray(bases, dtype=np.int64)[safe_starts % 3] + safe_starts // 3
    return flat[index + counts] - flat[index]


class _Outputs:
    """The three output files, written under temporary names and renamed together by `finish`."""

    NAMES = ("nucleotide.fa", "protein.faa", "chunks.tsv")

    def __init__(self, outdir: Path) -> None:
        self.final = [outdir / name for name in self.NAMES]
        self.temporary = [outdir / f".{name}.partial" for name in self.NAMES]
        self.handles = [open(path, "wb") for path in self.temporary]  # noqa: SIM115 - closed in __exit__
        self.handles[2].write(CHUNKS_HEADER.encode() + b"\n")
        self._read_id: str | None = None
        self._read_frames = 0

    def __enter__(self) -> _Outputs:
        return self

    def __exit__(self, *exc_info: object) -> None:
        for handle in self.handles:
            handle.close()
        for path in self.temporary:
            path.unlink(missing_ok=True)

    def write_batch(
        self, batch: list[_Chunk], frames: list[list[tuple[str, bytes, bytes]]], summary: TranslateSummary
    ) -> None:
        """Append a batch's frames and chunk rows; count frames, empty chunks and frameless reads."""
        nucleotide, protein, rows = [], [], []
        for chunk, kept in zip(batch, frames, strict=True):
            name = chunk_id(chunk.read_id, chunk.index)
            header = f">{name}".encode()
            for suffix, bases, aminos in kept:
                tag = header + suffix.encode() + b"\n"
                nucleotide += (tag, bases, b"\n")
                protein += (tag, aminos, b"\n")
            rows.append(
                f"{chunk.read_id}\t{chunk.read_length}\t{name}\t{chunk.index}\t{chunk.start}\t{chunk.end}\t{len(kept)}\n"
            )
            self._account(chunk.read_id, len(kept), summary)
        self.handles[0].write(b"".join(nucleotide))
        self.handles[1].write(b"".join(protein))
        self.handles[2].write("".join(rows).encode())

    def _account(self, read_id: str, kept: int, summary: TranslateSummary) -> None:
        summary.chunks += 1
        summary.frames += kept
        summary.chunks_without_frame += kept == 0
        if read_id != self._read_id:
            self._close_read(summary)
            self._read_id = read_id
        self._read_frames += kept

    def _close_read(self, summary: TranslateSummary) -> None:
        if self._read_id is not None and self._read_frames == 0:
            summary.reads_without_frame += 1
        self._read_frames = 0

    def finish(self, summary: TranslateSummary) -> None:
        """Close the files and move them to their final names (only reached if the input was valid)."""
        self._close_read(summary)
        for handle in self.handles:
            handle.close()
        for temporary, final in zip(self.temporary, self.final, strict=True):
            temporary.replace(final)


def _log_summary(path: Path, summary: TranslateSummary, ambiguous: str) -> None:
    """Report the counts, with warnings for reads shorter than a codon and for non-ACGT bases."""
    log.info(
        "%s: %d reads -> %d chunks -> %d frames kept (%d chunks and %d reads without a kept frame)",
        path,
        summary.reads,
        summary.chunks,
        summary.frames,
        summary.chunks_without_frame,
        summary.reads_without_frame,
    )
    if summary.short_reads:
        log.warning("%s: %d reads are shorter than one codon (3 bases) and yield no frame", path, summary.short_reads)
    if summary.ambiguous_bases:
        effect = "codons containing them were dropped" if ambiguous == "drop" else "codons containing them became X"
        log.warning(
            "%s: %d reads contain %d non-ACGT bases; %s (--ambiguous %s)",
            path,
            summary.reads_with_ambiguous,
            summary.ambiguous_bases,
            effect,
            ambiguous,
        )
