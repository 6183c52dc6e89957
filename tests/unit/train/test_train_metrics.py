"""Held-out metrics against values worked out by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest
from virnucpro.train.metrics import auroc, binary_metrics

LABELS = np.array([1, 1, 1, 0, 0, 0, 0, 1])
P_VIRUS = np.array([0.9, 0.6, 0.4, 0.2, 0.7, 0.1, 0.5, 0.5])


def test_binary_metrics_by_hand():
    # predicted virus only where P(virus) > P(others): rows 0, 1, 4 (the two 0.5 ties are "others")
    # tp = 2 (rows 0, 1), fp = 1 (row 4), tn = 3 (rows 3, 5, 6), fn = 2 (rows 2, 7)
    m = binary_metrics(LABELS, np.stack([1 - P_VIRUS, P_VIRUS], axis=1))
    assert (m["tp"], m["fp"], m["tn"], m["fn"], m["n"]) == (2, 1, 3, 2, 8)
    assert m["accuracy"] == pytest.approx(5 / 8)
    assert m["precision"] == pytest.approx(2 / 3)
    assert m["recall"] == pytest.approx(1 / 2)
    assert m["f1"] == pytest.approx(4 / 7)
    assert m["mcc"] == pytest.approx((2 * 3 - 1 * 2) / math.sqrt(3 * 4 * 4 * 5))
    # positive-negative pairs won: 0.9 -> 4, 0.6 -> 3, 0.4 -> 2, 0.5 -> 2 + a half for the tie = 11.5 of 16
    assert m["auroc"] == pytest.approx(11.5 / 16)


def test_perfect_and_undefined_cases():
    assert auroc(np.array([0, 0, 1]), np.array([0.1, 0.2, 0.3])) == 1.0
    assert auroc(np.array([1, 1]), np.array([0.1, 0.2])) is None
    m = binary_metrics(np.array([0, 0]), np.array([[0.9, 0.1], [0.8, 0.2]]))
    assert m["accuracy"] == 1.0 and m["precision"] is None and m["recall"] is None and m["mcc"] is None
