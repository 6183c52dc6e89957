"""A stage's output files, replaced together: they appear as one set or not at all, never half old, half new.

A stage that writes several files (translate: nucleotide.fa, protein.faa, chunks.tsv; classify: scores.tsv,
classify.json; report: every report file; shard: the shards and their table) cannot rename them all in
one step, so a kill between two renames used to leave a new file beside old ones, and the next stage read
them as one result. An `OutputSet` commits them the way a database commits a transaction, with a record:

1. Every file is written under a temporary name beside its final one (`.NAME.virnucpro-LABEL-PID.tmp`; a
   set may hold files in subfolders, such as report's `multiqc/`) and fsynced. A full disk or any other
   error here removes the temporary files, and the directory keeps what it held.
2. The record `.virnucpro-LABEL.json` is replaced by one that says `"state": "replacing"`, with the size
   and sha256 of each new file.
3. The temporary files are renamed to their final names, and the directory is fsynced.
4. The record is replaced by one that says `"state": "complete"`.

`check_complete` (called by every reader of these files in the package) refuses a file whose record says
"replacing", or whose size or checksum is not the recorded one, with a message that says to rerun the
stage; the stage's next run removes the leftovers and writes the whole set again. A file that no record
lists (one made by hand or by another tool) is read as it is. A single-file set needs no record: one
rename is atomic by itself.

Why a record and not a sibling directory renamed over the old one: stages write into directories that
hold other things (predict's --outdir holds checkpoints and intermediates, a results folder holds
anything), and exchanging two directories in one step (renameat2 RENAME_EXCHANGE) is Linux-only and is
not supported on NFS or Lustre, where clusters keep their data. Rename and fsync work everywhere.

A lock `.virnucpro-LABEL.lock`, held from `__enter__` to `__exit__` and removed at the end, keeps two runs
of one stage from writing into one directory at once; holding it is also what makes removing another
run's leftovers safe. Entering the set creates the directory and the lock file, so a location that cannot
be written fails there, before the stage's expensive work.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from virnucpro import __version__
from virnucpro.errors import InputError, VirnucproError, describe_os_error, file_system_error, naming_file
from virnucpro.filelock import FileLock
from virnucpro.io.atomic import fsync_directory
from virnucpro.logging_setup import get_logger
from virnucpro.pause import pause_point

log = get_logger("io.outputs")

RECORD_PREFIX = ".virnucpro-"
COMPLETE, REPLACING = "complete", "replacing"


class OutputSet:
    """Files one stage writes into `directory`, committed together (see the module docstring).

    Args:
        directory: where the files go (created, with its parents, unless `create` is False); checked to be
            writable on entry (`check_writable_directory`).
        label: the stage (`translate`, `report`, ...); names the lock, the record and the temporary files.
        names: the files of the set; more can be added by `temporary`.
        create: create `directory` if missing; if False a missing directory is an error (exit 2).

    Use as a context manager: write each file to `temporary(name)` (or through `open`/`write_text`), then
    call `commit()`. Leaving the block without a commit removes the temporary files.
    """

    def __init__(self, directory: str | Path, label: str, names: Iterable[str] = (), *, create: bool = True) -> None:
        self.directory = Path(directory)
        self.label = label
        self.names: list[str] = []
        for name in names:
            self._add(name)
        self.create = create
        self.committed = False
        self._renaming = False
        self._handles: list[BinaryIO] = []
        self._made: list[Path] = []  # subfolders this set created, removed again if it does not commit
        self._lock = FileLock(lock_path(self.directory, label))
        self._leftover = re.compile(rf"^\..+\.virnucpro-{re.escape(label)}-\d+\.tmp$")

    @property
    def record_path(self) -> Path:
        return self.directory / f"{RECORD_PREFIX}{self.label}.json"

    def __enter__(self) -> OutputSet:
        check_writable_directory(self.directory, create=self.create)
        take_lock(self._lock, self.directory, self.label)
        self._remove_leftovers()
        return self

    def __exit__(self, exc_type: object, exc: BaseException | None, traceback: object) -> None:
        try:
            for handle in self._handles:
                with contextlib.suppress(OSError):  # a full disk fails the last flush again; the file goes anyway
                    handle.close()
            if not self.committed:
                for name in [*self.names, self.record_path.name]:
                    self._temporary_path(name).unlink(missing_ok=True)
                for folder in reversed(self._made):
                    with contextlib.suppress(OSError):  # not empty: it held files before this run
                        folder.rmdir()
        finally:
            self._lock.release(remove=True)
        if isinstance(exc, OSError):
            raise self._failure(exc) from exc

    def temporary(self, name: str) -> Path:
        """Where to write `name` until the commit (adds `name` to the set, creating its subfolder)."""
        self._add(name)
        folder = self.directory
        for part in Path(name).parent.parts:
            folder = folder / part
            if not folder.is_dir():
                folder.mkdir()
                self._made.append(folder)
        return self._temporary_path(name)

    def _temporary_path(self, name: str) -> Path:
        """`.NAME.virnucpro-LABEL-PID.tmp` beside the final file (in its subfolder, for `multiqc/x`)."""
        final = self.directory / name
        return final.parent / f".{final.name}.virnucpro-{self.label}-{os.getpid()}.tmp"

    def _folders(self) -> list[Path]:
        """The directory and each subfolder of the set's files, parents first."""
        subfolders = {self.directory / Path(name).parent for name in self.names} - {self.directory}
        return [self.directory, *sorted(subfolders)]

    def open(self, name: str) -> BinaryIO:
        """A binary handle on `temporary(name)`, closed by `commit` or when the block ends."""
        handle = open(self.temporary(name), "wb")  # noqa: SIM115 - closed in commit or __exit__
        self._handles.append(handle)
        return handle

    def write_text(self, name: str, text: str) -> None:
        """Write `name` as UTF-8 text with LF line ends."""
        temporary = self.temporary(name)
        with naming_file(temporary), open(temporary, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)

    def rename(self, old: str, new: str) -> None:
        """Give a file of the set, already written, another final name (shards are named by content)."""
        os.replace(self.temporary(old), self.temporary(new))
        self.names.remove(old)

    def commit(self) -> None:
        """Make the written files the directory's outputs, all together (steps 1-4 of the module docstring).

        Raises:
            OSError: a file could not be synced or renamed (turned into a message by `__exit__`).
        """
        for handle in self._handles:
            handle.close()
        files = {name: _sync_and_describe(self._temporary_path(name)) for name in self.names}
        pause_point(f"{self.label}:written")
        recorded = len(self.names) > 1
        if recorded:
            self._write_record(REPLACING, files)
        self._renaming = True
        for number, name in enumerate(self.names, start=1):
            os.replace(self._temporary_path(name), self.directory / name)
            pause_point(f"{self.label}:renamed-{number}")
        for folder in reversed(self._folders()):
            fsync_directory(folder)
        if recorded:
            self._write_record(COMPLETE, files)
        self._renaming = False
        self.committed = True

    def _add(self, name: str) -> None:
        parts = name.split("/")
        if any(not part or part.startswith(".") for part in parts):
            raise ValueError(f"output name {name!r} must be a visible file name, or one in a visible subfolder")
        if name not in self.names:
            self.names.append(name)

    def _remove_leftovers(self) -> None:
        """Delete this label's temporary files that killed runs left (ours: we hold the label's lock)."""
        leftovers = [
            entry
            for folder in self._folders()
            if folder.is_dir()
            for entry in os.scandir(folder)
            if self._leftover.match(entry.name)
        ]
        for entry in leftovers:
            os.unlink(entry.path)
        if leftovers:
            log.info(
                "%s: removed %d temporary file(s) left by an interrupted %s run",
                self.directory,
                len(leftovers),
                self.label,
            )
        record = _read_record(self.record_path)
        if record is not None and record.get("state") != COMPLETE:
            log.warning(
                "%s: the previous %s run stopped while replacing its outputs (%s); this run writes them again",
                self.directory,
                self.label,
                ", ".join(record.get("files", {})),
            )

    def _write_record(self, state: str, files: dict[str, dict]) -> None:
        """Replace the record in one rename (a record is a small file; fsynced like the outputs)."""
        record = {"stage": self.label, "state": state, "files": files, "virnucpro_version": __version__}
        temporary = self._temporary_path(self.record_path.name)
        temporary.write_text(json.dumps(record, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        _sync_and_describe(temporary, digest=False)
        os.replace(temporary, self.record_path)
        fsync_directory(self.directory)

    def _failure(self, error: OSError) -> VirnucproError:
        """The one-line error for a failed write: what failed, and what the directory holds now."""
        if self._renaming:
            outcome = f"the {self.label} outputs in {self.directory} are incomplete; run {self.label} again"
        else:
            outcome = f"nothing in {self.directory} was replaced"
        named = {str(self._temporary_path(name)): str(self.directory / name) for name in self.names}
        written = os.fsdecode(error.filename) if error.filename is not None else ""
        # name the output by its final name, or the directory when the error does not say which file
        error = OSError(error.errno, error.strerror, named.get(written, written or str(self.directory)))
        failure = file_system_error(error, "cannot write" if written else f"cannot write the {self.label} outputs")
        return type(failure)(f"{failure}; {outcome}")


def lock_path(directory: Path, label: str) -> Path:
    """The lock file that `label`'s writers take in `directory`."""
    return directory / f"{RECORD_PREFIX}{label}.lock"


def take_lock(lock: FileLock, directory: Path, label: str) -> None:
    """Take `lock` or say who holds it; creating the lock file also proves the directory is writable.

    Raises:
        VirnucproError: another run holds it (exit 1).
        InputError: the directory cannot be written (exit 2).
    """
    try:
        acquired = lock.try_acquire()
    except OSError as error:
        raise file_system_error(error, f"cannot write into {directory}") from error
    if not acquired:
        raise VirnucproError(
            f"{directory}: another virnucpro run (process {lock.holder() or 'unknown'}) is writing the {label} outputs "
            "here; wait for it to finish or write elsewhere"
        )


@contextmanager
def locked_directory(directory: str | Path, label: str) -> Iterator[Path]:
    """Hold `label`'s lock in `directory` (created) for the block; the lock file is removed afterwards.

    For work that owns more than one output set, such as `predict` with its working folder.
    """
    directory = check_writable_directory(directory)
    lock = FileLock(lock_path(directory, label))
    take_lock(lock, directory, label)
    try:
        yield directory
    finally:
        lock.release(remove=True)


def check_writable_directory(directory: str | Path, *, create: bool = True, option: str = "") -> Path:
    """Make sure files can be created in `directory`, creating it (with its parents) if `create`.

    A probe file is created and removed: permission bits say little when running as root, and nothing but
    a real write shows a read-only mount.

    Args:
        directory: the directory to check.
        create: create it if missing; if False a missing directory is an error.
        option: the command-line option that named it, for the message (`--metrics`).

    Raises:
        InputError: the path is a file, is missing (with `create` False), or cannot be written (read-only,
            no permission): a bad location given by the user, exit 2.
        VirnucproError: the disk failed while probing (an I/O error), exit 1.
    """
    directory = Path(directory)
    named = f"{option} {directory}" if option else str(directory)
    if directory.exists() and not directory.is_dir():
        raise InputError(f"{named}: exists and is not a directory")
    if not directory.exists() and not create:
        raise InputError(f"{named}: directory does not exist; create it first or write elsewhere")
    try:
        directory.mkdir(parents=True, exist_ok=True)
        probe = directory / f"{RECORD_PREFIX}probe-{os.getpid()}"
        os.close(os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666))
        probe.unlink()
    except OSError as error:
        raise file_system_error(OSError(error.errno, error.strerror, named), "cannot create files there") from error
    return directory


def check_can_create_directory(directory: str | Path, *, option: str = "") -> None:
    """Check, without creating anything, that `directory` exists and is writable or could be created.

    For stages that should leave no trace when their input turns out bad: the existing directory is
    probed as `check_writable_directory` does; a missing one is judged by its nearest existing ancestor,
    which must be a directory that the system (`os.access`) lets us write.

    Raises:
        InputError: a file in the way, or a location that cannot be written (exit 2).
    """
    directory = Path(directory)
    if directory.exists():
        check_writable_directory(directory, create=False, option=option)
        return
    named = f"{option} {directory}" if option else str(directory)
    ancestor = directory.absolute().parent
    while not ancestor.exists():
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise InputError(f"{named}: cannot be created, {ancestor} is not a directory")
    if not os.access(ancestor, os.W_OK | os.X_OK):
        reason = "read-only file system" if _read_only(ancestor) else "permission denied"
        raise InputError(f"{named}: cannot be created in {ancestor}: {reason}")


def check_free_space(directory: str | Path, needed: int, what: str) -> None:
    """Refuse to start work whose result cannot fit: `needed` bytes must be free in `directory`.

    An estimate, checked before hours of computing; a disk that fills up later still fails the write,
    which then replaces nothing.

    Raises:
        VirnucproError: less space is free than needed (exit 1: the disk, not the user's input, is short).
    """
    stats = os.statvfs(directory)
    free = stats.f_bavail * stats.f_frsize
    if free < needed:
        raise VirnucproError(
            f"{directory}: {what} needs about {_megabytes(needed)} but only {_megabytes(free)} is free; "
            "free some space or write elsewhere"
        )


def _megabytes(count: int) -> str:
    return f"{count / 1e6:,.1f} MB"


def _read_only(path: Path) -> bool:
    return bool(os.statvfs(path).f_flag & os.ST_RDONLY)


def _sync_and_describe(path: Path, *, digest: bool = True) -> dict:
    """fsync a written file; its size and, with `digest`, its sha256 (read back from the page cache)."""
    checksum = hashlib.sha256()
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())
        if digest:
            while block := handle.read(1 << 20):
                checksum.update(block)
        size = os.fstat(handle.fileno()).st_size
    return {"bytes": size, "sha256": checksum.hexdigest()} if digest else {"bytes": size}


def _read_record(path: Path) -> dict | None:
    """A record as written, or None when there is none or it is not one of ours."""
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(record, dict) or not isinstance(record.get("files"), dict):
        return None
    return record


def check_complete(path: str | Path) -> None:
    """Refuse a file that a stage's output set lists but did not finish writing, or that changed since.

    Looks for records beside the file and in the folder above it (a set's file in a subfolder, such as
    report's `multiqc/`), beside its target when the path is a symbolic link, as Nextflow stages inputs;
    a file no record lists is accepted as it is.

    Raises:
        InputError: the record says the set was being replaced (a run was killed between its renames), or
            the file's size or sha256 is not the one recorded.
    """
    real = Path(path).resolve()
    for folder, name in ((real.parent, real.name), (real.parent.parent, f"{real.parent.name}/{real.name}")):
        try:
            records = sorted(folder.glob(f"{RECORD_PREFIX}*.json"))
        except OSError:
            continue
        for record_path in records:
            record = _read_record(record_path)
            if record is not None and name in record["files"]:
                _check_listed(Path(path), real, record, record_path, name)


def _check_listed(path: Path, real: Path, record: dict, record_path: Path, name: str) -> None:
    """Refuse `path` if its set's record is not complete or does not match it."""
    stage = record.get("stage", "the stage")
    if record.get("state") != COMPLETE:
        raise InputError(
            f"{path}: the {stage} run that writes it stopped before all its outputs were in place "
            f"({record_path} says {record.get('state')!r}); run {stage} again"
        )
    _check_recorded(path, real, record["files"][name], f"{stage} ({record_path})")


def _check_recorded(path: Path, real: Path, expected: dict, writer: str) -> None:
    """Compare a file with its record entry (size first, then sha256)."""
    try:
        size = real.stat().st_size
        if size != expected.get("bytes"):
            raise InputError(
                f"{path}: {size} bytes, but {writer} recorded {expected.get('bytes')}: the file was cut short or "
                "replaced after it was written; run that stage again"
            )
        checksum = hashlib.sha256()
        with open(real, "rb") as handle:
            while block := handle.read(1 << 20):
                checksum.update(block)
    except OSError as error:
        raise InputError(f"{path}: cannot be read: {describe_os_error(error)}") from error
    if checksum.hexdigest() != expected.get("sha256"):
        raise InputError(
            f"{path}: its content differs from what {writer} recorded (sha256): the file was changed after it "
            "was written; run that stage again"
        )
