"""MultiQC custom content of one sample's report: read outcomes, a score histogram, contigs, general stats.

nf-core users read one MultiQC report per run. Each file here is a MultiQC custom-content JSON file
(`*_mqc.json`) holding this sample's data under the sample name; MultiQC merges the files of every sample
that share a section `id` into one plot or table, so running `multiqc` over the outputs of several samples
(as the pipeline's MULTIQC step does) shows them side by side. The numbers are the summary's, nothing is
recomputed.
"""

from __future__ import annotations

import itertools
import json

MULTIQC_DIR = "multiqc"
# every section sits under one "virnucpro" module of the MultiQC report
_PARENT = {
    "parent_id": "virnucpro",
    "parent_name": "virnucpro",
    "parent_description": "Viral sequences found with the VirNucPro method (DNABERT-S, ESM-2, MLP classifier).",
}
# read outcomes: the two calls of scored reads, then why the others were not scored; together every read
READ_OUTCOMES = (
    ("virus", "virus", "#d62728"),
    ("others", "others", "#1f77b4"),
    ("no_valid_frame", "no valid frame", "#bbbbbb"),
    ("too_short", "too short", "#7f7f7f"),
)
CONTIG_COLUMNS = (
    ("contigs", "Contigs", "Sequences longer than one chunk"),
    ("virus", "Virus", "Contigs called virus: at least half of their chunks are viral"),
    ("viral_regions", "With viral regions", "Contigs not called virus that hold at least one viral region"),
    ("others", "Others", "Contigs with scored chunks but neither call"),
    ("no_valid_frame", "No valid frame", "Contigs without a scored chunk"),
    ("regions", "Regions", "Viral regions in regions.bed"),
    ("region_bases", "Region bases", "Bases inside viral regions"),
)


def multiqc_files(summary: dict) -> dict[str, str]:
    """The custom-content files of one report, file name -> JSON text, from its summary."""
    sample = summary["sample"]
    sections = {
        "virnucpro_general_stats_mqc.json": _general_stats(sample, summary["counts"]),
        "virnucpro_reads_mqc.json": _reads(sample, summary["counts"]),
        "virnucpro_scores_mqc.json": _scores(sample, summary["histograms"]["read_best_virus_score"]),
        "virnucpro_contigs_mqc.json": _contigs(sample, summary["contigs"]),
    }
    return {name: json.dumps(content, indent=2) + "\n" for name, content in sections.items()}


def _reads(sample: str, counts: dict) -> dict:
    outcomes = {**counts["call"], **{s: n for s, n in counts["status"].items() if s != "called"}}
    return {
        "id": "virnucpro_reads",
        **_PARENT,
        "section_name": "Read outcomes",
        "description": "Every input read once: called virus or others by its best virus score over all its "
        "frames, or not scored (no frame without a stop codon, or shorter than a codon).",
        "plot_type": "bargraph",
        "pconfig": {"id": "virnucpro_reads_plot", "title": "virnucpro: read outcomes", "ylab": "Reads"},
        "categories": {key: {"name": name, "color": color} for key, name, color in READ_OUTCOMES},
        "data": {sample: {key: outcomes[key] for key, _, _ in READ_OUTCOMES}},
    }


def _scores(sample: str, histogram: dict) -> dict:
    edges, counts = histogram["edges"], histogram["counts"]
    centres = [round((low + high) / 2, 6) for low, high in itertools.pairwise(edges)]
    return {
        "id": "virnucpro_scores",
        **_PARENT,
        "section_name": "Best virus score per read",
        "description": f"Scored reads per bin of their best virus score ({len(counts)} equal bins over [0, 1], "
        "plotted at the bin centre).",
        "plot_type": "linegraph",
        "pconfig": {
            "id": "virnucpro_scores_plot",
            "title": "virnucpro: best virus score per read",
            "xlab": "Best virus score",
            "ylab": "Reads",
            "xmin": 0,
            "xmax": 1,
        },
        "data": {sample: {str(x): n for x, n in zip(centres, counts, strict=True)}},
    }


def _contigs(sample: str, contigs: dict) -> dict:
    values = {
        "contigs": contigs["contigs"],
        **contigs["call"],
        "no_valid_frame": contigs["status"]["no_valid_frame"],
        "regions": contigs["regions"],
        "region_bases": contigs["region_bases"],
    }
    return {
        "id": "virnucpro_contigs",
        **_PARENT,
        "section_name": "Contigs and viral regions",
        "description": "Sequences longer than one chunk (contigs.tsv) by call, and their viral regions (regions.bed).",
        "plot_type": "table",
        "pconfig": {"id": "virnucpro_contigs_table", "title": "virnucpro: contigs", "col1_header": "Sample"},
        "headers": {
            key: {"title": title, "description": text, "format": "{:,.0f}"} for key, title, text in CONTIG_COLUMNS
        },
        "data": {sample: {key: values[key] for key, _, _ in CONTIG_COLUMNS}},
    }


def _general_stats(sample: str, counts: dict) -> dict:
    reads, virus = counts["reads"], counts["call"]["virus"]
    return {
        "id": "virnucpro_general_stats",
        "plot_type": "generalstats",
        "namespace": "virnucpro",
        "pconfig": [
            {"reads": {"title": "Reads", "description": "Input reads", "format": "{:,.0f}"}},
            {"virus_reads": {"title": "Virus", "description": "Reads called virus", "format": "{:,.0f}"}},
            {
                "percent_virus": {
                    "title": "% Virus",
                    "description": "Reads called virus, percent of all input reads",
                    "suffix": "%",
                    "min": 0,
                    "max": 100,
                }
            },
        ],
        "data": {
            sample: {
                "reads": reads,
                "virus_reads": virus,
                "percent_virus": round(100 * virus / reads, 2) if reads else 0.0,
            }
        },
    }
