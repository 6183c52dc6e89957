"""The two files the original VirNucPro wrote, reproduced byte for byte from per-frame scores.

`prediction_results.txt`: header `Sequence_ID\\tPrediction\\tscore1\\tscore2`, one row per frame in scoring
order; Prediction is `virus` only when score2 is strictly larger (torch.max picks the first of equal values).

`prediction_results_highestscore.csv` (tab-separated despite its name), as pandas made it: group the frames by
their ID minus the 2-character frame suffix (a chunk ID), take the maximum of each score column separately,
sort the chunk IDs as Python strings, and print `True` when max(score2) >= max(score1) (a tie is a virus).
"""

from __future__ import annotations

from collections.abc import Iterable

from virnucpro.io.frame_ids import chunk_of
from virnucpro.io.scores import ScoreRow

PREDICTIONS_NAME = "prediction_results.txt"
HIGHEST_NAME = "prediction_results_highestscore.csv"
PREDICTIONS_HEADER = "Sequence_ID\tPrediction\tscore1\tscore2"
HIGHEST_HEADER = "Modified_ID\tIs_Virus"


def frame_label(score1: str, score2: str) -> str:
    """`virus` if P(virus) is strictly the larger probability, else `others` (first maximum wins a tie)."""
    return "virus" if float(score2) > float(score1) else "others"


def predictions_text(rows: Iterable[ScoreRow]) -> str:
    """The whole `prediction_results.txt`."""
    lines = [PREDICTIONS_HEADER]
    lines += [f"{frame_id}\t{frame_label(s1, s2)}\t{s1}\t{s2}" for frame_id, s1, s2 in rows]
    return "\n".join(lines) + "\n"


def highest_score_text(rows: Iterable[ScoreRow]) -> str:
    """The whole `prediction_results_highestscore.csv`."""
    best: dict[str, list[float]] = {}
    for frame_id, s1, s2 in rows:
        chunk_id = chunk_of(frame_id)
        if chunk_id in best:
            best[chunk_id][0] = max(best[chunk_id][0], float(s1))
            best[chunk_id][1] = max(best[chunk_id][1], float(s2))
        else:
            best[chunk_id] = [float(s1), float(s2)]
    lines = [HIGHEST_HEADER]
    lines += [f"{_csv_field(chunk_id)}\t{best[chunk_id][1] >= best[chunk_id][0]}" for chunk_id in sorted(best)]
    return "\n".join(lines) + "\n"


def _csv_field(value: str) -> str:
    """pandas' minimal quoting: a field holding a double quote is quoted, its quotes doubled."""
    return '"' + value.replace('"', '""') + '"' if '"' in value else value
