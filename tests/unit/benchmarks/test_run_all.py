"""The harness: runs the chosen benchmarks as child processes and summarises what ran."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))  # the repository root, for `benchmarks`

from benchmarks import run_all


def test_quick_translate_through_the_harness(tmp_path):
    rows = run_all.main(["--quick", "--out", str(tmp_path), "--only", "translate"])
    assert [(r["benchmark"], r["exit_code"]) for r in rows] == [("translate", 0)]
    results = json.loads((tmp_path / "translate.json").read_text())
    assert results["quick"] is True and all(row["identical_output"] for row in results["speed"])
    summary = (tmp_path / "summary.md").read_text()
    assert "| translate | 0 |" in summary and "bench_translate.py --quick" in summary


def test_unknown_benchmark_is_named(tmp_path):
    with pytest.raises(SystemExit, match="unknown benchmark"):
        run_all.main(["--out", str(tmp_path), "--only", "translate,nonsense"])
