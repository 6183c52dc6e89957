"""Fixtures of the fault tests: the tiny models, written once per session."""

from __future__ import annotations

import pytest
from virnucpro.models.tiny_checkpoints import TinyModelPaths, write_test_models


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory: pytest.TempPathFactory) -> TinyModelPaths:
    """The models `virnucpro make-test-models` writes (seed 0); read them, never write into their folder."""
    return write_test_models(tmp_path_factory.mktemp("tiny-models"))
