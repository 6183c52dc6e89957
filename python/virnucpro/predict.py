"""`virnucpro predict`: the whole chain in one process, calling the same stage functions as the pipeline.

translate -> embed (DNABERT-S) -> embed (ESM-2) -> classify -> report. Intermediate files go to a temporary
directory inside `outdir`, removed at the end unless `keep_intermediates` is set (then `outdir/intermediates`).
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from virnucpro.errors import InputError
from virnucpro.logging_setup import get_logger

log = get_logger("predict")
INTERMEDIATES = "intermediates"


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
        checkpoint_dir: resumable embedding pieces live here (None: no checkpoints).
        threshold: P(virus) at or above which a read is called virus.
        sample: name shown in the summary and page (None: the reads file name).
        ambiguous: "drop" (published) or "x" for codons with other letters than ACGT.
        keep_intermediates: keep frames, chunks table, embeddings and scores under `outdir/intermediates`.
    """

    chunk_length: int
    dnabert: str
    esm: str
    classifier: Path
    device: str = "auto"
    token_budget: int | None = None
    checkpoint_dir: Path | None = None
    threshold: float = 0.5
    sample: str | None = None
    ambiguous: str = "drop"
    keep_intermediates: bool = False


def predict_file(reads: str | Path, outdir: str | Path, settings: PredictSettings) -> dict:
    """Run every stage on one reads file and write the report files into `outdir`.

    Returns:
        The report summary (also written to `outdir/summary.json`).

    Raises:
        InputError: bad inputs or settings, found before the embedding models are loaded where possible.
    """
    from virnucpro.models.classifier import load_classifier

    reads, outdir = Path(reads), Path(outdir)
    if not reads.is_file():
        raise InputError(f"{reads}: reads file not found")
    if not 0.0 <= settings.threshold <= 1.0:
        raise InputError(f"--threshold {settings.threshold} must be between 0 and 1")
    trained_for = load_classifier(settings.classifier).info.chunk_length
    if trained_for is not None and trained_for != settings.chunk_length:
        log.warning(
            "%s was trained on %d-long chunks but --chunk-length is %d: scores will be off-distribution",
            settings.classifier,
            trained_for,
            settings.chunk_length,
        )
    outdir.mkdir(parents=True, exist_ok=True)
    if settings.keep_intermediates:
        return _run_stages(reads, outdir, outdir / INTERMEDIATES, settings)
    work = Path(tempfile.mkdtemp(prefix=".virnucpro-work-", dir=outdir))
    try:
        return _run_stages(reads, outdir, work, settings)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _run_stages(reads: Path, outdir: Path, work: Path, settings: PredictSettings) -> dict:
    """translate, embed twice, classify, report; intermediates under `work`, report files under `outdir`."""
    from virnucpro.classify import INFO_NAME, SCORES_HEADER, SCORES_NAME, classify_files
    from virnucpro.report import write_report
    from virnucpro.translate import translate_file

    frames_dir, classify_dir = work / "translate", work / "classify"
    translated = translate_file(reads, frames_dir, chunk_length=settings.chunk_length, ambiguous=settings.ambiguous)
    provenance = []
    if translated.frames == 0:
        log.warning("%s: no read has a frame without a stop codon; nothing to embed", reads)
        classify_dir.mkdir(parents=True, exist_ok=True)
        (classify_dir / SCORES_NAME).write_text(SCORES_HEADER + "\n", encoding="utf-8")
    else:
        dnabert_out = _embed(frames_dir / "nucleotide.fa", work / "dnabert-s.safetensors", "dnabert-s", settings)
        esm_out = _embed(frames_dir / "protein.faa", work / "esm2.safetensors", "esm2", settings)
        classify_files(dnabert_out, esm_out, settings.classifier, classify_dir)
        provenance.append(classify_dir / INFO_NAME)
    report_settings = {
        "chunk_length": settings.chunk_length,
        "ambiguous": settings.ambiguous,
        "dnabert": settings.dnabert,
        "esm": settings.esm,
        "classifier": str(settings.classifier),
        "device": settings.device,
        "reads": str(reads),
    }
    return write_report(
        [classify_dir / SCORES_NAME],
        [frames_dir / "chunks.tsv"],
        outdir,
        threshold=settings.threshold,
        sample=settings.sample or reads.name,
        settings=report_settings,
        provenance_paths=provenance,
    )


def _embed(frames: Path, output: Path, kind: str, settings: PredictSettings) -> Path:
    """One embed stage run; its checkpoints (if any) go to a per-model folder of `checkpoint_dir`."""
    from virnucpro.embed import embed_file

    checkpoints = settings.checkpoint_dir / kind if settings.checkpoint_dir is not None else None
    embed_file(
        frames,
        output,
        model_kind=kind,
        model=settings.dnabert if kind == "dnabert-s" else settings.esm,
        device=settings.device,
        token_budget=settings.token_budget,
        checkpoint_dir=checkpoints,
    )
    return output
