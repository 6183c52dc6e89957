"""`virnucpro embed` side by side with the original tool's embedding loops, on the same frames and models.

Frames: the first `--viral` viral and `--host` host frames of a `virnucpro translate` output made from
real DNA (`benchmarks/real_dna.py`). Models: random mid-size checkpoints in the published formats,
written once into `--models-dir`: DNABERT-S 4 x 768 (Hugging Face directory, 4096-token vocabulary)
and ESM-2 36 x 320 (fair-esm `.pt`, float32). The original's method is `benchmarks/original_method.py`.

Every variant runs in a child process of its own with the same thread count (OMP_NUM_THREADS and
torch.set_num_threads), alternating ours / original, original / ours over the repeats; each child
times its embedding loop alone (model load excluded), and its CPU seconds come from `os.wait4`. The
load average is sampled before every child. The outputs are compared vector by vector (by frame ID).

    python benchmarks/bench_vs_original.py --frames-dir FRAMES --json results/bench/vs_original.json
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import common

DNABERT_MID = {"hidden_size": 768, "num_hidden_layers": 4, "num_attention_heads": 12, "intermediate_size": 3072}
ESM2_MID = {"num_layers": 36, "embed_dim": 320, "heads": 20}
ESM2_MID_FILE = "esm2_t36_320_random.pt"
FILES = {"dnabert-s": "nucleotide.fa", "esm2": "protein.faa"}


def write_mid_models(directory: Path) -> dict[str, Path]:
    """The two mid-size checkpoints (written once, seed 0)."""
    from virnucpro.models.tiny_checkpoints import TinyDnabertSpec, write_dnabert_s_dir, write_esm2_checkpoint

    paths = {"dnabert-s": directory / "dnabert-s-4x768", "esm2": directory / ESM2_MID_FILE}
    if not (paths["dnabert-s"] / "pytorch_model.bin").is_file():
        write_dnabert_s_dir(paths["dnabert-s"], TinyDnabertSpec(**DNABERT_MID, vocab_size=4096), seed=0)
    if not paths["esm2"].is_file():
        write_esm2_checkpoint(paths["esm2"], **ESM2_MID, seed=0)
    return paths


def select_frames(frames_dir: Path, viral: int, host: int, out: Path) -> dict[str, Path]:
    """The first `viral` frames whose ID starts `vir` and `host` starting `host`, both frame files alike."""
    out.mkdir(parents=True, exist_ok=True)
    written = {}
    for kind, name in FILES.items():
        lines = (frames_dir / name).read_text().splitlines()
        records = list(zip(lines[0::2], lines[1::2], strict=True))
        chosen = [r for r in records if r[0].startswith(">vir")][:viral] + [
            r for r in records if r[0].startswith(">host")
        ][:host]
        written[kind] = out / name
        written[kind].write_text("".join(f"{header}\n{sequence}\n" for header, sequence in chosen))
    return written


def child(variant: str, kind: str, model: Path, fasta: Path, out: Path, threads: int) -> dict[str, object]:
    """Embed in this process; time the embedding alone; save IDs and vectors."""
    import torch

    torch.set_num_threads(threads)
    if variant == "ours":
        from virnucpro import embed as stage
        from virnucpro.io.embeddings import read_embeddings

        metrics = stage.embed_file(fasta, out, model_kind=kind, model=str(model), device="cpu", progress_bar=False)
        table = read_embeddings(out)
        ids, vectors, seconds = list(table.ids), table.vectors, metrics.wall_s - metrics.model_load_s
    else:
        from benchmarks import original_method as original

        if kind == "dnabert-s":
            network, tokenizer = original.load_original_dnabert(model)
            lines = fasta.read_text().splitlines()
            ids, sequences = [h[1:] for h in lines[0::2]], lines[1::2]
            started = time.monotonic()
            vectors = original.original_dnabert_loop(network, tokenizer, sequences)
        else:
            network, alphabet = original.load_original_esm2(model)
            started = time.monotonic()
            ids, vectors = original.original_esm2_loop(network, alphabet, fasta)
        seconds = time.monotonic() - started
    np.save(out.with_suffix(".npy"), np.asarray(vectors, dtype=np.float32))
    out.with_suffix(".ids").write_text("\n".join(ids) + "\n")
    return {"embed_s": round(seconds, 2), "frames": len(ids)}


def gemm_child(hidden: int, inner: int, rows: list[int], threads: int) -> dict[str, object]:
    """GFLOP/s of the model's feed-forward matrix product (rows x hidden @ hidden x inner) per row count.

    Best of several timed repeats: what this machine's matrix unit gives the model at that moment, the
    ceiling against which the embedding loops' useful GFLOP/s are read.
    """
    import torch

    torch.set_num_threads(threads)
    rates = {}
    for count in rows:
        a, b = torch.randn(count, hidden), torch.randn(hidden, inner)
        repeats = max(3, 2_000_000_000 // (2 * count * hidden * inner))
        best = float("inf")
        for _ in range(5):
            started = time.perf_counter()
            for _ in range(repeats):
                torch.mm(a, b)
            best = min(best, (time.perf_counter() - started) / repeats)
        rates[str(count)] = round(2 * count * hidden * inner / best / 1e9, 1)
    return {"gemm_gflops_by_rows": rates}


def model_flops(kind: str, model: Path, fasta: Path) -> tuple[float, list[int]]:
    """Useful model FLOPs of embedding `fasta` (matrix products, real tokens only) and the token counts."""
    from virnucpro.models.dnabert_s_checkpoint import read_dnabert_s_config, resolve_dnabert_s
    from virnucpro.models.dnabert_s_tokenizer import DnabertTokenizer
    from virnucpro.models.esm2 import ESM2Config
    from virnucpro.models.esm2_alphabet import tokenize_protein

    from benchmarks import flops

    sequences = fasta.read_text().splitlines()[1::2]
    if kind == "dnabert-s":
        files = resolve_dnabert_s(str(model))
        tokenizer = DnabertTokenizer(files.tokenizer)
        lengths = [len(tokenizer.encode(s)) for s in sequences]
        return flops.dnabert_flops(read_dnabert_s_config(files.config), lengths), lengths
    lengths = [len(tokenize_protein(s)) for s in sequences]
    config = ESM2Config(ESM2_MID["num_layers"], ESM2_MID["embed_dim"], ESM2_MID["heads"], True)
    return flops.esm2_flops(config, lengths), lengths


def run_child(variant: str, kind: str, model: Path, fasta: Path, out: Path, threads: int) -> dict[str, object]:
    """One child process; its own timing plus CPU seconds and peak RSS from os.wait4."""
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)}
    command = [sys.executable, __file__, "--child", variant, kind, str(model), str(fasta), str(out), str(threads)]
    if variant == "gemm":
        command = [sys.executable, __file__, "--gemm-child", kind, str(threads)]
    load = os.getloadavg()[0]
    started = time.monotonic()
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True)
    stdout = process.stdout.read() if process.stdout else ""
    _, status, usage = os.wait4(process.pid, 0)
    if status != 0:
        raise SystemExit(f"bench_vs_original: {variant} {kind} failed (status {status})")
    result = json.loads(stdout.strip().splitlines()[-1])
    result.update(
        variant=variant,
        process_wall_s=round(time.monotonic() - started, 1),
        cpu_s=round(usage.ru_utime + usage.ru_stime, 1),
        peak_rss_mb=round(usage.ru_maxrss / 1024),
        load_average_before=round(load, 2),
    )
    print(kind, result, flush=True)
    return result


def agreement(work: Path, kind: str) -> dict[str, float]:
    """Max absolute difference and minimum cosine of our vectors against the original's, by frame ID."""
    vectors = {}
    for variant in ("ours", "original"):
        stem = work / f"{kind}-{variant}"
        ids = stem.with_suffix(".ids").read_text().split()
        vectors[variant] = dict(zip(ids, np.load(stem.with_suffix(".npy")).astype(np.float64), strict=True))
    common_ids = sorted(vectors["ours"])
    ours = np.stack([vectors["ours"][i] for i in common_ids])
    theirs = np.stack([vectors["original"][i] for i in common_ids])
    cosine = (ours * theirs).sum(1) / np.linalg.norm(ours, axis=1) / np.linalg.norm(theirs, axis=1)
    return {
        "frames": len(common_ids),
        "max_abs_diff": float(np.abs(ours - theirs).max()),
        "max_abs_value": float(np.abs(theirs).max()),
        "min_cosine": float(cosine.min()),
    }


def side_by_side(kind: str, model: Path, fasta: Path, work: Path, threads: int, repeats: int) -> dict[str, object]:
    """Alternate ours / original `repeats` times; median seconds and the per-repeat speed-ups."""
    runs: dict[str, list[dict[str, object]]] = {"ours": [], "original": []}
    for repeat in range(repeats):
        order = ("ours", "original") if repeat % 2 == 0 else ("original", "ours")
        for variant in order:
            out = work / f"{kind}-{variant}.emb"
            runs[variant].append(run_child(variant, kind, model, fasta, out, threads))
    ratios = [o["embed_s"] / u["embed_s"] for o, u in zip(runs["original"], runs["ours"], strict=True)]
    useful, lengths = model_flops(kind, model, fasta)
    gemm = run_child("gemm", kind, model, fasta, work / "gemm", threads)
    roofline = {
        "model_gflop": round(useful / 1e9, 1),
        "tokens": sum(lengths),
        "mean_tokens_per_frame": round(sum(lengths) / len(lengths), 1),
        "ours_gflops": round(useful / 1e9 / float(np.median([r["embed_s"] for r in runs["ours"]])), 1),
        "original_gflops": round(useful / 1e9 / float(np.median([r["embed_s"] for r in runs["original"]])), 1),
        **gemm,
    }
    return {
        "roofline": roofline,
        "runs": runs,
        "speedup_per_repeat": [round(r, 2) for r in ratios],
        "speedup_median": round(float(np.median(ratios)), 2),
        "cpu_speedup_median": round(
            float(np.median([o["cpu_s"] / u["cpu_s"] for o, u in zip(runs["original"], runs["ours"], strict=True)])),
            2,
        ),
        "agreement": agreement(work, kind),
    }


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames-dir", type=Path, help="virnucpro translate output of real reads")
    parser.add_argument("--viral", type=int, default=1000)
    parser.add_argument("--host", type=int, default=1000)
    parser.add_argument("--models-dir", type=Path, default=Path("/tmp/vnp-mid-models"))
    parser.add_argument("--work", type=Path, default=Path("/tmp/bench-vs-original"))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--kinds", default="dnabert-s,esm2")
    parser.add_argument("--json", type=Path, default=Path("results/bench/vs_original.json"))
    parser.add_argument("--child", nargs=6, help=argparse.SUPPRESS)
    parser.add_argument("--gemm-child", nargs=2, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.gemm_child:
        kind, threads = args.gemm_child
        hidden, inner = (768, 2 * 3072) if kind == "dnabert-s" else (320, 1280)
        print(json.dumps(gemm_child(hidden, inner, [64, 128, 512, 2048], int(threads))))
        return
    if args.child:
        variant, kind, model, fasta, out, threads = args.child
        print(json.dumps(child(variant, kind, Path(model), Path(fasta), Path(out), int(threads))))
        return
    models = write_mid_models(args.models_dir)
    frames = select_frames(args.frames_dir, args.viral, args.host, args.work)
    results: dict[str, object] = {
        "command": common.command_line(),
        "machine": common.machine_info(),
        "git": common.git_revision(),
        "threads": args.threads,
    }
    for kind in args.kinds.split(","):
        results[kind] = side_by_side(kind, models[kind], frames[kind], args.work, args.threads, args.repeats)
        print(kind, {k: v for k, v in results[kind].items() if k != "runs"}, flush=True)
        common.write_json(args.json, results)


if __name__ == "__main__":
    main()
