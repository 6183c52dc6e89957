"""The options that use fetched models: for `virnucpro predict` and for the pipeline, ready to paste."""

from __future__ import annotations

import shlex
from pathlib import Path

from virnucpro.fetch.catalogue import CLASSIFIER_KEYS, DNABERT_KEY, ESM_KEY, KEYS, final_names

# option of `virnucpro predict` -> param of the pipeline, for each model
CLI_OPTIONS = {DNABERT_KEY: "--dnabert", ESM_KEY: "--esm", "classifier": "--classifier"}
PIPELINE_PARAMS = {DNABERT_KEY: "dnabert_model", ESM_KEY: "esm_model", "classifier": "classifier"}
CHUNK_OPTION = "--chunk-length"
CHUNK_PARAM = "chunk_length"


def model_path(dest: Path, key: str) -> Path:
    """The path to pass for artifact `key` in `dest`: the DNABERT-S directory, the ESM-2 .pt, the .pth."""
    return dest / final_names(key)[0]


def present(dest: Path) -> list[str]:
    """The artifacts in place under `dest`."""
    return [key for key in KEYS if all((dest / name).exists() for name in final_names(key))]


def option_sets(dest: Path) -> list[tuple[int | None, dict[str, Path]]]:
    """(chunk length, model kind -> path) for each classifier in place, or one set without a classifier."""
    have = present(dest)
    embedders = {key: model_path(dest, key) for key in (DNABERT_KEY, ESM_KEY) if key in have}
    sets = [
        (length, {**embedders, "classifier": model_path(dest, key)})
        for length, key in CLASSIFIER_KEYS.items()
        if key in have
    ]
    return sets or [(None, embedders)]


def usage_text(dest: Path) -> str:
    """What to pass to `virnucpro predict` and to `nextflow run`, one block per classifier in place."""
    dest = dest.resolve()
    have = present(dest)
    lines = [f"Models in {dest}:"]
    for key in KEYS:
        where = str(model_path(dest, key)) if key in have else f"not here (fetch it with --only {key})"
        lines.append(f"  {key:<15} {where}")
    for length, models in option_sets(dest):
        if not models:
            continue
        chunks = f" for {length} bp chunks" if length else ""
        cli = ([CHUNK_OPTION, str(length)] if length else []) + _pairs(CLI_OPTIONS, models)
        params = ([f"--{CHUNK_PARAM}", str(length)] if length else []) + _pairs(PIPELINE_PARAMS, models, "--")
        lines += ["", f"virnucpro predict options{chunks}:", "  " + shlex.join(cli)]
        lines += [f"pipeline params{chunks} (nextflow run):", "  " + shlex.join(params)]
    return "\n".join(lines) + "\n"


def _pairs(names: dict[str, str], models: dict[str, Path], prefix: str = "") -> list[str]:
    """[option, path, option, path, ...] in the order of `names`, for the models present."""
    return [token for kind, name in names.items() if kind in models for token in (prefix + name, str(models[kind]))]
