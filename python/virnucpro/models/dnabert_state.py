"""Match a loaded DNABERT-S state dict against the native model: prefixes, unused heads, keys, shapes.

Every difference is listed in one error naming the file, so a wrong or damaged checkpoint is never
half-loaded.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import torch

from virnucpro.errors import InputError

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
