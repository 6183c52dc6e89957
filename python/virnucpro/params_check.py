"""Validate the pipeline's params and samplesheet against its shipped JSON schemas, before any work.

The Nextflow pipeline calls this (through `virnucpro check-input`) as its first task, so a missing file, a
bad chunk length or a wrong model fails in seconds with a message naming the param, instead of hours later
inside an embedding task. It needs no Nextflow plugin: the schemas are plain JSON Schema (draft 2020-12)
plus the nf-core dialect's `errorMessage` (the text shown to the user).

Whether a file exists is never decided here: a path may be `s3://`, `gs://`, `az://` or `https://`, which
only Nextflow resolves. Nextflow checks every file on the head node and hands its findings over as
`FileFacts` (problems, and which model params name hub models rather than paths); this module checks the
values and reports everything at once.
"""

from __future__ import annotations

import csv
import difflib
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePath, PurePosixPath
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from virnucpro.errors import InputError
from virnucpro.logging_setup import get_logger

log = get_logger("params_check")

READS_SUFFIXES = (".fasta", ".fa", ".fna", ".fas", ".fastq", ".fq")
# Samplesheet columns: a sample's reads in `fasta` (FASTA or FASTQ, the name kept for older sheets), or in
# `fastq_1` and, for paired reads, `fastq_2` (the nf-core names).
SHEET_COLUMNS = ("sample", "fasta", "fastq_1", "fastq_2")
CHECKED_HEADER = ("sample", "reads", "mate")
# fair-esm ESM-2 names, e.g. esm2_t36_3B_UR50D (fair-esm picks its ESM-2 loader by this prefix)
ESM2_NAME = re.compile(r"^esm2_t\d+_\d+[MB]_UR50D$")
SAMPLE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
SAMPLE_RULE = "start with a letter or digit and use only letters, digits, '_', '.' and '-'"
# a Hugging Face hub name: owner/name
HUB_NAME = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")
ESM2_FILE = re.compile(r"^esm2.*\.pt$")


@dataclass(frozen=True)
class ModelRule:
    """The value rules of one model param."""

    hub_name: re.Pattern[str]  # the form of a hub name
    path_kind: str  # what a path must name
    example: str
    file_name: re.Pattern[str] | None = None  # the form of a file name, when the name matters


MODEL_RULES = {
    "dnabert_model": ModelRule(HUB_NAME, "directory", "zhihan1996/DNABERT-S"),
    "esm_model": ModelRule(ESM2_NAME, "file", "esm2_t36_3B_UR50D", ESM2_FILE),
}


@dataclass(frozen=True)
class Sample:
    """One sample of the run: its name (names its results folder), its reads and, if paired, the mates.

    Paths are as the user gave them (a local path or a URI): Nextflow resolves and stages them.
    """

    name: str
    reads: str
    mate: str | None = None


@dataclass(frozen=True)
class FileFacts:
    """What Nextflow found out about the params that name files.

    Attributes:
        problems: one line per missing or wrong file, naming the param (`--classifier = 'x': ...`).
        hub_names: model params whose value names no file, so it must be a hub name -> the path looked at.
    """

    problems: list[str] = field(default_factory=list)
    hub_names: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: Any, source: str) -> FileFacts:
        """Read `{"problems": [...], "hub_names": {...}}`, as the pipeline writes it."""
        if not isinstance(data, dict):
            raise InputError(f"{source}: expected a JSON object with problems and hub_names")
        return cls(list(data.get("problems", [])), dict(data.get("hub_names", {})))


def load_json(path: Path, what: str) -> Any:
    """Read a JSON file, with an error that names the file and the line of a syntax error."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{what} {path} does not exist") from None
    except json.JSONDecodeError as error:
        raise InputError(f"{what} {path} is not valid JSON: line {error.lineno}: {error.msg}") from None


def param_definitions(schema: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Every param the pipeline schema defines (across its `$defs` groups and top-level properties)."""
    found: dict[str, dict[str, Any]] = dict(schema.get("properties", {}))
    for group in schema.get("$defs", {}).values():
        found.update(group.get("properties", {}))
    return found


def check_params(params: Mapping[str, Any], schema: Mapping[str, Any], facts: FileFacts | None = None) -> list[str]:
    """Every problem with the params, as one line each naming the param; empty when all is well.

    Args:
        params: the pipeline params (null values mean "not given").
        schema: the pipeline schema (nextflow_schema.json).
        facts: what Nextflow found about the files the params name (default: nothing wrong, no hub names).
    """
    facts = facts or FileFacts()
    given = {name: value for name, value in params.items() if value is not None}
    problems = [_describe(error, schema) for error in _schema_errors(given, schema)]
    problems += facts.problems
    named = {problem.split(" ", 1)[0] for problem in problems}
    problems += [problem for problem in _model_problems(given, facts) if problem.split(" ", 1)[0] not in named]
    _warn_unknown(given, param_definitions(schema))
    return problems


def _schema_errors(params: Mapping[str, Any], schema: Mapping[str, Any]) -> Iterator[ValidationError]:
    validator = Draft202012Validator(schema)
    return iter(sorted(validator.iter_errors(params), key=lambda error: list(error.absolute_path)))


def _describe(error: ValidationError, schema: Mapping[str, Any]) -> str:
    """A user's line for one schema error: the param, the value given, what is expected."""
    if error.validator == "required":
        name = str(error.message).split("'")[1]
        help_line = param_definitions(schema).get(name, {}).get("description", "")
        return f"--{name} is required: {help_line}".rstrip(": ")
    name = ".".join(str(part) for part in error.absolute_path)
    definition = error.schema if isinstance(error.schema, dict) else {}
    expected = definition.get("errorMessage") or _expected(error)
    return f"--{name} = {error.instance!r}: {expected}"


def _expected(error: ValidationError) -> str:
    rule = error.validator_value
    if error.validator == "type":
        return f"expected {'an' if rule == 'integer' else 'a'} {rule}"
    if error.validator == "enum":
        return "expected one of " + ", ".join(repr(choice) for choice in rule)
    if error.validator in ("minimum", "exclusiveMinimum"):
        return f"expected a value {'>=' if error.validator == 'minimum' else '>'} {rule}"
    if error.validator in ("maximum", "exclusiveMaximum"):
        return f"expected a value {'<=' if error.validator == 'maximum' else '<'} {rule}"
    if error.validator == "pattern":
        return f"does not match the expected form {rule}"
    return str(error.message)


def _model_problems(params: Mapping[str, Any], facts: FileFacts) -> list[str]:
    """Each model param names a model of its own kind: a hub name of the right form, or an ESM-2 file name."""
    if params.get("make_test_models"):
        return []
    problems = []
    if "classifier" not in params:
        problems.append("--classifier is required (the published 300_model.pth / 500_model.pth, or a converted one)")
    for name, rule in MODEL_RULES.items():
        value = params.get(name)
        if not isinstance(value, str):
            continue
        if name in facts.hub_names:
            if not rule.hub_name.match(value):
                problems.append(
                    f"--{name} = {value!r}: no such {rule.path_kind} (looked at {facts.hub_names[name]}), "
                    f"and not a hub name like {rule.example}"
                )
        elif rule.file_name is not None and not rule.file_name.match(PurePosixPath(value).name):
            problems.append(f"--{name} = {value!r}: expected an ESM-2 checkpoint file named esm2_*.pt")
    return problems


def _warn_unknown(params: Mapping[str, Any], definitions: Mapping[str, Any]) -> None:
    """Warn (not fail) on params the schema does not know: often a typo, sometimes a site config's own."""
    for name in sorted(params):
        if name in definitions or _camel_to_snake(name) in definitions:
            continue
        close = difflib.get_close_matches(name, list(definitions), n=1)
        hint = f" (did you mean --{close[0]}?)" if close else ""
        log.warning("unknown param --%s ignored%s", name, hint)


def _camel_to_snake(name: str) -> str:
    # Nextflow adds a camelCase twin of every kebab-case param given on the command line
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower().replace("-", "_")


def read_samplesheet(path: Path, schema: Mapping[str, Any], *, shown_as: str | None = None) -> list[Sample]:
    """Read and check a samplesheet (`sample,fasta` or `sample,fastq_1,fastq_2`); every problem is reported.

    Args:
        path: the samplesheet (staged into the task by Nextflow).
        schema: the samplesheet schema (assets/schema_input.json).
        shown_as: how messages name the file (default: `path`); the pipeline gives the user's `--input`.

    Raises:
        InputError: listing every bad row (line number, column, value, what is expected).
    """
    rows = _read_csv(path, shown_as or str(path))
    item_schema = schema.get("items", {})
    validator = Draft202012Validator(item_schema)
    problems: list[str] = []
    samples: list[Sample] = []
    seen: dict[str, int] = {}
    for line, row in rows:
        given = {column: value for column, value in row.items() if value}  # an empty cell is not given
        row_problems = [_describe_row(error, item_schema) for error in validator.iter_errors(given)]
        files = [given[c] for c in SHEET_COLUMNS[1:] if c in given]
        if row.get("sample") in seen:
            row_problems.append(f"sample {row['sample']!r} is also on line {seen[row['sample']]}; names must be unique")
        seen.setdefault(row.get("sample", ""), line)
        problems += [f"line {line}: {problem}" for problem in row_problems]
        if not row_problems:
            samples.append(Sample(row["sample"], files[0], files[1] if len(files) > 1 else None))
    if not rows:
        problems.append("no samples: expected a header line `sample,fasta` or `sample,fastq_1,fastq_2` and rows")
    if problems:
        raise InputError(f"samplesheet {shown_as or path}:\n  " + "\n  ".join(problems))
    return samples


def _read_csv(path: Path, shown_as: str) -> list[tuple[int, dict[str, str]]]:
    """(line number, row) for every non-blank row; values stripped of surrounding spaces."""
    with open(path, newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        header = [name.strip() for name in reader.fieldnames or []]
        if "sample" not in header or not {"fasta", "fastq_1"} & set(header) or set(header) - set(SHEET_COLUMNS):
            raise InputError(
                f"samplesheet {shown_as}: header is {','.join(header)!r}; expected 'sample,fasta' or "
                "'sample,fastq_1,fastq_2'"
            )
        rows = []
        for row in reader:
            clean = {key.strip(): (value or "").strip() for key, value in row.items() if key is not None}
            if any(clean.values()) or None in row:
                if None in row:
                    clean["(extra columns)"] = ",".join(row[None])
                rows.append((reader.line_num, clean))
        return rows


def _describe_row(error: ValidationError, item_schema: Mapping[str, Any]) -> str:
    if error.validator == "required":
        return f"column {str(error.message).split(chr(39))[1]!r} is empty or missing"
    if error.validator == "oneOf":
        return "give the sample's reads in column fasta, or in fastq_1 (and fastq_2 for paired reads), not both"
    if error.validator == "not":
        return "fastq_2 holds the mates of fastq_1; with a file in fasta, leave it empty"
    if error.validator == "additionalProperties":
        return f"unexpected columns: {error.message!s}; expected only {','.join(SHEET_COLUMNS)}"
    column = ".".join(str(part) for part in error.absolute_path)
    message = item_schema.get("properties", {}).get(column, {}).get("errorMessage") or _expected(error)
    return f"{column} = {error.instance!r}: {message}"


def samples_from_params(
    params: Mapping[str, Any], input_schema: Mapping[str, Any], samplesheet: Path | None
) -> list[Sample]:
    """The run's samples: one for a reads `--input` (named by `--sample` or the file name), else the sheet's.

    Args:
        params: the checked params.
        input_schema: the samplesheet schema.
        samplesheet: the staged samplesheet when `--input` is one.
    """
    value = str(params["input"])
    if value.endswith(".csv"):
        if samplesheet is None:
            raise InputError(f"--input = {value!r}: a samplesheet, but the pipeline staged no file for it")
        return read_samplesheet(samplesheet, input_schema, shown_as=value)
    name = params.get("sample") or sample_name(PurePosixPath(value))
    if not SAMPLE_NAME.match(name):
        raise InputError(f"sample name {name!r} (from --input {value}) is not usable: {SAMPLE_RULE}; set --sample")
    return [Sample(name, value)]


def sample_name(path: PurePath) -> str:
    """The file name without `.gz` and the FASTA or FASTQ extension: reads.fq.gz -> reads."""
    name = path.name[: -len(".gz")] if path.name.endswith(".gz") else path.name
    for suffix in READS_SUFFIXES:
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def write_samplesheet(samples: list[Sample], path: Path) -> None:
    """The checked samples as `sample,reads,mate`, paths as given (mate empty if unpaired), for the pipeline
    to resolve and stage."""
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(CHECKED_HEADER)
        writer.writerows([s.name, str(s.reads), "" if s.mate is None else str(s.mate)] for s in samples)


def check_pipeline_inputs(
    params: Mapping[str, Any],
    schema: Mapping[str, Any],
    input_schema: Mapping[str, Any],
    *,
    facts: FileFacts | None = None,
    samplesheet: Path | None = None,
) -> list[Sample]:
    """Check every param, then the input and its samples; the one entry point the pipeline uses.

    Args:
        params: the pipeline params.
        schema: nextflow_schema.json.
        input_schema: assets/schema_input.json.
        facts: what Nextflow found about the files the params name.
        samplesheet: the staged samplesheet when `--input` is one.

    Returns:
        The samples to run, paths as given (Nextflow resolves and stages them).

    Raises:
        InputError: listing every problem found, one per line, each naming the param or samplesheet line.
    """
    problems = check_params(params, schema, facts)
    if problems:
        raise InputError("invalid pipeline params:\n  " + "\n  ".join(problems))
    return samples_from_params(params, input_schema, samplesheet)
