"""Threads benchmark: a reduced run times `virnucpro embed` at 1 thread and at every CPU, in alternation."""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))  # the repository root, for `benchmarks`

from virnucpro.threads import available_cpus

from benchmarks import bench_threads


def test_reduced_run_times_both_thread_counts_with_the_load_beside_each(tmp_path):
    out = tmp_path / "threads.json"
    bench_threads.main(["--frames", "4", "--repeats", "1", "--json", str(out)])
    results = json.loads(out.read_text())
    counts = sorted({1, available_cpus()})
    assert [row["threads"] for row in results["rows"]] == counts
    assert [run["threads"] for run in results["runs"]] == counts  # the first repeat: 1, then all
    for run in results["runs"]:
        assert run["wall_s"] > 0 and run["cpu_s"] > 0 and run["load_1m_before"] >= 0
    assert results["command"].startswith("python benchmarks/bench_threads.py")
