"""Run every CPU benchmark in one go and collect their JSON and tables in one directory.

Command for the figures in BENCHMARKS.md (from the repository root; about 15 minutes on 2 cores):

    .venv/bin/python benchmarks/run_all.py --out results/bench

CI form (small sizes, no timing claims; `tests/unit/benchmarks` runs the pieces): add `--quick`.
Each benchmark runs as its own process (so one's memory never inflates another's peak) and writes
OUT/<name>.json; the console output of each goes to OUT/<name>.log, and OUT/summary.md lists what ran,
the command used and whether it succeeded. The GPU figures come from `gpu_bench.py` on a CUDA machine;
here it runs only as `--smoke`, the CPU rehearsal.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import common

HERE = Path(__file__).resolve().parent


def commands(out: Path, quick: bool) -> dict[str, list[str]]:
    """The command line of each benchmark, writing its JSON into `out`."""
    python = sys.executable
    small = ["--quick"] if quick else []
    return {
        "translate": [python, str(HERE / "bench_translate.py"), *small, "--json", str(out / "translate.json")],
        "reads": [python, str(HERE / "bench_reads.py"), *small, "--json", str(out / "reads.json")],
        "runner": [python, str(HERE / "bench_runner.py"), "--frames", "200" if quick else "500", "--device", "cpu"],
        "models": [python, str(HERE / "bench_models.py"), *small, "--json", str(out / "models.json")],
        "e2e": [python, str(HERE / "bench_e2e.py"), *small, "--json", str(out / "e2e.json")],
        "gpu_smoke": [python, str(HERE / "gpu_bench.py"), "--smoke", "--out", str(out / "gpu_smoke")],
    }


def run_one(name: str, command: list[str], out: Path) -> dict[str, object]:
    """Run one benchmark with its console output in OUT/<name>.log; exit code and seconds."""
    started = time.perf_counter()
    with open(out / f"{name}.log", "w") as log:
        code = subprocess.run(command, cwd=common.REPO_ROOT, stdout=log, stderr=subprocess.STDOUT).returncode
    shown = " ".join(["python", str(Path(command[1]).relative_to(common.REPO_ROOT)), *command[2:]])
    return {"benchmark": name, "exit_code": code, "seconds": round(time.perf_counter() - started, 1), "command": shown}


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True, help="directory for the JSON, logs and summary.md")
    parser.add_argument("--quick", action="store_true", help="small sizes for CI; no speed claims")
    parser.add_argument("--only", type=lambda s: s.split(","), help="comma list of benchmarks to run")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> list[dict[str, object]]:
    args = parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    planned = commands(args.out.resolve(), args.quick)
    unknown = sorted(set(args.only or []) - set(planned))
    if unknown:
        raise SystemExit(f"unknown benchmark(s) {', '.join(unknown)}: choose from {', '.join(planned)}")
    rows = []
    for name, command in planned.items():
        if args.only and name not in args.only:
            continue
        if not Path(command[1]).exists():
            rows.append({"benchmark": name, "exit_code": None, "command": f"{command[1]} is missing"})
            continue
        print(f"== {name}", flush=True)
        rows.append(run_one(name, command, args.out))
    machine = common.machine_info()
    summary = [
        f"# Benchmarks ({machine['date']}, git {machine['git']})",
        "",
        f"Command: `{common.command_line(__file__, argv)}`",
        "",
        f"Machine: {machine['cpu_model']}, {machine['cpus']} CPUs, load {machine['load_average_1m']}",
        "",
        common.markdown_table(rows, ["benchmark", "exit_code", "seconds", "command"]),
    ]
    (args.out / "summary.md").write_text("\n".join(summary) + "\n")
    print("\n".join(summary))
    failed = [row["benchmark"] for row in rows if row["exit_code"] not in (0, None)]
    if failed:
        raise SystemExit(f"failed: {', '.join(failed)} (see their .log files in {args.out})")
    return rows


if __name__ == "__main__":
    main()
