"""Placing checkpoint tensors one at a time: dtypes by the precision rule, copies not file views, pages given back."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import torch
from virnucpro.config import EnvConfig
from virnucpro.models.esm2 import ESM2
from virnucpro.models.esm2_checkpoint import esm2_network, fingerprint_state, load_esm2, read_esm2_checkpoint
from virnucpro.models.precision import place_network
from virnucpro.models.tiny_checkpoints import TinyModelPaths, write_esm2_checkpoint
from virnucpro.models.weights import MappedPages, compute_dtypes, meta_modules, place_state

CPU = torch.device("cpu")


def test_dtypes_follow_the_precision_rule(tiny_models: TinyModelPaths) -> None:
    config, state = read_esm2_checkpoint(tiny_models.esm2)
    with torch.device("meta"):
        network = ESM2(config)
    dtypes = compute_dtypes(network, torch.bfloat16)
    assert dtypes["layers.0.fc1.weight"] == torch.bfloat16
    assert dtypes["layers.0.self_attn_layer_norm.weight"] == torch.float32
    assert dtypes["emb_layer_norm_after.bias"] == torch.float32
    placed = place_state(network, state, CPU, torch.bfloat16)
    reference = place_network(esm2_network(*read_esm2_checkpoint(tiny_models.esm2)), CPU, torch.bfloat16)
    for (key, got), (_, want) in zip(placed.state_dict().items(), reference.state_dict().items(), strict=True):
        assert got.dtype == want.dtype and torch.equal(got, want), key


def test_placed_tensors_are_copies_and_the_file_pages_are_released(tiny_models: TinyModelPaths) -> None:
    config, state = read_esm2_checkpoint(tiny_models.esm2)
    pages = MappedPages(tiny_models.esm2)
    assert pages.ranges, "the checkpoint is read memory-mapped"
    before = {key: tensor.clone() for key, tensor in state.items()}
    with torch.device("meta"):
        network = ESM2(config)
    place_state(network, state, CPU, torch.float32, mapped_file=tiny_models.esm2)
    for tensor in network.state_dict().values():
        start = tensor.untyped_storage().data_ptr()
        assert not any(low <= start < high for low, high in pages.ranges)
    # fc1 of the tiny model spans several pages: they can be released, and read again they are unchanged
    assert pages.release(state["layers.0.fc1.weight"])
    assert all(torch.equal(state[key], before[key]) for key in state)


def test_memory_that_is_not_the_file_is_never_released(tiny_models: TinyModelPaths, tmp_path: Path) -> None:
    heap = torch.randn(100_000)
    pages = MappedPages(tiny_models.esm2)
    assert not pages.release(heap)
    other = write_esm2_checkpoint(tmp_path / "esm2_other.pt", seed=3)
    _, other_state = read_esm2_checkpoint(other)
    assert not pages.release(other_state["layers.0.fc1.weight"])  # mapped, but from another file


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16])
def test_loader_fingerprint_is_the_file_dtypes_digest(tmp_path: Path, dtype: torch.dtype) -> None:
    """Fingerprinting while placing gives the digest of the tensors as stored (float16 stays float16)."""
    path = write_esm2_checkpoint(tmp_path / "esm2_t2.pt", seed=1, dtype=dtype)
    config, state = read_esm2_checkpoint(path)
    assert state["layers.0.fc1.weight"].dtype == dtype
    loaded = load_esm2(str(path), CPU, env=EnvConfig())
    assert loaded.fingerprint == fingerprint_state(config, state)
    assert loaded.network.layers[0].fc1.weight.dtype == torch.float32
    assert torch.equal(loaded.network.layers[0].fc1.weight, state["layers.0.fc1.weight"].float())


def test_loading_does_not_import_the_compiler_stack(tiny_models: TinyModelPaths) -> None:
    """Building the empty network skips nn.Embedding's initialiser, which on meta imports TorchDynamo."""
    script = (
        "import sys, torch\n"
        "from virnucpro.config import EnvConfig\n"
        "from virnucpro.models.loading import load_embedding_model\n"
        f"load_embedding_model('esm2', {str(tiny_models.esm2)!r}, torch.device('cpu'), env=EnvConfig())\n"
        f"load_embedding_model('dnabert-s', {str(tiny_models.dnabert_s)!r}, torch.device('cpu'), env=EnvConfig())\n"
        "print('torch._dynamo' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert done.stdout.strip().splitlines()[-1] == "False"


def test_meta_modules_leave_the_embedding_initialiser_in_place_afterwards() -> None:
    with meta_modules():
        skipped = torch.nn.Embedding(4, 3)
    assert skipped.weight.is_meta
    torch.manual_seed(0)
    built = torch.nn.Embedding(4, 3)
    assert built.weight.std() > 0.1  # initialised as usual outside the block
