"""Write safetensors files that are byte for byte the same on every run and follow the umask.

safetensors 0.8 writes its JSON header in hash-map order, which changes from one process to the next, so
two runs on the same input gave the same tensors under different bytes; it also creates every file with
mode 0600, whatever the umask, and reports a full disk as its own error type with the errno in a string.
The format is small and documented (https://github.com/huggingface/safetensors#format): an 8-byte
little-endian header length, a JSON header, then the raw little-endian tensor bytes with no holes. It is
written here with Python's own file calls, so a failing disk raises `OSError` with its errno, and with a
canonical header: keys sorted, no spaces, padded with spaces to a multiple of 8 so that the first tensor
starts aligned. Tensors are laid out widest element first, then by name, so every tensor stays aligned.
Reading stays with the safetensors library, which validates what it reads.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from virnucpro.errors import naming_file

# numpy dtype -> the format's dtype code (only the ones the package stores).
_DTYPE_CODES = {
    np.dtype("float64"): "F64",
    np.dtype("float32"): "F32",
    np.dtype("float16"): "F16",
    np.dtype("int64"): "I64",
    np.dtype("int32"): "I32",
    np.dtype("int16"): "I16",
    np.dtype("int8"): "I8",
    np.dtype("uint8"): "U8",
    np.dtype("bool"): "BOOL",
}
_ALIGN = 8


def header_bytes(tensors: Mapping[str, np.ndarray], metadata: Mapping[str, str] | None) -> bytes:
    """The length prefix and the padded, canonical JSON header of `tensors` laid out in `layout` order."""
    header: dict[str, object] = {}
    if metadata:
        header["__metadata__"] = {str(key): _text(key, value) for key, value in metadata.items()}
    offset = 0
    for name in layout(tensors):
        array = tensors[name]
        header[name] = {
            "dtype": _code(name, array),
            "shape": list(array.shape),
            "data_offsets": [offset, offset + array.nbytes],
        }
        offset += array.nbytes
    text = json.dumps(header, sort_keys=True, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % _ALIGN)
    return struct.pack("<Q", len(text)) + text


def layout(tensors: Mapping[str, np.ndarray]) -> list[str]:
    """Tensor names in file order: widest element first (so every tensor starts aligned), then by name."""
    return sorted(tensors, key=lambda name: (-tensors[name].dtype.itemsize, name))


def write_tensor_file(
    path: str | Path, tensors: Mapping[str, np.ndarray], metadata: Mapping[str, str] | None = None
) -> None:
    """Write `tensors` (name -> numpy array) and string `metadata` to `path` as a safetensors file.

    Not atomic by itself: callers write to a temporary name (`io.atomic`, `io.outputs`) and rename.

    Raises:
        ValueError: a dtype the format or this writer does not take, or metadata that is not text.
        OSError: the file cannot be written (a full disk, a read-only directory), with its errno.
    """
    arrays = {name: _little_endian(array) for name, array in tensors.items()}
    header = header_bytes(arrays, metadata)
    with naming_file(path), open(path, "wb") as handle:
        handle.write(header)
        for name in layout(arrays):
            if arrays[name].nbytes:
                handle.write(memoryview(arrays[name]).cast("B"))


def _little_endian(array: np.ndarray) -> np.ndarray:
    array = np.asarray(array)
    return np.asarray(array, dtype=array.dtype.newbyteorder("<"), order="C")  # keeps 0-d tensors 0-d


def _code(name: str, array: np.ndarray) -> str:
    code = _DTYPE_CODES.get(array.dtype.newbyteorder("="))
    if code is None:
        raise ValueError(f"tensor {name!r}: dtype {array.dtype} cannot be stored")
    return code


def _text(key: object, value: object) -> str:
    if not isinstance(value, str):
        raise ValueError(f"metadata {key!r} must be a string, not {type(value).__name__}")
    return value
