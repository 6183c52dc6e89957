"""Progress lines: adaptive cadence, rates and ETA, computed from a fake clock."""

from __future__ import annotations

import pytest
from virnucpro.runner.progress import ProgressReporter, format_eta


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def test_lines_come_at_5_15_35_75_seconds_then_every_2_minutes_at_most():
    clock = Clock()
    progress = ProgressReporter("esm2", 1000, bar=False, clock=clock)
    logged_at = []
    for second in range(1, 400):
        clock.now = 100.0 + second
        before = len(progress.lines)
        progress.update(1, 10)
        if len(progress.lines) > before:
            logged_at.append(second)
    assert logged_at == [5, 15, 35, 75, 155, 275, 395]


def test_line_reports_count_rates_and_eta():
    clock = Clock()
    progress = ProgressReporter("dnabert-s", 1000, bar=False, clock=clock)
    clock.now += 10
    progress.update(250, 30_000)
    # 250 sequences in 10 s: 25 seq/s, 3,000 tok/s, 750 left -> 30 s
    assert progress.lines == ["dnabert-s: 250/1000 sequences (25.0%), 25.0 seq/s, 3,000 tok/s, ETA 0:00:30"]


@pytest.mark.parametrize(("seconds", "text"), [(0, "0:00:00"), (3725.4, "1:02:05"), (float("inf"), "?"), (-1, "?")])
def test_format_eta(seconds, text):
    assert format_eta(seconds) == text


def test_bar_mode_counts_without_log_lines():
    clock = Clock()
    progress = ProgressReporter("esm2", 10, bar=True, clock=clock)
    clock.now += 60
    progress.update(10, 100)
    assert progress.lines == [] and progress.done == 10
    progress.close()
    assert progress.lines[-1].startswith("esm2: 10/10 sequences (100.0%)")
