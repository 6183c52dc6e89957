"""Move packed batches to the device and results back, overlapping copies with compute on CUDA.

On CUDA, host tensors are pinned so copies are asynchronous; inputs go up on a separate copy stream
while the previous batch still runs on the compute stream, and pooled outputs come down into pinned
memory behind an event, so the host waits once per batch, never once per sequence. On CPU the same
code runs with every stream and event absent: copies are no-ops and results are ready at once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from virnucpro.runner.collator import PackedBatch


@dataclass
class StagedBatch:
    """A batch whose tensors are on (or on their way to) the device; `ready` marks the copy's end."""

    batch: PackedBatch
    token_ids: torch.Tensor
    cu_seqlens: torch.Tensor
    ready: torch.cuda.Event | None


@dataclass
class PendingResult:
    """Pooled vectors of a launched batch, copied to host memory once `done` has fired."""

    batch: PackedBatch
    host: torch.Tensor
    done: torch.cuda.Event | None

    def wait(self) -> np.ndarray:
        """Block until the vectors are on the host; float32 (rows, dim) in the batch's packing order."""
        if self.done is not None:
            self.done.synchronize()
        return self.host.numpy()


class Stager:
    """Host <-> device transfers for one device (see the module docstring for the CUDA/CPU split)."""

    def __init__(self, device: torch.device) -> None:
        self.device = device
        self.cuda = device.type == "cuda"
        self.copy_stream = torch.cuda.Stream(device=device) if self.cuda else None

    def pin(self, batch: PackedBatch) -> PackedBatch:
        """The batch with page-locked host tensors on CUDA (so copies can be asynchronous), else as is.

        Runs on the preparing thread, off the compute path.
        """
        if not self.cuda:
            return batch
        return PackedBatch(
            indices=batch.indices,
            ids=batch.ids,
            token_ids=batch.token_ids.pin_memory(),
            cu_seqlens=batch.cu_seqlens.pin_memory(),
            max_seqlen=batch.max_seqlen,
            budget=batch.budget,
        )

    def upload(self, batch: PackedBatch) -> StagedBatch:
        """Start copying a batch to the device on the copy stream; returns without waiting."""
        if not self.cuda:
            return StagedBatch(batch, batch.token_ids, batch.cu_seqlens, None)
        with torch.cuda.stream(self.copy_stream):
            token_ids = batch.token_ids.to(self.device, non_blocking=True)
            cu_seqlens = batch.cu_seqlens.to(self.device, non_blocking=True)
            ready = torch.cuda.Event()
            ready.record(self.copy_stream)
        return StagedBatch(batch, token_ids, cu_seqlens, ready)

    def before_compute(self, staged: StagedBatch) -> None:
        """Make the compute stream wait for the batch's upload (a device-side wait, not a host one)."""
        if staged.ready is not None:
            torch.cuda.current_stream(self.device).wait_event(staged.ready)
            # The tensors were made on the copy stream; tell the allocator the compute stream uses them.
            staged.token_ids.record_stream(torch.cuda.current_stream(self.device))
            staged.cu_seqlens.record_stream(torch.cuda.current_stream(self.device))

    def download(self, batch: PackedBatch, vectors: torch.Tensor) -> PendingResult:
        """Start copying pooled vectors to (pinned) host memory; `PendingResult.wait()` collects them."""
        vectors = vectors.detach().to(torch.float32)
        if not self.cuda:
            return PendingResult(batch, vectors.contiguous(), None)
        host = torch.empty(vectors.shape, dtype=torch.float32, pin_memory=True)
        host.copy_(vectors, non_blocking=True)
        done = torch.cuda.Event()
        done.record(torch.cuda.current_stream(self.device))
        return PendingResult(batch, host, done)
