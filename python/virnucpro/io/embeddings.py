"""The pickle-free embedding file: IDs next to a float32 matrix, with a metadata header (safetensors).

Layout: tensor `embeddings` float32 (N, D); tensor `ids` uint8, the N IDs UTF-8 encoded and joined by
newlines; metadata (string -> string) such as model, fingerprint, precision, backend, version. Rows are in
input order and IDs travel with their rows: readers never pair vectors by position across files.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from safetensors import SafetensorError, safe_open
from safetensors.numpy import load_file

from virnucpro.errors import InputError
from virnucpro.io.atomic import replacing
from virnucpro.io.tensor_file import write_tensor_file


def embeddings_name(model_kind: str) -> str:
    """The file name a stage gives the embeddings of one model: `esm2.safetensors`, `dnabert-s.safetensors`."""
    return f"{model_kind}.safetensors"


@dataclass(frozen=True)
class EmbeddingTable:
    """IDs and their vectors, row i of `vectors` belonging to `ids[i]`."""

    ids: list[str]
    vectors: np.ndarray
    metadata: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.vectors.ndim != 2 or self.vectors.shape[0] != len(self.ids):
            raise ValueError(f"{len(self.ids)} IDs but a vector matrix of shape {self.vectors.shape}")


def encode_ids(ids: list[str]) -> np.ndarray:
    """IDs as one uint8 array (newline-joined UTF-8); IDs never contain whitespace."""
    return np.frombuffer("\n".join(ids).encode("utf-8"), dtype=np.uint8).copy()


def decode_ids(data: np.ndarray, count: int) -> list[str]:
    """Inverse of `encode_ids`, for `count` IDs (0 IDs encode to an empty array)."""
    if count == 0:
        return []
    return data.tobytes().decode("utf-8").split("\n")


def save_embeddings(path: str | Path, table: EmbeddingTable) -> None:
    """Write a table to `path` as it stands (callers give a temporary name and rename it when done).

    The same table always gives the same bytes (`virnucpro.io.tensor_file`).
    """
    vectors = np.ascontiguousarray(table.vectors, dtype=np.float32)
    metadata = {**table.metadata, "count": str(len(table.ids)), "dim": str(vectors.shape[1])}
    write_tensor_file(path, {"embeddings": vectors, "ids": encode_ids(table.ids)}, metadata)


def write_embeddings(path: str | Path, table: EmbeddingTable) -> None:
    """Write a table atomically (`virnucpro.io.atomic.replacing`): `path` ends up whole or untouched.

    Checkpoint pieces are written this way, so a kill never leaves a piece that looks complete but is not.
    """
    with replacing(Path(path)) as temporary:
        save_embeddings(temporary, table)


def read_embeddings(path: str | Path) -> EmbeddingTable:
    """Read a table written by `write_embeddings`, checking that IDs and rows agree.

    Raises:
        InputError: missing, unreadable or malformed file (the message names the path).
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: embedding file not found")
    try:
        tensors = load_file(str(path))
        with safe_open(str(path), framework="numpy") as handle:
            metadata = dict(sorted((handle.metadata() or {}).items()))
    except (SafetensorError, OSError, ValueError) as error:
        raise InputError(f"{path}: not a readable virnucpro embedding file ({error})") from error
    if "embeddings" not in tensors or "ids" not in tensors or "count" not in metadata:
        raise InputError(f"{path}: not a virnucpro embedding file (expected tensors 'embeddings' and 'ids')")
    count = int(metadata["count"])
    encoded = tensors["ids"].tobytes()
    if b"\t" in encoded or b"\r" in encoded or b" " in encoded:  # they would break the TSV files made of them
        raise InputError(f"{path}: an ID holds a tab, a space or a carriage return; IDs are single words")
    ids = decode_ids(tensors["ids"], count)
    vectors = tensors["embeddings"]
    if len(ids) != count or vectors.shape[0] != count:
        raise InputError(f"{path}: header says {count} rows, found {len(ids)} IDs and {vectors.shape[0]} vectors")
    if vectors.ndim != 2 or metadata.get("dim", str(vectors.shape[-1])) != str(vectors.shape[-1]):
        raise InputError(f"{path}: header says vectors of width {metadata.get('dim')}, found shape {vectors.shape}")
    return EmbeddingTable(ids=ids, vectors=vectors, metadata=metadata)
