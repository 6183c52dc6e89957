"""`report.html`: one self-contained page (inline CSS and SVG, no scripts, no external URLs).

The histogram plays the part of the original tool's plotting script: how the best P(virus) of the reads is
distributed, with the calling threshold marked. The contig tracks (`report.tracks`) show where along the
top contigs the viral chunks and regions lie, and the run, settings, models and versions say what made it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from html import escape
from string import Template

from virnucpro.report.contigs import Contig
from virnucpro.report.markup import table
from virnucpro.report.tracks import contigs_section, models_section

HTML_NAME = "report.html"
_WIDTH, _HEIGHT, _MARGIN = 640, 240, 40

_PAGE = Template(
    """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>virnucpro report: $sample</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 60em; color: #222; }
h1 { font-size: 1.5em; } h2 { font-size: 1.15em; margin-top: 1.6em; } h3 { font-size: 1em; margin: 1.2em 0 0.3em; }
table { border-collapse: collapse; margin: 0.5em 0; }
td, th { border: 1px solid #ccc; padding: 0.25em 0.7em; text-align: left; vertical-align: top; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
td.hash { font-family: ui-monospace, monospace; font-size: 0.85em; word-break: break-all; }
svg { background: #fafafa; border: 1px solid #ddd; }
.bar { fill: #b22222; } .frames .bar { fill: #4a6fa5; }
.chunk { fill: #b22222; } .chunk.below { fill: #4a6fa5; } .chunk.none { fill: #bbb; }
.region { fill: #f4c7c3; }
.axis { stroke: #555; stroke-width: 1; } .threshold { stroke: #222; stroke-dasharray: 4 3; }
text { font-size: 11px; fill: #444; }
pre { background: #f4f4f4; padding: 0.7em; overflow-x: auto; font-size: 0.85em; }
</style>
</head>
<body>
<h1>virnucpro report: $sample</h1>
$run
<h2>Reads</h2>
$counts
<h2>Best P(virus) per read (called reads)</h2>
$read_histogram
<h2>P(virus) per frame</h2>
$frame_histogram
<h2>Contigs (sequences longer than one chunk)</h2>
$contigs
<h2>Settings</h2>
$settings
<h2>Models</h2>
$models
<h2>Versions</h2>
$versions
<h2>Provenance</h2>
<details><summary>The classify stage's records, one per shard, as written</summary>
<pre>$provenance</pre>
</details>
</body>
</html>
"""
)


def _svg_histogram(element_id: str, css_class: str, hist: dict, threshold: float | None) -> str:
    """An SVG bar chart: one `rect.bar` per bin (zero-height bars included), axes, ticks, threshold line."""
    counts, edges = hist["counts"], hist["edges"]
    plot_w, plot_h = _WIDTH - 2 * _MARGIN, _HEIGHT - 2 * _MARGIN
    top = max(counts) if counts and max(counts) > 0 else 1
    bar_w = plot_w / len(counts)
    parts = [
        f'<svg id="{element_id}" class="histogram {css_class}" width="{_WIDTH}" height="{_HEIGHT}" '
        f'viewBox="0 0 {_WIDTH} {_HEIGHT}" role="img">'
    ]
    for i, count in enumerate(counts):
        h = plot_h * count / top
        x, y = _MARGIN + i * bar_w, _MARGIN + plot_h - h
        parts.append(
            f'<rect class="bar" data-count="{count}" x="{x:.2f}" y="{y:.2f}" width="{bar_w - 1:.2f}" '
            f'height="{h:.2f}"><title>{edges[i]:.2f}-{edges[i + 1]:.2f}: {count}</title></rect>'
        )
    base = _MARGIN + plot_h
    parts.append(f'<line class="axis" x1="{_MARGIN}" y1="{base}" x2="{_MARGIN + plot_w}" y2="{base}"/>')
    parts.append(f'<line class="axis" x1="{_MARGIN}" y1="{_MARGIN}" x2="{_MARGIN}" y2="{base}"/>')
    for tick in (0.0, 0.25, 0.5, 0.75, 1.0):
        parts.append(f'<text x="{_MARGIN + tick * plot_w:.1f}" y="{base + 16}" text-anchor="middle">{tick}</text>')
    parts.append(f'<text x="{_MARGIN - 6}" y="{_MARGIN + 4}" text-anchor="end">{top}</text>')
    parts.append(f'<text x="{_MARGIN - 6}" y="{base}" text-anchor="end">0</text>')
    if threshold is not None and 0.0 <= threshold <= 1.0:
        tx = _MARGIN + threshold * plot_w
        parts.append(f'<line class="threshold" x1="{tx:.1f}" y1="{_MARGIN - 8}" x2="{tx:.1f}" y2="{base}"/>')
        parts.append(f'<text x="{tx:.1f}" y="{_MARGIN - 12}" text-anchor="middle">threshold {threshold}</text>')
    parts.append("</svg>")
    return "\n".join(parts)


def _settings_rows(settings: dict) -> list[tuple[str, object]]:
    return [(k, json.dumps(v) if isinstance(v, dict | list) else v) for k, v in settings.items()]


def render_html(summary: dict, contigs: Sequence[Contig] = ()) -> str:
    """The report page for a summary made by `build_summary`, with tracks for the top `contigs`."""
    counts = summary["counts"]
    count_rows: list[tuple[str, object]] = [(k, counts[k]) for k in ("reads", "chunks", "chunks_with_frames", "frames")]
    count_rows += [(f"status: {k}", v) for k, v in counts["status"].items()]
    count_rows += [(f"call: {k}", v) for k, v in counts["call"].items()]
    threshold = summary["settings"].get("threshold")
    run_rows = [("created", summary["created"]), *summary["run"].items()]
    return _PAGE.substitute(
        sample=escape(summary["sample"]),
        run=table(run_rows, table_id="run"),
        counts=table(count_rows),
        read_histogram=_svg_histogram("hist-reads", "reads", summary["histograms"]["read_best_virus_score"], threshold),
        frame_histogram=_svg_histogram("hist-frames", "frames", summary["histograms"]["frame_virus_score"], None),
        contigs=contigs_section(summary["contigs"], contigs, threshold),
        settings=table(_settings_rows(summary["settings"]), table_id="settings"),
        models=models_section(summary["models"]),
        versions=table(list(summary["versions"].items()), table_id="versions"),
        provenance=escape(json.dumps(summary["provenance"], indent=2, sort_keys=True)),
    )
