"""Progress of a run: a bar on a terminal, plain log lines elsewhere (for Nextflow's .command.log)."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from datetime import timedelta

from virnucpro.logging_setup import get_logger

log = get_logger("runner.progress")

FIRST_LOG_AFTER_S = 5.0
MAX_LOG_INTERVAL_S = 120.0


def format_eta(seconds: float) -> str:
    """H:MM:SS for a finite non-negative number of seconds, '?' otherwise."""
    if seconds != seconds or seconds < 0 or seconds == float("inf"):
        return "?"
    return str(timedelta(seconds=round(seconds)))


class ProgressReporter:
    """Count sequences and tokens as batches finish and show rate and ETA.

    Log lines start 5 s into the run and their interval doubles after each line up to 2 minutes, so a
    short run logs a few lines and a day-long one about one line every 2 minutes.

    Args:
        label: what is running (for example "esm2").
        total: sequences to compute in this run (resumed ones excluded).
        bar: show a rich progress bar; default: when stderr is a terminal.
        clock: time source (tests pass a fake).
    """

    def __init__(
        self, label: str, total: int, *, bar: bool | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.label = label
        self.total = total
        self.done = 0
        self.tokens = 0
        self.clock = clock
        self.started = clock()
        self.interval = FIRST_LOG_AFTER_S
        self.next_log = self.started + self.interval
        self.lines: list[str] = []
        self._bar = None
        if bar if bar is not None else sys.stderr.isatty():
            self._start_bar()

    def _start_bar(self) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self._bar = Progress(
            TextColumn(f"{self.label}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]}"),
            TimeRemainingColumn(),
            console=Console(stderr=True),  # stdout may be data; the bar goes where the logs go
            transient=False,
        )
        self._task = self._bar.add_task(self.label, total=self.total, rate="")
        self._bar.start()

    def update(self, sequences: int, tokens: int) -> None:
        """Record a finished batch; refresh the bar, or log a line when the cadence says so."""
        self.done += sequences
        self.tokens += tokens
        now = self.clock()
        if self._bar is not None:
            self._bar.update(self._task, completed=self.done, rate=self._rates(now))
        elif now >= self.next_log:
            self._log_line(now)
            self.interval = min(self.interval * 2, MAX_LOG_INTERVAL_S)
            self.next_log = now + self.interval

    def _rates(self, now: float) -> str:
        elapsed = max(now - self.started, 1e-9)
        return f"{self.done / elapsed:,.1f} seq/s, {self.tokens / elapsed:,.0f} tok/s"

    def _log_line(self, now: float) -> None:
        elapsed = max(now - self.started, 1e-9)
        rate = self.done / elapsed
        eta = (self.total - self.done) / rate if rate > 0 else float("inf")
        percent = 100.0 * self.done / self.total if self.total else 100.0
        line = (
            f"{self.label}: {self.done}/{self.total} sequences ({percent:.1f}%), {self._rates(now)}, "
            f"ETA {format_eta(eta)}"
        )
        self.lines.append(line)
        log.info("%s", line)

    def close(self) -> None:
        """Stop the bar (if any) and log the final totals."""
        if self._bar is not None:
            self._bar.stop()
            self._bar = None
        if self.total:
            self._log_line(self.clock())
