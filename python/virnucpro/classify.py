"""The classify stage: join DNABERT-S and ESM-2 embeddings by frame ID and score every frame with the MLP.

Output `scores.tsv`: header `Sequence_ID\\tscore1\\tscore2`, one row per frame in the DNABERT-S file's order,
score1 = P(others), score2 = P(virus), each written as `str(numpy.float32(x))` exactly as the original tool
printed its scores, so later stages can reproduce its files byte for byte.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from virnucpro import __version__
from virnucpro.errors import InputError
from virnucpro.io.embeddings import EmbeddingTable, read_embeddings
from virnucpro.logging_setup import get_logger

SCORES_HEADER = "Sequence_ID\tscore1\tscore2"
SCORES_NAME = "scores.tsv"
INFO_NAME = "classify.json"
_LIST_AT_MOST = 10

log = get_logger("classify")


@dataclass(frozen=True)
class FrameScores:
    """Frame IDs with their class probabilities; `text[i]` holds row i as written (float32 reprs)."""

    ids: list[str]
    probabilities: np.ndarray  # float32 (N, 2): P(others), P(virus)

    def text(self) -> list[tuple[str, str]]:
        """The two scores of every row as the original tool printed them."""
        return [(str(row[0]), str(row[1])) for row in self.probabilities.astype(np.float32)]


def _listing(ids: list[str]) -> str:
    shown = ", ".join(ids[:_LIST_AT_MOST])
    return shown + (f" ... ({len(ids)} in all)" if len(ids) > _LIST_AT_MOST else "")


def _check_unique(table: EmbeddingTable, path: Path) -> None:
    duplicated = sorted(frame_id for frame_id, n in Counter(table.ids).items() if n > 1)
    if duplicated:
        raise InputError(f"{path}: duplicate frame IDs: {_listing(duplicated)}")


def join_features(dnabert: EmbeddingTable, esm: EmbeddingTable, dnabert_path: Path, esm_path: Path) -> np.ndarray:
    """Feature rows [DNABERT-S | ESM-2] in the DNABERT-S table's order, joined by frame ID.

    Raises:
        InputError: duplicate IDs in either file, or IDs present on one side only (listed).
    """
    _check_unique(dnabert, dnabert_path)
    _check_unique(esm, esm_path)
    esm_row = {frame_id: row for row, frame_id in enumerate(esm.ids)}
    only_dnabert = [i for i in dnabert.ids if i not in esm_row]
    dnabert_ids = set(dnabert.ids)
    only_esm = [i for i in esm.ids if i not in dnabert_ids]
    if only_dnabert or only_esm:
        parts = []
        if only_dnabert:
            parts.append(f"{len(only_dnabert)} frame(s) only in {dnabert_path}: {_listing(only_dnabert)}")
        if only_esm:
            parts.append(f"{len(only_esm)} frame(s) only in {esm_path}: {_listing(only_esm)}")
        raise InputError("the embedding files do not cover the same frames: " + "; ".join(parts))
    order = np.array([esm_row[i] for i in dnabert.ids], dtype=np.int64)
    esm_vectors = esm.vectors[order] if len(order) else esm.vectors[:0]
    return np.concatenate([dnabert.vectors, esm_vectors], axis=1).astype(np.float32, copy=False)


def classify_tables(
    dnabert: EmbeddingTable, esm: EmbeddingTable, classifier_path: Path, *, dnabert_path: Path, esm_path: Path
) -> FrameScores:
    """Score the frames of two embedding tables with a classifier file (loaded safely, eval mode)."""
    from virnucpro.models.classifier import check_feature_dims, load_classifier, predict_proba

    loaded = load_classifier(classifier_path)
    check_feature_dims(loaded, dnabert.vectors.shape[1], esm.vectors.shape[1])
    features = join_features(dnabert, esm, dnabert_path, esm_path)
    return FrameScores(ids=list(dnabert.ids), probabilities=predict_proba(loaded.model, features))


def write_scores(path: Path, scores: FrameScores) -> None:
    """Write `scores.tsv` (see the module docstring)."""
    lines = [SCORES_HEADER]
    lines += [f"{i}\t{s1}\t{s2}" for i, (s1, s2) in zip(scores.ids, scores.text(), strict=True)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def read_scores(path: str | Path) -> list[tuple[str, str, str]]:
    """Rows (frame ID, score1 text, score2 text) of a `scores.tsv`, with the scores checked to be numbers.

    The text is kept as written, so files derived from it print the exact float32 reprs.

    Raises:
        InputError: missing file, wrong header, wrong column count or a non-numeric score (line named).
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: scores file not found")
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


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def classify_files(
    dnabert_path: str | Path, esm_path: str | Path, classifier_path: str | Path, outdir: str | Path
) -> Path:
    """The classify stage: read both embedding files, score, write `outdir/scores.tsv` and `classify.json`.

    `classify.json` records the classifier (path, sha256) and the embedding files' metadata, for the report.

    Returns:
        The path of `scores.tsv`.

    Raises:
        InputError: unreadable inputs, IDs that do not match, or a classifier of the wrong input width.
    """
    dnabert_path, esm_path, classifier_path = Path(dnabert_path), Path(esm_path), Path(classifier_path)
    outdir = Path(outdir)
    dnabert = read_embeddings(dnabert_path)
    esm = read_embeddings(esm_path)
    scores = classify_tables(dnabert, esm, classifier_path, dnabert_path=dnabert_path, esm_path=esm_path)
    outdir.mkdir(parents=True, exist_ok=True)
    write_scores(outdir / SCORES_NAME, scores)
    info = {
        "virnucpro_version": __version__,
        "classifier": {"path": str(classifier_path), "sha256": _sha256(classifier_path)},
        "dnabert": dnabert.metadata,
        "esm": esm.metadata,
        "frames": len(scores.ids),
    }
    (outdir / INFO_NAME).write_text(json.dumps(info, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    log.info("scored %d frames -> %s", len(scores.ids), outdir / SCORES_NAME)
    return outdir / SCORES_NAME
