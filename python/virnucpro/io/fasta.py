"""Read FASTA files (plain or gzip) as validated records, one record at a time.

Record IDs are the join key of every later stage, and a bad letter caught here is cheaper than one caught
after an hour on a GPU, so every problem is an `InputError` naming the file, the line and the record.
Memory stays flat: the file is read in 4 MB blocks and handed out one record at a time, and duplicate IDs
are found through 8-byte hashes (reported once the whole file has been read).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

from virnucpro.errors import InputError
from virnucpro.io.sniff import GZIP_ERRORS, open_reads
from virnucpro.io.unique_ids import IdRegistry

KINDS = ("nucleotide", "protein", "any")

# IUPAC nucleotide codes (RNA's U included); sequences are upper-cased before the check.
IUPAC_NUCLEOTIDE = b"ACGTURYSWKMBDHVN"
# Letters that are amino acids but never nucleotide codes: seeing one means a protein file was given.
PROTEIN_ONLY_LETTERS = frozenset(b"EFIJLOPQXZ")
PROTEIN_LETTERS = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ*"
# Whitespace inside sequence lines is ignored (line ends, CRLF, spaces as Biopython drops them).
_WHITESPACE = b" \t\r\n\v\f"
_UPPER = bytes(range(256)).upper()  # bytes.translate table: upper-case in the same pass that drops whitespace
_VALID_LETTERS = {"nucleotide": IUPAC_NUCLEOTIDE, "protein": PROTEIN_LETTERS}


class FastaRecord(NamedTuple):
    """One FASTA record (a named tuple: cheap to create a million of).

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
    for record_id, sequence, line in read_fasta_bytes(path, kind=kind, unique_ids=unique_ids):
        yield FastaRecord(record_id, sequence.decode("latin-1"), line)


def read_fasta_bytes(
    path: str | Path, *, kind: str = "nucleotide", unique_ids: bool = True
) -> Iterator[tuple[str, bytes, int]]:
    """`read_fasta` for stages that work on bytes: (ID, upper-case sequence bytes, header line) tuples.

    Same validation and errors as `read_fasta`; it skips the decode that a bytes consumer (translate,
    shard) would undo at once, which matters at a million reads.
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, not {kind!r}")
    path = Path(path)
    valid = _VALID_LETTERS.get(kind)
    registry = IdRegistry() if unique_ids else None
    remember = registry.add if registry is not None else None
    count = 0
    for header, header_line, body in _raw_records(path):
        record_id = _parse_id(path, header, header_line)
        sequence = body.translate(_UPPER, _WHITESPACE)
        if not sequence:
            raise InputError(f"{path}, line {header_line}: record {record_id!r} has no sequence")
        if valid is not None and sequence.translate(None, valid):
            bad = sequence.translate(None, valid)
            raise InputError(bad_letter_message(path, record_id, header_line, body, kind, bad))
        if remember is not None:
            remember(record_id)
        count += 1
        yield record_id, sequence, header_line
    if count == 0:
        raise InputError(f"{path}: the file is empty (no FASTA records)")
    if registry is not None:
        registry.check(path, lambda: ((_parse_id(path, h, n), n) for h, n, _ in _raw_records(path)))


_BLOCK = 1 << 22  # bytes read at a time; records are cut out of blocks with C-level searches


def _raw_records(path: Path) -> Iterator[tuple[bytes, int, bytes]]:
    """Yield (header text after '>', header line number, raw body text with its line breaks) per record.

    The file is read in large blocks and records are found by searching for a '>' that starts a line, so
    Python does a few operations per record rather than per line. A record may span blocks (a long
    contig): its pieces are collected and joined once. Text before the first header must be blank.
    """
    line = 1  # line number where the pending text starts
    parts: list[bytes] = []  # pending text that continues into the next block
    at_line_start = True
    handle, _ = open_reads(path)
    with handle:
        try:
            while block := handle.read(_BLOCK):
                cut = 0 if at_line_start and block[:1] == b">" else _next_header(block, 0)
                previous = 0
                while cut != -1:
                    text = b"".join([*parts, block[previous:cut]]) if parts else block[previous:cut]
                    parts, previous = [], cut
                    if text:
                        record = _split_record(path, text, line)
                        if record is not None:
                            yield record
                        line += text.count(b"\n")
                    cut = _next_header(block, cut + 1)
                parts.append(block[previous:])
                at_line_start = block[-1:] == b"\n"
        except GZIP_ERRORS as error:
            raise InputError(
                f"{path}: truncated or corrupt gzip data near line {line} ({error}); "
                "re-download or re-compress the file"
            ) from None
    text = b"".join(parts)
    record = _split_record(path, text, line) if text else None
    if record is not None:
        yield record


def _next_header(block: bytes, start: int) -> int:
    """Index of the next '>' that starts a line in `block` at or after `start`, or -1."""
    found = block.find(b"\n>", max(start - 1, 0))
    return -1 if found == -1 else found + 1


def _split_record(path: Path, text: bytes, line: int) -> tuple[bytes, int, bytes] | None:
    """(header, line, body) of one record's text; None for blank text before the first header."""
    if text[:1] == b">":
        header, _, body = text[1:].partition(b"\n")
        return header, line, body
    if text.strip():
        lines = text.split(b"\n")
        offset = next(i for i, raw in enumerate(lines) if raw.strip())
        raise InputError(
            f"{path}, line {line + offset}: expected a FASTA header starting with '>' but found "
            f"{_preview(lines[offset])}; is this a FASTA file?"
        )
    return None


def _parse_id(path: Path, header: bytes, header_line: int) -> str:
    """The record ID: the first whitespace-separated word of the header."""
    try:
        words = header.decode("utf-8").split(None, 1)
    except UnicodeDecodeError:
        raise InputError(f"{path}, line {header_line}: the header is not valid UTF-8 text") from None
    if not words:
        raise InputError(f"{path}, line {header_line}: the header '>' has no record ID")
    return words[0]


def bad_letter_message(
    path: Path, record_id: str, header_line: int, body: bytes, kind: str, bad: bytes, *, protein_hint: bool = True
) -> str:
    """Say where the first letter outside the alphabet is, and (`protein_hint`) whether the file looks like protein."""
    valid = _VALID_LETTERS[kind] + _WHITESPACE
    where, letter = f"line {header_line}", bad[:1]
    for offset, raw in enumerate(body.split(b"\n"), start=1):
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
    if protein_hint and PROTEIN_ONLY_LETTERS.intersection(bad):
        message += (
            "; the file looks like a protein FASTA (letters such as E F I L P Q are amino acids): "
            "give the nucleotide reads instead"
        )
    return message


def _preview(raw: bytes) -> str:
    """A short printable excerpt of a raw line for error messages."""
    text = raw.rstrip(b"\r\n").decode("utf-8", errors="replace")
    return repr(text if len(text) <= 40 else text[:40] + "...")
