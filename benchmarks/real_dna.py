"""Real viral and host DNA for the side-by-side benchmarks, from Biopython's source distribution.

No genome database is reachable here, but Biopython's test suite ships real GenBank records. Its source
archive comes from the package index with the ordinary client:

    pip download --no-binary :all: --no-deps biopython==1.88 && tar xzf biopython-1.88.tar.gz

`Tests/` of that tree is the `source` argument below. Viral: phage phiX174 (NC_001422, 5,386 bp), HIV-1
(NC_001802, 9,181 bp), three influenza A segments and three feline panleukopenia virus records. Host: a
1.25 Mb working-draft segment of human chromosome 1 (NT_019265), the Arabidopsis thaliana chloroplast
(NC_000932, 154 kb) and the Yersinia pestis plasmid pPCP1 (NC_005816, 9.6 kb).

Reads are cut from these at seeded random offsets, both strands; reads with a non-ACGT letter are
skipped, so every read is all A/C/G/T.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

VIRAL = (
    ("GFF/NC_001422.gbk", "genbank"),
    ("GFF/NC_001802.fna", "fasta"),
    ("GenBank/EU851978.gbk", "genbank"),
    ("GenBank/HM138502.gbk", "genbank"),
    ("GenBank/KF527485.gbk", "genbank"),
    ("GenBank/gbvrl1_start.seq", "genbank"),
)
HOST = (
    ("GenBank/NT_019265.gb", "genbank"),
    ("GenBank/NC_000932.gb", "genbank"),
    ("GenBank/NC_005816.gb", "genbank"),
)
_COMPLEMENT = str.maketrans("ACGT", "TGCA")


@dataclass(frozen=True)
class Genome:
    """One source record: its accession and its upper-case sequence."""

    name: str
    sequence: str


def read_genomes(source: Path, files: Sequence[tuple[str, str]]) -> list[Genome]:
    """The records of `files` (paths under `source`, Biopython format names) with defined sequences."""
    from Bio import SeqIO

    genomes = []
    for relative, kind in files:
        path = source / relative
        if not path.is_file():
            raise SystemExit(f"real_dna: {path} not found; `source` must be Tests/ of Biopython's source archive")
        for record in SeqIO.parse(path, kind):
            if record.seq.defined and len(record.seq) > 0:
                genomes.append(Genome(record.id, str(record.seq).upper()))
    return genomes


def sample_reads(genomes: Sequence[Genome], count: int, length: int, seed: int, prefix: str) -> list[tuple[str, str]]:
    """`count` reads of `length` bp at random offsets and strands, genomes weighted by length.

    Genomes shorter than `length` are left out; reads holding a non-ACGT letter are drawn again.
    """
    usable = [g for g in genomes if len(g.sequence) >= length]
    weights = np.array([len(g.sequence) - length + 1 for g in usable], dtype=float)
    rng = np.random.default_rng(seed)
    reads: list[tuple[str, str]] = []
    while len(reads) < count:
        genome = usable[rng.choice(len(usable), p=weights / weights.sum())]
        start = int(rng.integers(0, len(genome.sequence) - length + 1))
        read = genome.sequence[start : start + length]
        if set(read) - set("ACGT"):
            continue
        if rng.random() < 0.5:
            read = read.translate(_COMPLEMENT)[::-1]
        reads.append((f"{prefix}{len(reads) + 1}_{genome.name}_{start}", read))
    return reads


def write_fasta(path: Path, reads: Sequence[tuple[str, str]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f">{name}\n{sequence}\n" for name, sequence in reads))
    return path


def write_reads(source: Path, path: Path, *, viral: int, host: int, length: int, seed: int) -> Path:
    """A FASTA of `viral` viral then `host` host reads of `length` bp (IDs start `vir` / `host`)."""
    reads = sample_reads(read_genomes(source, VIRAL), viral, length, seed, "vir")
    reads += sample_reads(read_genomes(source, HOST), host, length, seed + 1, "host")
    return write_fasta(path, reads)
