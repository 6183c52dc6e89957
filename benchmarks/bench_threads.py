"""Benchmark: `virnucpro embed --threads N` for N = 1 and N = every CPU this process may use.

Command that produced the figures in BENCHMARKS.md (from the repository root):

    .venv/bin/python benchmarks/bench_threads.py --frames 200 --repeats 3 --json results/bench/bench_threads.json

Each run is the real command (`python -m virnucpro embed --device cpu`) in a child process, on frames of
the `vnp300` mix and a random ESM-2 of the esm2_t6_8M shape (6 x 320). Thread counts alternate (1, all,
all, 1, ...). Wall and CPU seconds come from `os.wait4`; the 1-minute load average is read just before
each run, because on a shared machine the other processes decide whether more threads help or hurt.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from virnucpro.threads import available_cpus

from benchmarks import common
from benchmarks.bench_e2e import run_child, virnucpro
from benchmarks.synthetic import frame_lengths, random_proteins


def write_inputs(directory: Path, frames: int, seed: int) -> tuple[Path, Path]:
    """A random ESM-2 checkpoint of the esm2_t6_8M shape and a protein frame file; their paths."""
    from virnucpro.models.tiny_checkpoints import write_esm2_checkpoint

    model = directory / "esm2_t6_bench.pt"
    write_esm2_checkpoint(model, num_layers=6, embed_dim=320, heads=20, seed=seed)
    proteins = random_proteins(frame_lengths("vnp300", frames, seed), seed)
    frame_file = directory / "protein.faa"
    frame_file.write_text("".join(f">frame{i}_F1\n{sequence}\n" for i, sequence in enumerate(proteins)))
    return model, frame_file


def measure(model: Path, frame_file: Path, threads: int, output: Path) -> dict[str, object]:
    """One `virnucpro embed` run with `threads`; its times and the load average just before it."""
    load = os.getloadavg()[0]
    command = virnucpro("embed", "--model-kind", "esm2", "--model", str(model), "--input", str(frame_file))
    command += ["--output", str(output), "--device", "cpu", "--threads", str(threads)]
    figures = run_child(command)
    output.unlink()
    return {"threads": threads, "load_1m_before": round(load, 2), **figures}


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=3, help="runs per thread count, alternating the order")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", default=None, help="write the results here")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> dict[str, object]:
    args = parse_args(argv)
    counts = sorted({1, available_cpus()})
    runs: list[dict[str, object]] = []
    with tempfile.TemporaryDirectory(prefix="bench-threads-") as scratch:
        model, frame_file = write_inputs(Path(scratch), args.frames, args.seed)
        for repeat in range(args.repeats):
            for threads in counts if repeat % 2 == 0 else reversed(counts):
                runs.append(measure(model, frame_file, threads, Path(scratch) / "out.safetensors"))
                print(runs[-1], flush=True)
    rows = [_summary(threads, [run for run in runs if run["threads"] == threads]) for threads in counts]
    results = {
        "command": common.command_line(__file__, argv),
        "machine": common.machine_info(),
        "rows": rows,
        "runs": runs,
    }
    if args.json:
        common.write_json(args.json, results)
    print(common.markdown_table(rows, ["threads", "wall_s", "cpu_s", "load_1m", "runs"]))
    return results


def _summary(threads: int, runs: Sequence[dict[str, object]]) -> dict[str, object]:
    """Median wall and CPU seconds of one thread count, with the range of load averages seen."""
    loads = [run["load_1m_before"] for run in runs]
    return {
        "threads": threads,
        "wall_s": statistics.median(run["wall_s"] for run in runs),
        "cpu_s": statistics.median(run["cpu_s"] for run in runs),
        "load_1m": f"{min(loads):.1f}-{max(loads):.1f}",
        "runs": len(runs),
    }


if __name__ == "__main__":
    main()
