"""Pipeline params and samplesheets checked against the shipped schemas: one line per problem, naming it."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from virnucpro.cli.check_input import command as check_input
from virnucpro.errors import InputError
from virnucpro.params_check import check_params, read_samplesheet, sample_name

REPO = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((REPO / "nextflow_schema.json").read_text())
INPUT_SCHEMA = json.loads((REPO / "assets" / "schema_input.json").read_text())


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """A launch directory with reads, a classifier and tiny stand-ins for the two models."""
    (tmp_path / "reads.fa").write_text(">r1\nACGT\n")
    (tmp_path / "reads.txt").write_text(">r1\nACGT\n")
    (tmp_path / "model.pth").write_bytes(b"")
    (tmp_path / "dnabert").mkdir()
    (tmp_path / "dnabert" / "config.json").write_text("{}")
    (tmp_path / "esm2_t2_test.pt").write_bytes(b"")
    (tmp_path / "esm2_t2_test-contact-regression.pt").write_bytes(b"")
    return tmp_path


def good_params() -> dict:
    defaults = {
        name: d["default"] for g in SCHEMA["$defs"].values() for name, d in g["properties"].items() if "default" in d
    }
    return {
        **defaults,
        "input": "reads.fa",
        "classifier": "model.pth",
        "dnabert_model": "dnabert",
        "esm_model": "esm2_t2_test.pt",
    }


def test_defaults_plus_input_and_models_pass(workdir: Path) -> None:
    assert check_params(good_params(), SCHEMA, base_dir=workdir) == []


def test_hub_names_pass_without_files(workdir: Path) -> None:
    params = {**good_params(), "dnabert_model": "zhihan1996/DNABERT-S", "esm_model": "esm2_t36_3B_UR50D"}
    assert check_params(params, SCHEMA, base_dir=workdir) == []


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"chunk_length": 2}, "--chunk_length = 2: expected a value >= 3"),
        ({"chunk_length": "300x"}, "--chunk_length = '300x': expected an integer"),
        ({"chunk_length": 300.5}, "--chunk_length = 300.5: expected an integer"),
        ({"shard_size": 0}, "--shard_size = 0: expected a value >= 1"),
        ({"threshold": 1.5}, "--threshold = 1.5: expected a value <= 1"),
        ({"checkpoint_interval": 0}, "--checkpoint_interval = 0: expected a value > 0"),
        ({"ambiguous": "n"}, "--ambiguous = 'n': expected one of 'drop', 'x'"),
        ({"use_gpu": "yes"}, "--use_gpu = 'yes': expected a boolean"),
        ({"input": None}, "--input is required: Reads or contigs"),
        ({"input": "missing.fa"}, "--input = 'missing.fa': no such file (looked at {dir}/missing.fa)"),
        (
            {"input": "reads.txt"},
            "--input = 'reads.txt': expected a FASTA file (.fa, .fasta, .fna or .fas",
        ),
        ({"classifier": None}, "--classifier is required"),
        ({"classifier": "dnabert"}, "--classifier = 'dnabert': is a directory, expected a file"),
        ({"dnabert_model": "esm2_t2_test.pt"}, "--dnabert_model = 'esm2_t2_test.pt': is a file; expected a DNABERT-S"),
        ({"dnabert_model": "no_such_dir"}, "--dnabert_model = 'no_such_dir': no such directory, and not a hub name"),
        ({"esm_model": "dnabert"}, "--esm_model = 'dnabert': expected an ESM-2 checkpoint file named esm2_*.pt"),
        ({"esm_model": "esm1b_t33_650M_UR50S"}, "--esm_model = 'esm1b_t33_650M_UR50S': no such file, and not an ESM-2"),
        ({"sample": "my sample"}, "--sample = 'my sample': sample names start with a letter or digit"),
    ],
)
def test_each_bad_param_is_named_with_what_is_expected(workdir: Path, change: dict, expected: str) -> None:
    params = {**good_params(), **change}
    problems = check_params(params, SCHEMA, base_dir=workdir)
    assert len(problems) == 1, problems
    assert problems[0].startswith(expected.format(dir=workdir)), problems


def test_every_problem_is_reported_at_once(workdir: Path) -> None:
    params = {**good_params(), "chunk_length": 0, "shard_size": -1, "input": "gone.fa"}
    assert len(check_params(params, SCHEMA, base_dir=workdir)) == 3


def test_missing_esm_contact_regression_is_named(workdir: Path) -> None:
    (workdir / "esm2_t2_test-contact-regression.pt").unlink()
    [problem] = check_params(good_params(), SCHEMA, base_dir=workdir)
    assert "esm2_t2_test-contact-regression.pt beside it" in problem


def test_test_models_need_no_model_params(workdir: Path) -> None:
    params = {**good_params(), "make_test_models": True, "classifier": None, "esm_model": "nonsense"}
    assert check_params(params, SCHEMA, base_dir=workdir) == []


def write_sheet(directory: Path, text: str) -> Path:
    (directory / "sheet.csv").write_text(text)
    return directory / "sheet.csv"


def test_samplesheet_rows_become_absolute_paths(workdir: Path) -> None:
    (workdir / "b.fa.gz").write_bytes(gzip.compress(b">b\nAC\n"))
    sheet = write_sheet(workdir, "sample,fasta\nA,reads.fa\nB, b.fa.gz \n")
    samples = read_samplesheet(sheet, INPUT_SCHEMA, base_dir=workdir)
    assert [(s.name, s.fasta) for s in samples] == [("A", workdir / "reads.fa"), ("B", workdir / "b.fa.gz")]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("name,path\nA,reads.fa\n", "header is 'name,path'; expected 'sample,fasta'"),
        ("sample,fasta\n", "no samples"),
        ("sample,fasta\nA,reads.fa\nA,reads.fa\n", "line 3: sample 'A' is also on line 2"),
        ("sample,fasta\nA,gone.fa\n", "line 2: fasta = 'gone.fa': no such file"),
        ("sample,fasta\nA b,reads.fa\n", "line 2: sample = 'A b': sample names start with a letter"),
        ("sample,fasta\nA,reads.txt\n", "line 2: fasta = 'reads.txt': fasta must be a FASTA file path"),
        ("sample,fasta\nA,\n", "line 2: fasta = '': fasta must be a FASTA file path"),
        ("sample,fasta\nA,reads.fa,extra\n", "line 2: unexpected columns"),
    ],
)
def test_samplesheet_problems_name_the_line(workdir: Path, text: str, expected: str) -> None:
    with pytest.raises(InputError, match=r"sheet\.csv") as raised:
        read_samplesheet(write_sheet(workdir, text), INPUT_SCHEMA, base_dir=workdir)
    assert expected in str(raised.value)


@pytest.mark.parametrize(
    ("name", "expected"),
    [("reads.fa", "reads"), ("reads.fasta.gz", "reads"), ("s1.R1.fna", "s1.R1"), ("contigs", "contigs")],
)
def test_sample_name_drops_fasta_extensions(name: str, expected: str) -> None:
    assert sample_name(Path(name)) == expected


def run_check(workdir: Path, params: dict) -> tuple[int, str]:
    (workdir / "params.json").write_text(json.dumps(params))
    args = ["--params", "params.json", "--schema", str(REPO / "nextflow_schema.json")]
    args += ["--input-schema", str(REPO / "assets" / "schema_input.json"), "--base-dir", str(workdir)]
    args += ["--output", str(workdir / "out.csv")]
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(workdir)
        result = CliRunner().invoke(check_input, args)
    return result.exit_code, str(result.output) + str(result.exception or "")


def test_cli_writes_the_checked_samplesheet(workdir: Path) -> None:
    code, output = run_check(workdir, {**good_params(), "sample": "S1"})
    assert code == 0, output
    assert (workdir / "out.csv").read_text() == f"sample,fasta\nS1,{workdir / 'reads.fa'}\n"


def test_cli_refuses_a_file_that_is_not_fasta(workdir: Path) -> None:
    (workdir / "reads.fa").write_text("ACGT\n")
    code, output = run_check(workdir, good_params())
    assert code != 0
    assert "expected a FASTA header starting with '>'" in output
    assert not (workdir / "out.csv").exists()
