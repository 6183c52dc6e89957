"""`virnucpro train` on synthetic embeddings: held-out accuracy well above chance, a clean record split,
and a pickle-free classifier whose stored metrics match a recomputation."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner
from synthetic import synthetic_frames
from virnucpro.cli import cli
from virnucpro.errors import InputError
from virnucpro.io.embeddings import EmbeddingTable, write_embeddings
from virnucpro.models.classifier import load_classifier, predict_proba

# Measured over data seeds 0-4 with these settings: held-out accuracy 0.86-0.94, AUROC 0.96-0.99. The best
# possible per-frame accuracy is about 0.93 (class means 2 * 0.6 * sqrt(8) = 3.39 apart, per-dimension sd
# sqrt(1 + 0.36) = 1.17, so Phi(1.70 / 1.17) = 0.927); chance is 0.5. The bound 0.75 leaves room for
# machine differences and still fails any model that did not learn the shift.
MIN_ACCURACY = 0.75
TRAIN_ARGS = ["--epochs", "60", "--batch-size", "32", "--learning-rate", "0.01", "--hidden-dim", "64"]
TRAIN_ARGS += ["--test-fraction", "0.25", "--validation-fraction", "0.2", "--chunk-length", "300"]


def _write_inputs(tmp_path, seed):
    ids, dnabert, esm, labels = synthetic_frames(records_per_class=60, seed=seed)
    half = len(ids) // 2  # two pairs of files, the ESM-2 ones in reverse order: rows are joined by ID
    write_embeddings(
        tmp_path / "d1.safetensors", EmbeddingTable(ids[:half], dnabert[:half], {"model_kind": "dnabert-s"})
    )
    write_embeddings(
        tmp_path / "e1.safetensors", EmbeddingTable(ids[:half][::-1], esm[:half][::-1], {"model_kind": "esm2"})
    )
    write_embeddings(
        tmp_path / "d2.safetensors", EmbeddingTable(ids[half:], dnabert[half:], {"model_kind": "dnabert-s"})
    )
    write_embeddings(tmp_path / "e2.safetensors", EmbeddingTable(ids[half:], esm[half:], {"model_kind": "esm2"}))
    rows = ["record_id\tlabel"] + [f"{r}\t{'virus' if v else 'others'}" for r, v in labels.items()]
    (tmp_path / "labels.tsv").write_text("\n".join(rows) + "\n")
    return ids, np.concatenate([dnabert, esm], axis=1), labels


def _train(tmp_path, *extra):
    args = ["train", "--outdir", str(tmp_path / "out"), "--labels", str(tmp_path / "labels.tsv")]
    args += ["--embeddings", str(tmp_path / "d1.safetensors"), str(tmp_path / "e1.safetensors")]
    args += ["--embeddings", str(tmp_path / "d2.safetensors"), str(tmp_path / "e2.safetensors")]
    return CliRunner().invoke(cli, [*args, *TRAIN_ARGS, *extra])


def test_training_on_synthetic_embeddings(tmp_path):
    ids, features, labels = _write_inputs(tmp_path, seed=0)
    result = _train(tmp_path, "--seed", "7")
    assert result.exit_code == 0, result.output
    out = tmp_path / "out"
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["test"]["accuracy"] >= MIN_ACCURACY
    assert metrics["test"]["auroc"] >= MIN_ACCURACY

    split = {line.split("\t")[0]: line.split("\t") for line in (out / "split.tsv").read_text().splitlines()[1:]}
    assert set(split) == set(labels)  # each record exactly once, so in exactly one set
    frame_sets = {}
    for frame_id in ids:
        record = frame_id.split("_chunk_")[0]
        frame_sets.setdefault(record, set()).add(split[record][2])
    assert all(len(sets) == 1 for sets in frame_sets.values())
    assert metrics["split"]["test"]["records"] == 30 and metrics["split"]["test"]["virus_records"] == 15

    # recompute the held-out accuracy from the saved model
    loaded = load_classifier(out / "classifier.safetensors")
    assert (loaded.info.dnabert_dim, loaded.info.esm_dim, loaded.info.chunk_length) == (12, 20, 300)
    test_rows = [i for i, f in enumerate(ids) if split[f.split("_chunk_")[0]][2] == "test"]
    truth = np.array([labels[ids[i].split("_chunk_")[0]] for i in test_rows])
    probabilities = predict_proba(loaded.model, features[test_rows])
    accuracy = float(((probabilities[:, 1] > probabilities[:, 0]).astype(int) == truth).mean())
    assert accuracy == pytest.approx(metrics["test"]["accuracy"])
    assert metrics["test"]["n"] == len(test_rows)
    assert 1 <= metrics["best_epoch"] <= metrics["epochs_run"]


def test_unlabelled_records_and_mixed_inputs_are_refused(tmp_path):
    _write_inputs(tmp_path, seed=1)
    (tmp_path / "labels.tsv").write_text("vir0\tvirus\nhost0\tothers\n")
    result = _train(tmp_path)
    assert isinstance(result.exception, InputError) and "have frames but no label" in str(result.exception)
    result = CliRunner().invoke(cli, ["train", "--outdir", str(tmp_path / "o"), "--viral", "x.fa"])
    assert isinstance(result.exception, InputError)
    assert "missing: --chunk-length, --dnabert, --esm" in str(result.exception)
