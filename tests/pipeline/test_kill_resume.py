"""Kill an embedding task mid-run: -resume (new run) and retries (same run) continue from the runner's
checkpoints, lose no finished work and give the same bytes as an uninterrupted run."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.pipeline.helpers import (
    REPORT_FILES,
    NextflowRun,
    nextflow_command,
    pipeline_env,
    run_pipeline,
    statuses,
)

pytestmark = pytest.mark.pipeline

RESUMED = re.compile(r"resumed (\d+) of (\d+) sequences")
EMBED_PROCESS = {"dnabert-s": "EMBED_DNABERT", "esm2": "EMBED_ESM"}


def start_and_wait_for_piece(
    nextflow_bin: str, nxf_home: Path, launch_dir: Path, timeout: float = 300
) -> tuple[subprocess.Popen, Path]:
    """Start the test profile in its own process group; return once a checkpoint piece exists."""
    launch_dir.mkdir(parents=True)
    process = subprocess.Popen(
        nextflow_command(nextflow_bin, launch_dir, "-profile", "test"),
        cwd=launch_dir,
        env=pipeline_env(nxf_home),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        pieces = sorted((launch_dir / "checkpoints").glob("*/*/*/piece-*.safetensors"))
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


def resumed_count(task_dir: Path) -> int:
    """How many sequences the embedding task in `task_dir` says it took from checkpoints."""
    log = (task_dir / ".command.err").read_text()
    match = RESUMED.search(log)
    assert match, log
    return int(match.group(1))


def assert_same_outputs(run: NextflowRun, reference: NextflowRun) -> None:
    for name in REPORT_FILES:
        assert (run.outdir / "demo" / name).read_bytes() == (reference.outdir / "demo" / name).read_bytes(), name


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
    _kill_task_processes(launch_dir, lambda cmdline: " embed " in cmdline and kind in cmdline)
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


def _kill_task_processes(launch_dir: Path, matches: Callable[[str], bool]) -> None:
    """SIGKILL this run's `virnucpro` task processes (working directory under its work/) that match."""
    killed = 0
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            cwd = Path(os.readlink(proc / "cwd"))
        except OSError:
            continue
        if cwd.is_relative_to(launch_dir / "work") and "virnucpro" in cmdline and matches(cmdline):
            os.kill(int(proc.name), signal.SIGKILL)
            killed += 1
    assert killed, "no matching task process to kill"
