"""`virnucpro train` from labelled FASTA files through the tiny models, and the published chunk filter.

Viral-like and host-like records are generated here from two codon usages (GC-rich vs AT-rich codons, no
stop codon in frame 1), so composition separates the classes for both the DNA and the protein model.
"""

from __future__ import annotations

import json

import numpy as np
from click.testing import CliRunner
from virnucpro.cli import cli
from virnucpro.train.dataset import ambiguous_chunks, filter_frames
from virnucpro.translate import translate_file

STOPS = {"TAA", "TAG", "TGA"}
CODONS = [a + b + c for a in "ACGT" for b in "ACGT" for c in "ACGT" if a + b + c not in STOPS]


def _gc(codon: str) -> int:
    return sum(base in "GC" for base in codon)


def _records(label: str, count: int, rng: np.random.Generator, gc_rich: bool) -> str:
    weights = np.array([4.0 ** (_gc(c) if gc_rich else 3 - _gc(c)) for c in CODONS])
    weights /= weights.sum()
    return "".join(f">{label}{i}\n{''.join(rng.choice(CODONS, size=50, p=weights))}\n" for i in range(count))


# Measured with data seeds 0-2: held-out accuracy 1.0 on every run (the two codon usages give frames of
# clearly different composition); 0.8 is the bound, chance is 0.5.
MIN_ACCURACY = 0.8


def test_training_from_fasta_with_the_tiny_models(tiny_models, tmp_path):
    rng = np.random.default_rng(0)
    (tmp_path / "viral.fa").write_text(_records("vir", 16, rng, gc_rich=True))
    (tmp_path / "host.fa").write_text(_records("host", 16, rng, gc_rich=False))
    args = ["train", "--outdir", str(tmp_path / "out"), "--viral", str(tmp_path / "viral.fa")]
    args += ["--other", str(tmp_path / "host.fa"), "--chunk-length", "150", "--dnabert", str(tiny_models.dnabert_s)]
    args += ["--esm", str(tiny_models.esm2), "--device", "cpu", "--workdir", str(tmp_path / "work")]
    args += ["--epochs", "40", "--learning-rate", "0.01", "--hidden-dim", "32", "--batch-size", "8"]
    args += ["--test-fraction", "0.25", "--validation-fraction", "0.25", "--seed", "1"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    metrics = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert metrics["test"]["accuracy"] >= MIN_ACCURACY
    assert metrics["split"]["test"]["records"] == 8
    rows = [line.split("\t") for line in (tmp_path / "out" / "split.tsv").read_text().splitlines()[1:]]
    assert len({r[0] for r in rows}) == len(rows) == 32
    assert {r[1] for r in rows if r[0].startswith("vir")} == {"virus"}


def test_drop_ambiguous_chunks_leaves_out_every_frame_of_such_chunks(tmp_path):
    reads = tmp_path / "reads.fa"
    clean = "ATG" + "GCT" * 99  # 300 bases, chunks [0,150) and [150,300) of C = 150
    reads.write_text(f">a\n{clean}\n>b\n{clean[:200]}N{clean[201:]}\n>c\n{clean[:10]}R{clean[11:]}\n")
    translate_file(reads, tmp_path / "t", chunk_length=150)
    dropped = ambiguous_chunks(reads, tmp_path / "t" / "chunks.tsv")
    assert dropped == {"b_chunk_2", "c_chunk_1"}
    kept = filter_frames(tmp_path / "t" / "nucleotide.fa", tmp_path / "n.fa", dropped)
    headers = [line[1:] for line in (tmp_path / "n.fa").read_text().splitlines()[0::2]]
    assert len(headers) == kept and headers
    assert not any(h[:-2] in dropped for h in headers)
    assert {h[:-2] for h in headers} == {"a_chunk_1", "a_chunk_2", "b_chunk_1", "c_chunk_2"}
