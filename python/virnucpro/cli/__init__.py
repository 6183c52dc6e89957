"""The `virnucpro` command line: a click group whose subcommands are imported only when used.

Each subcommand lives in its own module `virnucpro.cli.<name>` exposing `command`, so `virnucpro --help`
and light stages start fast without importing torch.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys

import click

from virnucpro import __version__
from virnucpro.errors import VirnucproError, file_system_error
from virnucpro.logging_setup import configure_logging, get_logger

# subcommand name -> module under virnucpro.cli that defines `command`
SUBCOMMANDS: dict[str, str] = {
    "check-input": "check_input",
    "shard": "shard",
    "translate": "translate",
    "embed": "embed",
    "classify": "classify",
    "report": "report",
    "predict": "predict",
    "train": "train",
    "convert-classifier": "convert_classifier",
    "make-test-models": "make_test_models",
    "fetch-models": "fetch_models",
}


class LazyGroup(click.Group):
    """A click group that imports a subcommand's module the first time the subcommand is needed."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(name for name in SUBCOMMANDS if self._module_exists(name))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in SUBCOMMANDS or not self._module_exists(cmd_name):
            return None
        module = importlib.import_module(f"virnucpro.cli.{SUBCOMMANDS[cmd_name]}")
        return module.command

    @staticmethod
    def _module_exists(cmd_name: str) -> bool:
        return importlib.util.find_spec(f"virnucpro.cli.{SUBCOMMANDS[cmd_name]}") is not None


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="virnucpro")
@click.option("-v", "--verbose", count=True, help="More log output (debug messages).")
@click.option("-q", "--quiet", is_flag=True, help="Only warnings and errors.")
def cli(verbose: int, quiet: bool) -> None:
    """Find viral sequences in reads and contigs with the VirNucPro method.

    Stages run as subcommands; `virnucpro predict` chains them all in one process.
    """
    configure_logging(verbose=verbose, quiet=quiet)


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the CLI and turn the package's errors into one line on stderr and an exit code.

    Exit codes: 0 ok, 1 failure, 2 bad usage or bad input (click's usage errors are 2 as well). A file-system
    error that the library did not explain is turned into one line here too: exit 2 when the location
    given cannot be used (read-only, missing, a file where a directory belongs), 1 when the disk failed.
    """
    try:
        cli.main(args=argv, prog_name="virnucpro", standalone_mode=False)
    except (VirnucproError, OSError) as error:
        get_logger("cli").debug("error detail", exc_info=True)
        failure = file_system_error(error) if isinstance(error, OSError) else error
        click.echo(f"virnucpro: error: {failure}", err=True)
        sys.exit(failure.exit_code)
    except click.exceptions.Abort:
        click.echo("virnucpro: aborted", err=True)
        sys.exit(130)
    except click.ClickException as error:
        error.show()
        sys.exit(error.exit_code)
    except click.exceptions.Exit as error:
        sys.exit(error.exit_code)
