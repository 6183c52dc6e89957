"""The FASTQ reader: what it accepts, and an error naming file, line and record for each bad input."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
import virnucpro.io.fastq as fastq_module
from virnucpro.errors import InputError
from virnucpro.io.fastq import read_fastq_bytes


def write(tmp_path: Path, content: bytes, name: str = "reads.fq") -> Path:
    path = tmp_path / name
    path.write_bytes(content)
    return path


def test_records_ids_upper_case_and_header_lines(tmp_path):
    path = write(tmp_path, b"@r1 1:N:0:ACGT\nacgtn\n+\nIIIII\n@r2\nGG\n+r2\n#!\n")
    assert list(read_fastq_bytes(path)) == [("r1", b"ACGTN", 1), ("r2", b"GG", 5)]


def test_crlf_no_final_newline_and_gzip_recognised_by_content(tmp_path):
    assert list(read_fastq_bytes(write(tmp_path, b"@r1 x\r\nACGT\r\n+\r\nIIII\r\n"))) == [("r1", b"ACGT", 1)]
    assert list(read_fastq_bytes(write(tmp_path, b"@r1\nACGT\n+\nIIII", "nonl.fq"))) == [("r1", b"ACGT", 1)]
    packed = write(tmp_path, gzip.compress(b"@a\nAC\n+\nII\n@b\nTT\n+\nII\n"), "reads.txt")
    assert [(i, line) for i, _, line in read_fastq_bytes(packed)] == [("a", 1), ("b", 5)]


GOOD = b"@r1\nACGT\n+\nIIII\n"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", r"reads\.fq: the file is empty \(no FASTQ records\)"),
        (GOOD + b"@r2\n", r"reads\.fq, line 5: record 'r2' is truncated: the file ends after 1 of its 4 lines"),
        (GOOD + b"@r2\nACGT\n+\n", r"line 5: record 'r2' is truncated: the file ends after 3 of its 4 lines"),
        (GOOD + b"@r2\nACGT\n+\nIII\n", r"reads\.fq, line 8: record 'r2' has 4 bases but 3 quality values"),
        (b"@r1\nACGT\n+\nIIIII\n", r"line 4: record 'r1' has 4 bases but 5 quality values"),
        (b"@r1\nACGT\nAC\n+\nIIII\nII\n", r"line 3: record 'r1': expected the '\+' line but found 'AC'.*wrapped"),
        (b"@r1\nACGT\n+r9\nIIII\n", r"line 3: record 'r1': the '\+' line names another record \('\+r9'\)"),
        (GOOD + b"\n" + GOOD.replace(b"r1", b"r2"), r"line 5: blank line; FASTQ records are 4 lines"),
        (
            GOOD + b"r2\nACGT\n+\nIIII\n",
            r"line 5: expected a FASTQ header starting with '@' but found 'r2' \(after 'r1'\)",
        ),
        (b"@\nACGT\n+\nIIII\n", r"line 1: the header '@' has no record ID"),
        (GOOD + b"@r2\n\n+\n\n", r"line 5: record 'r2' has no bases \(a read trimmed to length 0\?\)"),
        (
            GOOD + b"@r2\nAC1T\n+\nIIII\n",
            r"line 6, column 3: record 'r2' contains '1', which is not an IUPAC nucleotide",
        ),
        (GOOD + b"@r2\nACGT\n+\nII I\n", r"line 8, column 3: record 'r2' has the quality letter ' ', outside"),
        (GOOD + b"@r2\nAC\xffT\n+\nIIII\n", r"line 6, column 3: record 'r2' has the non-ASCII byte 0xff"),
        (GOOD + b"@r1 again\nGG\n+\nII\n", r"line 5: duplicate record ID 'r1' \(first seen at line 1\)"),
    ],
)
def test_bad_input_names_file_line_and_record(tmp_path, content, message):
    path = write(tmp_path, content)
    with pytest.raises(InputError, match=message):
        list(read_fastq_bytes(path))


def test_a_bad_letter_in_fastq_does_not_claim_a_protein_file(tmp_path):
    with pytest.raises(InputError) as caught:
        list(read_fastq_bytes(write(tmp_path, b"@r\nACEFT\n+\nIIIII\n")))
    assert "column 3: record 'r' contains 'E'" in str(caught.value) and "protein" not in str(caught.value)


def test_truncated_gzip_is_an_input_error(tmp_path):
    whole = gzip.compress(b"".join(b"@r%d\n%s\n+\n%s\n" % (i, b"ACGT" * 40, b"I" * 160) for i in range(3000)))
    path = write(tmp_path, whole[: len(whole) * 2 // 3], name="cut.fq.gz")
    with pytest.raises(InputError, match=r"cut\.fq\.gz: truncated or corrupt gzip data after record \d+"):
        list(read_fastq_bytes(path))


def test_records_stream_and_an_error_comes_after_the_good_records(tmp_path):
    # dnaio parses a buffer at a time, but records are handed out one by one before the bad one is reached
    path = write(tmp_path, GOOD + GOOD.replace(b"r1", b"r2") + b"@r3\nACGT\n+\nII\n")
    records = read_fastq_bytes(path)
    assert [next(records)[0], next(records)[0]] == ["r1", "r2"]
    with pytest.raises(InputError, match="record 'r3' has 4 bases but 2 quality values"):
        next(records)


def test_duplicates_allowed_when_not_required_unique(tmp_path):
    path = write(tmp_path, GOOD + GOOD)
    assert [i for i, _, _ in read_fastq_bytes(path, unique_ids=False)] == ["r1", "r1"]


def test_line_numbers_hold_across_dnaio_buffers(tmp_path, monkeypatch):
    # 2,000 records of ~100 bytes span many 1 KiB buffers; the last record's quality line is line 8,000
    body = b"".join(b"@read%d\n%s\n+\n%s\n" % (i, b"ACGT" * 10, b"I" * 40) for i in range(1999))
    path = write(tmp_path, body + b"@last\nACGT\n+\nIII\n")
    original = fastq_module.dnaio.FastqReader
    monkeypatch.setattr(
        fastq_module.dnaio, "FastqReader", lambda handle, buffer_size: original(handle, buffer_size=1024)
    )
    with pytest.raises(InputError, match=r"line 8000: record 'last' has 4 bases but 3 quality values"):
        list(read_fastq_bytes(path))
