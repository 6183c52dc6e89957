"""What a reads file is, from its content: FASTA or FASTQ, plain or gzip, and a message for each mix-up."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import zipfile

import pytest
from virnucpro.errors import InputError
from virnucpro.io.sniff import Sniffed, sniff

SUPPORTED = "virnucpro reads FASTA or FASTQ, plain or gzip-compressed, with LF or CRLF line ends"


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b">r\nACGT\n", Sniffed("fasta", False)),
        (b"\n\n  >r\nACGT\n", Sniffed("fasta", False)),
        (b"@r\nACGT\n+\nIIII\n", Sniffed("fastq", False)),
        (gzip.compress(b"@r\nACGT\n+\nIIII\n"), Sniffed("fastq", True)),
        (gzip.compress(b">r\r\nACGT\r\n"), Sniffed("fasta", True)),
    ],
)
def test_format_and_compression_come_from_content_not_name(tmp_path, content, expected):
    path = tmp_path / "reads.txt"
    path.write_bytes(content)
    assert sniff(path) == expected


def _zip(text: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("reads.fa", text)
    return buffer.getvalue()


FASTA = b">r1\nACGT\n>r2\nGG\n"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (bz2.compress(FASTA), f"reads: is bzip2-compressed; {SUPPORTED}: decompress it (bunzip2)"),
        (lzma.compress(FASTA), f"reads: is xz-compressed; {SUPPORTED}: decompress it (unxz)"),
        (b"\x28\xb5\x2f\xfd" + b"\x00" * 20, f"reads: is zstd-compressed; {SUPPORTED}"),
        (_zip(FASTA), f"reads: is a zip archive; {SUPPORTED}: extract the reads file from it"),
        (gzip.compress(b"BAM\x01" + b"\x00" * 40), f"reads: is a BAM file; {SUPPORTED}: convert it first"),
        (gzip.compress(bz2.compress(FASTA)), "reads: is gzip-compressed bzip2-compressed"),
        (b"\xef\xbb\xbf" + FASTA, "reads: starts with a UTF-8 byte-order mark"),
        (FASTA.decode().encode("utf-16"), "reads: is UTF-16 text"),
        (gzip.compress(b"\xef\xbb\xbf" + FASTA), "reads: starts with a UTF-8 byte-order mark"),
        (b">r1\rACGT\r>r2\rGG\r", "reads, line 1: ends with a lone carriage return (classic Mac OS line ends)"),
        (b">r1\nACGT\n>r2\rGG\r", "reads, line 3: ends with a lone carriage return"),
        (b"", "reads: the file is empty (no FASTA or FASTQ records)"),
        (b" \n\t\n", "reads: the file is empty"),
        (b"\nsample,fasta\n", "reads, line 2: expected a FASTA header starting with '>' or a FASTQ record"),
        (gzip.compress(FASTA)[:12], "reads: truncated or corrupt gzip data (Compressed file ended"),
    ],
)
def test_mix_ups_say_what_the_file_is_and_what_is_supported(tmp_path, content, message):
    path = tmp_path / "reads"
    path.write_bytes(content)
    with pytest.raises(InputError) as caught:
        sniff(path)
    assert str(caught.value).startswith(f"{tmp_path}/{message}"), caught.value


def test_missing_and_directory(tmp_path):
    with pytest.raises(InputError, match=r"nope\.fq: file not found"):
        sniff(tmp_path / "nope.fq")
    with pytest.raises(InputError, match="is a directory, not a reads file"):
        sniff(tmp_path)
