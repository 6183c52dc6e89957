"""The precision policy, in one place: which dtype a model computes in on which device.

- CPU: float32 (bfloat16 matmuls on CPU are slow and gain nothing).
- CUDA: bfloat16 weights and activations by default; LayerNorm (`Float32LayerNorm`, kept float32 by
  `place_network`), softmax, rotary/ALiBi tables and the pooled mean are still computed in float32.
- `VIRNUCPRO_DISABLE_FP16=1`: float32 everywhere, also on CUDA.
"""

from __future__ import annotations

from typing import TypeVar

import torch
import torch.nn.functional as F
from torch import nn

from virnucpro.config import EnvConfig

Network = TypeVar("Network", bound=nn.Module)


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


class Float32LayerNorm(nn.LayerNorm):
    """LayerNorm computed in float32 whatever the activation dtype; the result is cast back.

    Under bfloat16 the mean and variance of hundreds of values lose digits that deep stacks amplify.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.layer_norm(x.float(), self.normalized_shape, self.weight.float(), self.bias.float(), self.eps)
        return out.to(x.dtype)


def place_network(network: Network, device: torch.device, dtype: torch.dtype) -> Network:
    """Move `network` to `device` in `dtype` for inference, keeping `Float32LayerNorm` parameters float32.

    Each tensor is cast once, to its own target: layer-norm parameters never pass through `dtype`, so
    under bfloat16 they keep every float32 digit (`weights.place_state` applies the same rule).

    Returns:
        `network` itself, in eval mode.
    """
    network.to(device=device).eval()
    for module in network.modules():
        target = torch.float32 if isinstance(module, Float32LayerNorm) else dtype
        for tensor in [*module.parameters(recurse=False), *module.buffers(recurse=False)]:
            if tensor.is_floating_point():
                tensor.data = tensor.data.to(target)
    return network
