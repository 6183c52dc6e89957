"""Run the `virnucpro` entry point in the test's process, as a user's shell would see it."""

from __future__ import annotations

import pytest
from virnucpro.cli import main


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """Run the CLI entry point; return (exit code, stdout, stderr)."""
    try:
        main(argv)
        code = 0
    except SystemExit as stop:
        code = int(stop.code or 0)
    captured = capsys.readouterr()
    return code, captured.out, captured.err
