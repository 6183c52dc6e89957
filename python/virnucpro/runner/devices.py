"""Choose the device for a run (`--device auto|cpu|cuda|cuda:N`) and the token budget that fits on it.

With `auto` on a machine with several GPUs and no `CUDA_VISIBLE_DEVICES`, each run takes the first GPU
whose lock file (`<lock dir>/cuda-<index>.lock`) it can hold, so runs started together spread over the
GPUs. A run that finds every GPU taken waits for one. When a scheduler sets `CUDA_VISIBLE_DEVICES`, the
choice is its own and no lock is taken.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch

from virnucpro.errors import InputError
from virnucpro.logging_setup import get_logger
from virnucpro.runner.filelock import FileLock

log = get_logger("runner.devices")

DEVICE_PATTERN = re.compile(r"^(auto|cpu|cuda|cuda:\d+)$")
# On CPU, attention over a packed batch costs more per token as batches grow (masked work), while the
# matrix products are already efficient at a few hundred rows: measured on a 6 x 320 ESM-2, 1,161 tok/s
# at 512 vs 952 at 2,048 vs 816 one sequence at a time (benchmarks/bench_runner.py, docs/embed.md).
CPU_TOKEN_BUDGET = 512
MAX_CUDA_TOKEN_BUDGET = 131072
MIN_CUDA_TOKEN_BUDGET = 2048
CUDA_MEMORY_FRACTION = 0.6
BYTES_PER_TOKEN_PER_DIM = 32  # peak activation bytes per token, per hidden unit and element byte (heuristic)


@dataclass
class DeviceChoice:
    """The device to run on and, with `auto` over several GPUs, the lock that reserves it."""

    device: torch.device
    lock: FileLock | None = None

    def release(self) -> None:
        if self.lock is not None:
            self.lock.release()


def choose_device(
    spec: str,
    *,
    lock_dir: Path,
    cuda_visible_devices: str | None,
    device_count: int | None = None,
    poll_seconds: float = 5.0,
    sleep: Callable[[float], None] = time.sleep,
) -> DeviceChoice:
    """Resolve a `--device` value to a device, locking a free GPU when `auto` has several to pick from.

    Args:
        spec: "auto", "cpu", "cuda" or "cuda:N".
        lock_dir: where the per-GPU lock files live.
        cuda_visible_devices: the `CUDA_VISIBLE_DEVICES` value, None when unset.
        device_count: number of CUDA devices (default: ask torch; tests pass a fake count).
        poll_seconds: how often to retry while every GPU is taken.
        sleep: the wait function (tests pass a fake).

    Raises:
        InputError: a malformed spec, or a CUDA device that does not exist.
    """
    if not DEVICE_PATTERN.match(spec):
        raise InputError(f"--device {spec!r}: expected auto, cpu, cuda or cuda:N")
    count = torch.cuda.device_count() if device_count is None else device_count
    if spec == "cpu" or (spec == "auto" and count == 0):
        return DeviceChoice(torch.device("cpu"))
    if spec.startswith("cuda"):
        index = int(spec.partition(":")[2] or 0)
        if index >= count:
            raise InputError(f"--device {spec}: this machine has {count} visible CUDA device(s)")
        return DeviceChoice(torch.device("cuda", index))
    if count == 1 or cuda_visible_devices:
        return DeviceChoice(torch.device("cuda", 0))
    return _lock_free_gpu(count, lock_dir, poll_seconds, sleep)


def _lock_free_gpu(count: int, lock_dir: Path, poll_seconds: float, sleep: Callable[[float], None]) -> DeviceChoice:
    """Hold the lock of the lowest-numbered free GPU, waiting while all are taken."""
    waited = False
    while True:
        for index in range(count):
            lock = FileLock(lock_dir / f"cuda-{index}.lock")
            if lock.try_acquire():
                log.info("device auto: took GPU %d of %d (lock %s)", index, count, lock.path)
                return DeviceChoice(torch.device("cuda", index), lock)
        if not waited:
            log.info("device auto: all %d GPUs are taken by other runs (locks in %s); waiting", count, lock_dir)
            waited = True
        sleep(poll_seconds)


def default_token_budget(device: torch.device, embedding_dim: int, dtype: torch.dtype, longest: int = 0) -> int:
    """A token budget for one packed batch, never below `longest` (the longest sequence, in tokens).

    On CPU a fixed size. On CUDA a fraction of the free memory divided by a per-token activation
    estimate, rounded down to a multiple of 1024 and clamped; out-of-memory errors halve it at run time,
    so the estimate only has to be in the right range.
    """
    if device.type != "cuda":
        return max(CPU_TOKEN_BUDGET, longest)
    free_bytes, _total = torch.cuda.mem_get_info(device)
    element = torch.finfo(dtype).bits // 8
    per_token = BYTES_PER_TOKEN_PER_DIM * embedding_dim * element
    budget = int(free_bytes * CUDA_MEMORY_FRACTION / per_token) // 1024 * 1024
    return max(MIN_CUDA_TOKEN_BUDGET, min(MAX_CUDA_TOKEN_BUDGET, budget), longest)
