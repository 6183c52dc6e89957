"""SIGTERM/SIGINT become a stop request; exit codes are 128 + signal number."""

from __future__ import annotations

import os
import signal

import pytest
from virnucpro.runner.interrupts import Interrupted, StopRequest, stop_on_signals


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_signal_sets_the_request_and_maps_to_its_exit_code(signum, code):
    before = signal.getsignal(signum)
    with stop_on_signals() as stop:
        assert not stop.requested
        os.kill(os.getpid(), signum)
        assert stop.requested and stop.signum == signum
    assert signal.getsignal(signum) is before
    error = Interrupted(signum, "12 of 40 sequences embedded")
    assert error.exit_code == code
    assert str(error) == f"stopped by {signal.Signals(signum).name}: 12 of 40 sequences embedded"


def test_a_second_signal_stops_at_once():
    stop = StopRequest()
    stop.request(signal.SIGTERM)
    with pytest.raises(Interrupted, match="second signal"):
        stop.request(signal.SIGINT)
