"""Labelled feature rows for training, from precomputed embeddings or from labelled FASTA files.

Every row keeps its frame ID and source record, so the split can keep a record's frames together.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from virnucpro.classify import join_features
from virnucpro.errors import InputError
from virnucpro.io.embeddings import read_embeddings
from virnucpro.train.split import source_record

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
    from virnucpro.io.fasta import read_fasta
    from virnucpro.report.reads import CHUNKS_COLUMNS

    sequences = {record.id: record.sequence for record in read_fasta(reads_path, kind="nucleotide")}
    lines = chunks_path.read_text(encoding="utf-8").splitlines()
    header = lines[0].split("\t")
    col = {name: header.index(name) for name in CHUNKS_COLUMNS}
    dropped = set()
    for line in lines[1:]:
        fields = line.split("\t")
        piece = sequences[fields[col["read_id"]]][int(fields[col["start"]]) : int(fields[col["end"]])]
        if AMBIGUOUS_LETTERS.intersection(piece):
            dropped.add(fields[col["chunk_id"]])
    return dropped


def filter_frames(fasta_in: Path, fasta_out: Path, dropped_chunks: set[str]) -> int:
    """Copy a one-line-per-sequence frame FASTA without the frames of `dropped_chunks`; returns frames kept."""
    lines = fasta_in.read_text(encoding="utf-8").splitlines()
    kept: list[str] = []
    for header, sequence in zip(lines[0::2], lines[1::2], strict=True):
        if header[1:][:-2] not in dropped_chunks:
            kept += [header, sequence]
    fasta_out.write_text("".join(line + "\n" for line in kept), encoding="utf-8")
    return len(kept) // 2
