"""Real processes, real signals and real file systems for the fault tests.

A run is stopped at an exact moment with `VIRNUCPRO_PAUSE_AT` (the process sends itself SIGSTOP there,
see `virnucpro.pause`); the test waits for that stop as an event (`waitpid` with `WUNTRACED`), never for
a length of time, then kills it with SIGKILL. Full disks are small tmpfs mounts and read-only
directories are read-only mounts, because permission bits mean nothing to root; where mounting is not
allowed the fixtures skip with the reason, and every such test has a twin that injects the same error.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

# One torch thread and no Python buffering in every child: the same numbers as the in-process tests, and
# the log on disk when the process is killed.
# one creation time in every report (SOURCE_DATE_EPOCH), so two runs compare byte for byte
CHILD_ENV = {"OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1", "SOURCE_DATE_EPOCH": "1700000000"}


@dataclass
class Finished:
    """A finished `virnucpro` process: exit code and what it wrote to stderr."""

    returncode: int
    log: str

    @property
    def error_line(self) -> str:
        """The one `virnucpro: error:` line (the test fails if there is none or several)."""
        lines = [line for line in self.log.splitlines() if line.startswith("virnucpro: error:")]
        assert len(lines) == 1, self.log
        return lines[0]


def environment(**extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("VIRNUCPRO_")}
    return {**env, **CHILD_ENV, **extra}


def virnucpro(*args: object, env: dict[str, str] | None = None, timeout: float = 600) -> Finished:
    """Run `python -m virnucpro ARGS` to the end."""
    result = subprocess.run(
        [sys.executable, "-m", "virnucpro", *map(str, args)],
        capture_output=True,
        text=True,
        env=env or environment(),
        timeout=timeout,
    )
    return Finished(result.returncode, result.stderr)


class Paused:
    """A `virnucpro` process started with `VIRNUCPRO_PAUSE_AT=<point>`, stopped there by the time it is built."""

    def __init__(self, point: str, *args: object, log: Path) -> None:
        self.log_path = log
        with open(log, "w") as handle:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "virnucpro", *map(str, args)],
                stdout=subprocess.DEVNULL,
                stderr=handle,
                env=environment(VIRNUCPRO_PAUSE_AT=point),
            )
        _, status = os.waitpid(self.process.pid, os.WUNTRACED)
        if not os.WIFSTOPPED(status):
            self.process.returncode = os.waitstatus_to_exitcode(status)
            pytest.fail(f"the run ended before pausing at {point}:\n{log.read_text()}")

    def kill(self) -> None:
        """SIGKILL the stopped process and reap it."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=60)
        assert self.process.returncode == -signal.SIGKILL

    def resume(self) -> Finished:
        """Let the stopped process go on (SIGCONT) and wait for its end."""
        self.process.send_signal(signal.SIGCONT)
        self.process.wait(timeout=600)
        return Finished(self.process.returncode, self.log_path.read_text())


def _mount(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["mount", *args], capture_output=True, text=True, check=False)


@contextmanager
def tmpfs(path: Path, size: str) -> Iterator[Path]:
    """A tmpfs of `size` (e.g. "2m") mounted at `path`; skips the test where mounting is not allowed."""
    path.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root; the injected-error twin of this test covers the same path")
    result = _mount("-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path))
    if result.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({result.stderr.strip()}); the injected-error twin covers it")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=True)


def fill(directory: Path, leave: int) -> None:
    """Fill the file system of `directory` until about `leave` bytes are free."""
    stats = os.statvfs(directory)
    free = stats.f_bavail * stats.f_frsize
    with open(directory / "filler", "wb") as handle:
        handle.write(b"\0" * max(free - leave, 0))


@contextmanager
def read_only(path: Path) -> Iterator[Path]:
    """`path` (an existing directory) made read-only for real by a read-only bind mount over itself.

    Skips where mounting is not allowed; the injected-EACCES twin of the test covers the same path.
    """
    if os.geteuid() != 0:
        pytest.skip("a read-only bind mount needs root; the injected-EACCES twin covers the same path")
    result = _mount("--bind", str(path), str(path))
    if result.returncode != 0:
        pytest.skip(f"cannot bind-mount here ({result.stderr.strip()}); the injected-EACCES twin covers it")
    try:
        remount = _mount("-o", "remount,bind,ro", str(path))
        if remount.returncode != 0:
            pytest.skip(f"cannot remount read-only here ({remount.stderr.strip()})")
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=True)


# The 61 codons that are not stops: reads made of them keep at least their F1 frame in every chunk.
SENSE_CODONS = [a + b + c for a in "ACGT" for b in "ACGT" for c in "ACGT" if a + b + c not in ("TAA", "TAG", "TGA")]


def write_reads(path: Path, count: int, seed: int = 7, ids: list[str] | None = None) -> Path:
    """`count` random coding reads of 150-700 bases (several chunks at length 300; F1 open throughout)."""
    rng = random.Random(seed)
    names = ids or [f"read{i}" for i in range(count)]
    with open(path, "w") as handle:
        for name in names:
            handle.write(f">{name}\n{''.join(rng.choices(SENSE_CODONS, k=rng.randint(50, 233)))}\n")
    return path


def write_proteins(path: Path, count: int, seed: int = 3) -> Path:
    """`count` random protein frames of 20-120 residues, named as translate names frames."""
    rng = random.Random(seed)
    with open(path, "w") as handle:
        for i in range(count):
            sequence = "".join(rng.choice("ACDEFGHIKLMNPQRSTVWY") for _ in range(rng.randint(20, 120)))
            handle.write(f">read{i}_chunk_1F1\n{sequence}\n")
    return path


def visible(directory: Path) -> list[str]:
    """The names in `directory` that `ls` shows."""
    return sorted(p.name for p in directory.iterdir() if not p.name.startswith("."))


def hidden(directory: Path) -> list[str]:
    """The names in `directory` that start with a dot (records, locks, temporary files)."""
    return sorted(p.name for p in directory.iterdir() if p.name.startswith("."))


def contents(directory: Path) -> dict[str, bytes]:
    """Every file under `directory` (subfolders such as a report's multiqc/ included), by relative path."""
    return {str(p.relative_to(directory)): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()}
