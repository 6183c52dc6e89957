"""A deliberately plain restatement of the published chunking and six-frame procedure.

The procedure is docs/contract.md, sections 2 and 3.

It follows the published tool step by step (the overlap list, per-codon dictionary lookups, string
reverse complement, the `S[f-1 : f + 3*len(protein)]` slice) and is the independent oracle the fast,
vectorised `virnucpro.translate` is compared with. It is never used by the package.
"""

from __future__ import annotations

from virnucpro.codon import CODON_TABLE


def reference_overlaps(length: int, chunk_size: int) -> list[int]:
    """The published overlap list (it can be longer than the number of chunks)."""
    num_chunks = -(-length // chunk_size)
    repeat_length = num_chunks * chunk_size - length
    lower = int(repeat_length / num_chunks) if num_chunks else 0
    need = repeat_length - lower * (num_chunks - 1)
    return [lower + 1] * need + [lower] * (num_chunks - 1 - need) + [0]


def reference_chunks(sequence: str, chunk_size: int) -> list[str]:
    """The published chunking loop, with its overlap list and move step."""
    length = len(sequence)
    overlaps = reference_overlaps(length, chunk_size)
    chunks, move_step = [], 0
    # the overlap list can be longer than the number of chunks: zip stops at the shorter, as published
    for a, b in zip(range(0, length, chunk_size), overlaps, strict=False):
        chunks.append(sequence[a - move_step : a - move_step + chunk_size])
        move_step += b
    return chunks


def reference_reverse_complement(sequence: str) -> str:
    return sequence.translate(str.maketrans("ACGTacgt", "TGCAtgca"))[::-1]


def reference_frames(sequence: str, *, ambiguous: str = "drop") -> list[tuple[str, str, str]]:
    """Kept (suffix, nucleotide, protein) of one upper-case chunk, in F1 F2 F3 R1 R2 R3 order."""
    invalid = "" if ambiguous == "drop" else "X"

    def translate(seq: str, frame: int) -> str:
        return "".join(CODON_TABLE.get(seq[i : i + 3], invalid) for i in range(frame, len(seq) - 2, 3))

    reverse = reference_reverse_complement(sequence)
    strands = [sequence] * 3 + [reverse] * 3
    kept = []
    for num, strand in enumerate(strands, start=1):
        frame = (num - 1) % 3 + 1
        protein = translate(strand, frame - 1)
        if protein and "*" not in protein:
            suffix = ("F" if num <= 3 else "R") + str(frame)
            kept.append((suffix, strand[frame - 1 : frame + 3 * len(protein)], protein))
    return kept


def reference_outputs(records: list[tuple[str, str]], chunk_size: int, *, ambiguous: str = "drop") -> tuple[str, str]:
    """The nucleotide.fa and protein.faa texts the published tool writes for (id, sequence) records."""
    nucleotide, protein = [], []
    for record_id, sequence in records:
        for index, chunk in enumerate(reference_chunks(sequence.upper(), chunk_size), start=1):
            for suffix, bases, aminos in reference_frames(chunk, ambiguous=ambiguous):
                name = f"{record_id}_chunk_{index}{suffix}"
                nucleotide.append(f">{name}\n{bases}\n")
                protein.append(f">{name}\n{aminos}\n")
    return "".join(nucleotide), "".join(protein)
