"""`summary.json`: counts per status and per call, score histograms, settings and versions of a report."""

from __future__ import annotations

import platform
from collections import Counter

import numpy as np

from virnucpro import __version__
from virnucpro.io.scores import ScoreRow
from virnucpro.report.reads import ReadCall

SUMMARY_NAME = "summary.json"
HISTOGRAM_BINS = 20
STATUSES = ("called", "no_valid_frame", "too_short")
CALLS = ("virus", "others")


def histogram(values: list[float], bins: int = HISTOGRAM_BINS) -> dict[str, list]:
    """Counts of scores in `bins` equal bins over [0, 1] (the last bin includes 1.0)."""
    counts, edges = np.histogram(np.asarray(values, dtype=np.float64), bins=bins, range=(0.0, 1.0))
    return {"edges": [round(float(e), 6) for e in edges], "counts": [int(c) for c in counts]}


def versions() -> dict[str, str]:
    """Versions of what produced the report (torch is not imported here: the report does not need it)."""
    return {"virnucpro": __version__, "python": platform.python_version(), "numpy": np.__version__}


def build_summary(
    calls: list[ReadCall],
    scores: list[ScoreRow],
    *,
    sample: str,
    threshold: float,
    settings: dict,
    provenance: list[dict],
) -> dict:
    """The summary as a JSON-ready dict.

    Args:
        calls: the per-read table.
        scores: every scored frame (frame ID, score1, score2 text).
        sample: sample name shown in the report.
        threshold: the P(virus) threshold of the read calls.
        settings: further settings to record (chunk length, models, inputs).
        provenance: the classify stage's records (classifier checksum, embedding metadata), one per shard.
    """
    status = Counter(c.status for c in calls)
    call = Counter(c.call for c in calls if c.status == "called")
    return {
        "sample": sample,
        "settings": {"threshold": threshold, **settings},
        "counts": {
            "reads": len(calls),
            "chunks": sum(c.chunks for c in calls),
            "chunks_with_frames": sum(c.chunks_with_frames for c in calls),
            "frames": len(scores),
            "status": {s: status.get(s, 0) for s in STATUSES},
            "call": {c: call.get(c, 0) for c in CALLS},
        },
        "histograms": {
            "read_best_virus_score": histogram([float(c.best_virus_score) for c in calls if c.status == "called"]),
            "frame_virus_score": histogram([float(row[2]) for row in scores]),
        },
        "versions": versions(),
        "provenance": provenance,
    }
