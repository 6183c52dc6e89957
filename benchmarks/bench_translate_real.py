"""`virnucpro translate` against the original chunk + identify loop on real DNA, whole process each.

Input: `--fragments` fragments of `--length` bp cut from the real viral and host genomes of
`benchmarks/real_dna.py` (half viral, half host; 10,000 x 3 kb and 300 bp chunks give ~100k chunks).
Each side runs as its own process, alternating (ours, original, original, ours, ...): `virnucpro
translate` and `bench_translate.naive_translate_file` (the published loop: one dictionary lookup per
codon). CPU seconds (user + system) come from `os.wait4`, so the load of the machine changes them
little; wall seconds and the load average are reported beside them. Both outputs must be byte-identical.

    python benchmarks/bench_translate_real.py --source BIOPYTHON/Tests --json results/bench/translate_real.json
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import common, real_dna


def run(command: list[str]) -> dict[str, float]:
    load = os.getloadavg()[0]
    started = time.monotonic()
    child = subprocess.Popen(command)
    _, status, usage = os.wait4(child.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"bench_translate_real: {' '.join(command)} failed")
    return {
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 2),
        "wall_s": round(time.monotonic() - started, 2),
        "load_average_before": round(load, 2),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--source", type=Path, help="Tests/ of Biopython's source archive (see real_dna.py)")
    parser.add_argument("--fragments", type=int, default=10_000)
    parser.add_argument("--length", type=int, default=3000)
    parser.add_argument("--chunk-length", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--work", type=Path, default=Path("/tmp/bench-translate-real"))
    parser.add_argument("--json", type=Path, default=Path("results/bench/translate_real.json"))
    parser.add_argument("--naive-child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.naive_child:
        from benchmarks.bench_translate import naive_translate_file

        reads, outdir, chunk = args.naive_child
        naive_translate_file(Path(reads), Path(outdir), int(chunk))
        return
    reads = args.work / "fragments.fa"
    half = args.fragments // 2
    real_dna.write_reads(args.source, reads, viral=half, host=args.fragments - half, length=args.length, seed=3)
    chunk = str(args.chunk_length)
    commands = {
        "ours": [sys.executable, "-m", "virnucpro", "--quiet", "translate", str(reads)],
        "original": [sys.executable, __file__, "--naive-child", str(reads), str(args.work / "original"), chunk],
    }
    commands["ours"] += ["--chunk-length", chunk, "--outdir", str(args.work / "ours")]
    runs: dict[str, list[dict[str, float]]] = {"ours": [], "original": []}
    for repeat in range(args.repeats):
        for name in ("ours", "original") if repeat % 2 == 0 else ("original", "ours"):
            runs[name].append(run(commands[name]))
            print(name, runs[name][-1], flush=True)
    identical = all(
        (args.work / "ours" / name).read_bytes() == (args.work / "original" / name).read_bytes()
        for name in ("nucleotide.fa", "protein.faa")
    )
    chunks = (args.work / "ours" / "chunks.tsv").read_text().count("\n") - 1
    ratios = [o["cpu_s"] / u["cpu_s"] for o, u in zip(runs["original"], runs["ours"], strict=True)]
    results = {
        "command": common.command_line(),
        "machine": common.machine_info(),
        "git": common.git_revision(),
        "fragments": args.fragments,
        "fragment_length": args.length,
        "chunks": chunks,
        "frames": (args.work / "ours" / "protein.faa").read_text().count(">"),
        "runs": runs,
        "cpu_speedup_per_repeat": [round(r, 2) for r in ratios],
        "cpu_speedup_median": round(statistics.median(ratios), 2),
        "identical_output": identical,
    }
    print({k: v for k, v in results.items() if k not in ("runs", "machine")}, flush=True)
    common.write_json(args.json, results)
    if not identical:
        raise SystemExit("bench_translate_real: outputs differ")


if __name__ == "__main__":
    main()
