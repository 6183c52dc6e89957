"""Output hygiene: IDs that look like quotes or formulas stay one field, and files follow the umask.

The rule (docs/outputs.md, "Reading the tables"): every table is tab-separated without quoting; a field
never holds a tab or a line break, because IDs are the first word of a FASTA header. Read the tables
with quoting switched off (csv.QUOTE_NONE, pandas quoting=3, R quote=""), or an ID starting with `"`
swallows the rows after it.
"""

from __future__ import annotations

import csv
import io
import os

import numpy as np
import pytest
from virnucpro.cli import main
from virnucpro.errors import InputError
from virnucpro.io.embeddings import read_embeddings
from virnucpro.io.fasta import read_fasta
from virnucpro.io.tensor_file import write_tensor_file

from tests.faults.helpers import write_reads

NASTY = ['"quoted', "=1+1", "+cmd", "-minus", "@at", "a,b", "it's", "plain"]


@pytest.fixture(scope="module")
def predicted(tiny_models, tmp_path_factory):
    """predict on reads named with every awkward first character, under umask 027, intermediates kept."""
    root = tmp_path_factory.mktemp("hygiene")
    reads = write_reads(root / "reads.fa", len(NASTY), ids=NASTY)
    previous = os.umask(0o027)
    try:
        main(
            [
                *("predict", str(reads), "--chunk-length", "300", "--dnabert", str(tiny_models.dnabert_s)),
                *("--esm", str(tiny_models.esm2), "--classifier", str(tiny_models.classifier)),
                *("--outdir", str(root / "out"), "--device", "cpu", "--keep-intermediates"),
            ]
        )
    except SystemExit as stop:
        assert stop.code == 0
    finally:
        os.umask(previous)
    return root / "out"


def tsv_rows(path) -> list[list[str]]:
    """The documented way to read the tables: tab-separated, no quote processing."""
    return list(csv.reader(io.StringIO(path.read_text()), delimiter="\t", quoting=csv.QUOTE_NONE))


def test_every_read_is_one_row_with_its_id_as_written(predicted):
    rows = tsv_rows(predicted / "reads.tsv")
    assert [row[0] for row in rows[1:]] == NASTY
    assert {len(row) for row in rows} == {10}


@pytest.mark.parametrize("name", ["intermediates/translate/chunks.tsv", "intermediates/classify/scores.tsv"])
def test_the_intermediate_tables_keep_ids_whole(predicted, name):
    rows = tsv_rows(predicted / name)
    assert len({len(row) for row in rows}) == 1
    assert {row[0].split("_chunk_")[0] for row in rows[1:]} <= set(NASTY)


def test_a_quote_aware_reader_would_get_other_ids(predicted):
    """Why the rule says 'no quoting': the csv module's default dialect reads `"quoted` as an open quote."""
    default = list(csv.reader(io.StringIO((predicted / "reads.tsv").read_text()), delimiter="\t"))
    assert [row[0] for row in default[1:]] != NASTY


def test_the_original_tool_files_write_ids_raw(predicted):
    """prediction_results*.{txt,csv} stay byte-compatible with the original: IDs unquoted, as it wrote them."""
    lines = (predicted / "prediction_results.txt").read_text().splitlines()
    assert {line.split("\t")[0].split("_chunk_")[0] for line in lines[1:]} == set(NASTY)
    assert all(line.count("\t") == 3 for line in lines)


def test_files_and_folders_follow_the_umask(predicted):
    for path in [predicted, *predicted.rglob("*")]:
        expected = 0o750 if path.is_dir() else 0o640
        assert path.stat().st_mode & 0o777 == expected, path


def test_ids_cannot_hold_a_tab_or_a_line_break(tmp_path):
    (tmp_path / "r.fa").write_text(">a\tb c\nACGT\n>d\x0be\nACGT\n>f\x1cg\nACGT\n")
    assert [r.id for r in read_fasta(tmp_path / "r.fa")] == ["a", "d", "f"]


def test_an_embedding_file_with_a_spaced_id_is_refused(tmp_path):
    ids = np.frombuffer(b"a_chunk_1F1\nb c_chunk_1F1", dtype=np.uint8)
    write_tensor_file(tmp_path / "e.st", {"embeddings": np.zeros((2, 2), np.float32), "ids": ids}, {"count": "2"})
    with pytest.raises(InputError, match="an ID holds a tab, a space or a carriage return"):
        read_embeddings(tmp_path / "e.st")
