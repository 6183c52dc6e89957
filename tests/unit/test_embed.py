"""The embed stage on the tiny test models: output file, order, provenance, options, errors."""

from __future__ import annotations

import json
import random

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from virnucpro import __version__
from virnucpro.cli import cli
from virnucpro.config import EnvConfig
from virnucpro.embed import embed_file, records_digest
from virnucpro.errors import InputError
from virnucpro.io.embeddings import read_embeddings
from virnucpro.io.fasta import read_fasta
from virnucpro.models.loading import load_embedding_model

AMINO = "ACDEFGHIKLMNPQRSTVWY"


# one thread keeps tiny forwards fast on small shared machines (see tests/unit/conftest.py)
pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def frames(tmp_path_factory):
    """Frame files as translate writes them: 80 proteins (10-166 aa) and 80 nucleotide frames."""
    rng = random.Random(11)
    directory = tmp_path_factory.mktemp("frames")
    with open(directory / "protein.faa", "w") as protein, open(directory / "nucleotide.fa", "w") as nucleotide:
        for i in range(80):
            length = rng.randint(10, 166)
            frame = f"read{i}_chunk_1{rng.choice(['F1', 'F2', 'R3'])}"
            protein.write(f">{frame}\n{''.join(rng.choice(AMINO) for _ in range(length))}\n")
            nucleotide.write(f">{frame}\n{''.join(rng.choice('ACGT') for _ in range(3 * length + 1))}\n")
    return directory


KINDS = [("esm2", "protein.faa", "protein"), ("dnabert-s", "nucleotide.fa", "nucleotide")]


def model_path(models, kind):
    return str(models.esm2 if kind == "esm2" else models.dnabert_s)


@pytest.mark.parametrize(("kind", "name", "alphabet"), KINDS)
def test_output_rows_follow_input_and_match_one_at_a_time(tiny_models, frames, tmp_path, kind, name, alphabet):
    output = tmp_path / "out.safetensors"
    metrics = embed_file(frames / name, output, model_kind=kind, model=model_path(tiny_models, kind), device="cpu")
    table = read_embeddings(output)
    records = list(read_fasta(frames / name, kind=alphabet))
    assert table.ids == [r.id for r in records]
    assert table.vectors.dtype == np.float32
    model = load_embedding_model(kind, model_path(tiny_models, kind), torch.device("cpu"), env=EnvConfig())
    reference = []
    for record in records:
        tokens = torch.tensor(model.tokenize(record.sequence), dtype=torch.int64)
        with torch.inference_mode():
            reference.append(model.embed_packed(tokens, torch.tensor([0, len(tokens)], dtype=torch.int32), len(tokens)))
    reference = torch.cat(reference).numpy()
    # Packed batches vs one sequence at a time differ only by float32 rounding: measured max abs difference
    # 6.0e-7 (esm2) and 0 (dnabert-s) on values up to ~3; 1e-5 leaves margin without hiding a bug
    # (a wrong mask or pooling changes values by 1e-2 or more).
    np.testing.assert_allclose(table.vectors, reference, rtol=0, atol=1e-5)
    assert table.metadata["model_kind"] == kind
    assert table.metadata["model_fingerprint"] == model.fingerprint
    assert table.metadata["precision"] == "float32"
    assert table.metadata["backend"] == model.backend
    assert table.metadata["virnucpro_version"] == __version__
    assert table.metadata["input_sha256"] == records_digest(records)
    assert (metrics.sequences, metrics.computed, metrics.resumed) == (80, 80, 0)
    assert metrics.token_budget == 512 and 0 < metrics.fill_ratio <= 1


def test_checkpoints_are_removed_after_a_successful_run(tiny_models, frames, tmp_path):
    checkpoints = tmp_path / "ck"
    embed_file(
        frames / "protein.faa",
        tmp_path / "out.safetensors",
        model_kind="esm2",
        model=str(tiny_models.esm2),
        device="cpu",
        checkpoint_dir=checkpoints,
        checkpoint_every=10,
    )
    assert list(checkpoints.iterdir()) == []


def test_cli_writes_output_and_metrics_with_the_budget_given(tiny_models, frames, tmp_path):
    output, metrics = tmp_path / "e.safetensors", tmp_path / "m.json"
    args = ["embed", "--model-kind", "esm2", "--model", str(tiny_models.esm2), "--input", str(frames / "protein.faa")]
    args += ["--output", str(output), "--device", "cpu", "--token-budget", "600", "--metrics", str(metrics)]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    data = json.loads(metrics.read_text())
    assert data["token_budget"] == 600 and data["sequences"] == 80
    assert data["budget_tokens"] == 600 * data["batches"]
    assert data["fill_ratio"] == pytest.approx(data["tokens"] / data["budget_tokens"], abs=1e-6)
    assert len(read_embeddings(output).ids) == 80


def test_empty_frame_file_gives_an_empty_table(tiny_models, tmp_path):
    (tmp_path / "empty.faa").write_text("")
    embed_file(
        tmp_path / "empty.faa", tmp_path / "o.safetensors", model_kind="esm2", model=str(tiny_models.esm2), device="cpu"
    )
    table = read_embeddings(tmp_path / "o.safetensors")
    assert table.ids == [] and table.vectors.shape == (0, 64)


def test_default_cpu_budget_grows_to_the_longest_sequence(tiny_models, tmp_path):
    (tmp_path / "long.faa").write_text(">short\nMKV\n>long\n" + "A" * 700 + "\n")
    output = tmp_path / "o.safetensors"
    metrics = embed_file(tmp_path / "long.faa", output, model_kind="esm2", model=str(tiny_models.esm2), device="cpu")
    assert metrics.token_budget == 702 and read_embeddings(output).ids == ["short", "long"]


def test_input_is_checked_before_the_model_is_loaded(frames, tmp_path):
    # a protein file given to DNABERT-S fails on the FASTA, although the model path does not even exist
    with pytest.raises(InputError, match=r"protein\.faa"):
        embed_file(frames / "protein.faa", tmp_path / "o", model_kind="dnabert-s", model=str(tmp_path / "missing"))


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"model_kind": "esm3"}, "--model-kind 'esm3': choose one of esm2, dnabert-s"),
        ({"device": "tpu"}, "--device 'tpu': expected auto, cpu, cuda or cuda:N"),
        ({"token_budget": 0}, "token-budget must be at least 1, got 0"),
        ({"checkpoint_every": 0}, "checkpoint-every must be at least 1"),
        ({"checkpoint_interval": 0}, "checkpoint-interval must be positive"),
        ({"token_budget": 40}, r"sequence read\d+_chunk_1.. has \d+ tokens, more than the token budget 40"),
    ],
)
def test_bad_options_are_input_errors(tiny_models, frames, tmp_path, options, message):
    kwargs = {"model_kind": "esm2", "model": str(tiny_models.esm2), "device": "cpu", **options}
    with pytest.raises(InputError, match=message):
        embed_file(frames / "protein.faa", tmp_path / "o", **kwargs)
    assert not (tmp_path / "o").exists()
