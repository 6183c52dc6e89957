"""The FASTQ-vs-FASTA benchmark's quick mode runs, finds identical translate outputs, and records its figures."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BENCHMARK = Path(__file__).resolve().parents[3] / "benchmarks" / "bench_reads.py"


def test_quick_benchmark_compares_fastq_with_fasta(tmp_path):
    out = tmp_path / "reads.json"
    command = [sys.executable, str(BENCHMARK), "--quick", "--json", str(out), "--workdir", str(tmp_path)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    results = json.loads(out.read_text())
    assert results["quick"] is True
    assert [(row["input"], row["gzip"]) for row in results["parsing"]] == [
        (name, gzipped)
        for gzipped in (False, True)
        for name in ("fasta (package)", "fastq (package: dnaio)", "fastq (hand-written)")
    ]
    assert all(row["reads"] == 2_000 and row["reads_per_cpu_s"] > 0 for row in results["parsing"])
    assert [row["gzip"] for row in results["translate"]] == [False, True]
    assert all(row["identical_output"] for row in results["translate"])
    assert [row["reads"] for row in results["memory"]] == [1_000, 5_000]
    assert all(row["peak_rss_mb"] > 0 for row in results["memory"])


def test_the_hand_written_baseline_reads_what_the_package_reads(tmp_path):
    sys.path.insert(0, str(BENCHMARK.parents[1]))
    try:
        from benchmarks.bench_reads import handwritten_fastq, write_inputs
    finally:
        sys.path.remove(str(BENCHMARK.parents[1]))
    from virnucpro.io.reads import read_reads_bytes

    paths = write_inputs(tmp_path, 300, 150)
    for name in ("fastq", "fastq.gz"):
        assert list(handwritten_fastq(paths[name])) == list(read_reads_bytes(paths[name]))
    assert [r[:2] for r in read_reads_bytes(paths["fasta"])] == [r[:2] for r in read_reads_bytes(paths["fastq.gz"])]
