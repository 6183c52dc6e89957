"""Device choice: spec parsing, GPU locks that spread concurrent runs, budgets, the lock-dir variable."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import torch
from virnucpro.config import EnvConfig
from virnucpro.errors import InputError
from virnucpro.filelock import FileLock
from virnucpro.runner.devices import (
    CPU_TOKEN_BUDGET,
    GpuSharing,
    choose_device,
    default_lock_dir,
    default_token_budget,
    visible_device_ids,
)


def choose(spec, tmp_path, count, visible=None, **kwargs):
    return choose_device(spec, lock_dir=tmp_path, cuda_visible_devices=visible, device_count=count, **kwargs)


@pytest.mark.parametrize(
    ("spec", "count", "visible", "expected"),
    [
        ("cpu", 2, None, "cpu"),
        ("auto", 0, None, "cpu"),
        ("auto", 0, "", "cpu"),
        ("auto", 1, "3", "cuda:0"),  # a scheduler's allocation of one GPU: taken without a lock
        ("cuda", 1, "GPU-8932f937-d72c", "cuda:0"),
        ("cuda:1", 2, None, "cuda:1"),  # an explicit device: no lock
    ],
)
def test_device_specs_without_a_lock(tmp_path, spec, count, visible, expected):
    choice = choose(spec, tmp_path, count, visible)
    assert str(choice.device) == expected
    assert choice.lock is None and choice.slot is None
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("spec", "count", "message"),
    [
        ("gpu", 1, "expected auto, cpu, cuda or cuda:N"),
        ("cuda:x", 1, "expected auto, cpu, cuda or cuda:N"),
        ("cuda:2", 2, "this machine has 2 visible CUDA device"),
    ],
)
def test_bad_device_specs(tmp_path, spec, count, message):
    with pytest.raises(InputError, match=message):
        choose(spec, tmp_path, count)


@pytest.mark.parametrize("spec", ["cuda", "cuda:0"])
def test_asking_for_a_gpu_with_none_visible_fails_instead_of_using_the_cpu(tmp_path, spec):
    with pytest.raises(InputError) as error:
        choose(spec, tmp_path, 0, visible="")
    assert str(error.value).startswith(f"--device {spec}: no CUDA device is visible to this process ")
    assert "CUDA_VISIBLE_DEVICES=)" in str(error.value) and "does not fall back to the CPU" in str(error.value)


@pytest.mark.parametrize(("spec", "visible"), [("auto", None), ("cuda", None), ("auto", "0,1,2"), ("cuda", "0,1,2")])
def test_auto_and_cuda_take_the_first_gpu_whose_lock_is_free(tmp_path, spec, visible):
    held = FileLock(tmp_path / "cuda-0.lock")
    assert held.try_acquire()
    choice = choose(spec, tmp_path, 3, visible)
    assert str(choice.device) == "cuda:1" and choice.lock.held
    assert choice.lock.path == tmp_path / "cuda-1.lock"
    choice.release()
    held.release()


def test_a_single_gpu_without_cuda_visible_devices_is_locked(tmp_path):
    """No scheduler chose it (a one-GPU workstation): tasks take turns instead of sharing it."""
    choice = choose("cuda", tmp_path, 1)
    assert str(choice.device) == "cuda:0" and choice.lock.path == tmp_path / "cuda-0.lock"
    choice.release()


def test_locks_are_named_by_the_machine_wide_device_id(tmp_path):
    """Runs that see different subsets of one machine's GPUs share one lock per physical GPU."""
    other_run = choose("auto", tmp_path, 2, visible="2,3")  # takes GPU 2, its cuda:0
    assert str(other_run.device) == "cuda:0" and other_run.lock.path.name == "cuda-2.lock"
    choice = choose("auto", tmp_path, 3, visible="1,2,3")
    assert choice.lock.path.name == "cuda-1.lock"
    held_one = choice
    choice = choose("auto", tmp_path, 3, visible="1,2,3")  # GPU 1 and GPU 2 are held: GPU 3, its cuda:2
    assert str(choice.device) == "cuda:2" and choice.lock.path.name == "cuda-3.lock"
    for taken in (other_run, held_one, choice):
        taken.release()


def test_uuid_entries_make_safe_lock_names():
    visible = "GPU-8932f937-d72c,MIG-GPU-8932f937/1/0"
    assert visible_device_ids(visible, 2) == ["GPU-8932f937-d72c", "MIG-GPU-8932f937_1_0"]
    assert visible_device_ids(None, 2) == ["0", "1"]


def test_auto_logs_its_choice_in_one_line(tmp_path, caplog):
    with caplog.at_level(logging.INFO, logger="virnucpro.runner.devices"):
        choose("auto", tmp_path, 0).release()
        choose("auto", tmp_path, 4, visible="0,1,2,3").release()
        choose("auto", tmp_path, 1, visible="5").release()
    assert caplog.messages == [
        "device auto: cpu (no CUDA device visible; CUDA_VISIBLE_DEVICES unset)",
        f"device auto: cuda:0 (GPU 0 of 4 visible; CUDA_VISIBLE_DEVICES=0,1,2,3; lock {tmp_path / 'cuda-0.lock'})",
        "device auto: cuda:0 (the only visible GPU; CUDA_VISIBLE_DEVICES=5)",
    ]


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


def test_max_gpus_caps_a_group_of_runs_whatever_gpus_are_free(tmp_path):
    """Four GPUs, a budget of two for one pipeline run: its third task waits for a slot, not for a GPU."""
    budget = GpuSharing(tmp_path, max_gpus=2, group="run-1")
    first = choose_device("auto", sharing=budget, cuda_visible_devices=None, device_count=4)
    second = choose_device("auto", sharing=budget, cuda_visible_devices=None, device_count=4)
    assert [str(first.device), str(second.device)] == ["cuda:0", "cuda:1"]
    waits = []

    def sleep(seconds):  # the run's first task finishes while the third waits
        waits.append(seconds)
        first.release()

    third = choose_device("auto", sharing=budget, cuda_visible_devices=None, device_count=4, sleep=sleep)
    assert len(waits) == 1 and str(third.device) == "cuda:0"
    other_run = GpuSharing(tmp_path, max_gpus=2, group="run-2")  # its own budget, the same GPUs
    fourth = choose_device("auto", sharing=other_run, cuda_visible_devices=None, device_count=4, sleep=sleep)
    assert str(fourth.device) == "cuda:2" and len(waits) == 1
    assert sorted(path.name for path in (tmp_path / "run-1").iterdir()) == ["gpu-slot-0.lock", "gpu-slot-1.lock"]
    for choice in (second, third, fourth):
        choice.release()


def test_a_negative_budget_is_bad_input(tmp_path):
    with pytest.raises(InputError, match="--max-gpus -1"):
        GpuSharing(tmp_path, max_gpus=-1)


CHILD = """
import sys, time, pathlib
from virnucpro.runner.devices import choose_device
lock_dir, go, done, visible, count = sys.argv[1:6]
lock_dir, go, done = map(pathlib.Path, (lock_dir, go, done))
while not go.exists():
    time.sleep(0.01)
choice = choose_device("auto", lock_dir=lock_dir, cuda_visible_devices=visible or None, device_count=int(count))
print(choice.device, choice.lock.path.name, flush=True)
while not done.exists():
    time.sleep(0.01)
"""


def start_children(tmp_path, number, visible, count, done):
    go = tmp_path / "go"
    command = [sys.executable, "-c", CHILD, str(tmp_path / "locks"), str(go), str(done), visible, str(count)]
    children = [subprocess.Popen(command, stdout=subprocess.PIPE, text=True) for _ in range(number)]
    go.touch()  # all start choosing at once (each waits for this file)
    return children


def finish(children, done):
    chosen = sorted(child.stdout.readline().strip() for child in children)
    done.touch()
    for child in children:
        assert child.wait(timeout=120) == 0
    return chosen


def test_two_concurrent_runs_take_different_gpus(tmp_path):
    done = tmp_path / "done"
    assert finish(start_children(tmp_path, 2, "", 2, done), done) == ["cuda:0 cuda-0.lock", "cuda:1 cuda-1.lock"]


def test_four_concurrent_runs_under_cuda_visible_devices_take_four_gpus(tmp_path):
    done = tmp_path / "done"
    chosen = finish(start_children(tmp_path, 4, "0,1,2,3", 4, done), done)
    assert chosen == [f"cuda:{i} cuda-{i}.lock" for i in range(4)]


def test_a_killed_run_frees_its_gpu(tmp_path):
    child = start_children(tmp_path, 1, "", 2, tmp_path / "never")[0]
    assert child.stdout.readline().strip() == "cuda:0 cuda-0.lock"
    assert str(choose("auto", tmp_path / "locks", 2).device) == "cuda:1"
    child.kill()
    child.wait(timeout=60)
    assert str(choose("auto", tmp_path / "locks", 2).device) == "cuda:0"


def test_cpu_budget_is_fixed_unless_a_sequence_is_longer():
    assert default_token_budget(torch.device("cpu"), 2560, torch.float32) == CPU_TOKEN_BUDGET == 512
    assert default_token_budget(torch.device("cpu"), 2560, torch.float32, longest=1026) == 1026


def test_lock_dir_variable():
    assert EnvConfig.from_environ({"VIRNUCPRO_DEVICE_LOCK_DIR": " /shared/locks "}).device_lock_dir == "/shared/locks"
    assert EnvConfig.from_environ({}).device_lock_dir == ""


def test_default_lock_dir_is_the_variable_or_the_temp_directory():
    assert default_lock_dir("/shared/locks") == Path("/shared/locks")
    assert default_lock_dir("") == Path(tempfile.gettempdir()) / "virnucpro-device-locks"


def test_embed_with_cuda_on_a_machine_without_gpus_exits_2(tmp_path):
    """What a pipeline task that asked for a GPU does when its job got none: fail at once, exit 2."""
    (tmp_path / "protein.faa").write_text(">r_chunk_1F1\nMKV\n")
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": ""}
    command = [sys.executable, "-m", "virnucpro", "embed", "--model-kind", "esm2", "--model", "esm2_t6_8M_UR50D"]
    command += ["--input", str(tmp_path / "protein.faa"), "--output", str(tmp_path / "out.st"), "--device", "cuda"]
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().splitlines()[-1] == (
        "virnucpro: error: --device cuda: no CUDA device is visible to this process (CUDA_VISIBLE_DEVICES=); "
        "this run asked for a GPU and does not fall back to the CPU. Check the job's GPU request and the "
        "container's GPU flag"
    )
    assert not (tmp_path / "out.st").exists()
