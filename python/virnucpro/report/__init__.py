"""The report stage: the original tool's two files, per-read and per-contig tables, viral regions, a summary,
an HTML page and MultiQC custom content.

`write_report` is the one entry point; the CLI and `predict` both call it.
"""

from __future__ import annotations

import json
from pathlib import Path

from virnucpro.config import get_env_config
from virnucpro.errors import InputError
from virnucpro.io.chunks import read_chunks
from virnucpro.io.outputs import OutputSet, check_can_create_directory
from virnucpro.io.scores import read_classify_info, read_scores
from virnucpro.logging_setup import get_logger
from virnucpro.report.compatible import HIGHEST_NAME, PREDICTIONS_NAME, highest_score_text, predictions_text
from virnucpro.report.contigs import (
    CONTIGS_NAME,
    REGIONS_NAME,
    RegionSettings,
    call_contigs,
    contigs_text,
    regions_text,
)
from virnucpro.report.html import HTML_NAME, render_html
from virnucpro.report.multiqc import MULTIQC_DIR, multiqc_files
from virnucpro.report.provenance import chunk_length_of, created_at
from virnucpro.report.reads import (
    DEFAULT_THRESHOLD,
    READS_NAME,
    call_grouped,
    check_threshold,
    frames_by_chunk,
    group_reads,
    reads_text,
)
from virnucpro.report.summary import SUMMARY_NAME, build_summary

log = get_logger("report")
DEFAULT_REGIONS = RegionSettings()
REPORT_FILES = (
    PREDICTIONS_NAME,
    HIGHEST_NAME,
    READS_NAME,
    CONTIGS_NAME,
    REGIONS_NAME,
    SUMMARY_NAME,
    HTML_NAME,
)
REPORT_LABEL = "report"  # the output set of the report files (`virnucpro.io.outputs`)


def write_report(
    scores_paths: list[str | Path],
    chunks_paths: list[str | Path],
    outdir: str | Path,
    *,
    threshold: float = DEFAULT_THRESHOLD,
    sample: str = "sample",
    chunk_length: int | None = None,
    regions: RegionSettings = DEFAULT_REGIONS,
    settings: dict | None = None,
    run: dict | None = None,
    provenance_paths: list[str | Path] = (),
    created: str | None = None,
) -> dict:
    """Write every report file into `outdir` from per-shard scores and chunks tables (in shard order).

    Args:
        scores_paths: `scores.tsv` files of the classify stage.
        chunks_paths: `chunks.tsv` files of the translate stage (together they list every input read).
        outdir: output directory (created); the files are one output set (`virnucpro.io.outputs`), so a
            run that stops never leaves new files beside old ones.
        threshold: P(virus) at or above which a read, and a chunk of a contig, is called `virus`.
        sample: the name shown in the summary and page.
        chunk_length: the translate stage's chunk length, checked against the chunks tables (None: read
            from them where a read was long enough to show it).
        regions: how viral chunks of a contig become regions.
        settings: further settings to record as given (ambiguous-codon mode, device asked for, ...).
        run: how the run was made, recorded as given (input files, pipeline and Nextflow versions, ...).
        provenance_paths: the classify stage's `classify.json` files.
        created: the creation time to record (default: now, or SOURCE_DATE_EPOCH when set).

    Returns:
        The summary dict that was written to `summary.json`.

    Raises:
        InputError: unreadable inputs, scores that do not match the chunks tables, a chunk length that
            does not match them, or bad settings.
    """
    check_threshold(threshold)
    regions.check()
    check_can_create_directory(outdir)  # a bad --outdir fails before anything is read
    scores = [row for path in scores_paths for row in read_scores(path)]
    chunks = [chunk for path in chunks_paths for chunk in read_chunks(path)]
    reads = group_reads(chunks)
    by_chunk = frames_by_chunk(chunks, scores)
    calls = call_grouped(reads, by_chunk, threshold)
    contigs = call_contigs(reads, by_chunk, threshold, regions)
    recorded = {
        "threshold": threshold,
        "chunk_length": chunk_length_of(reads, chunk_length),
        "region_max_gap": regions.max_gap,
        "region_min_length": regions.min_length,
    }
    clashing = sorted(set(recorded) & set(settings or {}))
    if clashing:
        raise InputError(f"setting {', '.join(clashing)} is recorded from the report's own options; give it there")
    recorded.update(settings or {})
    summary = build_summary(
        calls,
        scores,
        contigs,
        sample=sample,
        created=created or created_at(get_env_config().source_date_epoch),
        settings=recorded,
        run=dict(run or {}),
        records=[read_classify_info(path) for path in provenance_paths],
    )
    files = {
        PREDICTIONS_NAME: predictions_text(scores),
        HIGHEST_NAME: highest_score_text(scores),
        READS_NAME: reads_text(calls),
        CONTIGS_NAME: contigs_text(contigs),
        REGIONS_NAME: regions_text(contigs),
        SUMMARY_NAME: json.dumps(summary, indent=2) + "\n",
        HTML_NAME: render_html(summary, contigs),
        **{f"{MULTIQC_DIR}/{name}": text for name, text in multiqc_files(summary).items()},
    }
    _write_files(Path(outdir), files)
    log.info("%d reads, %d contigs, %d frames -> %s", len(calls), len(contigs), len(scores), outdir)
    return summary


def _write_files(outdir: Path, files: dict[str, str]) -> None:
    """Write every report file as one output set: all of them appear together, or none is replaced."""
    with OutputSet(outdir, REPORT_LABEL, files) as outputs:
        for name, text in files.items():
            outputs.write_text(name, text)
        outputs.commit()
