"""Packed attention: every backend against an independent per-sequence reference, and the backend choice."""

from __future__ import annotations

import itertools
import math

import pytest
import torch
from virnucpro.config import EnvConfig
from virnucpro.errors import ConfigError
from virnucpro.models import attention
from virnucpro.models.attention import (
    available_backends,
    packed_attention,
    positions_in_sequence,
    select_backend,
    sequence_ids,
)

CPU = torch.device("cpu")
CPU_BACKENDS = available_backends(CPU)
# float32 attention vs a float64 reference: measured max abs diff 2e-7 to 4e-7 on these inputs (values of
# order 1, softmax over <= 64 keys); 1e-5 leaves a wide margin yet catches any masking or bias mistake,
# which moves outputs by 1e-2 or more.
ATOL = 1e-5


def _cu(lengths: list[int]) -> torch.Tensor:
    return torch.tensor([0, *itertools.accumulate(lengths)], dtype=torch.int32)


def _inputs(lengths: list[int], heads: int = 4, head_dim: int = 8, seed: int = 0):
    generator = torch.Generator().manual_seed(seed)
    total = sum(lengths)
    return [torch.randn((total, heads, head_dim), generator=generator) for _ in range(3)]


def _reference(q, k, v, lengths, scale, slopes=None) -> torch.Tensor:
    """Each sequence alone, in float64, with explicit softmax: the definition of the result."""
    outputs, start = [], 0
    for length in lengths:
        qs, ks, vs = (x[start : start + length].double() for x in (q, k, v))
        scores = torch.einsum("ihd,jhd->hij", qs, ks) * scale
        if slopes is not None:
            pos = torch.arange(length, dtype=torch.float64)
            scores = scores - slopes.double()[:, None, None] * (pos[:, None] - pos[None, :]).abs()
        outputs.append(torch.einsum("hij,jhd->ihd", scores.softmax(-1), vs))
        start += length
    return torch.cat(outputs)


LENGTH_SETS = [[5], [1, 7], [5, 64, 1, 33, 2], [17, 17, 17]]
SLOPES = torch.tensor([0.5, 0.25, 0.125, 0.0625])


@pytest.mark.parametrize("backend", CPU_BACKENDS)
@pytest.mark.parametrize("lengths", LENGTH_SETS, ids=str)
@pytest.mark.parametrize("alibi", [False, True], ids=["plain", "alibi"])
def test_backend_matches_per_sequence_reference(backend, lengths, alibi):
    q, k, v = _inputs(lengths)
    slopes = SLOPES if alibi else None
    out = packed_attention(q, k, v, _cu(lengths), max(lengths), scale=0.3, backend=backend, alibi_slopes=slopes)
    assert out.shape == q.shape and out.dtype == q.dtype
    torch.testing.assert_close(out.double(), _reference(q, k, v, lengths, 0.3, slopes), atol=ATOL, rtol=0)


@pytest.mark.parametrize("alibi", [False, True], ids=["plain", "alibi"])
def test_all_backends_agree_on_mixed_lengths(alibi):
    lengths = [3, 50, 1, 12]
    q, k, v = _inputs(lengths, seed=3)
    slopes = SLOPES if alibi else None
    outs = {
        b: packed_attention(q, k, v, _cu(lengths), 50, scale=0.25, backend=b, alibi_slopes=slopes) for b in CPU_BACKENDS
    }
    for a, b in itertools.combinations(outs, 2):
        torch.testing.assert_close(outs[a], outs[b], atol=ATOL, rtol=0, msg=f"{a} vs {b}")


@pytest.mark.parametrize("alibi", [False, True], ids=["plain", "alibi"])
def test_block_diagonal_cpu_runs_of_equal_lengths_give_the_same_answer(alibi):
    # On CPU runs of equal-length sequences are attended together: runs of one, several, mixed.
    lengths = [64, 64, 33, 12, 12, 12, 5, 2, 1, 1]
    q, k, v = _inputs(lengths, seed=11)
    slopes = SLOPES if alibi else None
    out = packed_attention(q, k, v, _cu(lengths), 64, scale=0.3, backend="block-diagonal", alibi_slopes=slopes)
    torch.testing.assert_close(out.double(), _reference(q, k, v, lengths, 0.3, slopes), atol=ATOL, rtol=0)


def test_equal_length_runs():
    assert attention.equal_length_runs([0, 5, 10, 13, 14, 15]) == [(0, 2, 5), (10, 1, 3), (13, 2, 1)]
    assert attention.equal_length_runs([0, 7]) == [(0, 1, 7)]


@pytest.mark.parametrize("backend", CPU_BACKENDS)
def test_sequences_do_not_see_each_other(backend):
    lengths = [4, 6]
    q, k, v = _inputs(lengths)
    before = packed_attention(q, k, v, _cu(lengths), 6, scale=1.0, backend=backend)
    k2, v2 = k.clone(), v.clone()
    k2[4:] += 5.0
    v2[4:] -= 3.0
    after = packed_attention(q, k2, v2, _cu(lengths), 6, scale=1.0, backend=backend)
    torch.testing.assert_close(after[:4], before[:4], atol=0, rtol=0)
    assert (after[4:] - before[4:]).abs().max() > 0.1


@pytest.mark.parametrize("backend", CPU_BACKENDS)
def test_alibi_bias_hand_computed(backend):
    # q = 0 makes every score 0 except the bias, so token 0 of a 2-token sequence weighs values by
    # softmax([0, -s]) = [1, e^-s] / (1 + e^-s). With v = (1, 0) the output is 1 / (1 + e^-s).
    slope = 0.7
    q = torch.zeros(2, 1, 1)
    k = torch.ones(2, 1, 1)
    v = torch.tensor([[[1.0]], [[0.0]]])
    out = packed_attention(q, k, v, _cu([2]), 2, scale=1.0, backend=backend, alibi_slopes=torch.tensor([slope]))
    assert out[0, 0, 0].item() == pytest.approx(1 / (1 + math.exp(-slope)), abs=1e-6)
    assert out[1, 0, 0].item() == pytest.approx(math.exp(-slope) / (1 + math.exp(-slope)), abs=1e-6)


def test_sequence_ids_and_positions():
    cu = _cu([2, 1, 3])
    assert sequence_ids(cu, 6).tolist() == [0, 0, 1, 2, 2, 2]
    assert positions_in_sequence(cu, 6).tolist() == [0, 1, 0, 0, 1, 2]


def test_cpu_backends_listed():
    assert {"block-diagonal", "padded"} <= set(available_backends(CPU))
    assert "varlen" not in available_backends(CPU)


@pytest.mark.parametrize(
    ("env", "requested", "expected"),
    [
        (EnvConfig(), None, "block-diagonal"),
        (EnvConfig(), "auto", "block-diagonal"),
        (EnvConfig(disable_packing=True), None, "padded"),
        (EnvConfig(disable_packing=True), "padded", "padded"),
        (EnvConfig(), "padded", "padded"),
        (EnvConfig(), "block-diagonal", "block-diagonal"),
    ],
)
def test_select_backend_on_cpu(env, requested, expected):
    assert select_backend(CPU, env, requested) == expected


@pytest.mark.skipif("varlen" not in available_backends(torch.device("cuda")), reason="torch without varlen_attn")
@pytest.mark.parametrize(
    ("env", "alibi", "dtype", "expected"),
    [
        (EnvConfig(), False, torch.bfloat16, "varlen"),
        (EnvConfig(), True, torch.bfloat16, "flex"),
        (EnvConfig(disable_fp16=True), False, torch.float32, "flex"),
        (EnvConfig(disable_packing=True), False, torch.bfloat16, "padded"),
    ],
)
def test_select_backend_automatic_choice_on_cuda(env, alibi, dtype, expected):
    # The choice is pure logic over what torch provides; no GPU is needed to check it.
    assert select_backend(torch.device("cuda"), env, None, alibi=alibi, dtype=dtype) == expected


@pytest.mark.parametrize(
    ("device", "env", "requested", "kwargs", "message"),
    [
        ("cpu", EnvConfig(), "fast", {}, "unknown attention backend 'fast'"),
        ("cpu", EnvConfig(), "varlen", {}, "cannot run on cpu"),
        ("cpu", EnvConfig(disable_packing=True), "block-diagonal", {}, "VIRNUCPRO_DISABLE_PACKING=1"),
        ("cuda", EnvConfig(), "varlen", {"alibi": True}, "has no ALiBi"),
        ("cuda", EnvConfig(), "varlen", {"dtype": torch.float32}, "needs float16/bfloat16"),
    ],
)
def test_select_backend_rejects(device, env, requested, kwargs, message):
    if requested == "varlen" and device == "cuda" and "varlen" not in available_backends(torch.device("cuda")):
        pytest.skip("torch without varlen_attn")
    with pytest.raises(ConfigError, match=message):
        select_backend(torch.device(device), env, requested, **kwargs)


def test_unknown_backend_in_packed_attention():
    q, k, v = _inputs([3])
    with pytest.raises(ConfigError, match="unknown attention backend"):
        packed_attention(q, k, v, _cu([3]), 3, scale=1.0, backend="nope")


CUDA = torch.device("cuda")
# bfloat16 inputs, float64 reference on the same rounded inputs: measured on CPU (block-diagonal, padded,
# flex; head_dim 64, lengths up to 700) max abs diff 0.013, i.e. a few bfloat16 ulps of outputs ~2.
# Fused CUDA kernels accumulate in float32 and round once, so they do no worse; 0.03 is asserted.
# float32 on CUDA: kernels reorder sums; 1e-4 is 10x the CPU bound and far below a masking error (1e-2).
CUDA_ATOL = {torch.bfloat16: 3e-2, torch.float32: 1e-4}


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("backend", ["flex", "varlen", "flash-attn", "block-diagonal", "padded"])
@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float32], ids=["bf16", "fp32"])
@pytest.mark.parametrize("alibi", [False, True], ids=["plain", "alibi"])
def test_cuda_backend_matches_reference(backend, dtype, alibi):
    if backend not in available_backends(CUDA):
        pytest.skip(f"{backend} not available here")
    if backend in ("varlen", "flash-attn") and dtype == torch.float32:
        pytest.skip("fused flash kernels need half precision")
    if backend == "varlen" and alibi:
        pytest.skip("varlen_attn has no ALiBi")
    lengths = [5, 700, 1, 130, 64]
    q, k, v = (x.to(dtype) for x in _inputs(lengths, heads=4, head_dim=64, seed=7))
    slopes = SLOPES if alibi else None
    out = packed_attention(
        q.to(CUDA),
        k.to(CUDA),
        v.to(CUDA),
        _cu(lengths).to(CUDA),
        max(lengths),
        scale=0.125,
        backend=backend,
        alibi_slopes=None if slopes is None else slopes.to(CUDA),
    )
    assert out.shape == q.shape and out.dtype == dtype
    expected = _reference(q, k, v, lengths, 0.125, slopes)
    torch.testing.assert_close(out.cpu().double(), expected, atol=CUDA_ATOL[dtype], rtol=0)


@pytest.mark.skipif("flex" not in CPU_BACKENDS, reason="torch without FlexAttention")
def test_flex_block_mask_is_rebuilt_for_each_batch():
    # The document mask is reused across the layers of one batch only: two batches with the same token
    # count but other boundaries, built one after the other, must each get their own mask.
    q, k, v = _inputs([8])
    for lengths in ([3, 5], [5, 3], [3, 5], [8]):
        out = packed_attention(q, k, v, _cu(lengths), max(lengths), scale=0.5, backend="flex")
        torch.testing.assert_close(out.double(), _reference(q, k, v, lengths, 0.5), atol=ATOL, rtol=0)
