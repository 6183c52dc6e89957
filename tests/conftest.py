"""Fixtures shared by every test."""

import logging

import pytest


@pytest.fixture(autouse=True)
def restore_package_logger():
    """`main` points the package logger at the test's stderr; put it back for the tests that follow."""
    logger = logging.getLogger("virnucpro")
    saved = (logger.handlers[:], logger.level, logger.propagate)
    yield
    logger.handlers[:], logger.level, logger.propagate = saved
