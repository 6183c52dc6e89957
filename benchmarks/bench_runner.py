"""Benchmark: AsyncInferenceRunner (packed batches, prefetch) vs a naive one-sequence-at-a-time loop.

Same model, same frames, same device; each mode runs in its own process so peak RSS is its own. Prints
one JSON line per mode and a summary table. Without --model it writes a random ESM-2 of the given shape
(the default, 6 layers x 320, is esm2_t6_8M's shape) so the numbers do not need downloaded weights.

Usage:
    .venv/bin/python benchmarks/bench_runner.py --frames 1000 --threads 1
    .venv/bin/python benchmarks/bench_runner.py --model esm2_t36_3B_UR50D --frames 5000 --device cuda

Results go to benchmarks/results/bench_runner.json (with the machine and the command).
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import common

AMINO = "ACDEFGHIKLMNPQRSTVWY"


def write_frames(path: Path, count: int, seed: int) -> None:
    """Protein frames with the length spread of 300-nt chunks' kept frames (20 to 100 aa)."""
    rng = random.Random(seed)
    with open(path, "w") as handle:
        for i in range(count):
            sequence = "".join(rng.choice(AMINO) for _ in range(rng.randint(20, 100)))
            handle.write(f">frame{i}\n{sequence}\n")


def run_mode(mode: str, model_path: str, frames: Path, device: str, token_budget: int | None) -> dict:
    """Embed all frames with one mode in this process; return throughput and peak RSS."""
    import torch
    from virnucpro.config import EnvConfig
    from virnucpro.io.fasta import read_fasta
    from virnucpro.models.loading import load_embedding_model
    from virnucpro.runner.async_runner import AsyncInferenceRunner
    from virnucpro.runner.devices import default_token_budget
    from virnucpro.runner.metrics import peak_rss_bytes
    from virnucpro.runner.settings import RunnerSettings

    records = list(read_fasta(frames, kind="protein"))
    model = load_embedding_model("esm2", model_path, torch.device(device), env=EnvConfig())
    budget = token_budget or default_token_budget(model.device, model.embedding_dim, model.dtype)
    started = time.monotonic()
    tokens = 0
    if mode == "runner":
        result = AsyncInferenceRunner(model, RunnerSettings(budget), progress_bar=False).run(records)
        tokens = result.metrics.tokens
        fill = result.metrics.fill_ratio
    else:
        with torch.inference_mode():
            for record in records:
                ids = torch.tensor(model.tokenize(record.sequence), dtype=torch.int64, device=model.device)
                cu = torch.tensor([0, len(ids)], dtype=torch.int32, device=model.device)
                model.embed_packed(ids, cu, len(ids)).cpu()
                tokens += len(ids)
        fill = None
    elapsed = time.monotonic() - started
    return {
        "mode": mode,
        "sequences": len(records),
        "seconds": round(elapsed, 3),
        "sequences_per_s": round(len(records) / elapsed, 1),
        "tokens_per_s": round(tokens / elapsed, 0),
        "fill_ratio": None if fill is None else round(fill, 3),
        "token_budget": budget if mode == "runner" else None,
        "peak_rss_mib": round(peak_rss_bytes() / 2**20, 1),
        "torch_threads": torch.get_num_threads(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="ESM-2 checkpoint path or hub name (default: a random one, see shape options)")
    parser.add_argument("--layers", type=int, default=6)
    parser.add_argument("--embed-dim", type=int, default=320)
    parser.add_argument("--heads", type=int, default=20)
    parser.add_argument("--frames", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3, help="runs per mode, alternating the order")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--token-budget", type=int, default=None)
    parser.add_argument("--output", default=str(common.REPO_ROOT / "benchmarks" / "results" / "bench_runner.json"))
    parser.add_argument("--mode", choices=MODES, help=argparse.SUPPRESS)
    parser.add_argument("--frames-file", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    if args.mode:
        print(json.dumps(run_mode(args.mode, args.model, Path(args.frames_file), args.device, args.token_budget)))
        return
    with tempfile.TemporaryDirectory() as scratch:
        model = args.model or _random_esm2(Path(scratch), args)
        frames = Path(scratch) / "frames.faa"
        write_frames(frames, args.frames, args.seed)
        runs = {mode: [] for mode in MODES}
        for repeat in range(args.repeats):
            for mode in MODES if repeat % 2 == 0 else tuple(reversed(MODES)):
                runs[mode].append(_child(mode, model, frames, args))
                print(json.dumps(runs[mode][-1]), flush=True)
    _report(runs, args)


MODES = ("naive", "runner")


def _child(mode: str, model: str, frames: Path, args: argparse.Namespace) -> dict:
    """One mode in a fresh process (its own peak RSS); returns its JSON line."""
    command = [sys.executable, __file__, "--mode", mode, "--model", model, "--frames-file", str(frames)]
    command += ["--device", args.device]
    command += ["--token-budget", str(args.token_budget)] if args.token_budget else []
    command += ["--threads", str(args.threads)] if args.threads else []
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return json.loads(output.strip().splitlines()[-1])


def _report(runs: dict[str, list[dict]], args: argparse.Namespace) -> None:
    """Median throughput per mode, median per-repeat speed-up, largest peak RSS; JSON file and a table."""
    rows = []
    for mode, results in runs.items():
        rows.append(
            {
                "mode": mode,
                "sequences/s": statistics.median(r["sequences_per_s"] for r in results),
                "tokens/s": statistics.median(r["tokens_per_s"] for r in results),
                "peak RSS MiB": max(r["peak_rss_mib"] for r in results),
                "fill ratio": results[0]["fill_ratio"],
                "token budget": results[0]["token_budget"],
            }
        )
    speedup = common.median_ratio([r["seconds"] for r in runs["naive"]], [r["seconds"] for r in runs["runner"]])
    shape = None if args.model else f"{args.layers} layers x {args.embed_dim} ({args.heads} heads), random weights"
    results = {
        "command": common.command_line(),
        "machine": common.machine_info(),
        "model": args.model or shape,
        "frames": args.frames,
        "threads": runs["runner"][0]["torch_threads"],
        "rows": rows,
        "speedup_median": round(speedup, 2),
        "runs": runs,
    }
    common.write_json(args.output, results)
    print(
        common.markdown_table(rows, ["mode", "sequences/s", "tokens/s", "peak RSS MiB", "fill ratio", "token budget"])
    )
    print(f"runner speed-up over the naive loop (median of per-repeat ratios): {speedup:.2f}x")


def _random_esm2(directory: Path, args: argparse.Namespace) -> str:
    from virnucpro.models.tiny_checkpoints import write_esm2_checkpoint

    path = directory / f"esm2_t{args.layers}_bench.pt"
    write_esm2_checkpoint(path, num_layers=args.layers, embed_dim=args.embed_dim, heads=args.heads, seed=args.seed)
    return str(path)


if __name__ == "__main__":
    main()
