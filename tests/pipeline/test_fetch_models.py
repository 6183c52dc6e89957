"""The pipeline takes the params `virnucpro fetch-models` prints, unchanged, and gives the demo's results."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest
from virnucpro.cli import main
from virnucpro.fetch import catalogue
from virnucpro.models.tiny_checkpoints import write_test_models

from tests.model_server import pin_classifiers, serving
from tests.pipeline.helpers import DEMO_READS, NextflowRun, run_pipeline

pytestmark = pytest.mark.pipeline

HEADING = "pipeline params for 300 bp chunks (nextflow run):"


@pytest.mark.second_tier  # one more pipeline run, about 2 minutes here; the params check is in the default suite
def test_the_printed_params_run_the_pipeline_to_the_demo_results(
    demo_run: NextflowRun, nextflow_bin: str, nxf_home: Path, tmp_path: Path, monkeypatch, capsys
) -> None:
    models = write_test_models(tmp_path / "published", seed=0)  # the models the test profile makes
    for length, blob in pin_classifiers(models).items():
        monkeypatch.setitem(catalogue.CLASSIFIER_BLOBS, length, blob)
    with serving(models) as server:
        main(["fetch-models", "--dest", str(tmp_path / "fetched"), "--no-progress", *server.options()])
    lines = capsys.readouterr().out.splitlines()
    params = shlex.split(lines[lines.index(HEADING) + 1])

    (tmp_path / "small.config").write_text("process.resourceLimits = [cpus: 2, memory: 6.GB]\n")
    settings = ("--sample", "demo", "--shard_size", "50", "--token_budget", "512", "-c", "small.config")
    run = run_pipeline(nextflow_bin, nxf_home, tmp_path, "--input", str(DEMO_READS), *params, *settings)
    assert run.returncode == 0, run.output
    for name in ("prediction_results.txt", "prediction_results_highestscore.csv", "reads.tsv"):
        assert (run.outdir / "demo" / name).read_bytes() == (demo_run.outdir / "demo" / name).read_bytes(), name
