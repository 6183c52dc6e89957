"""What a reads file is, told from its first bytes: FASTA or FASTQ, plain or gzip, or a common mix-up.

Formats are recognised by content, never by file name: `reads.txt` holding gzip-compressed FASTQ is read
as such. Files that are something else get a message that says what they are and what is supported:
bzip2, xz, zstd and zip archives, BAM, text with a byte-order mark (UTF-8 or UTF-16, as some editors save
it), and classic Mac OS line ends (a lone carriage return). Supported: FASTA or FASTQ, plain or
gzip-compressed (BGZF included), LF or CRLF line ends.
"""

from __future__ import annotations

import gzip
import importlib
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from xopen import xopen

from virnucpro.errors import InputError

SUPPORTED = "FASTA or FASTQ, plain or gzip-compressed, with LF or CRLF line ends"
FASTA, FASTQ = "fasta", "fastq"
_PEEK = 1 << 16  # bytes looked at: enough for the first records of any real file
_GZIP_MAGIC = b"\x1f\x8b"
# other containers a reads file often comes in: magic bytes -> (what it is, how to make it readable)
_OTHER_MAGIC = {
    b"BZh": ("bzip2-compressed", "decompress it (bunzip2) or recompress it with gzip"),
    b"\xfd7zXZ\x00": ("xz-compressed", "decompress it (unxz) or recompress it with gzip"),
    b"\x28\xb5\x2f\xfd": ("zstd-compressed", "decompress it (unzstd) or recompress it with gzip"),
    b"PK\x03\x04": ("a zip archive", "extract the reads file from it (unzip)"),
}
_TEXT_MARKS = {
    b"\xef\xbb\xbf": "starts with a UTF-8 byte-order mark (a Unicode signature some editors add)",
    b"\xff\xfe": "is UTF-16 text (it starts with a UTF-16 byte-order mark)",
    b"\xfe\xff": "is UTF-16 text (it starts with a UTF-16 byte-order mark)",
}


def _gzip_errors() -> tuple[type[BaseException], ...]:
    """What a truncated or corrupt gzip stream raises, whichever backend xopen picked (ISA-L, zlib-ng, zlib)."""
    errors: list[type[BaseException]] = [EOFError, zlib.error, gzip.BadGzipFile]
    for module in ("isal.isal_zlib", "zlib_ng.zlib_ng"):
        try:
            errors.append(importlib.import_module(module).error)
        except ImportError:  # xopen falls back to the next backend; so do we
            continue
    return tuple(errors)


GZIP_ERRORS = _gzip_errors()


@dataclass(frozen=True)
class Sniffed:
    """A reads file's format (`fasta` or `fastq`) and whether it is gzip-compressed."""

    format: str
    gzipped: bool


def open_reads(path: Path) -> tuple[BinaryIO, bool]:
    """Open a reads file for binary reading (gzip decompressed), refusing the mix-ups named above.

    Returns:
        The open handle, positioned at the start (the caller closes it), and whether it is gzip-compressed.

    Raises:
        InputError: missing, a directory, unreadable, another compression or container, a byte-order mark,
            lone carriage returns (looked for in the first 64 KiB).
    """
    with _open_plain(path) as handle:
        magic = handle.read(8)
    _refuse_other_containers(path, magic, "")
    gzipped = magic[:2] == _GZIP_MAGIC
    handle = xopen(path, "rb", threads=0, format="gz") if gzipped else _open_plain(path)
    try:
        head = handle.peek(_PEEK)[:_PEEK]
        if gzipped:
            _refuse_other_containers(path, head[:8], "gzip-compressed ")
        _refuse_text_marks(path, head)
    except GZIP_ERRORS as error:
        handle.close()
        raise _gzip_error(path, error) from None
    except BaseException:
        handle.close()
        raise
    return handle, gzipped


def sniff(path: str | Path) -> Sniffed:
    """Say whether `path` holds FASTA or FASTQ, from its first non-blank character, and if it is gzipped.

    Raises:
        InputError: anything `open_reads` refuses; an empty file; text that is neither format.
    """
    path = Path(path)
    handle, gzipped = open_reads(path)
    with handle:
        try:
            head = handle.read(_PEEK)
        except GZIP_ERRORS as error:
            raise _gzip_error(path, error) from None
    return Sniffed(_format_of(path, head), gzipped)


def _format_of(path: Path, head: bytes) -> str:
    """FASTA or FASTQ from the first non-blank character (`>` or `@`) of the file's first bytes."""
    stripped = head.lstrip()
    if not stripped:
        raise InputError(f"{path}: the file is empty (no FASTA or FASTQ records)")
    if stripped[:1] == b">":
        return FASTA
    if stripped[:1] == b"@":
        return FASTQ
    line = head[: len(head) - len(stripped)].count(b"\n") + 1
    first = stripped.split(b"\n", 1)[0].rstrip(b"\r").decode("utf-8", errors="replace")
    shown = repr(first if len(first) <= 40 else first[:40] + "...")
    raise InputError(
        f"{path}, line {line}: expected a FASTA header starting with '>' or a FASTQ record starting with '@' "
        f"but found {shown}; virnucpro reads {SUPPORTED}"
    )


def _gzip_error(path: Path, error: BaseException) -> InputError:
    return InputError(f"{path}: truncated or corrupt gzip data ({error}); re-download or re-compress the file")


def _open_plain(path: Path) -> BinaryIO:
    """`open(path, 'rb')` with OS errors turned into InputError."""
    try:
        return open(path, "rb", buffering=1 << 20)
    except FileNotFoundError:
        raise InputError(f"{path}: file not found") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a directory, not a reads file") from None
    except OSError as error:
        raise InputError(f"{path}: cannot be read: {error.strerror or error}") from None


def _refuse_other_containers(path: Path, magic: bytes, outer: str) -> None:
    for prefix, (what, remedy) in _OTHER_MAGIC.items():
        if magic.startswith(prefix):
            raise InputError(f"{path}: is {outer}{what}; virnucpro reads {SUPPORTED}: {remedy}")
    if magic.startswith(b"BAM\x01"):
        raise InputError(
            f"{path}: is a BAM file; virnucpro reads {SUPPORTED}: convert it first (samtools fastq {path.name})"
        )


def _refuse_text_marks(path: Path, head: bytes) -> None:
    for mark, what in _TEXT_MARKS.items():
        if head.startswith(mark):
            raise InputError(
                f"{path}: {what}; virnucpro reads {SUPPORTED}, as plain ASCII text: save it as plain text "
                "without the mark"
            )
    carriage = head.find(b"\r")
    while carriage != -1 and carriage < len(head) - 1:
        if head[carriage + 1 : carriage + 2] != b"\n":
            line = head.count(b"\n", 0, carriage) + 1
            raise InputError(
                f"{path}, line {line}: ends with a lone carriage return (classic Mac OS line ends); virnucpro "
                f"reads {SUPPORTED}: convert it (tr '\\r' '\\n')"
            )
        carriage = head.find(b"\r", carriage + 2)
