"""Drive the real `nextflow` on the pipeline: build the command, run it, read its trace and outputs."""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from tests.compare import assert_same_file

REPO = Path(__file__).resolve().parents[2]
DEMO_READS = REPO / "assets" / "demo" / "reads.fa"
SETUP = REPO / "tools" / "nextflow" / "setup.sh"
# the report files whose bytes depend only on the reads and settings (summary.json and report.html also
# record when and where a run was made: compare them with `comparable_summary`)
RESULT_FILES = (
    "prediction_results.txt",
    "prediction_results_highestscore.csv",
    "reads.tsv",
    "contigs.tsv",
    "regions.bed",
)
# what the report writes per sample
REPORT_FILES = (*RESULT_FILES, "summary.json", "report.html")


def comparable_summary(path: Path) -> dict:
    """A summary.json without what differs between two runs of the same work made at other times, in other
    places or under other profiles: the creation time, the run record (profile, versions) and the paths the
    models were given as (the test models live in each run's work directory)."""
    summary = json.loads(path.read_text())
    for field in ("created", "run", "provenance"):
        summary.pop(field)
    for entries in summary["models"].values():
        for entry in entries:
            entry.pop("model_id", None)
            entry.pop("path", None)
    return summary


# MultiQC's data tables of the virnucpro sections (multiqc/multiqc_data/<name>.txt): one row per sample
MULTIQC_TABLES = (
    "multiqc_virnucpro_reads_plot",
    "multiqc_virnucpro_scores_plot",
    "multiqc_virnucpro_contigs_table",
    "multiqc_general_stats",
)


def multiqc_tables(outdir: Path) -> dict[str, dict[str, dict[str, str]]]:
    """The run's MultiQC data tables: table name -> sample -> column -> text (general statistics columns
    without the namespace MultiQC puts before them, `custom_content_virnucpro-reads` -> `reads`)."""
    tables = {}
    for name in MULTIQC_TABLES:
        with open(outdir / "multiqc" / "multiqc_data" / f"{name}.txt", newline="") as handle:
            rows = list(csv.DictReader(handle, delimiter="\t"))
        tables[name] = {row.pop("Sample"): {k.rsplit("-", 1)[-1]: v for k, v in row.items()} for row in rows}
    return tables


RESUMED = re.compile(r"resumed (\d+) of (\d+) sequences")
# <checkpoint root>/<sample>.<shard index>.<shard fingerprint>/<model kind>/<run fingerprint>/piece-*.safetensors
EMBED_PROCESS = {"dnabert-s": "EMBED_DNABERT", "esm2": "EMBED_ESM"}

# every process of a test-profile run, with its number of tasks (one sample, one shard of the 45 reads)
TEST_PROFILE_TASKS = {
    "CHECK_INPUT": 1,
    "MAKE_TEST_MODELS": 1,
    "SHARD": 1,
    "TRANSLATE": 1,
    "EMBED_DNABERT": 1,
    "EMBED_ESM": 1,
    "CLASSIFY": 1,
    "REPORT": 1,
    "MULTIQC": 1,
}


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


def pipeline_env(nxf_home: Path, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """Environment of a run: this interpreter's bin/ first on PATH, so tasks' `python3` has the package.

    `extra` adds variables (for example SLURM_CONF, which sbatch and the other SLURM clients read).
    """
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env.update(NXF_HOME=str(nxf_home), NXF_OFFLINE="true", NXF_ANSI_LOG="false", NXF_OPTS="-Xms64m -Xmx1g")
    env.pop("NXF_SYNTAX_PARSER", None)
    env.update(extra or {})
    return env


def nextflow_command(nextflow_bin: str, launch_dir: Path, *args: str) -> list[str]:
    """`nextflow run <repo> ... -ansi-log false`, outputs under the launch directory."""
    return [nextflow_bin, "run", str(REPO), "-ansi-log", "false", "--outdir", str(launch_dir / "results"), *args]


def run_pipeline(
    nextflow_bin: str,
    nxf_home: Path,
    launch_dir: Path,
    *args: str,
    timeout: float = 600,
    env: Mapping[str, str] | None = None,
) -> NextflowRun:
    """Run the pipeline to the end in `launch_dir` (its work/, checkpoints/ and results/ go there)."""
    launch_dir.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        nextflow_command(nextflow_bin, launch_dir, *args),
        cwd=launch_dir,
        env=pipeline_env(nxf_home, env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return NextflowRun(launch_dir, launch_dir / "results", result.returncode, result.stdout + result.stderr)


def fasta_ids(path: Path) -> list[str]:
    """Record IDs of a FASTA file, read independently of the package (first word of each header)."""
    return [line[1:].split()[0] for line in path.read_text().splitlines() if line.startswith(">")]


def split_demo_reads(directory: Path) -> dict[str, list[str]]:
    """Write the demo reads as two FASTA files (first 25 reads, the other 20); sample -> its read IDs."""
    records = DEMO_READS.read_text().split(">")[1:]
    parts = {"alpha": records[:25], "beta": records[25:]}
    for sample, part in parts.items():
        (directory / f"{sample}.fa").write_text("".join(f">{record}" for record in part))
    return {sample: fasta_ids(directory / f"{sample}.fa") for sample in parts}


def statuses(run: NextflowRun) -> dict[str, list[str]]:
    """Process name (without the workflow prefix) -> the statuses of its tasks, from the trace."""
    found: dict[str, list[str]] = {}
    for row in run.trace():
        found.setdefault(row["process"].split(":")[-1], []).append(row["status"])
    return found


def start_pipeline(
    nextflow_bin: str, nxf_home: Path, launch_dir: Path, *args: str, env: Mapping[str, str] | None = None
) -> subprocess.Popen:
    """Start the pipeline in `launch_dir` in its own process group (so a test can kill it all) and return.

    The console output goes to `launch_dir/console.log`.
    """
    launch_dir.mkdir(parents=True, exist_ok=True)
    with open(launch_dir / "console.log", "w") as console:
        return subprocess.Popen(
            nextflow_command(nextflow_bin, launch_dir, *args),
            cwd=launch_dir,
            env=pipeline_env(nxf_home, env),
            stdout=console,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def checkpoint_pieces(launch_dir: Path, kind: str = "*") -> list[Path]:
    """Checkpoint pieces written so far under the run's checkpoint root (`virnucpro-checkpoints` in its work
    directory, the default), for one model kind or all."""
    return sorted((launch_dir / "work" / "virnucpro-checkpoints").glob(f"*/{kind}/*/piece-*.safetensors"))


def resumed_count(task_dir: Path) -> int:
    """How many sequences the embedding task in `task_dir` says it took from checkpoints."""
    log = (task_dir / ".command.err").read_text()
    match = RESUMED.search(log)
    assert match, log
    return int(match.group(1))


def attempts_table(run: NextflowRun) -> str:
    """Each task of a run's trace with its attempt, status and exit code: which attempts wrote the outputs."""
    rows = [f"  {row['process']} ({row.get('tag', '')}) attempt {row['attempt']}: {row['status']}, exit {row['exit']}"
            for row in run.trace()]  # fmt: skip
    return f"trace of {run.launch_dir}:\n" + "\n".join(rows)


def assert_same_outputs(run: NextflowRun, reference: NextflowRun, sample: str = "demo") -> None:
    """Every result file of `sample` has the same bytes in both runs, and the summaries agree on all but
    when and where each run was made (`comparable_summary`); otherwise the failure shows the first differing
    line and both traces' attempts."""
    for name in RESULT_FILES:
        ours, theirs = run.outdir / sample / name, reference.outdir / sample / name
        if ours.read_bytes() != theirs.read_bytes():
            assert_same_file(ours, theirs, f"{attempts_table(run)}\n{attempts_table(reference)}")
    summaries = [comparable_summary(r.outdir / sample / "summary.json") for r in (run, reference)]
    assert summaries[0] == summaries[1], f"{sample}\n{attempts_table(run)}\n{attempts_table(reference)}"


@dataclass(frozen=True)
class TaskProcess:
    """A `virnucpro` process of a pipeline task: its ID, working directory, state (`T`: stopped) and command
    line."""

    pid: int
    cwd: Path
    state: str
    cmdline: str


def task_processes(under: Path, matches: Callable[[str], bool]) -> list[TaskProcess]:
    """The `virnucpro` processes whose working directory is under `under` and whose command line matches."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            cwd = Path(os.readlink(proc / "cwd"))
            state = (proc / "stat").read_text().rpartition(")")[2].split()[0]
        except (OSError, IndexError):
            continue  # the process ended while we looked
        if cwd.is_relative_to(under) and "virnucpro" in cmdline and matches(cmdline):
            found.append(TaskProcess(int(proc.name), cwd, state, cmdline))
    return found


def signal_task_processes(
    launch_dir: Path, matches: Callable[[str], bool], signum: int, *, under: Path | None = None
) -> list[Path]:
    """Send `signum` to this run's `virnucpro` task processes (working directory under its work/, or under
    `under`, such as a scratch directory) that match on their command line; returns their working
    directories (empty when there was none)."""
    sent = []
    for task in task_processes(under or launch_dir / "work", matches):
        os.kill(task.pid, signum)
        sent.append(task.cwd)
    return sent


def wait_for_stopped_tasks(
    pipeline: subprocess.Popen,
    launch_dir: Path,
    matches: Callable[[str], bool],
    count: int,
    *,
    under: Path | None = None,
) -> list[TaskProcess]:
    """Wait until `count` matching task processes of the run (working directory under its work/, or under
    `under`) have stopped themselves (`VIRNUCPRO_PAUSE_AT`).

    Waits for that event, not for a length of time: the loop ends when the tasks are stopped, or fails
    the test at once when the run ends first, with its console output. The deadline only bounds a hang.
    """
    deadline = time.monotonic() + 900
    while True:
        stopped = [task for task in task_processes(under or launch_dir / "work", matches) if task.state == "T"]
        if len(stopped) >= count:
            return stopped
        console = launch_dir / "console.log"
        if pipeline.poll() is not None:
            raise AssertionError(f"the run ended before {count} tasks stopped:\n{console.read_text()}")
        if time.monotonic() > deadline:
            raise AssertionError(f"{len(stopped)} of {count} tasks stopped in 15 minutes:\n{console.read_text()}")
        time.sleep(0.2)


def embed_command(kind: str) -> Callable[[str], bool]:
    """Matches the command line of a `virnucpro embed` of one model kind."""
    return lambda cmdline: " embed " in cmdline and kind in cmdline


# Points where an embedder stops itself once its first checkpoint piece is on disk (`VIRNUCPRO_PAUSE_AT`), so a
# test acts at that exact point however fast or loaded the machine: the tiny models cannot finish first.
PAUSE_AT_FIRST_PIECE = "checkpoint:dnabert-s:piece-1,checkpoint:esm2:piece-1"


def first_attempt_pauses(processes: str, points: str = PAUSE_AT_FIRST_PIECE) -> str:
    """Config text: the tasks of `processes` (a `withName` pattern) stop themselves at `points` on their first
    attempt only (a beforeScript exports `VIRNUCPRO_PAUSE_AT`), so their retries run free."""
    return (
        f"process {{\n    withName: '{processes}' {{\n        beforeScript = {{ task.attempt == 1 ? "
        f"'export VIRNUCPRO_PAUSE_AT={points}' : 'true' }}\n    }}\n}}\n"
    )
