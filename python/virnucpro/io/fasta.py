"""Read FASTA files (plain or gzip) as validated records, one record at a time.

Record IDs are the join key of every later stage, and a bad letter caught here is cheaper than one caught
after an hour on a GPU, so every problem is an `InputError` naming the file, the line and the record.
Memory stays flat: one record is held at a time, and duplicate IDs are found through 8-byte hashes.
"""

from __future__ import annotations

import gzip
import io
import zlib
from array import array
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np

from virnucpro.errors import InputError

KINDS = ("nucleotide", "protein", "any")

# IUPAC nucleotide codes (RNA's U included); sequences are upper-cased before the check.
IUPAC_NUCLEOTIDE = b"ACGTURYSWKMBDHVN"
# Letters that are amino acids but never nucleotide codes: seeing one means a protein file was given.
PROTEIN_ONLY_LETTERS = frozenset(b"EFIJLOPQXZ")
PROTEIN_LETTERS = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ*"
# Whitespace inside sequence lines is ignored (line ends, CRLF, spaces as Biopython drops them).
_WHITESPACE = b" \t\r\n\v\f"
_VALID_LETTERS = {"nucleotide": IUPAC_NUCLEOTIDE, "protein": PROTEIN_LETTERS}
_GZIP_MAGIC = b"\x1f\x8b"


@dataclass(frozen=True, slots=True)
class FastaRecord:
    """One FASTA record.

    Attributes:
        id: the first whitespace-separated word of the header.
        sequence: the sequence, upper-cased, line breaks and whitespace removed.
        line: 1-based line number of the record's header in its file.
    """

    id: str
    sequence: str
    line: int


def read_fasta(path: str | Path, *, kind: str = "nucleotide", unique_ids: bool = True) -> Iterator[FastaRecord]:
    """Yield the records of a FASTA file in file order, validating as it goes.

    Args:
        path: a FASTA file, plain or gzip-compressed (recognised by content, not by name); LF or CRLF.
        kind: "nucleotide" (IUPAC codes, the default), "protein" (letters A-Z and `*`) or "any" (no letter
            check).
        unique_ids: raise if two records share an ID. Checked with 8-byte hashes; the error comes at the
            latest when the iterator is exhausted, so callers write outputs to a temporary name first.

    Returns:
        An iterator of `FastaRecord`.

    Raises:
        InputError: missing, unreadable, empty or truncated (gzip) file; text before the first header; a
            header without an ID; a record without sequence; a letter outside the alphabet of `kind`
            (saying so when a protein file was given as nucleotide); a duplicate ID.
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, not {kind!r}")
    path = Path(path)
    registry = _IdRegistry() if unique_ids else None
    count = 0
    for header, header_line, lines in _raw_records(path):
        record = _make_record(path, header, header_line, lines, kind)
        if registry is not None:
            registry.add(record.id)
        count += 1
        yield record
    if count == 0:
        raise InputError(f"{path}: the file is empty (no FASTA records)")
    if registry is not None:
        registry.check(path)


def _open_binary(path: Path) -> BinaryIO:
    """Open a plain or gzip file for binary line reading, turning OS errors into InputError."""
    try:
        handle = open(path, "rb", buffering=1 << 20)  # noqa: SIM115 - closed by the caller
    except FileNotFoundError:
        raise InputError(f"{path}: file not found") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a directory, not a FASTA file") from None
    except OSError as error:
        raise InputError(f"{path}: cannot be read: {error.strerror or error}") from None
    if handle.peek(2)[:2] == _GZIP_MAGIC:
        return io.BufferedReader(gzip.GzipFile(fileobj=handle, mode="rb"), buffer_size=1 << 20)
    return handle


def _raw_records(path: Path) -> Iterator[tuple[bytes, int, list[bytes]]]:
    """Yield (header text after '>', header line number, raw sequence lines) per record.

    Blank lines are kept in the list (they vanish when joined) so that line i of a record is line
    `header_line + 1 + i` of the file, which lets errors point at the exact line.
    """
    header: bytes | None = None
    header_line = 0
    lines: list[bytes] = []
    line_no = 0
    with _open_binary(path) as handle:
        try:
            for line_no, raw in enumerate(handle, start=1):
                if raw[:1] == b">":
                    if header is not None:
                        yield header, header_line, lines
                    header, header_line, lines = raw[1:], line_no, []
                elif header is not None:
                    lines.append(raw)
                elif raw.strip():
                    raise InputError(
                        f"{path}, line {line_no}: expected a FASTA header starting with '>' but found "
                        f"{_preview(raw)}; is this a FASTA file?"
                    )
        except (EOFError, zlib.error, gzip.BadGzipFile) as error:
            raise InputError(
                f"{path}: truncated or corrupt gzip data near line {line_no + 1} ({error}); "
                "re-download or re-compress the file"
            ) from None
    if header is not None:
        yield header, header_line, lines


def _make_record(path: Path, header: bytes, header_line: int, lines: list[bytes], kind: str) -> FastaRecord:
    """Build and validate one record from its raw header and lines."""
    record_id = _parse_id(path, header, header_line)
    sequence = b"".join(lines).translate(None, _WHITESPACE).upper()
    if not sequence:
        raise InputError(f"{path}, line {header_line}: record {record_id!r} has no sequence")
    valid = _VALID_LETTERS.get(kind)
    if valid is not None:
        bad = sequence.translate(None, valid)
        if bad:
            raise InputError(_bad_letter_message(path, record_id, header_line, lines, kind, bad))
    return FastaRecord(record_id, sequence.decode("ascii"), header_line)


def _parse_id(path: Path, header: bytes, header_line: int) -> str:
    """The record ID: the first whitespace-separated word of the header."""
    try:
        words = header.decode("utf-8").split(None, 1)
    except UnicodeDecodeError:
        raise InputError(f"{path}, line {header_line}: the header is not valid UTF-8 text") from None
    if not words:
        raise InputError(f"{path}, line {header_line}: the header '>' has no record ID")
    return words[0]


def _bad_letter_message(path: Path, record_id: str, header_line: int, lines: list[bytes], kind: str, bad: bytes) -> str:
    """Say where the first letter outside the alphabet is, and whether the file looks like protein."""
    valid = _VALID_LETTERS[kind] + _WHITESPACE
    where, letter = f"line {header_line}", bad[:1]
    for offset, raw in enumerate(lines, start=1):
        upper = raw.upper()
        found = upper.translate(None, valid)
        if found:
            column = upper.index(found[:1])
            where, letter = f"line {header_line + offset}, column {column + 1}", raw[column : column + 1]
            break
    shown = letter.decode("latin-1")
    message = f"{path}, {where}: record {record_id!r} contains {shown!r}, which is not "
    if kind == "protein":
        return message + "an amino-acid letter (A-Z or '*')"
    message += "an IUPAC nucleotide code (A C G T U R Y S W K M B D H V N)"
    if PROTEIN_ONLY_LETTERS.intersection(bad):
        message += (
            "; the file looks like a protein FASTA (letters such as E F I L P Q are amino acids): "
            "give the nucleotide reads instead"
        )
    return message


def _preview(raw: bytes) -> str:
    """A short printable excerpt of a raw line for error messages."""
    text = raw.rstrip(b"\r\n").decode("utf-8", errors="replace")
    return repr(text if len(text) <= 40 else text[:40] + "...")


class _IdRegistry:
    """Find duplicate IDs with 8 bytes per record (an ID set would grow by ~90 bytes per record).

    Hashes are compared at the end; a hash match is confirmed on the real IDs by a second pass over the
    file's headers, so a hash collision can never cause a false error.
    """

    def __init__(self) -> None:
        self._hashes = array("q")

    def add(self, record_id: str) -> None:
        self._hashes.append(hash(record_id))

    def check(self, path: Path) -> None:
        """Raise InputError naming the first duplicated ID and both of its lines, if there is one."""
        hashes = np.frombuffer(self._hashes, dtype=np.int64)
        if len(hashes) < 2:
            return
        ordered = np.sort(hashes)
        repeated = ordered[1:][ordered[1:] == ordered[:-1]]
        if len(repeated) == 0:
            return
        suspects = set(repeated.tolist())
        first_line: dict[str, int] = {}
        for header, header_line, _ in _raw_records(path):
            record_id = _parse_id(path, header, header_line)
            if hash(record_id) not in suspects:
                continue
            if record_id in first_line:
                raise InputError(
                    f"{path}, line {header_line}: duplicate record ID {record_id!r} (first seen at line "
                    f"{first_line[record_id]}); record IDs must be unique because later stages join by them"
                )
            first_line[record_id] = header_line
