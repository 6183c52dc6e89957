"""`virnucpro make-test-models DIR`: the files, their determinism, the time it takes, bad usage."""

from __future__ import annotations

import resource
import subprocess
import sys
from pathlib import Path

import torch
from click.testing import CliRunner
from virnucpro.cli import cli
from virnucpro.config import EnvConfig
from virnucpro.models.loading import load_embedding_model

EXPECTED = [
    "classifier.pth",
    "dnabert-s/config.json",
    "dnabert-s/pytorch_model.bin",
    "dnabert-s/special_tokens_map.json",
    "dnabert-s/tokenizer.json",
    "dnabert-s/tokenizer_config.json",
    "esm2_t2_test-contact-regression.pt",
    "esm2_t2_test.pt",
]


def files(directory: Path) -> dict[str, bytes]:
    return {str(p.relative_to(directory)): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()}


def test_writes_the_models_in_a_fresh_process_within_five_seconds(tmp_path: Path) -> None:
    """The real entry point, timed by the CPU time it uses: wall time on a shared 2-core box is noise.

    Measured: about 2.1 s of CPU, of which about 1.8 s is importing torch.
    """
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = subprocess.run(
        [sys.executable, "-m", "virnucpro", "make-test-models", str(tmp_path / "models")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    assert result.returncode == 0, result.stderr
    assert sorted(files(tmp_path / "models")) == EXPECTED
    assert cpu < 5.0, f"make-test-models used {cpu:.1f} s of CPU"


def test_twice_gives_identical_bytes_and_seed_changes_them(tmp_path: Path) -> None:
    runner = CliRunner()
    for name, extra in (("a", []), ("b", []), ("c", ["--seed", "3"])):
        result = runner.invoke(cli, ["make-test-models", str(tmp_path / name), *extra])
        assert result.exit_code == 0, result.output
    assert files(tmp_path / "a") == files(tmp_path / "b")
    assert files(tmp_path / "a")["dnabert-s/pytorch_model.bin"] != files(tmp_path / "c")["dnabert-s/pytorch_model.bin"]


def test_output_loads_through_the_shared_model_loader(tmp_path: Path) -> None:
    assert CliRunner().invoke(cli, ["make-test-models", str(tmp_path)]).exit_code == 0
    env = EnvConfig()
    dnabert = load_embedding_model("dnabert-s", str(tmp_path / "dnabert-s"), torch.device("cpu"), env=env)
    esm2 = load_embedding_model("esm2", str(tmp_path / "esm2_t2_test.pt"), torch.device("cpu"), env=env)
    assert (dnabert.kind, dnabert.embedding_dim) == ("dnabert-s", 32)
    assert (esm2.kind, esm2.embedding_dim) == ("esm2", 64)


def test_a_file_in_place_of_the_directory_is_a_usage_error(tmp_path: Path) -> None:
    target = tmp_path / "models"
    target.write_text("not a directory")
    result = CliRunner().invoke(cli, ["make-test-models", str(target)])
    assert result.exit_code == 2
    assert "is a file" in result.output
