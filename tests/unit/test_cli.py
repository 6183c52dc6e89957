"""The `virnucpro` command group: help for every subcommand, version, verbosity and exit codes."""

from __future__ import annotations

import importlib.util
import logging

import pytest
import virnucpro.translate as translate_module
from virnucpro import __version__
from virnucpro.cli import SUBCOMMANDS
from virnucpro.errors import VirnucproError

from tests.cli_run import run

PRESENT = [name for name, module in SUBCOMMANDS.items() if importlib.util.find_spec(f"virnucpro.cli.{module}")]


def test_translate_and_shard_are_registered():
    assert {"translate", "shard"} <= set(PRESENT)


@pytest.mark.parametrize("name", PRESENT)
def test_help_of_every_subcommand(name, capsys):
    code, out, _ = run([name, "--help"], capsys)
    assert code == 0
    assert out.startswith(f"Usage: virnucpro {name} ")


def test_group_help_lists_the_subcommands(capsys):
    code, out, _ = run(["--help"], capsys)
    assert code == 0
    assert all(f"  {name} " in out or f"  {name}\n" in out for name in PRESENT)


def test_version(capsys):
    code, out, _ = run(["--version"], capsys)
    assert (code, out) == (0, f"virnucpro, version {__version__}\n")


@pytest.fixture
def reads(tmp_path):
    path = tmp_path / "reads.fa"
    path.write_text(">r1\nATGNNNGCC\n>r2\nAC\n")
    return path


def test_success_exits_0_and_logs_a_summary(reads, tmp_path, capsys):
    code, _, err = run(["translate", str(reads), "--chunk-length", "300", "--outdir", str(tmp_path / "o")], capsys)
    assert code == 0
    assert "INFO" in err and "2 reads -> 2 chunks -> 2 frames kept" in err
    assert "WARNING" in err and "1 reads are shorter than one codon" in err


def test_quiet_keeps_warnings_only(reads, tmp_path, capsys):
    argv = ["--quiet", "translate", str(reads), "--chunk-length", "300", "--outdir", str(tmp_path / "o")]
    code, _, err = run(argv, capsys)
    assert code == 0
    assert "INFO" not in err
    assert "1 reads contain 3 non-ACGT bases" in err


def test_verbose_turns_on_debug(reads, tmp_path, capsys):
    run(["-v", "translate", str(reads), "--chunk-length", "300", "--outdir", str(tmp_path / "o")], capsys)
    assert logging.getLogger("virnucpro").level == logging.DEBUG
    run(["translate", str(reads), "--chunk-length", "300", "--outdir", str(tmp_path / "o")], capsys)
    assert logging.getLogger("virnucpro").level == logging.INFO


def test_input_error_exits_2_with_one_line(tmp_path, capsys):
    code, _, err = run(["translate", str(tmp_path / "x.fa"), "--chunk-length", "3", "--outdir", str(tmp_path)], capsys)
    assert code == 2
    assert err == f"virnucpro: error: {tmp_path / 'x.fa'}: file not found\n"


@pytest.mark.parametrize(
    "argv",
    [
        ["no-such-command"],
        ["translate"],
        ["translate", "r.fa", "--outdir", "o"],
        ["translate", "r.fa", "--chunk-length", "abc", "--outdir", "o"],
        ["shard", "r.fa", "--shard-size", "-1", "--outdir", "o"],
    ],
)
def test_usage_errors_exit_2(argv, capsys):
    code, _, err = run(argv, capsys)
    assert code == 2
    assert "Error:" in err


def test_other_failures_exit_1(reads, tmp_path, capsys, monkeypatch):
    def fail(*args, **kwargs):
        raise VirnucproError("disk full while writing frames")

    monkeypatch.setattr(translate_module, "translate_file", fail)
    code, _, err = run(["translate", str(reads), "--chunk-length", "300", "--outdir", str(tmp_path)], capsys)
    assert (code, err) == (1, "virnucpro: error: disk full while writing frames\n")
