"""FLOP counts against hand-computed values, and the peak lookup behind the utilisation column."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))  # the repository root, for `benchmarks`

from virnucpro.models.dnabert_s import DnabertSConfig
from virnucpro.models.esm2 import ESM2Config

from benchmarks import flops
from benchmarks.random_models import ESM2_SHAPES, dnabert_shape


def test_esm2_flops_by_hand():
    # E=4, F=16, one sequence of 3 tokens: per layer 3*(8*16 + 4*4*16) + 4*3*3*4 = 1152 + 144 = 1296.
    config = ESM2Config(num_layers=2, embed_dim=4, attention_heads=2, token_dropout=True)
    assert flops.esm2_flops(config, [3]) == 2 * 1296
    assert flops.esm2_flops(config, [3, 3]) == 4 * 1296  # sequences attend only to themselves


def test_esm2_3b_costs_about_5_7_gflop_per_token():
    # 24 * 2560^2 * 36 = 5.662e9 for the projections and feed-forward; attention adds 4*L*E*36 per token.
    per_token = flops.esm2_flops(ESM2_SHAPES["esm2_t36_3B"], [100]) / 100
    assert per_token == pytest.approx(24 * 2560**2 * 36 + 4 * 100 * 2560 * 36)
    assert 5.6e9 < per_token < 5.8e9


def test_dnabert_flops_by_hand():
    # H=2, I=3, one layer, one sequence of 2 tokens: 2*(8*4 + 6*2*3) + 4*2*2*2 = 136 + 32 = 168.
    config = DnabertSConfig(2, 1, 1, 3, 8, 2, 1e-12)
    assert flops.dnabert_flops(config, [2]) == 168
    # The real shape: 8*768^2 + 6*768*3072 per token and layer, 12 layers: 0.227 GFLOP plus attention.
    assert flops.dnabert_flops(dnabert_shape(), [1]) == pytest.approx(12 * (8 * 768**2 + 6 * 768 * 3072 + 4 * 768))


@pytest.mark.parametrize(
    ("name", "override", "expected"),
    [
        ("NVIDIA H200", None, 990e12),
        ("NVIDIA H100 80GB HBM3", None, 990e12),
        ("NVIDIA H200", 500.0, 500e12),
        ("Some Future GPU", None, None),
        ("Some Future GPU", 123.0, 123e12),
    ],
)
def test_peak_flops_by_device_name(name, override, expected):
    assert flops.peak_flops(name, override) == expected


def test_utilisation():
    assert flops.utilisation(990e12, 2.0, 990e12) == pytest.approx(0.5)
    assert flops.utilisation(1e12, 1.0, None) is None
