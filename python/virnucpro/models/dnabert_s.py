"""DNABERT-S: its shape, the network (DNABERT-2 / MosaicBERT on packed sequences) and the embedder.

The network is plain PyTorch with the module and parameter names of the published `zhihan1996/DNABERT-S`
state dict; its remote code is never run (no `trust_remote_code`, no Triton). The forward is the
reference one: ids only, token types all zero, post-LN layers with a GLU feed-forward, ALiBi instead of
position embeddings.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from virnucpro.models import kinds
from virnucpro.models.attention import AttentionLayout, PackedLayout
from virnucpro.models.base import PlacedEmbedder
from virnucpro.models.dnabert_s_tokenizer import DnabertTokenizer
from virnucpro.models.precision import Float32LayerNorm


@dataclass(frozen=True)
class DnabertSConfig:
    """The hyperparameters of `config.json` that the forward depends on."""

    hidden_size: int
    num_hidden_layers: int
    num_attention_heads: int
    intermediate_size: int
    vocab_size: int
    type_vocab_size: int
    layer_norm_eps: float

    @property
    def head_dim(self) -> int:
        return self.hidden_size // self.num_attention_heads


def alibi_slopes(num_heads: int) -> list[float]:
    """ALiBi slopes, computed the way the DNABERT-2 code does (`_get_alibi_head_slopes`).

    For n a power of two: 2^(-8/n), 2^(-16/n), ... For other n: the slopes of the largest power of two
    m below n, then every other slope of 2m heads, up to n in all (12 heads: 1/2 .. 1/256, 2^-0.5 ..).
    """

    def power_of_two(n: int) -> list[float]:
        start = 2 ** (-(2 ** -(math.log2(n) - 3)))
        return [start * start**i for i in range(n)]

    if math.log2(num_heads).is_integer():
        return power_of_two(num_heads)
    closest = 2 ** math.floor(math.log2(num_heads))
    return power_of_two(closest) + alibi_slopes(2 * closest)[0::2][: num_heads - closest]


class DnabertEmbeddings(nn.Module):
    """Word plus token-type embeddings, then LayerNorm; no position embeddings (ALiBi replaces them)."""

    def __init__(self, config: DnabertSConfig) -> None:
        super().__init__()
        self.word_embeddings = nn.Embedding(config.vocab_size, config.hidden_size)
        self.token_type_embeddings = nn.Embedding(config.type_vocab_size, config.hidden_size)
        self.LayerNorm = Float32LayerNorm(config.hidden_size, eps=config.layer_norm_eps)

    def forward(self, token_ids: torch.Tensor) -> torch.Tensor:
        # The reference passes no token types, so every token gets type 0.
        x = self.word_embeddings(token_ids) + self.token_type_embeddings.weight[0]  # (T, H)
        return self.LayerNorm(x)


class DnabertSelfAttention(nn.Module):
    """Fused QKV projection and attention confined to each packed sequence, with ALiBi."""

    def __init__(self, config: DnabertSConfig) -> None:
        super().__init__()
        self.num_heads = config.num_attention_heads
        self.head_dim = config.head_dim
        self.Wqkv = nn.Linear(config.hidden_size, 3 * config.hidden_size)

    def forward(self, x: torch.Tensor, layout: AttentionLayout) -> torch.Tensor:
        total = x.shape[0]
        # The fused output is [Q | K | V], each H wide, each head a contiguous slice: (T, 3, heads, head_dim).
        q, k, v = self.Wqkv(x).view(total, 3, self.num_heads, self.head_dim).unbind(1)
        context = layout.attend(q, k, v, scale=self.head_dim**-0.5)  # (T, heads, head_dim)
        return context.reshape(total, self.num_heads * self.head_dim)


class DnabertSelfOutput(nn.Module):
    """Output projection, then post-LN around the residual."""

    def __init__(self, config: DnabertSConfig) -> None:
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.hidden_size)
        self.LayerNorm = Float32LayerNorm(config.hidden_size, eps=config.layer_norm_eps)

    def forward(self, context: torch.Tensor, residual: torch.Tensor) -> torch.Tensor:
        return self.LayerNorm(residual + self.dense(context))


class DnabertAttention(nn.Module):
    """`attention.self` and `attention.output`, named as in the checkpoint."""

    def __init__(self, config: DnabertSConfig) -> None:
        super().__init__()
        self.self = DnabertSelfAttention(config)
        self.output = DnabertSelfOutput(config)

    def forward(self, x: torch.Tensor, layout: AttentionLayout) -> torch.Tensor:
        return self.output(self.self(x, layout), x)


class DnabertGluMlp(nn.Module):
    """Gated feed-forward: GELU(first half) * second half, projected back, post-LN around the residual."""

    def __init__(self, config: DnabertSConfig) -> None:
        super().__init__()
        self.intermediate_size = config.intermediate_size
        self.gated_layers = nn.Linear(config.hidden_size, 2 * config.intermediate_size, bias=False)
        self.wo = nn.Linear(config.intermediate_size, config.hidden_size)
        self.layernorm = Float32LayerNorm(config.hidden_size, eps=config.layer_norm_eps)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        hidden = self.gated_layers(x)  # (T, 2I)
        gated, gate = hidden[:, : self.intermediate_size], hidden[:, self.intermediate_size :]
        # The FIRST half goes through exact (erf) GELU, the SECOND is the linear gate; swapping them or
        # using the tanh GELU changes every number.
        return self.layernorm(x + self.wo(F.gelu(gated, approximate="none") * gate))


class DnabertLayer(nn.Module):
    """One encoder layer: attention block, then GLU block, each post-LN."""

    def __init__(self, config: DnabertSConfig) -> None:
        super().__init__()
        self.attention = DnabertAttention(config)
        self.mlp = DnabertGluMlp(config)

    def forward(self, x: torch.Tensor, layout: AttentionLayout) -> torch.Tensor:
        return self.mlp(self.attention(x, layout))


class DnabertEncoder(nn.Module):
    """The layer stack; `encoder.layer.{i}` in the checkpoint."""

    def __init__(self, config: DnabertSConfig) -> None:
        super().__init__()
        self.layer = nn.ModuleList(DnabertLayer(config) for _ in range(config.num_hidden_layers))


class DnabertS(nn.Module):
    """The DNABERT-2 encoder over a packed token stream; returns the last layer's hidden states.

    The checkpoint's `pooler.dense.*` is not part of the embedding, so it has no module here; the loader
    checks and drops it.
    """

    def __init__(self, config: DnabertSConfig) -> None:
        super().__init__()
        self.config = config
        self.embeddings = DnabertEmbeddings(config)
        self.encoder = DnabertEncoder(config)

    def forward(
        self, token_ids: torch.Tensor, cu_seqlens: torch.Tensor, max_seqlen: int, *, slopes: torch.Tensor, backend: str
    ) -> torch.Tensor:
        """Hidden states (total_tokens, hidden) of the last layer; no final LayerNorm (there is none)."""
        x = self.embeddings(token_ids)  # (T, H)
        layout = PackedLayout(cu_seqlens, max_seqlen, backend, alibi_slopes=slopes)
        for layer in self.encoder.layer:
            x = layer(x, layout)
        return x


def mean_pool(hidden: torch.Tensor, cu_seqlens: torch.Tensor) -> torch.Tensor:
    """float32 mean over ALL tokens of each packed sequence, [CLS] and [SEP] included (docs/contract.md, section 4).

    Sums come from a float64 running sum differenced at the sequence bounds: deterministic on every
    device (no atomic adds) and accurate far below float32 resolution.
    """
    running = torch.cumsum(hidden.to(torch.float64), dim=0)  # (T, H)
    starts, ends = cu_seqlens[:-1].long(), cu_seqlens[1:].long()
    before = torch.where((starts > 0)[:, None], running[(starts - 1).clamp(min=0)], 0.0)  # sum before each start
    lengths = (ends - starts).to(torch.float64)
    return ((running[ends - 1] - before) / lengths[:, None]).to(torch.float32)


class DnabertSEmbedder(PlacedEmbedder):
    """A placed `DnabertS` network and its tokenizer, ready to embed packed batches (an `EmbeddingModel`)."""

    kind = kinds.DNABERT_S
    network: DnabertS

    def __init__(
        self,
        network: DnabertS,
        tokenizer: DnabertTokenizer,
        *,
        model_id: str,
        fingerprint: str,
        backend: str,
    ) -> None:
        super().__init__(network, model_id=model_id, fingerprint=fingerprint, backend=backend)
        self.tokenizer = tokenizer
        self.embedding_dim = network.config.hidden_size
        # ALiBi slopes stay float32 whatever the model dtype; the attention backends build the bias from them.
        self.slopes = torch.tensor(alibi_slopes(network.config.num_attention_heads), dtype=torch.float32)
        self.slopes = self.slopes.to(self.device)

    def tokenize(self, sequence: str) -> list[int]:
        """`[CLS]` + BPE tokens + `[SEP]`, untruncated, as the reference tokenizer call gave them."""
        return self.tokenizer.encode(sequence)

    @torch.inference_mode()
    def embed_packed(self, token_ids: torch.Tensor, cu_seqlens: torch.Tensor, max_seqlen: int) -> torch.Tensor:
        """Pooled float32 embeddings (num_sequences, hidden) of a packed batch (see `EmbeddingModel`)."""
        hidden = self.network(token_ids, cu_seqlens, max_seqlen, slopes=self.slopes, backend=self.backend)
        return mean_pool(hidden, cu_seqlens)
