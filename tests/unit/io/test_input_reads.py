"""virnucpro.io.reads: FASTA or FASTQ told by content, and pairs of mate files tagged /1 and /2."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
from virnucpro.errors import InputError
from virnucpro.io.reads import pair_name, read_reads_bytes


def write(tmp_path: Path, name: str, content: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(content)
    return path


def fastq(*records: tuple[str, str]) -> bytes:
    return b"".join(f"@{header}\n{seq}\n+\n{'I' * len(seq)}\n".encode() for header, seq in records)


def test_fasta_and_fastq_of_the_same_reads_give_the_same_records(tmp_path):
    fasta = write(tmp_path, "a.data", b">r1 x\nAC\nGT\n>r2\nggg\n")
    reads = write(tmp_path, "b.data", gzip.compress(fastq(("r1 x", "ACGT"), ("r2", "ggg"))))
    assert [r[:2] for r in read_reads_bytes(fasta)] == [r[:2] for r in read_reads_bytes(reads)]
    assert [r[:2] for r in read_reads_bytes(reads)] == [("r1", b"ACGT"), ("r2", b"GGG")]


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (("p1 1:N:0:ACGT", "p2 1:N:0:ACGT"), ("p1 2:N:0:ACGT", "p2 2:N:0:ACGT")),  # Casava 1.8 headers
        (("p1/1", "p2/1"), ("p1/2", "p2/2")),  # old Illumina mate tags
    ],
)
def test_mates_come_out_in_pairs_tagged_1_and_2(tmp_path, first, second):
    one = write(tmp_path, "R1.fq", fastq((first[0], "ACGT"), (first[1], "CCC")))
    two = write(tmp_path, "R2.fq.gz", gzip.compress(fastq((second[0], "TTTT"), (second[1], "GG"))))
    assert list(read_reads_bytes(one, mate=two)) == [
        ("p1/1", b"ACGT", 1),
        ("p1/2", b"TTTT", 1),
        ("p2/1", b"CCC", 5),
        ("p2/2", b"GG", 5),
    ]


def test_pair_names_drop_only_their_own_mate_tag():
    names = [pair_name("a/1", 1), pair_name("a/2", 2), pair_name("a/2", 1), pair_name("/1", 1)]
    assert names == ["a", "a", "a/2", "/1"]


@pytest.mark.parametrize(
    ("second", "message"),
    [
        (fastq(("p1", "AC")), r"R2\.fq: ends after 1 reads but its mate file .*R1\.fq has more"),
        (fastq(("p1", "AC"), ("p2", "GG"), ("p3", "TT")), r"R1\.fq: ends after 2 reads but its mate file .*R2\.fq"),
        (fastq(("p1", "AC"), ("p3", "GG")), r"R1\.fq, line 5 and .*R2\.fq, line 5: mates out of step: 'p2' and 'p3'"),
        (fastq(("p1", "AC"), ("p2", "GX")), r"R2\.fq, line 6, column 2: record 'p2' contains 'X'"),
    ],
)
def test_mate_files_that_do_not_pair_up_are_named(tmp_path, second, message):
    one = write(tmp_path, "R1.fq", fastq(("p1", "ACGT"), ("p2", "CCC")))
    two = write(tmp_path, "R2.fq", second)
    with pytest.raises(InputError, match=message):
        list(read_reads_bytes(one, mate=two))


def test_a_pair_listed_twice_is_a_duplicate(tmp_path):
    one = write(tmp_path, "R1.fq", fastq(("p1", "ACGT"), ("p1/1", "CCC")))
    two = write(tmp_path, "R2.fq", fastq(("p1", "ACGT"), ("p1/2", "CCC")))
    with pytest.raises(InputError, match=r"R1\.fq, line 5: duplicate record ID 'p1' \(first seen at line 1\)"):
        list(read_reads_bytes(one, mate=two))


def test_mates_may_be_fasta_too(tmp_path):
    one = write(tmp_path, "R1.fa", b">p1/1\nACGT\n")
    two = write(tmp_path, "R2.fa", b">p1/2\nTT\n")
    assert [r[0] for r in read_reads_bytes(one, mate=two)] == ["p1/1", "p1/2"]
