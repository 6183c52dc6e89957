"""Split by source record: no record on two sides, per-class shares, seeded."""

from __future__ import annotations

import re

import pytest
from virnucpro.errors import InputError
from virnucpro.io.frame_ids import source_record
from virnucpro.train.split import split_records


@pytest.mark.parametrize(
    ("frame_id", "record"),
    [("NC_001_chunk_3F1", "NC_001"), ("a_chunk_b_chunk_12R3", "a_chunk_b"), ("x_chunk_1R2", "x")],
)
def test_source_record(frame_id, record):
    assert source_record(frame_id) == record


@pytest.mark.parametrize("frame_id", ["NC_001F1", "NC_001_chunk_F1", "_chunk_1F1", "NC_001_chunk_1X1"])
def test_source_record_refuses_other_shapes(frame_id):
    with pytest.raises(InputError, match=re.escape("is not <record>_chunk_<k><F|R><1-3>")):
        source_record(frame_id)


def test_split_is_stratified_seeded_and_disjoint():
    labels = {f"v{i}": 1 for i in range(40)} | {f"o{i}": 0 for i in range(20)}
    split = split_records(labels, seed=1, test_fraction=0.1, validation_fraction=0.2)
    assert set(split) == set(labels)
    count = {
        (s, c): sum(1 for r, v in labels.items() if split[r] == s and v == c) for s in split.values() for c in (0, 1)
    }
    assert (count["test", 1], count["validation", 1], count["train", 1]) == (4, 8, 28)
    assert (count["test", 0], count["validation", 0], count["train", 0]) == (2, 4, 14)
    assert split == split_records(labels, seed=1, test_fraction=0.1, validation_fraction=0.2)
    assert split != split_records(labels, seed=2, test_fraction=0.1, validation_fraction=0.2)


def test_too_few_records_is_an_error():
    with pytest.raises(InputError, match="class 0 has 2 source record"):
        split_records({"a": 0, "b": 0, "c": 1, "d": 1, "e": 1}, seed=0, test_fraction=0.1, validation_fraction=0.1)
    with pytest.raises(InputError, match="sum to less than 1"):
        split_records({"a": 0}, seed=0, test_fraction=0.5, validation_fraction=0.5)
