"""Throughput and memory of the translate stage, against a naive per-codon dictionary loop.

Command that produced the figures in docs/translate.md (from the repository root):

    .venv/bin/python benchmarks/bench_translate.py --json results/bench_translate.json

Quick mode for CI (small sizes, no claims about speed): add `--quick`.

What it measures:
1. Reads per CPU second, file to files, for 300 bp reads (--chunk-length 300) and 500 bp reads
   (--chunk-length 500): `virnucpro.translate.translate_file` (validation, chunks.tsv and all) against
   `naive_translate_file` below, a plain restatement of the published tool (Biopython-free parsing, the
   published chunk loop, one dictionary lookup per codon). Both outputs must be byte-identical.
2. Peak resident memory (ru_maxrss of the child, via os.wait4) and CPU time of the `virnucpro translate`
   command on 10k, 100k and 1M reads of 300 bp: flat memory means the figure does not grow with the
   input. Interpreter start-up and imports are included in these times.

Reads are synthetic and seeded: open reading frames built from sense codons on a random strand with a few
N runs, so frames are kept as in real coding sequence (random sequence would keep almost none).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from virnucpro.codon import CODON_TABLE
from virnucpro.translate import translate_file

SEED = 20240611
SENSE = [codon for codon, amino in CODON_TABLE.items() if amino != "*"]
COMPLEMENT = bytes.maketrans(b"ACGT", b"TGCA")


def synthetic_reads(path: Path, count: int, length: int, seed: int = SEED) -> None:
    """Write `count` coding reads of `length` bp, one line each, built from sense codons (numpy, fast).

    5% of reads carry an N run, so the dropped-codon path is timed too.
    """
    rng = np.random.default_rng(seed)
    codons = np.frombuffer("".join(SENSE).encode(), dtype=np.uint8).reshape(-1, 3)
    per_read = length // 3 + 1
    with open(path, "wb") as handle:
        for start in range(0, count, 10_000):
            batch = min(10_000, count - start)
            picks = codons[rng.integers(0, len(SENSE), size=(batch, per_read))].reshape(batch, -1)[:, :length]
            strands = rng.random(batch) < 0.5
            ambiguous = rng.random(batch) < 0.05
            lines = []
            for row, (seq, reverse, has_n) in enumerate(zip(picks, strands, ambiguous, strict=True)):
                bases = seq.tobytes()
                if reverse:
                    bases = bases[::-1].translate(COMPLEMENT)
                if has_n:
                    at = (start + row) * 7 % (length - 5)
                    bases = bases[:at] + b"NNNNN" + bases[at + 5 :]
                lines.append(b">read_%d\n%s\n" % (start + row, bases))
            handle.write(b"".join(lines))


def naive_translate_file(path: Path, outdir: Path, chunk_length: int) -> None:
    """The baseline: the published procedure written plainly, one dictionary lookup per codon."""
    outdir.mkdir(parents=True, exist_ok=True)
    complement = str.maketrans("ACGTacgt", "TGCAtgca")
    with open(outdir / "nucleotide.fa", "w") as dna_out, open(outdir / "protein.faa", "w") as protein_out:
        for record_id, sequence in _naive_records(path):
            for index, chunk in enumerate(_naive_chunks(sequence.upper(), chunk_length), start=1):
                reverse = chunk.translate(complement)[::-1]
                strands = [chunk] * 3 + [reverse] * 3
                for num, strand in enumerate(strands, start=1):
                    frame = (num - 1) % 3
                    protein = "".join(CODON_TABLE.get(strand[i : i + 3], "") for i in range(frame, len(strand) - 2, 3))
                    if protein and "*" not in protein:
                        name = f"{record_id}_chunk_{index}{'F' if num <= 3 else 'R'}{frame + 1}"
                        dna_out.write(f">{name}\n{strand[frame : frame + 1 + 3 * len(protein)]}\n")
                        protein_out.write(f">{name}\n{protein}\n")


def _naive_records(path: Path):
    record_id, lines = None, []
    with open(path) as handle:
        for line in handle:
            if line.startswith(">"):
                if record_id is not None:
                    yield record_id, "".join(lines)
                record_id, lines = line[1:].split()[0], []
            else:
                lines.append(line.strip())
    if record_id is not None:
        yield record_id, "".join(lines)


def _naive_chunks(sequence: str, size: int) -> list[str]:
    length = len(sequence)
    count = -(-length // size)
    repeat = count * size - length
    low = int(repeat / count)
    need = repeat - low * (count - 1)
    overlaps = [low + 1] * need + [low] * (count - 1 - need) + [0]
    chunks, move = [], 0
    for a, b in zip(range(0, length, size), overlaps, strict=False):
        chunks.append(sequence[a - move : a - move + size])
        move += b
    return chunks


def measure_speed(workdir: Path, count: int, length: int, repeats: int) -> dict:
    """Reads per second of the fast stage and the naive baseline on the same file; outputs compared.

    Times are process CPU seconds (best of `repeats`), so other load on the machine does not skew the
    ratio; wall-clock seconds are reported next to them.
    """
    reads = workdir / f"speed_{length}.fa"
    synthetic_reads(reads, count, length)
    cpu, wall = {}, {}
    for name, run in (("fast", translate_file_quiet), ("naive", naive_translate_file)):
        cpu[name], wall[name] = float("inf"), float("inf")
        for _ in range(repeats):
            start_cpu, start_wall = time.process_time(), time.perf_counter()
            run(reads, workdir / f"{name}_{length}", length)
            cpu[name] = min(cpu[name], time.process_time() - start_cpu)
            wall[name] = min(wall[name], time.perf_counter() - start_wall)
    identical = all(
        (workdir / f"fast_{length}" / f).read_bytes() == (workdir / f"naive_{length}" / f).read_bytes()
        for f in ("nucleotide.fa", "protein.faa")
    )
    frames = (workdir / f"fast_{length}" / "protein.faa").read_bytes().count(b">")
    return {
        "read_length": length,
        "chunk_length": length,
        "reads": count,
        "frames_kept": frames,
        "fast_reads_per_cpu_s": round(count / cpu["fast"]),
        "naive_reads_per_cpu_s": round(count / cpu["naive"]),
        "speedup": round(cpu["naive"] / cpu["fast"], 1),
        "fast_wall_s": round(wall["fast"], 3),
        "naive_wall_s": round(wall["naive"], 3),
        "identical_output": identical,
    }


def translate_file_quiet(path: Path, outdir: Path, chunk_length: int) -> None:
    translate_file(path, outdir, chunk_length=chunk_length)


def measure_memory(workdir: Path, count: int, length: int = 300) -> dict:
    """Peak RSS and wall time of `virnucpro translate` as a child process on `count` reads."""
    reads = workdir / f"memory_{count}.fa"
    synthetic_reads(reads, count, length)
    command = [sys.executable, "-m", "virnucpro", "--quiet", "translate", str(reads)]
    command += ["--chunk-length", str(length), "--outdir", str(workdir / f"memory_{count}")]
    start = time.perf_counter()
    child = subprocess.Popen(command)
    _, status, usage = os.wait4(child.pid, 0)
    elapsed = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise SystemExit(f"virnucpro translate failed on {count} reads (exit {child.returncode})")
    size = reads.stat().st_size
    reads.unlink()
    return {
        "reads": count,
        "input_mb": round(size / 1e6, 1),
        "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),  # ru_maxrss is in KiB on Linux
        "wall_s": round(elapsed, 2),
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 2),
        "reads_per_cpu_s": round(count / (usage.ru_utime + usage.ru_stime)),
    }


def machine() -> dict:
    model = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpus": os.cpu_count(), "cpu_model": model, "python": platform.python_version()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small sizes for CI; no speed claims")
    parser.add_argument("--json", type=Path, help="write the results here as JSON")
    parser.add_argument("--workdir", type=Path, help="scratch directory (default: a temporary one)")
    args = parser.parse_args()
    speed_reads, repeats = (500, 1) if args.quick else (20_000, 3)
    memory_sizes = [1_000, 5_000] if args.quick else [10_000, 100_000, 1_000_000]
    with tempfile.TemporaryDirectory(dir=args.workdir) as scratch:
        workdir = Path(scratch)
        results = {
            "date": time.strftime("%Y-%m-%d"),
            "machine": machine(),
            "quick": args.quick,
            "speed": [measure_speed(workdir, speed_reads, length, repeats) for length in (300, 500)],
            "memory": [measure_memory(workdir, count) for count in memory_sizes],
        }
    print_table(results)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    if not all(row["identical_output"] for row in results["speed"]):
        raise SystemExit("fast and naive outputs differ")


def print_table(results: dict) -> None:
    print(f"machine: {results['machine']}")
    print(f"{'read bp':>8} {'reads':>8} {'fast reads/cpu-s':>17} {'naive reads/cpu-s':>18} {'speedup':>8} identical")
    for row in results["speed"]:
        print(
            f"{row['read_length']:>8} {row['reads']:>8} {row['fast_reads_per_cpu_s']:>17} "
            f"{row['naive_reads_per_cpu_s']:>18} {row['speedup']:>7}x {row['identical_output']}"
        )
    print(f"{'reads':>10} {'input MB':>9} {'peak RSS MB':>12} {'wall s':>8} {'cpu s':>7} {'reads/cpu-s':>12}")
    for row in results["memory"]:
        print(
            f"{row['reads']:>10} {row['input_mb']:>9} {row['peak_rss_mb']:>12} {row['wall_s']:>8} "
            f"{row['cpu_s']:>7} {row['reads_per_cpu_s']:>12}"
        )


if __name__ == "__main__":
    main()
