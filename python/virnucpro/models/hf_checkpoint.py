"""Find and read a Hugging Face model directory: hub-cache lookup, config.json, weights, fingerprint.

Only plain data is read: `config.json` as JSON, weights with `torch.load(weights_only=True)` or
safetensors. Remote code shipped next to the weights is never imported.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import re
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file

from virnucpro.errors import InputError

CONFIG_FILE = "config.json"
TOKENIZER_FILE = "tokenizer.json"
WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")
REQUIRED_DESCRIPTION = "config.json, tokenizer.json and pytorch_model.bin or model.safetensors"

_HUB_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*/[A-Za-z0-9][A-Za-z0-9_.\-]*$")
_fingerprint_cache: dict[tuple[tuple[str, int, int], ...], str] = {}


@dataclass(frozen=True)
class ModelFiles:
    """The files of one model directory that the native loader reads."""

    directory: Path
    config: Path
    tokenizer: Path
    weights: Path


def hub_cache_dir(environ: Mapping[str, str] | None = None) -> Path:
    """The Hugging Face hub cache: `$HF_HUB_CACHE`, else `$HF_HOME/hub`, else `~/.cache/huggingface/hub`."""
    environ = os.environ if environ is None else environ
    if environ.get("HF_HUB_CACHE"):
        return Path(environ["HF_HUB_CACHE"]).expanduser()
    if environ.get("HF_HOME"):
        return Path(environ["HF_HOME"]).expanduser() / "hub"
    return Path("~/.cache/huggingface/hub").expanduser()


def resolve_model_dir(model: str, environ: Mapping[str, str] | None = None) -> Path:
    """A local model directory for `model`: an existing path, or a hub ID found in the local cache.

    Raises:
        InputError: the path does not exist and `model` is not a hub ID, or the hub ID is not cached.
    """
    path = Path(model).expanduser()
    if path.exists():
        return path
    if not _HUB_ID.match(model):
        raise InputError(f"{model}: model directory not found (expected a directory with {REQUIRED_DESCRIPTION})")
    return _cached_snapshot(model, hub_cache_dir(environ))


def _cached_snapshot(model_id: str, cache: Path) -> Path:
    """The snapshot directory `refs/main` points at (or the only snapshot) for a hub ID in `cache`."""
    repo = cache / ("models--" + model_id.replace("/", "--"))
    expected = f"{repo}/snapshots/<revision>/ (named by {repo}/refs/main) holding {REQUIRED_DESCRIPTION}"
    advice = (
        "pass a model directory (`virnucpro fetch-models --dest DIR --only dnabert-s` writes DIR/DNABERT-S) or "
        f"fill the cache on a machine with internet access (`huggingface-cli download {model_id}`)"
    )
    ref = repo / "refs" / "main"
    if ref.is_file():
        revision = ref.read_text(encoding="utf-8").strip()
        snapshot = repo / "snapshots" / revision
        if snapshot.is_dir():
            return snapshot
        raise InputError(f"{model_id}: {ref} names revision {revision!r} but {snapshot} does not exist; {advice}")
    snapshots = sorted(p for p in (repo / "snapshots").glob("*") if p.is_dir())
    if len(snapshots) == 1:
        return snapshots[0]
    if len(snapshots) > 1:
        raise InputError(f"{model_id}: several snapshots in {repo}/snapshots and no refs/main; pass one as a path")
    raise InputError(
        f"{model_id}: no such directory, and not in the local Hugging Face cache; expected {expected}; {advice}"
    )


def find_model_files(directory: Path, kind_name: str) -> ModelFiles:
    """The config, tokenizer and weights files of a model directory, checking each exists.

    `model.safetensors` is preferred over `pytorch_model.bin` when both exist (no pickle involved).

    Raises:
        InputError: `directory` is not a directory, or a required file is missing (all are named).
    """
    if not directory.is_dir():
        raise InputError(
            f"{directory}: not a {kind_name} checkpoint: expected a Hugging Face model directory "
            f"with {REQUIRED_DESCRIPTION}"
        )
    missing = [name for name in (CONFIG_FILE, TOKENIZER_FILE) if not (directory / name).is_file()]
    weights = [directory / name for name in WEIGHT_FILES if (directory / name).is_file()]
    if not weights:
        missing.append(" or ".join(reversed(WEIGHT_FILES)))
    if missing:
        raise InputError(f"{directory}: {kind_name} model directory is missing {', '.join(missing)}")
    return ModelFiles(directory, directory / CONFIG_FILE, directory / TOKENIZER_FILE, weights[0])


def read_config(path: Path) -> dict[str, object]:
    """`config.json` as a dict.

    Raises:
        InputError: unreadable or not a JSON object.
    """
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise InputError(f"{path}: not a readable JSON model config ({error})") from error
    if not isinstance(data, dict):
        raise InputError(f"{path}: expected a JSON object, found {type(data).__name__}")
    return data


def load_state_dict(path: Path, kind_name: str) -> dict[str, torch.Tensor]:
    """A plain state dict from `pytorch_model.bin` (weights only, no code runs) or `model.safetensors`.

    Both are memory-mapped where the format allows (safetensors always, `.bin` in torch's zip format), so
    `weights.place_state` can place the tensors one at a time.

    Raises:
        InputError: truncated or corrupt file, a pickle holding anything but tensors (for example a
            whole pickled module or an ESM-2 checkpoint), or not a flat name -> tensor mapping.
    """
    try:
        if path.suffix == ".safetensors":
            state = load_file(str(path), device="cpu")
        else:
            state = torch.load(str(path), map_location="cpu", weights_only=True, mmap=zipfile.is_zipfile(path))
    except (SafetensorError, pickle.UnpicklingError) as error:
        raise InputError(f"{path}: not a {kind_name} checkpoint, or a damaged one ({_first_line(error)})") from error
    except (RuntimeError, EOFError, OSError, ValueError) as error:
        raise InputError(
            f"{path}: cannot read the {kind_name} weights: truncated or corrupt ({_first_line(error)})"
        ) from error
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise InputError(f"{path}: not a {kind_name} checkpoint (expected a plain state dict of tensors)")
    return state


def _first_line(error: BaseException) -> str:
    """The first line of an exception message; torch's unpickling errors run to many lines."""
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0]


def fingerprint_files(paths: list[Path]) -> str:
    """sha256 over the bytes of `paths` in order, each prefixed by its name; cached by path, mtime and size.

    The digest names checkpoints made with these weights, so it must change whenever a byte changes.
    """
    key = tuple((str(p.resolve()), p.stat().st_mtime_ns, p.stat().st_size) for p in paths)
    if key not in _fingerprint_cache:
        digest = hashlib.sha256()
        for path in paths:
            digest.update(path.name.encode("utf-8") + b"\0")
            with path.open("rb") as handle:
                for block in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(block)
        _fingerprint_cache[key] = digest.hexdigest()
    return _fingerprint_cache[key]
