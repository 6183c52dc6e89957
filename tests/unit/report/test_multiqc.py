"""MultiQC custom content of a report: its numbers are the summary's, and MultiQC reads them per sample.

Reports are made on constructed contigs with hand-written scores (as in test_contigs), so every count is
known; the MultiQC run uses the pipeline's own settings (assets/multiqc_config.yml).
"""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
from pathlib import Path

from virnucpro.report import write_report

from tests.unit.report.test_contigs import viral, write_inputs

REPO = Path(__file__).resolve().parents[3]
MQC_FILES = [
    "virnucpro_contigs_mqc.json",
    "virnucpro_general_stats_mqc.json",
    "virnucpro_reads_mqc.json",
    "virnucpro_scores_mqc.json",
]


def make_report(tmp_path: Path, sample: str, contigs: dict) -> tuple[Path, dict]:
    """(report folder, summary) of one sample over constructed contigs."""
    scores, chunks = write_inputs(tmp_path / f"{sample}.in", contigs)
    outdir = tmp_path / "results" / sample
    return outdir, write_report([scores], [chunks], outdir, sample=sample, chunk_length=300)


def sample_one(tmp_path: Path) -> tuple[Path, dict]:
    # a host contig with an island (chunks 2, 3 and 5 viral: one region over the gap, [285, 1440)), a virus
    # contig (chunks 1-6: [0, 1725)), a host contig, a contig without frames, and
    # two short reads: one scored high, one without a frame
    contigs = {
        "host_with_island": (2000, viral(2, 3, 5)),
        "phage": (2000, viral(1, 2, 3, 4, 5, 6)),
        "host": (2000, viral()),
        "frameless": (2000, {}),
        "short_viral": (250, {1: [0.97]}),
        "short_empty": (250, {}),
    }
    return make_report(tmp_path, "S1", contigs)


def load(folder: Path, name: str) -> dict:
    return json.loads((folder / "multiqc" / name).read_text())


def test_custom_content_holds_the_summarys_counts(tmp_path):
    outdir, summary = sample_one(tmp_path)
    assert sorted(p.name for p in (outdir / "multiqc").iterdir()) == MQC_FILES
    reads = load(outdir, "virnucpro_reads_mqc.json")
    assert reads["plot_type"] == "bargraph"
    # every read once, by its best virus score over all its frames: the island and phage contigs and the
    # short viral read are virus, the host contig others, the frameless contig and short read unscored
    assert reads["data"] == {"S1": {"virus": 3, "others": 1, "no_valid_frame": 2, "too_short": 0}}
    assert sum(reads["data"]["S1"].values()) == summary["counts"]["reads"] == 6
    contigs = load(outdir, "virnucpro_contigs_mqc.json")
    assert contigs["data"] == {
        "S1": {
            "contigs": 4,
            "virus": 1,
            "viral_regions": 1,
            "others": 1,
            "no_valid_frame": 1,
            "regions": 2,
            "region_bases": 1155 + 1725,
        }
    }
    general = load(outdir, "virnucpro_general_stats_mqc.json")
    assert general["data"] == {"S1": {"reads": 6, "virus_reads": 3, "percent_virus": 50.0}}


def test_the_score_histogram_is_the_summarys_at_bin_centres(tmp_path):
    outdir, summary = sample_one(tmp_path)
    scores = load(outdir, "virnucpro_scores_mqc.json")
    line = scores["data"]["S1"]
    histogram = summary["histograms"]["read_best_virus_score"]
    assert list(line.values()) == histogram["counts"] and sum(line.values()) == 4  # the scored reads
    assert list(line)[:2] == ["0.025", "0.075"] and list(line)[-1] == "0.975"
    assert line["0.925"] == 2 and line["0.975"] == 1 and line["0.125"] == 1  # 0.9, 0.9, 0.97 and 0.1


def test_multiqc_shows_every_sample_with_its_numbers(tmp_path):
    first, _ = sample_one(tmp_path)
    # a name MultiQC would cut at ".fq" by default: the pipeline's settings keep sample names whole
    second, _ = make_report(tmp_path, "S2.fq_trimmed", {"host": (2000, viral())})
    staged = tmp_path / "staged"
    for number, folder in enumerate((first, second), 1):
        shutil.copytree(folder / "multiqc", staged / str(number))
    config = REPO / "assets" / "multiqc_config.yml"
    command = [
        sys.executable,
        "-m",
        "multiqc",
        "--force",
        "--config",
        str(config),
        "--outdir",
        str(tmp_path / "mqc"),
        str(staged),
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "mqc" / "multiqc_report.html").is_file()
    data = tmp_path / "mqc" / "multiqc_data"
    reads = read_table(data / "multiqc_virnucpro_reads_plot.txt")
    assert reads == {
        "S1": {"virus": "3", "others": "1", "no_valid_frame": "2", "too_short": "0"},
        "S2.fq_trimmed": {"virus": "0", "others": "1", "no_valid_frame": "0", "too_short": "0"},
    }
    contigs = read_table(data / "multiqc_virnucpro_contigs_table.txt")
    assert contigs["S1"]["regions"] == "2" and contigs["S2.fq_trimmed"]["others"] == "1"
    assert set(read_table(data / "multiqc_virnucpro_scores_plot.txt")) == {"S1", "S2.fq_trimmed"}
    assert set(read_table(data / "multiqc_general_stats.txt")) == {"S1", "S2.fq_trimmed"}


def read_table(path: Path) -> dict[str, dict[str, str]]:
    """A MultiQC data table (tab-separated, first column Sample) as sample -> column -> text."""
    with open(path, newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    return {row.pop("Sample"): row for row in rows}
