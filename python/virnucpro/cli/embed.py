"""`virnucpro embed`: embed a frame FASTA with ESM-2 or DNABERT-S into a pickle-free embedding file."""

from __future__ import annotations

from pathlib import Path

import click

from virnucpro.cli.threads_option import threads_option
from virnucpro.models.kinds import MODEL_KINDS
from virnucpro.runner.settings import DEFAULT_CHECKPOINT_EVERY, DEFAULT_CHECKPOINT_INTERVAL_S


@click.command("embed")
@threads_option(torch_pools=True)
@click.option("--model-kind", required=True, type=click.Choice(MODEL_KINDS), help="Which model.")
@click.option("--model", "model", required=True, help="Checkpoint path or hub name found in the local caches.")
@click.option(
    "--input",
    "input_path",
    required=True,
    type=click.Path(path_type=Path),
    help="Frame FASTA: protein.faa for esm2, nucleotide.fa for dnabert-s.",
)
@click.option(
    "--output",
    "output_path",
    required=True,
    type=click.Path(path_type=Path),
    help="Embedding file to write (safetensors: IDs, float32 vectors, provenance).",
)
@click.option(
    "--checkpoint-dir",
    type=click.Path(path_type=Path),
    default=None,
    help="Keep resumable pieces here; a rerun skips what a killed run finished.",
)
@click.option(
    "--device",
    default="auto",
    show_default=True,
    help="auto (a GPU if one is visible, else the CPU), cpu, cuda (a GPU or exit 2) or cuda:N.",
)
@click.option(
    "--device-lock-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Per-GPU lock files of auto/cuda; runs sharing a machine's GPUs must see the same directory "
    "[default: $VIRNUCPRO_DEVICE_LOCK_DIR, else virnucpro-device-locks in the temp directory].",
)
@click.option(
    "--max-gpus",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="With auto/cuda: at most this many GPUs at once for all runs of --gpu-group (0: no cap).",
)
@click.option("--gpu-group", default="default", show_default=True, help="The runs that share --max-gpus.")
@click.option(
    "--token-budget",
    type=int,
    default=None,
    help="Tokens per packed batch [default: from free memory on CUDA, 512 on CPU, at least the longest sequence].",
)
@click.option(
    "--checkpoint-every",
    type=int,
    default=DEFAULT_CHECKPOINT_EVERY,
    show_default=True,
    help="Write a checkpoint piece after this many new sequences.",
)
@click.option(
    "--checkpoint-interval",
    type=float,
    default=DEFAULT_CHECKPOINT_INTERVAL_S,
    show_default=True,
    help="... or after this many seconds, whichever comes first.",
)
@click.option(
    "--metrics",
    "metrics_path",
    type=click.Path(path_type=Path),
    default=None,
    help="Write run metrics (counts, tokens, fill ratio, times, peak memory) as JSON.",
)
def command(
    model_kind: str,
    model: str,
    input_path: Path,
    output_path: Path,
    checkpoint_dir: Path | None,
    device: str,
    device_lock_dir: Path | None,
    max_gpus: int,
    gpu_group: str,
    token_budget: int | None,
    checkpoint_every: int,
    checkpoint_interval: float,
    metrics_path: Path | None,
) -> None:
    """Embed every sequence of a frame FASTA; rows keep the input order and carry their IDs.

    SIGTERM / SIGINT save finished work to --checkpoint-dir and exit 143 / 130.
    """
    from virnucpro.config import get_env_config
    from virnucpro.embed import embed_file
    from virnucpro.runner.devices import GpuSharing, default_lock_dir

    lock_dir = device_lock_dir or default_lock_dir(get_env_config().device_lock_dir)
    embed_file(
        input_path,
        output_path,
        model_kind=model_kind,
        model=model,
        device=device,
        token_budget=token_budget,
        checkpoint_dir=checkpoint_dir,
        checkpoint_every=checkpoint_every,
        checkpoint_interval=checkpoint_interval,
        metrics_path=metrics_path,
        gpu_sharing=GpuSharing(lock_dir, max_gpus, gpu_group),
    )
