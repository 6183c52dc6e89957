"""scores.tsv and classify.json: written by classify, read back by report exactly as written."""

from __future__ import annotations

import numpy as np
import pytest
from virnucpro.errors import InputError
from virnucpro.io.scores import read_classify_info, read_scores, write_classify_info, write_scores


def test_scores_are_written_as_float32_reprs_and_read_back_as_text(tmp_path):
    path = tmp_path / "scores.tsv"
    probabilities = np.array([[0.1, 0.9], [1e-05, 0.99999], [0.5, 0.5]], dtype=np.float64)
    write_scores(path, ["a_chunk_1F1", "a_chunk_1R2", "b_chunk_1F3"], probabilities)
    assert path.read_text() == (
        "Sequence_ID\tscore1\tscore2\na_chunk_1F1\t0.1\t0.9\na_chunk_1R2\t1e-05\t0.99999\nb_chunk_1F3\t0.5\t0.5\n"
    )
    assert read_scores(path) == [
        ("a_chunk_1F1", "0.1", "0.9"),
        ("a_chunk_1R2", "1e-05", "0.99999"),
        ("b_chunk_1F3", "0.5", "0.5"),
    ]


def test_no_frame_is_a_header_only_file(tmp_path):
    path = tmp_path / "scores.tsv"
    write_scores(path, [], np.empty((0, 2), dtype=np.float32))
    assert path.read_text() == "Sequence_ID\tscore1\tscore2\n"
    assert read_scores(path) == []


def test_ids_and_rows_must_pair_up(tmp_path):
    with pytest.raises(ValueError):
        write_scores(tmp_path / "scores.tsv", ["a_chunk_1F1"], np.zeros((2, 2)))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", r"s\.tsv: line 1: expected header 'Sequence_ID\\tscore1\\tscore2', found 'an empty file'"),
        ("Sequence_ID\tscore1\tscore2\na\t0.1\n", r"s\.tsv: line 2: expected 3 tab-separated fields, found 2"),
        ("Sequence_ID\tscore1\tscore2\na\t0.1\thigh\n", r"s\.tsv: line 2: score 'high' is not a number"),
    ],
)
def test_bad_scores_files_name_file_and_line(tmp_path, text, message):
    path = tmp_path / "s.tsv"
    path.write_text(text)
    with pytest.raises(InputError, match=message):
        read_scores(path)


def test_classify_info_round_trip_and_errors(tmp_path):
    info = {"frames": 3, "classifier": {"sha256": "ab", "path": "c.pth"}}
    write_classify_info(tmp_path / "classify.json", info)
    assert read_classify_info(tmp_path / "classify.json") == info
    (tmp_path / "broken.json").write_text("{")
    with pytest.raises(InputError, match=r"broken\.json: not a readable classify record"):
        read_classify_info(tmp_path / "broken.json")
    with pytest.raises(InputError, match=r"missing\.json: not a readable classify record"):
        read_classify_info(tmp_path / "missing.json")
