"""The packed vs padded benchmark: its batches follow each layout's rule, and a reduced run reports
equal vectors for both layouts (CI form: tiny shapes, no timing assertions)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))  # the repository root, for `benchmarks`

from benchmarks import bench_models

CPU = torch.device("cpu")
LENGTHS = [5, 9, 3, 9, 2, 7, 4, 8]
TOKENS = [[1] * n for n in LENGTHS]


def test_packed_batches_hold_each_frame_once_within_budget():
    batches = bench_models.packed_batches(TOKENS, 12, CPU)
    positions = sorted(p for b in batches for p in b.positions)
    assert positions == list(range(len(LENGTHS)))
    assert all(b.real_tokens <= 12 and b.slots == b.real_tokens for b in batches)
    # 47 tokens in bins of 12: first-fit-decreasing needs 4 bins (9+3, 9+2, 8+4, 7+5); 3 cannot hold 47.
    assert len(batches) == 4


def test_fill_excluding_the_emptiest_batch():
    batches = bench_models.packed_batches(TOKENS, 12, CPU)  # 12, 11, 12, 12 real tokens
    assert bench_models._fill_excluding_emptiest(batches, 12) == 1.0
    assert bench_models._fill_excluding_emptiest(batches[:1], 12) is None


def test_padded_batches_keep_input_order_and_count_padding():
    batches = bench_models.padded_batches(TOKENS, 20, CPU)
    # Next-fit in input order with frames x longest <= 20: [5, 9] (18), [3, 9] (18), [2, 7] (14), [4, 8] (16).
    assert [b.positions for b in batches] == [[0, 1], [2, 3], [4, 5], [6, 7]]
    assert [b.slots for b in batches] == [18, 18, 14, 16]
    assert [b.real_tokens for b in batches] == [14, 12, 9, 12]


def test_reduced_run_reports_both_layouts(tmp_path):
    out = tmp_path / "models.json"
    bench_models.main(["--quick", "--token-budget", "1024", "--mixes", "vnp500,longtail", "--json", str(out)])
    results = json.loads(out.read_text())
    assert results["command"].startswith("python ")
    assert [(r["model"], r["mix"]) for r in results["rows"]] == [
        ("ESM-2 tiny", "vnp500"),
        ("ESM-2 tiny", "longtail"),
        ("DNABERT-S 2 layers", "vnp500"),
        ("DNABERT-S 2 layers", "longtail"),
    ]
    for row in results["rows"]:
        assert row["frames"] == 24 and row["padded_backend"] == "padded"
        assert row["packed_backend"] == "block-diagonal"
        assert 0 < row["packed_fill_vs_budget"] <= 1 and row["packed_useful_fraction"] == 1
        assert 0 < row["padded_useful_fraction"] < 1
        # Same weights, same frames, float32: the layouts must give the same vectors (measured 1.0 to 6 digits).
        assert row["min_cosine_packed_vs_padded"] >= 0.9999
