"""write_report / `virnucpro report`: all five files from shards of scores and chunks tables."""

from __future__ import annotations

import json

from click.testing import CliRunner
from virnucpro.cli import cli

HEADER = "read_id\tread_length\tchunk_id\tchunk_index\tstart\tend\tframes_kept"


def _shards(tmp_path):
    (tmp_path / "c1.tsv").write_text(
        f"{HEADER}\nz1\t400\tz1_chunk_1\t1\t0\t300\t2\nz1\t400\tz1_chunk_2\t2\t100\t400\t0\n"
    )
    (tmp_path / "c2.tsv").write_text(f"{HEADER}\na1\t1\ta1_chunk_1\t1\t0\t1\t0\nb1\t300\tb1_chunk_1\t1\t0\t300\t1\n")
    (tmp_path / "s1.tsv").write_text("Sequence_ID\tscore1\tscore2\nz1_chunk_1R1\t0.2\t0.8\nz1_chunk_1F1\t0.7\t0.3\n")
    (tmp_path / "s2.tsv").write_text("Sequence_ID\tscore1\tscore2\nb1_chunk_1F2\t0.99\t0.01\n")
    (tmp_path / "classify.json").write_text('{"classifier": {"sha256": "abc123"}}')


def test_report_cli_writes_all_files_in_shard_order(tmp_path):
    _shards(tmp_path)
    args = ["report", "--scores", str(tmp_path / "s1.tsv"), "--scores", str(tmp_path / "s2.tsv")]
    args += [
        "--chunks",
        str(tmp_path / "c1.tsv"),
        "--chunks",
        str(tmp_path / "c2.tsv"),
        "--outdir",
        str(tmp_path / "r"),
    ]
    args += ["--threshold", "0.75", "--sample", "S<1>", "--classify-info", str(tmp_path / "classify.json")]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    out = tmp_path / "r"
    assert (out / "prediction_results.txt").read_bytes() == (
        b"Sequence_ID\tPrediction\tscore1\tscore2\n"
        b"z1_chunk_1R1\tvirus\t0.2\t0.8\nz1_chunk_1F1\tothers\t0.7\t0.3\nb1_chunk_1F2\tothers\t0.99\t0.01\n"
    )
    assert (out / "prediction_results_highestscore.csv").read_bytes() == (
        b"Modified_ID\tIs_Virus\nb1_chunk_1\tFalse\nz1_chunk_1\tTrue\n"
    )
    reads = [line.split("\t") for line in (out / "reads.tsv").read_text().splitlines()[1:]]
    assert [(r[0], r[-2], r[-1]) for r in reads] == [
        ("z1", "virus", "called"),
        ("a1", "NA", "too_short"),
        ("b1", "others", "called"),
    ]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["counts"] == {
        "reads": 3,
        "chunks": 4,
        "chunks_with_frames": 2,
        "frames": 3,
        "status": {"called": 2, "no_valid_frame": 0, "too_short": 1},
        "call": {"virus": 1, "others": 1},
    }
    assert summary["settings"]["threshold"] == 0.75 and summary["sample"] == "S<1>"
    # best scores 0.8 and 0.01 fall in bins [0.80, 0.85) and [0.00, 0.05) of 20
    hist = summary["histograms"]["read_best_virus_score"]["counts"]
    assert len(hist) == 20 and hist[16] == 1 and hist[0] == 1 and sum(hist) == 2
    assert summary["provenance"] == [{"classifier": {"sha256": "abc123"}}]
    page = (out / "report.html").read_text()
    assert "S&lt;1&gt;" in page and "S<1>" not in page
    assert page.count('<rect class="bar"') == 40


def test_report_cli_mismatch_is_an_input_error(tmp_path):
    _shards(tmp_path)
    args = ["report", "--scores", str(tmp_path / "s1.tsv"), "--chunks", str(tmp_path / "c2.tsv")]
    result = CliRunner().invoke(cli, [*args, "--outdir", str(tmp_path / "r")])
    assert result.exit_code != 0
    assert "scored frame z1_chunk_1R1 does not belong to any chunk" in str(result.exception)
    assert not (tmp_path / "r").exists()
