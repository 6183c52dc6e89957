"""CUDA-only checks of the production precision and packing at the real model shapes (random weights).

Run on a GPU machine with `pytest -m gpu tests/gpu` (`benchmarks/gpu_bench.py` runs them too); on a
machine without CUDA every test here is skipped. The checks themselves live in `benchmarks/gpu_checks.py`
and also run on CPU with small shapes (`gpu_bench.py --smoke`), so their code is exercised in CI.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repository root, for `benchmarks`

from benchmarks import gpu_checks
from benchmarks.random_models import ESM2_SHAPES, dnabert_shape

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device"),
]

SHAPES = {"esm2_t36_3B": ESM2_SHAPES["esm2_t36_3B"], "dnabert-s": dnabert_shape()}
FRAMES = 48  # 16 frames of each VirNucPro length mix (100, 166 residues, long tail)
SEED = 7
# Bounds on the distance 1 - cosine, each 10x the distance measured on CPU for the same change (no GPU was
# at hand; same code, same 48 frames and seed, random weights, 2026-12-02). 10x covers the deeper 3B model
# (36 layers against the 6 measured: if rounding errors add up in quadrature layer by layer, the distance
# grows with depth, 6x) and the GPU's other kernels, which also accumulate in float32.
# bfloat16 against float32 (ESM-2 6 x 320): plain min cosine 0.9999918 (distance 8.2e-6; 1e-5 measured
# earlier on ESM-2 12 x 480 and DNABERT-S 12 x 768), centred 0.99978 (distance 2.2e-4).
MIN_BF16_COSINE = 1 - 10 * 1e-5
MIN_BF16_CENTRED_COSINE = 1 - 10 * 2.2e-4
# Packed against padded in the same precision changes only the order of additions. bfloat16 (ESM-2 6 x 320,
# block-diagonal): centred 0.99997306 (distance 2.7e-5). float32: no distance on CPU (1.0 to 10 digits),
# and a reordering's error scales with the unit roundoff, so float32's distance is 2^32 times smaller than
# bfloat16's (below 1e-14); 1e-5 holds even for a kernel that used TF32 (10-bit mantissa: 2.7e-5 / 64 =
# 4.2e-7, 24x below it).
MIN_PACKED_COSINE = {torch.float32: 1 - 1e-5, torch.bfloat16: 1 - 10 * 2.7e-5}


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_bf16_embeddings_match_float32_per_frame(shape):
    cosine, centred = gpu_checks.bf16_vs_fp32(SHAPES[shape], torch.device("cuda"), FRAMES, SEED)
    print(f"{shape}: min cosine {cosine.min().item():.6f}, min centred cosine {centred.min().item():.6f}")
    assert cosine.shape == (FRAMES,)
    assert cosine.min().item() >= MIN_BF16_COSINE
    assert centred.min().item() >= MIN_BF16_CENTRED_COSINE


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16], ids=["float32", "bfloat16"])
@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_packed_matches_padded_on_cuda(shape, dtype):
    backend, centred = gpu_checks.packed_vs_padded(SHAPES[shape], torch.device("cuda"), dtype, FRAMES, SEED)
    print(f"{shape} {dtype} packed with {backend}: min centred cosine {centred.min().item():.6f}")
    assert backend != "padded"
    assert centred.min().item() >= MIN_PACKED_COSINE[dtype]
