"""Production model adapters with random weights of a chosen shape, built in memory (nothing on disk).

The benchmark must run the same forward code as a real run: each network (`ESM2`, `DnabertS`) is
initialised at random, put in place by `place_network` and wrapped in its embedder (`ESM2Embedder`,
`DnabertSEmbedder`), as the checkpoint loaders do with real weights. Random weights of the real shape cost
the same FLOPs as the real weights, so throughput figures carry over; the vectors themselves mean nothing.
"""

from __future__ import annotations

import dataclasses

import torch
from virnucpro.models.dnabert_s import DnabertS, DnabertSConfig, DnabertSEmbedder
from virnucpro.models.esm2 import ESM2, ESM2Config, ESM2Embedder
from virnucpro.models.precision import place_network

# fair-esm's published shapes (layers, width, heads) and a tiny one for smoke runs.
ESM2_SHAPES = {
    "esm2_t36_3B": ESM2Config(num_layers=36, embed_dim=2560, attention_heads=40, token_dropout=True),
    "esm2_t12_35M": ESM2Config(num_layers=12, embed_dim=480, attention_heads=20, token_dropout=True),
    "esm2_t6_8M": ESM2Config(num_layers=6, embed_dim=320, attention_heads=20, token_dropout=True),
    "tiny": ESM2Config(num_layers=2, embed_dim=64, attention_heads=4, token_dropout=True),
}

# zhihan1996/DNABERT-S config.json (models.md); `dnabert_shape(layers)` keeps the width, cuts depth.
DNABERT_S_SHAPE = DnabertSConfig(
    hidden_size=768,
    num_hidden_layers=12,
    num_attention_heads=12,
    intermediate_size=3072,
    vocab_size=4096,
    type_vocab_size=2,
    layer_norm_eps=1e-12,
)
DNABERT_TINY_SHAPE = DnabertSConfig(
    hidden_size=32,
    num_hidden_layers=2,
    num_attention_heads=4,
    intermediate_size=64,
    vocab_size=96,
    type_vocab_size=2,
    layer_norm_eps=1e-12,
)


def dnabert_shape(layers: int | None = None, *, tiny: bool = False) -> DnabertSConfig:
    """The DNABERT-S shape (or the tiny one), optionally with fewer layers."""
    shape = DNABERT_TINY_SHAPE if tiny else DNABERT_S_SHAPE
    return shape if layers is None else dataclasses.replace(shape, num_hidden_layers=layers)


def random_esm2(
    config: ESM2Config, *, device: torch.device, dtype: torch.dtype, backend: str, seed: int
) -> ESM2Embedder:
    """An `ESM2Embedder` of shape `config` with PyTorch's default random initialisation, seeded.

    The weights are initialised directly on `device` in float32 (12 GB for 3B on a GPU, seconds), then
    `place_network` casts matrices to `dtype` and keeps layer norms in float32.
    """
    torch.manual_seed(seed)
    with torch.device(device):
        network = ESM2(config)
    place_network(network, torch.device(device), dtype)
    fingerprint = f"random-{config.num_layers}x{config.embed_dim}-seed{seed}"
    return ESM2Embedder(network, model_id=fingerprint, fingerprint=fingerprint, backend=backend)


def with_backend(model: ESM2Embedder | DnabertSEmbedder, backend: str) -> ESM2Embedder | DnabertSEmbedder:
    """The same weights behind another attention backend (a second embedder; no copy of the weights)."""
    if isinstance(model, ESM2Embedder):
        return ESM2Embedder(model.network, model_id=model.model_id, fingerprint=model.fingerprint, backend=backend)
    return DnabertSEmbedder(
        model.network, model.tokenizer, model_id=model.model_id, fingerprint=model.fingerprint, backend=backend
    )


def random_dnabert(
    config: DnabertSConfig, *, device: torch.device, dtype: torch.dtype, backend: str, seed: int
) -> DnabertSEmbedder:
    """A `DnabertSEmbedder` of shape `config` with default random initialisation, seeded.

    It has no tokenizer (the real BPE vocabulary is not available here): feed it token ids directly
    through `embed_packed`, e.g. from `synthetic.dnabert_tokens`.
    """
    torch.manual_seed(seed)
    with torch.device(device):
        network = DnabertS(config)
    place_network(network, torch.device(device), dtype)
    fingerprint = f"random-dnabert-{config.num_hidden_layers}x{config.hidden_size}-seed{seed}"
    return DnabertSEmbedder(network, None, model_id=fingerprint, fingerprint=fingerprint, backend=backend)  # type: ignore[arg-type]
