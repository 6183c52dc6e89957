"""The translate benchmark's quick mode runs, checks fast against naive output, and records its figures."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BENCHMARK = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_translate.py"


def test_quick_benchmark_writes_figures_and_finds_identical_output(tmp_path):
    out = tmp_path / "bench.json"
    done = subprocess.run(
        [sys.executable, str(BENCHMARK), "--quick", "--json", str(out), "--workdir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    results = json.loads(out.read_text())
    assert results["quick"] is True
    assert [row["read_length"] for row in results["speed"]] == [300, 500]
    for row in results["speed"]:
        assert row["identical_output"] is True
        assert row["frames_kept"] > 0  # coding reads keep frames, so the frame-writing path is timed
        assert row["fast_reads_per_cpu_s"] > 0 and row["naive_reads_per_cpu_s"] > 0
    assert [row["reads"] for row in results["memory"]] == [1_000, 5_000]
    assert all(row["peak_rss_mb"] > 0 for row in results["memory"])
    assert "read bp" in done.stdout and "peak RSS MB" in done.stdout


def test_naive_baseline_is_the_published_procedure(tmp_path):
    # The baseline must itself be right, or "identical output" proves nothing: check it on hand-worked reads.
    sys.path.insert(0, str(BENCHMARK.parent))
    try:
        import bench_translate
    finally:
        sys.path.remove(str(BENCHMARK.parent))
    reads = tmp_path / "r.fa"
    reads.write_text(">a\nATGGCCA\n>b\nAC\n")
    bench_translate.naive_translate_file(reads, tmp_path / "out", 6)
    # a (7 bp, C=6): chunk 1 = ATGGCC (six frames, see tests/unit/test_translate.py), chunk 2 = GCCA.
    assert (tmp_path / "out" / "protein.faa").read_text().split() == [
        ">a_chunk_1F1", "MA", ">a_chunk_1F2", "W", ">a_chunk_1F3", "G",
        ">a_chunk_1R1", "GH", ">a_chunk_1R2", "A", ">a_chunk_1R3", "P",
        ">a_chunk_2F1", "A", ">a_chunk_2F2", "P", ">a_chunk_2R1", "W", ">a_chunk_2R2", "G",
    ]  # fmt: skip
