"""Which files are fetched and which digests they must match."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

import pytest
from virnucpro.errors import VirnucproError
from virnucpro.fetch.catalogue import GIT_BLOB, SHA256, dnabert_artifact
from virnucpro.fetch.verify import file_digest

COMMIT = "a" * 40
BARE = [{"rfilename": n} for n in ("config.json", "tokenizer.json", "model.safetensors")]  # no ?blobs=true


def sibling(name: str, lfs: bool = False) -> dict:
    entry = {"rfilename": name, "size": 3, "blobId": "b" * 40}
    if lfs:
        entry["lfs"] = {"sha256": "c" * 64, "size": 7, "pointerSize": 134}
    return entry


def test_git_blob_digest_is_what_git_computes(tmp_path: Path) -> None:
    """The classifiers are pinned by the ids git gives their blobs; the same bytes must give the same id."""
    path = tmp_path / "f"
    path.write_bytes(bytes(range(256)) * 40)
    git = subprocess.run(["git", "hash-object", str(path)], capture_output=True, text=True, check=True)
    assert file_digest(path, GIT_BLOB) == git.stdout.strip()
    assert file_digest(path, SHA256) == hashlib.sha256(path.read_bytes()).hexdigest()


def test_hub_files_get_the_lfs_sha256_or_the_blob_id_and_remote_code_is_left_out() -> None:
    names = ["README.md", "bert_layers.py", "config.json", "tokenizer.json", "tokenizer_config.json"]
    listing = {"sha": COMMIT, "siblings": [sibling(n) for n in names] + [sibling("pytorch_model.bin", lfs=True)]}
    artifact = dnabert_artifact(listing, "http://hub/")
    assert [(f.name, f.size, f.digest_kind) for f in artifact.files] == [
        ("config.json", 3, GIT_BLOB),
        ("tokenizer.json", 3, GIT_BLOB),
        ("tokenizer_config.json", 3, GIT_BLOB),
        ("pytorch_model.bin", 7, SHA256),
    ]
    assert artifact.files[-1].url == f"http://hub/zhihan1996/DNABERT-S/resolve/{COMMIT}/pytorch_model.bin"
    assert artifact.files[-1].digest == "c" * 64


def test_safetensors_weights_are_preferred_when_both_are_listed() -> None:
    names = ["config.json", "tokenizer.json"]
    weights = [sibling("pytorch_model.bin", lfs=True), sibling("model.safetensors", lfs=True)]
    artifact = dnabert_artifact({"sha": COMMIT, "siblings": [sibling(n) for n in names] + weights}, "http://hub")
    assert [f.name for f in artifact.files] == ["config.json", "tokenizer.json", "model.safetensors"]


@pytest.mark.parametrize(
    ("listing", "expected"),
    [
        ([], "not a Hugging Face model listing"),
        ({"sha": COMMIT, "siblings": [sibling("config.json")]}, "lists no tokenizer.json, model.safetensors or"),
        ({"sha": COMMIT, "siblings": BARE}, "gives no size and digest for config.json"),
    ],
)
def test_listings_that_cannot_be_verified_are_refused(listing: object, expected: str) -> None:
    with pytest.raises(VirnucproError, match=expected):
        dnabert_artifact(listing, "http://hub")
