"""Kill an embedding task mid-run: -resume (new run) and retries (same run) continue from the runner's
checkpoints, lose no finished work and give the same bytes as an uninterrupted run."""

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
    nextflow_bin: str, nxf_home: Path, launch_dir: Path, timeout: float = 300
) -> tuple[subprocess.Popen, Path]:
    """Start the test profile in its own process group; return once a checkpoint piece exists."""
    process = start_pipeline(nextflow_bin, nxf_home, launch_dir, "-profile", "test")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
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
    # checkpoints/<shard fingerprint>/<model kind>/<run fingerprint>/piece-*.safetensors
    rerun = rows[EMBED_PROCESS[piece.parts[-3]]]
    assert rerun["status"] == "COMPLETED"
    assert Path(rerun["workdir"]) not in killed, "the rerun must happen in a new work directory"
    assert resumed_count(Path(rerun["workdir"])) > 0
    assert_same_outputs(resumed, demo_run)


@pytest.mark.slow
def test_killed_task_is_retried_within_the_run(
    demo_run: NextflowRun, nextflow_bin: str, nxf_home: Path, tmp_path: Path
) -> None:
    """SIGKILL of one embedding task only (as the OOM killer does): exit 137, Nextflow retries it in a new
    work directory within the same run, and the retry resumes from the killed attempt's pieces."""
    launch_dir = tmp_path / "retried"
    process, piece = start_and_wait_for_piece(nextflow_bin, nxf_home, launch_dir)
    kind = piece.parts[-3]
    assert signal_task_processes(launch_dir, embed_command(kind), signal.SIGKILL), "no embedding process to kill"
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
    assert resumed_count(Path(attempts[1]["workdir"])) > 0
    assert_same_outputs(run, demo_run)
