"""The Python packages the GPU benchmark needs beyond torch, carried to a machine that may lack them.

The GPU machine's image has Python and torch but not necessarily numpy, tokenizers, safetensors or pytest,
and it cannot reach a package index. So the wheels are downloaded here, travel with the repository as an
ignored folder, and are unpacked there for the modules its Python cannot import. Standard library only:
this runs before anything is installed.

    python benchmarks/gpu_deps.py download results/gpu-wheels        # here, with pip and an index
    python3 benchmarks/gpu_deps.py unpack results/gpu-wheels DIR     # there; then PYTHONPATH=python:DIR
"""

from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys
import zipfile
from pathlib import Path

# What `gpu_bench.py` and `pytest -m gpu tests/gpu` import beyond torch and the standard library, with
# the packages those need in turn (tokenizers' hub client is only for downloads, so it is left out).
PACKAGES = (
    "numpy",
    "safetensors",
    "tokenizers",
    "rich",
    "markdown-it-py",
    "mdurl",
    "pygments",
    "click",
    "pytest",
    "pluggy",
    "iniconfig",
    "packaging",
    "pytest-timeout",
)
# The GPU machine's image, as last seen: CPython 3.12 on x86-64 Linux.
PYTHON_VERSION = "3.12"
PLATFORMS = ("manylinux_2_28_x86_64", "manylinux_2_17_x86_64", "manylinux2014_x86_64")


def download(directory: Path, python_version: str = PYTHON_VERSION) -> None:
    """Download binary wheels of `PACKAGES` for the GPU image's Python into `directory` (needs pip)."""
    abi = "cp" + python_version.replace(".", "")
    command = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:"]
    command += ["--python-version", python_version, "--implementation", "cp", "--abi", abi]
    for platform in PLATFORMS:
        command += ["--platform", platform]
    subprocess.run([*command, "--dest", str(directory), *PACKAGES], check=True)


def top_level_names(wheel: Path) -> set[str]:
    """The importable top-level names a wheel installs (packages and single-file modules)."""
    names = set()
    with zipfile.ZipFile(wheel) as archive:
        for member in archive.namelist():
            first = member.split("/", 1)[0]
            if first.endswith((".dist-info", ".data")) or first.endswith(".libs"):
                continue
            names.add(first.removesuffix(".py").split(".", 1)[0])
    return names


def unpack_missing(directory: Path, target: Path) -> list[str]:
    """Unpack into `target` every wheel of `directory` some of whose modules this Python cannot import.

    Returns:
        The wheel file names unpacked (none when the image already has everything).
    """
    target.mkdir(parents=True, exist_ok=True)
    sys.path.insert(0, str(target))  # what an earlier run unpacked counts as present
    importlib.invalidate_caches()
    unpacked = []
    for wheel in sorted(directory.glob("*.whl")):
        if all(importlib.util.find_spec(name) is not None for name in top_level_names(wheel)):
            continue
        with zipfile.ZipFile(wheel) as archive:
            archive.extractall(target)
        unpacked.append(wheel.name)
    return unpacked


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="action", required=True)
    get = sub.add_parser("download", help="download the wheels (on a machine with a package index)")
    get.add_argument("directory", type=Path)
    get.add_argument("--python-version", default=PYTHON_VERSION)
    put = sub.add_parser("unpack", help="unpack the wheels whose modules are missing here")
    put.add_argument("directory", type=Path)
    put.add_argument("target", type=Path)
    args = parser.parse_args(argv)
    if args.action == "download":
        download(args.directory, args.python_version)
        return
    if not any(args.directory.glob("*.whl")):
        raise SystemExit(f"gpu_deps: no wheels in {args.directory}; run `gpu_deps.py download` where pip works")
    names = unpack_missing(args.directory, args.target)
    print(f"gpu_deps: unpacked {len(names)} wheel(s) into {args.target}: {', '.join(names) or 'none needed'}")


if __name__ == "__main__":
    main()
