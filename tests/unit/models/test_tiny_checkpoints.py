"""The tiny test checkpoints: deterministic bytes, the published file formats, key names and tokenizer."""

from __future__ import annotations

import argparse
import hashlib
import json
import time
from pathlib import Path

import esm
import pytest
import torch
from tokenizers import Tokenizer
from virnucpro.config import EnvConfig
from virnucpro.models.classifier import load_classifier
from virnucpro.models.dnabert_s_checkpoint import load_dnabert_s
from virnucpro.models.esm2_checkpoint import read_esm2_checkpoint
from virnucpro.models.tiny_checkpoints import (
    NUCLEOTIDES,
    SPECIAL_TOKENS,
    TinyDnabertSpec,
    TinyModelPaths,
    train_bpe,
    train_bpe_at_scale,
    write_dnabert_s_dir,
    write_test_models,
)


def digests(directory: Path) -> dict[str, str]:
    return {
        str(path.relative_to(directory)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(directory.rglob("*"))
        if path.is_file()
    }


def published_dnabert_keys(layers: int) -> set[str]:
    """The state-dict keys of zhihan1996/DNABERT-S, written out from models.md."""
    keys = {
        "embeddings.word_embeddings.weight",
        "embeddings.token_type_embeddings.weight",
        "embeddings.LayerNorm.weight",
        "embeddings.LayerNorm.bias",
        "pooler.dense.weight",
        "pooler.dense.bias",
    }
    for i in range(layers):
        for name in (
            "attention.self.Wqkv.weight",
            "attention.self.Wqkv.bias",
            "attention.output.dense.weight",
            "attention.output.dense.bias",
            "attention.output.LayerNorm.weight",
            "attention.output.LayerNorm.bias",
            "mlp.gated_layers.weight",
            "mlp.wo.weight",
            "mlp.wo.bias",
            "mlp.layernorm.weight",
            "mlp.layernorm.bias",
        ):
            keys.add(f"encoder.layer.{i}.{name}")
    return keys


def test_layout(tiny_models: TinyModelPaths) -> None:
    assert sorted(digests(tiny_models.directory)) == [
        "classifier.pth",
        "dnabert-s/config.json",
        "dnabert-s/pytorch_model.bin",
        "dnabert-s/special_tokens_map.json",
        "dnabert-s/tokenizer.json",
        "dnabert-s/tokenizer_config.json",
        "esm2_t2_test-contact-regression.pt",
        "esm2_t2_test.pt",
    ]


def test_same_seed_same_bytes_other_seed_other_weights(tiny_models: TinyModelPaths, tmp_path: Path) -> None:
    write_test_models(tmp_path / "again")
    write_test_models(tmp_path / "seed1", seed=1)
    assert digests(tmp_path / "again") == digests(tiny_models.directory)
    other = digests(tmp_path / "seed1")
    first = digests(tiny_models.directory)
    for name in ("dnabert-s/pytorch_model.bin", "esm2_t2_test.pt", "classifier.pth", "dnabert-s/tokenizer.json"):
        assert other[name] != first[name], name
    assert other["dnabert-s/config.json"] == first["dnabert-s/config.json"]


def test_writing_is_quick(tmp_path: Path) -> None:
    """Timed by this process's CPU time, which other work on the machine does not inflate (wall time on a
    loaded 2-core machine is mostly waiting). Measured 0.12-0.14 s of CPU (1.0-1.3 s of wall time at load
    average 11); the bound leaves a tenfold margin for a slower CPU."""
    start = time.process_time()
    write_test_models(tmp_path)
    assert time.process_time() - start < 1.5


def test_dnabert_weights_are_a_plain_state_dict_with_the_published_keys(tiny_models: TinyModelPaths) -> None:
    state = torch.load(tiny_models.dnabert_s / "pytorch_model.bin", weights_only=True)
    assert set(state) == published_dnabert_keys(2)
    spec = TinyDnabertSpec()
    assert state["encoder.layer.1.attention.self.Wqkv.weight"].shape == (3 * spec.hidden_size, spec.hidden_size)
    assert state["encoder.layer.0.mlp.gated_layers.weight"].shape == (2 * spec.intermediate_size, spec.hidden_size)
    assert state["embeddings.word_embeddings.weight"].shape == (spec.vocab_size, spec.hidden_size)
    assert all(value.dtype == torch.float32 for value in state.values())


def test_dnabert_config_mirrors_the_published_keys(tiny_models: TinyModelPaths) -> None:
    config = json.loads((tiny_models.dnabert_s / "config.json").read_text())
    assert {
        key: config[key]
        for key in (
            "hidden_size",
            "num_hidden_layers",
            "num_attention_heads",
            "intermediate_size",
            "vocab_size",
            "type_vocab_size",
            "layer_norm_eps",
            "alibi_starting_size",
            "architectures",
            "pad_token_id",
            "model_type",
        )
    } == {
        "hidden_size": 32,
        "num_hidden_layers": 2,
        "num_attention_heads": 4,
        "intermediate_size": 64,
        "vocab_size": 96,
        "type_vocab_size": 2,
        "layer_norm_eps": 1e-12,
        "alibi_starting_size": 512,
        "architectures": ["BertModel"],
        "pad_token_id": 0,
        "model_type": "bert",
    }
    assert config["auto_map"]["AutoModel"] == "bert_layers.BertModel"
    for key in ("max_position_embeddings", "hidden_act", "hidden_dropout_prob", "attention_probs_dropout_prob"):
        assert key in config


def test_tokenizer_has_the_published_structure(tiny_models: TinyModelPaths) -> None:
    data = json.loads((tiny_models.dnabert_s / "tokenizer.json").read_text())
    vocab = data["model"]["vocab"]
    assert [vocab[t] for t in ("[UNK]", "[CLS]", "[SEP]", "[PAD]", "[MASK]", "A", "C", "G", "T")] == list(range(9))
    assert len(vocab) == 96 and sorted(vocab.values()) == list(range(96))
    assert data["model"]["type"] == "BPE" and data["model"]["unk_token"] == "[UNK]"
    assert data["normalizer"] is None
    assert data["pre_tokenizer"] == {"type": "Whitespace"}
    assert data["truncation"]["max_length"] == 2000
    assert data["padding"]["strategy"] == {"Fixed": 2000} and data["padding"]["pad_id"] == 3
    single = data["post_processor"]["single"]
    assert [next(iter(item.values()))["id"] for item in single] == ["[CLS]", "A", "[SEP]"]
    for merge in data["model"]["merges"]:
        left, right = merge.split(" ")
        assert left in vocab and right in vocab and left + right in vocab, merge


def test_tokenizer_loads_with_the_tokenizers_library(tiny_models: TinyModelPaths) -> None:
    tokenizer = Tokenizer.from_file(str(tiny_models.dnabert_s / "tokenizer.json"))
    tokenizer.no_padding()
    ids = tokenizer.encode("AAAATTTTGGGGCCCC").ids
    assert ids[0] == 1 and ids[-1] == 2
    assert len(ids) < 16 + 2  # merges apply: fewer tokens than bases
    assert tokenizer.decode(ids, skip_special_tokens=True).replace(" ", "") == "AAAATTTTGGGGCCCC"


def test_bpe_training_merges_the_most_frequent_pair_first() -> None:
    vocab, merges = train_bpe(12, seed=0)
    assert len(vocab) == 12 and len(merges) == 3
    # The training DNA is skewed towards A (p=0.4): A+A is by far the most frequent pair at the start.
    assert merges[0] == ["A", "A"] and vocab["AA"] == 9


def test_dnabert_loads_through_the_real_loader(tiny_models: TinyModelPaths) -> None:
    model = load_dnabert_s(str(tiny_models.dnabert_s), torch.device("cpu"), env=EnvConfig())
    assert model.embedding_dim == 32
    assert model.tokenize("") == [1, 2]


def test_esm2_file_loads_in_fair_esm(tiny_models: TinyModelPaths) -> None:
    # fair-esm 2.0.0 calls a bare torch.load, which now defaults to weights-only: allow its cfg type.
    with torch.serialization.safe_globals([argparse.Namespace]):
        model, alphabet = esm.pretrained.load_model_and_alphabet_local(str(tiny_models.esm2))
    assert (model.num_layers, model.embed_dim, model.attention_heads) == (2, 64, 4)
    assert alphabet.padding_idx == 1


def test_classifier_width_is_dnabert_plus_esm(tiny_models: TinyModelPaths) -> None:
    loaded = load_classifier(tiny_models.classifier)
    assert loaded.info.input_dim == 32 + 64
    assert loaded.info.source == "legacy-pickle"


def test_safetensors_variant_replaces_the_bin(tmp_path: Path) -> None:
    write_dnabert_s_dir(tmp_path / "d")
    write_dnabert_s_dir(tmp_path / "d", weights="safetensors")
    assert (tmp_path / "d" / "model.safetensors").is_file()
    assert not (tmp_path / "d" / "pytorch_model.bin").exists()
    with pytest.raises(ValueError, match="weights must be 'bin' or 'safetensors'"):
        write_dnabert_s_dir(tmp_path / "e", weights="onnx")


def test_bpe_at_scale_lays_ids_out_like_the_published_vocabulary() -> None:
    """The trainer used for real vocabulary sizes: special tokens, A C G T, then one token per merge, repeatably."""
    vocab, merges = train_bpe_at_scale(600, seed=4, sequences=200, length=300)
    assert (vocab, merges) == train_bpe_at_scale(600, seed=4, sequences=200, length=300)
    assert len(vocab) == 600 and len(merges) == 600 - 9
    assert [token for token, _ in sorted(vocab.items(), key=lambda item: item[1])[:9]] == [
        *SPECIAL_TOKENS,
        *NUCLEOTIDES,
    ]
    assert all(vocab[left + right] == 9 + rank for rank, (left, right) in enumerate(merges))


@pytest.mark.full_size
def test_full_size_models_have_the_published_shapes(tmp_path: Path) -> None:
    """`make-test-models --full-size` (6.3 GB, minutes): the published shapes and the 3B file's float16."""
    paths = write_test_models(tmp_path, full_size=True)
    config, state = read_esm2_checkpoint(paths.esm2)
    assert (config.num_layers, config.embed_dim, config.attention_heads) == (36, 2560, 40)
    assert {tensor.dtype for tensor in state.values()} == {torch.float16}
    assert 5.6e9 < paths.esm2.stat().st_size < 5.8e9  # the published file: 5,678,116,398 bytes
    tokenizer = json.loads((paths.dnabert_s / "tokenizer.json").read_text())
    assert len(tokenizer["model"]["vocab"]) == 4096 and len(tokenizer["model"]["merges"]) == 4087
    assert json.loads((paths.dnabert_s / "config.json").read_text())["num_hidden_layers"] == 12
