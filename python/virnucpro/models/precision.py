"""The precision policy, in one place: which dtype a model computes in on which device.

- CPU: float32 (bfloat16 matmuls on CPU are slow and gain nothing).
- CUDA: bfloat16 weights and activations by default; LayerNorm, softmax, rotary/ALiBi tables and the
  pooled mean are still computed in float32 (the models do that at the lines concerned).
- `VIRNUCPRO_DISABLE_FP16=1`: float32 everywhere, also on CUDA.
"""

from __future__ import annotations

import torch

from virnucpro.config import EnvConfig


def choose_precision(device: torch.device, env: EnvConfig) -> torch.dtype:
    """The compute dtype of weights and activations for a model on `device`.

    Args:
        device: where the model runs.
        env: runtime settings; `env.disable_fp16` forces float32.

    Returns:
        torch.bfloat16 on CUDA unless disabled, else torch.float32.
    """
    if torch.device(device).type == "cuda" and not env.disable_fp16:
        return torch.bfloat16
    return torch.float32


def describe_precision(device: torch.device, dtype: torch.dtype, env: EnvConfig) -> str:
    """One line saying what runs in which precision and why, for the log and output metadata."""
    device = torch.device(device)
    if dtype == torch.float32:
        if device.type == "cuda":
            reason = "VIRNUCPRO_DISABLE_FP16=1" if env.disable_fp16 else "requested"
        else:
            reason = f"default on {device.type}"
        return f"float32 weights and activations ({reason})"
    return f"{dtype_name(dtype)} weights and activations; float32 layer norms, position tables and pooling"


def dtype_name(dtype: torch.dtype) -> str:
    """'float32' / 'bfloat16': the short name used in logs and embedding-file metadata."""
    return str(dtype).removeprefix("torch.")
