"""Turn SIGTERM and SIGINT into a polite stop request that the runner honours between batches.

The runner then writes what it holds in memory to checkpoints and raises `Interrupted`, whose exit code
is the shell's 128 + signal number (143 for SIGTERM, 130 for SIGINT): schedulers such as Nextflow read
those codes as "killed", and retry. A second signal stops at once, without the flush.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from types import FrameType

from virnucpro.errors import VirnucproError

HANDLED_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class Interrupted(VirnucproError):
    """The run was stopped by a signal after saving its work; exit code 128 + signal number."""

    def __init__(self, signum: int, detail: str = "") -> None:
        name = signal.Signals(signum).name
        super().__init__(f"stopped by {name}" + (f": {detail}" if detail else ""))
        self.signum = signum
        self.exit_code = 128 + signum


class StopRequest:
    """Set by a signal handler (or a test); the runner polls it between batches."""

    def __init__(self) -> None:
        self.signum: int | None = None

    @property
    def requested(self) -> bool:
        return self.signum is not None

    def request(self, signum: int) -> None:
        """Ask for a stop; a second request while one is pending stops immediately."""
        if self.signum is not None:
            raise Interrupted(signum, "second signal, work since the last checkpoint is lost")
        self.signum = signum


@contextlib.contextmanager
def stop_on_signals() -> Iterator[StopRequest]:
    """A `StopRequest` that SIGTERM/SIGINT set while the block runs; previous handlers come back after.

    Outside the main thread (where Python cannot install handlers) the request is only settable by code.
    """
    stop = StopRequest()
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        stop.request(signum)

    previous = {signum: signal.signal(signum, handler) for signum in HANDLED_SIGNALS}
    try:
        yield stop
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)
