"""Write the bundled demo reads, `assets/demo/reads.fa`: 45 synthetic sequences, the same bytes every time.

    python assets/demo/make_demo_reads.py            # rewrites assets/demo/reads.fa (seed 20240611)

The reads exercise every path of the translate stage: lengths 120-1500 bp including exactly 300 and 500
(the two published chunk lengths) and 301/501 (a short last chunk), a 2 bp read (no frame), reads with N
runs and other IUPAC codes, a soft-masked (lower-case) read, coding reads on either strand (frames kept) and
random non-coding ones (frames mostly dropped), and contig IDs in the style of common assemblers.

Five longer contigs (3-7 kb) follow for the per-contig outputs: open reading frames ("islands") set in
"host" sequence that has a stop codon in all six frames every 80 bases, so no chunk touching the host
part keeps a frame. With the demo's tiny classifier, which scores every frame it sees as virus, the
islands are exactly the viral regions: one inside a contig, one at a contig's start, one at its end (over
the short last chunk), a contig that is one island, and one that is host only (no frame at all).
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path

SEED = 20240611
SENSE_CODONS = [a + b + c for a in "ACGT" for b in "ACGT" for c in "ACGT" if a + b + c not in ("TAA", "TAG", "TGA")]
FIXED_LENGTHS = [300, 500, 301, 501, 600, 1000, 1500, 120, 299, 499]
COMPLEMENT = str.maketrans("ACGT", "TGCA")
# stop codons in all three frames of both strands: TAA at offsets 0, 4 and 8, then its reverse complement
ALL_FRAMES_STOP = "TAAATAAATAA" + "TTATTTATTTA"
HOST_STOP_EVERY = 80


def coding(rng: random.Random, length: int) -> str:
    """An open reading frame (sense codons only) of `length` bases, on a random strand."""
    bases = "".join(rng.choice(SENSE_CODONS) for _ in range(length // 3 + 1))[:length]
    return bases.translate(COMPLEMENT)[::-1] if rng.random() < 0.5 else bases


def noncoding(rng: random.Random, length: int) -> str:
    return "".join(rng.choice("ACGT") for _ in range(length))


def with_ambiguity(rng: random.Random, sequence: str) -> str:
    """Put an N run and a few other IUPAC codes into a sequence."""
    letters = list(sequence)
    start = rng.randrange(0, max(1, len(letters) - 12))
    letters[start : start + rng.randint(3, 12)] = "N" * rng.randint(3, 12)
    for _ in range(3):
        letters[rng.randrange(len(letters))] = rng.choice("RYSWKM")
    return "".join(letters)[: len(sequence)]


def demo_reads(seed: int) -> list[tuple[str, str]]:
    """(header, sequence) pairs: assembler-style IDs, mixed lengths and content."""
    rng = random.Random(seed)
    lengths = FIXED_LENGTHS + [rng.randint(120, 1500) for _ in range(29)]
    reads = []
    for number, length in enumerate(lengths, start=1):
        sequence = coding(rng, length) if number % 3 else noncoding(rng, length)
        if number % 7 == 0:
            sequence = with_ambiguity(rng, sequence)
        if number == 11:
            sequence = sequence.lower()
        if number % 2:
            header = f"k141_{rng.randint(1, 99999)} flag=1 multi={rng.uniform(1, 20):.4f} len={length}"
        else:
            header = f"NODE_{number}_length_{length}_cov_{rng.uniform(2, 80):.6f}"
        reads.append((header, sequence))
    reads.insert(20, ("NODE_99_length_2_cov_1.000000", "AC"))
    return reads


def host(rng: random.Random, length: int) -> str:
    """Random sequence with a stop in every frame of both strands at least every HOST_STOP_EVERY bases."""
    parts = []
    while sum(map(len, parts)) < length:
        parts.append(ALL_FRAMES_STOP + noncoding(rng, HOST_STOP_EVERY - len(ALL_FRAMES_STOP)))
    return "".join(parts)[:length]


def long_contigs(seed: int) -> list[tuple[str, str]]:
    """(header, sequence) of the five contigs with planted islands (their own generator, seed + 1)."""
    rng = random.Random(seed + 1)
    layouts = {
        "contig_prophage_1": [("host", 2500), ("island", 2400), ("host", 2100)],
        "contig_phage_2": [("island", 3000)],
        "contig_island_start_3": [("island", 1800), ("host", 2200)],
        "contig_island_end_4": [("host", 2201), ("island", 1600)],
        "contig_host_5": [("host", 3000)],
    }
    contigs = []
    for name, layout in layouts.items():
        sequence = "".join(coding(rng, n) if kind == "island" else host(rng, n) for kind, n in layout)
        where = ", ".join(f"{kind} {n} bp" for kind, n in layout)
        contigs.append((f"{name} planted: {where}", sequence))
    return contigs


def write_fasta(path: Path, reads: list[tuple[str, str]], width: int = 70) -> None:
    with open(path, "w") as handle:
        for header, sequence in reads:
            handle.write(f">{header}\n")
            for start in range(0, len(sequence), width):
                handle.write(sequence[start : start + width] + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--output", type=Path, default=Path(__file__).with_name("reads.fa"))
    args = parser.parse_args()
    write_fasta(args.output, demo_reads(args.seed) + long_contigs(args.seed))


if __name__ == "__main__":
    main()
