"""Move bytes from a URL into a local file, continuing where an earlier attempt stopped.

The standard library's urllib is enough here: one GET per file, with a `Range` header when part of the
file is already on disk, redirects followed (the hub redirects weights to its storage), and a socket
timeout so a stalled connection fails instead of hanging. A partial file is never truncated by a
failure: what arrived stays on disk for the next attempt.
"""

from __future__ import annotations

import json
import os
import re
import urllib.error
import urllib.request
from collections.abc import Callable
from http.client import HTTPException
from pathlib import Path
from urllib.parse import urlsplit

from virnucpro import __version__
from virnucpro.errors import VirnucproError

BLOCK = 1 << 20
TIMEOUT_S = 60.0
_CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+|\*)")

Progress = Callable[[int, int | None], None]  # (bytes on disk, total bytes or None): called as data arrives


class FetchError(VirnucproError):
    """A download failed; `resumable` when running again continues from the bytes already on disk."""

    def __init__(self, message: str, *, resumable: bool = False) -> None:
        super().__init__(message)
        self.resumable = resumable


def _request(url: str, offset: int = 0) -> urllib.request.Request:
    headers = {"User-Agent": f"virnucpro/{__version__}"}
    if offset:
        headers["Range"] = f"bytes={offset}-"
    return urllib.request.Request(url, headers=headers)


def _unreachable(url: str, error: BaseException) -> FetchError:
    """The one-line message for a server that cannot be reached or stopped answering."""
    reason = getattr(error, "reason", None) or error
    host = urlsplit(url).netloc or url
    return FetchError(f"cannot reach {host} ({reason}) for {url}; check the network or the mirror address")


def get_json(url: str, *, timeout: float = TIMEOUT_S) -> object:
    """GET a small JSON document.

    Raises:
        FetchError: unreachable, an HTTP error status, or a body that is not JSON.
    """
    try:
        with urllib.request.urlopen(_request(url), timeout=timeout) as response:
            body = response.read()
    except urllib.error.HTTPError as error:
        raise FetchError(f"{url}: HTTP {error.code} {error.reason}") from None
    except (urllib.error.URLError, OSError, HTTPException) as error:
        raise _unreachable(url, error) from None
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise FetchError(f"{url}: the answer is not JSON ({error})") from None


def download(
    url: str, partial: Path, *, size: int | None = None, progress: Progress | None = None, timeout: float = TIMEOUT_S
) -> int:
    """Bring `partial` up to the whole content of `url`, asking only for the bytes it lacks.

    Args:
        url: what to fetch.
        partial: the file to extend (created if absent). Its bytes are kept whatever happens.
        size: the size the source publishes, if any; a longer partial file is an error.
        progress: called with (bytes on disk, total) as blocks arrive.
        timeout: seconds without data before giving up on the connection.

    Returns:
        The size of the complete file.

    Raises:
        FetchError: unreachable (resumable), the connection dropped before the end (resumable), an HTTP
            error status, or a server answer that contradicts the bytes on disk.
    """
    have = partial.stat().st_size if partial.exists() else 0
    if size is not None and have > size:
        raise FetchError(f"{partial} holds {have} bytes but {url} has {size}")
    if size is not None and have == size:
        return have
    try:
        response = urllib.request.urlopen(_request(url, have), timeout=timeout)
    except urllib.error.HTTPError as error:
        if error.code == 416 and have:
            return _already_complete(url, partial, have, error.headers.get("Content-Range"))
        raise FetchError(f"{url}: HTTP {error.code} {error.reason}") from None
    except (urllib.error.URLError, OSError, HTTPException) as error:
        raise FetchError(str(_unreachable(url, error)), resumable=True) from None
    with response:
        start, total = _span(url, response, have)
        if size is not None and total is not None and total != size:
            raise FetchError(f"{url}: the server sends {total} bytes but the source lists {size}")
        total = total if total is not None else size
        _append(url, response, partial, start, total, progress)
    done = partial.stat().st_size
    if total is not None and done != total:
        raise FetchError(
            f"{url}: the connection ended after {done} of {total} bytes (kept in {partial}; run again to resume)",
            resumable=True,
        )
    return done


def _span(url: str, response, have: int) -> tuple[int, int | None]:
    """Where the body starts in the file and the file's total size, from the status and headers."""
    length = response.headers.get("Content-Length")
    if response.status == 206:
        match = _CONTENT_RANGE.fullmatch((response.headers.get("Content-Range") or "").strip())
        if not match or int(match.group(1)) != have:
            raise FetchError(
                f"{url}: asked for bytes from {have}, got Content-Range {response.headers.get('Content-Range')!r}"
            )
        return have, None if match.group(3) == "*" else int(match.group(3))
    if response.status != 200:
        raise FetchError(f"{url}: unexpected HTTP status {response.status}")
    return 0, int(length) if length and length.isdigit() else None  # 200: the whole file, from the start


def _append(url: str, response, partial: Path, start: int, total: int | None, progress: Progress | None) -> None:
    """Write the body at `start` (truncating there), flushing to disk before returning or raising."""
    with open(partial, "r+b" if partial.exists() else "wb") as out:
        out.truncate(start)
        out.seek(start)
        done = start
        try:
            while block := response.read(BLOCK):
                out.write(block)
                done += len(block)
                if progress:
                    progress(done, total)
        except (OSError, HTTPException) as error:  # TimeoutError is an OSError
            out.flush()
            os.fsync(out.fileno())
            shown = total if total is not None else "?"
            raise FetchError(
                f"{url}: the transfer broke after {done} of {shown} bytes ({error}); kept in {partial}, "
                "run again to resume",
                resumable=True,
            ) from None
        out.flush()
        os.fsync(out.fileno())


def _already_complete(url: str, partial: Path, have: int, content_range: str | None) -> int:
    """A 416 answer to `Range: bytes=have-`: complete if the server's size is exactly `have`."""
    match = re.fullmatch(r"bytes \*/(\d+)", (content_range or "").strip())
    if match and int(match.group(1)) == have:
        return have
    raise FetchError(f"{url}: the server refuses the range from byte {have}; {partial} does not match it")
