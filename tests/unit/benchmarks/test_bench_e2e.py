"""End-to-end benchmark: the reduced run reports every read, and scaling ratios are computed as stated."""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))  # the repository root, for `benchmarks`

from benchmarks import bench_e2e


def test_scaling_ratios_by_hand():
    rows = [
        {"reads": 1000, "cpu_ms_per_read": 40.0, "peak_rss_mb": 800.0},
        {"reads": 10000, "cpu_ms_per_read": 44.0, "peak_rss_mb": 840.0},
    ]
    assert bench_e2e.scaling(rows) == {"size_ratio": 10.0, "cpu_per_read_ratio": 1.1, "peak_rss_ratio": 1.05}
    assert bench_e2e.scaling(rows[:1]) == {}


def test_quick_run_predicts_every_read(tmp_path):
    out = tmp_path / "e2e.json"
    bench_e2e.main(["--quick", "--json", str(out), "--workdir", str(tmp_path)])
    row = json.loads(out.read_text())["rows"][0]
    assert row["driver"] == "virnucpro predict" and row["reads"] == 100
    # bench_translate's coding reads keep at least their coding frame: at least one frame per read.
    assert row["frames"] >= 100
    assert row["wall_s"] > 0 and row["peak_rss_mb"] > 0
    assert row["reads_per_s"] == round(100 / row["wall_s"], 1)
