"""The classify stage: join by frame ID, score in eval mode, write float32 text like the original tool."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from virnucpro.classify import classify_files
from virnucpro.cli import cli
from virnucpro.errors import InputError
from virnucpro.io.embeddings import EmbeddingTable, write_embeddings
from virnucpro.io.scores import read_scores
from virnucpro.models.classifier import MLPClassifier
from virnucpro.models.tiny_checkpoints import save_as_original, write_test_classifier

IDS = ["r1_chunk_1F1", "r1_chunk_1R2", "r2_chunk_1F3", "r2_chunk_2F1", "r3_chunk_1R1"]
# the headers `virnucpro embed` writes say which model made the file; classify checks them
DNABERT, ESM = {"model_kind": "dnabert-s"}, {"model_kind": "esm2"}


@pytest.fixture
def inputs(tmp_path):
    rng = np.random.default_rng(3)
    dnabert = rng.normal(size=(5, 6)).astype(np.float32)
    esm = rng.normal(size=(5, 10)).astype(np.float32)
    write_embeddings(tmp_path / "d.safetensors", EmbeddingTable(IDS, dnabert, DNABERT))
    shuffled = [4, 2, 0, 3, 1]  # the ESM-2 file lists the same frames in another order
    write_embeddings(tmp_path / "e.safetensors", EmbeddingTable([IDS[i] for i in shuffled], esm[shuffled], ESM))
    write_test_classifier(tmp_path / "c.pth", input_dim=16, seed=5, hidden_dim=16)
    return tmp_path, np.concatenate([dnabert, esm], axis=1)


def test_scores_are_joined_by_id_and_written_as_float32_text(inputs):
    tmp_path, features = inputs
    out = classify_files(tmp_path / "d.safetensors", tmp_path / "e.safetensors", tmp_path / "c.pth", tmp_path / "o")
    from virnucpro.models.classifier import load_classifier

    model = load_classifier(tmp_path / "c.pth").model
    with torch.no_grad():
        probs = torch.softmax(model(torch.from_numpy(features)), dim=1).numpy()
    expected = ["Sequence_ID\tscore1\tscore2"] + [
        f"{i}\t{np.float32(p[0])!s}\t{np.float32(p[1])!s}" for i, p in zip(IDS, probs, strict=True)
    ]
    assert out.read_text().splitlines() == expected
    assert [row[0] for row in read_scores(out)] == IDS


def test_float_text_is_the_shortest_float32_repr(tmp_path):
    """Logits chosen by hand: (0, ln 3), saturated (0, 200), and an exact tie (0, 0)."""
    state = MLPClassifier(2, 2).state_dict()
    state["hidden_layer.weight"] = torch.eye(2)
    state["hidden_layer.bias"] = torch.zeros(2)
    state["bn1.weight"], state["bn1.bias"] = torch.ones(2), torch.zeros(2)
    state["bn1.running_mean"], state["bn1.running_var"] = torch.zeros(2), torch.ones(2) - 1e-5  # eps cancels
    state["output_layer.weight"] = torch.eye(2)
    state["output_layer.bias"] = torch.zeros(2)
    save_as_original(tmp_path / "c.pth", state)
    ids = ["a_chunk_1F1", "a_chunk_1F2", "a_chunk_1F3"]
    dnabert = np.array([[0.0], [0.0], [0.0]], dtype=np.float32)
    esm = np.array([[np.log(3.0)], [200.0], [0.0]], dtype=np.float32)
    write_embeddings(tmp_path / "d.safetensors", EmbeddingTable(ids, dnabert, DNABERT))
    write_embeddings(tmp_path / "e.safetensors", EmbeddingTable(ids, esm, ESM))
    out = classify_files(tmp_path / "d.safetensors", tmp_path / "e.safetensors", tmp_path / "c.pth", tmp_path)
    rows = read_scores(out)
    # softmax(0, ln 3) = (0.25, 0.75) up to float32 rounding; the text is the short float32 repr, not float64's
    assert abs(float(rows[0][2]) - 0.75) < 1e-6 and len(rows[0][2]) <= 10
    assert rows[0][2] == str(np.float32(rows[0][2])) and rows[0][2] != repr(float(np.float32(rows[0][2])))
    assert rows[1][2] == "1.0" and float(rows[1][1]) < 1e-30
    assert rows[2] == ("a_chunk_1F3", "0.5", "0.5")


def test_ids_on_one_side_only_are_listed(inputs):
    tmp_path, _ = inputs
    rng = np.random.default_rng(0)
    write_embeddings(
        tmp_path / "e2.safetensors",
        EmbeddingTable([*IDS[:3], "r9_chunk_1F1"], rng.normal(size=(4, 10)).astype(np.float32), ESM),
    )
    with pytest.raises(InputError) as error:
        classify_files(tmp_path / "d.safetensors", tmp_path / "e2.safetensors", tmp_path / "c.pth", tmp_path / "o")
    message = str(error.value)
    assert "2 frame(s) only in" in message and "r2_chunk_2F1, r3_chunk_1R1" in message
    assert "1 frame(s) only in" in message and "r9_chunk_1F1" in message


def test_duplicate_ids_and_wrong_width_are_refused(inputs):
    tmp_path, _ = inputs
    rng = np.random.default_rng(0)
    write_embeddings(tmp_path / "dup.safetensors", EmbeddingTable([*IDS, IDS[0]], rng.normal(size=(6, 6)), DNABERT))
    with pytest.raises(InputError, match="duplicate frame IDs: r1_chunk_1F1"):
        classify_files(tmp_path / "dup.safetensors", tmp_path / "e.safetensors", tmp_path / "c.pth", tmp_path / "o")
    write_embeddings(tmp_path / "wide.safetensors", EmbeddingTable(IDS, rng.normal(size=(5, 7)), DNABERT))
    with pytest.raises(InputError, match=r"expects 16 features, but the embeddings give 7 DNABERT-S \+ 10 ESM-2"):
        classify_files(tmp_path / "wide.safetensors", tmp_path / "e.safetensors", tmp_path / "c.pth", tmp_path / "o")


def test_cli_writes_scores_and_reports_errors_with_exit_code_2(inputs):
    tmp_path, _ = inputs
    runner = CliRunner()
    args = ["classify", "--dnabert", str(tmp_path / "d.safetensors"), "--esm", str(tmp_path / "e.safetensors")]
    result = runner.invoke(cli, [*args, "--classifier", str(tmp_path / "c.pth"), "--output", str(tmp_path / "o")])
    assert result.exit_code == 0, result.output
    assert len((tmp_path / "o" / "scores.tsv").read_text().splitlines()) == 1 + len(IDS)
    result = runner.invoke(cli, [*args, "--classifier", str(tmp_path / "nope.pth"), "--output", str(tmp_path / "o")])
    assert isinstance(result.exception, InputError) and result.exception.exit_code == 2


def test_a_shard_without_frames_gives_a_header_only_scores_file(tmp_path):
    write_embeddings(tmp_path / "d.safetensors", EmbeddingTable([], np.zeros((0, 6), np.float32), DNABERT))
    write_embeddings(tmp_path / "e.safetensors", EmbeddingTable([], np.zeros((0, 10), np.float32), ESM))
    write_test_classifier(tmp_path / "c.pth", input_dim=16, seed=0, hidden_dim=8)
    out = classify_files(tmp_path / "d.safetensors", tmp_path / "e.safetensors", tmp_path / "c.pth", tmp_path / "o")
    assert out.read_text() == "Sequence_ID\tscore1\tscore2\n"
