"""A checkpoint disk that fills up or fails stops the run loudly, keeps every whole piece, and a rerun resumes.

The background piece writer used to catch only OSError, while safetensors raised its own error type on a
full disk: the thread died, no later piece was written, and `embed` exited 0.
"""

from __future__ import annotations

import errno
import re

import numpy as np
import pytest
from safetensors import SafetensorError
from virnucpro.embed import embed_file
from virnucpro.io.embeddings import read_embeddings
from virnucpro.runner import checkpoints as checkpoints_module
from virnucpro.runner.checkpoints import CheckpointWriteError, payload_digest

from tests.faults.helpers import fill, tmpfs, virnucpro, write_proteins

FRAMES = 1500
EVERY = 50
RESUMED = re.compile(r"resumed (\d+) of (\d+) sequences from (\d+) checkpoint piece\(s\)")


def embed_args(models, frames, output, checkpoints):
    return [
        *("embed", "--model-kind", "esm2", "--model", models.esm2, "--input", frames, "--output", output),
        *("--device", "cpu", "--token-budget", "512", "--checkpoint-dir", checkpoints, "--checkpoint-every", EVERY),
    ]


def check_pieces(directory) -> tuple[int, int]:
    """Every piece left is whole: it reads back, and its digest covers its IDs and vectors.

    Returns:
        How many pieces there are and how many rows they hold.
    """
    assert not list(directory.glob(".*.tmp")), "a partly written piece was left behind"
    pieces = sorted(directory.glob("piece-*.safetensors"))
    rows = 0
    for piece in pieces:
        table = read_embeddings(piece)
        assert table.metadata["payload_sha256"] == payload_digest(table.ids, table.vectors), piece
        assert len(table.ids) >= EVERY, piece  # a piece holds the whole batches of one trigger
        rows += len(table.ids)
    return len(pieces), rows


def test_a_full_checkpoint_disk_stops_the_run_with_exit_1_and_a_rerun_resumes(tiny_models, tmp_path):
    frames = write_proteins(tmp_path / "protein.faa", FRAMES)
    reference = virnucpro("embed", *embed_args(tiny_models, frames, tmp_path / "ref.safetensors", tmp_path / "c0")[1:])
    assert reference.returncode == 0, reference.log
    with tmpfs(tmp_path / "small", "2m") as disk:
        fill(disk, leave=120_000)  # room for about 7 pieces of 50 x 64 floats and their IDs
        output = tmp_path / "out.safetensors"
        failed = virnucpro(*embed_args(tiny_models, frames, output, disk / "checkpoints"))
        assert failed.returncode == 1, failed.log
        (pieces,) = (disk / "checkpoints").iterdir()
        line = failed.error_line
        assert f"checkpoint directory {pieces}: cannot write piece-" in line
        assert "No space left on device (ENOSPC)" in line and "are kept" in line
        assert "Traceback" not in failed.log
        assert not output.exists()
        count, kept = check_pieces(pieces)
        assert 0 < kept < FRAMES
        assert f"the {count} piece(s) written before it are kept" in line

        (disk / "filler").unlink()
        rerun = virnucpro(*embed_args(tiny_models, frames, output, disk / "checkpoints"))
        assert rerun.returncode == 0, rerun.log
        assert RESUMED.search(rerun.log).groups() == (str(kept), str(FRAMES), str(count))
    # a resumed run writes the uninterrupted run's bytes (two processes, one of them resumed)
    assert output.read_bytes() == (tmp_path / "ref.safetensors").read_bytes()


class _FailingWrites:
    """Stands in for the piece writer's `write_embeddings`: the n-th call raises `error`, the others write."""

    def __init__(self, fail_at: int, error: Exception) -> None:
        self.calls, self.fail_at, self.error = 0, fail_at, error
        self.write = checkpoints_module.write_embeddings

    def __call__(self, path, table) -> None:
        self.calls += 1
        if self.calls == self.fail_at:
            raise self.error
        self.write(path, table)


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (OSError(errno.EIO, "Input/output error"), "Input/output error (EIO)"),
        (OSError(errno.ENOSPC, "No space left on device"), "No space left on device (ENOSPC)"),
        (SafetensorError("Error while serializing: I/O error"), "Error while serializing: I/O error"),
        (RuntimeError("any other failure"), "any other failure"),
    ],
)
def test_any_failure_of_the_piece_writer_stops_the_run(tiny_models, tmp_path, monkeypatch, error, reason):
    """The same path as the tmpfs test with an injected error, so it runs everywhere, with every error kind."""
    frames = write_proteins(tmp_path / "protein.faa", 200)
    monkeypatch.setattr(checkpoints_module, "write_embeddings", _FailingWrites(3, error))
    with pytest.raises(CheckpointWriteError) as raised:
        embed_file(
            frames,
            tmp_path / "out.safetensors",
            model_kind="esm2",
            model=str(tiny_models.esm2),
            device="cpu",
            token_budget=512,
            checkpoint_dir=tmp_path / "ck",
            checkpoint_every=EVERY,
            progress_bar=False,
        )
    (pieces,) = (tmp_path / "ck").iterdir()
    message = str(raised.value)
    assert message.startswith(f"checkpoint directory {pieces}: cannot write piece-000003.safetensors: {reason};")
    assert "the 2 piece(s) written before it are kept" in message
    assert raised.value.exit_code == 1
    assert check_pieces(pieces)[0] == 2
    assert not (tmp_path / "out.safetensors").exists()


def test_pieces_written_before_a_failure_give_the_same_vectors_on_resume(tiny_models, tmp_path, monkeypatch):
    frames = write_proteins(tmp_path / "protein.faa", 200)
    common = {"model_kind": "esm2", "model": str(tiny_models.esm2), "device": "cpu", "token_budget": 512}
    embed_file(frames, tmp_path / "ref.safetensors", **common, progress_bar=False)
    failing = _FailingWrites(3, OSError(errno.ENOSPC, "No space left on device"))
    monkeypatch.setattr(checkpoints_module, "write_embeddings", failing)
    with pytest.raises(CheckpointWriteError):
        embed_file(frames, tmp_path / "o.safetensors", **common, checkpoint_dir=tmp_path / "ck", checkpoint_every=EVERY)
    monkeypatch.undo()
    count, rows = check_pieces(next((tmp_path / "ck").iterdir()))
    metrics = embed_file(frames, tmp_path / "o.safetensors", **common, checkpoint_dir=tmp_path / "ck")
    assert count == 2 and metrics.resumed == rows
    reference, resumed = read_embeddings(tmp_path / "ref.safetensors"), read_embeddings(tmp_path / "o.safetensors")
    assert resumed.ids == reference.ids
    assert np.array_equal(resumed.vectors, reference.vectors)
