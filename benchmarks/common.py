"""What every benchmark shares: the machine description, interleaved timing, and result files.

CPU figures on a shared machine are only meaningful as ratios measured in one run, so variants are
timed alternately (A B, then B A, ...) and each repeat yields its own ratio; the median is reported.
"""

from __future__ import annotations

import json
import os
import platform
import shlex
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import torch

REPO_ROOT = Path(__file__).resolve().parent.parent


def command_line(script: str | None = None, argv: Sequence[str] | None = None) -> str:
    """The command that reproduces this run: `python <script relative to the repo> <arguments>`.

    Args:
        script: the benchmark's `__file__` (None: the script this process runs).
        argv: its arguments (None: this process's command-line arguments).
    """
    path = Path(script or sys.argv[0]).resolve()
    try:
        shown = str(path.relative_to(REPO_ROOT))
    except ValueError:
        shown = str(path)
    arguments = sys.argv[1:] if argv is None else list(argv)
    return " ".join(["python", shlex.quote(shown), *(shlex.quote(a) for a in arguments)])


def cpu_model() -> str:
    """The CPU model name from /proc/cpuinfo (platform's answer elsewhere)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine_info(device: torch.device | None = None) -> dict[str, object]:
    """CPU, core count, load, library versions and (on CUDA) the GPU: enough to compare runs."""
    info: dict[str, object] = {
        "date": time.strftime("%Y-%m-%d %H:%M %Z"),
        "cpu_model": cpu_model(),
        "cpus": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "load_average_1m": round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None,
        "python": platform.python_version(),
        "torch": torch.__version__,
        "git": git_revision(),
    }
    if device is not None and torch.device(device).type == "cuda":
        props = torch.cuda.get_device_properties(device)
        info["gpu"] = props.name
        info["gpu_memory_gib"] = round(props.total_memory / 2**30, 1)
        info["cuda"] = torch.version.cuda
    return info


def git_revision() -> str:
    """The commit measured, with "+changes" when the working tree differs from it ("unknown" outside git)."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no", "--", "python"],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + ("+changes" if dirty else "")


def synchronize(device: torch.device) -> None:
    """Wait for queued device work, so a wall-clock reading covers it (no-op on CPU)."""
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize(device)


def time_call(run: Callable[[], object], device: torch.device) -> float:
    """Seconds `run()` takes, device work included."""
    synchronize(device)
    started = time.perf_counter()
    run()
    synchronize(device)
    return time.perf_counter() - started


def interleaved(
    variants: dict[str, Callable[[], object]], repeats: int, device: torch.device
) -> dict[str, list[float]]:
    """Time each variant `repeats` times, alternating the order every repeat (A B, B A, A B, ...).

    Alternation cancels slow drifts in machine load that would otherwise favour whichever runs first.

    Returns:
        Seconds per variant, one entry per repeat.
    """
    names = list(variants)
    seconds: dict[str, list[float]] = {name: [] for name in names}
    for repeat in range(repeats):
        for name in names if repeat % 2 == 0 else reversed(names):
            seconds[name].append(time_call(variants[name], device))
    return seconds


def median_ratio(numerator: Sequence[float], denominator: Sequence[float]) -> float:
    """Median of the per-repeat ratios (pairs measured next to each other), not a ratio of medians."""
    return statistics.median(n / d for n, d in zip(numerator, denominator, strict=True))


def markdown_table(rows: Sequence[dict[str, object]], columns: Sequence[str]) -> str:
    """A GitHub Markdown table of `rows` restricted to `columns` (missing values shown as '-')."""
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in rows:
        lines.append("| " + " | ".join(_cell(row.get(column)) for column in columns) + " |")
    return "\n".join(lines)


def _cell(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.3g}" if abs(value) < 1000 else f"{value:,.0f}"
    return str(value)


def write_json(path: str | Path, results: dict[str, object]) -> Path:
    """Write `results` as pretty JSON (parents created); returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2, default=str) + "\n")
    return path
