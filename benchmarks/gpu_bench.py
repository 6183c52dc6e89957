"""One-shot CUDA benchmark: ESM-2 3B and DNABERT-S shapes in bfloat16, the runner, and the GPU tests.

Command for a machine with one CUDA GPU (from the repository root; the device image has torch, so the
package is put on the path instead of installed):

    PYTHONPATH=python python3 benchmarks/gpu_bench.py --out results/gpu

CPU rehearsal with tiny shapes, in seconds (the default test suite runs it):

    .venv/bin/python benchmarks/gpu_bench.py --smoke --out /tmp/gpu-smoke

Sections, in order, each skippable with `--skip NAME` and each bounded by what is left of the overall cap
(`--time-limit`, default 270 s: under 5 minutes with start-up):
  esm2     ESM-2 (3B shape, random weights) packed (automatic backend) vs padded on the VirNucPro length
           mixes: tokens/s, frames/s, fill ratio, model FLOP utilisation, peak memory.
  dnabert  the same for the DNABERT-S shape (12 layers, 768 wide).
  runner   AsyncInferenceRunner end to end on a few thousand ESM-2 frames, against a naive loop that
           embeds one frame at a time; model build time against compute time.
  checks   `pytest -m gpu tests/gpu` on CUDA (bf16 vs float32 cosine, packed vs padded); with --smoke the
           same checks in-process on CPU with tiny shapes.
Utilisation = useful FLOPs / seconds / peak, FLOPs from the shape (see `flops`: 24 E^2 + 4 L E per token
and layer for ESM-2) and the peak dense bf16 figure of the device (990 TFLOP/s for H100/H200, or
--peak-tflops). Results go to OUT/gpu_bench.json and OUT/gpu_bench.md, rewritten after every section so a
killed run still leaves what it measured.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import os
import signal
import subprocess
import sys
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from virnucpro.config import EnvConfig
from virnucpro.models.precision import choose_precision
from virnucpro.runner.async_runner import AsyncInferenceRunner
from virnucpro.runner.devices import default_token_budget
from virnucpro.runner.settings import RunnerSettings

from benchmarks import bench_models, common, flops, gpu_checks, synthetic
from benchmarks.random_models import ESM2_SHAPES, dnabert_shape

SECTIONS = ("esm2", "dnabert", "runner", "checks")
SEED = 20261128
SMOKE_BUDGET = 512


@dataclasses.dataclass(frozen=True)
class Plan:
    """Sizes of one run: the real shapes on CUDA, tiny ones for the CPU rehearsal."""

    esm_shape: str
    dnabert_layers: int
    tiny_dnabert: bool
    frames_per_mix: int
    repeats: int
    runner_frames: int
    naive_frames: int
    check_frames: int


FULL = Plan(
    "esm2_t36_3B", 12, False, frames_per_mix=2048, repeats=2, runner_frames=4096, naive_frames=128, check_frames=48
)
SMOKE = Plan("tiny", 2, True, frames_per_mix=8, repeats=1, runner_frames=16, naive_frames=4, check_frames=6)


def planned_esm2_flops(plan: Plan) -> float:
    """Model FLOPs the esm2 and runner sections ask of ESM-2: each mix through both layouts `repeats`
    times plus the runner's frames; the warm-up and DNABERT-S (25x cheaper per token) are left out."""
    config = ESM2_SHAPES[plan.esm_shape]
    total = 0.0
    for mix in synthetic.MIXES:
        tokens = [n + 2 for n in synthetic.frame_lengths(mix, plan.frames_per_mix, SEED)]
        total += 2 * plan.repeats * flops.esm2_flops(config, tokens)
    runner_tokens = [n + 2 for n in gpu_checks.mixed_lengths(plan.runner_frames, SEED)]
    return total + flops.esm2_flops(config, runner_tokens)


class SectionTimeout(Exception):
    """Raised by the alarm when the overall time cap is reached inside a section."""


@contextlib.contextmanager
def alarm_after(seconds: float) -> Iterator[None]:
    """Raise SectionTimeout in the main thread after `seconds` (whole seconds, at least 1)."""

    def expire(signum, frame):
        raise SectionTimeout(f"time cap reached after {seconds:.0f} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(max(1, int(seconds)))
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@dataclasses.dataclass
class Context:
    """What the sections share: device, precision, sizes, peak and the token budget."""

    device: torch.device
    dtype: torch.dtype
    plan: Plan
    peak: float | None
    smoke: bool

    def budget(self, embedding_dim: int, token_lists: Sequence[Sequence[int]] = ()) -> int:
        """The token budget a real run would use here (the runner's default), never below the longest frame."""
        longest = max((len(t) for t in token_lists), default=0)
        if self.smoke:
            return max(SMOKE_BUDGET, longest)
        return max(default_token_budget(self.device, embedding_dim, self.dtype), longest)


def reset_memory(device: torch.device) -> None:
    """Free cached blocks and restart the peak counter so each section reports its own peak."""
    if device.type == "cuda":
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats(device)


def peak_memory_gib(device: torch.device) -> float | None:
    return round(torch.cuda.max_memory_allocated(device) / 2**30, 2) if device.type == "cuda" else None


def section_esm2(ctx: Context) -> dict[str, object]:
    """ESM-2 packed vs padded on the three length mixes."""
    started = time.perf_counter()
    pair = bench_models.esm2_pair(ctx.plan.esm_shape, ctx.device, ctx.dtype, SEED)
    common.synchronize(ctx.device)
    build_s = time.perf_counter() - started
    config = pair["packed"].network.config
    rows = []
    for mix in synthetic.MIXES:
        tokens = synthetic.esm2_tokens(synthetic.frame_lengths(mix, ctx.plan.frames_per_mix, SEED), SEED)
        row = bench_models.compare_layouts(
            pair,
            tokens,
            budget=ctx.budget(config.embed_dim, tokens),
            count_flops=lambda ls: flops.esm2_flops(config, ls),
            repeats=ctx.plan.repeats,
            peak=ctx.peak,
        )
        rows.append({"model": f"ESM-2 {ctx.plan.esm_shape}", "mix": mix, **row})
        bench_models.print_row(rows[-1])
    gflop_per_token = flops.esm2_flops(config, [1]) / 1e9
    return {
        "build_s": round(build_s, 2),
        "gflop_per_token_L1": round(gflop_per_token, 6),
        "peak_memory_gib": peak_memory_gib(ctx.device),
        "rows": rows,
    }


def section_dnabert(ctx: Context) -> dict[str, object]:
    """DNABERT-S packed vs padded-attention on the three length mixes (token counts estimated)."""
    config = dnabert_shape(ctx.plan.dnabert_layers, tiny=ctx.plan.tiny_dnabert)
    pair = bench_models.dnabert_pair(config, ctx.device, ctx.dtype, SEED)
    rows = []
    for mix in synthetic.MIXES:
        lengths = synthetic.frame_lengths(mix, ctx.plan.frames_per_mix, SEED)
        tokens = synthetic.dnabert_tokens(lengths, config.vocab_size, SEED)
        row = bench_models.compare_layouts(
            pair,
            tokens,
            budget=ctx.budget(config.hidden_size, tokens),
            count_flops=lambda ls: flops.dnabert_flops(config, ls),
            repeats=ctx.plan.repeats,
            peak=ctx.peak,
        )
        rows.append({"model": f"DNABERT-S {config.num_hidden_layers} layers", "mix": mix, **row})
        bench_models.print_row(rows[-1])
    return {"peak_memory_gib": peak_memory_gib(ctx.device), "rows": rows}


@dataclasses.dataclass(frozen=True)
class Frame:
    """What the runner reads of a record."""

    id: str
    sequence: str


def section_runner(ctx: Context) -> dict[str, object]:
    """The runner end to end on VirNucPro-like frames, and a one-frame-at-a-time loop on a subset."""
    started = time.perf_counter()
    pair = bench_models.esm2_pair(ctx.plan.esm_shape, ctx.device, ctx.dtype, SEED)
    common.synchronize(ctx.device)
    build_s = time.perf_counter() - started
    model = pair["packed"]
    lengths = gpu_checks.mixed_lengths(ctx.plan.runner_frames, SEED)
    proteins = synthetic.random_proteins(lengths, SEED)
    frames = [Frame(f"frame_{i}", p) for i, p in enumerate(proteins)]
    settings = RunnerSettings(token_budget=ctx.budget(model.embedding_dim, [model.tokenize(p) for p in proteins]))
    AsyncInferenceRunner(model, settings, progress_bar=False).run(frames[: min(64, len(frames))])  # warm-up
    reset_memory(ctx.device)
    result = AsyncInferenceRunner(model, settings, progress_bar=False).run(frames)
    metrics = result.metrics
    useful = flops.esm2_flops(model.network.config, [len(model.tokenize(p)) for p in proteins])
    naive_s = common.time_call(lambda: naive_loop(model, proteins[: ctx.plan.naive_frames]), ctx.device)
    runner_fps = len(frames) / metrics.wall_s
    naive_fps = ctx.plan.naive_frames / naive_s
    return {
        "frames": len(frames),
        "backend": model.backend,
        "token_budget": settings.token_budget,
        "model_build_s": round(build_s, 2),
        "runner_wall_s": round(metrics.wall_s, 3),
        "runner_compute_s": round(metrics.compute_s, 3),
        "runner_tokens_per_s": round(metrics.tokens / metrics.wall_s, 1),
        "runner_frames_per_s": round(runner_fps, 2),
        "runner_fill_ratio": round(metrics.fill_ratio, 4),
        "runner_batches": metrics.batches,
        "runner_mfu": _round(flops.utilisation(useful, metrics.wall_s, ctx.peak)),
        "peak_memory_gib": peak_memory_gib(ctx.device),
        "naive_frames": ctx.plan.naive_frames,
        "naive_frames_per_s": round(naive_fps, 2),
        "runner_speedup_vs_naive": round(runner_fps / naive_fps, 2),
    }


def naive_loop(model, proteins: Sequence[str]) -> None:
    """The baseline: one frame per forward pass, result copied to the host each time."""
    for protein in proteins:
        tokens = model.tokenize(protein)
        ids = torch.tensor(tokens, dtype=torch.int64, device=model.device)
        cu = torch.tensor([0, len(tokens)], dtype=torch.int32, device=model.device)
        model.embed_packed(ids, cu, len(tokens)).cpu()


def section_checks(ctx: Context, deadline: float) -> dict[str, object]:
    """The GPU tests under pytest on CUDA; on the CPU rehearsal the same checks in-process, tiny shapes."""
    if not ctx.smoke:
        return run_gpu_tests(deadline)
    results: dict[str, object] = {}
    for name, config in (("esm2", ESM2_SHAPES["tiny"]), ("dnabert", dnabert_shape(tiny=True))):
        cosine, centred = gpu_checks.bf16_vs_fp32(config, ctx.device, ctx.plan.check_frames, SEED)
        backend, packed = gpu_checks.packed_vs_padded(config, ctx.device, ctx.dtype, ctx.plan.check_frames, SEED)
        results[f"{name}_bf16_vs_fp32_min_cosine"] = round(cosine.min().item(), 6)
        results[f"{name}_bf16_vs_fp32_min_centred_cosine"] = round(centred.min().item(), 6)
        results[f"{name}_packed_backend"] = backend
        results[f"{name}_packed_vs_padded_min_centred_cosine"] = round(packed.min().item(), 6)
    return results


def run_gpu_tests(deadline: float) -> dict[str, object]:
    """`pytest -m gpu tests/gpu` in a child process, bounded by the time left; its summary line."""
    command = [sys.executable, "-m", "pytest", "-m", "gpu", "tests/gpu", "-q", "-p", "no:cacheprovider", "-rA"]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(common.REPO_ROOT / "python"), str(common.REPO_ROOT)])}
    try:
        done = subprocess.run(
            command,
            cwd=common.REPO_ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=max(1.0, deadline - time.monotonic()),
        )
    except subprocess.TimeoutExpired as error:
        return {"status": "timed out", "output_tail": str(error.stdout or "")[-2000:]}
    lines = done.stdout.strip().splitlines()
    print(done.stdout[-3000:], flush=True)
    return {"exit_code": done.returncode, "summary": lines[-1] if lines else "", "output_tail": done.stdout[-2000:]}


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def run_sections(ctx: Context, args: argparse.Namespace, results: dict[str, object], save: Callable[[], None]) -> None:
    """Run each section inside what is left of the overall cap; record status and figures as they come."""
    deadline = time.monotonic() + args.time_limit
    for name in SECTIONS:
        left = deadline - time.monotonic()
        if name in args.skip:
            results[name] = {"status": "skipped (--skip)"}
        elif left < 5:
            results[name] = {"status": f"skipped: {left:.0f} s left of the {args.time_limit:.0f} s cap"}
        else:
            print(f"== {name} ({left:.0f} s left)", flush=True)
            results[name] = run_one(name, ctx, left, deadline)
            reset_memory(ctx.device)
        save()


def run_one(name: str, ctx: Context, left: float, deadline: float) -> dict[str, object]:
    """One section under the alarm; failures and time-outs are recorded, never raised."""
    started = time.perf_counter()
    try:
        with alarm_after(left):
            if name == "checks":
                figures = section_checks(ctx, deadline)
            else:
                figures = {"esm2": section_esm2, "dnabert": section_dnabert, "runner": section_runner}[name](ctx)
        status = "ok"
    except SectionTimeout as error:
        figures, status = {}, f"timed out: {error}"
    except Exception as error:  # a failing section must not cost the figures of the others
        traceback.print_exc()
        figures, status = {"error": traceback.format_exc()[-2000:]}, f"failed: {type(error).__name__}: {error}"
    return {"status": status, "seconds": round(time.perf_counter() - started, 1), **figures}


def markdown(results: dict[str, object]) -> str:
    """The results as a Markdown page: machine, then one table per section."""
    machine = results["machine"]
    lines = [
        f"# GPU benchmark ({machine.get('date')})",
        "",
        f"Command: `{results['command']}`",
        "",
        f"Machine: {machine.get('gpu', 'no GPU')} ({machine.get('gpu_memory_gib', '-')} GiB), {machine['cpu_model']}, "
        f"{machine['cpus']} CPUs; torch {machine['torch']}; precision {results['dtype']}; "
        f"peak used for utilisation: {results['peak_tflops']} TFLOP/s",
        "",
    ]
    for name in SECTIONS:
        section = results.get(name, {})
        lines += [f"## {name}: {section.get('status', 'not run')}", ""]
        if section.get("rows"):
            lines += [common.markdown_table(section["rows"], LAYOUT_COLUMNS), ""]
        scalars = {k: v for k, v in section.items() if k not in ("rows", "status", "error", "output_tail")}
        if scalars:
            lines += [common.markdown_table([scalars], list(scalars)), ""]
    return "\n".join(lines)


LAYOUT_COLUMNS = [
    "model",
    "mix",
    "token_budget",
    "packed_backend",
    "packed_tokens_per_s",
    "packed_frames_per_s",
    "packed_mfu",
    "padded_tokens_per_s",
    "padded_mfu",
    "packed_speedup",
    "packed_fill_vs_budget",
    "packed_fill_excl_last",
    "padded_useful_fraction",
    "min_cosine_packed_vs_padded",
]


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True, help="directory for gpu_bench.json and gpu_bench.md")
    parser.add_argument("--smoke", action="store_true", help="tiny shapes on CPU, in seconds (a rehearsal)")
    parser.add_argument("--skip", action="append", default=[], choices=SECTIONS, help="skip a section")
    parser.add_argument("--time-limit", type=float, default=270.0, help="overall cap in seconds (default 270)")
    parser.add_argument("--peak-tflops", type=float, help="device peak dense bf16 TFLOP/s (default: by name)")
    parser.add_argument("--device", default="cuda", help="CUDA device (default cuda; ignored with --smoke)")
    return parser.parse_args(argv)


def make_context(args: argparse.Namespace) -> Context:
    """Pick the device and sizes; a non-smoke run without CUDA is an error, not a silent CPU run."""
    if args.smoke:
        device = torch.device("cpu")
    elif not torch.cuda.is_available():
        raise SystemExit("gpu_bench: no CUDA device here; use --smoke for the CPU rehearsal")
    else:
        device = torch.device(args.device)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
    peak = flops.peak_flops(name, args.peak_tflops) if device.type == "cuda" else None
    dtype = choose_precision(device, EnvConfig())
    return Context(device, dtype, SMOKE if args.smoke else FULL, peak, args.smoke)


def main(argv: Sequence[str] | None = None) -> dict[str, object]:
    args = parse_args(argv)
    ctx = make_context(args)
    planned = planned_esm2_flops(ctx.plan)
    print(f"device: {common.machine_info(ctx.device).get('gpu', 'cpu')}; precision {ctx.dtype}", flush=True)
    if ctx.peak is not None:
        print(f"planned ESM-2 work: {planned / 1e15:.1f} PFLOP, {planned / ctx.peak / 0.5:.0f} s at 50% of peak")
    results: dict[str, object] = {
        "benchmark": "gpu one-shot",
        "command": common.command_line(__file__, argv),
        "machine": common.machine_info(ctx.device),
        "smoke": args.smoke,
        "dtype": str(ctx.dtype).removeprefix("torch."),
        "peak_tflops": None if ctx.peak is None else ctx.peak / 1e12,
        "plan": dataclasses.asdict(ctx.plan),
        "mixes": synthetic.MIXES,
    }
    args.out.mkdir(parents=True, exist_ok=True)

    def save() -> None:
        common.write_json(args.out / "gpu_bench.json", results)
        (args.out / "gpu_bench.md").write_text(markdown(results) + "\n")

    run_sections(ctx, args, results, save)
    print(markdown(results), flush=True)
    return results


if __name__ == "__main__":
    main()
