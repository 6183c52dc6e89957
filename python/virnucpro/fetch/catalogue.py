"""Where each published model file comes from and what it must hash to.

Each source publishes a different amount about its files, and the checks follow that:
- the Hugging Face hub lists every file of a revision with its size and digest (sha256 for LFS files,
  the git blob id for the others), read at fetch time from the hub's API;
- the VirNucPro repository keeps the classifiers as plain git files, so their git blob ids (which cover
  the size too) are pinned here, with the commit they were read from;
- fair-esm's download location publishes nothing but the bytes, so ESM-2 files are checked by loading
  them (see `verify`).
"""

from __future__ import annotations

from dataclasses import dataclass

from virnucpro.errors import VirnucproError

DEFAULT_HF_ENDPOINT = "https://huggingface.co"
DNABERT_REPO = "zhihan1996/DNABERT-S"
DNABERT_DIR = "DNABERT-S"

DEFAULT_ESM_MIRROR = "https://dl.fbaipublicfiles.com/fair-esm"
ESM_NAME = "esm2_t36_3B_UR50D"

VIRNUCPRO_REPO = "Li-Jing-1997/VirNucPro"
VIRNUCPRO_COMMIT = "0f93f2755a7ea1acd3ff1bcf182892f960ef3326"
DEFAULT_CLASSIFIER_MIRROR = f"https://raw.githubusercontent.com/{VIRNUCPRO_REPO}/{VIRNUCPRO_COMMIT}"
# git blob ids of the published classifiers at VIRNUCPRO_COMMIT (unchanged since they were added).
CLASSIFIER_BLOBS = {
    300: "a0b5b85e7c1e44f00cde146d091beb82b2c8e855",
    500: "fc35d5ef9f1f4564eea7036f34f4f8ec6000d33d",
}

# What the native DNABERT-S loader reads, and the tokenizer's two small companions. The repository's
# Python files (remote code for transformers) are not fetched: virnucpro never imports them.
DNABERT_REQUIRED = ("config.json", "tokenizer.json")
DNABERT_OPTIONAL = ("tokenizer_config.json", "special_tokens_map.json")
DNABERT_WEIGHTS = ("model.safetensors", "pytorch_model.bin")  # the first one listed is fetched

SHA256 = "sha256"
GIT_BLOB = "git-blob-sha1"


@dataclass(frozen=True)
class RemoteFile:
    """One file to fetch: its URL, its name inside the artifact, and what the source says about it."""

    url: str
    name: str
    size: int | None = None
    digest_kind: str | None = None  # SHA256, GIT_BLOB, or None when the source publishes no digest
    digest: str | None = None


@dataclass(frozen=True)
class Artifact:
    """One model as it lands under the destination: a directory of files, or files placed side by side.

    Attributes:
        key: the `--only` name.
        title: what to call it in messages.
        files: the files, in the order to fetch them.
        directory: the directory the files go into under the destination, or None for loose files.
        origin: where it came from, for the summary (repository and revision, or URL).
    """

    key: str
    title: str
    files: tuple[RemoteFile, ...]
    directory: str | None = None
    origin: str = ""


DNABERT_KEY = "dnabert-s"
ESM_KEY = "esm2"
CLASSIFIER_KEYS = {300: "classifier-300", 500: "classifier-500"}
KEYS = (DNABERT_KEY, ESM_KEY, *CLASSIFIER_KEYS.values())


def final_names(key: str) -> tuple[str, ...]:
    """What appears directly under the destination once the artifact `key` is in place."""
    if key == DNABERT_KEY:
        return (DNABERT_DIR,)
    if key == ESM_KEY:
        return (f"{ESM_NAME}.pt", f"{ESM_NAME}-contact-regression.pt")
    return (f"{classifier_chunk_length(key)}_model.pth",)


def classifier_chunk_length(key: str) -> int:
    """300 for `classifier-300`, 500 for `classifier-500`."""
    return next(length for length, name in CLASSIFIER_KEYS.items() if name == key)


def esm_artifact(mirror: str) -> Artifact:
    """ESM-2 3B and its contact-regression file, from fair-esm's download location (or a mirror of it)."""
    base = mirror.rstrip("/")
    files = (
        RemoteFile(f"{base}/regression/{ESM_NAME}-contact-regression.pt", f"{ESM_NAME}-contact-regression.pt"),
        RemoteFile(f"{base}/models/{ESM_NAME}.pt", f"{ESM_NAME}.pt"),
    )
    return Artifact(ESM_KEY, f"ESM-2 {ESM_NAME}", files, origin=f"{base}/models/{ESM_NAME}.pt")


def classifier_artifact(chunk_length: int, mirror: str) -> Artifact:
    """VirNucPro's classifier for `chunk_length` bp chunks, from the VirNucPro repository (or a mirror)."""
    base = mirror.rstrip("/")
    name = f"{chunk_length}_model.pth"
    remote = RemoteFile(f"{base}/{name}", name, digest_kind=GIT_BLOB, digest=CLASSIFIER_BLOBS[chunk_length])
    return Artifact(CLASSIFIER_KEYS[chunk_length], f"classifier {name}", (remote,), origin=remote.url)


def hub_listing_url(endpoint: str, repo: str = DNABERT_REPO, revision: str = "main") -> str:
    """The hub API address listing a revision's files with sizes and digests."""
    return f"{endpoint.rstrip('/')}/api/models/{repo}/revision/{revision}?blobs=true"


def dnabert_artifact(listing: object, endpoint: str, repo: str = DNABERT_REPO) -> Artifact:
    """The DNABERT-S files to fetch, chosen from the hub's listing of one revision.

    Raises:
        VirnucproError: the listing is not what the hub API returns, or lacks a file the loader needs.
    """
    where = hub_listing_url(endpoint, repo)
    if not isinstance(listing, dict) or not isinstance(listing.get("sha"), str):
        raise VirnucproError(f"{where}: not a Hugging Face model listing (no commit 'sha')")
    commit = listing["sha"]
    siblings = {s.get("rfilename"): s for s in listing.get("siblings") or [] if isinstance(s, dict)}
    weights = [name for name in DNABERT_WEIGHTS if name in siblings]
    missing = [name for name in DNABERT_REQUIRED if name not in siblings]
    if not weights:
        missing.append(" or ".join(DNABERT_WEIGHTS))
    if missing:
        raise VirnucproError(f"{where}: {repo} at {commit} lists no {', '.join(missing)}")
    names = [*DNABERT_REQUIRED, *(n for n in DNABERT_OPTIONAL if n in siblings), weights[0]]
    base = f"{endpoint.rstrip('/')}/{repo}/resolve/{commit}"
    files = tuple(_hub_file(siblings[name], f"{base}/{name}", where) for name in names)
    return Artifact(DNABERT_KEY, DNABERT_REPO, files, directory=DNABERT_DIR, origin=f"{repo} at {commit}, {endpoint}")


def _hub_file(sibling: dict, url: str, where: str) -> RemoteFile:
    """A listed hub file with the digest the hub publishes for it (LFS sha256, else the git blob id)."""
    name = sibling["rfilename"]
    lfs = sibling.get("lfs")
    if isinstance(lfs, dict) and isinstance(lfs.get("sha256"), str) and isinstance(lfs.get("size"), int):
        return RemoteFile(url, name, lfs["size"], SHA256, lfs["sha256"])
    if isinstance(sibling.get("blobId"), str) and isinstance(sibling.get("size"), int):
        return RemoteFile(url, name, sibling["size"], GIT_BLOB, sibling["blobId"])
    raise VirnucproError(f"{where}: the listing gives no size and digest for {name} (was ?blobs=true honoured?)")
