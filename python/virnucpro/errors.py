"""The package's own error types; the CLI turns them into one-line messages and exit codes."""


class VirnucproError(Exception):
    """A failure the user should read about: message only, no traceback. Exit code 1."""

    exit_code = 1


class InputError(VirnucproError):
    """Bad input or bad usage (a file, a record, an option value). Exit code 2."""

    exit_code = 2


class ConfigError(InputError):
    """A `VIRNUCPRO_*` environment variable or a setting has an invalid value. Exit code 2."""
