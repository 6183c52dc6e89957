"""Production model adapters with random weights of a chosen shape, built in memory (nothing on disk).

The benchmark must run the same forward code as a real run: ESM-2 goes through `build_esm2` (the function
the checkpoint loader calls) with a freshly initialised state dict, DNABERT-S through `DnabertModel`,
`place_network` and `DnabertS`, as `load_dnabert_s` does. Random weights of the real shape cost the same
FLOPs as the real weights, so throughput figures carry over; the vectors themselves mean nothing.
"""

from __future__ import annotations

import dataclasses

import torch
from virnucpro.models.dnabert_s import DnabertConfig, DnabertModel, DnabertS, place_network
from virnucpro.models.esm2 import ESM2Encoder, ESM2Model, build_esm2
from virnucpro.models.esm2_checkpoint import ESM2Config

# fair-esm's published shapes (layers, width, heads) and a tiny one for smoke runs.
ESM2_SHAPES = {
    "esm2_t36_3B": ESM2Config(num_layers=36, embed_dim=2560, attention_heads=40, token_dropout=True),
    "esm2_t12_35M": ESM2Config(num_layers=12, embed_dim=480, attention_heads=20, token_dropout=True),
    "esm2_t6_8M": ESM2Config(num_layers=6, embed_dim=320, attention_heads=20, token_dropout=True),
    "tiny": ESM2Config(num_layers=2, embed_dim=64, attention_heads=4, token_dropout=True),
}

# zhihan1996/DNABERT-S config.json (models.md); `dnabert_shape(layers)` keeps the width, cuts depth.
DNABERT_S_SHAPE = DnabertConfig(
    hidden_size=768,
    num_hidden_layers=12,
    num_attention_heads=12,
    intermediate_size=3072,
    vocab_size=4096,
    type_vocab_size=2,
    layer_norm_eps=1e-12,
)
DNABERT_TINY_SHAPE = DnabertConfig(
    hidden_size=32,
    num_hidden_layers=2,
    num_attention_heads=4,
    intermediate_size=64,
    vocab_size=96,
    type_vocab_size=2,
    layer_norm_eps=1e-12,
)


def dnabert_shape(layers: int | None = None, *, tiny: bool = False) -> DnabertConfig:
    """The DNABERT-S shape (or the tiny one), optionally with fewer layers."""
    shape = DNABERT_TINY_SHAPE if tiny else DNABERT_S_SHAPE
    return shape if layers is None else dataclasses.replace(shape, num_hidden_layers=layers)


def random_esm2(config: ESM2Config, *, device: torch.device, dtype: torch.dtype, backend: str, seed: int) -> ESM2Model:
    """An `ESM2Model` of shape `config` with PyTorch's default random initialisation, seeded.

    The weights are initialised directly on `device` in float32 (12 GB for 3B on a GPU, seconds), then
    handed to `build_esm2`, which casts matrices to `dtype` and keeps layer norms in float32.
    """
    torch.manual_seed(seed)
    with torch.device(device):
        state = ESM2Encoder(config).state_dict()
    fingerprint = f"random-{config.num_layers}x{config.embed_dim}-seed{seed}"
    model = build_esm2(
        config, state, device=device, dtype=dtype, backend=backend, model_id=fingerprint, fingerprint=fingerprint
    )
    del state
    return model


def with_backend(model: ESM2Model | DnabertS, backend: str) -> ESM2Model | DnabertS:
    """The same weights behind another attention backend (a second adapter; no copy of the weights)."""
    if isinstance(model, ESM2Model):
        return ESM2Model(
            model.encoder, model_id=model.model_id, fingerprint=model.fingerprint, backend=backend, dtype=model.dtype
        )
    return DnabertS(
        model.network, model.tokenizer, model_id=model.model_id, fingerprint=model.fingerprint, backend=backend
    )


def random_dnabert(
    config: DnabertConfig, *, device: torch.device, dtype: torch.dtype, backend: str, seed: int
) -> DnabertS:
    """A `DnabertS` of shape `config` with default random initialisation, seeded.

    It has no tokenizer (the real BPE vocabulary is not available here): feed it token ids directly
    through `embed_packed`, e.g. from `synthetic.dnabert_tokens`.
    """
    torch.manual_seed(seed)
    with torch.device(device):
        network = DnabertModel(config)
    place_network(network, torch.device(device), dtype)
    fingerprint = f"random-dnabert-{config.num_hidden_layers}x{config.hidden_size}-seed{seed}"
    return DnabertS(network, None, model_id=fingerprint, fingerprint=fingerprint, backend=backend)  # type: ignore[arg-type]
