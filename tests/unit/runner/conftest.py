"""Runner tests run torch on one thread (`one_torch_thread` in tests/unit/conftest.py says why)."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _every_runner_test_on_one_thread(one_torch_thread):
    """Applies the shared `one_torch_thread` fixture to every test in this directory."""
