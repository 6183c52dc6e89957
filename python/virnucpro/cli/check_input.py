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
    "--base-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
    help="Directory that relative paths are relative to (the pipeline's launch directory).",
)
@click.option(
    "--output",
    "output_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the checked samples here as CSV: sample,fasta (absolute paths).",
)
def command(params_path: Path, schema_path: Path, input_schema_path: Path, base_dir: Path, output_path: Path) -> None:
    """Check every param and the input (FASTA or samplesheet) and list every problem found.

    Exit code 2 with one line per problem when anything is wrong; nothing is written then.
    """
    from virnucpro.errors import InputError
    from virnucpro.params_check import check_pipeline_inputs, load_json, write_samplesheet

    params = load_json(params_path, "params file")
    if not isinstance(params, dict):
        raise InputError(f"params file {params_path}: expected a JSON object of param names and values")
    schema = load_json(schema_path, "pipeline schema")
    input_schema = load_json(input_schema_path, "samplesheet schema")
    samples = check_pipeline_inputs(params, schema, input_schema, base_dir=base_dir.resolve())
    write_samplesheet(samples, output_path)
    click.echo(f"checked {len(samples)} sample(s): {', '.join(sample.name for sample in samples)}", err=True)
