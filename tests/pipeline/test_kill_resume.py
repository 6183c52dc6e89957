"""Kill an embedding task mid-run: -resume (new run) and retries (same run, in a new scratch directory)
continue from the runner's checkpoints, lose no finished work and give the same results as an uninterrupted
run. The checkpoints live in the work directory (work/virnucpro-checkpoints), outside every task's own."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import pytest

from tests.pipeline.helpers import (
    DEMO_READS,
    EMBED_PROCESS,
    PAUSE_AT_FIRST_PIECE,
    NextflowRun,
    assert_same_outputs,
    checkpoint_pieces,
    first_attempt_pauses,
    resumed_count,
    run_pipeline,
    start_pipeline,
    statuses,
    wait_for_stopped_tasks,
)

pytestmark = pytest.mark.pipeline


def stopped_embedder(pipeline: subprocess.Popen, launch_dir: Path, under: Path | None = None) -> tuple[str, int]:
    """Wait until an embedder of the run has stopped itself after its first piece; its model kind and PID."""
    stopped = wait_for_stopped_tasks(pipeline, launch_dir, lambda cmdline: " embed " in cmdline, 1, under=under)[0]
    (kind,) = [kind for kind in EMBED_PROCESS if f"--model-kind {kind} " in f"{stopped.cmdline} "]
    assert checkpoint_pieces(launch_dir, kind), f"{kind} stopped before its first piece was on disk"
    return kind, stopped.pid


def kill_at_first_piece(nextflow_bin: str, nxf_home: Path, launch_dir: Path) -> str:
    """Run the test profile until an embedder has written its first piece, then SIGKILL Nextflow and every
    task at once (a lost node, a hard scheduler kill: nothing cleans up); the model kind that stopped."""
    process = start_pipeline(
        nextflow_bin, nxf_home, launch_dir, "-profile", "test", env={"VIRNUCPRO_PAUSE_AT": PAUSE_AT_FIRST_PIECE}
    )
    try:
        kind, _ = stopped_embedder(process, launch_dir)
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    return kind


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
    """SIGKILL of Nextflow and every task at once, then `-resume`."""
    launch_dir = tmp_path / "killed"
    kind = kill_at_first_piece(nextflow_bin, nxf_home, launch_dir)
    killed = unfinished_embed_dirs(launch_dir)
    assert killed, "no embedding task was running when the run was killed"

    resumed = run_pipeline(nextflow_bin, nxf_home, launch_dir, "-profile", "test", "-resume")
    assert resumed.returncode == 0, resumed.output
    found = statuses(resumed)
    for process_name in ("CHECK_INPUT", "MAKE_TEST_MODELS", "SHARD", "TRANSLATE"):
        assert found[process_name] == ["CACHED"], (process_name, found)
    rows = {row["process"].split(":")[-1]: row for row in resumed.trace()}
    rerun = rows[EMBED_PROCESS[kind]]
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
    # the first attempt of the DNABERT-S task stops itself after its first piece; the retry runs free, and
    # so does the ESM-2 task
    (tmp_path / "scratch.config").write_text(
        f"process.scratch = '{scratch_root}'\n" + first_attempt_pauses("EMBED_DNABERT", "checkpoint:dnabert-s:piece-1")
    )
    launch_dir = tmp_path / "retried"
    process = start_pipeline(
        nextflow_bin, nxf_home, launch_dir, "-profile", "test", "-c", str(tmp_path / "scratch.config")
    )
    try:
        kind, pid = stopped_embedder(process, launch_dir, under=scratch_root)
        killed_in = [path for path in scratch_root.iterdir() if path.is_dir()]
        os.kill(pid, signal.SIGKILL)
        process.wait(timeout=900)
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


def test_changed_input_names_the_old_checkpoint_folders(nextflow_bin: str, nxf_home: Path, tmp_path: Path) -> None:
    """A run killed during embedding, then run again on changed reads (one read fewer): the new shard has a
    new folder, and once the run succeeds the log names the old folders, their size and how to remove them,
    and leaves them on disk (only the user knows whether some other run will resume them)."""
    launch_dir = tmp_path / "changed"
    kill_at_first_piece(nextflow_bin, nxf_home, launch_dir)
    root = launch_dir / "work" / "virnucpro-checkpoints"
    old = sorted(record.parent for record in root.glob("*/*/*/fingerprint.json"))
    assert old, "the killed run left no checkpoint folder"

    records = DEMO_READS.read_text().split(">")[1:]
    (tmp_path / "fewer.fa").write_text("".join(f">{record}" for record in records[:-1]))
    fewer = ("--input", str(tmp_path / "fewer.fa"))
    changed = run_pipeline(nextflow_bin, nxf_home, launch_dir, "-profile", "test", *fewer)
    assert changed.returncode == 0, changed.output
    assert all(folder.is_dir() for folder in old), "a folder of another input was removed"
    warning = next(line for line in changed.output.splitlines() if "checkpoints:" in line and "rm -r" in line)
    assert f"{len(old)} folder(s) in {root} " in warning, warning
    for folder in old:
        assert str(folder.relative_to(root)) in warning, warning
    tops = sorted({f"{root}/{folder.relative_to(root).parts[0]}" for folder in old})
    assert warning.endswith("rm -r " + " ".join(tops)), warning
