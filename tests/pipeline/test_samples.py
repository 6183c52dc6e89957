"""Several samples and several shards per sample; bad params stop the run before any work."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.pipeline.helpers import NextflowRun, run_pipeline, split_demo_reads, statuses

pytestmark = pytest.mark.pipeline


@pytest.mark.slow
def test_two_samples_with_several_shards_each(nextflow_bin: str, nxf_home: Path, tmp_path: Path) -> None:
    expected = split_demo_reads(tmp_path)
    (tmp_path / "samples.csv").write_text("sample,fasta\nalpha,alpha.fa\nbeta,beta.fa\n")
    models = tmp_path / "models"
    subprocess.run([sys.executable, "-m", "virnucpro", "make-test-models", str(models)], check=True)
    (tmp_path / "small.config").write_text("process.resourceLimits = [cpus: 2, memory: 6.GB]\n")
    run = run_pipeline(
        nextflow_bin,
        nxf_home,
        tmp_path,
        *("--input", "samples.csv", "--chunk_length", "300", "--shard_size", "10", "--token_budget", "512"),
        *("--dnabert_model", str(models / "dnabert-s"), "--esm_model", str(models / "esm2_t2_test.pt")),
        *("--classifier", str(models / "classifier.pth"), "-c", "small.config"),
    )
    assert run.returncode == 0, run.output
    # ceil(25 / 10) = 3 shards for alpha, ceil(15 / 10) = 2 for beta
    counts = {process: len(tasks) for process, tasks in statuses(run).items()}
    assert counts == {
        "CHECK_INPUT": 1,
        "SHARD": 2,
        "TRANSLATE": 5,
        "EMBED_DNABERT": 5,
        "EMBED_ESM": 5,
        "CLASSIFY": 5,
        "REPORT": 2,
    }
    for sample, read_ids in expected.items():
        rows = (run.outdir / sample / "reads.tsv").read_text().splitlines()[1:]
        assert [row.split("\t")[0] for row in rows] == read_ids, sample


def failed_check(run: NextflowRun) -> str:
    """The run failed in CHECK_INPUT and nothing else started; returns the console output."""
    assert run.returncode != 0, run.output
    started = [line for line in run.output.splitlines() if "Submitted process" in line]
    assert all("CHECK_INPUT" in line or "MAKE_TEST_MODELS" in line for line in started), started
    return run.output


def test_bad_params_stop_the_run_before_any_work(nextflow_bin: str, nxf_home: Path, tmp_path: Path) -> None:
    """Every problem is listed at once (the whole table of messages is in tests/unit/test_params_check.py)."""
    (tmp_path / "model.pth").write_bytes(b"")
    args = ("--input", "missing.fa", "--classifier", "model.pth", "--chunk_length", "2", "--ambiguous", "n")
    output = failed_check(run_pipeline(nextflow_bin, nxf_home, tmp_path, *args))
    assert "invalid pipeline params:" in output
    assert "--chunk_length = 2: expected a value >= 3" in output
    assert f"--input = 'missing.fa': no such file (looked at {tmp_path / 'missing.fa'})" in output
    assert "--ambiguous = 'n': expected one of 'drop', 'x'" in output


def test_missing_fastas_of_a_samplesheet_are_all_named(nextflow_bin: str, nxf_home: Path, tmp_path: Path) -> None:
    """The rows are valid, but two FASTA files do not exist: the run stops after the check, naming both."""
    (tmp_path / "a.fa").write_text(">a1\nACGTACGTACGT\n")
    (tmp_path / "samples.csv").write_text("sample,fasta\nalpha,a.fa\nbeta,gone/b.fa\ngamma,/nowhere/c.fa.gz\n")
    run = run_pipeline(nextflow_bin, nxf_home, tmp_path, "-stub", "-profile", "test", "--input", "samples.csv")
    output = failed_check(run)
    assert "--input samples.csv:" in output
    assert f"sample beta: fasta = 'gone/b.fa': no such file (looked at {tmp_path / 'gone' / 'b.fa'})" in output
    assert "sample gamma: fasta = '/nowhere/c.fa.gz': no such file (looked at /nowhere/c.fa.gz)" in output
