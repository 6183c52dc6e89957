"""AsyncInferenceRunner: embed many sequences with one model, in packed batches, resumably.

A background thread (`prefetch`) tokenizes the input and packs it into token-budget batches
(first-fit-decreasing per input window, see `collator`), pinned for the copy. The main thread uploads
batch k+1 while batch k runs, and collects each batch's pooled vectors once, by batch, never per
sequence. Finished vectors go into one matrix in input order and, every N sequences or T seconds, into
a checkpoint piece written by a background writer. SIGTERM/SIGINT (through `StopRequest`) stop between
batches after saving.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import torch

from virnucpro.errors import InputError, VirnucproError
from virnucpro.logging_setup import get_logger
from virnucpro.models.base import EmbeddingModel
from virnucpro.models.precision import dtype_name
from virnucpro.runner.checkpoints import CheckpointStore
from virnucpro.runner.collator import PackedBatch, build_batch, pack_windows, split_batch
from virnucpro.runner.interrupts import Interrupted, StopRequest
from virnucpro.runner.metrics import RunMetrics, peak_rss_bytes
from virnucpro.runner.prefetch import Prefetcher
from virnucpro.runner.progress import ProgressReporter
from virnucpro.runner.settings import RunnerSettings
from virnucpro.runner.staging import PendingResult, Stager

log = get_logger("runner")


class Record(Protocol):
    """What the runner needs of an input record (a `FastaRecord` fits)."""

    id: str
    sequence: str


@dataclass
class RunResult:
    """The run's output: `vectors[i]` belongs to `ids[i]`, in input order.

    `unsaved` lists the rows computed since the last checkpoint piece: a caller whose output write fails
    saves them (`CheckpointStore.save`), so that no computed vector is lost.
    """

    ids: list[str]
    vectors: np.ndarray
    metrics: RunMetrics
    unsaved: list[int] = field(default_factory=list)


@dataclass
class _RunState:
    """Everything one `run()` call mutates, so the helpers share it explicitly."""

    records: Sequence[Record]
    vectors: np.ndarray
    done: np.ndarray
    metrics: RunMetrics
    unsaved: list[int] = field(default_factory=list)
    last_save: float = field(default_factory=time.monotonic)
    progress: ProgressReporter | None = None


class AsyncInferenceRunner:
    """Embed records with one `EmbeddingModel` on its device (see the module docstring).

    Args:
        model: a loaded model adapter.
        settings: budget, window and checkpoint triggers.
        checkpoints: an open store to resume from and save pieces to (None: no checkpoints).
        stop: polled between batches; when set, the run saves and raises `Interrupted`.
        progress_bar: force the progress bar on or off (default: on when stderr is a terminal).
    """

    def __init__(
        self,
        model: EmbeddingModel,
        settings: RunnerSettings,
        *,
        checkpoints: CheckpointStore | None = None,
        stop: StopRequest | None = None,
        progress_bar: bool | None = None,
    ) -> None:
        self.model = model
        self.settings = settings
        self.checkpoints = checkpoints
        self.stop = stop or StopRequest()
        self.progress_bar = progress_bar
        self.stager = Stager(model.device)
        self.budget = settings.token_budget  # lowered by out-of-memory retries; batches above it are split

    def run(self, records: Sequence[Record]) -> RunResult:
        """Embed `records` (unique IDs) and return their vectors in input order.

        Raises:
            Interrupted: a stop was requested; finished work was saved to checkpoints first.
            InputError: a sequence is longer than the token budget.
            VirnucproError: NaN/Inf in outputs (naming the IDs), or a sequence that does not fit in device
                memory even alone.
        """
        wall_start = time.monotonic()
        self.budget = self.settings.token_budget
        state = self._new_state(records)
        self._resume_checkpoints(state)
        state.progress = ProgressReporter(self.model.kind, int((~state.done).sum()), bar=self.progress_bar)
        batches = self._start_packing(state)
        try:
            self._compute_all(batches, state)
        except BaseException:
            if self.checkpoints is None or not self.checkpoints.failed:
                self._save_unsaved(state)  # keep finished work; pointless once the disk has failed
            raise
        finally:
            batches.close()
            self._finalize(state, wall_start)
        return RunResult([r.id for r in records], state.vectors, state.metrics, unsaved=state.unsaved)

    def _new_state(self, records: Sequence[Record]) -> _RunState:
        """Fresh state: an output matrix in input order and an all-false done mask."""
        metrics = RunMetrics(
            sequences=len(records),
            token_budget=self.settings.token_budget,
            device=str(self.model.device),
            model_kind=self.model.kind,
            backend=self.model.backend,
            precision=dtype_name(self.model.dtype),
        )
        return _RunState(
            records=records,
            vectors=np.zeros((len(records), self.model.embedding_dim), dtype=np.float32),
            done=np.zeros(len(records), dtype=bool),
            metrics=metrics,
        )

    def _resume_checkpoints(self, state: _RunState) -> None:
        """Fill rows from valid checkpoint pieces and mark them done; logs how many were resumed."""
        if self.checkpoints is None:
            return
        position_of = {record.id: i for i, record in enumerate(state.records)}
        resumed = self.checkpoints.load(position_of, self.model.embedding_dim)
        for vectors, start in zip(resumed.vectors, _offsets(resumed.vectors), strict=True):
            rows = resumed.indices[start : start + len(vectors)]
            state.vectors[rows] = vectors
            state.done[rows] = True
        state.metrics.resumed = resumed.count
        state.metrics.rejected_pieces = len(resumed.rejected)
        log.info(
            "resumed %d of %d sequences from %d checkpoint piece(s) in %s (%d rejected)",
            resumed.count,
            len(state.records),
            resumed.pieces,
            self.checkpoints.directory,
            len(resumed.rejected),
        )

    def _start_packing(self, state: _RunState) -> Prefetcher[PackedBatch]:
        """Start the thread that tokenizes, packs and pins the batches still to compute, a few ahead."""
        skip = frozenset(np.flatnonzero(state.done).tolist())
        pinned = (self.stager.pin(batch) for batch in self._packed_batches(state.records, skip))
        return Prefetcher(pinned, self.settings.prefetch_batches, name="packer")

    def _packed_batches(self, records: Sequence[Record], skip: frozenset[int]) -> Iterator[PackedBatch]:
        """The batches still to compute, tokenized in input order and packed by the window rule.

        Windows and bins depend only on the input and the initial budget (`collator.pack_windows`), so a
        resumed run re-forms the batches of an uninterrupted one; finished positions are dropped after packing.
        """
        budget = self.settings.token_budget
        token_lists = (self._tokenize(record) for record in records)
        for positions, members in pack_windows(token_lists, budget, self.settings.window_batches * budget, skip=skip):
            yield build_batch(positions, [records[p].id for p in positions], members, budget)

    def _tokenize(self, record: Record) -> list[int]:
        """The record's token ids; raises InputError when they cannot fit in any batch."""
        token_ids = self.model.tokenize(record.sequence)
        if len(token_ids) > self.settings.token_budget:
            raise InputError(
                f"sequence {record.id} has {len(token_ids)} tokens, more than the token budget "
                f"{self.settings.token_budget}; raise --token-budget"
            )
        return token_ids

    def _compute_all(self, batches: Prefetcher[PackedBatch], state: _RunState) -> None:
        """Run every batch, keeping one in flight: upload k+1 while k computes, collect k-1 meanwhile.

        Waiting for a batch gives up on a stop request; `_stop_if_requested` then raises after collecting.
        """
        pending: list[PendingResult] = []
        batch = batches.next(give_up=self._stop_requested)
        while batch is not None:
            launched = self._launch(batch, state)
            batch = batches.next(give_up=self._stop_requested)
            self._collect(pending, state)
            pending = launched
            self._stop_if_requested(pending, state)
        self._collect(pending, state)
        self._stop_if_requested([], state)
        if not state.done.all():
            raise VirnucproError(f"internal error: {int((~state.done).sum())} sequences were never embedded")

    def _launch(self, batch: PackedBatch, state: _RunState) -> list[PendingResult]:
        """Upload and run one batch; on device out-of-memory split it and retry the parts.

        A batch packed before an out-of-memory error lowered the budget is split before it runs.
        Side effects: counts the batch in the metrics; may lower `self.budget`.
        """
        if batch.real_tokens > self.budget and len(batch.ids) > 1:
            return self._split(batch, state, max(self.budget, batch.max_seqlen))
        started = time.monotonic()
        staged = self.stager.upload(batch)
        self.stager.before_compute(staged)
        try:
            with torch.inference_mode():
                vectors = self.model.embed_packed(staged.token_ids, staged.cu_seqlens, batch.max_seqlen)
        except torch.OutOfMemoryError:
            del staged
            return self._split_after_oom(batch, state)
        finally:
            state.metrics.compute_s += time.monotonic() - started
        self._record_batch_metrics(batch, state)
        return [self.stager.download(batch, vectors)]

    def _split_after_oom(self, batch: PackedBatch, state: _RunState) -> list[PendingResult]:
        """Halve the budget after a batch ran out of device memory, then run the batch in smaller parts.

        Side effects: lowers `self.budget` for later batches and logs it; raises when the batch is a
        single sequence, which cannot get smaller.
        """
        if len(batch.ids) == 1:
            raise VirnucproError(
                f"sequence {batch.ids[0]} ({batch.real_tokens} tokens) does not fit in device memory on "
                f"{self.model.device} even alone; use a larger device or --device cpu"
            )
        if self.model.device.type == "cuda":
            torch.cuda.empty_cache()
        target = max(batch.real_tokens // 2, batch.max_seqlen)
        self.budget = max(min(self.budget // 2, target), 1)
        state.metrics.oom_retries += 1
        log.warning(
            "out of device memory on a batch of %d sequences (%d tokens); token budget halved to %d, retrying",
            len(batch.ids),
            batch.real_tokens,
            self.budget,
        )
        return self._split(batch, state, target)

    def _split(self, batch: PackedBatch, state: _RunState, budget: int) -> list[PendingResult]:
        """Re-pack one batch's sequences with a smaller budget (at least its longest) and run the parts."""
        results: list[PendingResult] = []
        for part in split_batch(batch, budget):
            results.extend(self._launch(self.stager.pin(part), state))
        return results

    def _record_batch_metrics(self, batch: PackedBatch, state: _RunState) -> None:
        """Count one successful forward pass: batches, real tokens and the budget they were packed for."""
        state.metrics.batches += 1
        state.metrics.tokens += batch.real_tokens
        state.metrics.budget_tokens += batch.budget

    def _collect(self, pending: list[PendingResult], state: _RunState) -> None:
        """Wait for launched batches' vectors, check them, store them in input order, maybe checkpoint."""
        for result in pending:
            started = time.monotonic()
            vectors = result.wait()
            state.metrics.compute_s += time.monotonic() - started
            _check_finite(result.batch, vectors)
            self._accumulate_and_checkpoint(result.batch, vectors, state)
            state.progress.update(len(result.batch.ids), result.batch.real_tokens)

    def _accumulate_and_checkpoint(self, batch: PackedBatch, vectors: np.ndarray, state: _RunState) -> None:
        """Put a batch's vectors in their input rows; save a piece when a trigger (count or time) fires.

        Side effects: fills `state.vectors`, marks `state.done`, may queue a checkpoint piece.

        Raises:
            CheckpointWriteError: a piece could not be written.
        """
        rows = list(batch.indices)
        state.vectors[rows] = vectors
        state.done[rows] = True
        state.metrics.computed += len(rows)
        state.unsaved.extend(rows)
        if self.checkpoints is None:
            return
        self.checkpoints.check()  # a piece that failed stops the run now, not at the end
        elapsed = time.monotonic() - state.last_save
        if len(state.unsaved) >= self.settings.checkpoint_every or elapsed >= self.settings.checkpoint_interval:
            self._save_unsaved(state)

    def _save_unsaved(self, state: _RunState) -> None:
        """Queue the rows computed since the last piece as a new piece (no-op without checkpoints).

        Raises:
            CheckpointWriteError: an earlier piece could not be written.
        """
        if self.checkpoints is None or not state.unsaved:
            state.last_save = time.monotonic()
            return
        rows = state.unsaved
        self.checkpoints.save([state.records[r].id for r in rows], state.vectors[rows].copy())
        log.debug("checkpoint piece queued: %d sequences", len(rows))
        state.unsaved = []
        state.last_save = time.monotonic()

    def _stop_if_requested(self, pending: list[PendingResult], state: _RunState) -> None:
        """On a stop request: collect the batch in flight, then raise `Interrupted` (the caller saves)."""
        if not self.stop.requested:
            return
        self._collect(pending, state)
        pending.clear()
        saved = "saved to checkpoints" if self.checkpoints is not None else "lost: no --checkpoint-dir"
        raise Interrupted(
            self.stop.signum, f"{int(state.done.sum())} of {len(state.records)} sequences embedded and {saved}"
        )

    def _stop_requested(self) -> bool:
        """Whether SIGTERM/SIGINT (or a caller) asked the run to stop."""
        return self.stop.requested

    def _finalize(self, state: _RunState, wall_start: float) -> None:
        """Stop the progress display; fill the last metrics (times, peaks)."""
        if state.progress is not None:
            state.progress.close()
        metrics = state.metrics
        metrics.final_token_budget = self.budget
        metrics.wall_s = time.monotonic() - wall_start
        metrics.peak_rss_bytes = peak_rss_bytes()
        if self.model.device.type == "cuda":
            metrics.peak_device_bytes = int(torch.cuda.max_memory_allocated(self.model.device))


def _check_finite(batch: PackedBatch, vectors: np.ndarray) -> None:
    """Raise naming the IDs whose vectors hold NaN or Inf; a silent bad file is worse than a failure."""
    bad = ~np.isfinite(vectors).all(axis=1)
    if bad.any():
        ids = [batch.ids[i] for i in np.flatnonzero(bad)]
        shown = ", ".join(ids[:10]) + (f" and {len(ids) - 10} more" if len(ids) > 10 else "")
        raise VirnucproError(f"the model returned NaN or Inf for {len(ids)} sequence(s): {shown}")


def _offsets(blocks: list[np.ndarray]) -> list[int]:
    """Start row of each block when the blocks are stacked."""
    starts, total = [], 0
    for block in blocks:
        starts.append(total)
        total += len(block)
    return starts
