"""The report stage: the original tool's two files, a per-read table, a summary and an HTML page.

`write_report` is the one entry point; the CLI and `predict` both call it.
"""

from __future__ import annotations

import json
from pathlib import Path

from virnucpro.io.chunks import read_chunks
from virnucpro.io.scores import read_classify_info, read_scores
from virnucpro.logging_setup import get_logger
from virnucpro.report.compatible import HIGHEST_NAME, PREDICTIONS_NAME, highest_score_text, predictions_text
from virnucpro.report.html import HTML_NAME, render_html
from virnucpro.report.reads import DEFAULT_THRESHOLD, READS_NAME, call_reads, check_threshold, reads_text
from virnucpro.report.summary import SUMMARY_NAME, build_summary

log = get_logger("report")


def write_report(
    scores_paths: list[str | Path],
    chunks_paths: list[str | Path],
    outdir: str | Path,
    *,
    threshold: float = DEFAULT_THRESHOLD,
    sample: str = "sample",
    settings: dict | None = None,
    provenance_paths: list[str | Path] = (),
) -> dict:
    """Write every report file into `outdir` from per-shard scores and chunks tables (in shard order).

    Args:
        scores_paths: `scores.tsv` files of the classify stage.
        chunks_paths: `chunks.tsv` files of the translate stage (together they list every input read).
        outdir: output directory (created).
        threshold: P(virus) at or above which a read is called `virus`.
        sample: the name shown in the summary and page.
        settings: extra settings to record in the summary (chunk length, model names).
        provenance_paths: the classify stage's `classify.json` files, recorded as they are.

    Returns:
        The summary dict that was written to `summary.json`.

    Raises:
        InputError: unreadable inputs, or scores that do not match the chunks tables.
    """
    check_threshold(threshold)
    scores = [row for path in scores_paths for row in read_scores(path)]
    chunks = [chunk for path in chunks_paths for chunk in read_chunks(path)]
    calls = call_reads(chunks, scores, threshold)
    settings = {**(settings or {}), "scores": [str(p) for p in scores_paths], "chunks": [str(p) for p in chunks_paths]}
    summary = build_summary(
        calls,
        scores,
        sample=sample,
        threshold=threshold,
        settings=settings,
        provenance=[read_classify_info(path) for path in provenance_paths],
    )
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    (outdir / PREDICTIONS_NAME).write_text(predictions_text(scores), encoding="utf-8", newline="\n")
    (outdir / HIGHEST_NAME).write_text(highest_score_text(scores), encoding="utf-8", newline="\n")
    (outdir / READS_NAME).write_text(reads_text(calls), encoding="utf-8", newline="\n")
    (outdir / SUMMARY_NAME).write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    (outdir / HTML_NAME).write_text(render_html(summary), encoding="utf-8")
    log.info("%d reads, %d frames -> %s", len(calls), len(scores), outdir)
    return summary
