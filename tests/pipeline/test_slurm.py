"""The pipeline on a real one-node SLURM cluster (tools/slurm/local-cluster.sh, started once per session).

Every task runs as a SLURM job, gets what it asked for, and the results equal the local executor's (default
suite, about 2.5 min on a loaded 2-core machine). A job stopped by its time limit or by `scancel` is retried
by Nextflow and resumes from its checkpoint pieces, and shards run as concurrent jobs (second tier, run by
`make test` after the default suite: 5 and 9.5 min there at load average 15-25). `pytest -m slurm` runs them all.
"""

from __future__ import annotations

import math
import os
import re
import signal
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import pytest

from tests.pipeline.helpers import (
    EMBED_PROCESS,
    NextflowRun,
    assert_same_outputs,
    checkpoint_pieces,
    embed_command,
    first_attempt_pauses,
    resumed_count,
    run_pipeline,
    signal_task_processes,
    split_demo_reads,
    start_pipeline,
    task_processes,
)
from tests.pipeline.slurm import SlurmCluster, megabytes, minutes

pytestmark = [pytest.mark.pipeline, pytest.mark.slurm]

# Nextflow looks for finished jobs every 5 s by default; every second keeps these runs short.
FAST_POLL = "executor.pollInterval = '1 sec'\n"
# Exit codes the task wrapper (.command.run) reports when SLURM stops a job: USR2 is the warning SLURM sends
# 30 s before the time limit (Nextflow asks for it with `--signal B:USR2@30`), TERM comes with scancel.
EXIT_USR2, EXIT_TERM = "140", "143"


def process_name(row: dict[str, str]) -> str:
    return row["process"].split(":")[-1]


def attempts(run: NextflowRun, process: str) -> list[dict[str, str]]:
    """Trace rows of one process's tasks, in attempt order."""
    rows = [row for row in run.trace() if process_name(row) == process]
    return sorted(rows, key=lambda row: int(row["attempt"]))


def sbatch_header(row: dict[str, str]) -> list[str]:
    """The `#SBATCH` lines Nextflow wrote for a task."""
    lines = (Path(row["workdir"]) / ".command.run").read_text().splitlines()
    return [line for line in lines if line.startswith("#SBATCH ")]


@pytest.fixture(scope="module")
def slurm_demo_run(
    slurm_cluster: SlurmCluster, nextflow_bin: str, nxf_home: Path, tmp_path_factory: pytest.TempPathFactory
) -> NextflowRun:
    """`nextflow run . -profile test,slurm`, exactly as a user would smoke-test a cluster."""
    launch_dir = tmp_path_factory.mktemp("slurm_demo")
    run = run_pipeline(nextflow_bin, nxf_home, launch_dir, "-profile", "test,slurm", env=slurm_cluster.env)
    assert run.returncode == 0, run.output
    return run


def test_test_profile_on_slurm_gives_the_local_results(slurm_demo_run: NextflowRun, demo_run: NextflowRun) -> None:
    assert_same_outputs(slurm_demo_run, demo_run)
    assert sorted(map(process_name, slurm_demo_run.trace())) == sorted(map(process_name, demo_run.trace()))


def test_every_task_ran_as_a_slurm_job(slurm_demo_run: NextflowRun, slurm_cluster: SlurmCluster) -> None:
    """SLURM's own record of each task's job: finished, in the task's work directory, in the profile's
    partition for tasks that ask for no GPU (`cpu`: in a CPU run the embedding steps too; GPU jobs go to
    `gpu`, tested below)."""
    jobs = slurm_cluster.finished_jobs()
    for row in slurm_demo_run.trace():
        job = jobs[row["native_id"]]
        assert (job["State"], job["ExitCode"]) == ("COMPLETED", "0:0"), job
        assert job["WorkDir"] == row["workdir"]
        assert job["JobName"].startswith(f"nf-{row['process'].replace(':', '_')}"), job
        assert job["Partition"] == "cpu", job
        assert "#SBATCH -p cpu" in sbatch_header(row)


@pytest.fixture(scope="module")
def slurm_gpu_stub_run(
    slurm_cluster: SlurmCluster, nextflow_bin: str, nxf_home: Path, tmp_path_factory: pytest.TempPathFactory
) -> NextflowRun:
    """`-profile test,slurm,gpu -stub`: every task is a real SLURM job that only touches its outputs (the
    placeholder GPUs cannot run CUDA). The trace adds what each task asked for, and NXF_DEBUG=1 makes each
    job write its environment at the top of its .command.log."""
    launch_dir = tmp_path_factory.mktemp("slurm_gpu")
    fields = "native_id,process,tag,status,exit,attempt,workdir,cpus,memory,time"
    (launch_dir / "trace.config").write_text(FAST_POLL + f"trace.fields = '{fields}'\n")
    args = ("-profile", "test,slurm,gpu", "-stub", "-c", str(launch_dir / "trace.config"))
    run = run_pipeline(nextflow_bin, nxf_home, launch_dir, *args, env={**slurm_cluster.env, "NXF_DEBUG": "1"})
    assert run.returncode == 0, run.output
    return run


def task_environment(row: dict[str, str]) -> dict[str, str]:
    """The environment a job's task script ran with, from the dump NXF_DEBUG=1 puts in .command.log."""
    log = (Path(row["workdir"]) / ".command.log").read_text()
    dump = log.split("============= task environment =============\n")[1].split("=============")[0]
    return dict(line.split("=", 1) for line in dump.splitlines() if "=" in line)


def test_slurm_gives_each_job_what_its_task_asked_for(slurm_gpu_stub_run: NextflowRun, slurm_cluster: SlurmCluster):
    """CPUs, memory and time of every job, as SLURM recorded them, equal the task's (from the trace); with
    -profile gpu the embedding jobs ask for one GPU in the `gpu` partition and see the one SLURM gave them in
    CUDA_VISIBLE_DEVICES, and no other job gets a GPU."""
    rows = slurm_gpu_stub_run.trace()
    assert sum(process_name(row) in EMBED_PROCESS.values() for row in rows) == 2
    for row in rows:
        job, header, env = slurm_cluster.job(row["native_id"]), sbatch_header(row), task_environment(row)
        assert job["NumCPUs"] == row["cpus"], (row, job)
        assert megabytes(job["MinMemoryNode"]) == megabytes(row["memory"]), (row, job)
        assert minutes(job["TimeLimit"]) == minutes(row["time"]), (row, job)
        if process_name(row) in EMBED_PROCESS.values():
            assert "#SBATCH --gres=gpu:1" in header and job["Partition"] == "gpu", (header, job)
            assert job["TresPerNode"] == "gres:gpu:1", job
            # SLURM_JOB_GPUS: the GPU SLURM allocated to the job (one of the node's two)
            assert env["CUDA_VISIBLE_DEVICES"] == env["SLURM_JOB_GPUS"] in {"0", "1"}, env
        else:
            assert not any("--gres" in line for line in header) and job["Partition"] == "cpu", (header, job)
            assert "TresPerNode" not in job and "SLURM_JOB_GPUS" not in env and "CUDA_VISIBLE_DEVICES" not in env


# A GPU job's device choice, as `virnucpro embed` makes it (`choose_device` with the job's
# CUDA_VISIBLE_DEVICES), for `--device auto` and for `--device cuda` (what -profile gpu passes). The placeholder
# GPUs have no driver, so torch would count none: the count is the one a driver gives a job, the devices
# CUDA_VISIBLE_DEVICES names. The two jobs meet (each waits for the other's file) so that both hold a GPU
# at once and SLURM must give them different ones.
DEVICE_CHOICE_JOB = """
import os, pathlib, sys, time
from virnucpro.logging_setup import configure_logging
from virnucpro.runner.devices import choose_device

configure_logging()
meeting = pathlib.Path(sys.argv[1])
(meeting / os.environ["SLURM_JOB_ID"]).touch()
deadline = time.monotonic() + 600
while len(list(meeting.iterdir())) < 2 and time.monotonic() < deadline:
    time.sleep(0.1)
visible = os.environ.get("CUDA_VISIBLE_DEVICES")
count = len(visible.split(",")) if visible else 0
for spec in ("auto", "cuda"):
    choice = choose_device(spec, cuda_visible_devices=visible, lock_dir=meeting.parent / "locks", device_count=count)
    print(f"{spec} -> {choice.device}, lock {choice.lock}, SLURM_JOB_GPUS={os.environ['SLURM_JOB_GPUS']}")
    choice.release()
"""


def test_device_choice_in_gpu_jobs_takes_the_gpu_slurm_assigned(slurm_cluster: SlurmCluster, tmp_path: Path) -> None:
    """Two GPU jobs at once, submitted as Nextflow submits an embedding job under -profile gpu (`-p gpu
    --gres=gpu:1`): each sees the one GPU SLURM gave it, and `--device auto` and `--device cuda` both take
    it (cuda:0, the job's only visible device) without a lock; the two jobs got different GPUs."""
    meeting = tmp_path / "meeting"
    meeting.mkdir()
    (tmp_path / "choice.py").write_text(DEVICE_CHOICE_JOB)
    submit = ["sbatch", "--wait", "--parsable", "-p", "gpu", "--gres=gpu:1", "-c", "1", "--mem=500M"]
    jobs = [
        subprocess.Popen(
            [*submit, "-o", str(tmp_path / f"job{number}.log"), "--wrap", f"{sys.executable} choice.py {meeting}"],
            cwd=tmp_path, env={**os.environ, **slurm_cluster.env}, stdout=subprocess.PIPE, text=True,
        )
        for number in (1, 2)
    ]  # fmt: skip
    for job in jobs:
        job.wait(timeout=900)
    assert [job.returncode for job in jobs] == [0, 0], [(tmp_path / f"job{n}.log").read_text() for n in (1, 2)]
    gpus = []
    for number in (1, 2):
        log = (tmp_path / f"job{number}.log").read_text()
        gpu = re.search(r"SLURM_JOB_GPUS=(\d+)", log).group(1)
        gpus.append(gpu)
        for spec in ("auto", "cuda"):
            assert f"device {spec}: cuda:0 (the only visible GPU; CUDA_VISIBLE_DEVICES={gpu})" in log, log
            assert f"{spec} -> cuda:0, lock None, SLURM_JOB_GPUS={gpu}" in log, log
    assert sorted(gpus) == ["0", "1"]
    assert not (tmp_path / "locks").exists()  # SLURM's allocation is the lock


def hold_past_time_limit(cluster: SlurmCluster, launch_dir: Path, kind: str) -> None:
    """Make the running embedding job outlast its time limit whatever the machine's speed: freeze the
    embedder (SIGSTOP, as if its input were far too large) and cut the job's limit to about a minute from now.

    SLURM checks limits every 30 s; ending at least 45 s away, the job always gets SLURM's warning signal
    (USR2, 30 s ahead) before the limit itself.
    """
    job_id = cluster.running_job(EMBED_PROCESS[kind])
    assert signal_task_processes(launch_dir, embed_command(kind), signal.SIGSTOP), "no embedder to freeze"
    hours, minutes, seconds = (int(part) for part in cluster.job(job_id)["RunTime"].split(":"))
    ran = 3600 * hours + 60 * minutes + seconds
    cluster.command("scontrol", "update", f"JobId={job_id}", f"TimeLimit={math.ceil((ran + 45) / 60)}")


def cancel(cluster: SlurmCluster, launch_dir: Path, kind: str) -> None:
    """scancel the job whose embedder stopped itself, then let the embedder go on once the TERM that SLURM
    sent it is pending, so it meets that TERM before any further work."""
    cluster.command("scancel", cluster.running_job(EMBED_PROCESS[kind]))
    while tasks := paused(launch_dir, kind):
        if all(term_pending(task.pid) for task in tasks):
            signal_task_processes(launch_dir, embed_command(kind), signal.SIGCONT)
            return
        time.sleep(0.05)


def paused(launch_dir: Path, kind: str) -> list:
    """The embedders of `kind` that are stopped (state T), here by VIRNUCPRO_PAUSE_AT."""
    return [task for task in task_processes(launch_dir / "work", embed_command(kind)) if task.state == "T"]


def term_pending(pid: int) -> bool:
    """Whether SIGTERM waits for the stopped process `pid` (its pending-signal masks in /proc)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text().splitlines()
    except FileNotFoundError:
        return True
    masks = [int(line.split()[1], 16) for line in status if line.startswith(("SigPnd:", "ShdPnd:"))]
    return any(mask & (1 << (signal.SIGTERM - 1)) for mask in masks)


@pytest.fixture(scope="module")
def interrupted_run(
    slurm_cluster: SlurmCluster, nextflow_bin: str, nxf_home: Path, tmp_path_factory: pytest.TempPathFactory
) -> NextflowRun:
    """-profile test,slurm where SLURM stops each embedding job once it has written a checkpoint piece:
    EMBED_DNABERT by its time limit, EMBED_ESM by `scancel`.

    The first attempt of each embedding task stops itself right after its first piece
    (`VIRNUCPRO_PAUSE_AT`, exported by the task's beforeScript on attempt 1 only), so the tiny models
    cannot finish the shard before SLURM stops the job, however fast the machine; the retry runs free."""
    launch_dir = tmp_path_factory.mktemp("slurm_interrupted")
    # the retry asks for twice the first attempt's time, as conf/base.config does for every process
    limits = "process {\n    withName: 'EMBED_DNABERT' {\n        time = { 10.min * task.attempt }\n    }\n}\n"
    limits += first_attempt_pauses("EMBED_.*")
    (launch_dir / "limits.config").write_text(FAST_POLL + limits)
    args = ("-profile", "test,slurm", "-c", str(launch_dir / "limits.config"))
    process = start_pipeline(nextflow_bin, nxf_home, launch_dir, *args, env=slurm_cluster.env)
    actions = {"dnabert-s": hold_past_time_limit, "esm2": cancel}
    try:
        # until both jobs were stopped or the run ended, however long a loaded machine takes
        while actions and process.poll() is None:
            for kind in [kind for kind in actions if checkpoint_pieces(launch_dir, kind) and paused(launch_dir, kind)]:
                actions.pop(kind)(slurm_cluster, launch_dir, kind)
            time.sleep(0.05)
        console = (launch_dir / "console.log").read_text()
        assert not actions, f"no checkpoint piece of {sorted(actions)} while the run lasted:\n{console}"
        process.wait(timeout=900)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    run = NextflowRun(launch_dir, launch_dir / "results", process.returncode, (launch_dir / "console.log").read_text())
    assert run.returncode == 0, run.output
    return run


def stopped_then_resumed(run: NextflowRun, process: str, exit_code: str) -> tuple[dict[str, str], dict[str, str]]:
    """The two attempts of `process`: the first ended with `exit_code`, the retry completed in a new work
    directory and took sequences from the first one's checkpoint pieces."""
    first, retry = attempts(run, process)
    assert (first["attempt"], first["exit"], retry["attempt"], retry["status"]) == ("1", exit_code, "2", "COMPLETED")
    assert retry["workdir"] != first["workdir"]
    assert resumed_count(Path(retry["workdir"])) > 0
    return first, retry


@pytest.mark.second_tier
def test_time_limit_stops_the_job_and_the_retry_resumes_with_more_time(
    interrupted_run: NextflowRun, slurm_cluster: SlurmCluster, demo_run: NextflowRun
) -> None:
    first, retry = stopped_then_resumed(interrupted_run, "EMBED_DNABERT", EXIT_USR2)
    assert "#SBATCH -t 00:10:00" in sbatch_header(first)
    assert "#SBATCH -t 00:20:00" in sbatch_header(retry)
    # SLURM's record: the first job ended by the warning of its (cut) limit, the retry had the time it asked for
    jobs = slurm_cluster.finished_jobs()
    killed = jobs[first["native_id"]]
    assert (killed["State"], killed["ExitCode"]) == ("FAILED", f"{EXIT_USR2}:0"), killed
    assert int(killed["Timelimit"]) < 10, killed
    assert (jobs[retry["native_id"]]["State"], jobs[retry["native_id"]]["Timelimit"]) == ("COMPLETED", "20")
    assert_same_outputs(interrupted_run, demo_run)


@pytest.mark.second_tier
def test_scancel_stops_the_job_and_the_retry_resumes(
    interrupted_run: NextflowRun, slurm_cluster: SlurmCluster, demo_run: NextflowRun
) -> None:
    first, retry = stopped_then_resumed(interrupted_run, "EMBED_ESM", EXIT_TERM)
    jobs = slurm_cluster.finished_jobs()
    assert (jobs[first["native_id"]]["State"], jobs[retry["native_id"]]["State"]) == ("CANCELLED", "COMPLETED")
    assert_same_outputs(interrupted_run, demo_run)


def job_span(job: dict[str, str]) -> tuple[datetime, datetime]:
    return datetime.fromisoformat(job["Start"]), datetime.fromisoformat(job["End"])


def most_at_once(spans: list[tuple[datetime, datetime]]) -> int:
    """The largest number of jobs that ran at the same time (SLURM records times to the second, so jobs that
    only touch at a second boundary do not count as overlapping)."""
    events = sorted([(start, 1) for start, _ in spans] + [(end, -1) for _, end in spans])
    running = peak = 0
    for _, change in events:
        running += change
        peak = max(peak, running)
    return peak


@pytest.mark.second_tier
def test_two_samples_run_their_shards_as_concurrent_jobs(
    slurm_cluster: SlurmCluster, nextflow_bin: str, nxf_home: Path, tmp_path: Path
) -> None:
    """Two samples of two shards each under the slurm profile's queue (executor.queueSize 50): SLURM runs
    several jobs at once, and each sample's results equal the local executor's."""
    expected = split_demo_reads(tmp_path)
    (tmp_path / "samples.csv").write_text(f"sample,fasta\nalpha,{tmp_path}/alpha.fa\nbeta,{tmp_path}/beta.fa\n")
    # one CPU per task, so that a two-CPU node has room for two jobs at once
    (tmp_path / "one_cpu.config").write_text("process.resourceLimits = [cpus: 1, memory: 6.GB, time: 1.h]\n")
    (tmp_path / "poll.config").write_text(FAST_POLL)
    # ceil(25 / 13) = 2 shards for alpha, ceil(20 / 13) = 2 for beta
    args = ("--input", str(tmp_path / "samples.csv"), "--shard_size", "13", "-c", str(tmp_path / "one_cpu.config"))
    local = run_pipeline(nextflow_bin, nxf_home, tmp_path / "local", "-profile", "test", *args)
    assert local.returncode == 0, local.output
    slurm_args = ("-profile", "test,slurm", *args, "-c", str(tmp_path / "poll.config"))
    slurm = run_pipeline(nextflow_bin, nxf_home, tmp_path / "slurm", *slurm_args, env=slurm_cluster.env)
    assert slurm.returncode == 0, slurm.output

    rows = slurm.trace()
    jobs = slurm_cluster.finished_jobs()
    assert all(jobs[row["native_id"]]["State"] == "COMPLETED" for row in rows)
    # each shard's two embedding jobs are queued together, and the node has two CPUs for them
    embed_jobs = [jobs[row["native_id"]] for row in rows if process_name(row) in EMBED_PROCESS.values()]
    assert len(embed_jobs) == 2 * 4
    assert most_at_once([job_span(job) for job in embed_jobs]) >= 2
    for sample, read_ids in expected.items():
        assert_same_outputs(slurm, local, sample)
        reads = (slurm.outdir / sample / "reads.tsv").read_text().splitlines()[1:]
        assert [row.split("\t")[0] for row in reads] == read_ids
