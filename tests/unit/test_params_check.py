"""Pipeline params and samplesheets checked against the shipped schemas: one line per problem, naming it.

Files are never looked up in Python (they may be remote): Nextflow checks them and passes its findings
(`FileFacts`); these tests give those findings directly.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path, PurePosixPath

import pytest
from virnucpro.errors import InputError
from virnucpro.params_check import FileFacts, check_params, read_samplesheet, sample_name, samples_from_params

REPO = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((REPO / "nextflow_schema.json").read_text())
INPUT_SCHEMA = json.loads((REPO / "assets" / "schema_input.json").read_text())


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


def test_defaults_plus_input_and_models_pass() -> None:
    assert check_params(good_params(), SCHEMA) == []


def test_hub_names_pass_without_files() -> None:
    params = {**good_params(), "dnabert_model": "zhihan1996/DNABERT-S", "esm_model": "esm2_t36_3B_UR50D"}
    facts = FileFacts(hub_names={"dnabert_model": "/run/zhihan1996/DNABERT-S", "esm_model": "/run/esm2_t36_3B_UR50D"})
    assert check_params(params, SCHEMA, facts) == []


def test_remote_uris_pass_the_value_checks() -> None:
    """s3://, gs://, az://, https:// are values like any path; Nextflow decides whether they exist."""
    params = {
        **good_params(),
        "input": "s3://bucket/runs/reads.fa.gz",
        "classifier": "https://example.org/models/300_model.pth",
        "esm_model": "gs://bucket/models/esm2_t36_3B_UR50D.pt",
        "dnabert_model": "az://container/models/DNABERT-S",
    }
    assert check_params(params, SCHEMA) == []
    [sample] = samples_from_params(params, INPUT_SCHEMA, None)
    assert (sample.name, sample.reads, sample.mate) == ("reads", "s3://bucket/runs/reads.fa.gz", None)


@pytest.mark.parametrize(
    ("change", "facts", "expected"),
    [
        ({"chunk_length": 2}, {}, "--chunk_length = 2: expected a value >= 3"),
        ({"chunk_length": "300x"}, {}, "--chunk_length = '300x': expected an integer"),
        ({"chunk_length": 300.5}, {}, "--chunk_length = 300.5: expected an integer"),
        ({"shard_size": 0}, {}, "--shard_size = 0: expected a value >= 1"),
        ({"threshold": 1.5}, {}, "--threshold = 1.5: expected a value <= 1"),
        ({"checkpoint_interval": 0}, {}, "--checkpoint_interval = 0: expected a value > 0"),
        ({"ambiguous": "n"}, {}, "--ambiguous = 'n': expected one of 'drop', 'x'"),
        ({"use_gpu": "yes"}, {}, "--use_gpu = 'yes': expected a boolean"),
        ({"max_gpus": -1}, {}, "--max_gpus = -1: expected a value >= 0"),
        ({"max_cpus": 0}, {}, "--max_cpus = 0: expected a value >= 1"),
        ({"max_memory": "8 gigs"}, {}, "--max_memory = '8 gigs': expected a memory size such as 16.GB"),
        ({"max_time": "2 days"}, {}, "--max_time = '2 days': expected a duration such as 48.h"),
        ({"input": None}, {}, "--input is required: Reads or contigs"),
        (
            {"input": "my reads.fa"},
            {},
            "--input = 'my reads.fa': expected a path or URI without spaces: a reads file (FASTA or FASTQ, plain or "
            "gzip) or a samplesheet (.csv)",
        ),
        ({"classifier": None}, {}, "--classifier is required"),
        (
            {"dnabert_model": "no_such_dir"},
            {"hub_names": {"dnabert_model": "/run/no_such_dir"}},
            "--dnabert_model = 'no_such_dir': no such directory (looked at /run/no_such_dir), and not a hub name "
            "like zhihan1996/DNABERT-S",
        ),
        (
            {"esm_model": "esm1b_t33_650M_UR50S"},
            {"hub_names": {"esm_model": "/run/esm1b_t33_650M_UR50S"}},
            "--esm_model = 'esm1b_t33_650M_UR50S': no such file (looked at /run/esm1b_t33_650M_UR50S), and not a "
            "hub name like esm2_t36_3B_UR50D",
        ),
        (
            {"esm_model": "/models/weights.pt"},
            {},
            "--esm_model = '/models/weights.pt': expected an ESM-2 checkpoint file named esm2_*.pt",
        ),
        ({"sample": "my sample"}, {}, "--sample = 'my sample': sample names start with a letter or digit"),
    ],
)
def test_each_bad_param_is_named_with_what_is_expected(change: dict, facts: dict, expected: str) -> None:
    params = {**good_params(), **change}
    problems = check_params(params, SCHEMA, FileFacts(**facts))
    assert len(problems) == 1, problems
    assert problems[0].startswith(expected), problems


def test_file_problems_found_by_nextflow_are_listed_with_the_others() -> None:
    """One line per param: Nextflow's finding about a file replaces the value rule's line for that param."""
    facts = FileFacts(
        problems=[
            "--input = 'gone.fa': no such file (looked at /run/gone.fa)",
            "--esm_model = 'dir': is a directory, expected a file (/run/dir)",
        ]
    )
    params = {**good_params(), "chunk_length": 0, "shard_size": -1, "input": "gone.fa", "esm_model": "dir"}
    problems = check_params(params, SCHEMA, facts)
    assert problems == [
        "--chunk_length = 0: expected a value >= 3",
        "--shard_size = -1: expected a value >= 1",
        *facts.problems,
    ]


def test_test_models_need_no_model_params() -> None:
    params = {**good_params(), "make_test_models": True, "classifier": None, "esm_model": "nonsense"}
    assert check_params(params, SCHEMA, FileFacts(hub_names={"esm_model": "/run/nonsense"})) == []


def write_sheet(directory: Path, text: str) -> Path:
    (directory / "sheet.csv").write_text(text)
    return directory / "sheet.csv"


def test_samplesheet_rows_keep_paths_as_given(tmp_path: Path) -> None:
    """Relative paths, absolute paths and URIs pass as written: Nextflow resolves and stages them."""
    sheet = write_sheet(tmp_path, "sample,fasta\nA,reads.fa\nB, /data/b.fa.gz \nC,s3://bucket/c.fastq\n")
    samples = read_samplesheet(sheet, INPUT_SCHEMA)
    assert [(s.name, s.reads, s.mate) for s in samples] == [
        ("A", "reads.fa", None),
        ("B", "/data/b.fa.gz", None),
        ("C", "s3://bucket/c.fastq", None),
    ]


def test_fastq_columns_give_single_and_paired_samples(tmp_path: Path) -> None:
    sheet = write_sheet(tmp_path, "sample,fastq_1,fastq_2\npaired,s_R1.fq.gz,s3://b/s_R2.fq.gz\nsingle,single.fastq,\n")
    samples = read_samplesheet(sheet, INPUT_SCHEMA)
    assert [(s.name, s.reads, s.mate) for s in samples] == [
        ("paired", "s_R1.fq.gz", "s3://b/s_R2.fq.gz"),
        ("single", "single.fastq", None),
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("name,path\nA,reads.fa\n", "header is 'name,path'; expected 'sample,fasta' or 'sample,fastq_1,fastq_2'"),
        ("sample,fastq_2\nA,reads.fa\n", "header is 'sample,fastq_2'; expected"),
        ("sample,fasta\n", "no samples"),
        ("sample,fasta\nA,reads.fa\nA,reads.fa\n", "line 3: sample 'A' is also on line 2"),
        ("sample,fasta,fastq_1\nA,reads.fa,reads.fa\n", "line 2: give the sample's reads in column fasta, or in"),
        ("sample,fasta,fastq_2\nA,reads.fa,reads.fa\n", "line 2: fastq_2 holds the mates of fastq_1"),
        ("sample,fastq_1,fastq_2\nA,,reads.fa\n", "line 2: give the sample's reads in column fasta, or in"),
        ("sample,fasta\nA b,reads.fa\n", "line 2: sample = 'A b': sample names start with a letter"),
        ("sample,fasta\nA,my reads.fa\n", "line 2: fasta = 'my reads.fa': fasta must be a path without spaces"),
        ("sample,fasta\nA,\n", "line 2: give the sample's reads in column fasta, or in fastq_1"),
        ("sample,fasta\nA,reads.fa,extra\n", "line 2: unexpected columns"),
    ],
)
def test_samplesheet_problems_name_the_file_and_line(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(InputError, match=r"^samplesheet s3://bucket/samples\.csv") as raised:
        read_samplesheet(write_sheet(tmp_path, text), INPUT_SCHEMA, shown_as="s3://bucket/samples.csv")
    assert expected in str(raised.value)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("reads.fa", "reads"),
        ("reads.fasta.gz", "reads"),
        ("s1.R1.fna", "s1.R1"),
        ("contigs", "contigs"),
        ("s1.fastq.gz", "s1"),
        ("s1.fq", "s1"),
    ],
)
def test_sample_name_drops_fasta_extensions(name: str, expected: str) -> None:
    assert sample_name(PurePosixPath(name)) == expected


def run_check(workdir: Path, params: dict, facts: dict | None = None, sheet: str | None = None) -> tuple[int, str]:
    """`virnucpro check-input` as the pipeline's task runs it; (exit code, stderr)."""
    (workdir / "params.json").write_text(json.dumps(params))
    args = ["--params", "params.json", "--schema", str(REPO / "nextflow_schema.json")]
    args += ["--input-schema", str(REPO / "assets" / "schema_input.json"), "--output", "out.csv"]
    if facts is not None:
        (workdir / "facts.json").write_text(json.dumps(facts))
        args += ["--file-checks", "facts.json"]
    if sheet is not None:
        (workdir / "staged.csv").write_text(sheet)
        args += ["--samplesheet", "staged.csv"]
    command = [sys.executable, "-m", "virnucpro", "check-input", *args]
    result = subprocess.run(command, cwd=workdir, capture_output=True, text=True, timeout=120)
    return result.returncode, result.stderr


def test_cli_writes_the_checked_samples_without_opening_the_fasta(tmp_path: Path) -> None:
    code, output = run_check(tmp_path, {**good_params(), "input": "https://example.org/reads.fa", "sample": "S1"})
    assert code == 0, output
    assert (tmp_path / "out.csv").read_text() == "sample,reads,mate\nS1,https://example.org/reads.fa,\n"


def test_cli_reads_the_staged_samplesheet(tmp_path: Path) -> None:
    params = {**good_params(), "input": "gs://bucket/samples.csv"}
    code, output = run_check(tmp_path, params, sheet="sample,fasta\nA,a.fa\nB,gs://bucket/b.fa\n")
    assert code == 0, output
    assert (tmp_path / "out.csv").read_text() == "sample,reads,mate\nA,a.fa,\nB,gs://bucket/b.fa,\n"


def test_cli_lists_the_pipelines_file_problems_and_writes_nothing(tmp_path: Path) -> None:
    facts = {"problems": ["--classifier = 'gone.pth': no such file (looked at /run/gone.pth)"], "hub_names": {}}
    code, output = run_check(tmp_path, {**good_params(), "chunk_length": 1}, facts)
    assert code == 2
    assert "--chunk_length = 1: expected a value >= 3" in output
    assert "--classifier = 'gone.pth': no such file (looked at /run/gone.pth)" in output
    assert not (tmp_path / "out.csv").exists()
