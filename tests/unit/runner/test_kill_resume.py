"""Kill `virnucpro embed` at random moments, rerun it, and get the uninterrupted run's bytes back.

Each trial starts the real command on a few thousand protein frames with the tiny ESM-2, kills it
(SIGKILL at a seeded random moment, or SIGTERM), reruns it to completion with the same checkpoint
directory, and compares with an uninterrupted run: same IDs in the same order, no duplicates, identical
float32 bytes, and a log that says how many sequences were resumed. Damaged pieces (truncated,
bit-flipped, made by another model) must be reported and recomputed.

The default suite runs two SIGKILL trials; the second tier (`pytest -m second_tier`, run by `make test`) runs
twelve more and a SIGINT trial.
"""

from __future__ import annotations

import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import torch
from virnucpro.config import EnvConfig
from virnucpro.embed import checkpoint_parts, fingerprint_of
from virnucpro.io.embeddings import read_embeddings
from virnucpro.io.fasta import read_fasta
from virnucpro.models.loading import load_embedding_model
from virnucpro.models.tiny_checkpoints import write_esm2_checkpoint
from virnucpro.runner.checkpoints import CheckpointStore

from tests.compare import first_differing_row

FRAMES = 2000
AMINO = "ACDEFGHIKLMNPQRSTVWY"
RESUMED = re.compile(r"resumed (\d+) of (\d+) sequences from (\d+) checkpoint piece\(s\) in \S+ \((\d+) rejected\)")
STOPPED = re.compile(r"stopped by (SIGTERM|SIGINT): (\d+) of (\d+) sequences embedded and saved to checkpoints")


@dataclass
class Workspace:
    root: Path
    models: object
    frames: Path
    reference: object
    reference_s: float

    def command(self, output: Path, checkpoints: Path | None) -> list[str]:
        command = [sys.executable, "-m", "virnucpro", "embed", "--model-kind", "esm2", "--model", str(self.models.esm2)]
        command += ["--input", str(self.frames), "--output", str(output), "--device", "cpu", "--token-budget", "512"]
        if checkpoints is not None:
            command += ["--checkpoint-dir", str(checkpoints), "--checkpoint-every", "100"]
        return command


def environment() -> dict[str, str]:
    # One torch thread, as in the other runner tests (see conftest.py); the same for every run compared.
    return {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}


def start(workspace: Workspace, output: Path, checkpoints: Path | None) -> subprocess.Popen:
    return subprocess.Popen(
        workspace.command(output, checkpoints),
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        env=environment(),
    )


def complete(workspace: Workspace, output: Path, checkpoints: Path | None) -> str:
    """Run to completion; return the log (stderr)."""
    process = start(workspace, output, checkpoints)
    _, log = process.communicate(timeout=600)
    assert process.returncode == 0, log
    return log


@pytest.fixture(scope="module")
def workspace(tmp_path_factory, tiny_models) -> Workspace:
    root = tmp_path_factory.mktemp("kill")
    rng = random.Random(2024)
    frames = root / "protein.faa"
    with open(frames, "w") as handle:
        for i in range(FRAMES):
            sequence = "".join(rng.choice(AMINO) for _ in range(rng.randint(20, 120)))
            handle.write(f">read{i // 6}_chunk_{i % 3 + 1}{'FR'[i % 2]}{i % 3 + 1}\n{sequence}\n")
    workspace = Workspace(root, tiny_models, frames, None, 0.0)
    started = time.monotonic()
    complete(workspace, root / "reference.safetensors", None)
    workspace.reference_s = time.monotonic() - started
    workspace.reference = read_embeddings(root / "reference.safetensors")
    assert len(workspace.reference.ids) == FRAMES
    return workspace


def piece_dir(checkpoints: Path) -> Path:
    (directory,) = [p for p in checkpoints.iterdir() if p.is_dir()]
    return directory


def pieces(checkpoints: Path) -> list[Path]:
    if not checkpoints.exists() or not any(p.is_dir() for p in checkpoints.iterdir()):
        return []
    return sorted(piece_dir(checkpoints).glob("piece-*.safetensors"))


def saved_ids(checkpoints: Path) -> list[str]:
    return [i for path in pieces(checkpoints) for i in read_embeddings(path).ids]


def wait_for_pieces(process: subprocess.Popen, checkpoints: Path, count: int) -> None:
    """Wait for the event (the `count`-th piece), not for a time: a loaded machine only makes it later (a
    300 s cap failed at load average 20). A run that ends first fails here; pytest's timeout ends a hang."""
    while len(pieces(checkpoints)) < count:
        assert process.poll() is None, "the run ended before writing enough pieces"
        time.sleep(0.02)


def resume_and_compare(workspace: Workspace, checkpoints: Path, output: Path) -> tuple[int, int]:
    """Rerun to completion; check output against the reference; return (resumed, rejected) from the log."""
    log = complete(workspace, output, checkpoints)
    match = RESUMED.search(log)
    assert match, log
    table = read_embeddings(output)
    assert table.ids == workspace.reference.ids
    assert len(set(table.ids)) == FRAMES
    assert table.vectors.dtype == np.float32
    assert not (difference := first_differing_row(table.vectors, workspace.reference.vectors)), difference
    assert pieces(checkpoints) == []  # removed once the output was written
    return int(match.group(1)), int(match.group(4))


def kill_at_random_moment(
    process: subprocess.Popen, checkpoints: Path, rng: random.Random, anywhere: bool, ref_s: float
) -> None:
    """SIGKILL `process` at a random moment: anywhere in the run (startup included), or mid-computation.

    Wall-clock moments are at the mercy of the machine's load (startup can take most of a run), so most
    trials draw their moment by progress instead: after a random number of pieces (1 to 15 of the 20 a
    full run writes), plus a random fraction of a second. Those trials always leave work to resume.
    """
    if anywhere:
        time.sleep(rng.uniform(0.05, 1.0) * ref_s)
    else:
        wait_for_pieces(process, checkpoints, rng.randint(1, 15))
        time.sleep(rng.uniform(0.0, 0.3))
    process.kill()
    process.communicate(timeout=60)


def kill_trials(workspace: Workspace, trials: int, seed: int, anywhere_every: int = 0) -> list[int]:
    """SIGKILL, rerun, compare, `trials` times; every `anywhere_every`-th trial kills at any moment."""
    rng = random.Random(seed)
    resumed_counts = []
    for trial in range(trials):
        checkpoints = workspace.root / f"ck-{seed}-{trial}"
        process = start(workspace, workspace.root / f"killed-{seed}-{trial}", checkpoints)
        anywhere = anywhere_every > 0 and trial % anywhere_every == anywhere_every - 1
        kill_at_random_moment(process, checkpoints, rng, anywhere, workspace.reference_s)
        on_disk = saved_ids(checkpoints)
        resumed, rejected = resume_and_compare(workspace, checkpoints, workspace.root / f"out-{seed}-{trial}")
        assert (resumed, rejected) == (len(on_disk), 0)
        resumed_counts.append(resumed)
    return resumed_counts


def test_sigkill_twice_then_resume_gives_identical_bytes(workspace):
    resumed = kill_trials(workspace, trials=2, seed=1)
    assert all(count > 0 for count in resumed), f"a trial was not killed after a checkpoint: {resumed}"


@pytest.mark.second_tier
def test_sigkill_ten_times_then_resume_gives_identical_bytes(workspace):
    resumed = kill_trials(workspace, trials=12, seed=10, anywhere_every=4)
    anchored = [count for trial, count in enumerate(resumed) if trial % 4 != 3]
    assert all(0 < count < FRAMES for count in anchored), resumed


@dataclass
class Stopped:
    checkpoints: Path
    returncode: int
    log: str


def stop_with(workspace: Workspace, signum: int, name: str, after_pieces: int) -> Stopped:
    checkpoints = workspace.root / f"ck-{name}"
    process = start(workspace, workspace.root / f"{name}.safetensors", checkpoints)
    wait_for_pieces(process, checkpoints, after_pieces)
    process.send_signal(signum)
    _, log = process.communicate(timeout=120)
    return Stopped(checkpoints, process.returncode, log)


@pytest.fixture(scope="module")
def sigterm_run(workspace) -> Stopped:
    return stop_with(workspace, signal.SIGTERM, "sigterm", after_pieces=4)


def copy_of(stopped: Stopped, name: str) -> Path:
    target = stopped.checkpoints.parent / name
    shutil.copytree(stopped.checkpoints, target)
    return target


def test_sigterm_saves_what_is_in_memory_and_exits_143(workspace, sigterm_run):
    assert sigterm_run.returncode == 143, sigterm_run.log
    match = STOPPED.search(sigterm_run.log)
    assert match and match.group(1) == "SIGTERM", sigterm_run.log
    on_disk = saved_ids(sigterm_run.checkpoints)
    # everything embedded before the stop is on disk, not only the pieces due by count
    assert int(match.group(2)) == len(on_disk) >= 400 and len(set(on_disk)) == len(on_disk)
    checkpoints = copy_of(sigterm_run, "ck-sigterm-rerun")
    assert resume_and_compare(workspace, checkpoints, workspace.root / "sigterm-rerun") == (len(on_disk), 0)


def foreign_piece(workspace: Workspace, ids: list[str]) -> Path:
    """A valid piece for the same frames made by another ESM-2 (other weights), as its own run would."""
    other = write_esm2_checkpoint(workspace.root / "other" / "esm2_t2_other.pt", seed=7)
    model = load_embedding_model("esm2", str(other), torch.device("cpu"), env=EnvConfig())
    records = list(read_fasta(workspace.frames, kind="protein"))
    wanted = [r for r in records if r.id in set(ids)]
    tokens = [model.tokenize(r.sequence) for r in wanted]
    flat = torch.tensor([token for t in tokens for token in t], dtype=torch.int64)
    cu = torch.tensor(np.cumsum([0] + [len(t) for t in tokens]), dtype=torch.int32)
    with torch.inference_mode():
        vectors = model.embed_packed(flat, cu, max(map(len, tokens)))
    parts = checkpoint_parts(records, model)
    store = CheckpointStore(workspace.root / "other-ck", fingerprint_of(parts), parts)
    store.save([r.id for r in wanted], vectors.numpy())
    store.close()
    return pieces(workspace.root / "other-ck")[0]


def test_damaged_pieces_are_reported_and_recomputed(workspace, sigterm_run):
    checkpoints = copy_of(sigterm_run, "ck-damaged")
    first, second, third, *rest = pieces(checkpoints)
    first.write_bytes(first.read_bytes()[: first.stat().st_size // 2])  # truncated
    data = bytearray(second.read_bytes())
    data[-200] ^= 0x04  # one flipped bit in the vectors
    second.write_bytes(bytes(data))
    shutil.copyfile(foreign_piece(workspace, read_embeddings(third).ids), third)  # another model's piece
    kept = [i for path in rest for i in read_embeddings(path).ids]
    resumed, rejected = resume_and_compare(workspace, checkpoints, workspace.root / "damaged-rerun")
    assert (resumed, rejected) == (len(kept), 3)


@pytest.mark.second_tier
def test_sigint_exits_130_and_resumes(workspace):
    stopped = stop_with(workspace, signal.SIGINT, "sigint", after_pieces=2)
    assert stopped.returncode == 130, stopped.log
    on_disk = saved_ids(stopped.checkpoints)
    assert resume_and_compare(workspace, stopped.checkpoints, workspace.root / "sigint-rerun") == (len(on_disk), 0)
