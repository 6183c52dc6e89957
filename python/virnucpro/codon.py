"""The standard genetic code as lookup tables that numpy can apply to millions of bases at once.

A base becomes a code 0-4 (A C G T, anything else 4); a codon becomes 25*b1 + 5*b2 + b3 (0-124, so it fits
in a uint8), and one table maps that number to an amino-acid byte. Codons holding a code 4 map to
a caller-chosen byte: NUL to drop them (the published behaviour) or `X` to keep them.
"""

from __future__ import annotations

from itertools import product

import numpy as np

BASES = "ACGT"
_AMINO_ACIDS = "KNKNTTTTRSRSIIMIQHQHPPPPRRRRLLLLEDEDAAAAGGGGVVVV*Y*YSSSS*CWCLFLF"
# Standard code (NCBI table 1), codons in ACGT-lexicographic order: AAA, AAC, AAG, AAT, ACA, ...
CODON_TABLE: dict[str, str] = {
    "".join(codon): amino for codon, amino in zip(product(BASES, repeat=3), _AMINO_ACIDS, strict=True)
}
STOP = ord("*")
DROPPED = 0  # the byte a dropped codon becomes before it is deleted

INVALID_CODE = 4
BASE_CODES = np.full(256, INVALID_CODE, dtype=np.uint8)
for _code, _base in enumerate(BASES.encode()):
    BASE_CODES[_base] = _code

# Reverse complement maps only A, C, G, T; every other letter stays as it is (docs/contract.md, section 3).
COMPLEMENT = bytes.maketrans(b"ACGT", b"TGCA")


def amino_lookup(invalid: int) -> bytes:
    """A 256-byte `bytes.translate` table from a base-5 codon number (0-124) to an amino-acid byte.

    Codons with a non-ACGT letter map to `invalid`; numbers above 124 never occur.
    """
    table = np.full(256, invalid, dtype=np.uint8)
    for codon, amino in CODON_TABLE.items():
        first, second, third = (BASES.index(base) for base in codon)
        table[25 * first + 5 * second + third] = ord(amino)
    return table.tobytes()


_BASE_CODE_TABLE = BASE_CODES.tobytes()


def codon_bytes(sequence: bytes, lookup: bytes) -> bytes:
    """The amino acid of the codon starting at every position of `sequence`, as one bytes object.

    Position i of the result translates sequence[i:i+3]; the last two positions see padding (`N`) and so
    get the invalid byte. A frame is then an extended slice: `result[f : f + 3*m : 3]`. The two table
    lookups are `bytes.translate` (a C loop); numpy only does the base-5 arithmetic.
    """
    codes = np.frombuffer((sequence + b"NN").translate(_BASE_CODE_TABLE), dtype=np.uint8)
    numbers = codes[:-2] * np.uint8(25)
    numbers += codes[1:-1] * np.uint8(5)
    numbers += codes[2:]
    return numbers.tobytes().translate(lookup)
