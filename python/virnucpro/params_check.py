"""Validate the pipeline's params and samplesheet against its shipped JSON schemas, before any work.

The Nextflow pipeline calls this (through `virnucpro check-input`) as its first task, so a missing file, a
bad chunk length or a wrong model fails in seconds with a message naming the param, instead of hours later
inside an embedding task. It needs no Nextflow plugin: the schemas are plain JSON Schema (draft 2020-12)
plus two keywords of the nf-core dialect read here, `exists` (a path that must exist) and `errorMessage`
(the text shown to the user).
"""

from __future__ import annotations

import csv
import difflib
import gzip
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from virnucpro.errors import InputError
from virnucpro.logging_setup import get_logger

log = get_logger("params_check")

FASTA_SUFFIXES = (".fa", ".fasta", ".fna", ".fas")
# fair-esm ESM-2 names, e.g. esm2_t36_3B_UR50D (fair-esm picks its ESM-2 loader by this prefix)
ESM2_NAME = re.compile(r"^esm2_t\d+_\d+[MB]_UR50D$")
SAMPLE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
SAMPLE_RULE = "start with a letter or digit and use only letters, digits, '_', '.' and '-'"
# a Hugging Face hub name: owner/name
HUB_NAME = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")


@dataclass(frozen=True)
class Sample:
    """One sample of the run: its name (names its results folder) and its FASTA, as an absolute path."""

    name: str
    fasta: Path


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


def check_params(params: Mapping[str, Any], schema: Mapping[str, Any], *, base_dir: Path) -> list[str]:
    """Every problem with the params, as one line each naming the param; empty when all is well.

    Args:
        params: the pipeline params (null values mean "not given").
        schema: the pipeline schema (nextflow_schema.json).
        base_dir: the launch directory; relative paths are relative to it.
    """
    given = {name: value for name, value in params.items() if value is not None}
    problems = [_describe(error, schema) for error in _schema_errors(given, schema)]
    definitions = param_definitions(schema)
    for name, definition in definitions.items():
        if definition.get("exists") and isinstance(given.get(name), str):
            problems += _path_problems(f"--{name}", given[name], definition.get("format", ""), base_dir)
    problems += _model_problems(given, base_dir)
    _warn_unknown(given, definitions)
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


def resolve(value: str, base_dir: Path) -> Path:
    """A param's path made absolute: relative paths are relative to the launch directory."""
    path = Path(value).expanduser()
    return path if path.is_absolute() else Path(base_dir) / path


def _path_problems(label: str, value: str, path_format: str, base_dir: Path) -> list[str]:
    path = resolve(value, base_dir)
    if not path.exists():
        return [f"{label} = {value!r}: no such file (looked at {path})"]
    if path_format == "file-path" and not path.is_file():
        return [f"{label} = {value!r}: is a directory, expected a file ({path})"]
    if path_format == "directory-path" and not path.is_dir():
        return [f"{label} = {value!r}: is a file, expected a directory ({path})"]
    return []


def _model_problems(params: Mapping[str, Any], base_dir: Path) -> list[str]:
    """Each model param must name a model of its own kind: a DNABERT-S directory, an ESM-2 checkpoint."""
    if params.get("make_test_models"):
        return []
    problems = []
    if "classifier" not in params:
        problems.append("--classifier is required (the published 300_model.pth / 500_model.pth, or a converted one)")
    if isinstance(params.get("dnabert_model"), str):
        problems += _dnabert_problems(params["dnabert_model"], base_dir)
    if isinstance(params.get("esm_model"), str):
        problems += _esm_problems(params["esm_model"], base_dir)
    return problems


def _dnabert_problems(value: str, base_dir: Path) -> list[str]:
    path = resolve(value, base_dir)
    if path.is_dir():
        if not (path / "config.json").is_file():
            return [f"--dnabert_model = {value!r}: {path} has no config.json; expected a Hugging Face model directory"]
        return []
    if path.exists():
        return [f"--dnabert_model = {value!r}: is a file; expected a DNABERT-S model directory or a hub name"]
    if HUB_NAME.match(value) and not value.startswith((".", "/", "~")):
        return []
    return [f"--dnabert_model = {value!r}: no such directory, and not a hub name like zhihan1996/DNABERT-S"]


def _esm_problems(value: str, base_dir: Path) -> list[str]:
    path = resolve(value, base_dir)
    if path.exists():
        if not path.is_file() or path.suffix != ".pt" or not path.name.startswith("esm2"):
            return [f"--esm_model = {value!r}: expected an ESM-2 checkpoint file named esm2_*.pt ({path})"]
        regression = path.with_name(f"{path.stem}-contact-regression.pt")
        if not regression.is_file():
            return [f"--esm_model = {value!r}: fair-esm needs {regression.name} beside it ({regression} is missing)"]
        return []
    if ESM2_NAME.match(value):
        return []
    return [f"--esm_model = {value!r}: no such file, and not an ESM-2 model name like esm2_t36_3B_UR50D"]


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


def read_samplesheet(path: Path, schema: Mapping[str, Any], *, base_dir: Path) -> list[Sample]:
    """Read and check a `sample,fasta` samplesheet; every problem is reported, each with its line.

    Raises:
        InputError: listing every bad row (line number, column, value, what is expected).
    """
    rows = _read_csv(path)
    item_schema = schema.get("items", {})
    validator = Draft202012Validator(item_schema)
    problems: list[str] = []
    samples: list[Sample] = []
    seen: dict[str, int] = {}
    for line, row in rows:
        row_problems = [_describe_row(error, item_schema) for error in validator.iter_errors(row)]
        if not row_problems:
            row_problems = _path_problems("fasta", row["fasta"], "file-path", base_dir)
        if row.get("sample") in seen:
            row_problems.append(f"sample {row['sample']!r} is also on line {seen[row['sample']]}; names must be unique")
        seen.setdefault(row.get("sample", ""), line)
        problems += [f"line {line}: {problem}" for problem in row_problems]
        if not row_problems:
            samples.append(Sample(row["sample"], resolve(row["fasta"], base_dir).resolve()))
    if not rows:
        problems.append("no samples: expected a header line `sample,fasta` and one row per sample")
    if problems:
        raise InputError(f"samplesheet {path}:\n  " + "\n  ".join(problems))
    return samples


def _read_csv(path: Path) -> list[tuple[int, dict[str, str]]]:
    """(line number, row) for every non-blank row; values stripped of surrounding spaces."""
    with open(path, newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        header = [name.strip() for name in reader.fieldnames or []]
        if header[:2] != ["sample", "fasta"] and sorted(header) != ["fasta", "sample"]:
            raise InputError(f"samplesheet {path}: header is {','.join(header)!r}; expected 'sample,fasta'")
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
    if error.validator == "additionalProperties":
        return f"unexpected columns: {error.message!s}; expected only sample,fasta"
    column = ".".join(str(part) for part in error.absolute_path)
    message = item_schema.get("properties", {}).get(column, {}).get("errorMessage") or _expected(error)
    return f"{column} = {error.instance!r}: {message}"


def check_fasta_start(path: Path) -> None:
    """Cheap early check that a file looks like FASTA (its first non-blank character is `>`)."""
    opener = gzip.open if path.name.endswith(".gz") else open
    try:
        with opener(path, "rt", encoding="utf-8", errors="replace") as handle:
            for line in handle:
                if line.strip():
                    if not line.startswith(">"):
                        raise InputError(
                            f"{path} line 1: expected a FASTA header starting with '>', found {line[:40]!r}"
                        )
                    return
    except (OSError, EOFError) as error:
        raise InputError(f"{path}: cannot be read as {'gzip ' if opener is gzip.open else ''}FASTA: {error}") from None
    raise InputError(f"{path}: the file is empty; expected FASTA records")


def samples_from_params(params: Mapping[str, Any], input_schema: Mapping[str, Any], *, base_dir: Path) -> list[Sample]:
    """The run's samples: one for a FASTA `--input` (named by `--sample` or the file name), else the sheet's."""
    input_path = resolve(str(params["input"]), base_dir)
    if input_path.suffix == ".csv":
        samples = read_samplesheet(input_path, input_schema, base_dir=base_dir)
    else:
        name = params.get("sample") or sample_name(input_path)
        if not SAMPLE_NAME.match(name):
            raise InputError(
                f"sample name {name!r} (from --input {input_path.name}) is not usable: {SAMPLE_RULE}; set --sample"
            )
        samples = [Sample(name, input_path.resolve())]
    for sample in samples:
        check_fasta_start(sample.fasta)
    return samples


def sample_name(path: Path) -> str:
    """The file name without `.gz` and the FASTA extension: reads.fa.gz -> reads."""
    name = path.name[: -len(".gz")] if path.name.endswith(".gz") else path.name
    for suffix in FASTA_SUFFIXES:
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def write_samplesheet(samples: list[Sample], path: Path) -> None:
    """The checked samples as `sample,fasta` with absolute paths, for the pipeline to read."""
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["sample", "fasta"])
        writer.writerows([sample.name, str(sample.fasta)] for sample in samples)


def check_pipeline_inputs(
    params: Mapping[str, Any], schema: Mapping[str, Any], input_schema: Mapping[str, Any], *, base_dir: Path
) -> list[Sample]:
    """Check every param, then the input and its samples; the one entry point the pipeline uses.

    Returns:
        The samples to run, FASTA paths absolute.

    Raises:
        InputError: listing every problem found, one per line, each naming the param or samplesheet line.
    """
    problems = check_params(params, schema, base_dir=base_dir)
    if problems:
        raise InputError("invalid pipeline params:\n  " + "\n  ".join(problems))
    return samples_from_params(params, input_schema, base_dir=base_dir)
