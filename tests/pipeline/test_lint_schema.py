"""The pipeline parses under both Nextflow syntax parsers, and its schema is valid and matches its params."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from tests.pipeline.helpers import REPO, pipeline_env

pytestmark = pytest.mark.pipeline

# Nextflow's default exclusions, plus nf-test's own config (nf-test's DSL, not a Nextflow config file)
EXCLUDE = [
    arg for name in (".git", ".nf-test", ".nextflow", "work", ".venv", "nf-test.config") for arg in ("-exclude", name)
]


@pytest.mark.parametrize("parser", ["v1", "v2"])
def test_nextflow_lint_finds_no_problem(nextflow_bin: str, nxf_home: Path, parser: str) -> None:
    env = pipeline_env(nxf_home)
    env["NXF_SYNTAX_PARSER"] = parser
    result = subprocess.run(
        [nextflow_bin, "lint", "-o", "concise", *EXCLUDE, "."],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert re.search(r"\d+ files? had no errors", output), output
    assert "error" not in output.replace("had no errors", "").lower(), output


@pytest.mark.parametrize("skip_multiqc", [False, True])
def test_stub_run_under_the_strict_parser_wires_two_samples(
    nextflow_bin: str, nxf_home: Path, tmp_path: Path, skip_multiqc: bool
) -> None:
    """-stub runs parse, channels and config in seconds (no model is loaded). The default parser runs in
    every other pipeline test; this one runs the strict parser (the default from Nextflow 26.04), with and
    without the MultiQC step."""
    (tmp_path / "a.fa").write_text(">a1\nACGTACGTACGT\n")
    for mate in ("1", "2"):
        (tmp_path / f"b_R{mate}.fq").write_text(f"@b1/{mate}\nACGTACGTACGT\n+\nIIIIIIIIIIII\n")
    (tmp_path / "samples.csv").write_text("sample,fasta,fastq_1,fastq_2\nalpha,a.fa,,\nbeta,,b_R1.fq,b_R2.fq\n")
    env = pipeline_env(nxf_home)
    env["NXF_SYNTAX_PARSER"] = "v2"
    command = [nextflow_bin, "run", str(REPO), "-stub", "-ansi-log", "false", "--input", "samples.csv"]
    command += ["--outdir", "results", "-profile", "test"]  # test: small resource limits and tiny models
    command += ["--skip_multiqc"] if skip_multiqc else []
    result = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    for sample in ("alpha", "beta"):
        for name in ("reads.tsv", "contigs.tsv", "regions.bed", "multiqc/virnucpro_reads_mqc.json"):
            assert (tmp_path / "results" / sample / name).exists()
    assert (tmp_path / "results" / "multiqc" / "multiqc_report.html").exists() is not skip_multiqc
    assert ("Submitted process > VIRNUCPRO:MULTIQC" in result.stdout) is not skip_multiqc
    # the rows as written: Nextflow resolves them (relative to the launch directory) and stages the files
    assert (tmp_path / "results" / "pipeline_info" / "samplesheet.valid.csv").read_text() == (
        "sample,reads,mate\nalpha,a.fa,\nbeta,b_R1.fq,b_R2.fq\n"
    )


def config_params() -> dict[str, str]:
    """Param name -> default as written in the params block of nextflow.config."""
    text = (REPO / "nextflow.config").read_text()
    block = text[text.index("params {") : text.index("\n}\n", text.index("params {"))]
    return dict(re.findall(r"^\s+(\w+)\s+=\s+(\S+)", block, flags=re.MULTILINE))


def schema_params() -> dict[str, dict]:
    schema = json.loads((REPO / "nextflow_schema.json").read_text())
    found = {}
    for group in schema["$defs"].values():
        found.update(group["properties"])
    return found


def test_schema_is_valid_json_schema_and_every_group_is_used() -> None:
    schema = json.loads((REPO / "nextflow_schema.json").read_text())
    Draft202012Validator.check_schema(schema)
    assert sorted(ref["$ref"].split("/")[-1] for ref in schema["allOf"]) == sorted(schema["$defs"])
    Draft202012Validator.check_schema(json.loads((REPO / "assets" / "schema_input.json").read_text()))


def test_schema_describes_exactly_the_params_of_nextflow_config() -> None:
    assert sorted(schema_params()) == sorted(config_params())


def test_schema_defaults_equal_config_defaults() -> None:
    config = config_params()
    for name, definition in schema_params().items():
        assert definition.get("description"), name
        assert definition.get("type") in {"string", "integer", "number", "boolean"}, name
        written = config[name]
        if written == "null":
            assert "default" not in definition, name
        else:
            assert json.dumps(definition["default"]) == written.replace("'", '"'), name
