"""Synthetic labelled embeddings shared by the training tests."""

from __future__ import annotations

import numpy as np


def synthetic_frames(records_per_class: int, seed: int, dnabert_dim: int = 12, esm_dim: int = 20, shift: float = 0.6):
    """Frames of records whose features carry a class shift on 8 dimensions, a per-record offset, and noise.

    The per-record offset is as large as the class shift, so frames of one record resemble each other more
    than frames of other records: a frame-level split would look better than the truth.
    """
    rng = np.random.default_rng(seed)
    width = dnabert_dim + esm_dim
    direction = np.zeros(width)
    direction[:4], direction[dnabert_dim : dnabert_dim + 4] = shift, -shift
    ids, rows, labels = [], [], {}
    for label in (1, 0):
        for r in range(records_per_class):
            record = f"{'vir' if label else 'host'}{r}"
            labels[record] = label
            offset = rng.normal(0, 0.6, width)
            for k in range(1, int(rng.integers(2, 6)) + 1):
                ids.append(f"{record}_chunk_{k}F1")
                rows.append(offset + (direction if label else -direction) + rng.normal(0, 1, width))
    vectors = np.asarray(rows, dtype=np.float32)
    return ids, vectors[:, :dnabert_dim], vectors[:, dnabert_dim:], labels
