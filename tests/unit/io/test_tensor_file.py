"""The safetensors writer: valid files for the safetensors reader, the same bytes in every process, the umask."""

from __future__ import annotations

import itertools
import json
import os
import struct
import subprocess
import sys

import numpy as np
import pytest
from safetensors import safe_open
from safetensors.numpy import load_file, save
from virnucpro.io.tensor_file import write_tensor_file

TENSORS = {
    "ids": np.frombuffer(b"abc\nde", dtype=np.uint8),  # 6 bytes: would misalign what follows it
    "embeddings": np.arange(12, dtype=np.float32).reshape(3, 4) / 7,
    "counts": np.array([1, -2, 3], dtype=np.int64),
    "flags": np.array([True, False]),
    "empty": np.zeros((0, 5), dtype=np.float32),
    "half": np.array([0.5, -1.25], dtype=np.float16),
    "scalar": np.array(7, dtype=np.int64),  # 0-d, as BatchNorm's num_batches_tracked
}
METADATA = {"model_kind": "esm2", "zeta": "last", "alpha": "first", "path": "/données/é.pt"}


def header_of(data: bytes) -> dict:
    (length,) = struct.unpack("<Q", data[:8])
    return json.loads(data[8 : 8 + length])


def test_the_safetensors_library_reads_back_every_tensor_and_the_metadata(tmp_path):
    path = tmp_path / "t.safetensors"
    write_tensor_file(path, TENSORS, METADATA)
    loaded = load_file(str(path))
    assert sorted(loaded) == sorted(TENSORS)
    for name, array in TENSORS.items():
        assert loaded[name].dtype == array.dtype and np.array_equal(loaded[name], array), name
    with safe_open(str(path), framework="numpy") as handle:
        assert handle.metadata() == METADATA


def test_header_describes_the_same_tensors_as_the_library_and_is_canonical(tmp_path):
    path = tmp_path / "t.safetensors"
    write_tensor_file(path, TENSORS, METADATA)
    data = path.read_bytes()
    ours, theirs = header_of(data), header_of(save(TENSORS, metadata=METADATA))
    assert ours.pop("__metadata__") == theirs.pop("__metadata__") == METADATA

    def described(header):
        return {name: (entry["dtype"], entry["shape"]) for name, entry in header.items()}

    assert described(ours) == described(theirs)
    (length,) = struct.unpack("<Q", data[:8])
    assert (
        data[8 : 8 + length].rstrip(b" ")
        == json.dumps({"__metadata__": METADATA, **ours}, sort_keys=True, separators=(",", ":")).encode()
    )
    assert length % 8 == 0  # tensor data starts on an 8-byte boundary
    spans = sorted(entry["data_offsets"] for entry in ours.values())
    assert spans[0][0] == 0 and spans[-1][1] == len(data) - 8 - length  # the buffer is covered ...
    assert all(left[1] == right[0] for left, right in itertools.pairwise(spans))  # ... with no hole
    for name, entry in ours.items():
        assert entry["data_offsets"][0] % TENSORS[name].dtype.itemsize == 0, name


def test_a_file_without_metadata_has_no_metadata_entry(tmp_path):
    path = tmp_path / "t.safetensors"
    write_tensor_file(path, {"x": np.ones(2, dtype=np.float32)})
    assert "__metadata__" not in header_of(path.read_bytes())
    with safe_open(str(path), framework="numpy") as handle:
        assert handle.metadata() is None


@pytest.mark.parametrize(
    ("tensors", "metadata", "message"),
    [
        ({"x": np.ones(2, dtype=np.complex64)}, None, "tensor 'x': dtype complex64 cannot be stored"),
        ({"x": np.ones(2, dtype=np.float32)}, {"n": 3}, "metadata 'n' must be a string, not int"),
    ],
)
def test_what_the_format_cannot_hold_is_refused_before_anything_is_written(tmp_path, tensors, metadata, message):
    with pytest.raises(ValueError, match=message):
        write_tensor_file(tmp_path / "t.safetensors", tensors, metadata)
    assert not (tmp_path / "t.safetensors").exists()


def test_files_follow_the_umask(tmp_path):
    previous = os.umask(0o027)
    try:
        write_tensor_file(tmp_path / "t.safetensors", {"x": np.ones(2, dtype=np.float32)})
    finally:
        os.umask(previous)
    assert (tmp_path / "t.safetensors").stat().st_mode & 0o777 == 0o640


WRITE_BOTH = """
import sys
import numpy as np
from virnucpro.io.embeddings import EmbeddingTable, write_embeddings
from virnucpro.models.classifier import ClassifierInfo, MLPClassifier, save_classifier
import torch
metadata = {key: key.upper() for key in ("model_kind", "model_id", "input_sha256", "precision", "backend", "device")}
rows = np.random.default_rng(0).standard_normal((50, 16)).astype(np.float32)
write_embeddings(sys.argv[1] + "/embeddings.safetensors", EmbeddingTable([f"r{i}" for i in range(50)], rows, metadata))
torch.manual_seed(0)
extra = {"a": "1", "b": "2", "c": "3"}
info = ClassifierInfo(input_dim=16, hidden_dim=8, dnabert_dim=4, esm_dim=12, chunk_length=300, extra=extra)
save_classifier(sys.argv[1] + "/classifier.safetensors", MLPClassifier(16, 8), info)
"""


def test_two_processes_write_the_same_bytes(tmp_path):
    """safetensors' own writer orders the header by a per-process hash seed; ours must not."""
    outputs = []
    for seed in ("1", "2"):
        directory = tmp_path / seed
        directory.mkdir()
        env = {**os.environ, "PYTHONHASHSEED": seed}
        subprocess.run([sys.executable, "-c", WRITE_BOTH, str(directory)], check=True, env=env)
        outputs.append(directory)
    for name in ("embeddings.safetensors", "classifier.safetensors"):
        assert (outputs[0] / name).read_bytes() == (outputs[1] / name).read_bytes(), name
