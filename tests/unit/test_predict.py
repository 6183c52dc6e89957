"""`virnucpro predict` end to end on the tiny test models, checked against the original tool's logic.

The expected compatible files are rebuilt here the way the original prediction script did it: unpickle the
classifier module unrestricted with the training script's class in `__main__`, score the merged features in
batches of 256 in FASTA order, print `'\\t'.join(map(str, probability))`, and group with a dict for the
highest-score file.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from click.testing import CliRunner
from reference_mlp import load_as_original
from virnucpro.cli import cli
from virnucpro.io.embeddings import read_embeddings
from virnucpro.models.tiny_checkpoints import TinyModelPaths

DEMO = Path(__file__).resolve().parents[2] / "assets" / "demo" / "reads.fa"
# a called 300-long read, one whose frames all stop, one shorter than a codon, a long read and a short one
PICK = ("k141_34439", "k141_15480", "NODE_99_length_2_cov_1.000000", "k141_177", "NODE_8_length_120_cov_76.683512")


def _fasta(path: Path) -> list[tuple[str, str]]:
    records, header, seq = [], None, []
    for line in path.read_text().splitlines():
        if line.startswith(">"):
            if header is not None:
                records.append((header, "".join(seq)))
            header, seq = line[1:], []
        else:
            seq.append(line.strip())
    records.append((header, "".join(seq)))
    return records


@pytest.fixture(scope="module")
def reads(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("reads") / "reads.fa"
    chosen = [(h, s) for h, s in _fasta(DEMO) if h.split()[0] in PICK]
    path.write_text("".join(f">{h}\n{s}\n" for h, s in chosen))
    return path


def _predict(tiny_models: TinyModelPaths, reads: Path, outdir: Path, *extra: str):
    args = ["predict", str(reads), "--chunk-length", "300", "--dnabert", str(tiny_models.dnabert_s)]
    args += ["--esm", str(tiny_models.esm2), "--classifier", str(tiny_models.classifier)]
    args += ["--outdir", str(outdir), "--device", "cpu", *extra]
    return CliRunner().invoke(cli, args)


@pytest.fixture(scope="module")
def kept(tiny_models, reads, tmp_path_factory) -> Path:
    outdir = tmp_path_factory.mktemp("kept")
    result = _predict(tiny_models, reads, outdir, "--keep-intermediates")
    assert result.exit_code == 0, result.output
    return outdir


def _original_outputs(tiny_models: TinyModelPaths, work: Path) -> tuple[str, str]:
    """prediction_results.txt and the highest-score file as the original scripts compute them."""
    model = load_as_original(tiny_models.classifier)
    ids = [h for h, _ in _fasta(work / "translate" / "nucleotide.fa")]
    dnabert, esm = read_embeddings(work / "dnabert-s.safetensors"), read_embeddings(work / "esm2.safetensors")
    d_row, e_row = {i: r for r, i in enumerate(dnabert.ids)}, {i: r for r, i in enumerate(esm.ids)}
    merged = torch.from_numpy(
        np.stack([np.concatenate([dnabert.vectors[d_row[i]], esm.vectors[e_row[i]]]) for i in ids])
    )
    lines, best = ["Sequence_ID\tPrediction\tscore1\tscore2\n"], {}
    with torch.no_grad():
        for start in range(0, len(ids), 256):
            probabilities = F.softmax(model(merged[start : start + 256]), dim=1)
            _, predicted = torch.max(probabilities.data, 1)
            for seq_id, pred, probability in zip(ids[start:], predicted, probabilities.cpu().numpy(), strict=False):
                label = {1: "virus", 0: "others"}[pred.item()]
                lines.append(f"{seq_id}\t{label}\t{chr(9).join(map(str, probability))}\n")
                s1, s2 = best.get(seq_id[:-2], (-1.0, -1.0))
                best[seq_id[:-2]] = (max(s1, float(str(probability[0]))), max(s2, float(str(probability[1]))))
    highest = "Modified_ID\tIs_Virus\n" + "".join(f"{k}\t{best[k][1] >= best[k][0]}\n" for k in sorted(best))
    return "".join(lines), highest


def test_predict_writes_every_output_matching_the_original(tiny_models, kept):
    expected_predictions, expected_highest = _original_outputs(tiny_models, kept / "intermediates")
    assert (kept / "prediction_results.txt").read_text() == expected_predictions
    assert (kept / "prediction_results_highestscore.csv").read_text() == expected_highest
    assert expected_predictions.count("\n") > 5  # the chosen reads do give frames
    for name in ("reads.tsv", "summary.json", "report.html"):
        assert (kept / name).stat().st_size > 0


def test_every_input_read_is_reported_once(kept, reads):
    rows = [line.split("\t") for line in (kept / "reads.tsv").read_text().splitlines()[1:]]
    assert [r[0] for r in rows] == [h.split()[0] for h, _ in _fasta(reads)]
    status = {r[0]: r[-1] for r in rows}
    assert status["k141_15480"] == "no_valid_frame"
    assert status["NODE_99_length_2_cov_1.000000"] == "too_short"
    assert status["k141_34439"] == "called"
    summary = json.loads((kept / "summary.json").read_text())
    assert summary["counts"]["reads"] == len(PICK) and summary["settings"]["chunk_length"] == 300
    assert summary["provenance"][0]["classifier"]["path"].endswith("classifier.pth")


def test_without_keep_intermediates_nothing_else_is_left(tiny_models, reads, kept, tmp_path):
    result = _predict(tiny_models, reads, tmp_path, "--threshold", "1.0")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        ".virnucpro-report.json",  # the report's completion record (docs/reliability.md)
        "contigs.tsv",
        "multiqc",
        "prediction_results.txt",
        "prediction_results_highestscore.csv",
        "reads.tsv",
        "regions.bed",
        "report.html",
        "summary.json",
    ]
    assert (tmp_path / "prediction_results.txt").read_bytes() == (kept / "prediction_results.txt").read_bytes()
    # threshold 1.0 calls no read virus (the tiny classifier never reaches exactly 1.0 here)
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["counts"]["call"]["virus"] == 0 and summary["settings"]["threshold"] == 1.0


def test_reads_without_any_frame_skip_the_models(tiny_models, tmp_path):
    reads = tmp_path / "stops.fa"
    frameless = next(s for h, s in _fasta(DEMO) if h.startswith("k141_15480"))  # a stop in all six frames
    reads.write_text(f">a\nTA\n>b\n{frameless}\n")
    args = ["predict", str(reads), "--chunk-length", "300", "--dnabert", "absent-model", "--esm", "absent"]
    args += ["--classifier", str(tiny_models.classifier), "--outdir", str(tmp_path / "o"), "--device", "cpu"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert (tmp_path / "o" / "prediction_results.txt").read_text() == "Sequence_ID\tPrediction\tscore1\tscore2\n"
    rows = (tmp_path / "o" / "reads.tsv").read_text().splitlines()[1:]
    assert [(r.split("\t")[0], r.split("\t")[-1]) for r in rows] == [("a", "too_short"), ("b", "no_valid_frame")]
