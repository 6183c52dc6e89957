"""`virnucpro check-input`: validate pipeline params and the samplesheet before the pipeline does any work."""

from __future__ import annotations

from pathlib import Path

import click

from virnucpro.cli.threads_option import threads_option


@click.command("check-input")
@threads_option(torch_pools=False)
@click.option(
    "--params",
    "params_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The pipeline params as a JSON object.",
)
@click.option(
    "--schema",
    "schema_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The pipeline's nextflow_schema.json.",
)
@click.option(
    "--input-schema",
    "input_schema_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The samplesheet schema (assets/schema_input.json).",
)
@click.option(
    "--samplesheet",
    "samplesheet_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="The samplesheet, when --input is one (the pipeline stages it into the task).",
)
@click.option(
    "--file-checks",
    "facts_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="What the pipeline found about the files the params name, as JSON: problems and hub_names.",
)
@click.option(
    "--output",
    "output_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the checked samples here as CSV: sample,reads,mate (paths as given; mate empty if unpaired).",
)
def command(
    params_path: Path,
    schema_path: Path,
    input_schema_path: Path,
    samplesheet_path: Path | None,
    facts_path: Path | None,
    output_path: Path,
) -> None:
    """Check every param and the samplesheet and list every problem found, with the pipeline's file checks.

    Exit code 2 with one line per problem when anything is wrong; nothing is written then. Files are never
    looked up here (they may be remote): the pipeline checks them and passes what it found (--file-checks).
    """
    from virnucpro.errors import InputError
    from virnucpro.params_check import FileFacts, check_pipeline_inputs, load_json, write_samplesheet

    params = load_json(params_path, "params file")
    if not isinstance(params, dict):
        raise InputError(f"params file {params_path}: expected a JSON object of param names and values")
    schema = load_json(schema_path, "pipeline schema")
    input_schema = load_json(input_schema_path, "samplesheet schema")
    facts = FileFacts.from_json(load_json(facts_path, "file checks"), str(facts_path)) if facts_path else None
    samples = check_pipeline_inputs(params, schema, input_schema, facts=facts, samplesheet=samplesheet_path)
    write_samplesheet(samples, output_path)
    click.echo(f"checked {len(samples)} sample(s): {', '.join(sample.name for sample in samples)}", err=True)
