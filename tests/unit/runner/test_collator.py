"""First-fit-decreasing packing, input windows, and the packed batch's tensors and fill ratio."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from virnucpro.runner.collator import (
    build_batch,
    first_fit_decreasing,
    pack_window,
    pack_windows,
    split_batch,
    windows,
)


def test_first_fit_goes_back_to_earlier_bins():
    # Longest first: 5 -> bin0 (room 2); 4 -> bin1 (room 3); 3 -> bin1 (room 0); 3 -> bin2 (room 4);
    # 2 -> bin0 (room 0) -- a next-fit packer would never return to bin0; 2 -> bin2 (room 2); 1 -> bin2.
    assert first_fit_decreasing([5, 4, 3, 3, 2, 2, 1], 7) == [[0, 4], [1, 2], [3, 5, 6]]


def test_equal_lengths_keep_input_order():
    assert first_fit_decreasing([2, 2, 2, 2], 4) == [[0, 1], [2, 3]]


@pytest.mark.parametrize("lengths", [[0], [9], [3, 11]])
def test_items_outside_one_to_budget_are_refused(lengths):
    with pytest.raises(ValueError, match=r"outside 1\.\.8"):
        first_fit_decreasing(lengths, 8)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(1, 50), max_size=60), st.integers(50, 200))
def test_every_item_once_and_no_bin_over_budget(lengths, budget):
    bins = first_fit_decreasing(lengths, budget)
    assert sorted(p for b in bins for p in b) == list(range(len(lengths)))
    assert all(sum(lengths[p] for p in b) <= budget for b in bins)
    # first fit: no item of a later bin would have fitted into the room an earlier bin had left at the end
    rooms = [budget - sum(lengths[p] for p in b) for b in bins]
    for later in range(1, len(bins)):
        smallest = min(lengths[p] for p in bins[later])
        assert all(room < smallest for room in rooms[:later])


def window_bounds(lengths, window_tokens):
    """The windows of token lists of these lengths, as half-open ranges of positions."""
    return [(w.start, w.stop) for w, _ in windows([[0] * n for n in lengths], window_tokens)]


def test_windows_close_when_their_tokens_reach_the_threshold():
    # running sums 4, 9 (>=8: close), 3, 6, 12 (close), 2 (end)
    assert window_bounds([4, 5, 3, 3, 6, 2], 8) == [(0, 2), (2, 5), (5, 6)]
    assert window_bounds([], 8) == []


def test_skipping_drops_finished_positions_without_reshaping_other_bins():
    tokens = [[1] * n for n in (5, 4, 3, 3, 2, 2, 1)]
    indices = [10, 11, 12, 13, 14, 15, 16]
    whole = pack_window(indices, tokens, 7)
    assert [positions for positions, _ in whole] == [[10, 14], [11, 12], [13, 15, 16]]
    skipped = pack_window(indices, tokens, 7, skip={11, 12, 15})
    # bin [11, 12] disappears, bin [13, 15, 16] loses 15, the other bins are untouched
    assert [positions for positions, _ in skipped] == [[10, 14], [13, 16]]
    assert [len(t) for t in skipped[1][1]] == [3, 1]


def test_whole_input_packs_window_by_window_and_reads_lazily():
    # lengths 5 4 | 3 3 2 | 6: windows close at 9 and 8 tokens (threshold 8), the last holds 6
    consumed = []

    def token_lists():
        for n in (5, 4, 3, 3, 2, 6):
            consumed.append(n)
            yield [1] * n

    batches = pack_windows(token_lists(), 7, 8)
    assert next(batches) == ([0], [[1] * 5])
    assert consumed == [5, 4]  # the second window is not read before the first is packed
    assert [positions for positions, _ in batches] == [[1], [2, 3], [4], [5]]
    # a window whose positions are all finished is skipped; the others keep their bins
    assert [p for p, _ in pack_windows([[1] * n for n in (5, 4, 3, 3, 2, 6)], 7, 8, skip={2, 3, 4})] == [
        [0],
        [1],
        [5],
    ]


def test_packed_batch_tensors_and_fill_ratio():
    batch = build_batch([7, 3], ["a", "b"], [[1, 2, 3], [4, 5]], budget=10)
    assert batch.token_ids.tolist() == [1, 2, 3, 4, 5]
    assert batch.token_ids.dtype == torch.int64
    assert batch.cu_seqlens.tolist() == [0, 3, 5]
    assert batch.cu_seqlens.dtype == torch.int32
    assert (batch.max_seqlen, batch.real_tokens, batch.fill_ratio) == (3, 5, 0.5)
    assert (batch.indices, batch.ids) == ((7, 3), ("a", "b"))


def test_split_batch_keeps_each_sequence_with_its_position_and_id():
    batch = build_batch([4, 9, 2], ["d", "i", "b"], [[1, 2, 3], [4, 5], [6, 7, 8, 9]], budget=9)
    parts = split_batch(batch, 5)
    # first-fit-decreasing with 5 tokens: [b (4)], [d (3), i (2)]
    assert [(p.indices, p.ids, p.token_ids.tolist(), p.budget) for p in parts] == [
        ((2,), ("b",), [6, 7, 8, 9], 5),
        ((4, 9), ("d", "i"), [1, 2, 3, 4, 5], 5),
    ]
