"""Packed vs padded batches through the production models: tokens/s, frames/s and the real fill ratio.

Command that produced the CPU figures in BENCHMARKS.md (from the repository root):

    .venv/bin/python benchmarks/bench_models.py --json results/bench/bench_models.json

CI runs `--quick` (tiny shapes, a few frames, no speed claims). On CUDA, `gpu_bench.py` calls
`compare_layouts` below with the real ESM-2 3B and DNABERT-S shapes in bfloat16.

Both layouts get the same model weights, the same frames and the same token budget:
- packed: the runner's own packing (first-fit-decreasing inside input windows of 16 budgets,
  `virnucpro.runner.collator`), run with the automatically selected attention backend
  ("block-diagonal" on CPU; "varlen" or "flex" on CUDA).
- padded: the reference layout. Frames in input order, a batch closes when (frames x longest frame)
  would exceed the budget; the "padded" backend pads every frame to the longest. For ESM-2 the whole
  forward runs padded; for DNABERT-S only attention does (the production padded path).
Throughput counts real tokens only. The two layouts' vectors are compared (min cosine per frame) so a
speed-up can never come from computing something else. Timings alternate layouts (see `common`).
"""

from __future__ import annotations

import argparse
import statistics
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from virnucpro.config import EnvConfig
from virnucpro.models.attention import select_backend
from virnucpro.runner.collator import pack_windows
from virnucpro.runner.devices import CPU_TOKEN_BUDGET
from virnucpro.runner.settings import RunnerSettings

from benchmarks import common, flops, synthetic
from benchmarks.random_models import ESM2_SHAPES, dnabert_shape, random_dnabert, random_esm2, with_backend

SEED = 20261128
WINDOW_BATCHES = RunnerSettings(token_budget=1).window_batches  # the runner's default packing window


@dataclass(frozen=True)
class Batch:
    """One forward pass: frames (by input position) and their tokens, ready on the device."""

    positions: list[int]
    token_ids: torch.Tensor
    cu_seqlens: torch.Tensor
    max_seqlen: int
    real_tokens: int
    slots: int  # token positions the model computes: real tokens when packed, frames x longest when padded


def _to_batch(positions: list[int], tokens: Sequence[Sequence[int]], device: torch.device, padded: bool) -> Batch:
    lengths = [len(t) for t in tokens]
    flat = torch.tensor([x for t in tokens for x in t], dtype=torch.int64)
    cu = torch.tensor([0, *lengths], dtype=torch.int32).cumsum(0, dtype=torch.int32)
    real = sum(lengths)
    slots = len(lengths) * max(lengths) if padded else real
    return Batch(positions, flat.to(device), cu.to(device), max(lengths), real, slots)


def packed_batches(token_lists: Sequence[Sequence[int]], budget: int, device: torch.device) -> list[Batch]:
    """The runner's batches: first-fit-decreasing within consecutive windows of about 16 budgets."""
    return [
        _to_batch(positions, tokens, device, padded=False)
        for positions, tokens in pack_windows(token_lists, budget, budget * WINDOW_BATCHES)
    ]


def padded_batches(token_lists: Sequence[Sequence[int]], budget: int, device: torch.device) -> list[Batch]:
    """Reference-style batches: input order, closed when frames x longest would exceed `budget`."""
    batches, current = [], []
    longest = 0
    for position, tokens in enumerate(token_lists):
        grown = max(longest, len(tokens))
        if current and grown * (len(current) + 1) > budget:
            batches.append(_to_batch(current, [token_lists[p] for p in current], device, padded=True))
            current, grown = [], len(tokens)
        current.append(position)
        longest = grown
    if current:
        batches.append(_to_batch(current, [token_lists[p] for p in current], device, padded=True))
    return batches


def run_batches(model, batches: Sequence[Batch], count: int) -> torch.Tensor:
    """Embed every batch; returns float32 (count, dim) vectors in input order (on the model's device)."""
    out = torch.empty((count, model.embedding_dim), dtype=torch.float32, device=model.device)
    for batch in batches:
        vectors = model.embed_packed(batch.token_ids, batch.cu_seqlens, batch.max_seqlen)
        out[torch.tensor(batch.positions, device=model.device)] = vectors
    return out


def compare_layouts(
    models: dict[str, object],
    token_lists: Sequence[Sequence[int]],
    *,
    budget: int,
    count_flops: Callable[[Sequence[int]], float],
    repeats: int,
    peak: float | None,
) -> dict[str, object]:
    """Time the packed and padded layouts alternately on the same frames; one result row.

    Args:
        models: {"packed": adapter, "padded": adapter} sharing weights.
        token_lists: the frames' token ids.
        budget: token budget per batch (real tokens when packed; frames x longest when padded).
        count_flops: useful FLOPs of sequences of the given token lengths.
        repeats: timed passes per layout (after one warm-up batch each).
        peak: the device's peak FLOP/s for the utilisation column (None on CPU).
    """
    device = models["packed"].device
    layouts = {
        "packed": packed_batches(token_lists, budget, device),
        "padded": padded_batches(token_lists, budget, device),
    }
    outputs: dict[str, torch.Tensor] = {}

    def runner(name: str) -> Callable[[], None]:
        def run() -> None:
            outputs[name] = run_batches(models[name], layouts[name], len(token_lists))

        return run

    for name, batches in layouts.items():  # warm-up: first-call allocations, kernel selection, compilation
        common.time_call(
            lambda name=name, batches=batches: run_batches(models[name], batches[:2], len(token_lists)), device
        )
    seconds = common.interleaved({name: runner(name) for name in layouts}, repeats, device)
    real = sum(len(t) for t in token_lists)
    useful = count_flops([len(t) for t in token_lists])
    row: dict[str, object] = {"frames": len(token_lists), "real_tokens": real, "token_budget": budget}
    for name, batches in layouts.items():
        best = statistics.median(seconds[name])
        row[f"{name}_backend"] = models[name].backend
        row[f"{name}_batches"] = len(batches)
        row[f"{name}_fill_vs_budget"] = round(real / (len(batches) * budget), 4)
        row[f"{name}_fill_excl_last"] = _fill_excluding_emptiest(batches, budget)
        row[f"{name}_useful_fraction"] = round(real / sum(b.slots for b in batches), 4)
        row[f"{name}_tokens_per_s"] = round(real / best, 1)
        row[f"{name}_frames_per_s"] = round(len(token_lists) / best, 2)
        row[f"{name}_seconds"] = [round(s, 4) for s in seconds[name]]
        row[f"{name}_mfu"] = _rounded(flops.utilisation(useful, best, peak))
    row["packed_speedup"] = round(common.median_ratio(seconds["padded"], seconds["packed"]), 3)
    cosine = torch.nn.functional.cosine_similarity(outputs["packed"].double(), outputs["padded"].double(), dim=-1)
    row["min_cosine_packed_vs_padded"] = round(cosine.min().item(), 6)
    return row


def _fill_excluding_emptiest(batches: Sequence[Batch], budget: int) -> float | None:
    """Fill of all batches but the emptiest: what a long run converges to, where the one partly filled
    batch at the end of the input no longer counts (None with a single batch)."""
    if len(batches) < 2:
        return None
    real = sorted(b.real_tokens for b in batches)[1:]
    return round(sum(real) / (len(real) * budget), 4)


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def esm2_pair(shape: str, device: torch.device, dtype: torch.dtype, seed: int) -> dict[str, object]:
    """Packed (auto backend) and padded ESM-2 adapters of `shape` sharing one set of random weights."""
    backend = select_backend(device, EnvConfig(), None, alibi=False, dtype=dtype)
    packed = random_esm2(ESM2_SHAPES[shape], device=device, dtype=dtype, backend=backend, seed=seed)
    return {"packed": packed, "padded": with_backend(packed, "padded")}


def dnabert_pair(config, device: torch.device, dtype: torch.dtype, seed: int) -> dict[str, object]:
    """Packed (auto backend) and padded-attention DNABERT-S adapters sharing one set of random weights."""
    backend = select_backend(device, EnvConfig(), None, alibi=True, dtype=dtype)
    packed = random_dnabert(config, device=device, dtype=dtype, backend=backend, seed=seed)
    return {"packed": packed, "padded": with_backend(packed, "padded")}


def run(args: argparse.Namespace) -> dict[str, object]:
    """All (model, mix) rows for the command-line settings."""
    device = torch.device(args.device)
    dtype = torch.bfloat16 if device.type == "cuda" else torch.float32
    esm_shape = "tiny" if args.quick else args.esm_shape
    dnabert_config = dnabert_shape(args.dnabert_layers, tiny=args.quick)
    frames = 24 if args.quick else args.frames
    repeats = 1 if args.quick else args.repeats
    rows = []
    models = {
        f"ESM-2 {esm_shape}": (esm2_pair(esm_shape, device, dtype, args.seed), "esm2"),
        f"DNABERT-S {dnabert_config.num_hidden_layers} layers": (
            dnabert_pair(dnabert_config, device, dtype, args.seed),
            "dnabert",
        ),
    }
    for label, (pair, kind) in models.items():
        config = pair["packed"].network.config
        for mix in args.mixes:
            lengths = synthetic.frame_lengths(mix, frames, args.seed)
            if kind == "esm2":
                tokens = synthetic.esm2_tokens(lengths, args.seed)
                count = lambda ls, c=config: flops.esm2_flops(c, ls)  # noqa: E731
            else:
                tokens = synthetic.dnabert_tokens(lengths, config.vocab_size, args.seed)
                count = lambda ls, c=config: flops.dnabert_flops(c, ls)  # noqa: E731
            budget = max(args.token_budget, max(len(t) for t in tokens))  # as the runner: never below the longest
            row = compare_layouts(pair, tokens, budget=budget, count_flops=count, repeats=repeats, peak=None)
            rows.append({"model": label, "mix": mix, "dtype": str(dtype).removeprefix("torch."), **row})
            print_row(rows[-1])
    return {
        "benchmark": "models: packed vs padded",
        "command": common.command_line(__file__, args.argv),
        "machine": common.machine_info(device),
        "seed": args.seed,
        "quick": args.quick,
        "mixes": {mix: synthetic.MIXES[mix] for mix in args.mixes},
        "rows": rows,
    }


COLUMNS = [
    "model",
    "mix",
    "frames",
    "packed_backend",
    "packed_tokens_per_s",
    "padded_tokens_per_s",
    "packed_speedup",
    "packed_fill_vs_budget",
    "packed_fill_excl_last",
    "padded_useful_fraction",
    "padded_fill_vs_budget",
    "min_cosine_packed_vs_padded",
]


def print_row(row: dict[str, object]) -> None:
    print(
        f"{row['model']:<28} {row['mix']:<9} packed {row['packed_tokens_per_s']:>10,.0f} tok/s "
        f"({row['packed_backend']}, fill {row['packed_fill_vs_budget']:.3f})  "
        f"padded {row['padded_tokens_per_s']:>10,.0f} tok/s (useful {row['padded_useful_fraction']:.3f})  "
        f"speed-up x{row['packed_speedup']}  "
        f"min cos {row['min_cosine_packed_vs_padded']}",
        flush=True,
    )


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cpu", help="cpu or cuda[:N] (default cpu)")
    parser.add_argument("--esm-shape", default="esm2_t12_35M", choices=sorted(ESM2_SHAPES))
    parser.add_argument("--dnabert-layers", type=int, default=2, help="DNABERT-S depth (real shape: 12)")
    parser.add_argument("--mixes", default="vnp300,vnp500,longtail", type=lambda s: s.split(","))
    parser.add_argument("--frames", type=int, default=192, help="frames per mix")
    parser.add_argument(
        "--token-budget",
        type=int,
        default=CPU_TOKEN_BUDGET,
        help="default: the runner's CPU budget (raised to the longest frame)",
    )
    parser.add_argument("--repeats", type=int, default=3, help="timed passes per layout, alternated")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--quick", action="store_true", help="tiny shapes and 24 frames, for CI; no speed claims")
    parser.add_argument("--json", type=Path, help="write results here")
    args = parser.parse_args(argv)
    args.argv = argv
    unknown = [m for m in args.mixes if m not in synthetic.MIXES]
    if unknown:
        parser.error(f"unknown mix(es) {', '.join(unknown)}: choose from {', '.join(synthetic.MIXES)}")
    return args


def main(argv: Sequence[str] | None = None) -> dict[str, object]:
    args = parse_args(argv)
    results = run(args)
    print(common.markdown_table(results["rows"], COLUMNS))
    if args.json:
        common.write_json(args.json, results)
    return results


if __name__ == "__main__":
    main()
