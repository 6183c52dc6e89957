"""Chunk coordinates (docs/contract.md, section 2), hand-computed, and against the published loop."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st
from reference_translate import reference_chunks
from virnucpro.chunking import chunk_count, chunk_overlaps, iter_chunks
from virnucpro.io.frame_ids import chunk_id


@pytest.mark.parametrize(
    ("length", "chunk_length", "expected"),
    [
        # L < C: one chunk, the whole read, unpadded
        (120, 300, [(0, 120)]),
        (2, 300, [(0, 2)]),
        # L = C
        (300, 300, [(0, 300)]),
        (500, 500, [(0, 500)]),
        # L = kC: R = 0, chunks tile the read
        (900, 300, [(0, 300), (300, 600), (600, 900)]),
        # L = C + 1: n=2, R=499, lo=249, need=250 -> overlaps [250]*250 + [0]; chunk 2 = [500-250, 501)
        (501, 500, [(0, 500), (250, 501)]),
        # n=4, R=200, lo=50, need=50 > n-1 -> first three overlaps 51: starts 0, 249, 498, 747
        (1000, 300, [(0, 300), (249, 549), (498, 798), (747, 1000)]),
        # n=10, R=10, lo=1, need=1 -> overlaps [2, 1, 1, ...]: start k = 300k - (k + min(k, 1))
        (2990, 300, [(300 * k - k - min(k, 1), 300 * k - k - min(k, 1) + 300) for k in range(10)]),
        # n=2, R=1, lo=0, need=1: chunk 2 starts 300-1 and is a full 300 long
        (599, 300, [(0, 300), (299, 599)]),
    ],
)
def test_hand_computed_chunks(length, chunk_length, expected):
    assert list(iter_chunks(length, chunk_length)) == expected


def test_short_last_chunk_is_kept_as_published():
    (_, first), (start, end) = iter_chunks(501, 500)
    assert (first, end - start) == (500, 251)


def test_overlap_list_can_be_longer_than_the_chunk_count():
    # 501 / 500: n=2 but the published list has need + 1 = 251 entries; only the first is used.
    overlaps = chunk_overlaps(501, 500)
    assert (chunk_count(501, 500), len(overlaps), overlaps[0], overlaps[-1]) == (2, 251, 250, 0)
    assert chunk_overlaps(2990, 300) == [2] + [1] * 8 + [0]


def test_empty_read_has_no_chunk_and_bad_lengths_are_rejected():
    assert list(iter_chunks(0, 300)) == []
    for bad in (0, -5, 2.5, True):
        with pytest.raises(ValueError, match="positive integer"):
            list(iter_chunks(10, bad))


def test_chunk_id():
    assert chunk_id("NODE_1_length_900", 3) == "NODE_1_length_900_chunk_3"


@given(st.integers(min_value=1, max_value=5000), st.integers(min_value=1, max_value=700))
def test_chunks_equal_the_published_loop_and_cover_the_read(length, chunk_length):
    sequence = "".join("ACGT"[i % 4] for i in range(length))
    bounds = list(iter_chunks(length, chunk_length))
    assert [sequence[start:end] for start, end in bounds] == reference_chunks(sequence, chunk_length)
    assert bounds[0][0] == 0 and bounds[-1][1] == length
    assert len(bounds) == -(-length // chunk_length)
    assert all(0 < end - start <= chunk_length for start, end in bounds)
    # consecutive chunks overlap or touch: no base is skipped
    assert all(next_start <= end for (_, end), (next_start, _) in itertools.pairwise(bounds))
