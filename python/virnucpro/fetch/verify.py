"""Decide whether fetched bytes are the published model: digests where the source publishes one, and
in every case a load through the project's own loaders, before anything takes its final name."""

from __future__ import annotations

import hashlib
from pathlib import Path

import torch

from virnucpro.errors import InputError, VirnucproError
from virnucpro.fetch.catalogue import DNABERT_KEY, ESM_KEY, GIT_BLOB, SHA256, Artifact, RemoteFile

_BLOCK = 1 << 20


class VerifyError(VirnucproError):
    """Fetched bytes are not the published file (wrong digest, or the loader refuses them)."""


def file_digest(path: Path, kind: str) -> str:
    """sha256 of the bytes, or the git blob id (sha1 over `blob <size>\\0` and the bytes)."""
    if kind == SHA256:
        digest = hashlib.sha256()
    elif kind == GIT_BLOB:
        digest = hashlib.sha1(f"blob {path.stat().st_size}\0".encode())
    else:
        raise ValueError(f"unknown digest kind {kind!r}")
    with path.open("rb") as handle:
        while block := handle.read(_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def check_digest(path: Path, remote: RemoteFile) -> None:
    """Compare `path` with the size and digest the source publishes for `remote` (if it publishes any).

    Raises:
        VerifyError: a different size or digest.
    """
    if remote.size is not None and path.stat().st_size != remote.size:
        raise VerifyError(f"{remote.url}: got {path.stat().st_size} bytes, the source lists {remote.size}")
    if remote.digest_kind and remote.digest:
        found = file_digest(path, remote.digest_kind)
        if found != remote.digest.lower():
            raise VerifyError(f"{remote.url}: {remote.digest_kind} is {found}, the source publishes {remote.digest}")


def check_loads(artifact: Artifact, staged: Path) -> None:
    """Load the staged artifact the way `embed`, `classify` and `predict` will, on the CPU.

    Args:
        artifact: what was fetched.
        staged: its directory (DNABERT-S) or the directory holding its loose files.

    Raises:
        VerifyError: the loader refuses it; the loader's own message is included.
    """
    try:
        if artifact.key == DNABERT_KEY:
            _load_dnabert(staged)
        elif artifact.key == ESM_KEY:
            _load_esm(staged / artifact.files[1].name, staged / artifact.files[0].name)
        else:
            from virnucpro.models.classifier import load_classifier

            load_classifier(staged / artifact.files[0].name)
    except InputError as error:
        raise VerifyError(f"{artifact.title} was downloaded but does not load: {error}") from None


def _load_dnabert(directory: Path) -> None:
    from virnucpro.config import EnvConfig
    from virnucpro.models.dnabert_s_checkpoint import load_dnabert_s

    load_dnabert_s(str(directory), torch.device("cpu"), env=EnvConfig())


def _load_esm(model: Path, regression: Path) -> None:
    """The checkpoint through the ESM-2 reader; the contact-regression file as fair-esm will read it."""
    from virnucpro.models.esm2_checkpoint import read_esm2_checkpoint

    config, _ = read_esm2_checkpoint(model)
    try:
        data = torch.load(regression, map_location="cpu", weights_only=True)
        weight = data["model"]["contact_head.regression.weight"]
    except Exception as error:  # a damaged pickle fails anywhere in the unpickler
        raise InputError(
            f"{regression}: not a fair-esm contact-regression file ({type(error).__name__}: {error})"
        ) from None
    expected = (1, config.num_layers * config.attention_heads)
    if tuple(weight.shape) != expected:
        raise InputError(
            f"{regression}: contact_head.regression.weight has shape {tuple(weight.shape)}, "
            f"the model beside it needs {expected}"
        )
