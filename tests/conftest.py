"""Fixtures shared by every test."""

import logging
import os
import sys

import pytest
from virnucpro.threads import THREAD_VARIABLES


@pytest.fixture(autouse=True)
def restore_package_logger():
    """`main` points the package logger at the test's stderr; put it back for the tests that follow."""
    logger = logging.getLogger("virnucpro")
    saved = (logger.handlers[:], logger.level, logger.propagate)
    yield
    logger.handlers[:], logger.level, logger.propagate = saved


@pytest.fixture(autouse=True)
def restore_thread_settings():
    """A stage run in-process binds the thread pools (`--threads`); put them back for the tests that follow."""
    saved_env = {name: os.environ.get(name) for name in THREAD_VARIABLES}
    saved_torch = sys.modules["torch"].get_num_threads() if "torch" in sys.modules else None
    yield
    for name, value in saved_env.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    if saved_torch is not None:
        sys.modules["torch"].set_num_threads(saved_torch)
