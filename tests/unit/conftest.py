"""Fixtures shared by the unit tests: the tiny test models, and torch pinned to one thread."""

from __future__ import annotations

import pytest
import torch
from virnucpro.models.tiny_checkpoints import TinyModelPaths, write_test_models


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory: pytest.TempPathFactory) -> TinyModelPaths:
    """The models `virnucpro make-test-models` writes (seed 0), written once per test session.

    Shared by every test that asks for it: read them, copy them, never write into their directory.
    """
    return write_test_models(tmp_path_factory.mktemp("tiny-models"))


@pytest.fixture
def one_torch_thread():
    """Run the test with torch on one thread, then restore the previous count.

    The test machines are small and shared: with two OpenMP threads competing with other processes and
    with the runner's packing thread, a tiny forward pass is 10-50x slower (measured 21 ms vs 2.6 ms).
    Every comparison in the tests that use this is between runs made with the same thread count.
    """
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)
