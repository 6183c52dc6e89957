"""Find duplicate record IDs in a stream of millions of records with 8 bytes per record.

An ID set would grow by about 90 bytes per record; hashes in an array do not. Hashes are compared once
the stream is exhausted, and a hash match is confirmed on the real IDs by a second pass over the input,
so a hash collision can never cause a false error.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np

from virnucpro.errors import InputError


class IdRegistry:
    """Remember each ID's hash as records stream by; `check` names the first duplicate, if any."""

    def __init__(self) -> None:
        self._hashes = array("q")

    def add(self, record_id: str) -> None:
        self._hashes.append(hash(record_id))

    def check(self, path: Path, reread: Callable[[], Iterable[tuple[str, int]]]) -> None:
        """Raise InputError naming the first duplicated ID and both of its lines, if there is one.

        Args:
            path: the file named in the message.
            reread: yields (ID, line) for every record again, in the same order (called only on a hash match).
        """
        hashes = np.frombuffer(self._hashes, dtype=np.int64)
        if len(hashes) < 2:
            return
        ordered = np.sort(hashes)
        repeated = ordered[1:][ordered[1:] == ordered[:-1]]
        if len(repeated) == 0:
            return
        suspects = set(repeated.tolist())
        first_line: dict[str, int] = {}
        for record_id, line in reread():
            if hash(record_id) not in suspects:
                continue
            if record_id in first_line:
                raise InputError(
                    f"{path}, line {line}: duplicate record ID {record_id!r} (first seen at line "
                    f"{first_line[record_id]}); record IDs must be unique because later stages join by them"
                )
            first_line[record_id] = line
