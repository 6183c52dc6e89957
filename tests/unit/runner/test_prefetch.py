"""The background thread that prepares batches: order, failures, giving up, and stopping when full."""

from __future__ import annotations

import itertools
import threading

import pytest
from virnucpro.runner.prefetch import Prefetcher


def _thread(name: str) -> threading.Thread:
    return next(t for t in threading.enumerate() if t.name == name)


def test_items_arrive_in_order_then_none():
    prefetcher = Prefetcher(iter(range(5)), 2, name="prefetch-order")
    assert [prefetcher.next(give_up=lambda: False) for _ in range(6)] == [0, 1, 2, 3, 4, None]


def test_a_failure_in_the_thread_is_raised_by_next():
    def items():
        yield "first"
        raise ValueError("sequence s1 is broken")

    prefetcher = Prefetcher(items(), 2, name="prefetch-failure")
    assert prefetcher.next(give_up=lambda: False) == "first"
    with pytest.raises(ValueError, match="sequence s1 is broken"):
        prefetcher.next(give_up=lambda: False)


def test_waiting_gives_up_when_asked_to():
    release = threading.Event()

    def items():
        release.wait()
        yield "late"

    prefetcher = Prefetcher(items(), 1, name="prefetch-give-up")
    assert prefetcher.next(give_up=lambda: True) is None
    release.set()
    assert prefetcher.next(give_up=lambda: False) == "late"


def test_close_stops_a_thread_waiting_for_room_in_a_full_queue():
    taken = itertools.count()
    prefetcher = Prefetcher((next(taken) for _ in itertools.repeat(None)), 1, name="prefetch-close")
    assert prefetcher.next(give_up=lambda: False) == 0
    thread = _thread("prefetch-close")  # alive: it waits for room until closed
    prefetcher.close()
    thread.join(timeout=60)
    assert not thread.is_alive()
    # one item handed over, at most one queued and one waiting for room when the thread was stopped
    assert next(taken) <= 3
