"""The FASTA reader: what it accepts, and an error naming file, line and record for each bad input."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
import virnucpro.io.fasta as fasta_module
import virnucpro.io.unique_ids as unique_ids_module
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from virnucpro.errors import InputError
from virnucpro.io.fasta import FastaRecord, read_fasta


def write(tmp_path: Path, content: bytes, name: str = "reads.fa") -> Path:
    path = tmp_path / name
    path.write_bytes(content)
    return path


def test_multi_line_records_with_descriptions_and_blank_lines(tmp_path):
    path = write(tmp_path, b">r1 first read\nACGT\nAC\n\n>r2\tsecond\nGGGT\n")
    assert list(read_fasta(path)) == [FastaRecord("r1", "ACGTAC", 1), FastaRecord("r2", "GGGT", 5)]


def test_crlf_lowercase_and_spaces_are_normalised(tmp_path):
    path = write(tmp_path, b">r1 x\r\nacg t\r\nNn\r\n")
    assert list(read_fasta(path)) == [FastaRecord("r1", "ACGTNN", 1)]


def test_gzip_is_recognised_by_content_not_name(tmp_path):
    path = write(tmp_path, gzip.compress(b">r1\nACGT\n>r2\nTT\n"), name="reads.txt")
    assert [(r.id, r.sequence, r.line) for r in read_fasta(path)] == [("r1", "ACGT", 1), ("r2", "TT", 3)]


def test_all_iupac_codes_are_nucleotides(tmp_path):
    path = write(tmp_path, b">r\nACGTURYSWKMBDHVNacgturyswkmbdhvn\n")
    assert next(read_fasta(path)).sequence == "ACGTURYSWKMBDHVN" * 2


def test_protein_and_any_kinds(tmp_path):
    path = write(tmp_path, b">p1\nmkvlEPQW*\n")
    assert next(read_fasta(path, kind="protein")).sequence == "MKVLEPQW*"
    odd = write(tmp_path, b">p1\nAC-GT.\n", name="odd.fa")
    assert next(read_fasta(odd, kind="any")).sequence == "AC-GT."
    with pytest.raises(InputError, match=r"line 2, column 3: record 'p1' contains '-', which is not an amino"):
        list(read_fasta(odd, kind="protein"))
    with pytest.raises(ValueError, match="kind"):
        list(read_fasta(path, kind="dna"))


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", r"reads\.fa: the file is empty"),
        (b"\n  \n", r"reads\.fa: the file is empty"),
        (b"ACGT\n>r\nAC\n", r"reads\.fa, line 1: expected a FASTA header starting with '>' but found 'ACGT'"),
        (b"\n\nid,seq\n", r"line 3: expected a FASTA header"),
        (b">r1\n>r2\nAC\n", r"line 1: record 'r1' has no sequence"),
        (b">r1\nAC\n>r2\n\n", r"line 3: record 'r2' has no sequence"),
        (b">\nACGT\n", r"line 1: the header '>' has no record ID"),
        (b">r1\nACGT\n>r2\nAC\nGGXT\n", r"line 5, column 3: record 'r2' contains 'X'"),
        (b">r1\nAC GT1\n", r"line 2, column 6: record 'r1' contains '1', which is not an IUPAC nucleotide code"),
        (b">r1\nAC>GT\n", r"line 2, column 3: record 'r1' contains '>'"),
        (b">r1\nACGT\n>r1 again\nGG\n", r"line 3: duplicate record ID 'r1' \(first seen at line 1\)"),
        (b">\xff\xfe\nAC\n", r"line 1: the header is not valid UTF-8"),
    ],
)
def test_bad_input_names_file_line_and_record(tmp_path, content, message):
    path = write(tmp_path, content)
    with pytest.raises(InputError, match=message):
        list(read_fasta(path))


def test_protein_file_given_as_nucleotide_is_recognised(tmp_path):
    path = write(tmp_path, b">sp|P69905|HBA_HUMAN Hemoglobin\nMVLSPADKTNVKAAWGKVGAHAGEYGAEALERMFLSFPTTKTYFPHF\n")
    with pytest.raises(InputError, match="looks like a protein FASTA") as caught:
        list(read_fasta(path))
    assert "line 2, column 2: record 'sp|P69905|HBA_HUMAN' contains 'V'" not in str(caught.value)
    assert "line 2, column 3: record 'sp|P69905|HBA_HUMAN' contains 'L'" in str(caught.value)


def test_non_protein_bad_letter_does_not_claim_protein(tmp_path):
    path = write(tmp_path, b">r\nACGT-ACGT\n")
    with pytest.raises(InputError) as caught:
        list(read_fasta(path))
    assert "looks like a protein" not in str(caught.value)


def test_missing_directory_and_unreadable_paths(tmp_path):
    with pytest.raises(InputError, match=r"nope\.fa: file not found"):
        list(read_fasta(tmp_path / "nope.fa"))
    with pytest.raises(InputError, match="is a directory"):
        list(read_fasta(tmp_path))


def test_truncated_gzip_is_an_input_error(tmp_path):
    whole = gzip.compress(b"".join(b">r%d\n%s\n" % (i, b"ACGT" * 40) for i in range(300)))
    path = write(tmp_path, whole[: len(whole) * 2 // 3], name="cut.fa.gz")
    with pytest.raises(InputError, match=r"cut\.fa\.gz: truncated or corrupt gzip data near line \d+"):
        list(read_fasta(path))


def test_duplicates_allowed_when_not_required_unique(tmp_path):
    path = write(tmp_path, b">a\nAC\n>a\nGG\n")
    assert [r.sequence for r in read_fasta(path, unique_ids=False)] == ["AC", "GG"]


def test_hash_collisions_never_cause_a_false_duplicate(tmp_path, monkeypatch):
    # Every ID hashes alike: the registry must confirm on the real IDs and accept distinct ones.
    monkeypatch.setattr(unique_ids_module, "hash", lambda _: 7, raising=False)
    path = write(tmp_path, b">a\nAC\n>b\nGG\n>c\nTT\n")
    assert [r.id for r in read_fasta(path)] == ["a", "b", "c"]
    duplicated = write(tmp_path, b">a\nAC\n>b\nGG\n>b\nTT\n", name="dup.fa")
    with pytest.raises(InputError, match=r"line 5: duplicate record ID 'b' \(first seen at line 3\)"):
        list(read_fasta(duplicated))


def test_records_stream_one_at_a_time(tmp_path):
    # The error in record 3 comes only after records 1 and 2 were handed out: nothing is read ahead.
    path = write(tmp_path, b">a\nAC\n>b\nGG\n>c\nEF\n")
    records = read_fasta(path)
    assert [next(records).id, next(records).id] == ["a", "b"]
    with pytest.raises(InputError, match="record 'c'"):
        next(records)


LINE_ENDS = st.sampled_from(["\n", "\r\n"])


@st.composite
def fasta_texts(draw):
    """FASTA text with wrapped lines, blank lines, CRLF and leading blank lines, plus its expected records."""
    end = draw(LINE_ENDS)
    text = end * draw(st.integers(0, 2))
    line = 1 + text.count("\n")
    expected = []
    for number in range(draw(st.integers(1, 5))):
        sequence = draw(st.text(alphabet="ACGTNacgtn", min_size=1, max_size=60))
        width = draw(st.integers(1, 25))
        lines = [sequence[i : i + width] for i in range(0, len(sequence), width)]
        if draw(st.booleans()):
            lines.insert(draw(st.integers(0, len(lines))), "")
        text += f">id{number} some words{end}" + "".join(part + end for part in lines)
        expected.append(FastaRecord(f"id{number}", sequence.upper(), line))
        line += 1 + len(lines)
    return text, expected


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=fasta_texts(), block=st.integers(min_value=1, max_value=40))
def test_records_are_the_same_whatever_the_read_block_size(tmp_path, monkeypatch, case, block):
    # Records and headers straddle block boundaries when blocks are tiny; parsing must not notice.
    text, expected = case
    path = write(tmp_path, text.encode())
    monkeypatch.setattr(fasta_module, "_BLOCK", block)
    assert list(read_fasta(path)) == expected
