"""Deterministic random checkpoints in exactly the published formats, for tests, the test profile and benchmarks.

`write_test_models(DIR)` writes a DNABERT-S Hugging Face directory, a fair-esm ESM-2 `.pt` with its
contact-regression file and a pickled classifier whose input width fits the two; the writers of each
format are below, one section per model. Same seed, same bytes; loading them goes through the same code
as loading the real checkpoints. Nothing here runs when the real models are used.

`write_test_models(DIR, full_size=True)` writes the same three at the published sizes instead (DNABERT-S
12 x 768 with a 4096-token vocabulary, ESM-2 36 x 2560 in float16 as the published 3B file, about
6.3 GB in all): random weights cost what the real ones cost to load and run.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import save_file
from torch import nn

from virnucpro.models.classifier import CLASS_NAMES, DEFAULT_HIDDEN_DIM
from virnucpro.models.esm2 import ESM2Config
from virnucpro.models.esm2_alphabet import ALPHABET_SIZE, PAD_ID
from virnucpro.models.esm2_checkpoint import expected_shapes

DNABERT_DIR = "dnabert-s"
ESM2_FILE = "esm2_t2_test.pt"
ESM2_EMBED_DIM = 64
FULL_ESM2_FILE = "esm2_t36_3B_random.pt"
# The published esm2_t36_3B_UR50D.pt holds float16 tensors (5,678,116,398 bytes for 2.84e9 parameters);
# the smaller published ESM-2 files are float32.
FULL_ESM2_DTYPE = torch.float16
CLASSIFIER_FILE = "classifier.pth"
SPECIAL_TOKENS = ("[UNK]", "[CLS]", "[SEP]", "[PAD]", "[MASK]")
NUCLEOTIDES = ("A", "C", "G", "T")
TOKENIZER_MAX_LENGTH = 2000  # the published tokenizer.json truncates and pads to this; loaders switch it off


@dataclass(frozen=True)
class TinyDnabertSpec:
    """Sizes of a tiny DNABERT-S (the real one: 768 hidden, 12 layers, 12 heads, 3072, vocab 4096)."""

    hidden_size: int = 32
    num_hidden_layers: int = 2
    num_attention_heads: int = 4
    intermediate_size: int = 64
    vocab_size: int = 96


# The published DNABERT-S sizes; its vocabulary is learnt with the `tokenizers` trainer (4087 merges, as the
# real file has), which the plain trainer below is too slow for.
FULL_DNABERT = TinyDnabertSpec(
    hidden_size=768, num_hidden_layers=12, num_attention_heads=12, intermediate_size=3072, vocab_size=4096
)
FULL_ESM2 = {"num_layers": 36, "embed_dim": 2560, "heads": 40}
_PLAIN_BPE_MAX_VOCAB = 512


@dataclass(frozen=True)
class TinyModelPaths:
    """Where `write_test_models` put each model, and the directory holding them."""

    dnabert_s: Path
    esm2: Path
    classifier: Path
    directory: Path


def write_test_models(directory: str | Path, seed: int = 0, *, full_size: bool = False) -> TinyModelPaths:
    """Write the three models under `directory` (created if needed); same seed, same bytes.

    Layout: `dnabert-s/` (HF directory), `esm2_t2_test.pt` (+ `esm2_t2_test-contact-regression.pt`),
    `classifier.pth` (input width = DNABERT-S hidden + ESM-2 embed dim). With `full_size`, the published
    shapes and the ESM-2 file `esm2_t36_3B_random.pt` in float16 (see the module docstring).
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    spec = FULL_DNABERT if full_size else TinyDnabertSpec()
    esm2_file = FULL_ESM2_FILE if full_size else ESM2_FILE
    paths = TinyModelPaths(directory / DNABERT_DIR, directory / esm2_file, directory / CLASSIFIER_FILE, directory)
    write_dnabert_s_dir(paths.dnabert_s, spec, seed=seed)
    if full_size:
        write_esm2_checkpoint(paths.esm2, **FULL_ESM2, seed=seed, dtype=FULL_ESM2_DTYPE)
        esm2_width = FULL_ESM2["embed_dim"]
    else:
        write_esm2_checkpoint(paths.esm2, num_layers=2, embed_dim=ESM2_EMBED_DIM, heads=4, seed=seed)
        esm2_width = ESM2_EMBED_DIM
    write_test_classifier(paths.classifier, spec.hidden_size + esm2_width, seed)
    return paths


# --- ESM-2: a fair-esm .pt file ---


def write_esm2_checkpoint(
    path: str | Path,
    *,
    num_layers: int = 2,
    embed_dim: int = 64,
    heads: int = 4,
    seed: int = 0,
    dtype: torch.dtype = torch.float32,
) -> Path:
    """Write a tiny random ESM-2 checkpoint that fair-esm itself loads, plus its contact-regression file.

    The weights are random but not degenerate (layer norms are not identity), so that a test comparing
    two forward passes exercises every parameter.

    Args:
        path: the `.pt` file to write; its stem should start with `esm2` (fair-esm picks its loader by name).
        num_layers, embed_dim, heads: model shape (embed_dim divisible by 2 * heads).
        seed: random seed; the same arguments give the same bytes of weights.
        dtype: dtype of the stored tensors (float16 for the published 3B file); drawn in float32 first.

    Returns:
        The path written. `<stem>-contact-regression.pt` is written beside it.
    """
    path = Path(path)
    config = ESM2Config(num_layers=num_layers, embed_dim=embed_dim, attention_heads=heads, token_dropout=True)
    generator = torch.Generator().manual_seed(seed)
    state = {}
    for key, shape in expected_shapes(config).items():
        state[key] = _random_tensor(key, shape, generator).to(dtype)  # one tensor at a time in float32
    state["embed_tokens.weight"][PAD_ID] = 0.0  # nn.Embedding(padding_idx=...) keeps the pad row at zero
    head_dim = config.head_dim
    inv_freq = 1.0 / (10000 ** (torch.arange(0, head_dim, 2).float() / head_dim))
    for i in range(num_layers):
        state[f"layers.{i}.self_attn.rot_emb.inv_freq"] = inv_freq.to(dtype).clone()
    lm_head = _random_lm_head(embed_dim, state["embed_tokens.weight"], generator)
    state.update({key: value.to(dtype) for key, value in lm_head.items()})
    prefixed = {
        (f"encoder.{key}" if key.startswith("lm_head") else f"encoder.sentence_encoder.{key}"): value
        for key, value in state.items()
    }
    cfg = argparse.Namespace(
        encoder_layers=num_layers, encoder_embed_dim=embed_dim, encoder_attention_heads=heads, token_dropout=True
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"model": prefixed, "cfg": {"model": cfg}}, path)
    regression = {
        "contact_head.regression.weight": torch.randn((1, num_layers * heads), generator=generator) * 0.1,
        "contact_head.regression.bias": torch.zeros(1),
    }
    torch.save({"model": regression}, path.with_name(f"{path.stem}-contact-regression.pt"))
    return path


def _random_tensor(key: str, shape: tuple[int, ...], generator: torch.Generator) -> torch.Tensor:
    """Random weights of a sensible scale: ~1/sqrt(fan_in) for matrices, 1 +- 0.2 for norm gains."""
    noise = torch.randn(shape, generator=generator)
    if "layer_norm" in key and key.endswith(".weight"):
        return 1.0 + 0.2 * noise
    if key.endswith(".bias"):
        return 0.1 * noise
    if key == "embed_tokens.weight":
        return noise
    return noise / shape[-1] ** 0.5


def _random_lm_head(embed_dim: int, embed_tokens: torch.Tensor, generator: torch.Generator) -> dict[str, torch.Tensor]:
    """The masked-LM head fair-esm's ESM2 carries (its weight is tied to the token embeddings)."""
    return {
        "lm_head.weight": embed_tokens.clone(),
        "lm_head.bias": torch.zeros(ALPHABET_SIZE),
        "lm_head.dense.weight": torch.randn((embed_dim, embed_dim), generator=generator) / embed_dim**0.5,
        "lm_head.dense.bias": torch.zeros(embed_dim),
        "lm_head.layer_norm.weight": torch.ones(embed_dim),
        "lm_head.layer_norm.bias": torch.zeros(embed_dim),
    }


# --- DNABERT-S: a Hugging Face model directory ---


def write_dnabert_s_dir(
    directory: str | Path, spec: TinyDnabertSpec = TinyDnabertSpec(), *, seed: int = 0, weights: str = "bin"
) -> Path:
    """A DNABERT-S Hugging Face directory with seeded weights and a small BPE tokenizer.

    Args:
        directory: created if needed.
        spec: model sizes.
        seed: seeds the tokenizer's training DNA and the weights.
        weights: "bin" writes `pytorch_model.bin` (plain state dict, as published), "safetensors" writes
            `model.safetensors` (as newer mirrors do).

    Returns:
        `directory`.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    trainer = train_bpe if spec.vocab_size <= _PLAIN_BPE_MAX_VOCAB else train_bpe_at_scale
    vocab, merges = trainer(spec.vocab_size, seed=seed)
    _write_json(directory / "tokenizer.json", tokenizer_json(vocab, merges))
    _write_json(directory / "tokenizer_config.json", _tokenizer_config())
    _write_json(directory / "special_tokens_map.json", _special_tokens_map())
    _write_json(directory / "config.json", dnabert_config_json(spec))
    state = dnabert_state_dict(spec, seed=seed)
    files = {"bin": directory / "pytorch_model.bin", "safetensors": directory / "model.safetensors"}
    if weights not in files:
        raise ValueError(f"weights must be 'bin' or 'safetensors', not {weights!r}")
    for path in files.values():
        path.unlink(missing_ok=True)  # a stale file of the other format would be loaded instead
    if weights == "safetensors":
        save_file(state, str(files["safetensors"]), metadata={"format": "pt"})
    else:
        torch.save(state, files["bin"])
    return directory


def train_bpe(vocab_size: int, *, seed: int, sequences: int = 40, length: int = 150) -> tuple[dict[str, int], list]:
    """A byte-pair vocabulary learnt from seeded random DNA, ids laid out like the real file.

    Ids: the five special tokens 0..4, A C G T 5..8, then one token per merge in merge order. Each step
    merges the most frequent adjacent pair (ties: the alphabetically first), as BPE training does.

    Returns:
        (vocab token -> id, merges as [left, right] pairs in rank order).
    """
    rng = np.random.default_rng(seed)
    # Skewed base composition so that frequent pairs exist and merges are not all ties.
    letters = rng.choice(np.array(NUCLEOTIDES), size=(sequences, length), p=[0.4, 0.1, 0.2, 0.3])
    words = [list(row) for row in letters]
    vocab = {token: index for index, token in enumerate(SPECIAL_TOKENS + NUCLEOTIDES)}
    merges: list[list[str]] = []
    while len(vocab) < vocab_size:
        counts = Counter(pair for word in words for pair in itertools.pairwise(word))
        if not counts:
            break
        left, right = min(counts, key=lambda pair: (-counts[pair], pair))
        merges.append([left, right])
        vocab.setdefault(left + right, len(vocab))
        words = [_merge_word(word, left, right) for word in words]
    return vocab, merges


def train_bpe_at_scale(vocab_size: int, *, seed: int, sequences: int = 2000, length: int = 1000) -> tuple[dict, list]:
    """`train_bpe` for real vocabulary sizes, with the `tokenizers` trainer on 2 Mb of seeded random DNA.

    The trainer lays the ids out as the real file does (special tokens, A C G T, then merges in order) and
    is deterministic; on random DNA of this composition a 4096-token vocabulary averages ~4.8 nt per token
    (the real vocabulary ~5 on genomes).
    """
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers

    rng = np.random.default_rng(seed)
    letters = rng.choice(np.array(NUCLEOTIDES), size=(sequences, length), p=[0.3, 0.2, 0.2, 0.3])
    tokenizer = Tokenizer(models.BPE(unk_token="[UNK]"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=list(SPECIAL_TOKENS),
        initial_alphabet=list(NUCLEOTIDES),
        limit_alphabet=len(NUCLEOTIDES),
        show_progress=False,
    )
    tokenizer.train_from_iterator(("".join(row) for row in letters), trainer)
    model = json.loads(tokenizer.to_str())["model"]
    merges = [merge.split(" ") if isinstance(merge, str) else list(merge) for merge in model["merges"]]
    return dict(model["vocab"]), merges


def _merge_word(word: list[str], left: str, right: str) -> list[str]:
    """`word` with every non-overlapping (left, right) pair, scanning left to right, joined."""
    out: list[str] = []
    index = 0
    while index < len(word):
        if index + 1 < len(word) and word[index] == left and word[index + 1] == right:
            out.append(left + right)
            index += 2
        else:
            out.append(word[index])
            index += 1
    return out


def tokenizer_json(vocab: dict[str, int], merges: list) -> dict:
    """`tokenizer.json` with the published structure: BPE, no normalizer, whitespace pre-tokenizer,
    `[CLS] $A [SEP]` template, stored truncation and fixed padding to 2000."""
    added = [_added_token(vocab[token], token) for token in SPECIAL_TOKENS]
    return {
        "version": "1.0",
        "truncation": {
            "direction": "Right",
            "max_length": TOKENIZER_MAX_LENGTH,
            "strategy": "LongestFirst",
            "stride": 0,
        },
        "padding": {
            "strategy": {"Fixed": TOKENIZER_MAX_LENGTH},
            "direction": "Right",
            "pad_to_multiple_of": None,
            "pad_id": vocab["[PAD]"],
            "pad_type_id": 0,
            "pad_token": "[PAD]",
        },
        "added_tokens": added,
        "normalizer": None,
        "pre_tokenizer": {"type": "Whitespace"},
        "post_processor": _template_processing(vocab),
        "decoder": None,
        "model": {
            "type": "BPE",
            "dropout": None,
            "unk_token": "[UNK]",
            "continuing_subword_prefix": None,
            "end_of_word_suffix": None,
            "fuse_unk": False,
            "byte_fallback": False,
            "vocab": vocab,
            "merges": [f"{left} {right}" for left, right in merges],
        },
    }


def _added_token(token_id: int, content: str) -> dict:
    return {
        "id": token_id,
        "content": content,
        "single_word": False,
        "lstrip": False,
        "rstrip": False,
        "normalized": False,
        "special": True,
    }


def _template_processing(vocab: dict[str, int]) -> dict:
    """Post-processor: `[CLS] $A [SEP]` for one sequence, `[CLS] $A [SEP] $B:1 [SEP]:1` for pairs."""

    def special(token: str, type_id: int) -> dict:
        return {"SpecialToken": {"id": token, "type_id": type_id}}

    def sequence(name: str, type_id: int) -> dict:
        return {"Sequence": {"id": name, "type_id": type_id}}

    return {
        "type": "TemplateProcessing",
        "single": [special("[CLS]", 0), sequence("A", 0), special("[SEP]", 0)],
        "pair": [special("[CLS]", 0), sequence("A", 0), special("[SEP]", 0), sequence("B", 1), special("[SEP]", 1)],
        "special_tokens": {
            token: {"id": token, "ids": [vocab[token]], "tokens": [token]} for token in ("[CLS]", "[SEP]")
        },
    }


def _tokenizer_config() -> dict:
    return {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "model_max_length": 1000000000000000019884624838656,
        "cls_token": "[CLS]",
        "mask_token": "[MASK]",
        "pad_token": "[PAD]",
        "sep_token": "[SEP]",
        "unk_token": "[UNK]",
    }


def _special_tokens_map() -> dict:
    return {
        "cls_token": "[CLS]",
        "mask_token": "[MASK]",
        "pad_token": "[PAD]",
        "sep_token": "[SEP]",
        "unk_token": "[UNK]",
    }


def dnabert_config_json(spec: TinyDnabertSpec) -> dict:
    """`config.json` with the published keys (remote-code `auto_map` included), tiny sizes."""
    return {
        "_name_or_path": "zhihan1996/DNABERT-S",
        "alibi_starting_size": 512,
        "architectures": ["BertModel"],
        "attention_probs_dropout_prob": 0.0,
        "auto_map": {
            "AutoConfig": "configuration_bert.BertConfig",
            "AutoModel": "bert_layers.BertModel",
            "AutoModelForMaskedLM": "bert_layers.BertForMaskedLM",
            "AutoModelForSequenceClassification": "bert_layers.BertForSequenceClassification",
        },
        "classifier_dropout": None,
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1,
        "hidden_size": spec.hidden_size,
        "initializer_range": 0.02,
        "intermediate_size": spec.intermediate_size,
        "layer_norm_eps": 1e-12,
        "max_position_embeddings": 512,
        "model_type": "bert",
        "num_attention_heads": spec.num_attention_heads,
        "num_hidden_layers": spec.num_hidden_layers,
        "pad_token_id": 0,
        "position_embedding_type": "absolute",
        "torch_dtype": "float32",
        "type_vocab_size": 2,
        "vocab_size": spec.vocab_size,
    }


def dnabert_state_dict(spec: TinyDnabertSpec, *, seed: int) -> dict[str, torch.Tensor]:
    """Seeded weights under the published key names, pooler included.

    Weights are scaled by 1/sqrt(fan_in), not BERT's 0.02, so that attention is sharp and every head,
    slope and half of the GLU visibly changes the output (tests then catch a swapped half or head).
    """
    generator = torch.Generator().manual_seed(seed)
    hidden, inner = spec.hidden_size, spec.intermediate_size

    def linear(name: str, rows: int, cols: int, bias: bool = True) -> dict[str, torch.Tensor]:
        out = {f"{name}.weight": torch.randn(rows, cols, generator=generator) / math.sqrt(cols)}
        if bias:
            out[f"{name}.bias"] = torch.randn(rows, generator=generator) * 0.1
        return out

    def layer_norm(name: str) -> dict[str, torch.Tensor]:
        return {
            f"{name}.weight": 1.0 + 0.1 * torch.randn(hidden, generator=generator),
            f"{name}.bias": 0.1 * torch.randn(hidden, generator=generator),
        }

    state = {
        "embeddings.word_embeddings.weight": torch.randn(spec.vocab_size, hidden, generator=generator),
        "embeddings.token_type_embeddings.weight": torch.randn(2, hidden, generator=generator) * 0.5,
        **layer_norm("embeddings.LayerNorm"),
    }
    for index in range(spec.num_hidden_layers):
        prefix = f"encoder.layer.{index}"
        state.update(linear(f"{prefix}.attention.self.Wqkv", 3 * hidden, hidden))
        state.update(linear(f"{prefix}.attention.output.dense", hidden, hidden))
        state.update(layer_norm(f"{prefix}.attention.output.LayerNorm"))
        state.update(linear(f"{prefix}.mlp.gated_layers", 2 * inner, hidden, bias=False))
        state.update(linear(f"{prefix}.mlp.wo", hidden, inner))
        state.update(layer_norm(f"{prefix}.mlp.layernorm"))
    state.update(linear("pooler.dense", hidden, hidden))
    return state


def _write_json(path: Path, data: dict) -> None:
    """JSON in a stable layout (insertion order, two-space indent, final newline) so bytes repeat."""
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


# --- the classifier: a module pickled by the original training script ---


class _OriginalMLPClassifier(nn.Module):
    """The training script's class as it was pickled (attribute order and init included; forward unused)."""

    def __init__(self, input_dim: int, hidden_dim: int, num_class: int) -> None:
        super().__init__()
        self.hidden_layer = nn.Linear(input_dim, hidden_dim)
        self.bn1 = nn.BatchNorm1d(hidden_dim)
        self.output_layer = nn.Linear(hidden_dim, num_class)
        self.dropout = nn.Dropout(0.5)
        nn.init.xavier_uniform_(self.hidden_layer.weight)
        nn.init.xavier_uniform_(self.output_layer.weight)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.relu(self.bn1(self.hidden_layer(x)))
        return self.output_layer(self.dropout(x))


# Pickle records a class by module and name; the published files name `__main__.MLPClassifier`.
_OriginalMLPClassifier.__module__ = "__main__"
_OriginalMLPClassifier.__qualname__ = "MLPClassifier"
_OriginalMLPClassifier.__name__ = "MLPClassifier"


@contextmanager
def mlp_classifier_in_main(cls: type) -> Iterator[None]:
    """Make `cls` the `__main__.MLPClassifier` inside the block, then restore what was there.

    Pickle records a class by module and name and checks, when saving, that the name leads back to the
    class; unpickling the published files unrestricted, as the original scripts did, looks the name up.
    """
    main = sys.modules["__main__"]
    missing = object()
    previous = getattr(main, "MLPClassifier", missing)
    main.MLPClassifier = cls
    try:
        yield
    finally:
        if previous is missing:
            del main.MLPClassifier
        else:
            main.MLPClassifier = previous


def save_as_original(path: str | Path, state: dict[str, torch.Tensor]) -> None:
    """`torch.save` a whole `__main__.MLPClassifier` module holding `state`, as the training script did."""
    hidden_dim, input_dim = state["hidden_layer.weight"].shape
    num_class = state["output_layer.weight"].shape[0]
    module = _OriginalMLPClassifier(int(input_dim), int(hidden_dim), int(num_class))
    module.load_state_dict(state)
    with mlp_classifier_in_main(_OriginalMLPClassifier):
        torch.save(module.eval(), path)


def write_test_classifier(path: str | Path, input_dim: int, seed: int, hidden_dim: int = DEFAULT_HIDDEN_DIM) -> None:
    """Write a tiny, seeded classifier in the published pickled-module form (for tests and the demo).

    BatchNorm gets non-trivial running statistics so that scoring in train mode would give other numbers.
    """
    generator = torch.Generator().manual_seed(seed)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        module = _OriginalMLPClassifier(input_dim, hidden_dim, len(CLASS_NAMES))
    state = {k: v.clone() for k, v in module.state_dict().items()}
    state["bn1.running_mean"] = torch.randn(hidden_dim, generator=generator) * 0.05
    # small variances spread the tiny models' embeddings (hidden-unit spread about 0.1) over both classes
    state["bn1.running_var"] = torch.rand(hidden_dim, generator=generator) * 0.015 + 0.005
    state["bn1.weight"] = torch.rand(hidden_dim, generator=generator) + 0.5
    state["bn1.bias"] = torch.randn(hidden_dim, generator=generator) * 0.1
    state["bn1.num_batches_tracked"] = torch.tensor(1000, dtype=torch.long)
    save_as_original(path, state)
