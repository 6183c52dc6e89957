"""The side-by-side harness: the restated original loops give our vectors, and real reads are clean."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from virnucpro.config import EnvConfig
from virnucpro.models.base import embed_sequences
from virnucpro.models.dnabert_s_checkpoint import load_dnabert_s
from virnucpro.models.esm2_checkpoint import load_esm2
from virnucpro.models.tiny_checkpoints import TinyModelPaths

from benchmarks import original_method, real_dna

CPU = torch.device("cpu")
# float32, same math in another order: measured 2.4e-7 (DNABERT-S) and 7.2e-7 (ESM-2) on these inputs.
MAX_ABS = 1e-5
DNA = ["ACGTTGCAAAATTTTGGGCCCATATATGCGC" * 3, "TTAGGC" * 40, "GATTACA" * 9, "CCGGAATT" * 20]
PROTEINS = ["MKTAYIAKQRQISFVKSHFSRQLEERLGLIEVQ", "MSTNPKPQRKTKRNTNRRPQDVKFPGG" * 3, "ACDEFGHIKLMNPQRSTVWY", "MW"]


def test_original_dnabert_loop_gives_our_vectors(tiny_models: TinyModelPaths, one_torch_thread) -> None:
    network, tokenizer = original_method.load_original_dnabert(tiny_models.dnabert_s)
    theirs = original_method.original_dnabert_loop(network, tokenizer, DNA)
    ours = embed_sequences(load_dnabert_s(str(tiny_models.dnabert_s), CPU, env=EnvConfig()), DNA).numpy()
    assert np.abs(theirs - ours).max() <= MAX_ABS


def test_original_esm2_loop_gives_our_vectors(tiny_models: TinyModelPaths, tmp_path: Path, one_torch_thread) -> None:
    fasta = tmp_path / "p.faa"
    fasta.write_text("".join(f">p{i}\n{p}\n" for i, p in enumerate(PROTEINS)))
    network, alphabet = original_method.load_original_esm2(tiny_models.esm2)
    labels, theirs = original_method.original_esm2_loop(network, alphabet, fasta)
    assert sorted(labels) == [f"p{i}" for i in range(len(PROTEINS))]  # batched by length, not in input order
    model = load_esm2(str(tiny_models.esm2), CPU, env=EnvConfig())
    ours = embed_sequences(model, [PROTEINS[int(label[1:])] for label in labels]).numpy()
    assert np.abs(theirs - ours).max() <= MAX_ABS


def test_sampled_reads_are_clean_and_repeatable() -> None:
    genomes = [real_dna.Genome("g1", "ACGT" * 100), real_dna.Genome("g2", "ACGTN" * 50), real_dna.Genome("g3", "AC")]
    reads = real_dna.sample_reads(genomes, 30, 60, seed=5, prefix="vir")
    assert reads == real_dna.sample_reads(genomes, 30, 60, seed=5, prefix="vir")
    assert len(reads) == 30 and all(len(s) == 60 and set(s) <= set("ACGT") for _, s in reads)
    assert all(name.startswith("vir") and "_g1_" in name for name, _ in reads)  # g2 always has an N, g3 is short
