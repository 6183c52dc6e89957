"""Random-weight embedders: seeded, shaped as asked, and sharing weights between attention backends."""

from __future__ import annotations

import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))  # the repository root, for `benchmarks`

from virnucpro.models.base import pack_tokens

from benchmarks import synthetic
from benchmarks.random_models import ESM2_SHAPES, dnabert_shape, random_dnabert, random_esm2, with_backend

CPU = torch.device("cpu")
TINY = ESM2_SHAPES["tiny"]


def _esm2_vectors(model, lengths=(12, 30, 5)):
    ids, cu, longest = pack_tokens(synthetic.esm2_tokens(list(lengths), 0), CPU)
    return model.embed_packed(ids, cu, longest)


def test_esm2_same_seed_same_vectors_other_seed_other_vectors():
    first = random_esm2(TINY, device=CPU, dtype=torch.float32, backend="block-diagonal", seed=1)
    again = random_esm2(TINY, device=CPU, dtype=torch.float32, backend="block-diagonal", seed=1)
    other = random_esm2(TINY, device=CPU, dtype=torch.float32, backend="block-diagonal", seed=2)
    assert first.fingerprint == again.fingerprint != other.fingerprint
    assert torch.equal(_esm2_vectors(first), _esm2_vectors(again))
    assert not torch.allclose(_esm2_vectors(first), _esm2_vectors(other), atol=1e-3)


def test_esm2_shape_and_precision_policy():
    model = random_esm2(TINY, device=CPU, dtype=torch.bfloat16, backend="block-diagonal", seed=0)
    assert model.embedding_dim == 64 and len(model.network.layers) == 2
    assert model.network.layers[0].fc1.weight.dtype == torch.bfloat16
    assert model.network.emb_layer_norm_after.weight.dtype == torch.float32  # layer norms stay float32
    assert _esm2_vectors(model).dtype == torch.float32


def test_with_backend_shares_weights_and_gives_the_same_vectors():
    packed = random_esm2(TINY, device=CPU, dtype=torch.float32, backend="block-diagonal", seed=3)
    padded = with_backend(packed, "padded")
    assert padded.backend == "padded" and padded.network is packed.network
    # Same float32 weights through two attention layouts: measured max abs diff ~1e-6.
    torch.testing.assert_close(_esm2_vectors(packed), _esm2_vectors(padded), atol=1e-5, rtol=0)


def test_dnabert_depth_cut_and_backend_switch():
    config = dnabert_shape(1, tiny=True)
    model = random_dnabert(config, device=CPU, dtype=torch.float32, backend="block-diagonal", seed=0)
    assert len(model.network.encoder.layer) == 1 and model.embedding_dim == 32
    tokens = synthetic.dnabert_tokens([20, 7], config.vocab_size, 0)
    ids, cu, longest = pack_tokens(tokens, CPU)
    padded = with_backend(model, "padded")
    assert padded.network is model.network
    torch.testing.assert_close(
        model.embed_packed(ids, cu, longest), padded.embed_packed(ids, cu, longest), atol=1e-5, rtol=0
    )
