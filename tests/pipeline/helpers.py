"""Drive the real `nextflow` on the pipeline: build the command, run it, read its trace and outputs."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DEMO_READS = REPO / "assets" / "demo" / "reads.fa"
SETUP = REPO / "tools" / "nextflow" / "setup.sh"
# what the report writes per sample
REPORT_FILES = (
    "prediction_results.txt",
    "prediction_results_highestscore.csv",
    "reads.tsv",
    "summary.json",
    "report.html",
)


@dataclass(frozen=True)
class NextflowRun:
    """One finished `nextflow run`: where it ran, its exit code and its console output."""

    launch_dir: Path
    outdir: Path
    returncode: int
    output: str

    def trace(self) -> list[dict[str, str]]:
        """Rows of this run's newest trace file (Nextflow writes one per run into pipeline_info/)."""
        traces = sorted((self.outdir / "pipeline_info").glob("execution_trace_*.txt"), key=os.path.getmtime)
        assert traces, f"no trace file under {self.outdir / 'pipeline_info'}\n{self.output}"
        with open(traces[-1], newline="") as handle:
            return list(csv.DictReader(handle, delimiter="\t"))


def pipeline_env(nxf_home: Path) -> dict[str, str]:
    """Environment of a run: this interpreter's bin/ first on PATH, so tasks' `python3` has the package."""
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env.update(NXF_HOME=str(nxf_home), NXF_OFFLINE="true", NXF_ANSI_LOG="false", NXF_OPTS="-Xms64m -Xmx1g")
    env.pop("NXF_SYNTAX_PARSER", None)
    return env


def nextflow_command(nextflow_bin: str, launch_dir: Path, *args: str) -> list[str]:
    """`nextflow run <repo> ... -ansi-log false`, outputs under the launch directory."""
    return [nextflow_bin, "run", str(REPO), "-ansi-log", "false", "--outdir", str(launch_dir / "results"), *args]


def run_pipeline(nextflow_bin: str, nxf_home: Path, launch_dir: Path, *args: str, timeout: float = 600) -> NextflowRun:
    """Run the pipeline to the end in `launch_dir` (its work/, checkpoints/ and results/ go there)."""
    launch_dir.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        nextflow_command(nextflow_bin, launch_dir, *args),
        cwd=launch_dir,
        env=pipeline_env(nxf_home),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return NextflowRun(launch_dir, launch_dir / "results", result.returncode, result.stdout + result.stderr)


def fasta_ids(path: Path) -> list[str]:
    """Record IDs of a FASTA file, read independently of the package (first word of each header)."""
    return [line[1:].split()[0] for line in path.read_text().splitlines() if line.startswith(">")]


def statuses(run: NextflowRun) -> dict[str, list[str]]:
    """Process name (without the workflow prefix) -> the statuses of its tasks, from the trace."""
    found: dict[str, list[str]] = {}
    for row in run.trace():
        found.setdefault(row["process"].split(":")[-1], []).append(row["status"])
    return found
