"""chunks.tsv: rows written column by column read back as the same chunks; bad tables name file and line."""

from __future__ import annotations

import pytest
from virnucpro.errors import InputError
from virnucpro.io.chunks import CHUNKS_HEADER, Chunk, chunk_rows, read_chunks

CHUNKS = [
    Chunk("r1", 501, "r1_chunk_1", 1, 0, 500, 2),
    Chunk("r1", 501, "r1_chunk_2", 2, 250, 501, 0),
    Chunk("r2", 2, "r2_chunk_1", 1, 0, 2, 0),
]


def test_rows_written_read_back_as_the_same_chunks(tmp_path):
    columns = [[getattr(chunk, name) for chunk in CHUNKS] for name in CHUNKS_HEADER.split("\t")]
    path = tmp_path / "chunks.tsv"
    path.write_text(CHUNKS_HEADER + "\n" + chunk_rows(*columns))
    assert path.read_text().splitlines()[1] == "r1\t501\tr1_chunk_1\t1\t0\t500\t2"
    assert read_chunks(path) == CHUNKS


def test_columns_are_found_by_header_name(tmp_path):
    path = tmp_path / "chunks.tsv"
    path.write_text(
        "frames_kept\tend\tstart\tchunk_index\tchunk_id\tread_length\tread_id\textra\n1\t9\t0\t1\tq_chunk_1\t9\tq\tx\n"
    )
    assert read_chunks(path) == [Chunk("q", 9, "q_chunk_1", 1, 0, 9, 1)]


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("r1\t501\tr1_chunk_1\t1\t0\t500", r"c\.tsv: line 2: expected 7 fields, found 6"),
        ("r1\t501\tr1_chunk_1\tone\t0\t500\t2", r"c\.tsv: line 2: chunk_index, start and end must be integers"),
        ("r1\t501\tr1_chunk_1\t1\t0\t5.5\t2", r"c\.tsv: line 2: chunk_index, start and end must be integers"),
    ],
)
def test_bad_rows_name_file_and_line(tmp_path, row, message):
    path = tmp_path / "c.tsv"
    path.write_text(f"{CHUNKS_HEADER}\n{row}\n")
    with pytest.raises(InputError, match=message):
        read_chunks(path)


def test_missing_table(tmp_path):
    with pytest.raises(InputError, match=r"c\.tsv: chunks table not found"):
        read_chunks(tmp_path / "c.tsv")
