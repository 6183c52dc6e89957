"""Synthetic inputs: seeded, shaped like VirNucPro frames, tokenized as the models expect."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))  # the repository root, for `benchmarks`

from benchmarks import synthetic


@pytest.mark.parametrize("mix", sorted(synthetic.MIXES))
def test_same_seed_same_lengths(mix):
    assert synthetic.frame_lengths(mix, 200, 1) == synthetic.frame_lengths(mix, 200, 1)
    assert synthetic.frame_lengths(mix, 200, 1) != synthetic.frame_lengths(mix, 200, 2)


def test_vnp300_frames_are_mostly_full_length():
    lengths = synthetic.frame_lengths("vnp300", 2000, 3)
    full = sum(n in (99, 100) for n in lengths) / len(lengths)
    assert 0.87 < full < 0.93  # 90% drawn full; binomial sd 0.7% at 2000 frames
    assert min(lengths) >= 33 and max(lengths) == 100


def test_vnp500_and_longtail_ranges():
    assert max(synthetic.frame_lengths("vnp500", 500, 3)) == 166
    tail = synthetic.frame_lengths("longtail", 5000, 3)
    assert min(tail) >= 10 and max(tail) <= 1022
    assert max(tail) > 600  # log-normal sigma 0.8: P(>600) = 4%, so 5000 draws reach it


def test_unknown_mix_is_named():
    with pytest.raises(ValueError, match="unknown length mix 'vnp400'"):
        synthetic.frame_lengths("vnp400", 3, 0)


def test_esm2_tokens_wrap_residues_in_cls_and_eos():
    tokens = synthetic.esm2_tokens([5, 1], 0)
    assert [len(t) for t in tokens] == [7, 3]
    assert all(t[0] == 0 and t[-1] == 2 and all(4 <= x <= 23 for x in t[1:-1]) for t in tokens)


def test_dnabert_token_count_from_paired_dna():
    # A 100-residue frame pairs with 301 nt; at 5 nt per token that is 60 tokens, plus [CLS] and [SEP].
    assert synthetic.dnabert_token_count(100) == 62
    tokens = synthetic.dnabert_tokens([100], 4096, 0)[0]
    assert len(tokens) == 62 and tokens[0] == 1 and tokens[-1] == 2
    assert all(5 <= x < 4096 for x in tokens[1:-1])
