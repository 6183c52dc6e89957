"""The classify stage's two outputs, read by `report`: `scores.tsv` and its provenance record `classify.json`.

`scores.tsv`: header `Sequence_ID\\tscore1\\tscore2`, one row per frame, score1 = P(others), score2 =
P(virus), each written as `str(numpy.float32(x))` exactly as the original tool printed its scores. Readers
keep the text as written, so the report reproduces the original files byte for byte.

`classify.json`: the classifier (path, sha256) and the metadata of both embedding files, recorded by the
report as it is.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from virnucpro.errors import InputError
from virnucpro.io.outputs import check_complete

SCORES_NAME = "scores.tsv"
SCORES_HEADER = "Sequence_ID\tscore1\tscore2"
CLASSIFY_INFO_NAME = "classify.json"
CLASSIFY_LABEL = "classify"  # the output set of both files (`virnucpro.io.outputs`)

ScoreRow = tuple[str, str, str]  # frame ID, score1 text, score2 text (float32 reprs as written)


def write_scores(path: Path, ids: Sequence[str], probabilities: np.ndarray) -> None:
    """Write `scores.tsv`: frame `ids[i]` with the two class probabilities of row i of `probabilities`."""
    rows = probabilities.astype(np.float32)
    lines = [SCORES_HEADER]
    lines += [f"{frame}\t{row[0]!s}\t{row[1]!s}" for frame, row in zip(ids, rows, strict=True)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def read_scores(path: str | Path) -> list[ScoreRow]:
    """Rows (frame ID, score1 text, score2 text) of a `scores.tsv`, with the scores checked to be numbers.

    Raises:
        InputError: missing file, wrong header, wrong column count or a non-numeric score (line named), or a
            file that the classify run writing it did not finish (`io.outputs.check_complete`).
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: scores file not found")
    check_complete(path)
    lines = path.read_text(encoding="utf-8").splitlines()
    if not lines or lines[0] != SCORES_HEADER:
        found = lines[0] if lines else "an empty file"
        raise InputError(f"{path}: line 1: expected header {SCORES_HEADER!r}, found {found!r}")
    rows = []
    for number, line in enumerate(lines[1:], start=2):
        fields = line.split("\t")
        if len(fields) != 3:
            raise InputError(f"{path}: line {number}: expected 3 tab-separated fields, found {len(fields)}")
        for value in fields[1:]:
            try:
                float(value)
            except ValueError as error:
                raise InputError(f"{path}: line {number}: score {value!r} is not a number") from error
        rows.append((fields[0], fields[1], fields[2]))
    return rows


def write_classify_info(path: Path, info: dict) -> None:
    """Write `classify.json` (sorted keys, so the same run gives the same bytes)."""
    path.write_text(json.dumps(info, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def read_classify_info(path: str | Path) -> dict:
    """A `classify.json` record as written.

    Raises:
        InputError: a missing or unreadable file, one that is not JSON, or one that the classify run writing
            it did not finish.
    """
    try:
        check_complete(path)
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise InputError(f"{path}: not a readable classify record ({error})") from error
