"""Bind this process's CPU thread pools to the CPUs it was given (`--threads`).

A scheduler gives a task some CPUs of a shared node (SLURM's cgroup, Nextflow's `task.cpus`, a
container's `--cpus`), but torch, OpenMP and BLAS size their pools by the whole machine: on a 64-core
node a 2-CPU task would start 64 threads that fight each other and their neighbours. Every stage binds
its pools before any work starts; the default is the CPUs this process may run on.
"""

from __future__ import annotations

import os
import sys

from virnucpro.logging_setup import get_logger

log = get_logger("threads")

# Read by OpenMP, MKL, OpenBLAS, Apple's Accelerate and numexpr when they start their pools: set before the
# library is loaded (the stages import numpy and torch lazily, after the option is parsed).
THREAD_VARIABLES = (
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS",
)


def available_cpus() -> int:
    """The CPUs this process may run on (its affinity mask: what taskset, cgroups cpusets and SLURM allow)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def bind_threads(threads: int, *, torch_pools: bool) -> None:
    """Size every CPU thread pool of this process to `threads`.

    Args:
        threads: the number of threads (>= 1).
        torch_pools: also set torch's intra-op and inter-op pools (imports torch; stages that never use
            torch pass False, and torch, if imported later, reads OMP_NUM_THREADS).
    """
    if threads < 1:
        raise ValueError(f"threads must be >= 1, got {threads}")
    for name in THREAD_VARIABLES:
        os.environ[name] = str(threads)
    if torch_pools or "torch" in sys.modules:
        _bind_torch(threads)
    log.debug("CPU threads bound to %d", threads)


def _bind_torch(threads: int) -> None:
    import torch

    torch.set_num_threads(threads)
    if torch.get_num_interop_threads() != threads:
        try:
            torch.set_num_interop_threads(threads)
        except RuntimeError:
            # torch allows this once per process, before any inter-op work; a process that already used
            # the pool (a test session, a notebook) keeps it
            log.debug("torch inter-op pool already started with %d threads", torch.get_num_interop_threads())
