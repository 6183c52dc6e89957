"""Run metrics: the fill ratio and the JSON file."""

from __future__ import annotations

import json

from virnucpro.runner.metrics import RunMetrics, peak_rss_bytes


def test_fill_ratio_and_json(tmp_path):
    metrics = RunMetrics(sequences=10, computed=10, batches=3, tokens=2400, budget_tokens=3 * 1024)
    assert metrics.fill_ratio == 2400 / 3072
    metrics.write_json(tmp_path / "m.json")
    data = json.loads((tmp_path / "m.json").read_text())
    assert data["fill_ratio"] == round(2400 / 3072, 6)
    assert {"model_load_s", "compute_s", "wall_s", "peak_rss_bytes", "peak_device_bytes", "resumed"} <= set(data)


def test_nothing_computed_means_zero_fill_and_rss_is_measured():
    assert RunMetrics().fill_ratio == 0.0
    big = bytearray(64 * 1024 * 1024)
    assert peak_rss_bytes() > len(big)
