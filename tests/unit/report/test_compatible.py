"""The original tool's two files, byte for byte, against hand-written expected text."""

from __future__ import annotations

from virnucpro.report.compatible import highest_score_text, predictions_text

ROWS = [
    ("b_chunk_2F1", "0.3", "0.7"),
    ("b_chunk_2R1", "0.9", "0.1"),
    ("a_chunk_10F2", "0.5", "0.5"),
    ("a_chunk_1F1", "0.8", "0.2"),
    ("a_chunk_1R3", "0.6", "0.4"),
    ("a_chunk_2F3", "1e-05", "0.99999"),
    ("A_chunk_1F1", "0.75000006", "0.24999999"),
    ("c_chunk_1F1", "0.6", "0.4"),
    ("c_chunk_1R2", "0.45", "0.55"),
]


def test_prediction_results_rows_in_scoring_order_and_a_tie_is_others():
    expected = (
        "Sequence_ID\tPrediction\tscore1\tscore2\n"
        "b_chunk_2F1\tvirus\t0.3\t0.7\n"
        "b_chunk_2R1\tothers\t0.9\t0.1\n"
        "a_chunk_10F2\tothers\t0.5\t0.5\n"
        "a_chunk_1F1\tothers\t0.8\t0.2\n"
        "a_chunk_1R3\tothers\t0.6\t0.4\n"
        "a_chunk_2F3\tvirus\t1e-05\t0.99999\n"
        "A_chunk_1F1\tothers\t0.75000006\t0.24999999\n"
        "c_chunk_1F1\tothers\t0.6\t0.4\n"
        "c_chunk_1R2\tvirus\t0.45\t0.55\n"
    )
    assert predictions_text(ROWS) == expected


def test_highest_score_groups_by_chunk_sorts_as_strings_and_a_tie_is_virus():
    # c_chunk_1: max score1 0.6 (F1) beats max score2 0.55 (R2), columns are maximised separately
    expected = (
        "Modified_ID\tIs_Virus\n"
        "A_chunk_1\tFalse\n"
        "a_chunk_1\tFalse\n"
        "a_chunk_10\tTrue\n"
        "a_chunk_2\tTrue\n"
        "b_chunk_2\tFalse\n"
        "c_chunk_1\tFalse\n"
    )
    assert highest_score_text(ROWS) == expected


def test_empty_scores_give_header_only_files():
    assert predictions_text([]) == "Sequence_ID\tPrediction\tscore1\tscore2\n"
    assert highest_score_text([]) == "Modified_ID\tIs_Virus\n"


def test_a_chunk_id_with_a_quote_is_quoted_as_pandas_does():
    assert highest_score_text([('x"y_chunk_1F1', "0.1", "0.9")]) == 'Modified_ID\tIs_Virus\n"x""y_chunk_1"\tTrue\n'
