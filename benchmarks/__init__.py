"""Benchmarks of virnucpro: speed, memory and scaling, each a script that prints a table and writes JSON.

Run them from the repository root (`python benchmarks/<script>.py --help`); `run_all.py` runs the CPU set
and `gpu_bench.py` the one-shot CUDA set. BENCHMARKS.md holds the latest figures and the commands.
"""
