"""The genetic-code tables against Biopython's standard table (an independent source)."""

from __future__ import annotations

import numpy as np
from Bio.Data.CodonTable import standard_dna_table
from virnucpro.codon import BASE_CODES, CODON_TABLE, amino_lookup, codon_bytes


def test_codon_table_is_the_standard_code():
    expected = {**standard_dna_table.forward_table, **dict.fromkeys(standard_dna_table.stop_codons, "*")}
    assert expected == CODON_TABLE
    assert sorted(c for c, a in CODON_TABLE.items() if a == "*") == ["TAA", "TAG", "TGA"]


def test_base_codes_accept_only_upper_case_acgt():
    codes = BASE_CODES[np.frombuffer(b"ACGTNacgtU", dtype=np.uint8)]
    assert codes.tolist() == [0, 1, 2, 3, 4, 4, 4, 4, 4, 4]


def test_codon_bytes_translates_every_position():
    # ATGTAAN: ATG=M, TGT=C, GTA=V, TAA=*, AAN (invalid), AN+pad and N+pad (invalid).
    assert codon_bytes(b"ATGTAAN", amino_lookup(ord("-"))) == b"MCV*---"
    assert codon_bytes(b"", amino_lookup(0)) == b""
