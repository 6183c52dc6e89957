"""The contract between the inference runner and a model: tokenize, packed forward, pool.

The runner is generic over this protocol; `ESM2Embedder` and `DnabertSEmbedder` implement it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import torch
from torch import nn


class EmbeddingModel(Protocol):
    """A loaded embedding model ready to embed packed batches on one device.

    Attributes:
        kind: "esm2" or "dnabert-s".
        model_id: what the user named (a path or a hub name), for metadata.
        fingerprint: hex digest of the weights (and the tokenizer where there is one), so checkpoints
            made with other weights are never reused.
        embedding_dim: width of the pooled vectors (2560 for ESM-2 3B, 768 for DNABERT-S).
        device: where the weights live.
        dtype: compute dtype of weights and activations (float32 or bfloat16); pooled output is float32.
        backend: name of the attention backend in use ("flex", "varlen", "block-diagonal", "padded", ...).
    """

    kind: str
    model_id: str
    fingerprint: str
    embedding_dim: int
    device: torch.device
    dtype: torch.dtype
    backend: str

    def tokenize(self, sequence: str) -> list[int]:
        """Token ids of one sequence with its special tokens, truncated per docs/contract.md, sections 4 and 5."""
        ...

    def embed_packed(self, token_ids: torch.Tensor, cu_seqlens: torch.Tensor, max_seqlen: int) -> torch.Tensor:
        """Pooled float32 embeddings (num_sequences, embedding_dim) of a packed batch.

        Args:
            token_ids: int64 (total_tokens,) - the sequences' tokens concatenated, on `device`.
            cu_seqlens: int32 (num_sequences + 1,) - cumulative lengths starting at 0, on `device`.
            max_seqlen: the longest sequence in the batch, in tokens.
        """
        ...


class PlacedEmbedder:
    """What both embedders share: a placed network in eval mode, where it runs, and what it is called.

    Device and dtype are read from the network, which `precision.place_network` has put in place.
    Subclasses add `kind`, `embedding_dim`, `tokenize` and `embed_packed`.
    """

    def __init__(self, network: nn.Module, *, model_id: str, fingerprint: str, backend: str) -> None:
        parameter = next(network.parameters())
        self.network = network.eval()
        self.model_id = model_id
        self.fingerprint = fingerprint
        self.backend = backend
        self.device = parameter.device
        self.dtype = parameter.dtype


def pack_tokens(token_lists: Sequence[list[int]], device: torch.device) -> tuple[torch.Tensor, torch.Tensor, int]:
    """Concatenate token lists into (token_ids int64, cu_seqlens int32, max_seqlen) on `device`."""
    lengths = [len(tokens) for tokens in token_lists]
    token_ids = torch.tensor([t for tokens in token_lists for t in tokens], dtype=torch.int64, device=device)
    cu_seqlens = torch.tensor([0, *lengths], dtype=torch.int32).cumsum(0, dtype=torch.int32).to(device)
    return token_ids, cu_seqlens, max(lengths)


def embed_sequences(model: EmbeddingModel, sequences: Sequence[str]) -> torch.Tensor:
    """Embed a few sequences in one packed batch (for small inputs and tests; the runner batches large ones)."""
    token_ids, cu_seqlens, max_seqlen = pack_tokens([model.tokenize(s) for s in sequences], model.device)
    return model.embed_packed(token_ids, cu_seqlens, max_seqlen)
