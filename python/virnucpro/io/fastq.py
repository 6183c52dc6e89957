"""Read FASTQ files (plain or gzip) as validated records, one record at a time.

Parsing is dnaio's (the C-accelerated reader behind cutadapt): it checks the record structure (`@`
header, sequence, `+` line, qualities as long as the sequence, nothing cut off at the end). This module
adds what the method needs: the record ID, upper-case nucleotide letters, printable qualities, unique
IDs, and a message for each problem that names the file, the line and the record, as the FASTA reader
does. A record is always 4 lines (as Illumina, ONT and PacBio write it; sequences wrapped over several
lines are not supported), so record k (0-based) starts at line 4k + 1.

Qualities are checked (a quality line of the wrong length or with unprintable bytes means a broken
file) but not used: the VirNucPro method scores sequence only.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import dnaio

from virnucpro.errors import InputError
from virnucpro.io.fasta import IUPAC_NUCLEOTIDE, bad_letter_message
from virnucpro.io.sniff import GZIP_ERRORS, open_reads
from virnucpro.io.unique_ids import IdRegistry

LINES_PER_RECORD = 4
# Phred+33 qualities are the printable ASCII letters '!' (33) to '~' (126).
_QUALITY_LETTERS = bytes(range(33, 127))
_STRUCTURE = "FASTQ records are 4 lines: @header, sequence, '+', qualities"


def read_fastq_bytes(path: str | Path, *, unique_ids: bool = True) -> Iterator[tuple[str, bytes, int]]:
    """Yield (ID, upper-case sequence bytes, header line) per record, in file order, validating as it goes.

    Args:
        path: a FASTQ file, plain or gzip-compressed (recognised by content); LF or CRLF.
        unique_ids: raise if two records share an ID (reported at the latest when the iterator ends).

    Raises:
        InputError: an unreadable, empty or truncated file; a broken record structure; a header without
            an ID; a record without bases; a letter that is not an IUPAC nucleotide code; a quality byte
            outside '!'..'~'; a duplicate ID.
    """
    path = Path(path)
    registry = IdRegistry() if unique_ids else None
    count, record_id = 0, ""
    handle, _ = open_reads(path)
    with handle:
        try:
            for record in dnaio.FastqReader(handle, buffer_size=1 << 20):
                line = LINES_PER_RECORD * count + 1
                record_id, sequence = _checked(path, record, line)
                if registry is not None:
                    registry.add(record_id)
                count += 1
                yield record_id, sequence, line
        except dnaio.FastqFormatError as error:
            raise _structure_error(path, error, count, record_id) from None
        except GZIP_ERRORS as error:
            raise InputError(
                f"{path}: truncated or corrupt gzip data after record {count} ({error}); "
                "re-download or re-compress the file"
            ) from None
    if count == 0:
        raise InputError(f"{path}: the file is empty (no FASTQ records)")
    if registry is not None:
        registry.check(path, lambda: _ids_again(path))


def _checked(path: Path, record: dnaio.SequenceRecord, line: int) -> tuple[str, bytes]:
    """The record's ID and upper-case sequence, after the checks dnaio does not make."""
    words = record.name.split(None, 1)
    if not words:
        raise InputError(f"{path}, line {line}: the header '@' has no record ID")
    sequence = record.sequence.encode("ascii").upper()  # dnaio has refused non-ASCII bytes
    if not sequence:
        raise InputError(
            f"{path}, line {line}: record {words[0]!r} has no bases (a read trimmed to length 0?); "
            "remove empty reads first (e.g. cutadapt --minimum-length 1)"
        )
    bad = sequence.translate(None, IUPAC_NUCLEOTIDE)
    if bad:
        raw = record.sequence.encode("ascii")
        raise InputError(bad_letter_message(path, words[0], line, raw, "nucleotide", bad, protein_hint=False))
    qualities = record.qualities.encode("ascii")
    wrong = qualities.translate(None, _QUALITY_LETTERS)
    if wrong:
        column = qualities.index(wrong[:1]) + 1
        raise InputError(
            f"{path}, line {line + 3}, column {column}: record {words[0]!r} has the quality letter "
            f"{wrong[:1].decode('ascii')!r}, "
            "outside the printable range '!'..'~' of Phred+33 qualities"
        )
    return words[0], sequence


def _structure_error(path: Path, error: dnaio.FastqFormatError, count: int, previous: str) -> InputError:
    """Turn dnaio's message into one that names the file, the line and the record."""
    start = LINES_PER_RECORD * count + 1
    lines = _record_lines(path, start)
    record_id = lines[0][1:].split(maxsplit=1)[0].decode("ascii", "replace") if lines[:1] and lines[0][1:] else ""
    where = f"record {record_id!r}" if record_id else f"the record after {previous!r}" if previous else "record 1"
    message = error.message
    line = start if error.line is None else error.line + 1
    if lines and not lines[0].strip():
        return InputError(f"{path}, line {start}: blank line; {_STRUCTURE}, with no blank lines between records")
    if "Premature end" in message:
        return InputError(
            f"{path}, line {start}: {where} is truncated: the file ends after {len(lines)} of its 4 lines "
            f"({_STRUCTURE})"
        )
    if "Length of sequence and qualities differ" in message:
        return InputError(
            f"{path}, line {start + 3}: {where} has {len(lines[1])} bases but {len(lines[3])} quality values"
        )
    if "expected to start with '@'" in message:
        return InputError(
            f"{path}, line {line}: expected a FASTQ header starting with '@' but found {_preview(lines[0])} "
            f"(after {previous!r}); {_STRUCTURE}"
        )
    if "expected to start with '+'" in message:
        return InputError(
            f"{path}, line {line}: {where}: expected the '+' line but found {_preview(lines[2])}; {_STRUCTURE} "
            "(sequences wrapped over several lines are not supported)"
        )
    if "descriptions don't match" in message:
        return InputError(
            f"{path}, line {line}: {where}: the '+' line names another record ({_preview(lines[2])}); it must "
            "be '+' alone or repeat the header"
        )
    if "Non-ASCII" in message:
        return _non_ascii_error(path)
    return InputError(f"{path}, line {line}: {where}: {message}")


def _record_lines(path: Path, start: int) -> list[bytes]:
    """Up to 4 raw lines (line ends removed) from line `start` on, read again for an error message."""
    handle, _ = open_reads(path)
    with handle:
        try:
            picked = list(itertools.islice(handle, start - 1, start - 1 + LINES_PER_RECORD))
        except GZIP_ERRORS:
            picked = []
    return [text.rstrip(b"\r\n") for text in picked]


def _non_ascii_error(path: Path) -> InputError:
    """Where the first non-ASCII byte is (dnaio checks a whole buffer at once, so it cannot say)."""
    handle, _ = open_reads(path)
    line = 1
    with handle:
        for text in handle:
            column = next((i for i, byte in enumerate(text, start=1) if byte > 127), 0)
            if column:
                start = (line - 1) // LINES_PER_RECORD * LINES_PER_RECORD + 1
                header = _record_lines(path, start)[:1] or [b""]
                record_id = header[0][1:].split(maxsplit=1)[:1] or [b""]
                return InputError(
                    f"{path}, line {line}, column {column}: record {record_id[0].decode('ascii', 'replace')!r} has "
                    f"the non-ASCII byte {text[column - 1]:#04x}; FASTQ is ASCII text"
                )
            line += 1
    return InputError(f"{path}: has a non-ASCII byte; FASTQ is ASCII text")


def _preview(raw: bytes) -> str:
    text = raw.decode("utf-8", errors="replace")
    return repr(text if len(text) <= 40 else text[:40] + "...")


def _ids_again(path: Path) -> Iterator[tuple[str, int]]:
    """(ID, header line) of every record, read again (the file has already passed every check)."""
    handle, _ = open_reads(path)
    with handle:
        for count, record in enumerate(dnaio.FastqReader(handle, buffer_size=1 << 20)):
            yield record.name.split(None, 1)[0], LINES_PER_RECORD * count + 1
