"""Several samples and several shards per sample, FASTQ and paired samples; bad params stop the run before any
work, and a reads file of another format stops it in the first task that reads it."""

from __future__ import annotations

import bz2
import gzip
import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.pipeline.helpers import (
    DEMO_READS,
    RESULT_FILES,
    TEST_PROFILE_TASKS,
    NextflowRun,
    checkpoint_pieces,
    comparable_summary,
    embed_command,
    fasta_ids,
    multiqc_tables,
    run_pipeline,
    split_demo_reads,
    start_pipeline,
    statuses,
    wait_for_stopped_tasks,
)

pytestmark = pytest.mark.pipeline


@pytest.mark.second_tier
@pytest.mark.timeout(3600)
def test_two_samples_with_several_shards_each(nextflow_bin: str, nxf_home: Path, tmp_path: Path) -> None:
    """Given models (not the test profile's): every shard of both samples is embedded, classified and
    reported. Ten embedding tasks take up to 2 min each at load average 20, so the run may take half an
    hour there; the limit only ends a hang."""
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
        timeout=3000,
    )
    assert run.returncode == 0, run.output
    # ceil(25 / 10) = 3 shards for alpha, ceil(20 / 10) = 2 for beta
    counts = {process: len(tasks) for process, tasks in statuses(run).items()}
    assert counts == {
        "CHECK_INPUT": 1,
        "SHARD": 2,
        "TRANSLATE": 5,
        "EMBED_DNABERT": 5,
        "EMBED_ESM": 5,
        "CLASSIFY": 5,
        "REPORT": 2,
        "MULTIQC": 1,
    }
    for sample, read_ids in expected.items():
        rows = (run.outdir / sample / "reads.tsv").read_text().splitlines()[1:]
        assert [row.split("\t")[0] for row in rows] == read_ids, sample


def demo_fastq(records: list[str]) -> bytes:
    """Demo FASTA records (text after '>') as FASTQ, a quality per base."""
    out = []
    for record in records:
        header, *lines = record.splitlines()
        sequence = "".join(lines)
        out.append(f"@{header}\n{sequence}\n+\n{'F' * len(sequence)}\n")
    return "".join(out).encode()


def test_fastq_and_paired_fastq_samples(nextflow_bin: str, nxf_home: Path, tmp_path: Path) -> None:
    """A gzipped FASTQ sample and a paired one (R1/R2), read by content, every read and mate accounted for."""
    records = DEMO_READS.read_text().split(">")[1:]
    (tmp_path / "single.data").write_bytes(gzip.compress(demo_fastq(records[:4])))  # FASTQ whatever its name
    names = [r.split()[0] for r in records[4:7]]  # the pairs' names; mate 2 takes demo reads 8-10's bases
    first = [r.replace(name, f"{name}/1", 1) for r, name in zip(records[4:7], names, strict=True)]
    second = [r.replace(r.split()[0], f"{name}/2", 1) for r, name in zip(records[7:10], names, strict=True)]
    (tmp_path / "p_R1.fq.gz").write_bytes(gzip.compress(demo_fastq(first)))
    (tmp_path / "p_R2.fq").write_bytes(demo_fastq(second))
    sheet = "sample,fasta,fastq_1,fastq_2\nsingle,single.data,,\npaired,,p_R1.fq.gz,p_R2.fq\n"
    (tmp_path / "samples.csv").write_text(sheet)
    run = run_pipeline(nextflow_bin, nxf_home, tmp_path, "-profile", "test", "--input", "samples.csv")
    assert run.returncode == 0, run.output
    single = (run.outdir / "single" / "reads.tsv").read_text().splitlines()[1:]
    assert [row.split("\t")[0] for row in single] == [r.split()[0] for r in records[:4]]
    paired = (run.outdir / "paired" / "reads.tsv").read_text().splitlines()[1:]
    assert [row.split("\t")[0] for row in paired] == [f"{n}/{mate}" for n in names for mate in (1, 2)]
    # each mate scored as the read it is: the same length as in the demo FASTA
    lengths = {r.split()[0]: len("".join(r.splitlines()[1:])) for r in records}
    expected = [lengths[r.split()[0]] for pair in zip(records[4:7], records[7:10], strict=True) for r in pair]
    assert [int(row.split("\t")[1]) for row in paired] == expected
    summary = json.loads((run.outdir / "paired" / "summary.json").read_text())
    assert summary["run"]["input"] == f"{tmp_path / 'p_R1.fq.gz'},{tmp_path / 'p_R2.fq'}"
    # one MultiQC report over both samples: each in every table, with the reads of its own summary
    tables = multiqc_tables(run.outdir)
    assert all(sorted(table) == ["paired", "single"] for table in tables.values()), tables
    for sample, reads in (("single", 4), ("paired", 6)):
        outcomes = tables["multiqc_virnucpro_reads_plot"][sample]
        assert sum(int(n) for n in outcomes.values()) == int(tables["multiqc_general_stats"][sample]["reads"]) == reads


def test_one_fasta_listed_twice_embeds_both_samples_at_once(nextflow_bin: str, nxf_home: Path, tmp_path: Path) -> None:
    """Two samples with the same reads: both ESM-2 tasks hold their checkpoint folders at the same moment.

    Each ESM-2 task stops itself once its first checkpoint piece is on disk (`VIRNUCPRO_PAUSE_AT`), holding
    its folder's lock; the test waits until both have stopped, so both ran at once, then lets them go on.
    The executor is given more CPUs than the test profile's tasks could ask for, so no task waits for a
    slot meanwhile. With folders keyed by content alone, the second task failed on the first one's lock.
    """
    shutil.copy(DEMO_READS, tmp_path / "reads.fa")
    (tmp_path / "samples.csv").write_text("sample,fasta\nfirst,reads.fa\nsecond,reads.fa\n")
    (tmp_path / "wide.config").write_text("executor {\n    cpus = 8\n    memory = 32.GB\n}\n")
    args = ("-profile", "test", "--input", "samples.csv", "-c", "wide.config")
    pause = {"VIRNUCPRO_PAUSE_AT": "checkpoint:esm2:piece-1"}
    pipeline = start_pipeline(nextflow_bin, nxf_home, tmp_path, *args, env=pause)
    try:
        stopped = wait_for_stopped_tasks(pipeline, tmp_path, embed_command("esm2"), count=2)
        # <root>/<sample>.0001.<content hash>/esm2/<run fingerprint>/piece-000001.safetensors: one folder each
        folders = sorted(piece.parents[2].name for piece in checkpoint_pieces(tmp_path, "esm2"))
        assert [name.rsplit(".", 2)[0] for name in folders] == ["first", "second"], folders
        for task in stopped:
            os.kill(task.pid, signal.SIGCONT)
        assert pipeline.wait(timeout=900) == 0, (tmp_path / "console.log").read_text()
    finally:
        if pipeline.poll() is None:
            os.killpg(pipeline.pid, signal.SIGKILL)
            pipeline.wait()
    run = NextflowRun(tmp_path, tmp_path / "results", 0, (tmp_path / "console.log").read_text())
    assert {process: set(found) for process, found in statuses(run).items()} == {
        process: {"COMPLETED"} for process in TEST_PROFILE_TASKS
    }
    read_ids = fasta_ids(DEMO_READS)
    first, second = run.outdir / "first", run.outdir / "second"
    assert [row.split("\t")[0] for row in (first / "reads.tsv").read_text().splitlines()[1:]] == read_ids
    for name in RESULT_FILES:
        assert (first / name).read_bytes() == (second / name).read_bytes(), name
    summaries = [comparable_summary(folder / "summary.json") for folder in (first, second)]
    assert [summary.pop("sample") for summary in summaries] == ["first", "second"]
    assert summaries[0] == summaries[1]


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
    assert f"sample beta: 'gone/b.fa': no such file (looked at {tmp_path / 'gone' / 'b.fa'})" in output
    assert "sample gamma: '/nowhere/c.fa.gz': no such file (looked at /nowhere/c.fa.gz)" in output


def test_a_reads_file_of_another_format_stops_the_run_in_shard(
    nextflow_bin: str, nxf_home: Path, tmp_path: Path
) -> None:
    """File contents are checked by SHARD, the first task that reads them (CHECK_INPUT sees no reads: they
    may be remote): a bzip2 file named .fa stops the run there, exit status 2, the message naming it."""
    (tmp_path / "reads.fa").write_bytes(bz2.compress(b">r1\nACGTACGTACGT\n"))
    models = tmp_path / "models"
    (models / "dnabert-s").mkdir(parents=True)
    (models / "dnabert-s" / "config.json").write_text("{}")
    for name in ("esm2_t2_test.pt", "classifier.pth"):
        (models / name).write_bytes(b"")  # never loaded: the run stops before any model is
    run = run_pipeline(
        nextflow_bin,
        nxf_home,
        tmp_path,
        *("--input", "reads.fa", "--dnabert_model", str(models / "dnabert-s")),
        *("--esm_model", str(models / "esm2_t2_test.pt"), "--classifier", str(models / "classifier.pth")),
    )
    assert run.returncode != 0, run.output
    assert statuses(run) == {"CHECK_INPUT": ["COMPLETED"], "SHARD": ["FAILED"]}
    assert "Command exit status:\n  2" in run.output
    assert "reads.fa: is bzip2-compressed; virnucpro reads FASTA or FASTQ" in run.output
