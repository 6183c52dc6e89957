"""The precision policy: float32 on CPU, bfloat16 on CUDA unless VIRNUCPRO_DISABLE_FP16."""

from __future__ import annotations

import pytest
import torch
from virnucpro.config import EnvConfig
from virnucpro.models.precision import choose_precision, describe_precision, dtype_name


@pytest.mark.parametrize(
    ("device", "env", "expected"),
    [
        ("cpu", EnvConfig(), torch.float32),
        ("cpu", EnvConfig(disable_fp16=True), torch.float32),
        ("cuda", EnvConfig(), torch.bfloat16),
        ("cuda:1", EnvConfig(), torch.bfloat16),
        ("cuda", EnvConfig(disable_fp16=True), torch.float32),
        ("cuda", EnvConfig.from_environ({"VIRNUCPRO_DISABLE_FP16": "1"}), torch.float32),
        ("cuda", EnvConfig.from_environ({"VIRNUCPRO_DISABLE_FP16": "false"}), torch.bfloat16),
    ],
)
def test_choose_precision(device, env, expected):
    assert choose_precision(torch.device(device), env) == expected


def test_descriptions_say_why():
    cpu = describe_precision(torch.device("cpu"), torch.float32, EnvConfig())
    assert cpu == "float32 weights and activations (default on cpu)"
    forced = describe_precision(torch.device("cuda"), torch.float32, EnvConfig(disable_fp16=True))
    assert "VIRNUCPRO_DISABLE_FP16=1" in forced
    half = describe_precision(torch.device("cuda"), torch.bfloat16, EnvConfig())
    assert half.startswith("bfloat16 weights and activations") and "float32" in half and "pooling" in half


def test_dtype_name():
    assert dtype_name(torch.bfloat16) == "bfloat16"
    assert dtype_name(torch.float32) == "float32"
