"""tools/slurm/local-cluster.sh says in one line why it cannot run here (exit 3) and what a usage error is (exit 2).

The cluster itself is started and stopped by the SLURM pipeline tests (tests/pipeline/test_slurm.py).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[3] / "tools" / "slurm" / "local-cluster.sh"
BASH = shutil.which("bash") or "/bin/bash"


def run_script(*args: str, prefix: tuple[str, ...] = (), env: dict[str, str] | None = None):
    return subprocess.run(
        [*prefix, BASH, str(SCRIPT), *args], capture_output=True, text=True, env=env, timeout=60, check=False
    )


@pytest.mark.parametrize("args", [(), ("start",), ("restart", "somewhere"), ("start", "a", "b")])
def test_usage_errors_exit_2(args):
    result = run_script(*args)
    assert result.returncode == 2
    assert result.stderr.startswith("usage: ") and result.stderr.count("\n") == 1


def test_without_root_it_refuses_in_one_line(tmp_path):
    # as root, drop to `nobody` for the run; otherwise this process is already not root
    prefix = ("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups") if os.geteuid() == 0 else ()
    if prefix and shutil.which("setpriv") is None:
        pytest.skip("setpriv (util-linux) is needed to run the script as another user")
    result = run_script("start", str(tmp_path / "cluster"), prefix=prefix)
    assert (result.returncode, result.stderr) == (3, "local-cluster: needs root (slurmd starts jobs as their owner)\n")
    assert not (tmp_path / "cluster").exists()


def test_without_the_packages_it_names_every_missing_command(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("the packages are checked after root, which this run is not")
    # a PATH that holds only the two commands the script needs before its checks
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("id", "realpath"):
        (bin_dir / tool).symlink_to(shutil.which(tool))
    result = run_script("start", str(tmp_path / "cluster"), env={"PATH": str(bin_dir)})
    assert result.returncode == 3
    assert result.stderr == (
        "local-cluster: missing munged mungekey slurmctld slurmd sinfo sbatch "
        "(Debian: apt-get install slurm-wlm munge)\n"
    )
    assert not (tmp_path / "cluster").exists()


def test_stop_without_a_cluster_fails_and_names_the_directory(tmp_path):
    result = run_script("stop", str(tmp_path))
    assert (result.returncode, result.stderr) == (1, f"local-cluster: no cluster in {tmp_path}\n")
