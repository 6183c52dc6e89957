"""Device choice: spec parsing, GPU locks that spread concurrent runs, budgets, the lock-dir variable."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest
import torch
from virnucpro.config import EnvConfig
from virnucpro.errors import InputError
from virnucpro.runner.devices import CPU_TOKEN_BUDGET, choose_device, default_token_budget
from virnucpro.runner.filelock import FileLock


def choose(spec, tmp_path, count, visible=None, **kwargs):
    return choose_device(spec, lock_dir=tmp_path, cuda_visible_devices=visible, device_count=count, **kwargs)


@pytest.mark.parametrize(
    ("spec", "count", "visible", "expected"),
    [
        ("cpu", 2, None, "cpu"),
        ("auto", 0, None, "cpu"),
        ("auto", 1, None, "cuda:0"),
        ("auto", 4, "2,3", "cuda:0"),  # the scheduler chose: no lock, first visible device
        ("cuda", 2, None, "cuda:0"),
        ("cuda:1", 2, None, "cuda:1"),
    ],
)
def test_device_specs(tmp_path, spec, count, visible, expected):
    choice = choose(spec, tmp_path, count, visible)
    assert str(choice.device) == expected
    assert choice.lock is None
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("spec", "count", "message"),
    [
        ("gpu", 1, "expected auto, cpu, cuda or cuda:N"),
        ("cuda:x", 1, "expected auto, cpu, cuda or cuda:N"),
        ("cuda:2", 2, "this machine has 2 visible CUDA device"),
        ("cuda", 0, "this machine has 0 visible CUDA device"),
    ],
)
def test_bad_device_specs(tmp_path, spec, count, message):
    with pytest.raises(InputError, match=message):
        choose(spec, tmp_path, count)


def test_auto_takes_the_first_gpu_whose_lock_is_free(tmp_path):
    held = FileLock(tmp_path / "cuda-0.lock")
    assert held.try_acquire()
    choice = choose("auto", tmp_path, 3)
    assert str(choice.device) == "cuda:1" and choice.lock.held
    choice.release()
    held.release()


def test_auto_waits_while_every_gpu_is_taken(tmp_path):
    locks = [FileLock(tmp_path / f"cuda-{i}.lock") for i in range(2)]
    assert all(lock.try_acquire() for lock in locks)
    waits = []

    def sleep(seconds):  # the other run finishes GPU 1 during our second wait
        waits.append(seconds)
        if len(waits) == 2:
            locks[1].release()

    choice = choose("auto", tmp_path, 2, poll_seconds=0.5, sleep=sleep)
    assert str(choice.device) == "cuda:1" and waits == [0.5, 0.5]
    choice.release()
    locks[0].release()


CHILD = """
import sys, time, pathlib
from virnucpro.runner.devices import choose_device
lock_dir, go, done = map(pathlib.Path, sys.argv[1:4])
while not go.exists():
    time.sleep(0.01)
choice = choose_device("auto", lock_dir=lock_dir, cuda_visible_devices=None, device_count=2)
print(choice.device, flush=True)
while not done.exists():
    time.sleep(0.01)
"""


def test_two_concurrent_runs_take_different_gpus(tmp_path):
    locks, go, done = tmp_path / "locks", tmp_path / "go", tmp_path / "done"
    command = [sys.executable, "-c", CHILD, str(locks), str(go), str(done)]
    children = [subprocess.Popen(command, stdout=subprocess.PIPE, text=True) for _ in range(2)]
    time.sleep(0.2)
    go.touch()  # both start choosing at the same moment
    chosen = sorted(child.stdout.readline().strip() for child in children)
    done.touch()
    for child in children:
        assert child.wait(timeout=60) == 0
    assert chosen == ["cuda:0", "cuda:1"]


def test_a_killed_run_frees_its_gpu(tmp_path):
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(tmp_path), str(tmp_path / "go"), str(tmp_path / "never")],
        stdout=subprocess.PIPE,
        text=True,
    )
    (tmp_path / "go").touch()
    assert child.stdout.readline().strip() == "cuda:0"
    assert str(choose("auto", tmp_path, 2).device) == "cuda:1"
    child.kill()
    child.wait(timeout=60)
    assert str(choose("auto", tmp_path, 2).device) == "cuda:0"


def test_cpu_budget_is_fixed_unless_a_sequence_is_longer():
    assert default_token_budget(torch.device("cpu"), 2560, torch.float32) == CPU_TOKEN_BUDGET == 512
    assert default_token_budget(torch.device("cpu"), 2560, torch.float32, longest=1026) == 1026


def test_lock_dir_variable():
    assert EnvConfig.from_environ({"VIRNUCPRO_DEVICE_LOCK_DIR": " /shared/locks "}).device_lock_dir == "/shared/locks"
    assert EnvConfig.from_environ({}).device_lock_dir == ""
