"""Cut a read into overlapping chunks of the expected length, exactly as the published tool did.

The published classifiers were trained on chunks made by this rule, quirks included (docs/contract.md,
section 2): the total overlap R = n*C - L is divided by n, not n-1, so the last chunk is often shorter than
C. Chunk IDs are built in `virnucpro.io.frame_ids`.
"""

from __future__ import annotations

from collections.abc import Iterator


def chunk_count(length: int, chunk_length: int) -> int:
    """Number of chunks of a read: ceil(L / C), and 1 for a read no longer than C (0 for an empty one)."""
    _check_chunk_length(chunk_length)
    return -(-length // chunk_length)


def chunk_overlaps(length: int, chunk_length: int) -> list[int]:
    """The published list of overlaps, `[lo+1]*need + [lo]*(n-1-need) + [0]`.

    It can be longer than n (when need > n-1); only its first n-1 entries are ever used. Kept as the
    readable statement of the rule: `iter_chunks` uses its closed form.
    """
    n = chunk_count(length, chunk_length)
    total = n * chunk_length - length
    low = total // n if n else 0
    need = total - low * (n - 1)
    return [low + 1] * need + [low] * (n - 1 - need) + [0]


def iter_chunks(length: int, chunk_length: int) -> Iterator[tuple[int, int]]:
    """Yield the 0-based half-open (start, end) of every chunk of a read of `length` bases, in order.

    Chunk k (0-based) starts at k*C minus the sum of the first k overlaps and ends at min(start + C, L).
    The first `need` overlaps are lo+1 and the rest lo, so that sum is k*lo + min(k, need): no list is
    built, which keeps a 100-megabase contig cheap.

    Args:
        length: the read length L (0 yields nothing, as in the published tool).
        chunk_length: the expected length C, a positive integer.
    """
    n = chunk_count(length, chunk_length)
    if n == 0:
        return
    total = n * chunk_length - length
    low = total // n
    need = total - low * (n - 1)
    for k in range(n):
        start = k * chunk_length - (k * low + min(k, need))
        yield start, min(start + chunk_length, length)


def _check_chunk_length(chunk_length: int) -> None:
    if isinstance(chunk_length, bool) or not isinstance(chunk_length, int) or chunk_length < 1:
        raise ValueError(f"chunk length must be a positive integer, not {chunk_length!r}")
