"""report.html in a real headless Chromium: it renders, shows the histograms, and requests nothing.

Chromium writes a network log (--log-net-log); requests made by the page carry the page's origin as their
initiator, while the browser's own background requests carry none, so page traffic can be told apart.
A control page with one external image and stylesheet shows the check catches what it should.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
from virnucpro.report import write_report

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no chromium binary (install Debian's chromium package)")
HEADER = "read_id\tread_length\tchunk_id\tchunk_index\tstart\tend\tframes_kept"


def _render(tmp_path: Path, page: Path) -> tuple[str, list[str]]:
    """The DOM after rendering, and the URLs the page itself requested."""
    netlog = tmp_path / f"{page.stem}.netlog.json"
    command = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={tmp_path / f'profile-{page.stem}'}",
        f"--log-net-log={netlog}",
        "--dump-dom",
        page.as_uri(),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=True)
    log = json.loads(netlog.read_text())
    start_job = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    requested = [
        event["params"]["url"]
        for event in log["events"]
        if event["type"] == start_job
        and "url" in event.get("params", {})
        and event["params"].get("initiator") != "not an origin"
    ]
    return done.stdout, requested


class _Bars(HTMLParser):
    """Counts `rect.bar` elements per histogram SVG id, and collects every src/href value."""

    def __init__(self) -> None:
        super().__init__()
        self.current: str | None = None
        self.bars: dict[str, list[int]] = {}
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        self.links += [v for k, v in attrs if k in ("src", "href") and v]
        if tag == "svg":
            self.current = attributes.get("id")
            self.bars[self.current] = []
        elif tag == "rect" and attributes.get("class") == "bar" and self.current:
            self.bars[self.current].append(int(attributes["data-count"]))

    def handle_endtag(self, tag):
        if tag == "svg":
            self.current = None


@pytest.fixture(scope="module")
def report_page(tmp_path_factory) -> Path:
    tmp_path = tmp_path_factory.mktemp("html")
    chunks = [HEADER] + [f"r{i}\t300\tr{i}_chunk_1\t1\t0\t300\t1" for i in range(30)] + ["s\t2\ts_chunk_1\t1\t0\t2\t0"]
    scores = ["Sequence_ID\tscore1\tscore2"] + [f"r{i}_chunk_1F1\t{1 - i / 30:.4f}\t{i / 30:.4f}" for i in range(30)]
    (tmp_path / "chunks.tsv").write_text("\n".join(chunks) + "\n")
    (tmp_path / "scores.tsv").write_text("\n".join(scores) + "\n")
    write_report([tmp_path / "scores.tsv"], [tmp_path / "chunks.tsv"], tmp_path / "out", sample="demo")
    return tmp_path / "out" / "report.html"


def test_report_renders_with_both_histograms(tmp_path, report_page):
    dom, _ = _render(tmp_path, report_page)
    parsed = _Bars()
    parsed.feed(dom)
    # 30 called reads with best scores 0, 1/30, ..., 29/30: 20 bins of width 0.05 hold 2,1,2,1,... reads
    assert len(parsed.bars["hist-reads"]) == 20 and sum(parsed.bars["hist-reads"]) == 30
    assert parsed.bars["hist-reads"][:4] == [2, 1, 2, 1]
    assert len(parsed.bars["hist-frames"]) == 20
    assert "virnucpro report: demo" in dom and "too_short" in dom


def test_report_loads_nothing_from_the_network(tmp_path, report_page):
    source = report_page.read_text()
    parsed = _Bars()
    parsed.feed(source)
    assert parsed.links == []
    assert re.search(r"https?://", source) is None
    assert "<script" not in source
    _, requested = _render(tmp_path, report_page)
    assert requested == []


def test_the_network_check_sees_external_resources(tmp_path, report_page):
    page = tmp_path / "control.html"
    page.write_text(
        report_page.read_text().replace(
            "</body>",
            '<img src="http://example.invalid/x.png"><link rel="stylesheet" href="https://cdn.invalid/a.css"></body>',
        )
    )
    _, requested = _render(tmp_path, page)
    assert sorted(requested) == ["http://example.invalid/x.png", "https://cdn.invalid/a.css"]
