"""End to end: reads/s of `virnucpro predict` and of the pipeline's test profile as the input grows.

Command that produced the figures in BENCHMARKS.md (from the repository root):

    .venv/bin/python benchmarks/bench_e2e.py --sizes 1000,3000 --json results/bench/bench_e2e.json

CI runs `--quick` (100 reads, no pipeline). Each size runs `virnucpro predict` (tiny seeded models from
`virnucpro make-test-models`, --device cpu, 300 bp coding reads from `bench_translate.synthetic_reads`) in
a child process; its wall time, CPU time and peak resident memory come from `os.wait4`. CPU seconds are
reported beside wall seconds because on a shared machine they depend far less on other people's load.
Linear time shows as a flat `cpu_ms_per_read` column; flat memory as a flat `peak_rss_mb` column.
`--pipeline-sizes` runs `nextflow run . -profile test --input READS` through `tools/nextflow/setup.sh`
(`--shard_size` as given), timing the whole pipeline including Nextflow's own start-up.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import common
from benchmarks.bench_translate import synthetic_reads

READ_LENGTH = 300


def run_child(command: Sequence[str], cwd: Path | None = None, env: dict[str, str] | None = None) -> dict[str, float]:
    """Run `command`; wall seconds, CPU seconds (user + system) and the largest process's peak RSS in MB.

    Raises:
        SystemExit: the command failed (its stderr tail is shown).
    """
    started = time.perf_counter()
    with tempfile.TemporaryFile() as errors:  # the console output, shown when the command fails
        child = subprocess.Popen(command, cwd=cwd, env=env, stdout=errors, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - started
        if os.waitstatus_to_exitcode(status) != 0:
            errors.seek(0)
            tail = errors.read().decode(errors="replace")[-3000:]
            raise SystemExit(f"failed (exit {os.waitstatus_to_exitcode(status)}): {' '.join(command)}\n{tail}")
    return {
        "wall_s": round(wall, 2),
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 2),
        "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),  # KiB on Linux
    }


def virnucpro(*args: str) -> list[str]:
    return [sys.executable, "-m", "virnucpro", "--quiet", *args]


def measure_predict(workdir: Path, models: Path, count: int) -> dict[str, object]:
    """One `virnucpro predict` run on `count` synthetic reads; figures per read."""
    reads = workdir / f"reads_{count}.fa"
    synthetic_reads(reads, count, READ_LENGTH)
    outdir = workdir / f"predict_{count}"
    command = virnucpro(
        "predict",
        str(reads),
        "--chunk-length",
        str(READ_LENGTH),
        "--dnabert",
        str(models / "dnabert-s"),
        "--esm",
        str(models / "esm2_t2_test.pt"),
        "--classifier",
        str(models / "classifier.pth"),
        "--outdir",
        str(outdir),
        "--device",
        "cpu",
    )
    figures = run_child(command)
    counts = json.loads((outdir / "summary.json").read_text())["counts"]
    shutil.rmtree(outdir)
    reads.unlink()
    return {"driver": "virnucpro predict", "reads": count, "frames": counts["frames"], **_per_read(figures, count)}


def measure_pipeline(workdir: Path, count: int, shard_size: int) -> dict[str, object]:
    """One `nextflow run . -profile test` on `count` synthetic reads (tiny models made by the pipeline)."""
    nextflow = subprocess.run(
        ["bash", str(common.REPO_ROOT / "tools/nextflow/setup.sh")], capture_output=True, text=True, check=True
    ).stdout.strip()
    reads = workdir / f"pipeline_reads_{count}.fa"
    synthetic_reads(reads, count, READ_LENGTH)
    run_dir = workdir / f"pipeline_{count}"
    run_dir.mkdir()
    command = [nextflow, "run", str(common.REPO_ROOT), "-profile", "test", "-ansi-log", "false"]
    command += ["--input", str(reads), "--outdir", str(run_dir / "results"), "--shard_size", str(shard_size)]
    command += ["--checkpoint_dir", str(run_dir / "checkpoints"), "-work-dir", str(run_dir / "work")]
    # This interpreter's bin/ first on PATH, so the tasks' `python3` is the one with the package's needs.
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    figures = run_child(command, cwd=run_dir, env=env)
    shutil.rmtree(run_dir)
    reads.unlink()
    return {"driver": f"nextflow -profile test (shard_size {shard_size})", "reads": count, **_per_read(figures, count)}


def _per_read(figures: dict[str, float], count: int) -> dict[str, object]:
    return {
        **figures,
        "reads_per_s": round(count / figures["wall_s"], 1),
        "wall_ms_per_read": round(1000 * figures["wall_s"] / count, 2),
        "cpu_ms_per_read": round(1000 * figures["cpu_s"] / count, 2),
    }


def scaling(rows: Sequence[dict[str, object]]) -> dict[str, object]:
    """CPU time per read and peak RSS of the largest size relative to the smallest (1.0 = linear / flat)."""
    if len(rows) < 2:
        return {}
    first, last = rows[0], rows[-1]
    return {
        "size_ratio": round(last["reads"] / first["reads"], 1),
        "cpu_per_read_ratio": round(last["cpu_ms_per_read"] / first["cpu_ms_per_read"], 3),
        "peak_rss_ratio": round(last["peak_rss_mb"] / first["peak_rss_mb"], 3),
    }


COLUMNS = ["driver", "reads", "frames", "wall_s", "cpu_s", "reads_per_s", "cpu_ms_per_read", "peak_rss_mb"]


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sizes = lambda text: [int(x) for x in text.split(",") if x]  # noqa: E731
    parser.add_argument("--sizes", type=sizes, default=[1000, 10000], help="reads per predict run (comma list)")
    parser.add_argument("--pipeline-sizes", type=sizes, default=[], help="reads per pipeline run (default none)")
    parser.add_argument("--shard-size", type=int, default=500, help="pipeline --shard_size")
    parser.add_argument("--quick", action="store_true", help="100 reads, no pipeline: for CI, no speed claims")
    parser.add_argument("--json", type=Path, help="write results here")
    parser.add_argument("--workdir", type=Path, help="scratch directory (default: a temporary one)")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> dict[str, object]:
    args = parse_args(argv)
    sizes = [100] if args.quick else args.sizes
    pipeline_sizes = [] if args.quick else args.pipeline_sizes
    with tempfile.TemporaryDirectory(dir=args.workdir) as scratch:
        workdir = Path(scratch)
        run_child(virnucpro("make-test-models", str(workdir / "models")))
        predict_rows = []
        for count in sizes:
            predict_rows.append(measure_predict(workdir, workdir / "models", count))
            print(json.dumps(predict_rows[-1]), flush=True)
        pipeline_rows = []
        for count in pipeline_sizes:
            pipeline_rows.append(measure_pipeline(workdir, count, args.shard_size))
            print(json.dumps(pipeline_rows[-1]), flush=True)
    results = {
        "benchmark": "end to end",
        "command": common.command_line(__file__, argv),
        "machine": common.machine_info(),
        "quick": args.quick,
        "rows": predict_rows + pipeline_rows,
        "predict_scaling": scaling(predict_rows),
        "pipeline_scaling": scaling(pipeline_rows),
    }
    print(common.markdown_table(results["rows"], COLUMNS))
    print(f"predict scaling: {results['predict_scaling']}; pipeline scaling: {results['pipeline_scaling']}")
    if args.json:
        common.write_json(args.json, results)
    return results


if __name__ == "__main__":
    main()
