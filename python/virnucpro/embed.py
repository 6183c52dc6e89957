"""The embed stage: one frame FASTA in, one embedding file out (IDs, float32 vectors, provenance).

Inputs are read and checked before the model is loaded; the model runs through `AsyncInferenceRunner`;
with a checkpoint directory the run resumes from the pieces a killed run left, and the output file is
always rebuilt whole from pieces plus new work, written under a temporary name and renamed. Every
location it writes is checked before the model is loaded, and the free space before computing.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch

from virnucpro import __version__
from virnucpro.config import EnvConfig, get_env_config
from virnucpro.errors import InputError
from virnucpro.io.embeddings import EmbeddingTable, save_embeddings
from virnucpro.io.fasta import FastaRecord
from virnucpro.io.frames import read_frames
from virnucpro.io.outputs import OutputSet, check_free_space, check_writable_directory
from virnucpro.logging_setup import get_logger
from virnucpro.models.base import EmbeddingModel
from virnucpro.models.kinds import MODEL_ALPHABETS, MODEL_KINDS
from virnucpro.models.precision import dtype_name
from virnucpro.runner.async_runner import AsyncInferenceRunner, RunResult
from virnucpro.runner.checkpoints import CheckpointStore, CheckpointWriteError, fingerprint_of
from virnucpro.runner.devices import (
    CPU_TOKEN_BUDGET,
    GpuSharing,
    choose_device,
    default_lock_dir,
    default_token_budget,
)
from virnucpro.runner.interrupts import StopRequest, stop_on_signals
from virnucpro.runner.metrics import RunMetrics
from virnucpro.runner.settings import DEFAULT_CHECKPOINT_EVERY, DEFAULT_CHECKPOINT_INTERVAL_S, RunnerSettings

log = get_logger("embed")

CHECKPOINT_FORMAT = "1"


def embed_file(
    input_path: str | Path,
    output_path: str | Path,
    *,
    model_kind: str,
    model: str,
    device: str = "auto",
    token_budget: int | None = None,
    checkpoint_dir: str | Path | None = None,
    checkpoint_every: int = DEFAULT_CHECKPOINT_EVERY,
    checkpoint_interval: float = DEFAULT_CHECKPOINT_INTERVAL_S,
    metrics_path: str | Path | None = None,
    env: EnvConfig | None = None,
    progress_bar: bool | None = None,
    gpu_sharing: GpuSharing | None = None,
    keep_checkpoints: bool = False,
) -> RunMetrics:
    """Embed every record of a frame FASTA and write the vectors, rows in input order.

    Args:
        input_path: `protein.faa` for esm2, `nucleotide.fa` for dnabert-s (plain or gzip).
        output_path: the embedding file to write (`virnucpro.io.embeddings` format), in an existing directory.
        model_kind: "esm2" or "dnabert-s".
        model: a checkpoint path or hub name (see `virnucpro.models.loading.load_embedding_model`).
        device: "auto", "cpu", "cuda" or "cuda:N"; auto and cuda lock a free GPU when there is a choice,
            cuda fails when no GPU is visible (see `virnucpro.runner.devices`).
        token_budget: tokens per packed batch (default: from free memory on CUDA, 512 on CPU; at least the
            longest sequence).
        checkpoint_dir: where to keep resumable pieces (None: no checkpoints); created if missing.
        checkpoint_every: write a piece after this many new sequences.
        checkpoint_interval: ... or after this many seconds, whichever comes first.
        metrics_path: write run metrics as JSON here (an existing directory).
        env: runtime settings (default: the process's `VIRNUCPRO_*` variables).
        progress_bar: force the progress bar on or off (default: when stderr is a terminal).
        gpu_sharing: GPU lock directory and budget (default: `VIRNUCPRO_DEVICE_LOCK_DIR`, no budget).
        keep_checkpoints: keep the pieces after the output is written (`predict` removes them once its
            report is written, so that a rerun after a later kill finds this model's work done).

    Returns:
        The run's metrics.

    Raises:
        InputError: bad kind, input file (one of the other model's alphabet included), device or settings; an
            output, metrics or checkpoint location that cannot be written (all checked before the model
            is loaded).
        Interrupted: SIGTERM/SIGINT; finished work was saved to checkpoints (exit code 143/130).
        VirnucproError: NaN/Inf outputs, a sequence too large for the device, a locked checkpoint, too
            little free space for the output (checked before computing), a disk that fails while writing
            (the checkpoint pieces written so far are kept).
    """
    started = time.monotonic()
    env = env or get_env_config()
    if model_kind not in MODEL_KINDS:
        raise InputError(f"--model-kind {model_kind!r}: choose one of {', '.join(MODEL_KINDS)}")
    # Checked before anything is read or loaded; the budget is settled once the device is known.
    settings = RunnerSettings(
        token_budget=CPU_TOKEN_BUDGET if token_budget is None else token_budget,
        checkpoint_every=checkpoint_every,
        checkpoint_interval=checkpoint_interval,
    )
    records = read_frames(input_path, MODEL_ALPHABETS[model_kind])
    output_path = Path(output_path)
    _check_locations(checkpoint_dir, metrics_path)
    sharing = gpu_sharing or GpuSharing(default_lock_dir(env.device_lock_dir))
    with OutputSet(output_path.parent, output_path.name, [output_path.name], create=False) as output:
        # CUDA_VISIBLE_DEVICES is the scheduler's variable, not ours: read here, at the stage's edge.
        visible = os.environ.get("CUDA_VISIBLE_DEVICES")
        choice = choose_device(device, sharing=sharing, cuda_visible_devices=visible)
        try:
            with stop_on_signals() as stop:
                loaded, load_s = _load_model(model_kind, model, choice.device, env)
                check_free_space(output_path.parent, _output_bytes(records, loaded.embedding_dim), "the output")
                if token_budget is None:
                    # no tokenizer makes more tokens than letters + 2 special ones (ESM-2: exactly that)
                    longest = max((len(r.sequence) + 2 for r in records), default=0)
                    budget = default_token_budget(loaded.device, loaded.embedding_dim, loaded.dtype, longest)
                    settings = dataclasses.replace(settings, token_budget=budget)
                stage = _Stage(records, loaded, settings, stop, progress_bar)
                metrics = stage.embed_and_write(output, checkpoint_dir, keep_checkpoints=keep_checkpoints)
        finally:
            choice.release()
    metrics.model_load_s = load_s
    metrics.wall_s = time.monotonic() - started
    log.info(
        "embedded %d sequences (%d resumed, %d computed) to %s in %.1f s",
        metrics.sequences,
        metrics.resumed,
        metrics.computed,
        output_path,
        metrics.wall_s,
    )
    if metrics_path is not None:
        metrics.write_json(metrics_path)
    return metrics


def _check_locations(checkpoint_dir: str | Path | None, metrics_path: str | Path | None) -> None:
    """Refuse a checkpoint or metrics location that cannot be written, before any model is loaded."""
    if checkpoint_dir is not None:
        check_writable_directory(checkpoint_dir, option="--checkpoint-dir")
    if metrics_path is not None:
        check_writable_directory(Path(metrics_path).parent, create=False, option="--metrics")


def _output_bytes(records: Sequence[FastaRecord], dim: int) -> int:
    """About how large the embedding file of `records` will be: the vectors, the IDs and a header."""
    return len(records) * dim * 4 + sum(len(r.id.encode()) + 1 for r in records) + 4096


class _Stage:
    """The part of the stage that runs with a loaded model: checkpoints, runner, output file."""

    def __init__(
        self,
        records: list[FastaRecord],
        model: EmbeddingModel,
        settings: RunnerSettings,
        stop: StopRequest,
        progress_bar: bool | None,
    ) -> None:
        self.records = records
        self.model = model
        self.settings = settings
        self.stop = stop
        self.progress_bar = progress_bar

    def embed_and_write(
        self, output: OutputSet, checkpoint_dir: str | Path | None, *, keep_checkpoints: bool = False
    ) -> RunMetrics:
        """Run (resuming from `checkpoint_dir` if given), commit the output file, then drop the pieces.

        The pieces are kept when anything fails before the output is on disk, and with `keep_checkpoints`.
        """
        provenance = Provenance.of(self.records, self.model)
        store = _open_checkpoints(checkpoint_dir, provenance) if checkpoint_dir else None
        settings = self.settings
        if store is not None:
            settings = dataclasses.replace(settings, token_budget=store.token_budget(settings.token_budget))
        runner = AsyncInferenceRunner(
            self.model, settings, checkpoints=store, stop=self.stop, progress_bar=self.progress_bar
        )
        result = None
        try:
            result = runner.run(self.records)
            table = EmbeddingTable(ids=result.ids, vectors=result.vectors, metadata=provenance.metadata())
            save_embeddings(output.temporary(output.names[0]), table)
            output.commit()
        except BaseException:
            if store is not None:
                _keep_finished_work(store, result)
            raise
        if store is not None:
            result.metrics.checkpoints = str(store.directory)
            if keep_checkpoints:
                store.close()
            else:
                store.remove()
        return result.metrics


def _keep_finished_work(store: CheckpointStore, result: RunResult | None) -> None:
    """After a failure: save the rows no piece holds yet (the output write failed), then let the store go.

    A piece that cannot be written now is logged, not raised: the failure being raised is the one to report.
    """
    try:
        if result is not None and result.unsaved and not store.failed:
            store.save([result.ids[r] for r in result.unsaved], result.vectors[result.unsaved])
        store.close()
    except CheckpointWriteError as error:
        log.warning("%s", error)


def _load_model(kind: str, model: str, device: torch.device, env: EnvConfig) -> tuple[EmbeddingModel, float]:
    """The loaded model adapter and the seconds loading took."""
    from virnucpro.models.loading import load_embedding_model

    started = time.monotonic()
    loaded = load_embedding_model(kind, model, device, env=env)
    return loaded, time.monotonic() - started


def records_digest(records: Sequence[FastaRecord]) -> str:
    """sha256 of the records as `id<TAB>sequence<LF>` lines: the input's content, whatever its line layout."""
    digest = hashlib.sha256()
    for record in records:
        digest.update(f"{record.id}\t{record.sequence}\n".encode())
    return digest.hexdigest()


@dataclass(frozen=True)
class Provenance:
    """What made a run's vectors: the input's content, the model, and how it ran. Built once per run.

    The checkpoint fingerprint and the output file's metadata header are two views of this one record,
    so they can never describe the same run differently.
    """

    input_sha256: str
    model_kind: str
    model_id: str
    model_fingerprint: str
    embedding_dim: int
    precision: str
    backend: str
    device_type: str
    device_name: str
    torch_version: str = torch.__version__
    virnucpro_version: str = __version__

    @classmethod
    def of(cls, records: Sequence[FastaRecord], model: EmbeddingModel) -> Provenance:
        """The record of a run of `model` on `records` (hashes the input once)."""
        return cls(
            input_sha256=records_digest(records),
            model_kind=model.kind,
            model_id=model.model_id,
            model_fingerprint=model.fingerprint,
            embedding_dim=model.embedding_dim,
            precision=dtype_name(model.dtype),
            backend=model.backend,
            device_type=model.device.type,
            device_name=_device_name(model.device),
        )

    def checkpoint_parts(self) -> dict[str, str]:
        """Everything that changes the numbers of a run, for the checkpoint fingerprint.

        The model counts by its weights' fingerprint, not by the name it was given (`model_id`). The token
        budget is left out on purpose: the checkpoint directory records the budget of its first run
        (`plan.json`) and resumed runs pack with it, so the batches, and hence the bytes, are the same.
        """
        return {"format": CHECKPOINT_FORMAT, **self._as_text(leaving_out=_DESCRIPTIVE)}

    def metadata(self) -> dict[str, str]:
        """The output file's provenance header (no timestamps; the width is the file's own `dim`)."""
        return self._as_text(leaving_out=("embedding_dim",))

    def _as_text(self, leaving_out: tuple[str, ...]) -> dict[str, str]:
        return {name: str(value) for name, value in dataclasses.asdict(self).items() if name not in leaving_out}


# Recorded for the reader of a report, but not part of the checkpoint key: the name a model was given
# (its weights' fingerprint counts), the GPU model and the torch version (a checkpoint written on one
# card or torch release is kept when a rerun lands on another; the report shows which ones were used).
_DESCRIPTIVE = ("model_id", "device_name", "torch_version")


def _device_name(device: torch.device) -> str:
    """The GPU's marketing name on CUDA (e.g. `NVIDIA H200`), else the device type."""
    if device.type == "cuda" and torch.cuda.is_available():
        return torch.cuda.get_device_name(device)
    return device.type


def checkpoint_parts(records: Sequence[FastaRecord], model: EmbeddingModel) -> dict[str, str]:
    """The checkpoint fingerprint's parts for a run of `model` on `records`, as `embed_file` computes them."""
    return Provenance.of(records, model).checkpoint_parts()


def _open_checkpoints(root: str | Path, provenance: Provenance) -> CheckpointStore:
    parts = provenance.checkpoint_parts()
    return CheckpointStore(root, fingerprint_of(parts), parts)
