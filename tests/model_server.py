"""A local model server on 127.0.0.1 laid out like the real sources, serving the tiny test models.

It honours `Range: bytes=N-` (206 with Content-Range, 416 past the end) as the real hosts do, records
every request, and can be told to cut a file's body short (the connection closes mid-transfer) or to
serve other bytes than the listing promises. `serving` starts it and stops it, joining its threads.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from virnucpro.fetch import catalogue
from virnucpro.models.tiny_checkpoints import TinyModelPaths

COMMIT = "5e1c7ab2f0d94c3b8a61e2d7f4c09b3a1d2e6f70"
DNABERT_FILES = ("config.json", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json")
ESM = catalogue.ESM_NAME
SERVE_TIMEOUT_S = 30


def git_blob(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


@dataclass
class ModelServer:
    """What is served (path -> bytes), what was asked (path, Range header), and the faults to inject."""

    files: dict[str, bytes] = field(default_factory=dict)
    requests: list[tuple[str, str | None]] = field(default_factory=list)
    cut_after: dict[str, int] = field(default_factory=dict)  # path -> bytes sent before closing, once
    honour_range: bool = True  # False: answer every request with the whole file, as some servers do
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def options(self) -> list[str]:
        """The fetch-models options that point every source at this server."""
        return [
            "--hf-endpoint",
            f"{self.url}/hub",
            "--esm-mirror",
            f"{self.url}/fair-esm",
            "--classifier-mirror",
            f"{self.url}/virnucpro",
        ]

    def hub_file(self, name: str) -> str:
        """The served path of a DNABERT-S file at the listed revision."""
        return f"/hub/zhihan1996/DNABERT-S/resolve/{COMMIT}/{name}"

    def ranges(self, path: str) -> list[str | None]:
        return [header for asked, header in self.requests if asked == path]


def _handler(server: ModelServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            server.requests.append((path, self.headers.get("Range")))
            body = server.files.get(path)
            if body is None:
                self.send_error(404)
                return
            start = 0
            asked = re.fullmatch(r"bytes=(\d+)-", self.headers.get("Range") or "")
            if asked and server.honour_range:
                start = int(asked.group(1))
                if start >= len(body):
                    self.send_response(416)
                    self.send_header("Content-Range", f"bytes */{len(body)}")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(206)
                self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
            else:
                self.send_response(200)
            self.send_header("Content-Length", str(len(body) - start))
            self.end_headers()
            cut = server.cut_after.pop(path, None)
            self.wfile.write(body[start:cut] if cut is not None else body[start:])
            self.close_connection = True

        def log_message(self, *args: object) -> None:
            pass

    return Handler


def serve_tiny_models(server: ModelServer, models: TinyModelPaths) -> None:
    """Lay the tiny models out as the hub, fair-esm and the VirNucPro repository publish theirs."""
    siblings = [{"rfilename": "bert_layers.py", "size": 5, "blobId": git_blob(b"pass\n")}]
    server.files["/hub/zhihan1996/DNABERT-S/resolve/" + COMMIT + "/bert_layers.py"] = b"pass\n"
    for name in DNABERT_FILES:
        data = (models.dnabert_s / name).read_bytes()
        siblings.append({"rfilename": name, "size": len(data), "blobId": git_blob(data)})
        server.files[f"/hub/zhihan1996/DNABERT-S/resolve/{COMMIT}/{name}"] = data
    weights = (models.dnabert_s / "pytorch_model.bin").read_bytes()
    lfs = {"sha256": hashlib.sha256(weights).hexdigest(), "size": len(weights), "pointerSize": 134}
    siblings.append({"rfilename": "pytorch_model.bin", "size": len(weights), "blobId": "0" * 40, "lfs": lfs})
    server.files[f"/hub/zhihan1996/DNABERT-S/resolve/{COMMIT}/pytorch_model.bin"] = weights
    listing = {"id": "zhihan1996/DNABERT-S", "sha": COMMIT, "siblings": siblings}
    server.files["/hub/api/models/zhihan1996/DNABERT-S/revision/main"] = json.dumps(listing).encode()
    regression = models.esm2.with_name(f"{models.esm2.stem}-contact-regression.pt")
    server.files[f"/fair-esm/models/{ESM}.pt"] = models.esm2.read_bytes()
    server.files[f"/fair-esm/regression/{ESM}-contact-regression.pt"] = regression.read_bytes()
    for length in (300, 500):
        server.files[f"/virnucpro/{length}_model.pth"] = models.classifier.read_bytes()


@contextmanager
def serving(models: TinyModelPaths) -> Iterator[ModelServer]:
    """The tiny models served on 127.0.0.1 (a free port) for the duration of the block."""
    server = ModelServer()
    serve_tiny_models(server, models)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(server))
    httpd.daemon_threads = False  # server_close() then joins the request threads
    server.port = httpd.server_address[1]
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(SERVE_TIMEOUT_S)
        assert not thread.is_alive(), "the model server did not stop"


def pin_classifiers(models: TinyModelPaths) -> dict[int, str]:
    """Pinned classifier blob ids that match the served tiny classifier (set them with monkeypatch)."""
    return dict.fromkeys(catalogue.CLASSIFIER_BLOBS, git_blob(models.classifier.read_bytes()))
