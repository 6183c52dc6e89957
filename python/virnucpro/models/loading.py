"""One entry point to load an embedding model of either kind, with the precision and backend policy applied.

`load_embedding_model("esm2", ...)` reads a fair-esm checkpoint (a `.pt` path or a name found in the torch
hub cache); `load_embedding_model("dnabert-s", ...)` delegates to `virnucpro.models.dnabert_s`. Either
way the chosen device, precision and attention backend are logged once, from the loaded model itself.
"""

from __future__ import annotations

import hashlib

import torch

from virnucpro.config import EnvConfig
from virnucpro.errors import InputError
from virnucpro.logging_setup import get_logger
from virnucpro.models.attention import select_backend
from virnucpro.models.base import EmbeddingModel
from virnucpro.models.esm2 import ESM2Model, build_esm2
from virnucpro.models.esm2_checkpoint import ESM2Config, load_esm2_checkpoint, resolve_esm2_checkpoint
from virnucpro.models.kinds import MODEL_KINDS
from virnucpro.models.precision import choose_precision, describe_precision

log = get_logger("models")
_logged: set[tuple[str, str, str, str, str]] = set()


def load_embedding_model(
    kind: str, model: str, device: torch.device, *, env: EnvConfig, backend: str | None = None
) -> EmbeddingModel:
    """Load an embedding model onto `device`, in the precision the policy chooses.

    Args:
        kind: "esm2" or "dnabert-s".
        model: a path (ESM-2 `.pt` file; DNABERT-S Hugging Face directory) or a hub name resolved from
            the local caches (`esm2_t36_3B_UR50D`; `zhihan1996/DNABERT-S`). Nothing is downloaded.
        device: where to run (the runner resolves "auto").
        env: runtime settings (`disable_fp16`, `disable_packing`).
        backend: attention backend name, or None / "auto" for the automatic choice.

    Returns:
        A model implementing `virnucpro.models.base.EmbeddingModel`.

    Raises:
        InputError: unknown kind, unusable device, or a missing / damaged / foreign checkpoint (naming its path).
        ConfigError: an attention backend that cannot run here.
    """
    device = torch.device(device)
    _check_device(device)
    if kind == "esm2":
        loaded: EmbeddingModel = load_esm2(model, device, env=env, backend=backend)
    elif kind == "dnabert-s":
        from virnucpro.models.dnabert_s import load_dnabert_s

        loaded = load_dnabert_s(model, device, env=env, backend=backend)
    else:
        raise InputError(f"unknown model kind {kind!r}: choose one of {', '.join(MODEL_KINDS)}")
    _log_once(loaded, env)
    return loaded


def load_esm2(model: str, device: torch.device, *, env: EnvConfig, backend: str | None = None) -> ESM2Model:
    """Load a fair-esm ESM-2 checkpoint (path or hub-cache name); see `load_embedding_model`."""
    path = resolve_esm2_checkpoint(model)
    config, state = load_esm2_checkpoint(path)
    dtype = choose_precision(device, env)
    chosen = select_backend(device, env, backend, alibi=False, dtype=dtype)
    return build_esm2(
        config,
        state,
        device=device,
        dtype=dtype,
        backend=chosen,
        model_id=model,
        fingerprint=fingerprint_state(config, state),
    )


def fingerprint_state(config: ESM2Config, state: dict[str, torch.Tensor]) -> str:
    """sha256 of the model shape and every tensor's name, dtype, shape and bytes (not the file name)."""
    digest = hashlib.sha256(repr(config).encode("utf-8"))
    for key in sorted(state):
        tensor = state[key].detach().contiguous().cpu()
        digest.update(f"\0{key}\0{tensor.dtype}\0{tuple(tensor.shape)}\0".encode())
        digest.update(tensor.reshape(-1).view(torch.uint8).numpy())
    return digest.hexdigest()


def _check_device(device: torch.device) -> None:
    """Fail before reading gigabytes of weights when the device cannot be used."""
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise InputError(f"device {device} requested but CUDA is not available here (use --device cpu)")
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise InputError(f"device {device} does not exist: {torch.cuda.device_count()} CUDA device(s) visible")
    elif device.type != "cpu":
        raise InputError(f"device {device} is not supported: use cpu or cuda[:N]")


def _log_once(model: EmbeddingModel, env: EnvConfig) -> None:
    """Log device, precision and attention backend once per distinct combination, read from the model."""
    key = (model.kind, model.model_id, str(model.device), str(model.dtype), model.backend)
    if key in _logged:
        return
    _logged.add(key)
    log.info(
        "%s %s on %s: %s; attention backend %s",
        model.kind,
        model.model_id,
        model.device,
        describe_precision(model.device, model.dtype, env),
        model.backend,
    )
