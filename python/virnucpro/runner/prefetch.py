"""Prepare work on a background thread, a bounded number of items ahead of the loop that consumes it.

The runner tokenizes, packs and pins batches here while the device computes, so the device never waits
for the host. A failure in the thread reaches the consumer as the exception itself.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable
from typing import Generic, TypeVar

POLL_S = 0.2

Item = TypeVar("Item")


class Prefetcher(Generic[Item]):
    """Iterate `items` on a daemon thread named `name`, at most `depth` items ahead of `next`.

    `close` stops the thread at its next step, even while it waits for room in a full queue.
    """

    def __init__(self, items: Iterable[Item], depth: int, *, name: str) -> None:
        self._queue: queue.Queue = queue.Queue(maxsize=depth)
        self._halt = threading.Event()
        threading.Thread(target=self._fill, args=(items,), name=name, daemon=True).start()

    def next(self, give_up: Callable[[], bool]) -> Item | None:
        """The next item; None after the last one, or when `give_up()` turns true while waiting.

        Raises:
            BaseException: whatever iterating `items` raised in the thread.
        """
        while True:
            try:
                item = self._queue.get(timeout=POLL_S)
            except queue.Empty:
                if give_up():
                    return None
                continue
            if isinstance(item, BaseException):
                raise item
            return item

    def close(self) -> None:
        """Tell the thread to stop; it exits at its next step without taking more items."""
        self._halt.set()

    def _fill(self, items: Iterable[Item]) -> None:
        """Thread body: put every item, then None; a failure is put as the exception object."""
        try:
            for item in items:
                if not self._put(item):
                    return
            self._put(None)
        except BaseException as error:  # handed to the consumer, which raises it
            self._put(error)

    def _put(self, item: object) -> bool:
        """Put unless closing (then False), without blocking forever on a full queue."""
        while not self._halt.is_set():
            try:
                self._queue.put(item, timeout=POLL_S)
                return True
            except queue.Full:
                continue
        return False
