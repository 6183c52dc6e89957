"""Checkpoint pieces of a running embedding job: fingerprinted directory, lock, atomic pieces, verified reuse.

Layout: `<checkpoint dir>/<fingerprint[:32]>/` holds `fingerprint.json` (what the fingerprint covers, for
people), `plan.json` (the token budget the batches were packed with, so a resumed run re-forms the same
batches), `.lock`, and `piece-NNNNNN.safetensors` files in the embedding file format. A piece carries the
fingerprint and a sha256 of its payload in its header; a piece that fails any check is renamed
`*.rejected` and its sequences are computed again, never skipped.
"""

from __future__ import annotations

import hashlib
import json
import queue
import re
import shutil
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from virnucpro.errors import InputError, VirnucproError, describe_os_error
from virnucpro.filelock import FileLock
from virnucpro.io.atomic import write_text_atomically
from virnucpro.io.embeddings import EmbeddingTable, encode_ids, read_embeddings, write_embeddings
from virnucpro.logging_setup import get_logger
from virnucpro.pause import pause_point

log = get_logger("runner.checkpoints")

PIECE_PATTERN = re.compile(r"^piece-(\d{6})\.safetensors(\.rejected)?$")


def fingerprint_of(parts: Mapping[str, str]) -> str:
    """sha256 hex of the canonical JSON of `parts` (every input and setting that changes numbers)."""
    return hashlib.sha256(json.dumps(dict(parts), sort_keys=True).encode("utf-8")).hexdigest()


def payload_digest(ids: list[str], vectors: np.ndarray) -> str:
    """sha256 hex over a piece's float32 bytes and its encoded IDs: detects flipped bits in either."""
    digest = hashlib.sha256(np.ascontiguousarray(vectors, dtype=np.float32).tobytes())
    digest.update(encode_ids(ids).tobytes())
    return digest.hexdigest()


@dataclass
class Resumed:
    """What `CheckpointStore.load` found: input positions and their vectors, and the pieces it rejected."""

    indices: list[int] = field(default_factory=list)
    vectors: list[np.ndarray] = field(default_factory=list)
    pieces: int = 0
    rejected: list[tuple[str, str]] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.indices)


class CheckpointStore:
    """One fingerprint's checkpoint directory, locked for the life of the store.

    Args:
        root: the user's `--checkpoint-dir`.
        fingerprint: `fingerprint_of(parts)`.
        parts: what the fingerprint covers, written to `fingerprint.json` for people.

    Raises:
        VirnucproError: another process holds the directory's lock.
    """

    def __init__(self, root: str | Path, fingerprint: str, parts: Mapping[str, str]) -> None:
        self.fingerprint = fingerprint
        self.model_kind = parts.get("model_kind", "")
        self.directory = Path(root) / fingerprint[:32]
        self.directory.mkdir(parents=True, exist_ok=True)
        self._lock = FileLock(self.directory / ".lock")
        if not self._lock.try_acquire():
            raise VirnucproError(
                f"{self.directory}: another run (process {self._lock.holder() or 'unknown'}) is writing "
                "checkpoints for the same input and model; wait for it to finish or give this run another "
                "--checkpoint-dir"
            )
        for stale in self.directory.glob(".*.tmp"):
            stale.unlink()  # left by a killed writer; we hold the lock, so nobody is writing it
        _report_other_folders(self.directory)
        description = self.directory / "fingerprint.json"
        if not description.exists():
            write_text_atomically(
                description, json.dumps({"fingerprint": fingerprint, **parts}, indent=2, sort_keys=True)
            )
        self._next_piece = 1 + max((self._piece_number(p) for p in self.directory.iterdir()), default=0)
        self._writer: PieceWriter | None = None

    @staticmethod
    def _piece_number(path: Path) -> int:
        match = PIECE_PATTERN.match(path.name)
        return int(match.group(1)) if match else 0

    def token_budget(self, requested: int) -> int:
        """The budget of this directory's batch plan: the first run's, recorded in `plan.json`.

        Reusing it makes a resumed run pack the remaining sequences into the same batches as before.
        """
        plan_path = self.directory / "plan.json"
        if plan_path.exists():
            try:
                budget = int(json.loads(plan_path.read_text())["token_budget"])
            except (ValueError, KeyError, TypeError) as error:
                log.warning("%s: unreadable batch plan (%s); starting a new one", plan_path, error)
            else:
                if budget != requested:
                    log.info("resuming with the checkpoints' token budget %d (requested %d)", budget, requested)
                return budget
        write_text_atomically(plan_path, json.dumps({"token_budget": requested}))
        return requested

    def load(self, position_of: Mapping[str, int], dim: int) -> Resumed:
        """Every valid piece's vectors, keyed by input position; invalid pieces are reported and set aside.

        A piece is valid when it reads back whole, its header names this fingerprint and its payload
        digest matches, its width is `dim`, all its IDs are in the input and none is already resumed,
        and all values are finite.
        """
        resumed = Resumed()
        seen: set[int] = set()
        for path in sorted(self.directory.glob("piece-*.safetensors")):
            try:
                table = self._verified(path, dim)
                positions = [position_of[i] for i in table.ids]
                if seen.intersection(positions) or len(set(positions)) != len(positions):
                    raise InputError("holds IDs that another piece already holds")
            except (InputError, KeyError, UnicodeDecodeError) as error:
                reason = _rejection_reason(error)
                self._reject(path, reason, resumed)
                continue
            seen.update(positions)
            resumed.indices.extend(positions)
            resumed.vectors.append(table.vectors)
            resumed.pieces += 1
        return resumed

    def _verified(self, path: Path, dim: int) -> EmbeddingTable:
        """The piece at `path` if it passes the header, digest, width and finiteness checks."""
        table = read_embeddings(path)
        meta = table.metadata
        if meta.get("fingerprint") != self.fingerprint:
            raise InputError(f"made for another input, model or setting (fingerprint {meta.get('fingerprint')})")
        if meta.get("payload_sha256") != payload_digest(table.ids, table.vectors):
            raise InputError("payload digest does not match (corrupted bytes)")
        if table.vectors.shape[1] != dim:
            raise InputError(f"vectors are {table.vectors.shape[1]} wide, the model gives {dim}")
        if not np.isfinite(table.vectors).all():
            raise InputError("holds NaN or Inf values")
        return table

    def _reject(self, path: Path, reason: str, resumed: Resumed) -> None:
        log.warning("checkpoint piece %s rejected, its sequences will be recomputed: %s", path, reason)
        resumed.rejected.append((path.name, reason))
        path.rename(path.with_name(path.name + ".rejected"))

    @property
    def failed(self) -> bool:
        """Whether a piece could not be written; no later piece will be."""
        return self._writer is not None and self._writer.failed

    def check(self) -> None:
        """Raise `CheckpointWriteError` if a piece could not be written (once)."""
        if self._writer is not None:
            self._writer.check()

    def save(self, ids: list[str], vectors: np.ndarray) -> None:
        """Queue a piece for the background writer; returns at once.

        Raises:
            CheckpointWriteError: an earlier piece could not be written.
        """
        if self._writer is None:
            self._writer = PieceWriter(self.directory, pause_prefix=f"checkpoint:{self.model_kind}:piece-")
        metadata = {
            "fingerprint": self.fingerprint,
            "piece": str(self._next_piece),
            "payload_sha256": payload_digest(ids, vectors),
        }
        path = self.directory / f"piece-{self._next_piece:06d}.safetensors"
        self._next_piece += 1
        self._writer.submit(path, EmbeddingTable(ids=list(ids), vectors=vectors, metadata=metadata))

    def close(self) -> None:
        """Wait for queued pieces to reach disk, then release the lock. Raises a failed write."""
        try:
            if self._writer is not None:
                self._writer.close()
        finally:
            self._lock.release()

    def remove(self) -> None:
        """Delete this fingerprint's directory (after the final output is safely written).

        A piece that failed after the last check no longer matters: the output it would have helped
        rebuild is on disk.
        """
        try:
            self.close()
        except CheckpointWriteError as error:
            log.warning("%s (the output is complete; the pieces are removed anyway)", error)
        shutil.rmtree(self.directory, ignore_errors=True)


def _report_other_folders(directory: Path) -> None:
    """Log the other fingerprint folders beside `directory`, with their size and how to remove them.

    A changed input (or model, or setting) gets a new fingerprint, so its old folder is never read again
    and would stay unnoticed. The log cannot tell an orphan from the folder of a killed run that its rerun
    will resume, or of another input running at the same moment, so it lists them and leaves the choice.
    """
    others = sorted(p for p in directory.parent.iterdir() if p != directory and (p / "fingerprint.json").is_file())
    if not others:
        return
    sizes = [sum(f.stat().st_size for f in folder.rglob("*") if f.is_file()) for folder in others]
    shown = ", ".join(f"{folder.name} ({size / 1e6:.1f} MB)" for folder, size in zip(others[:5], sizes, strict=False))
    more = f" and {len(others) - 5} more" if len(others) > 5 else ""
    log.warning(
        "%s holds %d checkpoint folder(s) of other inputs, models or settings (%.1f MB): %s%s. A changed input "
        "leaves its old folder behind and nothing reads it again; a killed run's folder is resumed when that "
        "run is repeated. Remove the ones no run will repeat: rm -r %s/<folder>",
        directory.parent,
        len(others),
        sum(sizes) / 1e6,
        shown,
        more,
        directory.parent,
    )


def _rejection_reason(error: Exception) -> str:
    if isinstance(error, KeyError):
        return f"ID {error} is not in the input"
    if isinstance(error, UnicodeDecodeError):
        return f"its IDs are not valid UTF-8 ({error.reason})"
    return str(error)


class CheckpointWriteError(VirnucproError):
    """A checkpoint piece could not be written (a full or failing disk); the run must stop. Exit code 1."""


class PieceWriter:
    """A background thread that writes queued pieces atomically, so compute never waits on disk.

    Any failure stops the writing: later pieces are dropped rather than written after a hole, and the
    failure is raised in the calling thread by the next `submit` or by `close`, once. Pieces written
    before it are whole (each is renamed into place only once complete) and stay for a rerun to resume.
    """

    def __init__(self, directory: Path, pause_prefix: str = "checkpoint:piece-") -> None:
        self.directory = directory
        self.pause_prefix = pause_prefix
        self._queue: queue.Queue[tuple[Path, EmbeddingTable] | None] = queue.Queue()
        self._failure: tuple[Path, BaseException] | None = None
        self._reported = False
        self._written = 0
        self._thread = threading.Thread(target=self._work, name="checkpoint-writer", daemon=True)
        self._thread.start()

    def _work(self) -> None:
        while (item := self._queue.get()) is not None:
            if self._failure is not None:
                continue
            try:
                write_embeddings(*item)
            except Exception as error:  # OSError from the disk, or anything else: never die silently
                self._failure = (item[0], error)
            else:
                self._written += 1
                pause_point(f"{self.pause_prefix}{self._written}")

    def check(self) -> None:
        """Raise the failure in the calling thread, the first time only."""
        if self._failure is None or self._reported:
            return
        self._reported = True
        path, error = self._failure
        raise CheckpointWriteError(
            f"checkpoint directory {self.directory}: cannot write {path.name}: {describe_os_error(error)}; "
            f"the {self._written} piece(s) written before it are kept, and a rerun with the same "
            "--checkpoint-dir resumes from them once the disk has room"
        ) from error

    @property
    def failed(self) -> bool:
        return self._failure is not None

    def submit(self, path: Path, table: EmbeddingTable) -> None:
        """Queue a piece; raises `CheckpointWriteError` if an earlier piece failed."""
        self.check()
        self._queue.put((path, table))

    def close(self) -> None:
        """Write everything queued, stop the thread, raise the failure if it was not raised yet."""
        self._queue.put(None)
        self._thread.join()
        self.check()
