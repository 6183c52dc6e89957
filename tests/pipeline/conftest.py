"""Fixtures for tests that drive the real `nextflow`: the binary (from the set-up) and an NXF_HOME."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.pipeline.helpers import SETUP, NextflowRun, run_pipeline
from tests.pipeline.slurm import ClusterUnavailable, SlurmCluster, running, start_cluster, stop_cluster


@pytest.fixture(scope="session")
def nextflow_bin() -> str:
    """The `nextflow` the set-up provides (one on PATH, else the Maven-fetched runtime)."""
    if shutil.which("java") is None and shutil.which("nextflow") is None:
        _missing("neither nextflow nor java is installed")
    result = subprocess.run(["bash", str(SETUP)], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        _missing(f"tools/nextflow/setup.sh failed:\n{result.stderr}")
    return result.stdout.strip().splitlines()[-1]


def _missing(reason: str) -> None:
    # CI must run these tests: there a missing Nextflow is a failure, elsewhere a skip.
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def nxf_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One NXF_HOME for the session, outside the user's ~/.nextflow."""
    return tmp_path_factory.mktemp("nxf_home")


@pytest.fixture(scope="session")
def demo_run(nextflow_bin: str, nxf_home: Path, tmp_path_factory: pytest.TempPathFactory) -> NextflowRun:
    """`nextflow run . -profile test` (the README's demo) in a fresh launch directory, run once per session."""
    run = run_pipeline(nextflow_bin, nxf_home, tmp_path_factory.mktemp("demo"), "-profile", "test")
    assert run.returncode == 0, run.output
    return run


@pytest.fixture(scope="session")
def slurm_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SlurmCluster]:
    """A one-node SLURM cluster (partitions cpu and gpu, two placeholder GPUs) for the session.

    Its daemons are stopped by their PIDs at the end, and the session fails if any of them is still running.
    """
    if os.geteuid() != 0:
        pytest.skip("SLURM tests need root (slurmd starts jobs as their owner)")
    try:
        cluster = start_cluster(tmp_path_factory.mktemp("slurm"))
    except ClusterUnavailable as reason:
        _missing(f"SLURM tests: {reason}")
    pids = cluster.daemon_pids()
    yield cluster
    stop_cluster(cluster)
    left = {name: pid for name, pid in pids.items() if running(pid)}
    assert not left, f"SLURM daemons still running after the session: {left}"
