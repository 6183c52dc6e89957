"""The equality checks of the suite fail with evidence: the first differing line, or row of vectors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.compare import assert_same_file, first_difference, first_differing_row


def test_first_difference_names_the_line_and_both_versions() -> None:
    ours = b"id\tscore\nr1\t0.052505635\nr2\t0.5\n"
    theirs = b"id\tscore\nr1\t0.05250566\nr2\t0.5\n"
    assert first_difference(ours, ours) == ""
    assert first_difference(ours, theirs) == (
        "first difference at line 2:\n  ours:   b'r1\\t0.052505635\\n'\n  theirs: b'r1\\t0.05250566\\n'"
    )
    assert first_difference(b"a\nb\n", b"a\n") == (
        "equal for 1 lines, then one ends: ours has 2 lines (4 bytes), theirs 1 (2 bytes)"
    )


def test_assert_same_file_fails_with_paths_line_and_evidence(tmp_path: Path) -> None:
    (tmp_path / "a.tsv").write_text("x\n1\n")
    (tmp_path / "b.tsv").write_text("x\n2\n")
    assert_same_file(tmp_path / "a.tsv", tmp_path / "a.tsv")
    with pytest.raises(
        AssertionError, match=r"(?s)a\.tsv differs from .*b\.tsv\nfirst difference at line 2.*attempt 2"
    ):
        assert_same_file(tmp_path / "a.tsv", tmp_path / "b.tsv", "EMBED attempt 2")


def test_first_differing_row_counts_rows_and_the_largest_difference() -> None:
    ours = np.zeros((4, 3), dtype=np.float32)
    theirs = ours.copy()
    assert first_differing_row(ours, theirs) == ""
    theirs[2, 1] = 1.5e-7
    theirs[3, 0] = -2.5e-7
    assert first_differing_row(ours, theirs) == "2 of 4 rows differ, the first is row 2; largest difference 2.5e-07"
    assert first_differing_row(ours, theirs[:3]) == "shapes differ: (4, 3) vs (3, 3)"
