"""Choose the device for a run (`--device auto|cpu|cuda|cuda:N`) and the token budget that fits on it.

`auto` takes a GPU when one is visible and the CPU otherwise; `cuda` takes a GPU or fails (exit 2), for
runs that asked for GPUs and must never fall back to days of CPU work. Both choose among the visible
devices the same way:

- exactly one device named by `CUDA_VISIBLE_DEVICES` (a scheduler's allocation): take it, no lock;
- otherwise (several named, or the variable unset): hold the lock file `<lock dir>/cuda-<id>.lock` of the
  first free device, waiting while all are taken, so runs started together spread over the GPUs. `<id>` is
  the device's entry in `CUDA_VISIBLE_DEVICES` (its index when unset), so runs that see different subsets
  of one machine's GPUs still share one lock per GPU.

A GPU budget (`GpuSharing.max_gpus`) first holds one of N slot locks shared by a group of runs (one
pipeline run), so the group never uses more than N GPUs at once. Locks are `flock`s: a killed run frees
them at once.
"""

from __future__ import annotations

import re
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch

from virnucpro.errors import InputError
from virnucpro.filelock import FileLock
from virnucpro.logging_setup import get_logger

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
DEFAULT_LOCK_DIR_NAME = "virnucpro-device-locks"


def default_lock_dir(configured: str = "") -> Path:
    """`VIRNUCPRO_DEVICE_LOCK_DIR` when set, else `virnucpro-device-locks` under the system temp directory."""
    return Path(configured) if configured else Path(tempfile.gettempdir()) / DEFAULT_LOCK_DIR_NAME


@dataclass(frozen=True)
class GpuSharing:
    """How runs on one machine share its GPUs.

    Attributes:
        lock_dir: where the per-GPU and slot lock files live; every run that shares the GPUs (containers
            included) must see the same directory.
        max_gpus: at most this many GPUs for all runs of `group` together (0: no cap).
        group: the runs that share `max_gpus` (a pipeline run's ID); slots live in `lock_dir/<group>`.
    """

    lock_dir: Path = field(default_factory=default_lock_dir)
    max_gpus: int = 0
    group: str = "default"

    def __post_init__(self) -> None:
        if self.max_gpus < 0:
            raise InputError(f"--max-gpus {self.max_gpus}: expected 0 (no cap) or more")


@dataclass
class DeviceChoice:
    """The device to run on and the locks that reserve it (released together)."""

    device: torch.device
    lock: FileLock | None = None
    slot: FileLock | None = None

    def release(self) -> None:
        for held in (self.lock, self.slot):
            if held is not None:
                held.release()


def visible_device_ids(cuda_visible_devices: str | None, count: int) -> list[str]:
    """Machine-wide names of the devices torch numbers 0 .. count-1, safe as file names.

    The `CUDA_VISIBLE_DEVICES` entries (indices, or GPU-/MIG- UUIDs) when set, else the indices.
    """
    if cuda_visible_devices is None:
        return [str(index) for index in range(count)]
    entries = [entry.strip() for entry in cuda_visible_devices.split(",") if entry.strip()]
    names = [re.sub(r"[^\w.-]", "_", entry) for entry in entries[:count]]
    return names + [str(index) for index in range(len(names), count)]


def choose_device(
    spec: str,
    *,
    cuda_visible_devices: str | None,
    sharing: GpuSharing | None = None,
    lock_dir: Path | None = None,
    device_count: int | None = None,
    poll_seconds: float = 5.0,
    sleep: Callable[[float], None] = time.sleep,
) -> DeviceChoice:
    """Resolve a `--device` value to a device, locking a free GPU when there is a choice to make.

    Logs the choice in one line: `device <spec>: <device> (<why>)`.

    Args:
        spec: "auto", "cpu", "cuda" or "cuda:N".
        cuda_visible_devices: the `CUDA_VISIBLE_DEVICES` value, None when unset.
        sharing: lock directory and GPU budget (default: the default lock directory, no budget).
        lock_dir: shorthand for `GpuSharing(lock_dir)`.
        device_count: number of CUDA devices (default: ask torch; tests pass a fake count).
        poll_seconds: how often to retry while every GPU (or every slot) is taken.
        sleep: the wait function (tests pass a fake).

    Raises:
        InputError: a malformed spec, a CUDA device that does not exist, or `cuda` with no GPU visible.
    """
    if not DEVICE_PATTERN.match(spec):
        raise InputError(f"--device {spec!r}: expected auto, cpu, cuda or cuda:N")
    sharing = sharing or (GpuSharing(lock_dir) if lock_dir is not None else GpuSharing())
    count = torch.cuda.device_count() if device_count is None else device_count
    visible = "CUDA_VISIBLE_DEVICES" + (" unset" if cuda_visible_devices is None else f"={cuda_visible_devices}")
    if spec == "cpu" or (spec == "auto" and count == 0):
        reason = "asked for" if spec == "cpu" else f"no CUDA device visible; {visible}"
        return _chosen(spec, DeviceChoice(torch.device("cpu")), reason)
    if count == 0:
        raise InputError(
            f"--device {spec}: no CUDA device is visible to this process ({visible}); this run asked for a "
            "GPU and does not fall back to the CPU. Check the job's GPU request and the container's GPU flag"
        )
    if spec.startswith("cuda:"):
        index = int(spec.partition(":")[2])
        if index >= count:
            raise InputError(f"--device {spec}: this machine has {count} visible CUDA device(s)")
        return _chosen(spec, DeviceChoice(torch.device("cuda", index)), "asked for")
    slot = _hold_slot(sharing, poll_seconds, sleep) if sharing.max_gpus else None
    if count == 1 and cuda_visible_devices is not None:
        return _chosen(spec, DeviceChoice(torch.device("cuda", 0), slot=slot), f"the only visible GPU; {visible}")
    ids = visible_device_ids(cuda_visible_devices, count)
    choice = _lock_free_gpu(ids, sharing.lock_dir, poll_seconds, sleep)
    choice.slot = slot
    where = f"GPU {ids[choice.device.index]} of {count} visible; {visible}; lock {choice.lock.path}"
    return _chosen(spec, choice, where)


def _chosen(spec: str, choice: DeviceChoice, reason: str) -> DeviceChoice:
    log.info("device %s: %s (%s)", spec, choice.device, reason)
    return choice


def _hold_slot(sharing: GpuSharing, poll_seconds: float, sleep: Callable[[float], None]) -> FileLock:
    """One of the group's `max_gpus` slot locks, waiting while all are held."""
    group = re.sub(r"[^\w.-]", "_", sharing.group)
    paths = [sharing.lock_dir / group / f"gpu-slot-{k}.lock" for k in range(sharing.max_gpus)]
    waiting = f"all {sharing.max_gpus} GPU slot(s) of {group} are in use (--max-gpus); waiting"
    return _first_free(paths, waiting, poll_seconds, sleep)[1]


def _lock_free_gpu(ids: list[str], lock_dir: Path, poll_seconds: float, sleep: Callable[[float], None]) -> DeviceChoice:
    """Hold the lock of the lowest-numbered free GPU, waiting while all are taken."""
    paths = [lock_dir / f"cuda-{device_id}.lock" for device_id in ids]
    waiting = f"all {len(ids)} GPUs are taken by other runs (locks in {lock_dir}); waiting"
    index, lock = _first_free(paths, waiting, poll_seconds, sleep)
    return DeviceChoice(torch.device("cuda", index), lock)


def _first_free(
    paths: list[Path], waiting: str, poll_seconds: float, sleep: Callable[[float], None]
) -> tuple[int, FileLock]:
    """(position, held lock) of the first of `paths` whose lock is free; polls while none is."""
    waited = False
    while True:
        for position, path in enumerate(paths):
            lock = FileLock(path)
            if lock.try_acquire():
                return position, lock
        if not waited:
            log.info("device: %s", waiting)
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
