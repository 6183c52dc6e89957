"""The real pipeline on the demo reads (-profile test): outputs, equality with `virnucpro predict`, -resume.

One run of the test profile (the `demo_run` fixture, about a minute on 2 cores) is shared by these tests.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.compare import assert_same_file
from tests.pipeline.helpers import (
    DEMO_READS,
    REPORT_FILES,
    TEST_PROFILE_TASKS,
    NextflowRun,
    attempts_table,
    fasta_ids,
    multiqc_tables,
    run_pipeline,
    statuses,
)

pytestmark = pytest.mark.pipeline


def test_demo_run_writes_every_report_file_and_nextflow_reports(demo_run: NextflowRun) -> None:
    sample_dir = demo_run.outdir / "demo"
    # the console says where to look, as `make demo` shows it
    assert f"{demo_run.outdir.name}/multiqc/multiqc_report.html" in demo_run.output
    assert sorted(path.name for path in sample_dir.iterdir()) == sorted([*REPORT_FILES, "multiqc"])
    info = demo_run.outdir / "pipeline_info"
    for pattern in ("execution_trace_*.txt", "execution_report_*.html", "execution_timeline_*.html"):
        assert len(list(info.glob(pattern))) == 1, pattern
    [dag] = info.glob("pipeline_dag_*.mmd")  # mermaid text: written and read without a network
    assert dag.read_text().startswith("flowchart TB") and "EMBED_ESM" in dag.read_text()
    versions = (info / "software_versions.yml").read_text()
    for process in TEST_PROFILE_TASKS:
        assert f':{process}":' in versions
    assert (info / "samplesheet.valid.csv").read_text() == f"sample,reads,mate\ndemo,{DEMO_READS.resolve()},\n"
    counts = {process: len(found) for process, found in statuses(demo_run).items()}
    assert counts == TEST_PROFILE_TASKS


def test_demo_run_publishes_the_embedding_metrics(demo_run: NextflowRun) -> None:
    metrics = demo_run.outdir / "pipeline_info" / "embed_metrics"
    assert sorted(path.name for path in metrics.iterdir()) == [
        "demo.0001.dnabert-s.metrics.json",
        "demo.0001.esm2.metrics.json",
    ]
    # every scored frame was embedded by both models
    frames = len((demo_run.outdir / "demo" / "prediction_results.txt").read_text().splitlines()) - 1
    for path in metrics.iterdir():
        figures = json.loads(path.read_text())
        assert figures["sequences"] == frames == figures["computed"] + figures["resumed"], (path.name, figures)


def test_every_task_runs_with_the_cpus_it_was_given(demo_run: NextflowRun) -> None:
    """Each task's command passes --threads equal to the CPUs Nextflow gave it (the trace's cpus)."""
    rows = demo_run.trace()
    assert len(rows) == sum(TEST_PROFILE_TASKS.values())
    for row in rows:
        script = (Path(row["workdir"]) / ".command.sh").read_text()
        # multiqc has no thread option: its task caps the thread pool of its data frames instead
        threads = r"POLARS_MAX_THREADS=(\d+)\b" if row["process"].endswith("MULTIQC") else r"--threads (\d+)\b"
        assert re.findall(threads, script) == [row["cpus"]], (row["process"], script)
    assert {row["cpus"] for row in rows} == {"1"}  # the test profile's --max_cpus


def test_demo_run_accounts_for_every_input_read(demo_run: NextflowRun) -> None:
    sample_dir = demo_run.outdir / "demo"
    reads = (sample_dir / "reads.tsv").read_text().splitlines()
    assert reads[0].split("\t")[:2] == ["read_id", "read_length"]
    assert [row.split("\t")[0] for row in reads[1:]] == fasta_ids(DEMO_READS)

    frames = (sample_dir / "prediction_results.txt").read_text().splitlines()
    assert frames[0] == "Sequence_ID\tPrediction\tscore1\tscore2"
    for row in frames[1:]:
        frame_id, call, others, virus = row.split("\t")
        assert frame_id[-2:] in {"F1", "F2", "F3", "R1", "R2", "R3"}, row
        assert call == ("virus" if float(virus) > float(others) else "others")
        # the two softmax probabilities, printed as float32, sum to 1 within float32 rounding
        assert abs(float(others) + float(virus) - 1.0) < 1e-6, row
    chunks = (sample_dir / "prediction_results_highestscore.csv").read_text().splitlines()
    assert chunks[0] == "Modified_ID\tIs_Virus"
    chunk_ids = [row.split("\t")[0] for row in chunks[1:]]
    assert chunk_ids == sorted({row.split("\t")[0][:-2] for row in frames[1:]})

    summary = json.loads((sample_dir / "summary.json").read_text())
    assert summary["counts"]["reads"] == len(fasta_ids(DEMO_READS))
    assert summary["counts"]["frames"] == len(frames) - 1
    assert "<svg" in (sample_dir / "report.html").read_text()


def test_demo_run_equals_virnucpro_predict(demo_run: NextflowRun, tmp_path: Path) -> None:
    """Sharded Nextflow stages and the one-process `predict` are two drivers of one code path."""
    virnucpro = [sys.executable, "-m", "virnucpro"]
    models = tmp_path / "models"
    subprocess.run([*virnucpro, "make-test-models", str(models), "--seed", "0"], check=True, capture_output=True)
    predict = [
        *virnucpro,
        "predict",
        str(DEMO_READS),
        "--chunk-length",
        "300",
        "--dnabert",
        str(models / "dnabert-s"),
        "--esm",
        str(models / "esm2_t2_test.pt"),
        "--classifier",
        str(models / "classifier.pth"),
        "--outdir",
        str(tmp_path / "predict"),
        "--device",
        "cpu",
        "--token-budget",
        "512",  # as the test profile, so the batches (and float rounding) are the same
        # as the test profile's tasks (--threads task.cpus = 1): CPU kernels split their sums by the thread
        # count, so other counts change last bits. Measured on the demo: 1, 2 and 4 threads give the same
        # bytes; 3, 6, 8 and 16 each give others (at 8, 24 of 70 DNABERT-S vectors differ by up to 1.2e-7,
        # and three printed scores in their last digits). The default, every CPU of the machine, made this
        # test fail on a machine with more CPUs. At one thread the bytes held at load average 16-20.
        "--threads",
        "1",
        "--sample",
        "demo",
    ]
    # the variables that size thread pools are set by the option, whatever the caller's environment says
    subprocess.run(predict, check=True, capture_output=True, env={**os.environ, "OMP_NUM_THREADS": "8"})
    for name in (
        "prediction_results.txt",
        "prediction_results_highestscore.csv",
        "reads.tsv",
        "contigs.tsv",
        "regions.bed",
    ):
        assert_same_file(demo_run.outdir / "demo" / name, tmp_path / "predict" / name, attempts_table(demo_run))
    pipeline_summary = json.loads((demo_run.outdir / "demo" / "summary.json").read_text())
    predict_summary = json.loads((tmp_path / "predict" / "summary.json").read_text())
    assert pipeline_summary["counts"] == predict_summary["counts"]
    assert pipeline_summary["histograms"] == predict_summary["histograms"]
    assert pipeline_summary["contigs"] == predict_summary["contigs"]
    # predict records the device and batch budget it was given on top of the settings both share
    assert predict_summary["settings"] == {**pipeline_summary["settings"], "device": "cpu", "token_budget": 512}
    fingerprints = [
        [model["model_fingerprint"] for kind in ("dnabert-s", "esm2") for model in summary["models"][kind]]
        for summary in (pipeline_summary, predict_summary)
    ]
    assert fingerprints[0] == fingerprints[1]  # the same seeded test models, made by each driver


# The demo's five long contigs (assets/demo/make_demo_reads.py): planted coding islands in host sequence with
# a stop in every frame. The tiny test classifier scores every frame as virus, so the viral regions are the
# islands less the chunks that touch host sequence: inside each island, at most one chunk short of each end.
ISLANDS = {
    "contig_prophage_1": (7000, [(2500, 4900)]),
    "contig_phage_2": (3000, [(0, 3000)]),
    "contig_island_start_3": (4000, [(0, 1800)]),
    "contig_island_end_4": (3801, [(2201, 3801)]),
    "contig_host_5": (3000, []),
}


def test_demo_contigs_show_their_planted_regions(demo_run: NextflowRun) -> None:
    sample_dir = demo_run.outdir / "demo"
    bed = [line.split("\t") for line in (sample_dir / "regions.bed").read_text().splitlines()]
    assert all(len(row) == 6 and 0 <= int(row[4]) <= 1000 and row[5] == "." for row in bed)
    found: dict[str, list[tuple[int, int]]] = {}
    for row in bed:
        found.setdefault(row[0], []).append((int(row[1]), int(row[2])))
    for contig, (length, islands) in ISLANDS.items():
        regions = found.get(contig, [])
        assert len(regions) == len(islands), (contig, regions)
        for (start, end), (island_start, island_end) in zip(regions, islands, strict=True):
            assert island_start <= start < island_start + 300 and island_end - 300 < end <= island_end, contig
        assert all(0 <= start < end <= length for start, end in regions)
    rows = {line.split("\t")[0]: line.split("\t") for line in (sample_dir / "contigs.tsv").read_text().splitlines()}
    calls = {contig: (rows[contig][10], rows[contig][11]) for contig in ISLANDS}
    assert calls == {
        "contig_prophage_1": ("viral_regions", "called"),
        "contig_phage_2": ("virus", "called"),
        "contig_island_start_3": ("viral_regions", "called"),
        "contig_island_end_4": ("viral_regions", "called"),
        "contig_host_5": ("NA", "no_valid_frame"),
    }


def test_demo_report_says_what_produced_it(demo_run: NextflowRun) -> None:
    summary = json.loads((demo_run.outdir / "demo" / "summary.json").read_text())
    assert summary["settings"] == {
        "threshold": 0.5,
        "chunk_length": 300,
        "region_max_gap": 1,
        "region_min_length": 1000,
        "ambiguous": "drop",
    }
    assert summary["run"]["input"] == str(DEMO_READS.resolve()) and summary["run"]["profile"] == "test"
    assert summary["run"]["made_by"] == "virnucpro_pipeline" and summary["run"]["nextflow_version"]
    for kind in ("dnabert-s", "esm2"):
        [model] = summary["models"][kind]  # one shard, one model each
        assert len(model["model_fingerprint"]) == 64 and model["precision"] == "float32"
        assert model["device_type"] == "cpu" and model["torch_version"] == summary["versions"]["torch"]
    [classifier] = summary["models"]["classifier"]
    assert len(classifier["sha256"]) == 64
    assert len(summary["provenance"]) == 1 and summary["created"].endswith("Z")


def test_demo_run_ends_with_a_multiqc_report_of_the_sample(demo_run: NextflowRun) -> None:
    """MultiQC's data files hold the sample's numbers as its summary.json has them."""
    assert (demo_run.outdir / "multiqc" / "multiqc_report.html").stat().st_size > 0
    summary = json.loads((demo_run.outdir / "demo" / "summary.json").read_text())
    tables = multiqc_tables(demo_run.outdir)
    assert all(list(table) == ["demo"] for table in tables.values()), tables
    counts = summary["counts"]
    reads = {**counts["call"], **{status: counts["status"][status] for status in ("no_valid_frame", "too_short")}}
    assert {k: int(v) for k, v in tables["multiqc_virnucpro_reads_plot"]["demo"].items()} == reads
    assert sum(reads.values()) == len(fasta_ids(DEMO_READS)) == 45
    contigs = {k: int(v) for k, v in tables["multiqc_virnucpro_contigs_table"]["demo"].items()}
    regions = (demo_run.outdir / "demo" / "regions.bed").read_text().splitlines()
    assert contigs["contigs"] == summary["contigs"]["contigs"] and contigs["regions"] == len(regions) > 0
    histogram = summary["histograms"]["read_best_virus_score"]["counts"]
    assert [int(v) for v in tables["multiqc_virnucpro_scores_plot"]["demo"].values()] == histogram
    versions = (demo_run.outdir / "multiqc" / "multiqc_data" / "multiqc_software_versions.txt").read_text()
    assert "virnucpro" in versions and "torch" in versions


def test_resume_caches_every_task_and_keeps_outputs(
    demo_run: NextflowRun, nextflow_bin: str, nxf_home: Path, tmp_path: Path
) -> None:
    before = {name: (demo_run.outdir / "demo" / name).read_bytes() for name in REPORT_FILES}
    shutil.copytree(demo_run.outdir / "demo", tmp_path / "before")
    rerun = run_pipeline(nextflow_bin, nxf_home, demo_run.launch_dir, "-profile", "test", "-resume")
    assert rerun.returncode == 0, rerun.output
    found = statuses(rerun)
    assert {process: len(tasks) for process, tasks in found.items()} == TEST_PROFILE_TASKS
    assert all(status == "CACHED" for tasks in found.values() for status in tasks), found
    assert {name: (rerun.outdir / "demo" / name).read_bytes() for name in REPORT_FILES} == before
