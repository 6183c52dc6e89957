"""Replace a file in one step, so that a reader, or a rerun after SIGKILL, never sees half a file."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def replacing(path: Path) -> Iterator[Path]:
    """Yield a temporary path beside `path` to write to; when the block ends normally, it becomes `path`.

    The temporary file is fsynced, renamed over `path` (atomic on POSIX file systems) and the directory is
    fsynced, so the new file survives a crash once this returns. If the block raises, the temporary file is
    removed and `path` keeps what it held. Temporary names are `.<name>.<pid>.tmp`, so the owner of a
    directory can recognise and delete what a killed writer left.
    """
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        yield temporary
        _fsync(temporary)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    _fsync(path.parent)


def move_into_place(source: Path, path: Path) -> None:
    """Give a finished file or directory `source` its final name `path` in one step, durably.

    For writers whose temporary must outlive the process (a download resumed by the next run), so
    `replacing` cannot own it. `source` must be on the same file system as `path`, and a directory is
    moved only onto a name that does not exist. The files inside a directory must be fsynced by their
    writer; `source` itself and the destination directory are fsynced here.
    """
    _fsync(source)
    os.replace(source, path)
    _fsync(path.parent)


def fsync_directory(directory: Path) -> None:
    """fsync a directory, so that the renames and creations inside it survive a crash."""
    _fsync(directory)


def _fsync(path: Path) -> None:
    """fsync a file or a directory (Linux and macOS allow opening a directory read-only for this)."""
    handle = os.open(path, os.O_RDONLY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)


def write_text_atomically(path: Path, text: str) -> None:
    """Write a small text file (UTF-8) through `replacing`."""
    with replacing(path) as temporary:
        temporary.write_text(text, encoding="utf-8")
