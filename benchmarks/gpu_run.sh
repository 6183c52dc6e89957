#!/usr/bin/env bash
# The first minutes on a GPU machine, as one command from the repository root:
#
#     bash benchmarks/gpu_run.sh OUT [gpu_bench.py options]
#
# It unpacks the carried wheels of whatever the image's Python lacks (numpy, tokenizers, safetensors,
# pytest...; `results/gpu-wheels`, made beforehand by `python benchmarks/gpu_deps.py download
# results/gpu-wheels`), then runs benchmarks/gpu_bench.py, whose last section is `pytest -m gpu tests/gpu`.
# Results: OUT/gpu_bench.json and OUT/gpu_bench.md. PYTHON names another interpreter (default python3).
# CPU rehearsal in an image-like environment: PYTHON=/path/to/python3.12 bash benchmarks/gpu_run.sh OUT --smoke
set -uo pipefail
out=${1:?usage: bash benchmarks/gpu_run.sh OUT [gpu_bench.py options]}
shift
python=${PYTHON:-python3}
deps=${TMPDIR:-/tmp}/virnucpro-gpu-deps
"$python" benchmarks/gpu_deps.py unpack results/gpu-wheels "$deps" || exit 2
export PYTHONPATH="$PWD/python:$deps${PYTHONPATH:+:$PYTHONPATH}"
"$python" -c 'import sys, torch; print("python", sys.version.split()[0], "torch", torch.__version__, "cuda", torch.cuda.is_available())'
exec "$python" benchmarks/gpu_bench.py --out "$out" "$@"
