"""Kill an embedding task mid-run: -resume (new run) and retries (same run, in a new scratch directory)
continue from the runner's checkpoints, lose no finished work and give the same results as an uninterrupted
run. The checkpoints live in the work directory (work/virnucpro-checkpoints), outside every task's own."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.pipeline.helpers import (
    EMBED_PROCESS,
    NextflowRun,
    assert_same_outputs,
    checkpoint_pieces,
    embed_command,
    resumed_count,
    run_pipeline,
    signal_task_processes,
    start_pipeline,
    statuses,
)

pytestmark = pytest.mark.pipeline


def start_and_wait_for_piece(
    nextflow_bin: str, nxf_home: Path, launch_dir: Path, *args: str
) -> tuple[subprocess.Popen, Path]:
    """Start the test profile in its own process group; return once a checkpoint piece exists (however long
    a loaded machine takes: pytest's timeout ends a hang)."""
    process = start_pipeline(nextflow_bin, nxf_home, launch_dir, "-profile", "test", *args)
    while process.poll() is None:
        pieces = checkpoint_pieces(launch_dir)
        if pieces:
            return process, pieces[0]
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    pytest.fail(f"no checkpoint piece appeared before the run ended (exit {process.returncode})")


def unfinished_embed_dirs(launch_dir: Path) -> list[Path]:
    """Work directories of embedding tasks that never finished (no .exitcode)."""
    return [
        script.parent
        for script in launch_dir.glob("work/*/*/.command.sh")
        if "virnucpro embed" in script.read_text() and not (script.parent / ".exitcode").exists()
    ]


def test_kill_whole_run_during_embedding_then_resume(
    demo_run: NextflowRun, nextflow_bin: str, nxf_home: Path, tmp_path: Path
) -> None:
    """SIGKILL of Nextflow and every task at once (a lost node, a hard scheduler kill): nothing cleans up."""
    launch_dir = tmp_path / "killed"
    process, piece = start_and_wait_for_piece(nextflow_bin, nxf_home, launch_dir)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    killed = unfinished_embed_dirs(launch_dir)
    assert killed, "no embedding task was running when the run was killed"

    resumed = run_pipeline(nextflow_bin, nxf_home, launch_dir, "-profile", "test", "-resume")
    assert resumed.returncode == 0, resumed.output
    found = statuses(resumed)
    for process_name in ("CHECK_INPUT", "MAKE_TEST_MODELS", "SHARD", "TRANSLATE"):
        assert found[process_name] == ["CACHED"], (process_name, found)
    rows = {row["process"].split(":")[-1]: row for row in resumed.trace()}
    # work/virnucpro-checkpoints/<sample>.<shard index>.<shard fingerprint>/<model kind>/<run fingerprint>/piece-*
    rerun = rows[EMBED_PROCESS[piece.parts[-3]]]
    assert rerun["status"] == "COMPLETED"
    assert Path(rerun["workdir"]) not in killed, "the rerun must happen in a new work directory"
    assert resumed_count(Path(rerun["workdir"])) > 0
    assert_same_outputs(resumed, demo_run)


def test_killed_task_is_retried_in_a_new_scratch_directory_and_resumes(
    demo_run: NextflowRun, nextflow_bin: str, nxf_home: Path, tmp_path: Path
) -> None:
    """SIGKILL of one embedding task only (as the OOM killer does), with `process.scratch`: tasks run in a
    node-local scratch directory that is deleted when they end, as on many clusters. Exit 137; Nextflow
    retries the task (attempt 2) in a new work and a new scratch directory, and the retry resumes from the
    pieces the killed attempt left in the checkpoint root."""
    scratch_root = tmp_path / "node-local-scratch"
    scratch_root.mkdir()
    (tmp_path / "scratch.config").write_text(f"process.scratch = '{scratch_root}'\n")
    launch_dir = tmp_path / "retried"
    process, piece = start_and_wait_for_piece(
        nextflow_bin, nxf_home, launch_dir, "-c", str(tmp_path / "scratch.config")
    )
    kind = piece.parts[-3]
    killed_in = signal_task_processes(launch_dir, embed_command(kind), signal.SIGKILL, under=scratch_root)
    assert killed_in, "no embedding process to kill"
    try:
        process.wait(timeout=600)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    assert process.returncode == 0
    run = NextflowRun(launch_dir, launch_dir / "results", process.returncode, "")
    attempts = [row for row in run.trace() if row["process"].endswith(EMBED_PROCESS[kind])]
    assert [row["attempt"] for row in attempts] == ["1", "2"], attempts
    assert attempts[0]["exit"] == "137" and attempts[1]["status"] == "COMPLETED"
    assert attempts[0]["workdir"] != attempts[1]["workdir"]
    # the killed attempt ran in a scratch directory, which is gone: the retry's pieces came from the root
    assert not any(directory.exists() for directory in killed_in)
    retry_wrapper = (Path(attempts[1]["workdir"]) / ".command.run").read_text()
    assert f"nxf_mktemp {scratch_root}" in retry_wrapper  # a fresh scratch directory for the retry
    assert resumed_count(Path(attempts[1]["workdir"])) > 0
    assert_same_outputs(run, demo_run)
