"""Fetch artifacts into a destination directory: stage, verify, then give each its final name.

Everything in progress lives under `DEST/.partial/`, with the final file names, so a rerun continues
each download where it stopped. A file moves to its final name (a directory, for DNABERT-S, as a
whole) only after its digest matched and the project's loader read it, so under a final name there is
either a verified model or nothing. Files that fail verification are moved to `DEST/.partial/rejected/`
so that the next run starts them afresh and nothing half-checked is ever used.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from virnucpro.errors import InputError, VirnucproError
from virnucpro.fetch.catalogue import (
    DEFAULT_CLASSIFIER_MIRROR,
    DEFAULT_ESM_MIRROR,
    DEFAULT_HF_ENDPOINT,
    DNABERT_KEY,
    ESM_KEY,
    KEYS,
    Artifact,
    RemoteFile,
    classifier_artifact,
    classifier_chunk_length,
    dnabert_artifact,
    esm_artifact,
    final_names,
    hub_listing_url,
)
from virnucpro.fetch.transfer import FetchError, Progress, download, get_json
from virnucpro.fetch.verify import VerifyError, check_digest, check_loads
from virnucpro.filelock import FileLock
from virnucpro.io.atomic import move_into_place
from virnucpro.logging_setup import get_logger

STAGING = ".partial"
REJECTED = "rejected"
LOCK = ".fetch-models.lock"  # beside the staging directory, so removing that never races a lock holder
MAX_BACKOFF_S = 30.0

log = get_logger("fetch")

ProgressFactory = Callable[[str], Progress]  # label -> callback for one file's transfer


@dataclass(frozen=True)
class Sources:
    """The base addresses to fetch from; each can point at a mirror serving the same paths."""

    hf_endpoint: str = DEFAULT_HF_ENDPOINT
    esm_mirror: str = DEFAULT_ESM_MIRROR
    classifier_mirror: str = DEFAULT_CLASSIFIER_MIRROR


@dataclass(frozen=True)
class Outcome:
    """One artifact after the run: where it is and whether this run fetched it."""

    key: str
    paths: tuple[Path, ...]
    fetched: bool


def fetch_models(
    dest: Path,
    keys: tuple[str, ...] = KEYS,
    *,
    sources: Sources = Sources(),
    retries: int = 3,
    progress: ProgressFactory | None = None,
) -> list[Outcome]:
    """Fetch the artifacts named by `keys` into `dest`, skipping those already in place.

    Raises:
        InputError: `dest` cannot be created.
        VirnucproError: another run holds `dest`, or a download or a verification failed (the message
            says which file and where its bytes are kept).
    """
    try:
        (dest / STAGING).mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise InputError(f"{dest}: cannot create the destination directory ({error.strerror})") from None
    lock = FileLock(dest / LOCK)
    if not lock.try_acquire():
        raise VirnucproError(f"{dest}: another virnucpro fetch-models is writing here; wait for it to finish")
    with lock:
        outcomes = [_fetch_one(key, dest, sources, retries, progress) for key in KEYS if key in keys]
        _tidy(dest / STAGING)
    return outcomes


def _fetch_one(key: str, dest: Path, sources: Sources, retries: int, progress: ProgressFactory | None) -> Outcome:
    """One artifact: skip it when its final names exist, else stage, verify and place it."""
    finals = tuple(dest / name for name in final_names(key))
    if all(path.exists() for path in finals):
        log.info("%s: already in %s, kept (delete it to fetch it again)", ", ".join(final_names(key)), dest)
        return Outcome(key, finals, fetched=False)
    artifact = _describe(key, sources)
    staged = dest / STAGING / artifact.directory if artifact.directory else dest / STAGING
    staged.mkdir(parents=True, exist_ok=True)
    for remote in artifact.files:
        _fetch_file(remote, staged / remote.name, retries, progress)
        _verified(partial(check_digest, staged / remote.name, remote), dest, artifact, [remote])
    if artifact.directory:
        _drop_strays(staged, {remote.name for remote in artifact.files})
    _verified(partial(check_loads, artifact, staged), dest, artifact, list(artifact.files))
    if artifact.directory:
        move_into_place(staged, dest / artifact.directory)
    else:
        for remote in artifact.files:
            move_into_place(staged / remote.name, dest / remote.name)
    log.info("%s: verified and placed in %s (from %s)", artifact.title, dest, artifact.origin)
    return Outcome(key, finals, fetched=True)


def _describe(key: str, sources: Sources) -> Artifact:
    """The artifact for `key`; for DNABERT-S this asks the hub which files the revision has."""
    if key == ESM_KEY:
        return esm_artifact(sources.esm_mirror)
    if key == DNABERT_KEY:
        return dnabert_artifact(get_json(hub_listing_url(sources.hf_endpoint)), sources.hf_endpoint)
    return classifier_artifact(classifier_chunk_length(key), sources.classifier_mirror)


def _fetch_file(remote: RemoteFile, target: Path, retries: int, progress: ProgressFactory | None) -> None:
    """Download with up to `retries` further attempts after a dropped or refused connection, each resuming."""
    if target.exists():
        log.info("%s: resuming at byte %d of %s", remote.name, target.stat().st_size, remote.url)
    else:
        log.info("%s: fetching %s", remote.name, remote.url)
    for attempt in range(retries + 1):
        try:
            download(remote.url, target, size=remote.size, progress=progress(remote.name) if progress else None)
            return
        except FetchError as error:
            if not error.resumable or attempt == retries:
                raise
            wait = min(2.0**attempt, MAX_BACKOFF_S)
            log.warning("%s; trying again in %.0f s (%d of %d)", error, wait, attempt + 1, retries)
            time.sleep(wait)


def _verified(check: Callable[[], None], dest: Path, artifact: Artifact, files: list[RemoteFile]) -> None:
    """Run `check`; when it fails, move the checked files aside and say where they are."""
    try:
        check()
    except VerifyError as error:
        staged = dest / STAGING / artifact.directory if artifact.directory else dest / STAGING
        aside = dest / STAGING / REJECTED / (artifact.directory or "")
        aside.mkdir(parents=True, exist_ok=True)
        for remote in files:
            if (staged / remote.name).exists():
                (staged / remote.name).replace(aside / remote.name)
        kept = f"as {aside / files[0].name}" if len(files) == 1 else f"in {aside}"
        raise VerifyError(f"{error}; the download is kept aside {kept} and is not used") from None


def _drop_strays(staged: Path, names: set[str]) -> None:
    """Remove what an earlier run staged for another revision, so that the directory holds only `names`."""
    for path in staged.iterdir():
        if path.name not in names:
            shutil.rmtree(path) if path.is_dir() else path.unlink()


def _tidy(staging: Path) -> None:
    """Remove the staging directory when nothing but the lock and empty folders is left in it."""
    leftovers = [p for p in staging.rglob("*") if p.is_file() and p.name != LOCK]
    if not leftovers:
        shutil.rmtree(staging, ignore_errors=True)
