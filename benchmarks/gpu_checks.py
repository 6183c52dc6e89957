"""Numerical checks of the CUDA path, shared by the GPU tests (`tests/gpu`) and `gpu_bench.py`.

Each returns the per-frame cosine similarities it measured; the tests assert thresholds on them and the
benchmark reports them. Both run on any device, so their code is exercised on CPU with small shapes.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from virnucpro.config import EnvConfig
from virnucpro.models.attention import select_backend
from virnucpro.models.dnabert_s import DnabertSConfig
from virnucpro.models.esm2 import ESM2Config

from benchmarks import synthetic
from benchmarks.bench_models import packed_batches, run_batches
from benchmarks.random_models import random_dnabert, random_esm2, with_backend

CHECK_BUDGET = 4096  # tokens per packed batch: several frames share each batch, as in a real run


def mixed_lengths(frames: int, seed: int) -> list[int]:
    """Residue counts drawn from every VirNucPro mix in turn (100, 166 and long-tail frames together)."""
    per_mix = -(-frames // len(synthetic.MIXES))
    lengths = [n for mix in synthetic.MIXES for n in synthetic.frame_lengths(mix, per_mix, seed)]
    return lengths[:frames]


def _tokens(config: ESM2Config | DnabertSConfig, lengths: Sequence[int], seed: int) -> list[list[int]]:
    if isinstance(config, ESM2Config):
        return synthetic.esm2_tokens(lengths, seed)
    return synthetic.dnabert_tokens(lengths, config.vocab_size, seed)


def _model(config: ESM2Config | DnabertSConfig, device: torch.device, dtype: torch.dtype, backend: str, seed: int):
    if isinstance(config, ESM2Config):
        return random_esm2(config, device=device, dtype=dtype, backend=backend, seed=seed)
    return random_dnabert(config, device=device, dtype=dtype, backend=backend, seed=seed)


def _auto_backend(config: ESM2Config | DnabertSConfig, device: torch.device, dtype: torch.dtype) -> str:
    return select_backend(device, EnvConfig(), None, alibi=isinstance(config, DnabertSConfig), dtype=dtype)


def _embed(model, tokens: Sequence[Sequence[int]]) -> torch.Tensor:
    vectors = run_batches(model, packed_batches(tokens, CHECK_BUDGET, model.device), len(tokens))
    return vectors.double().cpu()


def centred_cosine(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Per-row cosine after removing the reference's mean row from both.

    Mean-pooled vectors of one model share a large common component that makes plain cosines look
    better than they are; without it, the cosine measures what differs between frames.
    """
    centre = b.mean(0, keepdim=True)
    return torch.nn.functional.cosine_similarity(a - centre, b - centre, dim=-1)


def bf16_vs_fp32(
    config: ESM2Config | DnabertSConfig, device: torch.device, frames: int, seed: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-frame (cosine, centred cosine) of the production bfloat16 path against a float32 reference.

    Same random weights (same seed, initialised in float32 on `device`; the bfloat16 model is their
    rounding); the reference runs the padded layout, the production path the automatic backend.
    """
    tokens = _tokens(config, mixed_lengths(frames, seed), seed)
    reference = _embed(_model(config, device, torch.float32, "padded", seed), tokens)
    if device.type == "cuda":
        torch.cuda.empty_cache()
    production = _embed(
        _model(config, device, torch.bfloat16, _auto_backend(config, device, torch.bfloat16), seed), tokens
    )
    cosine = torch.nn.functional.cosine_similarity(production, reference, dim=-1)
    return cosine, centred_cosine(production, reference)


def packed_vs_padded(
    config: ESM2Config | DnabertSConfig, device: torch.device, dtype: torch.dtype, frames: int, seed: int
) -> tuple[str, torch.Tensor]:
    """The automatic packed backend and the padded layout, same weights: (backend, per-frame centred cosine)."""
    tokens = _tokens(config, mixed_lengths(frames, seed), seed)
    packed = _model(config, device, dtype, _auto_backend(config, device, dtype), seed)
    padded = with_backend(packed, "padded")
    return packed.backend, centred_cosine(_embed(packed, tokens), _embed(padded, tokens))
