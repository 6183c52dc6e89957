"""`virnucpro predict`: the whole chain in one process, calling the same stage functions as the pipeline.

translate -> embed (DNABERT-S) -> embed (ESM-2) -> classify -> report. Intermediate files go to the working
folder `outdir/.virnucpro-work`, removed at the end unless `keep_intermediates` is set (then
`outdir/intermediates`). Embedding checkpoints go to `outdir/checkpoints` unless another directory is given,
and both models' pieces stay until the report is written: rerunning the same command after a kill redoes
the cheap translation, reuses every finished embedding and continues the unfinished one. A lock in `outdir`
keeps two runs from sharing it, which is what makes removing a killed run's working folder safe.
"""

from __future__ import annotations

import contextlib
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from virnucpro.io.outputs import check_writable_directory, locked_directory
from virnucpro.io.sniff import sniff
from virnucpro.logging_setup import get_logger
from virnucpro.models.kinds import DNABERT_S, ESM2, MODEL_ALPHABETS
from virnucpro.report.contigs import DEFAULT_MAX_GAP, DEFAULT_MIN_LENGTH, RegionSettings
from virnucpro.report.reads import DEFAULT_THRESHOLD, check_threshold
from virnucpro.runner.settings import DEFAULT_CHECKPOINT_EVERY, DEFAULT_CHECKPOINT_INTERVAL_S, RunnerSettings
from virnucpro.translate import DEFAULT_AMBIGUOUS

log = get_logger("predict")
INTERMEDIATES = "intermediates"
WORK = ".virnucpro-work"  # the working folder; a killed run's is removed by the next run into the same outdir
CHECKPOINTS = "checkpoints"  # the default checkpoint directory inside outdir


@dataclass(frozen=True)
class PredictSettings:
    """Everything that changes what `predict` computes or writes.

    Attributes:
        chunk_length: expected length C of the chunks (300 or 500 for the published classifiers).
        dnabert: DNABERT-S checkpoint directory or hub name.
        esm: ESM-2 checkpoint path or hub name.
        classifier: classifier file (published .pth, state dict or converted .safetensors).
        device: "auto", "cpu", "cuda" or "cuda:N" for both embedding models.
        token_budget: tokens per packed batch (None: the embed stage's default).
        checkpoint_dir: resumable embedding pieces live here, one folder per model (None: `outdir/checkpoints`).
        checkpoint_every: write a piece after this many new sequences.
        checkpoint_interval: ... or after this many seconds, whichever comes first.
        threshold: P(virus) at or above which a read is called virus.
        sample: name shown in the summary and page (None: the reads file name).
        ambiguous: "drop" (published) or "x" for codons with other letters than ACGT.
        keep_intermediates: keep frames, chunks table, embeddings and scores under `outdir/intermediates`.
        region_max_gap: non-viral chunks bridged inside one viral region of a contig.
        region_min_length: viral regions shorter than this many bases are left out.
    """

    chunk_length: int
    dnabert: str
    esm: str
    classifier: Path
    device: str = "auto"
    token_budget: int | None = None
    checkpoint_dir: Path | None = None
    checkpoint_every: int = DEFAULT_CHECKPOINT_EVERY
    checkpoint_interval: float = DEFAULT_CHECKPOINT_INTERVAL_S
    threshold: float = DEFAULT_THRESHOLD
    sample: str | None = None
    ambiguous: str = DEFAULT_AMBIGUOUS
    keep_intermediates: bool = False
    region_max_gap: int = DEFAULT_MAX_GAP
    region_min_length: int = DEFAULT_MIN_LENGTH


def predict_file(
    reads: str | Path, outdir: str | Path, settings: PredictSettings, *, mate: str | Path | None = None
) -> dict:
    """Run every stage on one reads file (or a pair of mate files) and write the report files into `outdir`.

    Args:
        reads: reads or contigs, FASTA or FASTQ, plain or gzip; with `mate`, the first mates.
        outdir: the report's directory (created).
        settings: what to compute and how.
        mate: the second mates of paired reads (scored as reads tagged /1 and /2), or None.

    Returns:
        The report summary (also written to `outdir/summary.json`).

    Raises:
        InputError: bad inputs or settings, found before the embedding models are loaded where possible.
    """
    from virnucpro.models.classifier import load_classifier

    reads, outdir = Path(reads), Path(outdir)
    for path in (reads,) if mate is None else (reads, Path(mate)):
        sniff(path)  # a missing file or a mix-up is named before any model is loaded
    check_threshold(settings.threshold)
    _regions(settings).check()
    trained_for = load_classifier(settings.classifier).info.chunk_length
    if trained_for is not None and trained_for != settings.chunk_length:
        log.warning(
            "%s was trained on %d-long chunks but --chunk-length is %d: scores will be off-distribution",
            settings.classifier,
            trained_for,
            settings.chunk_length,
        )
    # the checkpoint cadence is checked now, not after translating
    RunnerSettings(1, checkpoint_every=settings.checkpoint_every, checkpoint_interval=settings.checkpoint_interval)
    with locked_directory(outdir, "predict"):
        checkpoints = check_writable_directory(
            settings.checkpoint_dir or outdir / CHECKPOINTS, option="--checkpoint-dir"
        )
        work = outdir / (INTERMEDIATES if settings.keep_intermediates else WORK)
        _remove_working_folders(outdir)
        try:
            summary, pieces = _run_stages(reads, mate, outdir, work, settings, checkpoints)
        finally:
            if not settings.keep_intermediates:
                shutil.rmtree(work, ignore_errors=True)
        _remove_checkpoints(pieces, checkpoints, default=settings.checkpoint_dir is None)
    return summary


def _remove_working_folders(outdir: Path) -> None:
    """Delete the working folders that killed runs left in `outdir` (ours: we hold the outdir's lock)."""
    for folder in outdir.glob(f"{WORK}*"):
        log.info("%s: removing the working folder of an interrupted run", folder)
        shutil.rmtree(folder)


def _remove_checkpoints(pieces: list[Path], root: Path, *, default: bool) -> None:
    """Delete this run's checkpoint pieces once the report is written, and the default folder if empty."""
    for directory in pieces:
        shutil.rmtree(directory, ignore_errors=True)
    for folder in [*(root / kind for kind in (DNABERT_S, ESM2)), *([root] if default else [])]:
        with contextlib.suppress(OSError):
            folder.rmdir()  # only when empty: other runs' pieces are never touched


def _run_stages(
    reads: Path, mate: str | Path | None, outdir: Path, work: Path, settings: PredictSettings, checkpoints: Path
) -> tuple[dict, list[Path]]:
    """translate, embed twice, classify, report; intermediates under `work`, report files under `outdir`.

    Returns:
        The report summary, and the checkpoint folders the embeddings kept (removed by the caller).
    """
    from virnucpro.classify import classify_files
    from virnucpro.io.chunks import CHUNKS_NAME
    from virnucpro.io.scores import CLASSIFY_INFO_NAME, SCORES_NAME, write_scores
    from virnucpro.report import write_report
    from virnucpro.translate import translate_file

    frames_dir, classify_dir = work / "translate", work / "classify"
    translated = translate_file(
        reads, frames_dir, chunk_length=settings.chunk_length, ambiguous=settings.ambiguous, mate=mate
    )
    provenance, pieces = [], []
    if translated.frames == 0:
        log.warning("%s: no read has a frame without a stop codon; nothing to embed", reads)
        classify_dir.mkdir(parents=True, exist_ok=True)
        write_scores(classify_dir / SCORES_NAME, [], np.empty((0, 2), dtype=np.float32))
    else:
        dnabert_out = _embed(frames_dir, work, DNABERT_S, settings, checkpoints, pieces)
        esm_out = _embed(frames_dir, work, ESM2, settings, checkpoints, pieces)
        classify_files(dnabert_out, esm_out, settings.classifier, classify_dir)
        provenance.append(classify_dir / CLASSIFY_INFO_NAME)
    summary = write_report(
        [classify_dir / SCORES_NAME],
        [frames_dir / CHUNKS_NAME],
        outdir,
        threshold=settings.threshold,
        sample=settings.sample or reads.name,
        chunk_length=settings.chunk_length,
        regions=_regions(settings),
        settings={"ambiguous": settings.ambiguous, "device": settings.device, "token_budget": settings.token_budget},
        run=_run_record(reads, mate),
        provenance_paths=provenance,
    )
    return summary, pieces


def _regions(settings: PredictSettings) -> RegionSettings:
    return RegionSettings(max_gap=settings.region_max_gap, min_length=settings.region_min_length)


def _run_record(reads: Path, mate: str | Path | None) -> dict[str, str]:
    """How the report was made: by `predict`, from which files (absolute paths)."""
    run = {"made_by": "virnucpro predict", "input": str(reads.resolve())}
    if mate is not None:
        run["mate_input"] = str(Path(mate).resolve())
    return run


def _embed(
    frames_dir: Path, work: Path, kind: str, settings: PredictSettings, checkpoints: Path, pieces: list[Path]
) -> Path:
    """One embed stage run on the frame file `kind` reads; checkpoints go to a per-model folder and stay.

    Side effect: appends the checkpoint folder the run used to `pieces`.
    """
    from virnucpro.embed import embed_file
    from virnucpro.io.embeddings import embeddings_name
    from virnucpro.io.frames import FRAME_FILES

    output = work / embeddings_name(kind)
    metrics = embed_file(
        frames_dir / FRAME_FILES[MODEL_ALPHABETS[kind]],
        output,
        model_kind=kind,
        model={DNABERT_S: settings.dnabert, ESM2: settings.esm}[kind],
        device=settings.device,
        token_budget=settings.token_budget,
        checkpoint_dir=checkpoints / kind,
        checkpoint_every=settings.checkpoint_every,
        checkpoint_interval=settings.checkpoint_interval,
        keep_checkpoints=True,
    )
    pieces.append(Path(metrics.checkpoints))
    return output
