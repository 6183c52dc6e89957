"""One entry point to load an embedding model of either kind: check the device, dispatch, log the result.

Each kind's `<model>_checkpoint.load_<model>` resolves, reads, checks and places its model with the
precision and backend policy applied. The chosen device, precision and attention backend are logged
once, from the loaded model itself.
"""

from __future__ import annotations

import torch

from virnucpro.config import EnvConfig
from virnucpro.errors import InputError
from virnucpro.logging_setup import get_logger
from virnucpro.models import kinds
from virnucpro.models.base import EmbeddingModel
from virnucpro.models.dnabert_s_checkpoint import load_dnabert_s
from virnucpro.models.esm2_checkpoint import load_esm2
from virnucpro.models.precision import describe_precision

_LOADERS = {kinds.ESM2: load_esm2, kinds.DNABERT_S: load_dnabert_s}

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
    if kind not in _LOADERS:
        raise InputError(f"unknown model kind {kind!r}: choose one of {', '.join(kinds.MODEL_KINDS)}")
    loaded: EmbeddingModel = _LOADERS[kind](model, device, env=env, backend=backend)
    _log_once(loaded, env)
    return loaded


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
