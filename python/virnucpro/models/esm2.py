"""ESM-2: its shape, the network (fair-esm's forward pass on packed token streams) and the embedder.

Numerics follow fair-esm 2.0.0 (`esm/model/esm2.py`, `esm/modules.py`) exactly: token-dropout rescale
of the embeddings, pre-LN layers with erf GELU, q scaled by head_dim^-0.5 then rotary on the full head
dimension, a final layer norm after the last layer. The embedding is docs/contract.md, section 5: the
last layer's output averaged over residue positions (`<cls>`, `<eos>` and padding excluded).

A packed batch is many sequences concatenated into one stream with `cu_seqlens`; attention stays within
each sequence and rotary positions restart at 0 at each sequence's `<cls>`, so each sequence sees what
it would see alone. The "padded" backend instead runs the whole model on a (batch, max_len) batch padded
with `<pad>` and a key padding mask, the layout the reference used.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from virnucpro.models import kinds
from virnucpro.models.attention import (
    AttentionLayout,
    PackedLayout,
    PaddedLayout,
    positions_in_sequence,
    sequence_ids,
)
from virnucpro.models.base import PlacedEmbedder
from virnucpro.models.esm2_alphabet import ALPHABET_SIZE, MASK_ID, PAD_ID, tokenize_protein
from virnucpro.models.precision import Float32LayerNorm

LAYER_NORM_EPS = 1e-5  # torch.nn.LayerNorm default, which fair-esm's ESM1bLayerNorm is without apex
TOKEN_DROPOUT_TRAIN_RATIO = 0.15 * 0.8  # fraction of tokens masked in training; rescaled at inference


@dataclass(frozen=True)
class ESM2Config:
    """Shape of an ESM-2 model, read from the checkpoint's `cfg` (never assumed).

    Attributes:
        num_layers: transformer layers; the embedding is the last one's output.
        embed_dim: hidden width (2560 for the 3B model).
        attention_heads: heads per layer; head_dim = embed_dim / attention_heads.
        token_dropout: whether embeddings are rescaled by (1 - 0.15*0.8) / (1 - mask fraction).
    """

    num_layers: int
    embed_dim: int
    attention_heads: int
    token_dropout: bool

    @property
    def ffn_dim(self) -> int:
        """fair-esm's ESM2 always builds its feed-forward layer 4x wider than the model."""
        return 4 * self.embed_dim

    @property
    def head_dim(self) -> int:
        return self.embed_dim // self.attention_heads


def _rotary_tables(positions: torch.Tensor, head_dim: int) -> tuple[torch.Tensor, torch.Tensor]:
    """cos, sin of shape (*positions.shape, 1, head_dim / 2), in float32 whatever the model dtype.

    inv_freq = 1 / 10000^(2k / head_dim). fair-esm's angle table is [freqs, freqs] (non-interleaved
    halves); both halves being equal, one is kept.
    """
    inv_freq = 1.0 / (10000 ** (torch.arange(0, head_dim, 2, device=positions.device).float() / head_dim))
    angles = (positions.float()[..., None] * inv_freq)[..., None, :]
    return angles.cos(), angles.sin()


def _apply_rotary(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """Rotate (..., heads, head_dim) by position, in float32: x*cos + rotate_half(x)*sin.

    Written per half, with x = [a, b]: [a*cos - b*sin, b*cos + a*sin]. These are the same roundings as
    fair-esm's form (a*cos + (-b)*sin is exactly a*cos - b*sin), without its concatenated and negated
    copies; on CPU the rotary was about a quarter of an ESM-2 forward of width 320.
    """
    x32 = x.float()
    first, second = x32.chunk(2, dim=-1)
    out = torch.empty_like(x32)
    out_first, out_second = out.chunk(2, dim=-1)
    torch.mul(first, cos, out=out_first).sub_(second * sin)
    torch.mul(second, cos, out=out_second).add_(first * sin)
    return out.to(x.dtype)


class SelfAttention(nn.Module):
    """Multi-head self-attention with rotary positions; the attention itself is the layout's."""

    def __init__(self, config: ESM2Config) -> None:
        super().__init__()
        e = config.embed_dim
        self.heads = config.attention_heads
        self.head_dim = config.head_dim
        self.q_proj, self.k_proj, self.v_proj, self.out_proj = (nn.Linear(e, e) for _ in range(4))

    def forward(
        self, x: torch.Tensor, rotary: tuple[torch.Tensor, torch.Tensor], layout: AttentionLayout
    ) -> torch.Tensor:
        shape = (*x.shape[:-1], self.heads, self.head_dim)  # (..., E) => (..., H, Dh)
        q = (self.q_proj(x) * self.head_dim**-0.5).view(shape)  # fair-esm scales q before rotary
        k = self.k_proj(x).view(shape)
        v = self.v_proj(x).view(shape)
        q, k = _apply_rotary(q, *rotary), _apply_rotary(k, *rotary)
        out = layout.attend(q, k, v, scale=1.0)  # scale already applied to q
        return self.out_proj(out.reshape(x.shape))


class TransformerLayer(nn.Module):
    """One pre-LN ESM-2 layer: x += attention(LN(x)); x += fc2(gelu(fc1(LN(x))))."""

    def __init__(self, config: ESM2Config) -> None:
        super().__init__()
        e = config.embed_dim
        self.self_attn = SelfAttention(config)
        self.self_attn_layer_norm = Float32LayerNorm(e, eps=LAYER_NORM_EPS)
        self.fc1 = nn.Linear(e, config.ffn_dim)
        self.fc2 = nn.Linear(config.ffn_dim, e)
        self.final_layer_norm = Float32LayerNorm(e, eps=LAYER_NORM_EPS)

    def forward(
        self, x: torch.Tensor, rotary: tuple[torch.Tensor, torch.Tensor], layout: AttentionLayout
    ) -> torch.Tensor:
        x = x + self.self_attn(self.self_attn_layer_norm(x), rotary, layout)
        # The erf form of GELU, as fair-esm's `gelu`; the tanh approximation gives different numbers.
        hidden = F.gelu(self.fc1(self.final_layer_norm(x)), approximate="none")
        return x + self.fc2(hidden)


class ESM2(nn.Module):
    """The ESM-2 encoder (no language-model or contact head); parameter names match fair-esm's."""

    def __init__(self, config: ESM2Config) -> None:
        super().__init__()
        self.config = config
        self.embed_tokens = nn.Embedding(ALPHABET_SIZE, config.embed_dim, padding_idx=PAD_ID)
        self.layers = nn.ModuleList(TransformerLayer(config) for _ in range(config.num_layers))
        self.emb_layer_norm_after = Float32LayerNorm(config.embed_dim, eps=LAYER_NORM_EPS)

    def _embed(self, tokens: torch.Tensor, mask_ratio: torch.Tensor | None) -> torch.Tensor:
        """Token embeddings with fair-esm's inference-time token-dropout rescale.

        x = embed * (1 - 0.15*0.8) / (1 - fraction of <mask> in the token's own sequence), with <mask>
        rows zeroed: 0.88 when no <mask> is present. `mask_ratio` holds that fraction per token.
        """
        x = self.embed_tokens(tokens)
        if not self.config.token_dropout:
            return x
        x = x.masked_fill((tokens == MASK_ID).unsqueeze(-1), 0.0).float()
        x = x * (1 - TOKEN_DROPOUT_TRAIN_RATIO) / (1 - mask_ratio).unsqueeze(-1)
        return x.to(self.embed_tokens.weight.dtype)

    def _run_layers(self, x: torch.Tensor, positions: torch.Tensor, layout: AttentionLayout) -> torch.Tensor:
        """All layers, then the final layer norm (fair-esm applies it to the last representation)."""
        rotary = _rotary_tables(positions, self.config.head_dim)
        for layer in self.layers:
            x = layer(x, rotary, layout)
        return self.emb_layer_norm_after(x)

    def forward_packed(
        self, tokens: torch.Tensor, cu_seqlens: torch.Tensor, max_seqlen: int, *, backend: str
    ) -> torch.Tensor:
        """Last-layer representation (total_tokens, E) of a packed stream (total_tokens,)."""
        total = tokens.shape[0]
        seq = sequence_ids(cu_seqlens, total)
        lengths = (cu_seqlens[1:] - cu_seqlens[:-1]).float()
        masks = torch.zeros_like(lengths).index_add_(0, seq, (tokens == MASK_ID).float())
        x = self._embed(tokens, (masks / lengths)[seq])
        layout = PackedLayout(cu_seqlens, max_seqlen, backend)
        # Rotary positions restart at 0 at each sequence's <cls>, as if it were alone.
        return self._run_layers(x, positions_in_sequence(cu_seqlens, total), layout)

    def forward_padded(self, tokens: torch.Tensor) -> torch.Tensor:
        """Last-layer representation (B, L, E) of a batch (B, L) padded with `<pad>`, as the reference."""
        padding = tokens == PAD_ID
        lengths = (~padding).sum(-1, keepdim=True).float()
        x = self._embed(tokens, ((tokens == MASK_ID).sum(-1, keepdim=True) / lengths).expand(tokens.shape))
        x = x * (~padding).unsqueeze(-1).to(x.dtype)  # padding rows zeroed, as fair-esm
        positions = torch.arange(tokens.shape[1], device=tokens.device).expand(tokens.shape)
        return self._run_layers(x, positions, PaddedLayout(padding))


class ESM2Embedder(PlacedEmbedder):
    """A placed `ESM2` network ready to embed packed batches (an `EmbeddingModel`)."""

    kind = kinds.ESM2
    network: ESM2

    def __init__(self, network: ESM2, *, model_id: str, fingerprint: str, backend: str) -> None:
        super().__init__(network, model_id=model_id, fingerprint=fingerprint, backend=backend)
        self.embedding_dim = network.config.embed_dim
        self.num_layers = network.config.num_layers

    def tokenize(self, sequence: str) -> list[int]:
        """`<cls>` + up to 1024 residues + `<eos>` (see `esm2_alphabet.tokenize_protein`)."""
        return tokenize_protein(sequence)

    @torch.inference_mode()
    def embed_packed(self, token_ids: torch.Tensor, cu_seqlens: torch.Tensor, max_seqlen: int) -> torch.Tensor:
        """float32 (num_sequences, embed_dim): mean of the last layer over each sequence's residues."""
        if self.backend == "padded":
            tokens = _pad(token_ids, cu_seqlens, max_seqlen)
            hidden = self.network.forward_padded(tokens)
            return _mean_residues_padded(hidden, tokens)
        hidden = self.network.forward_packed(token_ids, cu_seqlens, max_seqlen, backend=self.backend)
        return _mean_residues_packed(hidden, cu_seqlens)


def _pad(token_ids: torch.Tensor, cu_seqlens: torch.Tensor, max_seqlen: int) -> torch.Tensor:
    """(B, max_seqlen) tokens padded with the model's real `<pad>` id (not 0, which is `<cls>`)."""
    total = token_ids.shape[0]
    seq = sequence_ids(cu_seqlens, total)
    pos = positions_in_sequence(cu_seqlens, total)
    tokens = torch.full((cu_seqlens.numel() - 1, max_seqlen), PAD_ID, dtype=token_ids.dtype, device=token_ids.device)
    tokens[seq, pos] = token_ids
    return tokens


def _mean_residues_packed(hidden: torch.Tensor, cu_seqlens: torch.Tensor) -> torch.Tensor:
    """Float32 mean over positions 1..len-2 of each sequence (`<cls>` first and `<eos>` last excluded)."""
    total = hidden.shape[0]
    seq = sequence_ids(cu_seqlens, total)
    pos = positions_in_sequence(cu_seqlens, total)
    lengths = (cu_seqlens[1:] - cu_seqlens[:-1]).long()
    residue = (pos > 0) & (pos < lengths[seq] - 1)
    sums = hidden.new_zeros((lengths.numel(), hidden.shape[1]), dtype=torch.float32)
    # Multiply by the residue mask rather than select rows: no data-dependent shape, no device sync.
    sums.index_add_(0, seq, hidden.float() * residue.unsqueeze(-1))
    return sums / (lengths - 2).unsqueeze(-1).float()


def _mean_residues_padded(hidden: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:
    """Float32 mean over positions 1..len-2 of each padded row (`<cls>`, `<eos>`, `<pad>` excluded)."""
    lengths = (tokens != PAD_ID).sum(-1)
    positions = torch.arange(tokens.shape[1], device=tokens.device)
    residue = (positions[None, :] > 0) & (positions[None, :] < (lengths - 1)[:, None])
    sums = (hidden.float() * residue.unsqueeze(-1)).sum(1)
    return sums / (lengths - 2).unsqueeze(-1).float()
