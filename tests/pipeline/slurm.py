"""A one-node SLURM cluster for the pipeline tests (tools/slurm/local-cluster.sh) and what SLURM recorded."""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from tests.pipeline.helpers import REPO

CLUSTER_SCRIPT = REPO / "tools" / "slurm" / "local-cluster.sh"
# the script's exit code for "cannot run on this machine" (not root, packages missing)
CANNOT_RUN = 3
DAEMONS = ("munged", "slurmctld", "slurmd")
# what `sacct --completion` reports per job (the cluster has no slurmdbd: finished jobs go to a text file)
SACCT_FIELDS = ("JobID", "JobName", "State", "ExitCode", "Partition", "Start", "End", "Timelimit", "NCPUS", "WorkDir")


class ClusterUnavailable(Exception):
    """The cluster cannot run on this machine; the message is the script's one-line reason."""


@dataclass(frozen=True)
class SlurmCluster:
    """A running cluster: its directory (config, state, logs, PID files) and the client commands."""

    directory: Path

    @property
    def env(self) -> dict[str, str]:
        """What a client (sbatch, squeue, sacct, Nextflow) needs to reach this cluster."""
        return {"SLURM_CONF": str(self.directory / "etc" / "slurm.conf")}

    def command(self, *args: str) -> str:
        """Run a SLURM client command against this cluster; its stdout."""
        result = subprocess.run(
            args, env={**os.environ, **self.env}, capture_output=True, text=True, timeout=60, check=False
        )
        assert result.returncode == 0, f"{' '.join(args)} exited {result.returncode}: {result.stderr}"
        return result.stdout

    def finished_jobs(self) -> dict[str, dict[str, str]]:
        """Every finished job, by job ID, as `sacct --completion` reports it."""
        output = self.command(
            "sacct", "--completion", "--parsable2", "--noheader", "--starttime=2000-01-01",
            f"--format={','.join(SACCT_FIELDS)}",
        )  # fmt: skip
        rows = [dict(zip(SACCT_FIELDS, line.split("|"), strict=True)) for line in output.splitlines()]
        return {row["JobID"]: row for row in rows}

    def job(self, job_id: str) -> dict[str, str]:
        """`scontrol show job` of a running or recently finished job (the cluster keeps them for an hour),
        as key -> value."""
        fields = self.command("scontrol", "--oneliner", "show", "job", job_id).split()
        return dict(field.split("=", 1) for field in fields if "=" in field)

    def running_job(self, name_part: str) -> str:
        """The ID of the one running job whose name contains `name_part`."""
        lines = self.command("squeue", "--noheader", "--states=RUNNING", "--format=%i|%j").splitlines()
        found = [line.split("|")[0] for line in lines if name_part in line.split("|", 1)[1]]
        assert len(found) == 1, (name_part, lines)
        return found[0]

    def daemon_pids(self) -> dict[str, int]:
        """PIDs of the cluster's daemons, from the PID files the start script wrote."""
        run = self.directory / "run"
        return {name: int((run / f"{name}.pid").read_text()) for name in DAEMONS if (run / f"{name}.pid").exists()}


def start_cluster(directory: Path) -> SlurmCluster:
    """Start a one-node cluster in `directory`; returns once its node is idle.

    Raises:
        ClusterUnavailable: the script says this machine cannot run it.
        AssertionError: the cluster did not come up (the script's output says why).
    """
    result = subprocess.run(
        ["bash", str(CLUSTER_SCRIPT), "start", str(directory)], capture_output=True, text=True, check=False
    )
    if result.returncode == CANNOT_RUN:
        raise ClusterUnavailable(result.stderr.strip())
    assert result.returncode == 0, f"local-cluster.sh start failed:\n{result.stdout}{result.stderr}"
    return SlurmCluster(directory)


def stop_cluster(cluster: SlurmCluster) -> None:
    """Cancel every job and stop the daemons by their PIDs."""
    result = subprocess.run(
        ["bash", str(CLUSTER_SCRIPT), "stop", str(cluster.directory)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, f"local-cluster.sh stop failed:\n{result.stdout}{result.stderr}"


def running(pid: int) -> bool:
    """The process exists and is not a zombie (exited, not yet reaped by its parent)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return not stat.rpartition(") ")[2].startswith("Z")


def megabytes(text: str) -> int:
    """A memory size as Nextflow ("4 GB") or SLURM ("4G", "4096M") writes it, in MiB."""
    match = re.fullmatch(r"(\d+(?:\.\d+)?) ?([KMGT])B?", text.strip())
    assert match, text
    return round(float(match.group(1)) * 1024 ** "KMGT".index(match.group(2)) / 1024)


def minutes(text: str) -> int:
    """A duration as Nextflow ("4h", "1d 2h", "30m") or SLURM ("04:00:00", "2-00:00:00") writes it."""
    if ":" in text:
        days, _, clock = text.rpartition("-")
        hours, mins, _secs = (int(part) for part in clock.split(":"))
        return (int(days or 0) * 24 + hours) * 60 + mins
    unit_minutes = {"d": 1440, "h": 60, "m": 1}
    parts = re.findall(r"(\d+)(d|h|m)\b", text)
    assert parts, text
    return sum(int(value) * unit_minutes[unit] for value, unit in parts)
