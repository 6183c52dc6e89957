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


class _Tracks(HTMLParser):
    """Per contig-track SVG: its contig, its chunk bars and its region bands (data attributes), and all text."""

    def __init__(self) -> None:
        super().__init__()
        self.current: str | None = None
        self.contig: dict[str, str] = {}
        self.chunks: dict[str, list[tuple[str, int, int, str]]] = {}
        self.regions: dict[str, list[tuple[int, int]]] = {}
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "svg" and "track" in a.get("class", ""):
            self.current = a["id"]
            self.contig[self.current] = a["data-contig"]
            self.chunks[self.current], self.regions[self.current] = [], []
        elif tag == "rect" and self.current and a.get("class", "").startswith("chunk"):
            self.chunks[self.current].append((a["class"], int(a["data-start"]), int(a["data-end"]), a["data-score"]))
        elif tag == "rect" and self.current and a.get("class") == "region":
            self.regions[self.current].append((int(a["data-start"]), int(a["data-end"])))

    def handle_endtag(self, tag):
        if tag == "svg":
            self.current = None

    def handle_data(self, data):
        self.text.append(data)


FINGERPRINTS = {"dnabert": "d" * 64, "esm": "e" * 64}


def _classify_record(shard: int) -> dict:
    """A classify.json as the classify stage writes it (embedding metadata as the embed stage records it)."""
    common = {"precision": "float32", "backend": "block-diagonal", "device_type": "cpu", "device_name": "cpu"}
    common |= {"torch_version": "2.15.0", "virnucpro_version": "0.1.0", "input_sha256": f"{shard}" * 64}
    return {
        "classifier": {"path": "/models/300_model.pth", "sha256": "c" * 64},
        "dnabert": {"model_kind": "dnabert-s", "model_id": "zhihan1996/DNABERT-S", **common}
        | {"model_fingerprint": FINGERPRINTS["dnabert"], "count": "3", "dim": "768"},
        "esm": {"model_kind": "esm2", "model_id": "esm2_t36_3B_UR50D", **common}
        | {"model_fingerprint": FINGERPRINTS["esm"], "count": "3", "dim": "2560"},
        "frames": 3,
        "torch_version": "2.15.0",
        "virnucpro_version": "0.1.0",
    }


@pytest.fixture(scope="module")
def contig_page(tmp_path_factory) -> Path:
    """Two shards: a 2,000-bp contig with a planted region over chunks 2-5, a 601-bp contig, and a read."""
    tmp_path = tmp_path_factory.mktemp("contigs")
    geometry = [(0, 300), (285, 585), (570, 870), (855, 1155), (1140, 1440), (1425, 1725), (1710, 2000)]
    chunks = [HEADER] + [f"big\t2000\tbig_chunk_{k}\t{k}\t{s}\t{e}\t1" for k, (s, e) in enumerate(geometry, 1)]
    chunks += ["small\t601\tsmall_chunk_1\t1\t0\t300\t1", "small\t601\tsmall_chunk_2\t2\t200\t500\t0"]
    chunks += ["small\t601\tsmall_chunk_3\t3\t400\t601\t1"]
    virus = {1: 0.2, 2: 0.9, 3: 0.8, 4: 0.95, 5: 0.7, 6: 0.1, 7: 0.3}
    scores = ["Sequence_ID\tscore1\tscore2"] + [f"big_chunk_{k}F1\t{1 - v:.2f}\t{v:.2f}" for k, v in virus.items()]
    scores += ["small_chunk_1R2\t0.6\t0.4", "small_chunk_3F3\t0.45\t0.55"]
    (tmp_path / "c1.tsv").write_text("\n".join(chunks) + "\n")
    (tmp_path / "s1.tsv").write_text("\n".join(scores) + "\n")
    (tmp_path / "c2.tsv").write_text(f"{HEADER}\nread\t150\tread_chunk_1\t1\t0\t150\t1\n")
    (tmp_path / "s2.tsv").write_text("Sequence_ID\tscore1\tscore2\nread_chunk_1F1\t0.3\t0.7\n")
    records = []
    for shard in (1, 2):
        records.append(tmp_path / f"classify{shard}.json")
        records[-1].write_text(json.dumps(_classify_record(shard)))
    write_report(
        [tmp_path / "s1.tsv", tmp_path / "s2.tsv"],
        [tmp_path / "c1.tsv", tmp_path / "c2.tsv"],
        tmp_path / "out",
        sample="contigs",
        chunk_length=300,
        settings={"ambiguous": "drop"},
        run={"input": "/data/sample.fq.gz", "pipeline": "virnucpro 0.1.0"},
        provenance_paths=records,
        created="2026-01-02T03:04:05Z",
    )
    return tmp_path / "out" / "report.html"


def test_contig_tracks_show_every_chunk_and_the_region(tmp_path, contig_page):
    dom, requested = _render(tmp_path, contig_page)
    assert requested == []
    parsed = _Tracks()
    parsed.feed(dom)
    # the contig with a region comes first; each chunk drawn over the part of the contig it starts
    assert parsed.contig == {"track-1": "big", "track-2": "small"}
    starts = [0, 285, 570, 855, 1140, 1425, 1710, 2000]
    kinds = ["chunk below", "chunk", "chunk", "chunk", "chunk", "chunk below", "chunk below"]
    assert parsed.chunks["track-1"] == [
        (kind, starts[i], starts[i + 1], score)
        for i, (kind, score) in enumerate(
            zip(kinds, ["0.2000", "0.9000", "0.8000", "0.9500", "0.7000", "0.1000", "0.3000"], strict=True)
        )
    ]
    assert parsed.regions["track-1"] == [(285, 1440)]
    assert parsed.chunks["track-2"] == [
        ("chunk below", 0, 200, "0.4000"),
        ("chunk none", 200, 400, "NA"),
        ("chunk", 400, 601, "0.5500"),
    ]
    assert parsed.regions["track-2"] == []
    text = " ".join(parsed.text)
    assert "big: 2,000 bp, call virus, viral regions: 285-1,440" in text


def test_the_page_says_what_produced_it(tmp_path, contig_page):
    dom, _ = _render(tmp_path, contig_page)
    parsed = _Tracks()
    parsed.feed(dom)
    text, _, records = " ".join(" ".join(parsed.text).split()).partition("The classify stage's records")
    assert records.count(FINGERPRINTS["esm"]) == 2  # the raw per-shard records, collapsed at the end
    # when, from which input, by which pipeline
    assert "created 2026-01-02T03:04:05Z" in text and "input /data/sample.fq.gz" in text
    assert "pipeline virnucpro 0.1.0" in text
    # the settings that change results, chunk length included; no shard file paths
    for shown in ("threshold 0.5", "chunk_length 300", "region_max_gap 1", "region_min_length 1000", "ambiguous drop"):
        assert shown in text, shown
    assert "s1.tsv" not in text and "c1.tsv" not in text
    # the models with their fingerprints, once each although two shards recorded them, and torch
    assert text.count(FINGERPRINTS["dnabert"]) == 1 and text.count(FINGERPRINTS["esm"]) == 1
    assert "dnabert-s zhihan1996/DNABERT-S " + FINGERPRINTS["dnabert"] + " float32 block-diagonal cpu 2.15.0" in text
    assert "esm2 esm2_t36_3B_UR50D " + FINGERPRINTS["esm"] in text
    assert "classifier /models/300_model.pth " + "c" * 64 in text
    assert "torch 2.15.0" in text and "virnucpro " in text


def test_a_predict_report_names_its_models_fingerprints_and_input(tmp_path, tiny_models):
    """The whole chain on two demo reads: the rendered page carries what the embed stage recorded."""
    from virnucpro.io.embeddings import read_embeddings
    from virnucpro.predict import PredictSettings, predict_file

    models = tiny_models
    demo = Path(__file__).resolve().parents[3] / "assets" / "demo" / "reads.fa"
    reads = tmp_path / "two.fq"
    records = demo.read_text().split(">")[1:3]
    reads.write_text("".join(_fastq_record(r) for r in records))
    settings = PredictSettings(
        chunk_length=300,
        dnabert=str(models.dnabert_s),
        esm=str(models.esm2),
        classifier=models.classifier,
        device="cpu",
        keep_intermediates=True,
    )
    predict_file(reads, tmp_path / "out", settings)
    dom, requested = _render(tmp_path, tmp_path / "out" / "report.html")
    assert requested == []
    parsed = _Tracks()
    parsed.feed(dom)
    text = " ".join(" ".join(parsed.text).split()).partition("The classify stage's records")[0]
    for kind, name in (("dnabert-s", "dnabert-s"), ("esm2", "esm2")):
        metadata = read_embeddings(tmp_path / "out" / "intermediates" / f"{name}.safetensors").metadata
        assert f"{kind} {metadata['model_id']} {metadata['model_fingerprint']} float32" in text
        assert f"cpu {metadata['torch_version']}" in text
    assert f"input {reads.resolve()}" in text and "made_by virnucpro predict" in text
    assert "chunk_length 300" in text and "device cpu" in text and "Provenance: []" not in text


def _fastq_record(fasta_record: str) -> str:
    header, *lines = fasta_record.splitlines()
    sequence = "".join(lines)
    return f"@{header}\n{sequence}\n+\n{'I' * len(sequence)}\n"
