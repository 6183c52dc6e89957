"""Model FLOPs derived from the shape, so throughput can be stated as a fraction of the device's peak.

Counted: every matrix multiplication of the forward pass, 2 FLOPs per multiply-add, for real tokens only
(padding is waste, not work). Not counted: embeddings, layer norms, softmax, GELU, rotary (all O(width)
per token, under 1% here).

ESM-2, per layer and sequence of L tokens, width E, feed-forward F (= 4E):
    q, k, v, out projections  2 * L * 4 * E^2
    fc1 and fc2               2 * L * 2 * E * F
    q.k scores and weights.v  2 * 2 * L^2 * E
  so per token 24 E^2 + 4 L E per layer: 36 layers of E = 2560 give 5.66 GFLOP per token (+ 0.037
  GFLOP for L = 100), the "about 5.7 GFLOP per token" of ESM-2 3B.
DNABERT-S, per layer, width H, intermediate I: fused qkv 2*L*3H^2, output 2*L*H^2, gated GLU 2*L*H*2I,
  wo 2*L*I*H, attention 4*L^2*H: per token 8 H^2 + 6 H I + 4 L H (0.23 GFLOP for the real shape).
"""

from __future__ import annotations

from collections.abc import Iterable

from virnucpro.models.dnabert_s import DnabertSConfig
from virnucpro.models.esm2 import ESM2Config

# Dense bfloat16 tensor-core peak (no sparsity) by device-name fragment, FLOP/s; H200 and H100 SXM share
# the GH100 compute figure (989.4 TFLOP/s), rounded to 990 as in the project's goal.
PEAK_BF16_FLOPS = {"H200": 990e12, "H100": 990e12, "A100": 312e12, "L40S": 362e12, "RTX 4090": 165e12}


def esm2_flops(config: ESM2Config, lengths: Iterable[int]) -> float:
    """Forward matmul FLOPs of ESM-2 over sequences of `lengths` tokens (each attends only to itself)."""
    e, f = config.embed_dim, config.ffn_dim
    total = 0.0
    for length in lengths:
        total += length * (8 * e * e + 4 * e * f) + 4 * length * length * e
    return total * config.num_layers


def dnabert_flops(config: DnabertSConfig, lengths: Iterable[int]) -> float:
    """Forward matmul FLOPs of DNABERT-S over sequences of `lengths` tokens."""
    h, i = config.hidden_size, config.intermediate_size
    total = 0.0
    for length in lengths:
        total += length * (8 * h * h + 6 * h * i) + 4 * length * length * h
    return total * config.num_hidden_layers


def peak_flops(device_name: str, override_tflops: float | None = None) -> float | None:
    """The device's dense bf16 peak in FLOP/s: the override if given, else looked up by name, else None."""
    if override_tflops is not None:
        return override_tflops * 1e12
    for fragment, peak in PEAK_BF16_FLOPS.items():
        if fragment.lower() in device_name.lower():
            return peak
    return None


def utilisation(flops: float, seconds: float, peak: float | None) -> float | None:
    """Model FLOP utilisation: achieved FLOP/s over peak (None when the peak is unknown, as on CPU)."""
    if peak is None or seconds <= 0:
        return None
    return flops / seconds / peak
