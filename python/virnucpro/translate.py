"""Chunk reads and six-frame translate every chunk, exactly as the published tool did.

The rules are docs/contract.md, sections 2 and 3.

Per chunk, frames F1 F2 F3 translate the chunk from offsets 0, 1, 2 and R1 R2 R3 its reverse complement;
a codon with a letter other than A C G T is dropped (`ambiguous="drop"`, the published behaviour) or becomes
`X` (`ambiguous="x"`, which changes the science); a frame is kept if its protein is non-empty and has no
`*`, and is paired with the nucleotide slice `S[f-1 : f + 3*len(protein)]` (one base past the last codon).

Speed comes from working on many chunks at once: each batch of chunks is joined into one buffer, every
codon of the buffer and of its reverse complement is translated by table lookups, and the frames with a
stop codon are found by binary search over the stop positions, so Python only touches the frames it keeps.
Memory stays flat: reads stream in, batches hold a bounded number of bases.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np

from virnucpro.chunking import iter_chunks
from virnucpro.codon import COMPLEMENT, DROPPED, STOP, amino_lookup, codon_bytes
from virnucpro.errors import InputError
from virnucpro.io.chunks import chunk_rows
from virnucpro.io.fasta import FastaRecord
from virnucpro.io.frame_ids import FRAME_SUFFIXES, chunk_id, frame_id
from virnucpro.io.frames import FramesWriter, encode_frames
from virnucpro.io.reads import read_reads_bytes
from virnucpro.logging_setup import get_logger

AMBIGUOUS_MODES = ("drop", "x")
DEFAULT_AMBIGUOUS = "drop"  # the published behaviour
_SUFFIX_BYTES = tuple(suffix.encode() for suffix in FRAME_SUFFIXES)
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


# A kept frame inside the engine: (frame 0-5 for F1 F2 F3 R1 R2 R3, nucleotide bytes, protein bytes).
# Plain tuples: a million reads make millions of these.
_KeptFrame = tuple[int, bytes, bytes]


class _ChunkBatch:
    """Chunks of consecutive reads as parallel lists (cheaper than an object per chunk)."""

    def __init__(self) -> None:
        self.read_ids: list[str] = []
        self.read_lengths: list[int] = []
        self.indexes: list[int] = []
        self.starts: list[int] = []
        self.ends: list[int] = []
        self.pieces: list[bytes] = []
        self.bases = 0

    def add(self, read_id: str, read_length: int, index: int, start: int, end: int, piece: bytes) -> None:
        self.read_ids.append(read_id)
        self.read_lengths.append(read_length)
        self.indexes.append(index)
        self.starts.append(start)
        self.ends.append(end)
        self.pieces.append(piece)
        self.bases += end - start


def translate_records(
    records: Iterable[FastaRecord],
    chunk_length: int,
    *,
    ambiguous: str = DEFAULT_AMBIGUOUS,
    summary: TranslateSummary | None = None,
) -> Iterator[TranslatedChunk]:
    """Chunk and six-frame translate records, yielding every chunk (kept frames or not) in input order.

    Args:
        records: nucleotide records with upper-case sequences (as `read_fasta` gives them).
        chunk_length: the expected length C, a positive integer (300 and 500 for the published models).
        ambiguous: "drop" (published: codons with non-ACGT letters vanish) or "x" (they become `X`).
        summary: if given, read, short-read and non-ACGT base counts are added to it once every record
            has been consumed (chunk and frame counts are the `translate` stage's).

    Returns:
        An iterator of `TranslatedChunk`, chunk order within each read, reads in input order.
    """
    _check_options(chunk_length, ambiguous)
    triples = ((record.id, record.sequence.encode("ascii"), record.line) for record in records)
    for batch in _chunk_batches(triples, chunk_length, summary or TranslateSummary()):
        kept_frames = _translate_batch(batch.pieces, ambiguous)
        for read_id, read_length, index, start, end, kept in zip(
            batch.read_ids, batch.read_lengths, batch.indexes, batch.starts, batch.ends, kept_frames, strict=True
        ):
            name = chunk_id(read_id, index)
            frames = tuple(
                Frame(frame_id(name, frame), bases.decode(), protein.decode()) for frame, bases, protein in kept
            )
            yield TranslatedChunk(read_id, read_length, index, start, end, frames)


def translate_file(
    input_path: str | Path,
    outdir: str | Path,
    *,
    chunk_length: int,
    ambiguous: str = DEFAULT_AMBIGUOUS,
    mate: str | Path | None = None,
) -> TranslateSummary:
    """The `translate` stage: write `nucleotide.fa`, `protein.faa` and `chunks.tsv` under `outdir`.

    The two FASTA files hold one line per sequence, the same IDs in the same order (chunk order, then F1 F2
    F3 R1 R2 R3), byte for byte as the published tool wrote them. `chunks.tsv` has one row per chunk of
    every read (a read shorter than one codon is one chunk with 0 frames), so nothing disappears silently.
    The three files are one output set (`virnucpro.io.outputs`): written under temporary names, and put in
    place together only when the whole input was valid.

    Args:
        input_path: reads or contigs: FASTA or FASTQ, plain or gzip (`virnucpro.io.reads`).
        outdir: output directory, created if missing.
        chunk_length: the expected length C (positive integer).
        ambiguous: "drop" (default, published) or "x".
        mate: the second mates of paired reads (`input_path` then holds the first); mates are tagged /1, /2.

    Returns:
        The run's `TranslateSummary`.

    Raises:
        InputError: a bad option value or any input problem `read_reads_bytes` reports.
    """
    _check_options(chunk_length, ambiguous)
    outdir = Path(outdir)
    records = read_reads_bytes(input_path, mate=mate, unique_ids=True)
    first = next(records)  # opens and checks the input before anything is created
    summary = TranslateSummary()
    with FramesWriter(outdir) as writer:
        outputs = _Outputs(writer)
        for batch in _chunk_batches(itertools.chain([first], records), chunk_length, summary):
            outputs.write_batch(batch, _translate_batch(batch.pieces, ambiguous), summary)
        outputs.finish(summary)
    _log_summary(Path(input_path), summary, ambiguous)
    return summary


def _check_options(chunk_length: int, ambiguous: str) -> None:
    if isinstance(chunk_length, bool) or not isinstance(chunk_length, int) or chunk_length < 1:
        raise InputError(f"--chunk-length must be a positive integer, not {chunk_length!r}")
    if ambiguous not in AMBIGUOUS_MODES:
        raise InputError(f"--ambiguous must be one of {', '.join(AMBIGUOUS_MODES)}, not {ambiguous!r}")


@functools.cache
def _lookup_for(ambiguous: str) -> bytes:
    """The codon table of a mode: non-ACGT codons become DROPPED (deleted later) or `X`."""
    return amino_lookup(DROPPED if ambiguous == "drop" else ord("X"))


def _chunk_batches(
    records: Iterable[tuple[str, bytes, int]], chunk_length: int, summary: TranslateSummary
) -> Iterator[_ChunkBatch]:
    """Group the chunks of consecutive reads (ID, upper-case bases, line) into batches of ~BATCH_BASES bases.

    A long read's chunks may span several batches, so one contig never makes a batch unbounded.
    Side effect: adds read, short-read and ambiguous-base counts to `summary` once all reads are consumed.
    """
    batch = _ChunkBatch()
    reads = short = ambiguous_reads = ambiguous_bases = 0  # local counters: this loop runs per read
    for read_id, bases, _ in records:
        length = len(bases)
        reads += 1
        short += length < 3
        ambiguous = len(bases.translate(None, b"ACGT"))
        if ambiguous:
            ambiguous_reads += 1
            ambiguous_bases += ambiguous
        if length <= chunk_length:  # the common case for reads: one chunk, the whole read
            batch.add(read_id, length, 1, 0, length, bases)
        else:
            for index, (start, end) in enumerate(iter_chunks(length, chunk_length), start=1):
                batch.add(read_id, length, index, start, end, bases[start:end])
                if batch.bases >= BATCH_BASES:
                    yield batch
                    batch = _ChunkBatch()
        if batch.bases >= BATCH_BASES:
            yield batch
            batch = _ChunkBatch()
    if batch.pieces:
        yield batch
    summary.reads += reads
    summary.short_reads += short
    summary.reads_with_ambiguous += ambiguous_reads
    summary.ambiguous_bases += ambiguous_bases


def _translate_batch(pieces: list[bytes], ambiguous: str) -> list[list[_KeptFrame]]:
    """Six-frame translate every chunk in `pieces`; per chunk, its kept frames in F1..R3 order.

    Frame geometry: chunk k sits at `offsets[k]` in the joined buffer, and its reverse complement at
    `total - offsets[k] - lengths[k]` in the reversed, complemented buffer. Frame f (0-based within its
    strand) starts at `base + f` and has m = (length - f) // 3 complete codons, one every 3 positions.
    """
    buffers = _StrandBuffers(pieces, _lookup_for(ambiguous))
    starts, codons = buffers.frame_geometry()
    stops = _count_in_frames(buffers.amino_array == STOP, starts, codons)
    # protein length: codons minus the dropped ones (only "drop" mode drops, and only non-ACGT codons)
    dropped = buffers.amino_array == DROPPED
    lengths = codons - _count_in_frames(dropped, starts, codons) if dropped.any() else codons
    keep = (lengths > 0) & (stops == 0)
    result: list[list[_KeptFrame]] = [_NO_FRAMES] * len(pieces)  # shared empty list, replaced when filled
    frames, chunks = np.nonzero(keep)  # frame-major, so each chunk's list fills in F1..R3 order
    for chunk, kept in buffers.kept_slices(frames, chunks, starts[keep], lengths[keep], codons[keep]):
        if result[chunk] is _NO_FRAMES:
            result[chunk] = [kept]
        else:
            result[chunk].append(kept)
    return result


class _StrandBuffers:
    """A batch of chunks joined into one buffer, its reverse complement, and both translated at every base."""

    def __init__(self, pieces: list[bytes], lookup: bytes) -> None:
        self.forward = b"".join(pieces)
        self.reverse = self.forward[::-1].translate(COMPLEMENT)
        self.total = len(self.forward)
        self.lengths = np.fromiter(map(len, pieces), dtype=np.int64, count=len(pieces))
        self.offsets = np.cumsum(self.lengths) - self.lengths
        self.aminos = (codon_bytes(self.forward, lookup), codon_bytes(self.reverse, lookup))
        # forward then reverse amino acids: position q < total is forward, q >= total is reverse
        self.amino_array = np.frombuffer(self.aminos[0] + self.aminos[1], dtype=np.uint8)

    def frame_geometry(self) -> tuple[np.ndarray, np.ndarray]:
        """Start positions (in `amino_array`) and codon counts, both shaped (6 frames, chunks)."""
        shift = np.arange(3, dtype=np.int64)[:, None]
        forward_starts = self.offsets[None, :] + shift
        reverse_starts = self.total + (self.total - self.offsets - self.lengths)[None, :] + shift
        codons = np.maximum((self.lengths[None, :] - shift) // 3, 0)
        return np.vstack([forward_starts, reverse_starts]), np.vstack([codons, codons])

    def kept_slices(
        self, frames: np.ndarray, chunks: np.ndarray, starts: np.ndarray, lengths: np.ndarray, codons: np.ndarray
    ) -> Iterator[tuple[int, _KeptFrame]]:
        """Yield (chunk, kept frame) for each kept frame.

        The nucleotide is S[f-1 : f + 3*len(protein)] (f 1-based): one base past the last codon, clipped to
        the chunk. Slice bounds are computed for all frames at once; Python only cuts the bytes.
        """
        strands, shifts = np.divmod(frames, 3)
        begins = starts - strands * self.total
        protein_ends = begins + 3 * codons
        chunk_lengths = self.lengths[chunks]
        nucleotide_ends = begins - shifts + np.minimum(chunk_lengths, shifts + 3 * lengths + 1)
        complete = lengths == codons
        bases = (self.forward, self.reverse)
        dropped = bytes([DROPPED])
        for frame, chunk, strand, begin, protein_end, nucleotide_end, clean in zip(
            frames.tolist(),
            chunks.tolist(),
            strands.tolist(),
            begins.tolist(),
            protein_ends.tolist(),
            nucleotide_ends.tolist(),
            complete.tolist(),
            strict=True,
        ):
            protein = self.aminos[strand][begin:protein_end:3]
            if not clean:
                protein = protein.translate(None, dropped)
            yield chunk, (frame, bases[strand][begin:nucleotide_end], protein)


_NO_FRAMES: list[_KeptFrame] = []  # never appended to
_RESIDUE_STRIDE = 1 << 40  # larger than any position: keys of one residue class never reach the next


def _count_in_frames(flags: np.ndarray, starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """How many flagged positions each frame q, q+3, ..., q+3(m-1) covers, for all frames at once.

    Positions of a frame share q % 3, so each flagged position p gets the key (p % 3) * STRIDE + p // 3,
    and a frame covers exactly the keys in [key(q), key(q) + m): two binary searches per frame. Flags
    (stop codons, dropped codons) are sparse, so this beats a cumulative sum over every position.
    """
    positions = np.flatnonzero(flags)
    residues = positions % 3
    keys = np.concatenate([positions[residues == r] // 3 + r * _RESIDUE_STRIDE for r in range(3)])
    low = starts % 3 * _RESIDUE_STRIDE + starts // 3
    return np.searchsorted(keys, low + counts) - np.searchsorted(keys, low)


class _Outputs:
    """Encodes each batch for the `FramesWriter` and counts frames, empty chunks and frameless reads."""

    def __init__(self, writer: FramesWriter) -> None:
        self.writer = writer
        self._read_frames = -1  # frames kept so far by the current read; -1 before the first read

    def write_batch(self, batch: _ChunkBatch, frames: list[list[_KeptFrame]], summary: TranslateSummary) -> None:
        """Append a batch's frames and chunk rows; count frames, empty chunks and frameless reads."""
        ids: list[bytes] = []
        nucleotide: list[bytes] = []
        protein: list[bytes] = []
        names: list[str] = []
        frameless_reads = 0
        for read_id, index, kept in zip(batch.read_ids, batch.indexes, frames, strict=True):
            name = chunk_id(read_id, index)
            names.append(name)
            if kept:
                header = name.encode()
                for frame, bases, aminos in kept:
                    ids.append(header + _SUFFIX_BYTES[frame])
                    nucleotide.append(bases)
                    protein.append(aminos)
            if index == 1:  # a new read starts: close the previous one
                frameless_reads += self._read_frames == 0
                self._read_frames = 0
            self._read_frames += len(kept)
        counts = [len(kept) for kept in frames]
        summary.chunks += len(counts)
        summary.frames += sum(counts)
        summary.chunks_without_frame += counts.count(0)
        summary.reads_without_frame += frameless_reads
        rows = chunk_rows(batch.read_ids, batch.read_lengths, names, batch.indexes, batch.starts, batch.ends, counts)
        self.writer.write(encode_frames(ids, nucleotide), encode_frames(ids, protein), rows)

    def finish(self, summary: TranslateSummary) -> None:
        """Count the last read and move the files to their final names (only reached if the input was valid)."""
        summary.reads_without_frame += self._read_frames == 0
        self.writer.commit()


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
