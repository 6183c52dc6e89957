"""The package's own error types; the CLI turns them into one-line messages and exit codes."""

from __future__ import annotations

import errno
import os
from collections.abc import Iterator
from contextlib import contextmanager


class VirnucproError(Exception):
    """A failure the user should read about: message only, no traceback. Exit code 1."""

    exit_code = 1


class InputError(VirnucproError):
    """Bad input or bad usage (a file, a record, an option value). Exit code 2."""

    exit_code = 2


class ConfigError(InputError):
    """A `VIRNUCPRO_*` environment variable or a setting has an invalid value. Exit code 2."""


# errno values that say the location the user gave cannot be used (exit 2); any other OSError means the
# disk or the system failed under a location that was fine (a full disk, an I/O error: exit 1).
BAD_LOCATION_ERRNOS = frozenset(
    {
        errno.EACCES,
        errno.EPERM,
        errno.EROFS,
        errno.ENOENT,
        errno.ENOTDIR,
        errno.EISDIR,
        errno.EEXIST,
        errno.ENAMETOOLONG,
        errno.ELOOP,
    }
)


def file_system_error(error: OSError, action: str = "") -> VirnucproError:
    """The package error for an OSError: InputError for a bad location, VirnucproError for a failed disk.

    The message names the file (when the OSError carries one), what was being done, and the system's
    reason with its errno name: `/out/reads.tsv: cannot write: No space left on device (ENOSPC)`.
    """
    parts = [str(error.filename)] if error.filename is not None else []
    parts += [action] if action else []
    parts.append(describe_os_error(error))
    kind = InputError if error.errno in BAD_LOCATION_ERRNOS else VirnucproError
    return kind(": ".join(parts))


def describe_os_error(error: BaseException) -> str:
    """`No space left on device (ENOSPC)` for an OSError; the text of any other exception."""
    if isinstance(error, OSError) and error.errno is not None:
        name = errno.errorcode.get(error.errno, str(error.errno))
        return f"{error.strerror or error} ({name})"
    return str(error) or type(error).__name__


@contextmanager
def naming_file(path: str | os.PathLike[str]) -> Iterator[None]:
    """Give an OSError raised without a file name (a failed `write()` or `close()`) the name of `path`.

    A full disk fails the write call, whose error carries no name; the message must still say which file.
    """
    try:
        yield
    except OSError as error:
        if error.filename is not None:
            raise
        raise OSError(error.errno, error.strerror, os.fspath(path)) from error
