"""DNABERT-S checkpoints (Hugging Face model directories): resolve, read config.json, check weights, load.

The state dict is matched against the native network (prefixes, unused heads, keys, shapes) and every
difference is listed in one error naming the file, so a wrong or damaged checkpoint is never half-loaded.
Finding and reading the directory's files is `hf_checkpoint`'s job.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import torch

from virnucpro.config import EnvConfig
from virnucpro.errors import InputError
from virnucpro.models.attention import select_backend
from virnucpro.models.dnabert_s import DnabertS, DnabertSConfig, DnabertSEmbedder
from virnucpro.models.dnabert_s_tokenizer import DnabertTokenizer
from virnucpro.models.hf_checkpoint import (
    ModelFiles,
    find_model_files,
    fingerprint_files,
    load_state_dict,
    read_config,
    resolve_model_dir,
)
from virnucpro.models.precision import choose_precision
from virnucpro.models.weights import meta_modules, place_state

KIND_NAME = "DNABERT-S"

# A masked-LM checkpoint (DNABERT-2-117M style) nests the encoder under `bert.` and adds an LM head.
MLM_PREFIX = "bert."
MLM_HEAD_PREFIX = "cls.predictions."
# Present in the published DNABERT-S file, unused by the mean-pooled embedding.
POOLER_PREFIX = "pooler.dense."
# Index buffers some Hugging Face saves include; they hold no weights (positions come from ALiBi, types are 0).
INDEX_BUFFERS = ("embeddings.position_ids", "embeddings.token_type_ids")
MARKER_KEY = "embeddings.word_embeddings.weight"
_LISTED = 12


def check_state_dict(
    found: Mapping[str, torch.Tensor], expected: Mapping[str, torch.Tensor], path: Path
) -> dict[str, torch.Tensor]:
    """The tensors of `found` renamed and filtered to exactly the keys of `expected`, shapes checked.

    Args:
        found: the state dict read from the checkpoint file.
        expected: the native model's state dict (key -> tensor of the right shape).
        path: the checkpoint file, for messages.

    Returns:
        A new dict with exactly the keys of `expected`.

    Raises:
        InputError: not a DNABERT-S state dict, missing or unexpected keys, or shape mismatches.
    """
    state = _normalise_keys(found)
    if MARKER_KEY not in state:
        sample = ", ".join(sorted(found)[:5]) or "no tensors at all"
        raise InputError(f"{path}: not a DNABERT-S checkpoint (no {MARKER_KEY}; found {sample})")
    hidden = expected[MARKER_KEY].shape[1]
    pooler = {key: state.pop(key) for key in list(state) if key.startswith(POOLER_PREFIX)}
    problems = _key_problems(state, expected)
    problems += _shape_problems(state, expected)
    problems += _shape_problems(pooler, {"pooler.dense.weight": (hidden, hidden), "pooler.dense.bias": (hidden,)})
    if problems:
        raise InputError(f"{path}: does not match its config.json as a DNABERT-S checkpoint: " + "; ".join(problems))
    return dict(state)


def _normalise_keys(found: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Drop the masked-LM head and `bert.` prefix of a masked-LM checkpoint, and weightless index buffers."""
    state = dict(found)
    if any(key.startswith(MLM_PREFIX) for key in state):
        state = {
            key.removeprefix(MLM_PREFIX): value for key, value in state.items() if not key.startswith(MLM_HEAD_PREFIX)
        }
    return {key: value for key, value in state.items() if key not in INDEX_BUFFERS}


def _key_problems(state: Mapping[str, torch.Tensor], expected: Mapping[str, torch.Tensor]) -> list[str]:
    """Messages listing missing and unexpected keys (sorted, at most a dozen of each, with a count)."""
    problems = []
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    if missing:
        problems.append(f"{len(missing)} missing key(s): {_listing(missing)}")
    if unexpected:
        problems.append(f"{len(unexpected)} unexpected key(s): {_listing(unexpected)}")
    return problems


def _shape_problems(state: Mapping[str, torch.Tensor], expected: Mapping[str, object]) -> list[str]:
    """Messages naming each key whose tensor shape differs from the expected one."""
    problems = []
    for key in sorted(set(state) & set(expected)):
        want = tuple(_shape(expected[key]))
        have = tuple(state[key].shape)
        if want != have:
            problems.append(f"{key} has shape {list(have)}, expected {list(want)}")
    return problems


def _shape(value: object) -> tuple[int, ...]:
    return tuple(value.shape) if isinstance(value, torch.Tensor) else tuple(value)  # type: ignore[arg-type]


def _listing(keys: list[str]) -> str:
    shown = ", ".join(keys[:_LISTED])
    return shown if len(keys) <= _LISTED else f"{shown}, ... ({len(keys) - _LISTED} more)"


def resolve_dnabert_s(model: str) -> ModelFiles:
    """The config, tokenizer and weights files of `model`: a model directory, or a hub ID in the local cache.

    Raises:
        InputError: no such directory or cached hub ID, or a required file is missing (all are named).
    """
    return find_model_files(resolve_model_dir(model), KIND_NAME)


def read_dnabert_s_config(path: Path) -> DnabertSConfig:
    """The fields of `config.json` the forward needs, checked; every problem names `path` and the field.

    Raises:
        InputError: unreadable JSON, a missing or non-positive field, or a hidden size the heads do not divide.
    """
    data = read_config(path)
    values: dict[str, object] = {}
    for name in ("hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size", "vocab_size"):
        values[name] = _positive_int(data, name, path)
    values["type_vocab_size"] = _positive_int(data, "type_vocab_size", path, default=2)
    eps = data.get("layer_norm_eps", 1e-12)
    if isinstance(eps, bool) or not isinstance(eps, (int, float)) or eps <= 0:
        raise InputError(f"{path}: layer_norm_eps must be a positive number, found {eps!r}")
    config = DnabertSConfig(**values, layer_norm_eps=float(eps))  # type: ignore[arg-type]
    if config.hidden_size % config.num_attention_heads:
        raise InputError(
            f"{path}: hidden_size {config.hidden_size} is not divisible by "
            f"num_attention_heads {config.num_attention_heads}"
        )
    return config


def _positive_int(data: dict[str, object], name: str, path: Path, default: int | None = None) -> int:
    """One positive integer field of `config.json`."""
    value = data.get(name, default)
    if value is None:
        raise InputError(f"{path}: config.json has no {name!r}; is this a DNABERT-S model directory?")
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InputError(f"{path}: {name} must be a positive integer, found {value!r}")
    return value


def load_dnabert_s(model: str, device: torch.device, *, env: EnvConfig, backend: str | None = None) -> DnabertSEmbedder:
    """Load a DNABERT-S model directory (or a hub ID from the local cache) onto `device`.

    Args:
        model: a Hugging Face model directory with config.json, tokenizer.json and pytorch_model.bin or
            model.safetensors; or a hub ID such as `zhihan1996/DNABERT-S` found in the local HF cache.
        device: where to run.
        env: runtime settings (precision policy, packing switch).
        backend: an attention backend name, or None / "auto" to choose one.

    Returns:
        A `DnabertSEmbedder`, in eval mode, ready for `embed_packed`.

    Raises:
        InputError: missing files, a damaged or foreign checkpoint, or keys / shapes that do not match
            config.json; every message names the path.
        ConfigError: an attention backend that cannot run here.
    """
    files = resolve_dnabert_s(model)
    config = read_dnabert_s_config(files.config)
    tokenizer = DnabertTokenizer(files.tokenizer)
    if tokenizer.vocab_size > config.vocab_size:
        raise InputError(
            f"{files.tokenizer}: tokenizer has {tokenizer.vocab_size} tokens but {files.config} says "
            f"vocab_size {config.vocab_size}; they belong to different models"
        )
    with meta_modules():
        network = DnabertS(config)  # no random weights: each tensor is placed straight from the file
    state = check_state_dict(load_state_dict(files.weights, KIND_NAME), network.state_dict(), files.weights)
    device = torch.device(device)
    dtype = choose_precision(device, env)
    place_state(network, state, device, dtype, mapped_file=files.weights)
    chosen = select_backend(device, env, backend, alibi=True, dtype=dtype)
    fingerprint = fingerprint_files([files.weights, files.tokenizer, files.config])
    return DnabertSEmbedder(network, tokenizer, model_id=model, fingerprint=fingerprint, backend=chosen)
