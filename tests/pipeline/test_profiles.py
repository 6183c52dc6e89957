"""Profiles combine without undoing the GPU label; resource limits let `-profile gpu` start on any machine.

`nextflow config` shows the configuration each profile combination gives; closures appear as written, so
the GPU label must read the same under every combination as under none.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from tests.pipeline.helpers import (
    DEMO_READS,
    REPO,
    TEST_PROFILE_TASKS,
    NextflowRun,
    pipeline_env,
    run_pipeline,
    statuses,
)

pytestmark = pytest.mark.pipeline

COMBINATIONS = ("slurm,gpu", "test,gpu", "test,slurm,gpu", "docker,gpu", "singularity,gpu")
GPU_LABEL_SETTINGS = (
    "cpus",
    "memory",
    "time",
    "accelerator",
    "clusterOptions",
    "containerOptions",
    "maxForks",
)


def config_files() -> list[Path]:
    return [REPO / "nextflow.config", *sorted((REPO / "conf").glob("*.config"))]


def test_only_the_base_config_declares_labels() -> None:
    """A profile's `withLabel:` block replaces the base one whole (cpus, memory, accelerator, container GPU
    flag all lost), so labels are declared in conf/base.config only; profiles set params instead."""
    for path in config_files():
        if path.name != "base.config":
            assert "withLabel" not in path.read_text(), path


def block(text: str, opening: str) -> str:
    """The text of the brace block that starts with the line `opening {` (braces balanced)."""
    start = text.index(opening + " {")
    depth = 0
    for position in range(start, len(text)):
        depth += {"{": 1, "}": -1}.get(text[position], 0)
        if depth == 0 and text[position] == "}":
            return text[start : position + 1]
    raise AssertionError(f"unbalanced block {opening}")


@pytest.fixture(scope="module")
def configs(nextflow_bin: str, nxf_home: Path) -> dict[str, str]:
    """`nextflow config` of the pipeline under no profile and under each combination."""
    found = {}
    for profile in ("", *COMBINATIONS):
        command = [nextflow_bin, "config", *(["-profile", profile] if profile else []), str(REPO)]
        result = subprocess.run(command, env=pipeline_env(nxf_home), capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stdout + result.stderr
        found[profile] = result.stdout
    return found


@pytest.mark.parametrize("profile", COMBINATIONS)
def test_profiles_keep_the_gpu_label_and_the_limits(configs: dict[str, str], profile: str) -> None:
    gpu_label = block(configs[profile], "withLabel:process_gpu")
    assert gpu_label == block(configs[""], "withLabel:process_gpu")
    for setting in GPU_LABEL_SETTINGS:
        assert re.search(rf"^\s+{setting} = ", gpu_label, flags=re.MULTILINE), setting
    assert "accelerator = { params.use_gpu ? 1 : null }" in gpu_label
    assert "'--gpus all' : '--nv'" in gpu_label  # the container engine's GPU flag
    assert "params.gpu_cluster_options" in gpu_label
    assert block(configs[profile], "resourceLimits =") == block(configs[""], "resourceLimits =")
    # the queue rule (GPU tasks to --gpu_queue, the rest to --cpu_queue) is not replaced either
    queue_rule = "queue = { task.accelerator && params.gpu_queue ? params.gpu_queue : params.cpu_queue }"
    assert queue_rule in configs[profile] and queue_rule in configs[""]
    params = block(configs[profile], "params")
    assert "use_gpu = true" in params
    expected_limits = {
        "slurm,gpu": ("max_cpus = 32", "max_memory = '256.GB'", "max_time = '48.h'"),
        "test,gpu": ("max_cpus = 1", "max_memory = '3.GB'", "max_time = '1.h'"),
        # the smoke test for a cluster: the test profile's small jobs, not the cluster's largest
        "test,slurm,gpu": ("max_cpus = 1", "max_memory = '3.GB'", "max_time = '1.h'"),
    }.get(profile, ("max_cpus = null", "max_memory = null", "max_time = '240.h'"))
    for limit in expected_limits:
        assert limit in params, (limit, params)


def test_gpu_profile_starts_on_a_machine_smaller_than_the_gpu_label(
    nextflow_bin: str, nxf_home: Path, tmp_path: Path
) -> None:
    """The GPU label asks for 4 CPUs and 32 GB; without limits the local executor refused to start
    ("Process requirement exceeds available CPUs"). Capped by the machine's own size, the run starts."""
    run = run_pipeline(
        nextflow_bin,
        nxf_home,
        tmp_path,
        *("-stub", "-profile", "gpu", "--input", str(DEMO_READS), "--make_test_models", "true"),
    )
    assert run.returncode == 0, run.output
    assert "exceeds available" not in run.output
    cpus = min(4, len(os.sched_getaffinity(0)))
    embed = [row for row in run.trace() if "EMBED" in row["process"]]
    assert [row["cpus"] for row in embed] == [str(cpus), str(cpus)]
    assert statuses(run)["REPORT"] == ["COMPLETED"]


FAKE_DOCKER = """#!/bin/bash
# Stands in for docker: records each call, then runs the task's script on the host.
args="$*"
printf '%s\\n' "${args//$'\\n'/ }" >> "$FAKE_DOCKER_LOG"
[ "$1" = run ] || exit 0
while [ $# -gt 0 ] && [ "$1" != /bin/bash ]; do
    if [ "$1" = -w ]; then cd "$2"; fi
    shift
done
exec "$@"
"""


def test_docker_gpu_tasks_get_the_gpu_flag_and_their_mounts(nextflow_bin: str, nxf_home: Path, tmp_path: Path) -> None:
    """`-profile docker,gpu` with a stand-in `docker` that records its command lines: the embedding tasks,
    and only they, get `--gpus all`, the GPU lock directory and a --checkpoint_dir outside the work
    directory mounted at the same path; the lock directory is made up front (not by docker, as root)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "docker").write_text(FAKE_DOCKER)
    (bin_dir / "docker").chmod(0o755)
    env = pipeline_env(nxf_home)
    env.update(PATH=f"{bin_dir}:{env['PATH']}", FAKE_DOCKER_LOG=str(tmp_path / "docker.log"))
    locks, checkpoints = tmp_path / "locks", tmp_path / "shared" / "checkpoints"
    command = [nextflow_bin, "run", str(REPO), "-ansi-log", "false", "-stub", "-profile", "test,docker,gpu"]
    command += ["--outdir", "results", "--gpu_lock_dir", str(locks), "--checkpoint_dir", str(checkpoints)]
    result = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    runs = [line for line in (tmp_path / "docker.log").read_text().splitlines() if line.startswith("run ")]
    run = NextflowRun(tmp_path, tmp_path / "results", result.returncode, result.stdout)
    process_of = {row["workdir"]: row["process"].split(":")[-1] for row in run.trace()}
    tasks = {process_of[re.search(r" -w (\S+) ", line).group(1)]: line for line in runs}
    assert sorted(tasks) == sorted(TEST_PROFILE_TASKS)
    for process, line in tasks.items():
        gets_gpu = process.startswith("EMBED_")
        assert ("--gpus all" in line) == gets_gpu, line
        assert (f"--volume {locks}:{locks}" in line) == gets_gpu, line
        assert (f"--volume {checkpoints}:{checkpoints}" in line) == gets_gpu, line
        assert " ghcr.io/virnucpro/virnucpro:0.1.0 " in line, line
    assert locks.is_dir() and checkpoints.is_dir()
