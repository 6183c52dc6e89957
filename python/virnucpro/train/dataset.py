"""Labelled feature rows for training, from precomputed embeddings or from labelled FASTA files.

Every row keeps its frame ID and source record, so the split can keep a record's frames together.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from virnucpro.classify import join_features
from virnucpro.errors import InputError
from virnucpro.io.chunks import read_chunks
from virnucpro.io.embeddings import read_embeddings
from virnucpro.io.fasta import read_fasta
from virnucpro.io.frame_ids import chunk_of, source_record
from virnucpro.io.frames import read_frames, write_frames

LABELS = {"virus": 1, "viral": 1, "1": 1, "others": 0, "other": 0, "non-viral": 0, "0": 0}
# Chunks holding any of these letters were left out of the published training set (docs/contract.md, section 8).
AMBIGUOUS_LETTERS = frozenset("NRYMKSWHBVD")


@dataclass(frozen=True)
class LabelledFrames:
    """Feature rows [DNABERT-S | ESM-2] with labels (1 = virus) and the record each frame came from."""

    ids: list[str]
    features: np.ndarray
    labels: np.ndarray
    records: list[str]
    dnabert_dim: int
    esm_dim: int

    def subset(self, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return self.features[mask], self.labels[mask]


def read_labels(path: str | Path) -> dict[str, int]:
    """A `record_id<TAB>label` table (label virus/others or 1/0; an optional header line is skipped).

    Raises:
        InputError: a malformed line or an unknown label (file and line named).
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: labels table not found")
    labels: dict[str, int] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        fields = line.split("\t")
        if (number == 1 and fields[-1].strip().lower() == "label") or not line.strip():
            continue
        if len(fields) != 2 or fields[1].strip().lower() not in LABELS:
            raise InputError(f"{path}: line {number}: expected record_id<TAB>label with label virus or others")
        if fields[0] in labels:
            raise InputError(f"{path}: line {number}: record {fields[0]} is labelled twice")
        labels[fields[0]] = LABELS[fields[1].strip().lower()]
    return labels


def from_embeddings(pairs: list[tuple[Path, Path]], record_labels: dict[str, int]) -> LabelledFrames:
    """Join each (DNABERT-S, ESM-2) pair of embedding files by frame ID and label frames by record.

    Raises:
        InputError: unmatched IDs, different widths between pairs, or frames of unlabelled records.
    """
    ids: list[str] = []
    blocks: list[np.ndarray] = []
    dims: set[tuple[int, int]] = set()
    for dnabert_path, esm_path in pairs:
        dnabert, esm = read_embeddings(dnabert_path), read_embeddings(esm_path)
        dims.add((dnabert.vectors.shape[1], esm.vectors.shape[1]))
        blocks.append(join_features(dnabert, esm, Path(dnabert_path), Path(esm_path)))
        ids += dnabert.ids
    if len(dims) != 1:
        raise InputError(f"the embedding files have different widths: {sorted(dims)}")
    if len(set(ids)) != len(ids):
        raise InputError("a frame ID appears in more than one pair of embedding files")
    records = [source_record(i) for i in ids]
    unlabelled = sorted({r for r in records if r not in record_labels})
    if unlabelled:
        raise InputError(f"{len(unlabelled)} record(s) have frames but no label: {', '.join(unlabelled[:10])}")
    (dnabert_dim, esm_dim) = dims.pop()
    labels = np.array([record_labels[r] for r in records], dtype=np.int64)
    return LabelledFrames(ids, np.concatenate(blocks), labels, records, dnabert_dim, esm_dim)


def ambiguous_chunks(reads_path: Path, chunks_path: Path) -> set[str]:
    """IDs of chunks whose bases include any IUPAC ambiguity letter (the published training filter)."""
    sequences = {record.id: record.sequence for record in read_fasta(reads_path, kind="nucleotide")}
    return {
        chunk.chunk_id
        for chunk in read_chunks(chunks_path)
        if AMBIGUOUS_LETTERS.intersection(sequences[chunk.read_id][chunk.start : chunk.end])
    }


def filter_frames(fasta_in: Path, fasta_out: Path, dropped_chunks: set[str]) -> int:
    """Copy a frame file without the frames of `dropped_chunks`; returns how many frames were kept."""
    return write_frames(fasta_out, (r for r in read_frames(fasta_in, "any") if chunk_of(r.id) not in dropped_chunks))
