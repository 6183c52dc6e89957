"""Logging to stderr with one format for every subcommand."""

from __future__ import annotations

import logging
import sys

LOG_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"
DATE_FORMAT = "%Y-%m-%d %H:%M:%S"


def configure_logging(verbose: int = 0, quiet: bool = False) -> None:
    """Send the package's log records to stderr: WARNING with --quiet, INFO by default, DEBUG with -v."""
    if quiet:
        level = logging.WARNING
    elif verbose > 0:
        level = logging.DEBUG
    else:
        level = logging.INFO
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(LOG_FORMAT, DATE_FORMAT))
    root = logging.getLogger("virnucpro")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False


def get_logger(name: str) -> logging.Logger:
    """A logger under the package's namespace: `get_logger("translate")` -> `virnucpro.translate`."""
    return logging.getLogger(name if name.startswith("virnucpro") else f"virnucpro.{name}")
