"""FASTQ input against FASTA input of the same reads: parsing, the translate stage, and memory.

Command that produced the figures in BENCHMARKS.md (from the repository root):

    .venv/bin/python benchmarks/bench_reads.py --json results/bench/reads.json

Quick mode for CI (small sizes, no claims about speed): add `--quick`.

What it measures, on seeded synthetic coding reads written both as FASTA and as FASTQ (plain and gzip,
the same reads, so only the format differs):
1. Parsing, reads per CPU-second: the package's reader (`virnucpro.io.reads.read_reads_bytes`: the
   hand-written block reader for FASTA, dnaio plus the package's checks for FASTQ) against
   `handwritten_fastq` below, a block-based FASTQ reader in the style of the FASTA reader, with the same
   per-record checks but no line-numbered messages: what keeping FASTQ parsing in-house would cost.
2. The translate stage, file to files, FASTQ against FASTA: the target is FASTQ within 1.5x of FASTA.
   Both must write byte-identical outputs.
3. Peak resident memory of `virnucpro translate` on gzipped FASTQ of growing size: flat memory means the
   figure does not grow with the input.

Times are process CPU seconds (user + system), variants alternated, best of `--repeats`, so the load of a
shared machine barely moves the ratios.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from virnucpro.io.fasta import IUPAC_NUCLEOTIDE
from virnucpro.io.reads import read_reads_bytes
from virnucpro.translate import translate_file

from benchmarks.bench_translate import machine, synthetic_reads

SEED = 20240611
_QUALITY = bytes(range(33, 127))


def write_inputs(workdir: Path, count: int, length: int) -> dict[str, Path]:
    """The same reads as FASTA and FASTQ, plain and gzip (level 6, gzip's default), written streaming.

    Streaming matters: the memory figures are the child's peak, and a child starts as a copy of this
    process, so this process must stay small.
    """
    fasta = workdir / f"reads_{count}.fa"
    synthetic_reads(fasta, count, length, SEED)
    fastq = workdir / f"reads_{count}.fq"
    rng = np.random.default_rng(SEED)
    with open(fasta, "rb") as source, open(fastq, "wb") as target:
        for header in source:
            sequence = next(source).rstrip(b"\n")
            quality = rng.integers(35, 75, size=len(sequence), dtype=np.uint8).tobytes()
            target.write(b"@%s 1:N:0:ACGTACGT\n%s\n+\n%s\n" % (header[1:].rstrip(b"\n"), sequence, quality))
    paths = {"fasta": fasta, "fastq": fastq}
    for name, path in list(paths.items()):
        packed = path.with_name(path.name + ".gz")
        with open(path, "rb") as source, gzip.open(packed, "wb", compresslevel=6) as target:
            shutil.copyfileobj(source, target, 1 << 20)
        paths[f"{name}.gz"] = packed
    return paths


def handwritten_fastq(path: Path) -> Iterator[tuple[str, bytes, int]]:
    """The in-house alternative: 4 MB blocks split into lines, four lines a record, the package's checks."""
    with open(path, "rb") as handle:
        opener = gzip.open if handle.read(2) == b"\x1f\x8b" else open
    count, rest = 0, b""
    with opener(path, "rb") as handle:
        while block := handle.read(1 << 22):
            lines = (rest + block).split(b"\n")
            whole = (len(lines) - 1) // 4 * 4
            rest = b"\n".join(lines[whole:])
            for header, sequence, plus, quality in zip(
                lines[0:whole:4], lines[1:whole:4], lines[2:whole:4], lines[3:whole:4], strict=True
            ):
                if header[:1] != b"@" or plus[:1] != b"+" or len(sequence) != len(quality):
                    raise ValueError(f"{path}: bad record {count + 1}")
                sequence = sequence.upper()
                if not sequence or sequence.translate(None, IUPAC_NUCLEOTIDE) or quality.translate(None, _QUALITY):
                    raise ValueError(f"{path}: bad record {count + 1}")
                yield header[1:].split(None, 1)[0].decode(), sequence, 4 * count + 1
                count += 1


def cpu_seconds(run: Callable[[], object]) -> float:
    started = time.process_time()
    run()
    return time.process_time() - started


def best_of(variants: dict[str, Callable[[], object]], repeats: int) -> dict[str, float]:
    """Best CPU seconds of each variant over `repeats` rounds, alternating the order every round."""
    names = list(variants)
    best = dict.fromkeys(names, float("inf"))
    for repeat in range(repeats):
        for name in names if repeat % 2 == 0 else reversed(names):
            best[name] = min(best[name], cpu_seconds(variants[name]))
    return best


def count_reads(reader: Callable[[Path], Iterator[object]], path: Path) -> Callable[[], int]:
    return lambda: sum(1 for _ in reader(path))


def measure_parsing(paths: dict[str, Path], count: int, repeats: int) -> list[dict]:
    """Reads per CPU-second of each reader on each input form."""
    rows = []
    for compression in ("", ".gz"):
        seconds = best_of(
            {
                "fasta (package)": count_reads(read_reads_bytes, paths[f"fasta{compression}"]),
                "fastq (package: dnaio)": count_reads(read_reads_bytes, paths[f"fastq{compression}"]),
                "fastq (hand-written)": count_reads(handwritten_fastq, paths[f"fastq{compression}"]),
            },
            repeats,
        )
        for name, value in seconds.items():
            rows.append(
                {"input": name, "gzip": bool(compression), "reads": count, "reads_per_cpu_s": round(count / value)}
            )
    return rows


def measure_translate(paths: dict[str, Path], workdir: Path, count: int, repeats: int, length: int) -> list[dict]:
    """The translate stage on FASTA and FASTQ of the same reads; FASTQ/FASTA CPU ratio; outputs compared."""
    rows = []
    for compression in ("", ".gz"):
        out = {form: workdir / f"translate_{form}{compression}" for form in ("fasta", "fastq")}
        runs = {form: _translate_run(paths[f"{form}{compression}"], out[form], length) for form in out}
        seconds = best_of(runs, repeats)
        identical = all(
            (out["fasta"] / name).read_bytes() == (out["fastq"] / name).read_bytes()
            for name in ("nucleotide.fa", "protein.faa", "chunks.tsv")
        )
        rows.append(
            {
                "gzip": bool(compression),
                "reads": count,
                "fasta_reads_per_cpu_s": round(count / seconds["fasta"]),
                "fastq_reads_per_cpu_s": round(count / seconds["fastq"]),
                "fastq_over_fasta_cpu": round(seconds["fastq"] / seconds["fasta"], 2),
                "identical_output": identical,
            }
        )
    return rows


def _translate_run(reads: Path, outdir: Path, length: int) -> Callable[[], object]:
    return lambda: translate_file(reads, outdir, chunk_length=length)


def measure_memory(workdir: Path, count: int, length: int) -> dict:
    """Peak RSS, CPU and wall seconds of `virnucpro translate` on `count` gzipped FASTQ reads."""
    paths = write_inputs(workdir, count, length)
    command = [sys.executable, "-m", "virnucpro", "--quiet", "translate", str(paths["fastq.gz"])]
    command += ["--chunk-length", str(length), "--outdir", str(workdir / f"memory_{count}")]
    started = time.perf_counter()
    child = subprocess.Popen(command)
    _, status, usage = os.wait4(child.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"virnucpro translate failed on {count} FASTQ reads")
    row = {
        "reads": count,
        "input_mb": round(paths["fastq.gz"].stat().st_size / 1e6, 1),
        "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 2),
        "wall_s": round(time.perf_counter() - started, 2),
    }
    for path in paths.values():
        path.unlink()
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small sizes for CI; no speed claims")
    parser.add_argument("--json", type=Path, help="write the results here as JSON")
    parser.add_argument("--workdir", type=Path, help="scratch directory (default: a temporary one)")
    parser.add_argument("--length", type=int, default=150, help="read length and chunk length (default 150)")
    args = parser.parse_args()
    count, repeats = (2_000, 1) if args.quick else (200_000, 3)
    memory_sizes = [1_000, 5_000] if args.quick else [10_000, 100_000, 1_000_000]
    with tempfile.TemporaryDirectory(dir=args.workdir) as scratch:
        workdir = Path(scratch)
        memory = [measure_memory(workdir, size, args.length) for size in memory_sizes]  # while this process is small
        paths = write_inputs(workdir, count, args.length)
        results = {
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "machine": {**machine(), "load_average_1m": round(os.getloadavg()[0], 2)},
            "quick": args.quick,
            "read_length": args.length,
            "parsing": measure_parsing(paths, count, repeats),
            "translate": measure_translate(paths, workdir, count, repeats, args.length),
            "memory": memory,
        }
    print_tables(results)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    if not all(row["identical_output"] for row in results["translate"]):
        raise SystemExit("FASTA and FASTQ inputs gave different translate outputs")


def print_tables(results: dict) -> None:
    """The three tables as aligned text (the parent imports no torch, so child memory figures stay clean)."""
    print(f"machine: {results['machine']}")
    for rows in (results["parsing"], results["translate"], results["memory"]):
        columns = list(rows[0])
        print("  ".join(f"{column:>22}" for column in columns))
        for row in rows:
            print("  ".join(f"{row[column]!s:>22}" for column in columns))


if __name__ == "__main__":
    main()
