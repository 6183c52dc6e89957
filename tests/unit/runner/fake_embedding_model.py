"""A small deterministic model implementing `EmbeddingModel`, for runner tests that need no checkpoint.

Real torch layers (embedding, one attention layer with a block-diagonal mask, linear, GELU, linear) run
over the packed token stream and a per-sequence mean pools them, so, as with the real models, a
sequence's vector can change by an ulp with the other rows of its batch: that is what the resume tests
must survive. Hooks let a test make it fail on demand.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

VOCAB = 32
CLS, EOS = 1, 2


class FakeEmbeddingModel(nn.Module):
    """Tokens are `<cls>` + one id per letter + `<eos>`; output is the mean of a 2-layer MLP per sequence.

    Args:
        dim: embedding width.
        seed: weight seed.
        oom_above: raise `torch.OutOfMemoryError` for batches with more real tokens than this.
        nan_letter: sequences containing this letter come out as NaN.
        on_forward: called with the forward pass number (1-based) before each pass.
        device: where the weights live and the forward runs.
    """

    kind = "esm2"
    model_id = "fake"
    backend = "packed-mean"

    def __init__(
        self,
        dim: int = 8,
        seed: int = 0,
        *,
        oom_above: int | None = None,
        nan_letter: str | None = None,
        on_forward: Callable[[int], None] | None = None,
        device: str = "cpu",
    ) -> None:
        super().__init__()
        generator = torch.Generator().manual_seed(seed)
        self.embed = nn.Embedding(VOCAB, 64)
        self.qkv = nn.Linear(64, 192)
        self.hidden = nn.Linear(64, 256)
        self.out = nn.Linear(256, dim)
        with torch.no_grad():
            for parameter in self.parameters():
                parameter.copy_(torch.randn(parameter.shape, generator=generator) * 0.2)
        self.embedding_dim = dim
        self.fingerprint = f"fake-{dim}-{seed}"
        self.device = torch.device(device)
        self.to(self.device)
        self.dtype = torch.float32
        self.oom_above = oom_above
        self.nan_letter = nan_letter
        self.on_forward = on_forward
        self.forward_passes = 0
        self.batch_sizes: list[int] = []

    def tokenize(self, sequence: str) -> list[int]:
        return [CLS] + [3 + (ord(letter) - ord("A")) % (VOCAB - 3) for letter in sequence] + [EOS]

    def embed_packed(self, token_ids: torch.Tensor, cu_seqlens: torch.Tensor, max_seqlen: int) -> torch.Tensor:
        self.forward_passes += 1
        if self.on_forward is not None:
            self.on_forward(self.forward_passes)
        if self.oom_above is not None and token_ids.numel() > self.oom_above:
            raise torch.OutOfMemoryError(f"fake: {token_ids.numel()} tokens > {self.oom_above}")
        lengths = (cu_seqlens[1:] - cu_seqlens[:-1]).long()
        owner = torch.repeat_interleave(torch.arange(len(lengths), device=self.device), lengths)
        x = self.embed(token_ids)
        # one attention layer over the whole packed stream, each token confined to its own sequence
        q, k, v = self.qkv(x).chunk(3, dim=-1)
        same = owner[:, None] == owner[None, :]
        x = x + torch.nn.functional.scaled_dot_product_attention(q[None], k[None], v[None], attn_mask=same[None])[0]
        hidden = self.out(torch.nn.functional.gelu(self.hidden(x)))
        pooled = torch.zeros(len(lengths), self.embedding_dim, device=self.device)
        pooled = pooled.index_add_(0, owner, hidden) / lengths[:, None]
        if self.nan_letter is not None:
            letter_id = 3 + (ord(self.nan_letter) - ord("A")) % (VOCAB - 3)
            has_letter = torch.zeros(len(lengths), dtype=torch.bool, device=self.device)
            has_letter[owner[token_ids == letter_id]] = True
            pooled[has_letter] = float("nan")
        self.batch_sizes.append(len(lengths))
        return pooled

    def embed_one(self, sequence: str) -> torch.Tensor:
        """The plain one-at-a-time reference: one sequence alone in its batch."""
        tokens = torch.tensor(self.tokenize(sequence), dtype=torch.int64, device=self.device)
        cu_seqlens = torch.tensor([0, len(tokens)], dtype=torch.int32, device=self.device)
        with torch.inference_mode():
            return self.embed_packed(tokens, cu_seqlens, len(tokens))[0].cpu()
