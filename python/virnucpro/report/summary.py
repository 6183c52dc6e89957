"""`summary.json`: counts per status and call, contigs, score histograms, and what produced the report."""

from __future__ import annotations

import platform
from collections import Counter
from collections.abc import Sequence

import numpy as np

from virnucpro import __version__
from virnucpro.io.scores import ScoreRow
from virnucpro.report.contigs import CONTIG_CALLS, Contig
from virnucpro.report.provenance import models_of, torch_versions
from virnucpro.report.reads import ReadCall

SUMMARY_NAME = "summary.json"
HISTOGRAM_BINS = 20
STATUSES = ("called", "no_valid_frame", "too_short")
CALLS = ("virus", "others")


def histogram(values: list[float], bins: int = HISTOGRAM_BINS) -> dict[str, list]:
    """Counts of scores in `bins` equal bins over [0, 1] (the last bin includes 1.0)."""
    counts, edges = np.histogram(np.asarray(values, dtype=np.float64), bins=bins, range=(0.0, 1.0))
    return {"edges": [round(float(e), 6) for e in edges], "counts": [int(c) for c in counts]}


def versions(records: Sequence[dict]) -> dict[str, str]:
    """Versions of what produced the report: this process's, and the torch that embedded and classified."""
    found = {"virnucpro": __version__, "python": platform.python_version(), "numpy": np.__version__}
    torch = torch_versions(records)
    if torch:
        found["torch"] = ", ".join(torch)
    return found


def contig_counts(contigs: Sequence[Contig]) -> dict:
    """How many sequences longer than one chunk there are, their calls, and their viral regions."""
    status = Counter(c.status for c in contigs)
    call = Counter(c.call for c in contigs if c.status == "called")
    return {
        "contigs": len(contigs),
        "status": {s: status.get(s, 0) for s in ("called", "no_valid_frame")},
        "call": {c: call.get(c, 0) for c in CONTIG_CALLS},
        "regions": sum(len(c.regions) for c in contigs),
        "region_bases": sum(c.region_bases for c in contigs),
    }


def build_summary(
    calls: list[ReadCall],
    scores: list[ScoreRow],
    contigs: Sequence[Contig],
    *,
    sample: str,
    created: str,
    settings: dict,
    run: dict,
    records: list[dict],
) -> dict:
    """The summary as a JSON-ready dict.

    Args:
        calls: the per-read table.
        scores: every scored frame (frame ID, score1, score2 text).
        contigs: the per-contig table (sequences longer than one chunk).
        sample: sample name shown in the report.
        created: when the report was written (ISO 8601, UTC).
        settings: every setting that changes the results (threshold, chunk length, region rules, ...).
        run: how the run was made, as the caller recorded it (input files, pipeline, devices asked for).
        records: the classify stage's records (classifier checksum, embedding metadata), one per shard.
    """
    status = Counter(c.status for c in calls)
    call = Counter(c.call for c in calls if c.status == "called")
    return {
        "sample": sample,
        "created": created,
        "settings": settings,
        "run": run,
        "models": models_of(records),
        "counts": {
            "reads": len(calls),
            "chunks": sum(c.chunks for c in calls),
            "chunks_with_frames": sum(c.chunks_with_frames for c in calls),
            "frames": len(scores),
            "status": {s: status.get(s, 0) for s in STATUSES},
            "call": {c: call.get(c, 0) for c in CALLS},
        },
        "contigs": contig_counts(contigs),
        "histograms": {
            "read_best_virus_score": histogram([float(c.best_virus_score) for c in calls if c.status == "called"]),
            "frame_virus_score": histogram([float(row[2]) for row in scores]),
        },
        "versions": versions(records),
        "provenance": records,
    }
