"""Pack tokenized sequences into token-budget batches with first-fit-decreasing, in fixed input windows.

Why windows: on CPU a sequence's pooled vector depends (by an ulp or so) on which other rows share its
matrix multiplications, so a resumed run must re-form exactly the batches of an uninterrupted one. The
input is cut into consecutive windows by a token count that depends only on the sequences and the
budget; each window is packed on its own, so skipping finished batches never changes the others.
"""

from __future__ import annotations

from collections.abc import Container, Iterable, Iterator, Sequence
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class PackedBatch:
    """Sequences packed end to end for one forward pass; `indices[i]` and `ids[i]` name row i.

    Attributes:
        indices: positions of the sequences in the run's input, in packing order.
        ids: their record IDs (they travel with the tokens, never apart).
        token_ids: int64 (total_tokens,) the sequences' tokens concatenated.
        cu_seqlens: int32 (len(ids) + 1,) cumulative lengths starting at 0.
        max_seqlen: the longest sequence, in tokens.
        budget: the token budget the batch was packed for.
    """

    indices: tuple[int, ...]
    ids: tuple[str, ...]
    token_ids: torch.Tensor
    cu_seqlens: torch.Tensor
    max_seqlen: int
    budget: int

    @property
    def real_tokens(self) -> int:
        """Tokens of real sequence content in the batch (there is no padding in a packed batch)."""
        return int(self.token_ids.numel())

    @property
    def fill_ratio(self) -> float:
        """Real tokens / budget: how much of the budget this batch uses."""
        return self.real_tokens / self.budget


def first_fit_decreasing(lengths: Sequence[int], budget: int) -> list[list[int]]:
    """Bins of positions into `lengths` whose lengths sum to at most `budget`, by first-fit-decreasing.

    Items are taken longest first (ties by position, so the result is deterministic) and each goes into
    the FIRST open bin with room for it; a new bin opens only when none has room. Each bin lists its
    positions longest first.

    Raises:
        ValueError: a length is larger than the budget or not positive (the caller checks user input).
    """
    if budget < 1:
        raise ValueError(f"token budget must be positive, got {budget}")
    order = sorted(range(len(lengths)), key=lambda i: (-lengths[i], i))
    bins: list[list[int]] = []
    room: list[int] = []
    for position in order:
        length = lengths[position]
        if length < 1 or length > budget:
            raise ValueError(f"item {position} has length {length}, outside 1..{budget}")
        for b, free in enumerate(room):
            if length <= free:
                bins[b].append(position)
                room[b] = free - length
                break
        else:
            bins.append([position])
            room.append(budget - length)
    return bins


def windows(token_lists: Iterable[Sequence[int]], window_tokens: int) -> Iterator[tuple[range, list[Sequence[int]]]]:
    """The input cut into consecutive windows, each closed once its tokens reach `window_tokens`.

    Yields (input positions, their token lists) per window, as soon as the window closes, so the input
    is tokenized lazily. The cut depends only on the lengths and `window_tokens`, so every run over the
    same input finds the same windows; the last window may hold fewer tokens.
    """
    start, window, total = 0, [], 0
    for tokens in token_lists:
        window.append(tokens)
        total += len(tokens)
        if total >= window_tokens:
            yield range(start, start + len(window)), window
            start, window, total = start + len(window), [], 0
    if window:
        yield range(start, start + len(window)), window


def build_batch(
    indices: Sequence[int], ids: Sequence[str], tokens: Sequence[Sequence[int]], budget: int
) -> PackedBatch:
    """A `PackedBatch` from parallel lists of input positions, IDs and token lists (CPU tensors)."""
    lengths = [len(t) for t in tokens]
    flat = [token for sequence in tokens for token in sequence]
    cu_seqlens = [0]
    for length in lengths:
        cu_seqlens.append(cu_seqlens[-1] + length)
    return PackedBatch(
        indices=tuple(indices),
        ids=tuple(ids),
        token_ids=torch.tensor(flat, dtype=torch.int64),
        cu_seqlens=torch.tensor(cu_seqlens, dtype=torch.int32),
        max_seqlen=max(lengths),
        budget=budget,
    )


def split_batch(batch: PackedBatch, budget: int) -> list[PackedBatch]:
    """The batch's sequences re-packed by first-fit-decreasing into batches of at most `budget` tokens.

    Used after a device out-of-memory error; each sequence keeps its position and ID. `budget` must be
    at least the batch's longest sequence.
    """
    cut = batch.cu_seqlens.tolist()
    tokens = [batch.token_ids[cut[i] : cut[i + 1]].tolist() for i in range(len(batch.ids))]
    id_of = dict(zip(batch.indices, batch.ids, strict=True))
    return [
        build_batch(positions, [id_of[p] for p in positions], members, budget)
        for positions, members in pack_window(batch.indices, tokens, budget)
    ]


def pack_window(
    indices: Sequence[int], tokens: Sequence[Sequence[int]], budget: int, *, skip: Container[int] = ()
) -> list[tuple[list[int], list[list[int]]]]:
    """First-fit-decreasing bins of one window, minus the input positions in `skip`.

    The window is always packed whole, and only then are finished positions removed, so a resumed run
    computes the same bins as an uninterrupted one (a bin left empty is dropped).

    Args:
        indices: input positions of the window's sequences.
        tokens: their token lists, parallel to `indices`.
        budget: token budget per bin.
        skip: input positions already embedded (resumed from checkpoints).

    Returns:
        (positions, token lists) per bin, in the order first-fit-decreasing opened the bins.
    """
    bins = first_fit_decreasing([len(t) for t in tokens], budget)
    packed = []
    for members in bins:
        kept = [p for p in members if indices[p] not in skip]
        if kept:
            packed.append(([indices[p] for p in kept], [tokens[p] for p in kept]))
    return packed


def pack_windows(
    token_lists: Iterable[Sequence[int]], budget: int, window_tokens: int, *, skip: Container[int] = ()
) -> Iterator[tuple[list[int], list[Sequence[int]]]]:
    """The batches of a whole input: each of its `windows` packed on its own by `pack_window`.

    Args:
        token_lists: the input's token lists, in input order (an iterator is consumed lazily).
        budget: token budget per bin.
        window_tokens: where `windows` cuts the input.
        skip: input positions already embedded; a window with nothing left is not packed at all.

    Yields:
        (input positions, token lists) per bin, window by window.
    """
    for positions, tokens in windows(token_lists, window_tokens):
        if all(position in skip for position in positions):
            continue
        yield from pack_window(positions, tokens, budget, skip=skip)
