"""Held-out metrics of a binary classifier (class 1 = virus): accuracy, precision, recall, F1, MCC, AUROC."""

from __future__ import annotations

import math

import numpy as np


def _ratio(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator else None


def auroc(labels: np.ndarray, scores: np.ndarray) -> float | None:
    """Area under the ROC curve as the Mann-Whitney statistic (tied scores count one half).

    Returns None when one class is absent (the area is undefined).
    """
    labels = np.asarray(labels).astype(bool)
    positives, negatives = int(labels.sum()), int((~labels).sum())
    if positives == 0 or negatives == 0:
        return None
    order = np.argsort(scores, kind="mergesort")
    sorted_scores = np.asarray(scores)[order]
    ranks = np.empty(len(scores), dtype=np.float64)
    start = 0
    while start < len(sorted_scores):  # average ranks over runs of equal scores
        end = start
        while end + 1 < len(sorted_scores) and sorted_scores[end + 1] == sorted_scores[start]:
            end += 1
        ranks[order[start : end + 1]] = (start + end) / 2 + 1
        start = end + 1
    return float((ranks[labels].sum() - positives * (positives + 1) / 2) / (positives * negatives))


def binary_metrics(labels: np.ndarray, probabilities: np.ndarray) -> dict[str, float | int | None]:
    """Metrics of predictions argmax(probabilities) against labels; undefined ratios are None.

    Args:
        labels: int (N,) true classes, 1 = virus.
        probabilities: float (N, 2) class probabilities; a tie predicts class 0, as torch.max does.
    """
    labels = np.asarray(labels).astype(np.int64)
    predicted = (probabilities[:, 1] > probabilities[:, 0]).astype(np.int64)
    tp = int(((predicted == 1) & (labels == 1)).sum())
    tn = int(((predicted == 0) & (labels == 0)).sum())
    fp = int(((predicted == 1) & (labels == 0)).sum())
    fn = int(((predicted == 0) & (labels == 1)).sum())
    precision, recall = _ratio(tp, tp + fp), _ratio(tp, tp + fn)
    f1 = _ratio(2 * tp, 2 * tp + fp + fn)
    mcc_denominator = math.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn))
    return {
        "n": len(labels),
        "tp": tp,
        "fp": fp,
        "tn": tn,
        "fn": fn,
        "accuracy": _ratio(tp + tn, len(labels)),
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "mcc": _ratio(tp * tn - fp * fn, mcc_denominator),
        "auroc": auroc(labels, probabilities[:, 1]),
    }
