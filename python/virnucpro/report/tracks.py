"""The report page's contig view and model table: plain inline SVG and HTML, nothing loaded from elsewhere.

Each of the top contigs gets a track: its chunks along the contig (x, contig coordinates) at the height
of their best P(virus) (y, 0 to 1), viral chunks red, scored ones below the threshold blue, chunks
without a frame grey, viral regions shaded behind. Chunks overlap (docs/contract.md, section 2), so each
is drawn over the part of the contig it starts (up to the next chunk's start; the last to the contig's
end). A contig of more than `MAX_BARS` chunks is drawn in `MAX_BARS` equal bins, each at the best score
of the chunks it touches, so the page stays small for megabase contigs.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from virnucpro.report.contigs import Contig
from virnucpro.report.markup import grid, table

TOP_CONTIGS = 25
MAX_BARS = 600
_WIDTH, _HEIGHT, _LEFT, _RIGHT, _TOP, _BOTTOM = 640, 120, 40, 16, 10, 24
Bar = tuple[int, int, float | None, str]  # start, end, best P(virus) or None, tooltip


def top_contigs(contigs: Sequence[Contig], count: int = TOP_CONTIGS) -> list[Contig]:
    """The contigs with the most bases in viral regions, then the highest chunk score, then input order."""
    order = sorted(
        range(len(contigs)),
        key=lambda i: (-contigs[i].region_bases, -max(contigs[i].scored, default=-1.0), i),
    )
    return [contigs[i] for i in order[:count]]


def contigs_section(counts: dict, contigs: Sequence[Contig], threshold: float) -> str:
    """Counts of contig calls and regions, then one track per top contig."""
    rows: list[tuple[str, object]] = [("contigs", counts["contigs"])]
    rows += [(f"status: {k}", v) for k, v in counts["status"].items()]
    rows += [(f"call: {k}", v) for k, v in counts["call"].items()]
    rows += [("viral regions", counts["regions"]), ("bases in viral regions", counts["region_bases"])]
    parts = [table(rows, table_id="contig-counts")]
    if not contigs:
        parts.append("<p>No input sequence is longer than one chunk.</p>")
        return "\n".join(parts)
    shown = top_contigs(contigs)
    parts.append(
        f"<p>The {len(shown)} of {len(contigs)} contigs with the most bases in viral regions: best P(virus) of "
        "each chunk along the contig (red: at or above the threshold, blue: below, grey: no frame), viral "
        "regions shaded.</p>"
    )
    for number, contig in enumerate(shown, start=1):
        regions = ", ".join(f"{r.start:,}-{r.end:,}" for r in contig.regions) or "none"
        parts.append(
            f"<h3>{escape(contig.contig_id)}: {contig.length:,} bp, call {contig.call}, viral regions: {regions}</h3>"
        )
        parts.append(track_svg(f"track-{number}", contig, threshold))
    return "\n".join(parts)


def _bars(contig: Contig) -> list[Bar]:
    """One bar per chunk over the part of the contig it starts, or `MAX_BARS` bins for long contigs."""
    track = contig.track
    ends = [chunk.start for chunk in track[1:]] + [contig.length]
    own = [(chunk.start, end, chunk.score) for chunk, end in zip(track, ends, strict=True)]
    if len(own) <= MAX_BARS:
        return [
            (c.start, end, c.score, f"{c.chunk_id} [{c.start:,}, {c.end:,})")
            for c, end in zip(track, ends, strict=True)
        ]
    edges = [round(i * contig.length / MAX_BARS) for i in range(MAX_BARS + 1)]
    best: list[float | None] = [None] * MAX_BARS
    for start, end, score in own:
        if score is None:
            continue
        first, last = start * MAX_BARS // contig.length, (end - 1) * MAX_BARS // contig.length
        for i in range(first, last + 1):
            best[i] = score if best[i] is None else max(best[i], score)
    return [(edges[i], edges[i + 1], best[i], f"bases {edges[i]:,}-{edges[i + 1]:,}") for i in range(MAX_BARS)]


def track_svg(element_id: str, contig: Contig, threshold: float) -> str:
    """The SVG track of one contig: regions, one rect per bar, axes, the threshold line."""
    plot_w, plot_h = _WIDTH - _LEFT - _RIGHT, _HEIGHT - _TOP - _BOTTOM
    base = _TOP + plot_h

    def x(position: int) -> float:
        return _LEFT + plot_w * position / contig.length

    parts = [
        f'<svg id="{element_id}" class="track" data-contig="{escape(contig.contig_id)}" width="{_WIDTH}" '
        f'height="{_HEIGHT}" viewBox="0 0 {_WIDTH} {_HEIGHT}" role="img">'
    ]
    for region in contig.regions:
        parts.append(
            f'<rect class="region" data-start="{region.start}" data-end="{region.end}" x="{x(region.start):.2f}" '
            f'y="{_TOP}" width="{x(region.end) - x(region.start):.2f}" height="{plot_h}"><title>viral region '
            f"{region.start:,}-{region.end:,} (mean P(virus) {region.mean_score:.3f})</title></rect>"
        )
    for start, end, score, label in _bars(contig):
        parts.append(_bar(x(start), x(end), base, plot_h, start, end, score, threshold, label))
    parts.append(f'<line class="axis" x1="{_LEFT}" y1="{base}" x2="{_LEFT + plot_w}" y2="{base}"/>')
    parts.append(f'<line class="axis" x1="{_LEFT}" y1="{_TOP}" x2="{_LEFT}" y2="{base}"/>')
    ty = _TOP + plot_h * (1 - threshold)
    parts.append(f'<line class="threshold" x1="{_LEFT}" y1="{ty:.1f}" x2="{_LEFT + plot_w}" y2="{ty:.1f}"/>')
    parts.append(f'<text x="{_LEFT - 6}" y="{_TOP + 4}" text-anchor="end">1</text>')
    parts.append(f'<text x="{_LEFT - 6}" y="{base}" text-anchor="end">0</text>')
    parts.append(f'<text x="{_LEFT}" y="{base + 16}" text-anchor="start">0</text>')
    parts.append(f'<text x="{_LEFT + plot_w}" y="{base + 16}" text-anchor="end">{contig.length:,} bp</text>')
    parts.append("</svg>")
    return "\n".join(parts)


def _bar(
    left: float, right: float, base: float, plot_h: float, start: int, end: int, score: float | None, threshold: float,
    label: str,
) -> str:  # fmt: skip
    """One rect: a grey sliver for a chunk without a frame, else a bar as high as its score."""
    if score is None:
        kind, height, shown = "chunk none", 3.0, "NA"
        title = f"{label}: no frame"
    else:
        kind = "chunk" if score >= threshold else "chunk below"
        height, shown = max(plot_h * score, 1.0), f"{score:.4f}"
        title = f"{label}: best P(virus) {score:.3f}"
    return (
        f'<rect class="{kind}" data-start="{start}" data-end="{end}" data-score="{shown}" x="{left:.2f}" '
        f'y="{base - height:.2f}" width="{max(right - left, 0.5):.2f}" height="{height:.2f}">'
        f"<title>{escape(title)}</title></rect>"
    )


def models_section(models: dict[str, list[dict]]) -> str:
    """Which embedding models and classifier scored the frames, with their fingerprints."""
    rows = []
    for kind in ("dnabert-s", "esm2"):
        for model in models.get(kind, []):
            device = model.get("device_name") or model.get("device_type", "")
            rows.append(
                [
                    kind,
                    model.get("model_id", ""),
                    model.get("model_fingerprint", ""),
                    model.get("precision", ""),
                    model.get("backend", ""),
                    device,
                    model.get("torch_version", ""),
                ]
            )
    for classifier in models.get("classifier", []):
        rows.append(["classifier", classifier.get("path", ""), classifier.get("sha256", ""), "", "", "", ""])
    if not rows:
        return "<p>No frame was classified, so no model ran.</p>"
    header = ["model", "given as", "fingerprint (sha256)", "precision", "backend", "device", "torch"]
    return grid(header, rows, table_id="models", hashes=(2,))
