"""DNABERT-S adapter: numbers against an independent padded reference, tokenizer, backends, loading."""

from __future__ import annotations

import itertools
import json
import math
import shutil
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file
from tokenizers import Tokenizer
from virnucpro.config import EnvConfig
from virnucpro.errors import ConfigError, InputError
from virnucpro.models.attention import available_backends
from virnucpro.models.dnabert_s import DnabertSEmbedder, alibi_slopes, mean_pool
from virnucpro.models.dnabert_s_checkpoint import load_dnabert_s
from virnucpro.models.dnabert_s_tokenizer import DnabertTokenizer
from virnucpro.models.precision import place_network
from virnucpro.models.tiny_checkpoints import (
    TinyDnabertSpec,
    dnabert_state_dict,
    tokenizer_json,
    write_dnabert_s_dir,
    write_esm2_checkpoint,
    write_test_classifier,
)

CPU = torch.device("cpu")
ENV = EnvConfig()
# Mixed lengths from 1 token to ~500 (the longest DNABERT-S input for 500-nt chunks is ~150 BPE tokens of
# the real vocabulary, but the reference grows its ALiBi table past 512, so lengths near it matter).
LENGTHS = [1, 2, 3, 7, 31, 64, 130, 257, 499]
# Measured float32 max abs difference packed vs reference on LENGTHS (three seeds, every CPU backend):
# 8.4e-7, with hidden values up to ~2.6. 1e-5 leaves a 12x margin for other CPUs' summation orders and
# still fails on real mistakes: the tanh form of GELU moves the vectors by 3.7e-4, reversed ALiBi slopes
# by 8e-2.
MAX_ABS = 1e-5
MIN_COSINE = 0.99999


# --- the independent reference: one sequence at a time, padded form, plain torch ops from models.md ---


def reference_slopes(heads: int) -> torch.Tensor:
    """ALiBi slopes from models.md, by hand for the head counts the tests use."""
    table = {
        4: [2.0**-2, 2.0**-4, 2.0**-6, 2.0**-8],
        8: [2.0**-k for k in range(1, 9)],
        12: [2.0**-k for k in range(1, 9)] + [2.0**-0.5, 2.0**-1.5, 2.0**-2.5, 2.0**-3.5],
    }
    return torch.tensor(table[heads], dtype=torch.float32)


def reference_layer_norm(x: torch.Tensor, state: dict, name: str, eps: float) -> torch.Tensor:
    mean = x.mean(-1, keepdim=True)
    var = ((x - mean) ** 2).mean(-1, keepdim=True)
    return (x - mean) / torch.sqrt(var + eps) * state[f"{name}.weight"] + state[f"{name}.bias"]


def reference_embedding(state: dict, spec: TinyDnabertSpec, ids: list[int], eps: float = 1e-12) -> torch.Tensor:
    """Mean over all tokens of the last layer for ONE sequence, written from models.md, float32."""
    hidden, heads, inner = spec.hidden_size, spec.num_attention_heads, spec.intermediate_size
    head_dim = hidden // heads
    length = len(ids)
    x = (
        state["embeddings.word_embeddings.weight"][torch.tensor(ids)]
        + state["embeddings.token_type_embeddings.weight"][0]
    )
    x = reference_layer_norm(x, state, "embeddings.LayerNorm", eps)
    position = torch.arange(length, dtype=torch.float32)
    bias = -reference_slopes(heads)[:, None, None] * (position[:, None] - position[None, :]).abs()  # (H, L, L)
    for i in range(spec.num_hidden_layers):
        p = f"encoder.layer.{i}."
        qkv = x @ state[p + "attention.self.Wqkv.weight"].T + state[p + "attention.self.Wqkv.bias"]
        q, k, v = (
            qkv[:, j * hidden : (j + 1) * hidden].reshape(length, heads, head_dim).transpose(0, 1) for j in range(3)
        )
        scores = q @ k.transpose(1, 2) / math.sqrt(head_dim) + bias
        weights = torch.exp(scores - scores.max(-1, keepdim=True).values)
        weights = weights / weights.sum(-1, keepdim=True)
        context = (weights @ v).transpose(0, 1).reshape(length, hidden)
        attn = context @ state[p + "attention.output.dense.weight"].T + state[p + "attention.output.dense.bias"]
        x = reference_layer_norm(x + attn, state, p + "attention.output.LayerNorm", eps)
        projected = x @ state[p + "mlp.gated_layers.weight"].T
        first, second = projected[:, :inner], projected[:, inner:]
        glu = 0.5 * first * (1.0 + torch.erf(first / math.sqrt(2.0))) * second
        x = reference_layer_norm(
            x + glu @ state[p + "mlp.wo.weight"].T + state[p + "mlp.wo.bias"], state, p + "mlp.layernorm", eps
        )
    return x.mean(0)


def pack(batch: list[list[int]]) -> tuple[torch.Tensor, torch.Tensor, int]:
    token_ids = torch.tensor(list(itertools.chain.from_iterable(batch)), dtype=torch.long)
    cu_seqlens = torch.tensor([0, *itertools.accumulate(len(ids) for ids in batch)], dtype=torch.int32)
    return token_ids, cu_seqlens, max(len(ids) for ids in batch)


def random_batch(lengths: list[int], vocab_size: int, seed: int = 1) -> list[list[int]]:
    generator = torch.Generator().manual_seed(seed)
    return [torch.randint(0, vocab_size, (n,), generator=generator).tolist() for n in lengths]


def assert_close_to_reference(pooled: torch.Tensor, state: dict, spec: TinyDnabertSpec, batch: list[list[int]]) -> None:
    expected = torch.stack([reference_embedding(state, spec, ids) for ids in batch])
    assert pooled.dtype == torch.float32
    assert pooled.shape == (len(batch), spec.hidden_size)
    cosine = torch.nn.functional.cosine_similarity(pooled.double(), expected.double(), dim=1)
    max_abs = (pooled - expected).abs().max().item()
    assert cosine.min().item() >= MIN_COSINE, f"min cosine {cosine.min().item()}"
    assert max_abs <= MAX_ABS, f"max abs diff {max_abs}"


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_dnabert_s_dir(tmp_path_factory.mktemp("dnabert") / "dnabert-s", seed=0)


@pytest.fixture(scope="module")
def tiny_state() -> dict:
    return dnabert_state_dict(TinyDnabertSpec(), seed=0)


# --- ALiBi slopes ---


@pytest.mark.parametrize("heads", [4, 8, 12])
def test_alibi_slopes_match_hand_values(heads: int) -> None:
    computed = torch.tensor(alibi_slopes(heads), dtype=torch.float32)
    assert torch.equal(computed, reference_slopes(heads))


# --- packed forward against the reference ---


def test_packed_matches_one_at_a_time_reference_on_mixed_lengths(tiny_dir: Path, tiny_state: dict) -> None:
    model = load_dnabert_s(str(tiny_dir), CPU, env=ENV)
    batch = random_batch(LENGTHS, TinyDnabertSpec().vocab_size)
    pooled = model.embed_packed(*pack(batch))
    assert_close_to_reference(pooled, tiny_state, TinyDnabertSpec(), batch)


def test_sequences_do_not_see_each_other(tiny_dir: Path) -> None:
    """A sequence's vector is the same alone and packed between others (no cross-sequence attention)."""
    model = load_dnabert_s(str(tiny_dir), CPU, env=ENV)
    batch = random_batch([40, 25, 60], TinyDnabertSpec().vocab_size, seed=3)
    together = model.embed_packed(*pack(batch))
    alone = model.embed_packed(*pack([batch[1]]))
    assert (together[1] - alone[0]).abs().max().item() <= MAX_ABS


def test_tokenized_sequences_match_reference(tiny_dir: Path, tiny_state: dict) -> None:
    model = load_dnabert_s(str(tiny_dir), CPU, env=ENV)
    sequences = ["A", "ACGT", "ACGTTGCAAAATTTTGGGCCCATATATGCGC" * 5, "NNACGTN", "TTAGGC" * 80]
    batch = [model.tokenize(s) for s in sequences]
    assert all(ids[0] == 1 and ids[-1] == 2 for ids in batch)  # [CLS] ... [SEP]
    assert_close_to_reference(model.embed_packed(*pack(batch)), tiny_state, TinyDnabertSpec(), batch)


def test_non_power_of_two_heads_match_reference(tmp_path: Path) -> None:
    """12 heads (as in the real model): the slopes follow the interleaved rule, checked via the forward."""
    spec = TinyDnabertSpec(hidden_size=48, num_attention_heads=12, intermediate_size=40)
    write_dnabert_s_dir(tmp_path / "m12", spec, seed=5)
    model = load_dnabert_s(str(tmp_path / "m12"), CPU, env=ENV)
    batch = random_batch([5, 90, 200], spec.vocab_size, seed=7)
    assert_close_to_reference(model.embed_packed(*pack(batch)), dnabert_state_dict(spec, seed=5), spec, batch)


@pytest.mark.parametrize("backend", available_backends(CPU))
def test_every_backend_matches_reference(tiny_dir: Path, tiny_state: dict, backend: str) -> None:
    model = load_dnabert_s(str(tiny_dir), CPU, env=ENV, backend=backend)
    assert model.backend == backend
    batch = random_batch([1, 9, 70, 180], TinyDnabertSpec().vocab_size, seed=11)
    assert_close_to_reference(model.embed_packed(*pack(batch)), tiny_state, TinyDnabertSpec(), batch)


def test_backends_agree_with_each_other(tiny_dir: Path) -> None:
    batch = random_batch([3, 120, 45, 1, 260], TinyDnabertSpec().vocab_size, seed=13)
    outputs = {
        backend: load_dnabert_s(str(tiny_dir), CPU, env=ENV, backend=backend).embed_packed(*pack(batch))
        for backend in available_backends(CPU)
    }
    assert len(outputs) >= 2
    for (name_a, a), (name_b, b) in itertools.combinations(outputs.items(), 2):
        # Same float32 math in another order: measured <= 1e-6 here.
        assert (a - b).abs().max().item() <= MAX_ABS, (name_a, name_b)


def test_disable_packing_runs_padded_and_matches_reference(tiny_dir: Path, tiny_state: dict) -> None:
    model = load_dnabert_s(str(tiny_dir), CPU, env=EnvConfig(disable_packing=True))
    assert model.backend == "padded"
    batch = random_batch([2, 150, 17, 333, 64], TinyDnabertSpec().vocab_size, seed=17)
    assert_close_to_reference(model.embed_packed(*pack(batch)), tiny_state, TinyDnabertSpec(), batch)


@pytest.mark.parametrize("backend", available_backends(CPU))
def test_bfloat16_path_runs_on_cpu_close_to_reference(tiny_dir: Path, tiny_state: dict, backend: str) -> None:
    """The CUDA precision (bfloat16 weights, float32 LayerNorm and pooling), run on the CPU.

    Measured on LENGTHS over three seeds and every CPU backend: min cosine 0.99990, max abs diff 0.037
    (bfloat16 keeps 8 bits of mantissa); bounds 0.9995 and 0.1.
    """
    loaded = load_dnabert_s(str(tiny_dir), CPU, env=ENV, backend=backend)
    network = place_network(loaded.network, CPU, torch.bfloat16)
    model = DnabertSEmbedder(network, loaded.tokenizer, model_id="m", fingerprint=loaded.fingerprint, backend=backend)
    assert model.dtype == torch.bfloat16
    assert network.encoder.layer[1].mlp.layernorm.weight.dtype == torch.float32
    batch = random_batch([1, 9, 70, 180], TinyDnabertSpec().vocab_size, seed=19)
    pooled = model.embed_packed(*pack(batch))
    expected = torch.stack([reference_embedding(tiny_state, TinyDnabertSpec(), ids) for ids in batch])
    assert pooled.dtype == torch.float32
    assert torch.nn.functional.cosine_similarity(pooled.double(), expected.double(), dim=1).min().item() >= 0.9995
    assert (pooled - expected).abs().max().item() <= 0.1


def test_mean_includes_cls_and_sep(tiny_dir: Path) -> None:
    """The pooled vector is the mean over every token's last hidden state, [CLS] and [SEP] included."""
    model = load_dnabert_s(str(tiny_dir), CPU, env=ENV)
    token_ids, cu_seqlens, max_seqlen = pack([model.tokenize("ACGTACGGTTAC")])
    hidden = model.network(token_ids, cu_seqlens, max_seqlen, slopes=model.slopes, backend=model.backend)
    pooled = model.embed_packed(token_ids, cu_seqlens, max_seqlen)[0]
    assert torch.allclose(pooled, hidden.mean(0), atol=1e-6, rtol=0)
    assert (pooled - hidden[1:-1].mean(0)).abs().max().item() > 1e-2


def test_mean_pool_hand_computed() -> None:
    hidden = torch.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0], [-1.0, 0.5]])
    pooled = mean_pool(hidden, torch.tensor([0, 1, 4], dtype=torch.int32))
    # (3 + 5 - 1) / 3 and (4 + 6 + 0.5) / 3, rounded once to float32
    assert torch.equal(pooled, torch.tensor([[1.0, 2.0], [7 / 3, 3.5]], dtype=torch.float32))


def test_model_attributes(tiny_dir: Path) -> None:
    model = load_dnabert_s(str(tiny_dir), CPU, env=ENV)
    assert (model.kind, model.embedding_dim, model.dtype, model.device) == ("dnabert-s", 32, torch.float32, CPU)
    assert model.backend == "block-diagonal"
    assert model.model_id == str(tiny_dir)
    assert len(model.fingerprint) == 64


def test_unknown_backend_is_a_config_error(tiny_dir: Path) -> None:
    with pytest.raises(ConfigError, match="unknown attention backend 'fast'"):
        load_dnabert_s(str(tiny_dir), CPU, env=ENV, backend="fast")


# --- tokenizer ---


def hand_tokenizer(tmp_path: Path) -> Path:
    """specials 0..4, A C G T 5..8, AC 9, GT 10, ACGT 11 (merges A+C, G+T, AC+GT)."""
    vocab = {
        t: i
        for i, t in enumerate(["[UNK]", "[CLS]", "[SEP]", "[PAD]", "[MASK]", "A", "C", "G", "T", "AC", "GT", "ACGT"])
    }
    path = tmp_path / "tokenizer.json"
    path.write_text(json.dumps(tokenizer_json(vocab, [["A", "C"], ["G", "T"], ["AC", "GT"]])))
    return path


@pytest.mark.parametrize(
    ("sequence", "expected"),
    [
        ("", [1, 2]),
        ("A", [1, 5, 2]),
        ("ACGTA", [1, 11, 5, 2]),
        ("ACNGT", [1, 9, 0, 10, 2]),  # N is not in the vocabulary: [UNK], and it blocks the AC+GT merge
        ("acgt", [1, 0, 0, 0, 0, 2]),  # no normalizer: lower case is unknown, one [UNK] per letter
        ("TGCA", [1, 8, 7, 6, 5, 2]),
    ],
)
def test_tokenizer_hand_computed(tmp_path: Path, sequence: str, expected: list[int]) -> None:
    assert DnabertTokenizer(hand_tokenizer(tmp_path)).encode(sequence) == expected


def test_tokenizer_switches_off_stored_truncation_and_padding(tmp_path: Path) -> None:
    path = hand_tokenizer(tmp_path)
    raw = Tokenizer.from_file(str(path))
    assert len(raw.encode("ACGT").ids) == 2000  # what the file alone would do: pad to 2000
    ours = DnabertTokenizer(path)
    assert ours.encode("ACGT") == [1, 11, 2]
    long = ours.encode("ACGT" * 2500)
    assert long == [1] + [11] * 2500 + [2]  # 2502 tokens: not truncated at 2000


def test_tokenizer_matches_tokenizers_library(tiny_dir: Path) -> None:
    library = Tokenizer.from_file(str(tiny_dir / "tokenizer.json"))
    library.no_truncation()
    library.no_padding()
    model = load_dnabert_s(str(tiny_dir), CPU, env=ENV)
    generator = torch.Generator().manual_seed(2)
    letters = "ACGTN"
    sequences = ["", "GATTACA", "acgtACGT"]
    sequences += ["".join(letters[i] for i in torch.randint(0, 5, (n,), generator=generator)) for n in (10, 301, 6001)]
    for sequence in sequences:
        assert model.tokenize(sequence) == library.encode(sequence).ids


def test_tokenizer_without_cls_sep_template_is_rejected(tmp_path: Path) -> None:
    path = hand_tokenizer(tmp_path)
    data = json.loads(path.read_text())
    data["post_processor"] = None
    path.write_text(json.dumps(data))
    with pytest.raises(InputError, match=r"tokenizer\.json: tokenizer does not add \[CLS\] and \[SEP\]"):
        DnabertTokenizer(path)


# --- loading: formats, hub cache, errors ---


def test_safetensors_weights_give_the_same_vectors(tiny_dir: Path, tmp_path: Path) -> None:
    other = write_dnabert_s_dir(tmp_path / "st", seed=0, weights="safetensors")
    assert (other / "model.safetensors").is_file() and not (other / "pytorch_model.bin").exists()
    batch = random_batch([5, 50], TinyDnabertSpec().vocab_size)
    a = load_dnabert_s(str(tiny_dir), CPU, env=ENV).embed_packed(*pack(batch))
    b = load_dnabert_s(str(other), CPU, env=ENV).embed_packed(*pack(batch))
    assert torch.equal(a, b)


def test_masked_lm_checkpoint_with_bert_prefix_is_accepted(tiny_dir: Path, tmp_path: Path) -> None:
    """DNABERT-2-117M style: `bert.` prefix, an LM head, no pooler, an index buffer. Same vectors."""
    mlm = tmp_path / "mlm"
    shutil.copytree(tiny_dir, mlm)
    state = torch.load(mlm / "pytorch_model.bin", weights_only=True)
    renamed = {f"bert.{k}": v for k, v in state.items() if not k.startswith("pooler.")}
    renamed["cls.predictions.transform.dense.weight"] = torch.zeros(32, 32)
    renamed["cls.predictions.decoder.bias"] = torch.zeros(96)
    renamed["bert.embeddings.position_ids"] = torch.arange(512)[None]  # an index buffer, no weights
    torch.save(renamed, mlm / "pytorch_model.bin")
    batch = random_batch([12, 3], TinyDnabertSpec().vocab_size)
    a = load_dnabert_s(str(tiny_dir), CPU, env=ENV).embed_packed(*pack(batch))
    b = load_dnabert_s(str(mlm), CPU, env=ENV).embed_packed(*pack(batch))
    assert torch.equal(a, b)


def fake_hub_cache(root: Path, source: Path, *, ref: bool = True) -> Path:
    """A Hugging Face hub cache with the tiny model as zhihan1996/DNABERT-S."""
    repo = root / "models--zhihan1996--DNABERT-S"
    shutil.copytree(source, repo / "snapshots" / "0123abcd")
    if ref:
        (repo / "refs").mkdir(parents=True)
        (repo / "refs" / "main").write_text("0123abcd")
    return repo


def test_hub_id_resolves_from_hf_home(tiny_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_hub_cache(tmp_path / "hf" / "hub", tiny_dir)
    monkeypatch.delenv("HF_HUB_CACHE", raising=False)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    model = load_dnabert_s("zhihan1996/DNABERT-S", CPU, env=ENV)
    assert model.model_id == "zhihan1996/DNABERT-S"
    assert model.fingerprint == load_dnabert_s(str(tiny_dir), CPU, env=ENV).fingerprint


def test_hub_id_resolves_from_hf_hub_cache_without_refs(
    tiny_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_hub_cache(tmp_path / "cache", tiny_dir, ref=False)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "elsewhere"))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "cache"))
    assert load_dnabert_s("zhihan1996/DNABERT-S", CPU, env=ENV).embedding_dim == 32


def test_hub_id_absent_names_the_expected_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HF_HUB_CACHE", raising=False)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    with pytest.raises(InputError) as error:
        load_dnabert_s("zhihan1996/DNABERT-S", CPU, env=ENV)
    message = str(error.value)
    assert str(tmp_path / "hf" / "hub" / "models--zhihan1996--DNABERT-S" / "snapshots") in message
    assert "config.json, tokenizer.json and pytorch_model.bin or model.safetensors" in message


def test_fingerprint_follows_weights_and_tokenizer(tiny_dir: Path, tmp_path: Path) -> None:
    same = write_dnabert_s_dir(tmp_path / "same", seed=0)
    other_weights = write_dnabert_s_dir(tmp_path / "w", seed=0)
    torch.save(dnabert_state_dict(TinyDnabertSpec(), seed=1), other_weights / "pytorch_model.bin")
    other_tokenizer = write_dnabert_s_dir(tmp_path / "t", seed=0)
    (other_tokenizer / "tokenizer.json").write_text((tiny_dir / "tokenizer.json").read_text().replace("2000", "1999"))
    prints = [
        load_dnabert_s(str(d), CPU, env=ENV).fingerprint for d in (tiny_dir, same, other_weights, other_tokenizer)
    ]
    assert prints[0] == prints[1]
    assert len(set(prints[1:])) == 3


def _remove(name: str):
    def edit(directory: Path) -> None:
        (directory / name).unlink()

    return edit


def _truncate(name: str):
    def edit(directory: Path) -> None:
        data = (directory / name).read_bytes()
        (directory / name).write_bytes(data[: len(data) // 2])

    return edit


def _state_edit(change):
    def edit(directory: Path) -> None:
        state = torch.load(directory / "pytorch_model.bin", weights_only=True)
        change(state)
        torch.save(state, directory / "pytorch_model.bin")

    return edit


def _config_edit(**values):
    def edit(directory: Path) -> None:
        config = json.loads((directory / "config.json").read_text())
        config.update(values)
        (directory / "config.json").write_text(json.dumps(config))

    return edit


def _as_safetensors(state: dict):
    def edit(directory: Path) -> None:
        (directory / "pytorch_model.bin").unlink()
        save_file(state, str(directory / "model.safetensors"))

    return edit


def _truncated_safetensors(directory: Path) -> None:
    _as_safetensors(dnabert_state_dict(TinyDnabertSpec(), seed=0))(directory)
    _truncate("model.safetensors")(directory)


def _esm2_as_weights(directory: Path) -> None:
    write_esm2_checkpoint(directory / "esm2_t2_test.pt")
    (directory / "esm2_t2_test.pt").replace(directory / "pytorch_model.bin")


def _classifier_as_weights(directory: Path) -> None:
    write_test_classifier(directory / "pytorch_model.bin", 96, 0)


LOAD_ERRORS = [
    ("missing config", _remove("config.json"), "", "model directory is missing config.json"),
    ("missing tokenizer", _remove("tokenizer.json"), "", "model directory is missing tokenizer.json"),
    ("missing weights", _remove("pytorch_model.bin"), "", "missing pytorch_model.bin or model.safetensors"),
    ("truncated bin", _truncate("pytorch_model.bin"), "pytorch_model.bin", "truncated or corrupt"),
    ("truncated safetensors", _truncated_safetensors, "model.safetensors", "damaged"),
    ("truncated tokenizer", _truncate("tokenizer.json"), "tokenizer.json", "not a readable tokenizers"),
    ("broken config", _truncate("config.json"), "config.json", "not a readable JSON model config"),
    ("esm2 checkpoint", _esm2_as_weights, "pytorch_model.bin", "not a DNABERT-S checkpoint"),
    ("pickled classifier", _classifier_as_weights, "pytorch_model.bin", "not a DNABERT-S checkpoint"),
    (
        "foreign state dict",
        _as_safetensors({"embed_tokens.weight": torch.zeros(33, 64)}),
        "model.safetensors",
        r"not a DNABERT-S checkpoint \(no embeddings.word_embeddings.weight; found embed_tokens.weight\)",
    ),
    (
        "wrong shapes",
        _config_edit(intermediate_size=48),
        "pytorch_model.bin",
        r"encoder.layer.0.mlp.gated_layers.weight has shape \[128, 32\], expected \[96, 32\].*"
        r"encoder.layer.0.mlp.wo.weight has shape \[32, 64\], expected \[32, 48\]",
    ),
    (
        "missing and unexpected keys",
        _state_edit(lambda s: s.update({"encoder.layer.0.extra.weight": s.pop("encoder.layer.1.mlp.wo.bias")})),
        "pytorch_model.bin",
        r"1 missing key\(s\): encoder.layer.1.mlp.wo.bias; 1 unexpected key\(s\): encoder.layer.0.extra.weight",
    ),
    (
        "fewer layers in config",
        _config_edit(num_hidden_layers=1),
        "pytorch_model.bin",
        r"unexpected key\(s\): encoder.layer.1",
    ),
    (
        "pooler shape",
        _state_edit(lambda s: s.update({"pooler.dense.weight": torch.zeros(32, 16)})),
        "pytorch_model.bin",
        r"pooler.dense.weight has shape \[32, 16\], expected \[32, 32\]",
    ),
    ("bad config value", _config_edit(num_attention_heads=5), "config.json", "not divisible by num_attention_heads 5"),
    ("config without sizes", _config_edit(hidden_size=None), "config.json", "no 'hidden_size'"),
    ("vocab mismatch", _config_edit(vocab_size=50), "tokenizer.json", "tokenizer has 96 tokens but"),
]


@pytest.mark.parametrize(("case", "edit", "file", "message"), LOAD_ERRORS, ids=[c[0] for c in LOAD_ERRORS])
def test_loading_errors_name_the_path(tiny_dir: Path, tmp_path: Path, case: str, edit, file: str, message: str) -> None:
    broken = tmp_path / "broken"
    shutil.copytree(tiny_dir, broken)
    edit(broken)
    with pytest.raises(InputError, match=message) as error:
        load_dnabert_s(str(broken), CPU, env=ENV)
    assert str(broken / file) in str(error.value)


def test_a_file_instead_of_a_directory_is_not_a_dnabert_checkpoint(tmp_path: Path) -> None:
    path = write_esm2_checkpoint(tmp_path / "esm2_t2_test.pt")
    with pytest.raises(InputError, match="not a DNABERT-S checkpoint: expected a Hugging Face model directory"):
        load_dnabert_s(str(path), CPU, env=ENV)


def test_missing_path_that_is_not_a_hub_id(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="model directory not found"):
        load_dnabert_s(str(tmp_path / "nowhere" / "deeper"), CPU, env=ENV)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("backend", ["flex", "flash-attn", "block-diagonal", "padded"])
@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float32], ids=["bf16", "fp32"])
def test_cuda_matches_reference(tiny_dir: Path, tiny_state: dict, backend: str, dtype: torch.dtype) -> None:
    """Every CUDA backend with ALiBi (varlen has none), in both precisions, against the CPU reference."""
    cuda = torch.device("cuda")
    if backend not in available_backends(cuda):
        pytest.skip(f"{backend} not available here")
    if backend == "flash-attn" and dtype == torch.float32:
        pytest.skip("fused flash kernels need half precision")
    loaded = load_dnabert_s(str(tiny_dir), CPU, env=ENV)
    model = DnabertSEmbedder(
        place_network(loaded.network, cuda, dtype), loaded.tokenizer, model_id="m", fingerprint="f", backend=backend
    )
    batch = random_batch(LENGTHS, TinyDnabertSpec().vocab_size, seed=23)
    token_ids, cu_seqlens, max_seqlen = pack(batch)
    pooled = model.embed_packed(token_ids.to(cuda), cu_seqlens.to(cuda), max_seqlen).cpu()
    expected = torch.stack([reference_embedding(tiny_state, TinyDnabertSpec(), ids) for ids in batch])
    cosine = torch.nn.functional.cosine_similarity(pooled.double(), expected.double(), dim=1).min().item()
    max_abs = (pooled - expected).abs().max().item()
    print(f"cuda {backend} {dtype}: max abs diff {max_abs:.3g}, min cosine {cosine:.7f}")
    if dtype == torch.float32:
        # CPU measured 8.4e-7; CUDA kernels reorder sums, 1e-4 still catches any layout or bias bug (>= 3e-4).
        assert max_abs <= 1e-4
    else:
        # The bfloat16 run on the CPU measured min cosine 0.99990 (distance 1e-4) and max abs 0.037: bounds
        # 5x the distance (as the ESM-2 test, over its own 2e-5) and about 3x the difference.
        assert cosine >= 1 - 5 * 1e-4 and max_abs <= 0.1
