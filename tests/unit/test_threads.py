"""`--threads`: every stage binds torch and the OpenMP/BLAS pools to the CPUs it was given, before work starts."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import torch
from virnucpro.cli import SUBCOMMANDS, main, threads_option
from virnucpro.runner.async_runner import AsyncInferenceRunner
from virnucpro.threads import THREAD_VARIABLES, available_cpus, bind_threads


def run_embed(tiny_models, tmp_path, monkeypatch, *threads_args: str) -> list[int]:
    """Run `virnucpro embed` in this process; the torch thread counts seen while the runner worked."""
    (tmp_path / "protein.faa").write_text(">r_chunk_1F1\nMKVLAAGIVG\n>r_chunk_1F2\nMSTNPKPQRK\n")
    seen: list[int] = []
    original = AsyncInferenceRunner.run

    def spy(self, records):
        seen.append(torch.get_num_threads())
        return original(self, records)

    monkeypatch.setattr(AsyncInferenceRunner, "run", spy)
    argv = ["embed", *threads_args, "--model-kind", "esm2", "--model", str(tiny_models.esm2)]
    argv += ["--input", str(tmp_path / "protein.faa"), "--output", str(tmp_path / "out.st"), "--device", "cpu"]
    main(argv)
    assert (tmp_path / "out.st").is_file()
    return seen


def test_embed_threads_1_runs_torch_with_one_thread(tiny_models, tmp_path, monkeypatch):
    torch.set_num_threads(2)  # what an unbound process on this 2-core machine has
    assert run_embed(tiny_models, tmp_path, monkeypatch, "--threads", "1") == [1]
    assert all(os.environ[name] == "1" for name in THREAD_VARIABLES)


def test_embed_threads_default_is_the_cpus_this_process_may_use(tiny_models, tmp_path, monkeypatch):
    monkeypatch.setattr(threads_option, "available_cpus", lambda: 3)
    torch.set_num_threads(1)
    assert run_embed(tiny_models, tmp_path, monkeypatch) == [3]
    assert os.environ["OMP_NUM_THREADS"] == "3"


def test_available_cpus_follows_the_affinity_mask():
    """A child pinned to one CPU (as taskset, a cpuset cgroup or SLURM would) counts one."""
    code = "import os; os.sched_setaffinity(0, {min(os.sched_getaffinity(0))}); "
    code += "from virnucpro.threads import available_cpus; print(available_cpus())"
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert output.strip() == "1"
    assert available_cpus() == len(os.sched_getaffinity(0))


def test_a_child_process_started_with_threads_1_reports_one_openmp_thread(tmp_path):
    """In a fresh process the pools are bound before torch starts any: OpenMP and torch both report 1."""
    code = (
        "from virnucpro.threads import bind_threads; bind_threads(1, torch_pools=True); import torch; "
        "print(torch.get_num_threads(), torch.get_num_interop_threads()); "
        "print([l for l in torch.__config__.parallel_info().splitlines() if 'omp_get_max_threads' in l][0])"
    )
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    counts, openmp = output.splitlines()
    assert counts == "1 1"
    assert openmp.strip().endswith(": 1")


def test_stages_without_torch_do_not_import_it():
    code = (
        "import sys; from virnucpro.threads import bind_threads; bind_threads(2, torch_pools=False); "
        "import os; print('torch' in sys.modules, os.environ['OPENBLAS_NUM_THREADS'])"
    )
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert output.split() == ["False", "2"]


@pytest.mark.parametrize("name", sorted(SUBCOMMANDS))
def test_every_stage_takes_threads(name, capsys):
    main([name, "--help"])
    assert "--threads INTEGER RANGE" in capsys.readouterr().out


def test_threads_below_one_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["translate", "--threads", "0", "reads.fa", "--chunk-length", "300", "--outdir", "out"])
    assert stop.value.code == 2
    assert "--threads" in capsys.readouterr().err
    with pytest.raises(ValueError, match="threads must be >= 1"):
        bind_threads(0, torch_pools=False)
