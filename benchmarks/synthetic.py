"""Seeded synthetic inputs: frame-length mixes like VirNucPro's, random proteins and DNABERT-S tokens.

A 300 bp chunk gives protein frames of 100 (F1) or 99 residues (the other frames lose a partial codon);
a 500 bp chunk gives 166. Shorter frames come from reads shorter than the chunk length and from the
shorter last chunk of a long read (docs/contract.md, section 2). The long-tail mix stands for contigs and proteins of
every size, up to ESM-2's 1022-residue limit.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from virnucpro.models.esm2_alphabet import tokenize_protein

AMINO_ACIDS = "ACDEFGHIKLMNPQRSTVWY"
# DNABERT-2's BPE shortens DNA about five-fold (DNABERT-2 paper); the tokenizer of the real model is not
# available here, so DNABERT-S token counts are estimated from the nucleotide length with this ratio.
NUCLEOTIDES_PER_TOKEN = 5.0
MAX_RESIDUES = 1022

MIXES = {
    "vnp300": "300 bp chunks: 90% full frames (100 or 99 residues), 10% short (33-98)",
    "vnp500": "500 bp chunks: 90% full frames (166 residues), 10% short (50-165)",
    "longtail": "long tail: log-normal, median 150 residues, sigma 0.8, clipped to 10-1022",
}


def frame_lengths(mix: str, count: int, seed: int) -> list[int]:
    """Residue counts of `count` protein frames drawn from `mix` (a key of `MIXES`)."""
    rng = np.random.default_rng(seed)
    if mix == "vnp300":
        full = np.where(rng.random(count) < 1 / 3, 100, 99)
        short = rng.integers(33, 99, size=count)
    elif mix == "vnp500":
        full = np.full(count, 166)
        short = rng.integers(50, 166, size=count)
    elif mix == "longtail":
        drawn = rng.lognormal(mean=np.log(150), sigma=0.8, size=count)
        return np.clip(np.rint(drawn), 10, MAX_RESIDUES).astype(int).tolist()
    else:
        raise ValueError(f"unknown length mix {mix!r}: choose one of {', '.join(MIXES)}")
    return np.where(rng.random(count) < 0.9, full, short).astype(int).tolist()


def random_proteins(lengths: Sequence[int], seed: int) -> list[str]:
    """Random proteins of the given residue counts over the 20 standard amino acids."""
    rng = np.random.default_rng(seed)
    letters = np.frombuffer(AMINO_ACIDS.encode(), dtype=np.uint8)
    return [letters[rng.integers(0, len(letters), size=n)].tobytes().decode() for n in lengths]


def esm2_tokens(lengths: Sequence[int], seed: int) -> list[list[int]]:
    """ESM-2 token lists (`<cls>` + residues + `<eos>`) of random proteins, via the production tokenizer."""
    return [tokenize_protein(protein) for protein in random_proteins(lengths, seed)]


def dnabert_token_count(residues: int) -> int:
    """Estimated DNABERT-S tokens of the nucleotide frame paired with a protein of `residues` residues.

    The paired DNA has 3 * residues + 1 bases (docs/contract.md, section 3); [CLS] and [SEP] add two tokens.
    """
    return max(1, round((3 * residues + 1) / NUCLEOTIDES_PER_TOKEN)) + 2


def dnabert_tokens(lengths: Sequence[int], vocab_size: int, seed: int) -> list[list[int]]:
    """Random DNABERT-S token lists for frames of `lengths` residues: [CLS]=1, BPE ids >= 5, [SEP]=2."""
    rng = np.random.default_rng(seed)
    out = []
    for residues in lengths:
        inner = rng.integers(5, vocab_size, size=dnabert_token_count(residues) - 2).tolist()
        out.append([1, *inner, 2])
    return out
