"""The published model sizes on CPU: load time and peak memory of `embed`, and ESM-2 3B against fair-esm.

Needs the random full-size checkpoints (`virnucpro make-test-models DIR --full-size`, 6.3 GB) and real
frames (any `virnucpro translate` output). Every model runs in a child process of its own, one after the
other (a 3B model in float32 is 11.4 GB): before each, the script waits until the machine has the memory
free. Each child reports

- load: seconds in `load_embedding_model`, resident memory before it (interpreter and libraries) and the
  peak during it (VmHWM), against the size of the weights in the compute dtype;
- embed: `embed_file` of `--frames` frames end to end (the stage the CLI runs), its seconds and peak.

Then fair-esm's own ESM2 forward (its modules, its batch converter, float32) embeds the first `--compare`
frames and the vectors are compared with ours: max absolute difference and cosine. fair-esm's loader
would read the whole file and build random float32 weights first (17 GB here), so its network is built on
the meta device and given the same checkpoint tensors cast to float32, one at a time.

    python benchmarks/bench_real_sizes.py --models DIR --frames-dir FRAMES --json results/bench/real_sizes.json
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import common

GIB = 2**30


def meminfo_gib(field: str = "MemAvailable") -> float:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024 / GIB
    raise KeyError(field)


def status_gib(field: str) -> float:
    """VmRSS / VmHWM of this process, GiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024 / GIB
    raise KeyError(field)


def wait_for_memory(needed_gib: float, patience_s: float) -> float:
    """Block until MemAvailable >= needed (re-checked every 30 s); the amount found. Gives up after patience."""
    deadline = time.monotonic() + patience_s
    while True:
        available = meminfo_gib()
        if available >= needed_gib:
            return available
        if time.monotonic() > deadline:
            raise SystemExit(f"bench_real_sizes: only {available:.1f} GiB free, {needed_gib:.1f} needed; gave up")
        print(f"waiting: {available:.1f} GiB free, {needed_gib:.1f} needed", flush=True)
        time.sleep(30)


def child_ours(kind: str, model: str, frames: Path, out: Path) -> dict[str, object]:
    """Load and embed with the production stage in this process; record memory around the load."""
    import torch
    from virnucpro import embed as stage
    from virnucpro.io.embeddings import read_embeddings

    torch.set_num_threads(2)
    record: dict[str, object] = {"rss_before_load_gib": status_gib("VmRSS")}
    real_load = stage._load_model

    def measured_load(*args, **kwargs):
        record["rss_at_load_start_gib"] = status_gib("VmRSS")
        record["peak_before_load_gib"] = round(status_gib("VmHWM"), 2)
        loaded, seconds = real_load(*args, **kwargs)
        weights = sum(t.numel() * t.element_size() for t in loaded.network.state_dict().values())
        record.update(
            load_s=round(seconds, 1),
            peak_after_load_gib=round(status_gib("VmHWM"), 2),
            weights_gib=round(weights / GIB, 2),
            dtype=str(loaded.dtype),
        )
        return loaded, seconds

    stage._load_model = measured_load
    started = time.monotonic()
    metrics = stage.embed_file(frames, out, model_kind=kind, model=model, device="cpu", progress_bar=False)
    record.update(
        embed_total_s=round(time.monotonic() - started, 1),
        compute_s=round(metrics.wall_s - metrics.model_load_s, 1),
        frames=metrics.sequences,
        peak_total_gib=round(status_gib("VmHWM"), 2),
    )
    load_growth = record["peak_after_load_gib"] - record["rss_at_load_start_gib"]
    record["load_peak_over_weights"] = round(load_growth / record["weights_gib"], 3)
    for key in ("rss_before_load_gib", "rss_at_load_start_gib"):
        record[key] = round(record[key], 2)
    np.save(out.with_suffix(".npy"), read_embeddings(out).vectors)
    return record


def child_fair_esm(model: str, frames: Path, count: int, out: Path) -> dict[str, object]:
    """fair-esm's ESM2 forward (float32, one batch) on the first `count` frames: mean over residues."""
    import argparse as namespace_module

    import esm
    import torch
    from virnucpro.io.frames import read_frames
    from virnucpro.models.esm2_checkpoint import read_esm2_checkpoint
    from virnucpro.models.weights import MappedPages

    torch.set_num_threads(2)
    config, _ = read_esm2_checkpoint(Path(model))
    alphabet = esm.data.Alphabet.from_architecture("ESM-1b")
    with torch.device("meta"):
        network = esm.model.esm2.ESM2(
            config.num_layers, config.embed_dim, config.attention_heads, alphabet, config.token_dropout
        )
    with torch.serialization.safe_globals([namespace_module.Namespace]):
        raw = torch.load(model, map_location="cpu", weights_only=True, mmap=True)["model"]
    full = {key.removeprefix("encoder.sentence_encoder.").removeprefix("encoder."): value for key, value in raw.items()}
    pages, placed = MappedPages(Path(model)), {}
    for key in network.state_dict():
        if key in full:  # the contact head is not used by the forward asked for
            placed[key] = full[key].float().clone()
            pages.release(full[key])
    network.load_state_dict(placed, strict=False, assign=True)
    network.eval()
    records = read_frames(frames, "protein")[:count]
    _, _, tokens = alphabet.get_batch_converter()([(r.id, r.sequence) for r in records])
    started = time.monotonic()
    with torch.inference_mode():
        hidden = network(tokens, repr_layers=[config.num_layers])["representations"][config.num_layers]
    vectors = [hidden[i, 1 : len(r.sequence) + 1].mean(0).numpy() for i, r in enumerate(records)]
    np.save(out, np.stack(vectors))
    return {"fair_esm_forward_s": round(time.monotonic() - started, 1), "frames": len(records)}


def run_child(args: list[str], needed_gib: float, patience_s: float) -> dict[str, object]:
    free = wait_for_memory(needed_gib, patience_s)
    command = [sys.executable, __file__, "--child", *args]
    print("$", " ".join(command), f"(free {free:.1f} GiB)", flush=True)
    done = subprocess.run(command, check=True, capture_output=True, text=True)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["free_before_gib"] = round(free, 1)
    result["load_average_1m"] = common.machine_info()["load_average_1m"]
    print(result, flush=True)
    return result


def compare(ours: np.ndarray, theirs: np.ndarray) -> dict[str, float]:
    ours, theirs = ours[: len(theirs)].astype(np.float64), theirs.astype(np.float64)
    cosine = (ours * theirs).sum(1) / np.linalg.norm(ours, axis=1) / np.linalg.norm(theirs, axis=1)
    return {
        "frames": len(theirs),
        "max_abs_diff": float(np.abs(ours - theirs).max()),
        "max_abs_value": float(np.abs(theirs).max()),
        "min_cosine": float(cosine.min()),
    }


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", type=Path, help="directory written by make-test-models --full-size")
    parser.add_argument("--frames-dir", type=Path, help="a translate output directory (protein.faa, nucleotide.fa)")
    parser.add_argument("--frames", type=int, default=20, help="frames embedded per model")
    parser.add_argument("--compare", type=int, default=5, help="frames checked against fair-esm")
    parser.add_argument("--work", type=Path, default=Path("/tmp/bench-real-sizes"))
    parser.add_argument("--patience", type=float, default=1800, help="seconds to wait for free memory")
    parser.add_argument("--skip", action="append", default=[], choices=["esm2", "fair-esm", "dnabert-s"])
    parser.add_argument("--json", type=Path, default=Path("results/bench/real_sizes.json"))
    parser.add_argument("--child", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def first_frames(frames_dir: Path, name: str, count: int, out: Path) -> Path:
    lines = (frames_dir / name).read_text().splitlines()[: 2 * count]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines) + "\n")
    return out


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.child:
        what, *rest = args.child
        if what == "ours":
            result = child_ours(rest[0], rest[1], Path(rest[2]), Path(rest[3]))
        else:
            result = child_fair_esm(rest[0], Path(rest[1]), int(rest[2]), Path(rest[3]))
        print(json.dumps(result))
        return
    work = args.work
    proteins = first_frames(args.frames_dir, "protein.faa", args.frames, work / "protein.faa")
    nucleotides = first_frames(args.frames_dir, "nucleotide.fa", args.frames, work / "nucleotide.fa")
    esm2 = next(args.models.glob("esm2_*.pt"))
    esm2 = esm2 if "contact" not in esm2.name else next(p for p in args.models.glob("esm2_*.pt") if p != esm2)
    results: dict[str, object] = {"command": common.command_line(), "machine": common.machine_info()}
    results["git"] = common.git_revision()
    if "dnabert-s" not in args.skip:
        child = ["ours", "dnabert-s", str(args.models / "dnabert-s"), str(nucleotides), str(work / "dnabert.emb")]
        results["dnabert-s"] = run_child(child, 3, args.patience)
    if "esm2" not in args.skip:
        child = ["ours", "esm2", str(esm2), str(proteins), str(work / "esm2.emb")]
        results["esm2"] = run_child(child, 15, args.patience)
    if "fair-esm" not in args.skip:
        child = ["fair-esm", str(esm2), str(proteins), str(args.compare), str(work / "fair_esm.npy")]
        results["fair-esm"] = run_child(child, 15, args.patience)
        results["agreement"] = compare(np.load(work / "esm2.npy"), np.load(work / "fair_esm.npy"))
        print("agreement:", results["agreement"], flush=True)
    common.write_json(args.json, results)


if __name__ == "__main__":
    main()
