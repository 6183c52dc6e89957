"""load_embedding_model: both kinds through the real loading code, and a clear error for every bad file."""

from __future__ import annotations

import argparse
import logging
import shutil

import pytest
import torch
from virnucpro.config import EnvConfig
from virnucpro.errors import ConfigError, InputError
from virnucpro.models.esm2 import ESM2Config, ESM2Embedder
from virnucpro.models.esm2_checkpoint import fingerprint_state
from virnucpro.models.loading import load_embedding_model
from virnucpro.models.tiny_checkpoints import write_esm2_checkpoint, write_test_classifier

CPU = torch.device("cpu")


def _load_esm2(path, env=None, backend=None):
    return load_embedding_model("esm2", str(path), CPU, env=env or EnvConfig(), backend=backend)


def _raw(path):
    with torch.serialization.safe_globals([argparse.Namespace]):
        return torch.load(path, weights_only=True)


def test_esm2_loads_with_the_policy_applied(tiny_models):
    model = _load_esm2(tiny_models.esm2)
    assert isinstance(model, ESM2Embedder)
    assert (model.kind, model.backend, model.dtype, model.embedding_dim) == (
        "esm2",
        "block-diagonal",
        torch.float32,
        64,
    )
    assert model.num_layers == 2 and model.device == CPU and model.model_id == str(tiny_models.esm2)
    assert _load_esm2(tiny_models.esm2, EnvConfig(disable_packing=True)).backend == "padded"
    assert _load_esm2(tiny_models.esm2, backend="flex").backend == "flex"


@pytest.mark.parametrize("kind", ["esm2", "dnabert-s"])
def test_packed_and_padded_agree_through_loading(tiny_models, kind):
    # Both adapters through the real loading code, packed (default) and VIRNUCPRO_DISABLE_PACKING=1.
    path = tiny_models.esm2 if kind == "esm2" else tiny_models.dnabert_s
    packed = load_embedding_model(kind, str(path), CPU, env=EnvConfig())
    padded = load_embedding_model(kind, str(path), CPU, env=EnvConfig(disable_packing=True))
    assert (packed.backend, padded.backend) == ("block-diagonal", "padded")
    sequences = ["MKVLAW", "A" * 300, "QQ"] if kind == "esm2" else ["ACGTTGCA", "ACGT" * 60, "GGCC"]
    token_lists = [packed.tokenize(s) for s in sequences]
    token_ids = torch.tensor([t for tokens in token_lists for t in tokens])
    lengths = torch.tensor([0] + [len(t) for t in token_lists])
    cu_seqlens = lengths.cumsum(0).to(torch.int32)
    max_seqlen = max(len(t) for t in token_lists)
    a = packed.embed_packed(token_ids, cu_seqlens, max_seqlen)
    b = padded.embed_packed(token_ids, cu_seqlens, max_seqlen)
    assert a.shape == (3, packed.embedding_dim) and a.dtype == torch.float32
    # Same weights, two float32 attention layouts: measured max abs diff < 2e-6 on both models.
    torch.testing.assert_close(a, b, atol=1e-5, rtol=0)


def test_fingerprint_follows_the_weights_not_the_file_name(tiny_models, tmp_path):
    renamed = tmp_path / "esm2_renamed.pt"
    shutil.copy(tiny_models.esm2, renamed)
    other = write_esm2_checkpoint(tmp_path / "esm2_other.pt", seed=1)
    first = _load_esm2(tiny_models.esm2).fingerprint
    assert len(first) == 64
    assert _load_esm2(renamed).fingerprint == first
    assert _load_esm2(other).fingerprint != first


def test_fingerprint_text_is_fixed_so_earlier_checkpoints_stay_valid():
    # Checkpoint pieces and output metadata carry this digest; its value for a hand-made state was
    # recorded when the format was set and must never change, not even when a class is renamed.
    config = ESM2Config(num_layers=1, embed_dim=4, attention_heads=2, token_dropout=True)
    state = {
        "embed_tokens.weight": torch.arange(6, dtype=torch.float32).reshape(3, 2),
        "b": torch.tensor([1, 2], dtype=torch.int64),
    }
    assert fingerprint_state(config, state) == "df3b6a4e5684c2c107718598021bb8665730d56cf94f12c111fb23d747ea3e66"


def test_hub_name_found_in_torch_cache(tiny_models, tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    cache = tmp_path / "torch" / "hub" / "checkpoints"
    cache.mkdir(parents=True)
    shutil.copy(tiny_models.esm2, cache / "esm2_t2_test.pt")
    model = _load_esm2("esm2_t2_test")
    assert model.model_id == "esm2_t2_test" and model.embedding_dim == 64


def test_hub_name_missing_names_the_expected_file(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    expected = tmp_path / "torch" / "hub" / "checkpoints" / "esm2_t36_3B_UR50D.pt"
    with pytest.raises(InputError, match="not in the torch hub cache") as error:
        _load_esm2("esm2_t36_3B_UR50D")
    assert str(expected) in str(error.value)
    assert "https://dl.fbaipublicfiles.com/fair-esm/models/esm2_t36_3B_UR50D.pt" in str(error.value)


def test_not_an_esm2_name():
    with pytest.raises(InputError, match="'esm1b_t33_650M_UR50S' is not an ESM-2 model name"):
        _load_esm2("esm1b_t33_650M_UR50S")


def _truncated(src, dst):
    dst.write_bytes(src.read_bytes()[: src.stat().st_size // 2])


def _garbage(src, dst):
    dst.write_bytes(b"this is not a checkpoint\n" * 10)


def _dnabert_state_dict(src, dst):
    torch.save({"embeddings.word_embeddings.weight": torch.zeros(8, 4), "pooler.dense.bias": torch.zeros(4)}, dst)


def _classifier(src, dst):
    write_test_classifier(dst, input_dim=96, seed=0)


def _edit(mutate):
    def make(src, dst):
        data = _raw(src)
        mutate(data)
        torch.save(data, dst)

    return make


def _reshape_fc1(data):
    key = "encoder.sentence_encoder.layers.1.fc1.weight"
    data["model"][key] = data["model"][key].t().contiguous()


def _drop_and_add(data):
    del data["model"]["encoder.sentence_encoder.layers.0.self_attn.k_proj.bias"]
    data["model"]["encoder.sentence_encoder.layers.7.fc1.weight"] = torch.zeros(1)


def _bad_cfg(data):
    del data["cfg"]["model"].encoder_attention_heads


BAD_FILES = [
    (_truncated, "cannot be read \\(truncated or corrupt"),
    (_garbage, "cannot be read \\(truncated or corrupt"),
    (_dnabert_state_dict, "is not an ESM-2 checkpoint: it is a plain state dict \\(keys like embeddings"),
    (_classifier, "is not an ESM-2 checkpoint: it pickles __main__.MLPClassifier"),
    (_edit(_reshape_fc1), "layers.1.fc1.weight has shape \\(64, 256\\), expected \\(256, 64\\)"),
    (_edit(_drop_and_add), "missing: layers.0.self_attn.k_proj.bias; unexpected: layers.7.fc1.weight"),
    (_edit(_bad_cfg), "is not an ESM-2 checkpoint: cfg\\['model'\\] lacks encoder_attention_heads"),
]


@pytest.mark.parametrize(("make", "message"), BAD_FILES, ids=[m.__name__ for m, _ in BAD_FILES])
def test_bad_checkpoint_is_a_clear_error_naming_the_path(tiny_models, tmp_path, make, message):
    path = tmp_path / "esm2_bad.pt"
    make(tiny_models.esm2, path)
    with pytest.raises(InputError, match=message) as error:
        _load_esm2(path)
    assert str(path) in str(error.value)


def test_missing_file_and_directory(tiny_models, tmp_path):
    with pytest.raises(InputError, match=f"ESM-2 checkpoint {tmp_path / 'nope.pt'} does not exist"):
        _load_esm2(tmp_path / "nope.pt")
    with pytest.raises(InputError, match=r"is a directory, not an ESM-2 \.pt file") as error:
        _load_esm2(tiny_models.dnabert_s)
    assert str(tiny_models.dnabert_s) in str(error.value)


def test_unknown_kind_and_device(tiny_models):
    with pytest.raises(InputError, match="unknown model kind 'bert'"):
        load_embedding_model("bert", str(tiny_models.esm2), CPU, env=EnvConfig())
    with pytest.raises(InputError, match="device meta is not supported"):
        load_embedding_model("esm2", str(tiny_models.esm2), torch.device("meta"), env=EnvConfig())


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the error raised when CUDA is absent")
def test_cuda_requested_without_cuda(tiny_models):
    with pytest.raises(InputError, match="CUDA is not available"):
        load_embedding_model("esm2", str(tiny_models.esm2), torch.device("cuda"), env=EnvConfig())


def test_backend_that_cannot_run_here(tiny_models):
    with pytest.raises(ConfigError, match="'varlen' cannot run on cpu"):
        _load_esm2(tiny_models.esm2, backend="varlen")


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def test_device_precision_and_backend_logged_once(tiny_models, tmp_path):
    path = tmp_path / "esm2_logged.pt"
    shutil.copy(tiny_models.esm2, path)
    logger = logging.getLogger("virnucpro.models")
    collect, level = _Collect(), logger.level
    logger.addHandler(collect)
    logger.setLevel(logging.INFO)
    try:
        _load_esm2(path)
        _load_esm2(path)
    finally:
        logger.removeHandler(collect)
        logger.setLevel(level)
    expected = f"esm2 {path} on cpu: float32 weights and activations (default on cpu); attention backend block-diagonal"
    assert collect.lines == [expected]
