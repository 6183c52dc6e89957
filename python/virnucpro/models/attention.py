"""Attention over packed sequences, behind one interface with interchangeable backends.

A packed batch is many sequences concatenated into one token stream of shape (total_tokens, heads,
head_dim) with `cu_seqlens` marking where each sequence starts. Every backend computes the same thing:
softmax(scale * q.k + bias) v, each token attending only to tokens of its own sequence, with an optional
ALiBi bias -slope_h * |i - j| (DNABERT-S). Backends differ only in speed and where they run:

- "flex":           FlexAttention with a document mask and an ALiBi score modifier (compiled on CUDA,
                    eager on CPU so the same code is testable there).
- "varlen":         `torch.nn.attention.varlen.varlen_attn` (fused flash kernel; CUDA, half precision,
                    no ALiBi).
- "flash-attn":     the optional `flash_attn` package's varlen kernel (CUDA, half precision, ALiBi).
- "block-diagonal": attention confined to each sequence by SDPA (CPU and CUDA). On CUDA one call over the
                    whole stream with a block-diagonal mask; on CPU one unmasked call per run of
                    equal-length sequences, so no work is spent on masked-out pairs.
- "padded":         unpack to a (batch, max_len) padded batch with a key padding mask, the way the
                    reference ran; models may also run their whole forward padded (see `padded_attention`).

A model builds one layout object per forward pass (`PackedLayout` or `PaddedLayout`) and hands it to
every layer; a layer only calls `layout.attend(q, k, v, scale=...)`.
"""

from __future__ import annotations

import functools
import importlib.util
import itertools
import warnings
import weakref
from dataclasses import dataclass
from typing import Protocol

import torch
import torch.nn.functional as F

from virnucpro.config import EnvConfig
from virnucpro.errors import ConfigError

ALL_BACKENDS = ("flex", "varlen", "flash-attn", "block-diagonal", "padded")


def available_backends(device: torch.device) -> list[str]:
    """Backends that can run on `device` in this installation, fastest first.

    Args:
        device: the device the model runs on.

    Returns:
        Backend names; "block-diagonal" and "padded" are always present.
    """
    names = []
    if _has_flex():
        names.append("flex")
    if torch.device(device).type == "cuda":
        if _has_torch_varlen():
            names.append("varlen")
        if importlib.util.find_spec("flash_attn") is not None:
            names.append("flash-attn")
    names += ["block-diagonal", "padded"]
    return names


def select_backend(
    device: torch.device,
    env: EnvConfig,
    requested: str | None,
    *,
    alibi: bool = False,
    dtype: torch.dtype | None = None,
) -> str:
    """The attention backend to use: the requested one if it can run, else the automatic choice.

    Automatic choice: "padded" when `VIRNUCPRO_DISABLE_PACKING` is set; on CPU "block-diagonal"; on CUDA
    "varlen" for half precision without ALiBi, else "flex", else "block-diagonal".

    Args:
        device: where the model runs.
        env: runtime settings; `env.disable_packing` selects "padded".
        requested: a backend name, or None / "auto" for the automatic choice.
        alibi: whether the model adds an ALiBi bias (not every fused kernel supports one).
        dtype: the compute dtype, when known (fused flash kernels need float16/bfloat16).

    Raises:
        ConfigError: the requested backend is unknown, cannot run here, or contradicts
            VIRNUCPRO_DISABLE_PACKING.
    """
    device = torch.device(device)
    if requested is not None and requested != "auto":
        return _check_requested(device, env, requested, alibi=alibi, dtype=dtype)
    if env.disable_packing:
        return "padded"
    if device.type != "cuda":
        return "block-diagonal"
    available = available_backends(device)
    half = dtype in (torch.float16, torch.bfloat16)
    if half and not alibi and "varlen" in available:
        return "varlen"
    if "flex" in available:
        return "flex"
    return "block-diagonal"


def _check_requested(
    device: torch.device, env: EnvConfig, requested: str, *, alibi: bool, dtype: torch.dtype | None
) -> str:
    """Validate an explicitly requested backend; raise a ConfigError that says what would work."""
    available = available_backends(device)
    if requested not in ALL_BACKENDS:
        raise ConfigError(f"unknown attention backend {requested!r}: choose one of {', '.join(ALL_BACKENDS)}")
    if requested not in available:
        raise ConfigError(
            f"attention backend {requested!r} cannot run on {device} here: available are {', '.join(available)}"
        )
    if env.disable_packing and requested != "padded":
        raise ConfigError(
            f"VIRNUCPRO_DISABLE_PACKING=1 selects the 'padded' attention path, but {requested!r} was requested: "
            "unset one of the two"
        )
    if requested == "varlen" and alibi:
        raise ConfigError("attention backend 'varlen' has no ALiBi bias: use 'flex' or 'block-diagonal'")
    if requested in ("varlen", "flash-attn") and dtype is not None and dtype not in (torch.float16, torch.bfloat16):
        raise ConfigError(
            f"attention backend {requested!r} needs float16/bfloat16, but the model runs in {dtype}: "
            "unset VIRNUCPRO_DISABLE_FP16 or choose 'flex' / 'block-diagonal'"
        )
    return requested


def packed_attention(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    cu_seqlens: torch.Tensor,
    max_seqlen: int,
    *,
    scale: float,
    backend: str,
    alibi_slopes: torch.Tensor | None = None,
) -> torch.Tensor:
    """Attention of a packed token stream, confined to each sequence.

    Args:
        q, k, v: (total_tokens, heads, head_dim), the sequences concatenated.
        cu_seqlens: int (num_sequences + 1,) cumulative lengths starting at 0 and ending at total_tokens.
        max_seqlen: the longest sequence, in tokens.
        scale: multiplier of q.k (usually head_dim ** -0.5; pass 1.0 if q is already scaled).
        backend: one of `ALL_BACKENDS` (see `select_backend`).
        alibi_slopes: optional float (heads,); adds -slope_h * |i - j| within each sequence.

    Returns:
        (total_tokens, heads, head_dim) in q's dtype.
    """
    if backend == "block-diagonal":
        return _block_diagonal(q, k, v, cu_seqlens, scale=scale, alibi_slopes=alibi_slopes)
    if backend == "padded":
        return _padded_packed(q, k, v, cu_seqlens, max_seqlen, scale=scale, alibi_slopes=alibi_slopes)
    if backend == "flex":
        return _flex(q, k, v, cu_seqlens, scale=scale, alibi_slopes=alibi_slopes)
    if backend == "varlen":
        if alibi_slopes is not None:
            raise ConfigError("attention backend 'varlen' has no ALiBi bias: use 'flex' or 'block-diagonal'")
        return _torch_varlen(q, k, v, cu_seqlens, max_seqlen, scale=scale)
    if backend == "flash-attn":
        return _flash_attn(q, k, v, cu_seqlens, max_seqlen, scale=scale, alibi_slopes=alibi_slopes)
    raise ConfigError(f"unknown attention backend {backend!r}: choose one of {', '.join(ALL_BACKENDS)}")


def padded_attention(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    key_padding_mask: torch.Tensor | None,
    *,
    scale: float,
    alibi_slopes: torch.Tensor | None = None,
) -> torch.Tensor:
    """Attention of a padded batch, the reference layout.

    Args:
        q, k, v: (batch, seq_len, heads, head_dim).
        key_padding_mask: bool (batch, seq_len), True at padding positions (never attended to); or None.
        scale: multiplier of q.k.
        alibi_slopes: optional float (heads,); adds -slope_h * |i - j|.

    Returns:
        (batch, seq_len, heads, head_dim); rows at padding positions hold finite but meaningless values.
    """
    length = q.shape[1]
    bias = None
    if alibi_slopes is not None:
        positions = torch.arange(length, device=q.device)
        bias = _alibi_bias(alibi_slopes, positions, positions)[None]  # (1, H, L, L)
    if key_padding_mask is not None:
        keep = ~key_padding_mask[:, None, None, :]  # (B, 1, 1, L)
        bias = _apply_keep(bias, keep)
    out = _sdpa(q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2), bias, scale)
    return out.transpose(1, 2)


class AttentionLayout(Protocol):
    """How the tokens of one batch are laid out, and so how a layer attends over them."""

    def attend(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, *, scale: float) -> torch.Tensor:
        """softmax(scale * q.k + bias) v, each token attending only within its own sequence."""
        ...


@dataclass(frozen=True, eq=False)
class PackedLayout:
    """A packed token stream: `packed_attention` with the batch's bounds, the backend and optional ALiBi.

    Attributes:
        cu_seqlens: int (num_sequences + 1,) cumulative lengths; the same tensor for every layer (the
            "flex" backend reuses its block mask while it sees the same tensor).
        max_seqlen: the longest sequence, in tokens.
        backend: one of `ALL_BACKENDS`.
        alibi_slopes: float (heads,) or None.
    """

    cu_seqlens: torch.Tensor
    max_seqlen: int
    backend: str
    alibi_slopes: torch.Tensor | None = None

    def attend(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, *, scale: float) -> torch.Tensor:
        """(total_tokens, heads, head_dim) in, the same shape out."""
        return packed_attention(
            q,
            k,
            v,
            self.cu_seqlens,
            self.max_seqlen,
            scale=scale,
            backend=self.backend,
            alibi_slopes=self.alibi_slopes,
        )


@dataclass(frozen=True, eq=False)
class PaddedLayout:
    """A (batch, seq_len) padded batch: `padded_attention` with its key padding mask (True = padding)."""

    key_padding_mask: torch.Tensor

    def attend(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, *, scale: float) -> torch.Tensor:
        """(batch, seq_len, heads, head_dim) in, the same shape out."""
        return padded_attention(q, k, v, self.key_padding_mask, scale=scale)


def sequence_ids(cu_seqlens: torch.Tensor, total_tokens: int) -> torch.Tensor:
    """Index of the sequence each packed token belongs to: int64 (total_tokens,)."""
    lengths = (cu_seqlens[1:] - cu_seqlens[:-1]).long()
    return torch.repeat_interleave(
        torch.arange(lengths.numel(), device=cu_seqlens.device), lengths, output_size=total_tokens
    )


def positions_in_sequence(cu_seqlens: torch.Tensor, total_tokens: int) -> torch.Tensor:
    """Position of each packed token within its own sequence, counted from 0: int64 (total_tokens,)."""
    seq = sequence_ids(cu_seqlens, total_tokens)
    return torch.arange(total_tokens, device=cu_seqlens.device) - cu_seqlens.long()[seq]


def _alibi_bias(slopes: torch.Tensor, pos_q: torch.Tensor, pos_k: torch.Tensor) -> torch.Tensor:
    """ALiBi bias (H, Lq, Lk) = -slope_h * |i - j|, in float32 whatever the model dtype."""
    distance = (pos_q[:, None] - pos_k[None, :]).abs().float()
    return -slopes.float()[:, None, None] * distance


def _apply_keep(bias: torch.Tensor | None, keep: torch.Tensor) -> torch.Tensor:
    """Combine an additive bias with a boolean keep-mask (True = attend) into one SDPA mask."""
    if bias is None:
        return keep
    return bias.masked_fill(~keep, float("-inf"))


def _sdpa(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, mask: torch.Tensor | None, scale: float) -> torch.Tensor:
    """SDPA on (B, H, L, D); a float mask is cast to the compute dtype (fused kernels require it)."""
    if mask is not None and mask.dtype != torch.bool and mask.dtype != q.dtype:
        mask = mask.to(q.dtype)
    return F.scaled_dot_product_attention(q, k, v, attn_mask=mask, scale=scale)


def _block_diagonal(q, k, v, cu_seqlens, *, scale, alibi_slopes):
    """Attention within each sequence, by SDPA.

    On CUDA one call covers the whole stream with a block-diagonal mask: cutting it would need the
    lengths on the host, a device synchronisation per layer. On CPU a mask costs more than it saves: the
    masked call computes every pair of the stream (a 512-token batch of 64-token sequences does 8 times
    the needed work), building the mask takes as long again, and a float mask of that shape sends SDPA
    down its unfused path. So the stream is cut into runs of consecutive sequences of equal length (the
    packer places them side by side, longest first) and each run is one unmasked batched call; ALiBi adds
    one small (heads, L, L) bias per run.
    """
    if q.device.type == "cuda":
        return _block_diagonal_group(q, k, v, cu_seqlens, scale=scale, alibi_slopes=alibi_slopes)
    output = torch.empty(q.shape, dtype=q.dtype, device=q.device)  # contiguous, whatever q's strides
    for start, count, length in equal_length_runs(cu_seqlens.tolist()):
        rows = slice(start, start + count * length)
        q_run, k_run, v_run = [x[rows].view(count, length, *x.shape[1:]).transpose(1, 2) for x in (q, k, v)]
        bias = None
        if alibi_slopes is not None:
            positions = torch.arange(length, device=q.device)
            bias = _alibi_bias(alibi_slopes, positions, positions)[None]  # (1, H, L, L)
        out = _sdpa(q_run, k_run, v_run, bias, scale)  # (count, H, L, D)
        output[rows].view(count, length, *q.shape[1:]).copy_(out.transpose(1, 2))
    return output


def equal_length_runs(cu_seqlens: list[int]) -> list[tuple[int, int, int]]:
    """(first token, number of sequences, length) of each run of consecutive equal-length sequences."""
    runs: list[tuple[int, int, int]] = []
    for start, end in itertools.pairwise(cu_seqlens):
        length = end - start
        if runs and runs[-1][2] == length:
            first, count, _ = runs[-1]
            runs[-1] = (first, count + 1, length)
        else:
            runs.append((start, 1, length))
    return runs


def _block_diagonal_group(q, k, v, cu_seqlens, *, scale, alibi_slopes):
    """One SDPA call over a packed stream with a (T, T) block-diagonal mask."""
    total = q.shape[0]
    seq = sequence_ids(cu_seqlens, total)
    keep = seq[:, None] == seq[None, :]  # (T, T)
    bias = None
    if alibi_slopes is not None:
        # Within one sequence |i - j| of global indices equals that of in-sequence positions.
        index = torch.arange(total, device=q.device)
        bias = _alibi_bias(alibi_slopes, index, index)  # (H, T, T)
    mask = _apply_keep(bias, keep)
    out = _sdpa(q.transpose(0, 1)[None], k.transpose(0, 1)[None], v.transpose(0, 1)[None], mask, scale)
    return out[0].transpose(0, 1)


def _padded_packed(q, k, v, cu_seqlens, max_seqlen, *, scale, alibi_slopes):
    """Unpack to (B, max_seqlen), attend with a key padding mask, pack the result back."""
    total = q.shape[0]
    seq = sequence_ids(cu_seqlens, total)
    pos = positions_in_sequence(cu_seqlens, total)
    batch = cu_seqlens.numel() - 1

    def pad(x: torch.Tensor) -> torch.Tensor:
        out = x.new_zeros((batch, max_seqlen, *x.shape[1:]))
        out[seq, pos] = x
        return out

    padding = torch.ones(batch, max_seqlen, dtype=torch.bool, device=q.device)
    padding[seq, pos] = False
    out = padded_attention(pad(q), pad(k), pad(v), padding, scale=scale, alibi_slopes=alibi_slopes)
    return out[seq, pos]


@functools.cache
def _has_flex() -> bool:
    return importlib.util.find_spec("torch.nn.attention.flex_attention") is not None


@functools.cache
def _has_torch_varlen() -> bool:
    try:
        from torch.nn.attention.varlen import varlen_attn  # noqa: F401
    except ImportError:
        return False
    return True


@functools.cache
def _compiled_flex():
    """FlexAttention compiled once per process (dynamic shapes: packed batches vary in length)."""
    from torch.nn.attention.flex_attention import flex_attention

    return torch.compile(flex_attention, dynamic=True)


# The block mask of the last packed batch: every layer of a model attends over the same batch, so it is
# built once per batch. The weak reference to that batch's cu_seqlens cannot match a later tensor.
_last_block_mask: tuple[weakref.ref, int, object] | None = None


def _flex_block_mask(cu_seqlens: torch.Tensor, total: int, device: torch.device):
    """FlexAttention document mask for a packed batch (tokens attend within their own sequence)."""
    global _last_block_mask
    from torch.nn.attention.flex_attention import create_block_mask

    if _last_block_mask is not None:
        ref, cached_total, block_mask = _last_block_mask
        if ref() is cu_seqlens and cached_total == total:
            return block_mask
    seq = sequence_ids(cu_seqlens, total)

    def same_sequence(b, h, q_idx, kv_idx):
        return seq[q_idx] == seq[kv_idx]

    if device.type == "cuda":
        block_mask = create_block_mask(same_sequence, None, None, total, total, device=device, _compile=True)
    else:
        block_mask = create_block_mask(same_sequence, None, None, total, total, device=device)
    _last_block_mask = (weakref.ref(cu_seqlens), total, block_mask)
    return block_mask


def _flex(q, k, v, cu_seqlens, *, scale, alibi_slopes):
    """FlexAttention with a document mask (and ALiBi as a score modifier): sparse over the blocks."""
    from torch.nn.attention.flex_attention import flex_attention

    score_mod = None
    if alibi_slopes is not None:
        slopes = alibi_slopes.float().to(q.device)

        def alibi(score, b, h, q_idx, kv_idx):
            return score - slopes[h] * (q_idx - kv_idx).abs()

        score_mod = alibi
    qh, kh, vh = (x.transpose(0, 1)[None] for x in (q, k, v))  # (1, H, T, D)
    if q.device.type == "cuda":
        block_mask = _flex_block_mask(cu_seqlens, q.shape[0], q.device)
        out = _compiled_flex()(qh, kh, vh, score_mod=score_mod, block_mask=block_mask, scale=scale)
    else:
        # Eager FlexAttention on CPU materialises the scores; it exists so the CUDA code path is testable.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            block_mask = _flex_block_mask(cu_seqlens, q.shape[0], q.device)
            out = flex_attention(qh, kh, vh, score_mod=score_mod, block_mask=block_mask, scale=scale)
    return out[0].transpose(0, 1)


def _torch_varlen(q, k, v, cu_seqlens, max_seqlen, *, scale):
    """PyTorch's fused variable-length flash kernel (CUDA, float16/bfloat16)."""
    from torch.nn.attention.varlen import varlen_attn

    cu = cu_seqlens.to(torch.int32)
    return varlen_attn(q, k, v, cu, cu, int(max_seqlen), int(max_seqlen), scale=scale)


def _flash_attn(q, k, v, cu_seqlens, max_seqlen, *, scale, alibi_slopes):
    """The optional flash-attn package's varlen kernel (CUDA, float16/bfloat16, ALiBi supported)."""
    from flash_attn import flash_attn_varlen_func

    cu = cu_seqlens.to(torch.int32)
    slopes = None if alibi_slopes is None else alibi_slopes.float().to(q.device)
    return flash_attn_varlen_func(
        q, k, v, cu, cu, int(max_seqlen), int(max_seqlen), softmax_scale=scale, alibi_slopes=slopes
    )
