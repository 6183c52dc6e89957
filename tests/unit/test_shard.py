"""The shard stage: whole reads, deterministic content names, the shard table, validation."""

from __future__ import annotations

import gzip
import hashlib

import pytest
from virnucpro.cli import main
from virnucpro.errors import InputError
from virnucpro.shard import SHARDS_HEADER, default_prefix, shard_file

READS = b">r1 desc\nACGT\nAC\n>r2\nggg\n>r3\nTTTT\n>r4\nA\n>r5\nCC\n"


def test_shards_hold_whole_reads_in_order_and_are_named_by_content(tmp_path):
    (tmp_path / "sample.fa").write_bytes(READS)
    shards = shard_file(tmp_path / "sample.fa", tmp_path / "out", shard_size=2)
    contents = [b">r1\nACGTAC\n>r2\nGGG\n", b">r3\nTTTT\n>r4\nA\n", b">r5\nCC\n"]
    expected = [f"sample.{i:04d}.{hashlib.sha256(c).hexdigest()[:12]}.fa" for i, c in enumerate(contents, 1)]
    assert [s.name for s in shards] == expected
    assert [(tmp_path / "out" / name).read_bytes() for name in expected] == contents
    assert (tmp_path / "out" / "sample.shards.tsv").read_text().splitlines() == [
        SHARDS_HEADER,
        f"{expected[0]}\t1\t2",
        f"{expected[1]}\t2\t2",
        f"{expected[2]}\t3\t1",
    ]
    written = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert written == sorted([".virnucpro-shard-sample.json", *expected, "sample.shards.tsv"])


def test_names_do_not_depend_on_line_width_case_or_compression(tmp_path):
    (tmp_path / "a.fa").write_bytes(READS)
    rewrapped = READS.replace(b"ACGT\nAC", b"AC\ngtac").replace(b"ggg", b"GGG").replace(b"\n", b"\r\n")
    (tmp_path / "b.fa.gz").write_bytes(gzip.compress(rewrapped))
    first = shard_file(tmp_path / "a.fa", tmp_path / "a", shard_size=3, prefix="x")
    second = shard_file(tmp_path / "b.fa.gz", tmp_path / "b", shard_size=3, prefix="x")
    assert [s.name for s in first] == [s.name for s in second]


def test_cli_with_prefix_and_one_big_shard(tmp_path):
    (tmp_path / "reads.fa").write_bytes(READS)
    main(
        ["shard", str(tmp_path / "reads.fa"), "--shard-size", "100", "--outdir", str(tmp_path / "o"), "--prefix", "s1"]
    )
    names = sorted(p.name for p in (tmp_path / "o").iterdir() if not p.name.startswith("."))
    assert len(names) == 2 and names[0].startswith("s1.0001.") and names[1] == "s1.shards.tsv"


def test_invalid_input_leaves_no_shard(tmp_path):
    (tmp_path / "dup.fa").write_bytes(b">a\nAC\n>b\nGG\n>a\nTT\n")
    with pytest.raises(InputError, match=r"line 5: duplicate record ID 'a'"):
        shard_file(tmp_path / "dup.fa", tmp_path / "o", shard_size=1)
    assert list((tmp_path / "o").iterdir()) == []


def test_unreadable_input_creates_nothing(tmp_path):
    with pytest.raises(InputError, match="file not found"):
        shard_file(tmp_path / "missing.fa", tmp_path / "o", shard_size=1)
    (tmp_path / "empty.fa").write_bytes(b"")
    with pytest.raises(InputError, match="the file is empty"):
        shard_file(tmp_path / "empty.fa", tmp_path / "o", shard_size=1)
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize(("size", "prefix"), [(0, None), (2, "a/b"), (2, ".hidden"), (2, "")])
def test_bad_options(tmp_path, size, prefix):
    (tmp_path / "r.fa").write_bytes(READS)
    with pytest.raises(InputError):
        shard_file(tmp_path / "r.fa", tmp_path / "o", shard_size=size, prefix=prefix)


@pytest.mark.parametrize(
    ("name", "prefix"),
    [
        ("reads.fa", "reads"),
        ("reads.fa.gz", "reads"),
        ("S1.R1.fasta", "S1.R1"),
        ("x", "x"),
        ("S1_R1.fastq.gz", "S1_R1"),
        ("S1.fq", "S1"),
    ],
)
def test_default_prefix(name, prefix):
    assert default_prefix(f"/data/{name}") == prefix


def _as_fastq(fasta: bytes) -> bytes:
    """The same reads as FASTQ (one sequence line, a quality per base)."""
    records = [block.split(b"\n", 1) for block in fasta.split(b">")[1:]]
    sequences = [(header, body.replace(b"\n", b"")) for header, body in records]
    return b"".join(b"@%s\n%s\n+\n%s\n" % (h, s, b"I" * len(s)) for h, s in sequences)


def test_fastq_gives_the_shards_fasta_gives(tmp_path):
    (tmp_path / "a.fa").write_bytes(READS)
    (tmp_path / "b.fastq.gz").write_bytes(gzip.compress(_as_fastq(READS)))
    first = shard_file(tmp_path / "a.fa", tmp_path / "a", shard_size=2, prefix="x")
    second = shard_file(tmp_path / "b.fastq.gz", tmp_path / "b", shard_size=2, prefix="x")
    assert [s.name for s in first] == [s.name for s in second]
    assert [(tmp_path / "b" / s.name).read_bytes() for s in second] == [
        (tmp_path / "a" / s.name).read_bytes() for s in first
    ]


def test_paired_reads_are_tagged_and_a_pair_never_spans_two_shards(tmp_path):
    (tmp_path / "s_R1.fq").write_bytes(_as_fastq(b">p1 1:N\nACGT\n>p2 1:N\nGG\n>p3 1:N\nTTT\n"))
    (tmp_path / "s_R2.fq").write_bytes(_as_fastq(b">p1 2:N\nCCCC\n>p2 2:N\nAA\n>p3 2:N\nGGG\n"))
    shards = shard_file(tmp_path / "s_R1.fq", tmp_path / "o", shard_size=3, mate=tmp_path / "s_R2.fq")
    assert [(s.name.split(".")[0], s.reads) for s in shards] == [("s_R1", 4), ("s_R1", 2)]
    assert (tmp_path / "o" / shards[0].name).read_bytes() == b">p1/1\nACGT\n>p1/2\nCCCC\n>p2/1\nGG\n>p2/2\nAA\n"
    assert (tmp_path / "o" / shards[1].name).read_bytes() == b">p3/1\nTTT\n>p3/2\nGGG\n"
