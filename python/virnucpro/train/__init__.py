"""The train stage: labelled frames in, a pickle-free classifier with held-out metrics out.

`train` picks the input mode and is what the CLI calls; `train_and_save` does the split, the fit and the
evaluation; `embed_labelled_fasta` makes the labelled frames from FASTA files with the same translate and
embed stages that prediction uses.
"""

from __future__ import annotations

import dataclasses
import json
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from virnucpro.errors import InputError
from virnucpro.logging_setup import get_logger
from virnucpro.models.kinds import DNABERT_S, ESM2, MODEL_ALPHABETS
from virnucpro.train.dataset import LabelledFrames, ambiguous_chunks, filter_frames, from_embeddings, read_labels
from virnucpro.train.metrics import binary_metrics
from virnucpro.train.settings import TrainSettings
from virnucpro.train.split import SETS, split_records

log = get_logger("train")
CLASSIFIER_NAME = "classifier.safetensors"
METRICS_NAME = "metrics.json"
SPLIT_NAME = "split.tsv"


@dataclass(frozen=True)
class TrainInputs:
    """Where the labelled frames come from: FASTA files to translate and embed, or pairs of embedding files.

    Attributes:
        viral, other: FASTA files of viral and of non-viral records (FASTA mode).
        chunk_length: chunk length for FASTA mode; recorded with the classifier in either mode.
        dnabert, esm: the embedding models for FASTA mode (paths or hub names).
        device: where the embedding models run.
        drop_ambiguous_chunks: leave out chunks with N R Y M K S W H B V D, as the published training set did.
        workdir: keep frames and embeddings here (None: a temporary directory, removed at the end).
        embeddings: (DNABERT-S, ESM-2) files of the same frames (embeddings mode).
        labels: the `record_id<TAB>virus|others` table of embeddings mode.
    """

    viral: tuple[Path, ...] = ()
    other: tuple[Path, ...] = ()
    chunk_length: int | None = None
    dnabert: str | None = None
    esm: str | None = None
    device: str = "auto"
    drop_ambiguous_chunks: bool = False
    workdir: Path | None = None
    embeddings: tuple[tuple[Path, Path], ...] = ()
    labels: Path | None = None


def train(inputs: TrainInputs, outdir: str | Path, settings: TrainSettings) -> dict:
    """The train stage: make labelled frames from either kind of input, then `train_and_save`.

    Returns:
        The content of `metrics.json`.

    Raises:
        InputError: both kinds of input, or an incomplete one (the message names what is missing), and
            whatever reading, embedding or splitting the inputs raises.
    """
    if inputs.embeddings and (inputs.viral or inputs.other):
        raise InputError("give either --embeddings with --labels, or --viral/--other FASTA files, not both")
    if inputs.embeddings:
        if inputs.labels is None:
            raise InputError("--embeddings needs --labels (record_id<TAB>virus|others)")
        data = from_embeddings(list(inputs.embeddings), read_labels(inputs.labels))
        sources = {"embeddings": [[str(a), str(b)] for a, b in inputs.embeddings], "labels": str(inputs.labels)}
        return train_and_save(data, outdir, settings, chunk_length=inputs.chunk_length, sources=sources)
    _check_fasta_inputs(inputs)
    labelled = [(path, 1) for path in inputs.viral] + [(path, 0) for path in inputs.other]
    sources = {
        "viral": [str(path) for path in inputs.viral],
        "other": [str(path) for path in inputs.other],
        "dnabert": inputs.dnabert,
        "esm": inputs.esm,
        "drop_ambiguous_chunks": inputs.drop_ambiguous_chunks,
    }
    with _working_directory(inputs.workdir) as workdir:
        data = embed_labelled_fasta(
            labelled,
            workdir,
            chunk_length=inputs.chunk_length,
            dnabert=inputs.dnabert,
            esm=inputs.esm,
            device=inputs.device,
            drop_ambiguous_chunks=inputs.drop_ambiguous_chunks,
        )
        return train_and_save(data, outdir, settings, chunk_length=inputs.chunk_length, sources=sources)


def _check_fasta_inputs(inputs: TrainInputs) -> None:
    missing = [name for name in ("chunk_length", "dnabert", "esm") if getattr(inputs, name) is None]
    if not inputs.viral or not inputs.other or missing:
        raise InputError(
            "FASTA training needs --viral and --other files and --chunk-length, --dnabert, --esm"
            + (f" (missing: {', '.join('--' + m.replace('_', '-') for m in missing)})" if missing else "")
        )


@contextmanager
def _working_directory(workdir: Path | None) -> Iterator[Path]:
    """`workdir` as given, or a temporary directory that is removed when the block ends."""
    if workdir is not None:
        yield Path(workdir)
        return
    with tempfile.TemporaryDirectory(prefix="virnucpro-train-") as scratch:
        yield Path(scratch)


def embed_labelled_fasta(
    labelled: list[tuple[Path, int]],
    workdir: Path,
    *,
    chunk_length: int,
    dnabert: str,
    esm: str,
    device: str = "auto",
    drop_ambiguous_chunks: bool = False,
) -> LabelledFrames:
    """Translate and embed each labelled FASTA file (label 1 = virus) and join the frames by ID.

    Args:
        labelled: (FASTA path, label) pairs.
        workdir: where frames and embeddings are written (one folder per input file).
        drop_ambiguous_chunks: leave out chunks with N R Y M K S W H B V D, as the published training set did.

    Raises:
        InputError: a record in two input files, or no frame at all.
    """
    from virnucpro.embed import embed_file
    from virnucpro.io.chunks import CHUNKS_NAME, read_chunks
    from virnucpro.io.embeddings import embeddings_name
    from virnucpro.io.frames import FRAME_FILES
    from virnucpro.translate import translate_file

    record_labels: dict[str, int] = {}
    pairs = []
    for number, (path, label) in enumerate(labelled, start=1):
        folder = workdir / f"input-{number}"
        translate_file(path, folder, chunk_length=chunk_length)
        for read_id in {chunk.read_id for chunk in read_chunks(folder / CHUNKS_NAME)}:
            if read_id in record_labels:
                raise InputError(f"{path}: record {read_id} also appears in another training file")
            record_labels[read_id] = label
        dropped = ambiguous_chunks(Path(path), folder / CHUNKS_NAME) if drop_ambiguous_chunks else set()
        kept: dict[str, Path] = {}
        for alphabet, name in FRAME_FILES.items():
            kept[alphabet] = folder / _kept_name(name)
            frames = filter_frames(folder / name, kept[alphabet], dropped)  # both files hold the same frames
        log.info("%s: %d frames kept (%d ambiguous chunks left out)", path, frames, len(dropped))
        if frames == 0:
            continue
        for kind, model in ((DNABERT_S, dnabert), (ESM2, esm)):
            embed_file(
                kept[MODEL_ALPHABETS[kind]], folder / embeddings_name(kind), model_kind=kind, model=model, device=device
            )
        pairs.append((folder / embeddings_name(DNABERT_S), folder / embeddings_name(ESM2)))
    if not pairs:
        raise InputError("no training frame: every input chunk was left out or had no frame without a stop codon")
    return from_embeddings(pairs, record_labels)


def train_and_save(
    data: LabelledFrames,
    outdir: str | Path,
    settings: TrainSettings,
    *,
    chunk_length: int | None = None,
    sources: dict | None = None,
) -> dict:
    """Split by record, train with early stopping, evaluate on the held-out records, write the outputs.

    Writes `classifier.safetensors` (pickle-free, with its metadata), `metrics.json` (test and validation
    metrics, history, split sizes, settings) and `split.tsv` (record, label, set, frames).

    Returns:
        The content of `metrics.json`.
    """
    from virnucpro.models.classifier import predict_proba, save_classifier
    from virnucpro.train.trainer import train_classifier

    record_labels = {record: int(label) for record, label in zip(data.records, data.labels, strict=True)}
    assignment = split_records(
        record_labels,
        seed=settings.seed,
        test_fraction=settings.test_fraction,
        validation_fraction=settings.validation_fraction,
    )
    frame_set = np.array([assignment[r] for r in data.records])
    parts = {name: data.subset(frame_set == name) for name in SETS}
    result = train_classifier(parts["train"], parts["validation"], settings)
    evaluation = {name: binary_metrics(parts[name][1], predict_proba(result.model, parts[name][0])) for name in SETS}
    report = {
        "test": evaluation["test"],
        "validation": evaluation["validation"],
        "train": evaluation["train"],
        "best_epoch": result.best_epoch,
        "epochs_run": len(result.history),
        "best_validation_loss": result.best_validation_loss,
        "split": _split_sizes(record_labels, assignment, frame_set),
        "settings": {**dataclasses.asdict(settings), "chunk_length": chunk_length},
        "sources": sources or {},
        "history": result.history,
    }
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    info = _classifier_info(data, report, chunk_length)
    save_classifier(outdir / CLASSIFIER_NAME, result.model, info)
    (outdir / METRICS_NAME).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    _write_split(outdir / SPLIT_NAME, record_labels, assignment, data.records)
    log.info(
        "held-out accuracy %s, AUROC %s (%d frames)",
        report["test"]["accuracy"],
        report["test"]["auroc"],
        report["test"]["n"],
    )
    return report


def _classifier_info(data: LabelledFrames, report: dict, chunk_length: int | None):
    """The metadata stored with a trained classifier: widths, chunk length, settings and test metrics."""
    from virnucpro.models.classifier import CLASS_NAMES, ClassifierInfo

    return ClassifierInfo(
        input_dim=data.features.shape[1],
        hidden_dim=report["settings"]["hidden_dim"],
        class_names=CLASS_NAMES,
        dnabert_dim=data.dnabert_dim,
        esm_dim=data.esm_dim,
        chunk_length=chunk_length,
        source="virnucpro",
        extra={
            "trained_by": "virnucpro train",
            "training_settings": json.dumps(report["settings"], sort_keys=True),
            "test_metrics": json.dumps(report["test"], sort_keys=True),
        },
    )


def _split_sizes(record_labels: dict[str, int], assignment: dict[str, str], frame_set: np.ndarray) -> dict:
    return {
        name: {
            "records": sum(1 for r in record_labels if assignment[r] == name),
            "virus_records": sum(1 for r, label in record_labels.items() if assignment[r] == name and label == 1),
            "frames": int((frame_set == name).sum()),
        }
        for name in SETS
    }


def _write_split(path: Path, record_labels: dict[str, int], assignment: dict[str, str], records: list[str]) -> None:
    frames: dict[str, int] = {}
    for record in records:
        frames[record] = frames.get(record, 0) + 1
    lines = ["record_id\tlabel\tset\tframes"]
    lines += [f"{r}\t{'virus' if record_labels[r] else 'others'}\t{assignment[r]}\t{frames[r]}" for r in record_labels]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _kept_name(name: str) -> str:
    """`nucleotide.fa` -> `nucleotide.kept.fa`: the frame file after the chunk filter."""
    stem, _, extension = name.rpartition(".")
    return f"{stem}.kept.{extension}"
