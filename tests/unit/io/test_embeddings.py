"""The embedding file: IDs with their rows, written atomically (also when the disk fills up for real)."""

from __future__ import annotations

import errno
import os
import subprocess

import numpy as np
import pytest
from virnucpro.io.embeddings import EmbeddingTable, embeddings_name, read_embeddings, write_embeddings


def vectors(rows: int, width: int = 4) -> np.ndarray:
    return np.arange(rows * width, dtype=np.float32).reshape(rows, width) / 7


def test_names_follow_the_model_kinds():
    assert (embeddings_name("esm2"), embeddings_name("dnabert-s")) == ("esm2.safetensors", "dnabert-s.safetensors")


def test_atomic_write_leaves_no_temp_file(tmp_path):
    target = tmp_path / "out.safetensors"
    write_embeddings(target, EmbeddingTable(ids=["a"], vectors=vectors(1), metadata={"model_kind": "esm2"}))
    assert [p.name for p in tmp_path.iterdir()] == ["out.safetensors"]
    table = read_embeddings(target)
    assert table.ids == ["a"]
    assert np.array_equal(table.vectors, vectors(1))
    assert table.metadata == {"model_kind": "esm2", "count": "1", "dim": "4"}


@pytest.fixture
def full_disk(tmp_path):
    """A 64 KiB tmpfs: writes past that fail with ENOSPC, as on a full scratch disk."""
    mount = tmp_path / "small"
    mount.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount)], capture_output=True)
    if result.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {result.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=True)


def test_a_write_that_fills_the_disk_keeps_the_old_file_and_no_temporary(full_disk):
    target = full_disk / "out.safetensors"
    write_embeddings(target, EmbeddingTable(ids=["old"], vectors=vectors(1)))
    too_big = EmbeddingTable(ids=[f"r{i}" for i in range(100)], vectors=vectors(100, 400))  # 160 kB
    with pytest.raises(OSError) as raised:
        write_embeddings(target, too_big)
    assert raised.value.errno == errno.ENOSPC
    assert [p.name for p in full_disk.iterdir()] == ["out.safetensors"]
    assert read_embeddings(target).ids == ["old"]
