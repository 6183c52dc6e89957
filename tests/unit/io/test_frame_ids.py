"""Chunk and frame IDs: built and split in one place, with the published two-character suffix rule."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from virnucpro.io.frame_ids import FRAME_SUFFIXES, chunk_id, chunk_of, frame_id, source_record, split_frame_id


def test_frame_ids_of_a_chunk_in_the_published_order():
    chunk = chunk_id("k141_7", 2)
    assert [frame_id(chunk, frame) for frame in range(6)] == [
        "k141_7_chunk_2F1",
        "k141_7_chunk_2F2",
        "k141_7_chunk_2F3",
        "k141_7_chunk_2R1",
        "k141_7_chunk_2R2",
        "k141_7_chunk_2R3",
    ]


@pytest.mark.parametrize(
    ("frame", "chunk", "suffix"),
    [
        ("NC_001_chunk_3F1", "NC_001_chunk_3", "F1"),
        ("a_chunk_b_chunk_12R3", "a_chunk_b_chunk_12", "R3"),
        # the published rule cuts two characters whatever they are: a malformed ID is not repaired
        ("x_chunk_1X9", "x_chunk_1", "X9"),
        ("F1", "", "F1"),
    ],
)
def test_split_cuts_exactly_the_last_two_characters(frame, chunk, suffix):
    assert split_frame_id(frame) == (chunk, suffix)
    assert chunk_of(frame) == chunk


@given(
    st.text(alphabet=st.characters(blacklist_categories=("Cs", "Zs", "Cc")), min_size=1),
    st.integers(1, 10_000),
    st.integers(0, 5),
)
def test_build_then_split_gives_back_chunk_suffix_and_record(record, index, frame):
    built = frame_id(chunk_id(record, index), frame)
    assert split_frame_id(built) == (f"{record}_chunk_{index}", FRAME_SUFFIXES[frame])
    assert source_record(built) == record
