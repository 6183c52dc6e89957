"""Exclusive, non-blocking file locks (fcntl.flock) that the kernel releases when the holder dies.

A lock is held by an open file descriptor, so a process killed with SIGKILL frees it at once; no stale
lock to clear by hand. A lock file may be removed by its holder on release (`release(remove=True)`):
`try_acquire` then checks that the file it locked is still the one at the path, so a process that
locked a file just removed can never believe it holds the lock beside the one that locks the new file.
"""

from __future__ import annotations

import fcntl
import os
import socket
from pathlib import Path


class FileLock:
    """An exclusive lock on `path` (created if missing), taken with `try_acquire()`."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def try_acquire(self) -> bool:
        """Take the lock if nobody holds it; True on success. Never waits.

        Raises:
            OSError: the lock file cannot be created (a read-only or missing directory).
        """
        if self._fd is not None:
            return True
        self.path.parent.mkdir(parents=True, exist_ok=True)
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                return False
            if self._is_current(fd):
                break
            os.close(fd)  # its holder removed the file while we waited for it: lock the new one
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()} on {socket.gethostname()}\n".encode())
        self._fd = fd
        return True

    def _is_current(self, fd: int) -> bool:
        """Whether the locked descriptor is the file now at `path` (and not one removed meanwhile)."""
        try:
            on_disk = os.stat(self.path)
        except FileNotFoundError:
            return False
        held = os.fstat(fd)
        return (held.st_dev, held.st_ino) == (on_disk.st_dev, on_disk.st_ino)

    def holder(self) -> str:
        """`PID on HOST` as written by the current holder, for messages ('' when unknown).

        The host matters where the directory is on a shared file system and the holder is a job elsewhere.
        """
        try:
            return self.path.read_text().strip()
        except OSError:
            return ""

    def release(self, *, remove: bool = False) -> None:
        """Give the lock back (closing the descriptor releases it); safe to call twice.

        Args:
            remove: delete the lock file first, so a clean run leaves nothing behind.
        """
        if self._fd is not None:
            if remove:
                self.path.unlink(missing_ok=True)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> FileLock:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.release()
