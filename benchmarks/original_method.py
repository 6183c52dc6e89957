"""The original tool's embedding loops, restated for side-by-side timing on the same checkpoints.

DNABERT-S: the published model runs as Hugging Face remote code (MosaicBERT's `bert_layers.py`), which
is not available here, so its eval-mode forward is restated below step by step in plain torch: unpad the
tokens, build the ALiBi tensor once for 512 positions, and in every layer pad the fused QKV back to
(batch, length), attend with matmul + bias + softmax + matmul, unpad again; GLU feed-forward; pooler.
The loop calls the tokenizer and the model once per sequence and averages the last hidden state over all
tokens, [CLS] and [SEP] included.

ESM-2: fair-esm's own classes, as its `extract.py` and the original tool use them: sequences sorted by
length into batches of at most 2048 tokens, the batch converter truncating at 1024 residues, the mean
of the last layer over residues 1..L.

Both run in float32 on the CPU under `torch.no_grad()`; the harness pins the threads.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

ALIBI_STARTING_SIZE = 512
ESM_TOKS_PER_BATCH = 2048
ESM_TRUNCATION = 1024


# --- DNABERT-S (MosaicBERT remote code, eval mode, no Triton) ---


def _index_first_axis(x: torch.Tensor, indices: torch.Tensor) -> torch.Tensor:
    """`bert_padding.index_first_axis`: gather rows of (N, ...) by a flat index."""
    flat = x.reshape(x.shape[0], -1)
    gathered = torch.gather(flat, 0, indices[:, None].expand(-1, flat.shape[1]))
    return gathered.reshape(-1, *x.shape[1:])


def _pad_input(x: torch.Tensor, indices: torch.Tensor, batch: int, seqlen: int) -> torch.Tensor:
    """`bert_padding.pad_input`: scatter unpadded rows back into a zeroed (batch, seqlen, ...) tensor."""
    out = torch.zeros((batch * seqlen, *x.shape[1:]), dtype=x.dtype, device=x.device)
    out[indices] = x
    return out.reshape(batch, seqlen, *x.shape[1:])


def _alibi_slopes(heads: int) -> list[float]:
    def power_of_two(n: int) -> list[float]:
        start = 2 ** (-(2 ** -(math.log2(n) - 3)))
        return [start * start**i for i in range(n)]

    if math.log2(heads).is_integer():
        return power_of_two(heads)
    closest = 2 ** math.floor(math.log2(heads))
    return power_of_two(closest) + _alibi_slopes(2 * closest)[0::2][: heads - closest]


class OriginalDnabertS(nn.Module):
    """DNABERT-2 `BertModel` as its remote code runs it on CPU, holding a DNABERT-S state dict."""

    def __init__(self, config: dict, state: dict[str, torch.Tensor]) -> None:
        super().__init__()
        self.hidden = config["hidden_size"]
        self.heads = config["num_attention_heads"]
        self.inner = config["intermediate_size"]
        self.layers = config["num_hidden_layers"]
        self.eps = config.get("layer_norm_eps", 1e-12)
        self.w = {key: value.float() for key, value in state.items()}
        self.alibi = self._build_alibi(max(ALIBI_STARTING_SIZE, config.get("alibi_starting_size", 512)))

    def _build_alibi(self, size: int) -> torch.Tensor:
        """`BertEncoder.rebuild_alibi_tensor`: (1, heads, size, size) = slope * -|i - j|."""
        position = torch.arange(size)
        relative = (position[None, :] - position[:, None]).abs()
        relative = relative.unsqueeze(0).expand(self.heads, -1, -1)
        slopes = torch.tensor(_alibi_slopes(self.heads))
        return (slopes[:, None, None] * -relative).unsqueeze(0)

    def _linear(self, x: torch.Tensor, name: str, bias: bool = True) -> torch.Tensor:
        return F.linear(x, self.w[f"{name}.weight"], self.w[f"{name}.bias"] if bias else None)

    def _norm(self, x: torch.Tensor, name: str) -> torch.Tensor:
        return F.layer_norm(x, (self.hidden,), self.w[f"{name}.weight"], self.w[f"{name}.bias"], self.eps)

    def forward(self, input_ids: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(sequence_output (B, L, H), pooled_output (B, H)) for ids only, as the original calls it."""
        mask = torch.ones_like(input_ids)
        token_types = torch.zeros_like(input_ids)
        x = F.embedding(input_ids, self.w["embeddings.word_embeddings.weight"])
        x = x + F.embedding(token_types, self.w["embeddings.token_type_embeddings.weight"])
        x = self._norm(x, "embeddings.LayerNorm")
        batch, seqlen = input_ids.shape
        extended = (1.0 - mask[:, None, None, :].float()) * -10000.0
        indices = torch.nonzero(mask.flatten(), as_tuple=False).flatten()
        hidden = _index_first_axis(x.reshape(batch * seqlen, -1), indices)
        if self.alibi.shape[-1] < seqlen:
            self.alibi = self._build_alibi(seqlen)
        bias = extended[:, :, :seqlen, :seqlen] + self.alibi[:, :, :seqlen, :seqlen]
        for i in range(self.layers):
            hidden = self._layer(hidden, f"encoder.layer.{i}", indices, batch, seqlen, mask, bias)
        sequence_output = _pad_input(hidden, indices, batch, seqlen)
        pooled = torch.tanh(self._linear(sequence_output[:, 0], "pooler.dense"))
        return sequence_output, pooled

    def _layer(self, hidden, prefix, indices, batch, seqlen, mask, bias) -> torch.Tensor:
        """`BertLayer`: unpadded self-attention (padded for the matmuls), output LN, GLU MLP."""
        head_dim = self.hidden // self.heads
        qkv = _pad_input(self._linear(hidden, f"{prefix}.attention.self.Wqkv"), indices, batch, seqlen)
        qkv = qkv.reshape(batch, seqlen, 3, self.heads, head_dim)
        q = qkv[:, :, 0].permute(0, 2, 1, 3)
        k = qkv[:, :, 1].permute(0, 2, 3, 1)
        v = qkv[:, :, 2].permute(0, 2, 1, 3)
        scores = torch.matmul(q, k) / math.sqrt(head_dim) + bias
        attention = torch.matmul(F.softmax(scores, dim=-1), v).permute(0, 2, 1, 3)
        keep = torch.nonzero(torch.squeeze(mask).flatten() == 1, as_tuple=False).flatten()
        attention = _index_first_axis(attention.reshape(batch * seqlen, self.heads, head_dim), keep)
        attention = attention.reshape(-1, self.hidden)
        attention = self._norm(
            self._linear(attention, f"{prefix}.attention.output.dense") + hidden, f"{prefix}.attention.output.LayerNorm"
        )
        projected = self._linear(attention, f"{prefix}.mlp.gated_layers", bias=False)
        glu = F.gelu(projected[:, : self.inner], approximate="none") * projected[:, self.inner :]
        return self._norm(self._linear(glu, f"{prefix}.mlp.wo") + attention, f"{prefix}.mlp.layernorm")


def load_original_dnabert(model_dir: Path) -> tuple[OriginalDnabertS, object]:
    """The model and the tokenizer (padding and truncation off, as the transformers call leaves them)."""
    import json

    from tokenizers import Tokenizer

    config = json.loads((model_dir / "config.json").read_text())
    state = torch.load(model_dir / "pytorch_model.bin", map_location="cpu", weights_only=True)
    tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    tokenizer.no_padding()
    tokenizer.no_truncation()
    return OriginalDnabertS(config, state), tokenizer


@torch.no_grad()
def original_dnabert_loop(model: OriginalDnabertS, tokenizer, sequences: Sequence[str]) -> np.ndarray:
    """One tokenizer call and one forward per sequence; mean over all tokens of the last hidden state."""
    vectors = []
    for sequence in sequences:
        inputs = torch.tensor([tokenizer.encode(sequence).ids])
        hidden_states = model(inputs)[0]
        vectors.append(torch.mean(hidden_states[0], dim=0).numpy())
    return np.stack(vectors)


# --- ESM-2 (fair-esm) ---


def load_original_esm2(path: Path):
    """fair-esm's model and alphabet from a local checkpoint, in eval mode.

    torch >= 2.6 loads weights only by default; fair-esm's cfg needs argparse.Namespace allow-listed.
    """
    import argparse

    import esm

    with torch.serialization.safe_globals([argparse.Namespace]):
        model, alphabet = esm.pretrained.load_model_and_alphabet_local(str(path))
    return model.eval(), alphabet


@torch.no_grad()
def original_esm2_loop(model, alphabet, fasta: Path) -> tuple[list[str], np.ndarray]:
    """fair-esm's batched extraction: length-sorted batches of <= 2048 tokens, mean over residues."""
    from esm import FastaBatchedDataset

    dataset = FastaBatchedDataset.from_file(str(fasta))
    batches = dataset.get_batch_indices(ESM_TOKS_PER_BATCH, extra_toks_per_seq=1)
    loader = torch.utils.data.DataLoader(
        dataset, collate_fn=alphabet.get_batch_converter(ESM_TRUNCATION), batch_sampler=batches
    )
    last = model.num_layers
    labels_out, vectors = [], []
    for labels, strs, toks in loader:
        out = model(toks, repr_layers=[last], return_contacts=False)
        representations = out["representations"][last].to(device="cpu")
        for i, label in enumerate(labels):
            truncate_len = min(ESM_TRUNCATION, len(strs[i]))
            labels_out.append(label)
            vectors.append(representations[i, 1 : truncate_len + 1].mean(0).clone().numpy())
    return labels_out, np.stack(vectors)
