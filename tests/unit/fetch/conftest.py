"""The local model server for the fetch-models tests (see tests/model_server.py), and a closed port."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
from virnucpro.fetch import catalogue
from virnucpro.models.tiny_checkpoints import TinyModelPaths

from tests.model_server import ModelServer, pin_classifiers, serving


@pytest.fixture
def model_server(tiny_models: TinyModelPaths, monkeypatch: pytest.MonkeyPatch) -> Iterator[ModelServer]:
    """The tiny models served on 127.0.0.1, the classifiers' pinned blob ids set to the tiny classifier's."""
    for length, blob in pin_classifiers(tiny_models).items():
        monkeypatch.setitem(catalogue.CLASSIFIER_BLOBS, length, blob)
    with serving(tiny_models) as server:
        yield server


@pytest.fixture
def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
