"""The classify stage: join DNABERT-S and ESM-2 embeddings by frame ID and score every frame with the MLP.

Writes `scores.tsv` (one row per frame, in the DNABERT-S file's order) and `classify.json`; both formats
are described in `virnucpro.io.scores`.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from virnucpro import __version__
from virnucpro.errors import InputError
from virnucpro.io.embeddings import EmbeddingTable, read_embeddings
from virnucpro.io.outputs import OutputSet
from virnucpro.io.scores import CLASSIFY_INFO_NAME, CLASSIFY_LABEL, SCORES_NAME, write_classify_info, write_scores
from virnucpro.logging_setup import get_logger
from virnucpro.models.kinds import DNABERT_S, ESM2, MODEL_KINDS

_LIST_AT_MOST = 10

log = get_logger("classify")


@dataclass(frozen=True)
class FrameScores:
    """Frame IDs with their class probabilities, row i belonging to `ids[i]`."""

    ids: list[str]
    probabilities: np.ndarray  # float32 (N, 2): P(others), P(virus)


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
        InputError: a file of the other model (`check_model_kind`), duplicate IDs in either file, or IDs
            present on one side only (listed).
    """
    check_model_kind(dnabert, dnabert_path, DNABERT_S)
    check_model_kind(esm, esm_path, ESM2)
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


def check_model_kind(table: EmbeddingTable, path: Path, kind: str) -> None:
    """Refuse an embedding file that another model made (the two files swapped, or a wrong file).

    Both models' widths add up to the classifier's input either way round, so only the file's own header
    can tell a swap; a file without `model_kind` was not made by `virnucpro embed` and is refused too.

    Raises:
        InputError: naming the file, what it was given as, and what its header says.
    """
    found = table.metadata.get("model_kind")
    if found is None:
        raise InputError(
            f"{path}: the header does not say which model made these embeddings (no model_kind); give the "
            f"{kind} file that `virnucpro embed --model-kind {kind}` writes"
        )
    if found != kind:
        swapped = " (were the DNABERT-S and ESM-2 files swapped?)" if found in MODEL_KINDS else ""
        raise InputError(f"{path}: holds {found} embeddings, but was given as the {kind} embeddings{swapped}")


def classify_tables(
    dnabert: EmbeddingTable, esm: EmbeddingTable, classifier_path: Path, *, dnabert_path: Path, esm_path: Path
) -> FrameScores:
    """Score the frames of two embedding tables with a classifier file (loaded safely, eval mode).

    Raises:
        InputError: a file of the wrong model, IDs that do not match, or widths the classifier does not take.
    """
    from virnucpro.models.classifier import check_feature_dims, load_classifier, predict_proba

    features = join_features(dnabert, esm, dnabert_path, esm_path)  # checks the model kinds and the IDs first
    loaded = load_classifier(classifier_path)
    check_feature_dims(loaded, dnabert.vectors.shape[1], esm.vectors.shape[1])
    return FrameScores(ids=list(dnabert.ids), probabilities=predict_proba(loaded.model, features))


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
    The two files are one output set (`virnucpro.io.outputs`): they are put in place together or not at all.

    Returns:
        The path of `scores.tsv`.

    Raises:
        InputError: unreadable inputs, an embedding file of the other model (a swap), IDs that do not match
            (any order is fine), or a classifier of the wrong input width.
    """
    dnabert_path, esm_path, classifier_path = Path(dnabert_path), Path(esm_path), Path(classifier_path)
    outdir = Path(outdir)
    with OutputSet(outdir, CLASSIFY_LABEL, (SCORES_NAME, CLASSIFY_INFO_NAME)) as outputs:  # a bad outdir fails first
        dnabert = read_embeddings(dnabert_path)
        esm = read_embeddings(esm_path)
        scores = classify_tables(dnabert, esm, classifier_path, dnabert_path=dnabert_path, esm_path=esm_path)
        write_scores(outputs.temporary(SCORES_NAME), scores.ids, scores.probabilities)
        import torch

        info = {
            "virnucpro_version": __version__,
            "torch_version": torch.__version__,
            "classifier": {"path": str(classifier_path), "sha256": _sha256(classifier_path)},
            "dnabert": dnabert.metadata,
            "esm": esm.metadata,
            "frames": len(scores.ids),
        }
        write_classify_info(outputs.temporary(CLASSIFY_INFO_NAME), info)
        outputs.commit()
    log.info("scored %d frames -> %s", len(scores.ids), outdir / SCORES_NAME)
    return outdir / SCORES_NAME
