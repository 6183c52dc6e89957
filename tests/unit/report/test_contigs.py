"""contigs.tsv and regions.bed on constructed contigs with planted viral chunks (scores written directly).

The scorer is stubbed: scores.tsv is written by hand, so which chunks are viral is known exactly, and the
expected regions are worked out by hand from the chunk geometry of docs/contract.md, section 2. For a
2,000-bp contig and C = 300: n = 7 chunks, total overlap R = 100, 15 bases between neighbours, so chunks
start at 0, 285, 570, 855, 1140, 1425, 1710 and the last one, [1710, 2000), is 290 long (short).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from virnucpro.chunking import iter_chunks
from virnucpro.cli import cli
from virnucpro.errors import InputError
from virnucpro.report import write_report
from virnucpro.report.contigs import CONTIGS_COLUMNS, RegionSettings

HEADER = "read_id\tread_length\tchunk_id\tchunk_index\tstart\tend\tframes_kept"
CHUNKS_2000 = [(0, 300), (285, 585), (570, 870), (855, 1155), (1140, 1440), (1425, 1725), (1710, 2000)]
LOW, HIGH = 0.1, 0.9  # P(virus) of a non-viral and of a viral chunk (threshold 0.5)


def write_inputs(tmp_path: Path, contigs: dict[str, tuple[int, dict[int, list[float]]]]) -> tuple[Path, Path]:
    """chunks.tsv and scores.tsv for contigs given as (length, {chunk number: [P(virus) per frame]}).

    A chunk number missing from the dict has no kept frame. Geometry comes from the package's chunker,
    as the translate stage writes it (checked against hand-worked values in the first test).
    """
    tmp_path.mkdir(parents=True, exist_ok=True)
    chunk_rows, score_rows = [HEADER], ["Sequence_ID\tscore1\tscore2"]
    for contig, (length, frames) in contigs.items():
        for number, (start, end) in enumerate(iter_chunks(length, 300) if length > 300 else [(0, length)], 1):
            scores = frames.get(number, [])
            chunk_rows.append(f"{contig}\t{length}\t{contig}_chunk_{number}\t{number}\t{start}\t{end}\t{len(scores)}")
            for suffix, virus in zip(("F1", "F2", "F3", "R1", "R2", "R3"), scores, strict=False):
                score_rows.append(f"{contig}_chunk_{number}{suffix}\t{1 - virus:.4f}\t{virus:.4f}")
    (tmp_path / "chunks.tsv").write_text("\n".join(chunk_rows) + "\n")
    (tmp_path / "scores.tsv").write_text("\n".join(score_rows) + "\n")
    return tmp_path / "scores.tsv", tmp_path / "chunks.tsv"


def report(tmp_path: Path, contigs: dict, **options) -> tuple[list[dict[str, str]], list[list[str]], dict]:
    """(contigs.tsv rows as dicts, regions.bed rows, summary) of a report over `contigs`."""
    scores, chunks = write_inputs(tmp_path, contigs)
    summary = write_report([scores], [chunks], tmp_path / "out", chunk_length=300, **options)
    lines = (tmp_path / "out" / "contigs.tsv").read_text().splitlines()
    assert lines[0].split("\t") == list(CONTIGS_COLUMNS)
    rows = [dict(zip(CONTIGS_COLUMNS, line.split("\t"), strict=True)) for line in lines[1:]]
    bed = [line.split("\t") for line in (tmp_path / "out" / "regions.bed").read_text().splitlines()]
    return rows, bed, summary


def viral(*numbers: int, total: int = 7) -> dict[int, list[float]]:
    """Every chunk scored (one frame): HIGH for the given chunk numbers, LOW for the others."""
    return {n: [HIGH if n in numbers else LOW] for n in range(1, total + 1)}


def test_the_geometry_is_the_contracts():
    assert list(iter_chunks(2000, 300)) == CHUNKS_2000


@pytest.mark.parametrize(
    ("chunks", "expected"),
    [
        ((1, 2, 3, 4), [("c", 0, 1155)]),  # at the contig's start
        ((4, 5, 6, 7), [("c", 855, 2000)]),  # at its end, over the short last chunk
        ((2, 3, 4, 5), [("c", 285, 1440)]),  # inside
    ],
)
def test_a_planted_region_is_found_in_contig_coordinates(tmp_path, chunks, expected):
    rows, bed, _ = report(tmp_path, {"c": (2000, viral(*chunks))})
    assert [(b[0], int(b[1]), int(b[2])) for b in bed] == expected
    assert [b[3] for b in bed] == ["c_region_1"] and [b[5] for b in bed] == ["."]
    assert bed[0][4] == "900"  # mean P(virus) 0.9 of the region's chunks, scaled to BED's 0-1000
    assert rows[0]["regions"] == "1" and rows[0]["region_bases"] == str(expected[0][2] - expected[0][1])


def test_gaps_of_at_most_max_gap_chunks_are_merged(tmp_path):
    contigs = {"c": (2000, viral(1, 2, 4, 5, 7))}  # gaps of one chunk: 3 and 6
    _, merged, _ = report(tmp_path / "a", contigs)
    # chunks 1-7 in one region; mean over all 7 scored chunks: (5 * 0.9 + 2 * 0.1) / 7 = 0.6714...
    assert [b[:5] for b in merged] == [["c", "0", "2000", "c_region_1", "671"]]
    _, apart, _ = report(tmp_path / "b", contigs, regions=RegionSettings(max_gap=0, min_length=1))
    assert [(b[1], b[2], b[3]) for b in apart] == [
        ("0", "585", "c_region_1"),
        ("855", "1440", "c_region_2"),
        ("1710", "2000", "c_region_3"),
    ]


def test_a_gap_wider_than_max_gap_splits_and_short_regions_are_left_out(tmp_path):
    contigs = {"c": (2000, viral(1, 2, 5, 6, 7))}  # two non-viral chunks between the runs
    _, bed, _ = report(tmp_path / "a", contigs, regions=RegionSettings(max_gap=1, min_length=1))
    assert [(b[1], b[2]) for b in bed] == [("0", "585"), ("1140", "2000")]
    # the default minimum length (1,000 bases) leaves both out: 585 and 860 bases
    rows, bed, _ = report(tmp_path / "b", contigs)
    assert bed == [] and rows[0]["regions"] == "0"
    _, bed, _ = report(tmp_path / "c", contigs, regions=RegionSettings(max_gap=2, min_length=1000))
    assert [(b[1], b[2]) for b in bed] == [("0", "2000")]  # bridging two chunks joins them


def test_min_length_is_inclusive_and_a_single_chunk_can_be_a_region(tmp_path):
    _, bed, _ = report(tmp_path / "a", {"c": (2000, viral(4))}, regions=RegionSettings(min_length=300))
    assert [(b[1], b[2]) for b in bed] == [("855", "1155")]
    _, bed, _ = report(tmp_path / "b", {"c": (2000, viral(4))}, regions=RegionSettings(min_length=301))
    assert bed == []


def test_chunks_without_frames_are_gaps_and_the_score_averages_scored_chunks(tmp_path):
    frames = {1: [0.2, 0.95], 2: [0.8], 4: [0.7, 0.6, 0.1]}  # chunk 3 kept no frame; 5-7 neither
    rows, bed, _ = report(tmp_path, {"c": (2000, frames)})
    # chunks 1, 2 and 4 are viral (best 0.95, 0.8, 0.7); chunk 3 bridges them: [0, 1155)
    assert [b[:5] for b in bed] == [["c", "0", "1155", "c_region_1", str(round(1000 * (0.95 + 0.8 + 0.7) / 3))]]
    assert rows == [
        {
            "contig_id": "c",
            "length": "2000",
            "chunks": "7",
            "chunks_scored": "3",
            "viral_chunks": "3",
            "viral_fraction": "0.4286",  # 3 of 7 chunks: the 4 without a frame are not viral
            "mean_virus_score": f"{(0.95 + 0.8 + 0.7) / 3:.6f}",
            "max_virus_score": "0.950000",
            "regions": "1",
            "region_bases": "1155",
            "call": "viral_regions",
            "status": "called",
        }
    ]


def test_contig_calls_follow_the_documented_rule(tmp_path):
    contigs = {
        "half": (1000, {1: [HIGH], 2: [HIGH], 3: [LOW]}),  # 2 of 4 chunks viral (one without a frame): virus
        "prophage": (2000, viral(3, 4, 5, 6)),  # 4 of 7 viral: virus
        "island": (4000, {n: [HIGH if 5 <= n <= 8 else LOW] for n in range(1, 15)}),  # 4 of 14, one region
        "host": (4000, {5: [HIGH], 6: [HIGH], 7: [HIGH], 8: [HIGH]}),  # the same, the rest without frames
        "scattered": (2000, viral(2, 6)),  # 2 of 7, each run too short: others
        "frameless": (2000, {}),  # no chunk kept a frame
        "read": (300, {1: [HIGH]}),  # one chunk: a read, not a contig
    }
    rows, bed, summary = report(tmp_path, contigs)
    assert [(r["contig_id"], r["call"], r["status"]) for r in rows] == [
        ("half", "virus", "called"),
        ("prophage", "virus", "called"),
        ("island", "viral_regions", "called"),
        ("host", "viral_regions", "called"),
        ("scattered", "others", "called"),
        ("frameless", "NA", "no_valid_frame"),
    ]
    frameless = rows[-1]
    assert [frameless[k] for k in ("chunks", "chunks_scored", "viral_fraction", "mean_virus_score")] == [
        "7",
        "0",
        "NA",
        "NA",
    ]
    island = ("1140", "2295")
    assert [(b[0], b[1], b[2]) for b in bed] == [("prophage", "570", "1725"), ("island", *island), ("host", *island)]
    assert summary["contigs"] == {
        "contigs": 6,
        "status": {"called": 5, "no_valid_frame": 1},
        "call": {"virus": 2, "viral_regions": 2, "others": 1},
        "regions": 3,
        "region_bases": sum(int(b[2]) - int(b[1]) for b in bed),
    }


def test_only_reads_gives_empty_contig_files(tmp_path):
    rows, bed, summary = report(tmp_path, {"r1": (150, {1: [HIGH]}), "r2": (300, {})})
    assert rows == [] and bed == [] and summary["contigs"]["contigs"] == 0
    assert (tmp_path / "out" / "regions.bed").read_bytes() == b""


def test_region_options_reach_the_files_through_the_cli(tmp_path):
    scores, chunks = write_inputs(tmp_path, {"c": (2000, viral(1, 2, 4, 5))})
    base = ["report", "--scores", str(scores), "--chunks", str(chunks), "--chunk-length", "300"]
    outputs = {}
    for name, extra in {"default": [], "strict": ["--region-max-gap", "0", "--region-min-length", "500"]}.items():
        result = CliRunner().invoke(cli, [*base, "--outdir", str(tmp_path / name), *extra])
        assert result.exit_code == 0, result.output
        outputs[name] = (tmp_path / name / "regions.bed").read_text()
    assert outputs == {
        "default": "c\t0\t1440\tc_region_1\t740\t.\n",  # (4 * 0.9 + 0.1) / 5
        "strict": "c\t0\t585\tc_region_1\t900\t.\nc\t855\t1440\tc_region_2\t900\t.\n",
    }
    summary = json.loads((tmp_path / "strict" / "summary.json").read_text())
    assert (summary["settings"]["region_max_gap"], summary["settings"]["region_min_length"]) == (0, 500)


def test_a_chunk_length_that_does_not_match_the_tables_is_refused(tmp_path):
    scores, chunks = write_inputs(tmp_path, {"c": (2000, viral(1)), "r": (300, {})})
    with pytest.raises(InputError, match=r"--chunk-length 500 does not match the chunks tables, .* chunk length 300"):
        write_report([scores], [chunks], tmp_path / "out", chunk_length=500)
    scores, chunks = write_inputs(tmp_path, {"r": (300, {})})
    with pytest.raises(InputError, match=r"read r is 300 long but was not cut into chunks"):
        write_report([scores], [chunks], tmp_path / "out", chunk_length=200)
    assert not (tmp_path / "out").exists()
    summary = write_report([scores], [chunks], tmp_path / "out")  # not given and not shown by a short read
    assert summary["settings"]["chunk_length"] is None


def test_bad_region_settings_are_input_errors(tmp_path):
    scores, chunks = write_inputs(tmp_path, {"c": (2000, viral(1))})
    with pytest.raises(InputError, match="--region-max-gap -1"):
        write_report([scores], [chunks], tmp_path / "o", regions=RegionSettings(max_gap=-1))
    with pytest.raises(InputError, match="--region-min-length 0"):
        write_report([scores], [chunks], tmp_path / "o", regions=RegionSettings(min_length=0))


def test_a_setting_cannot_overwrite_what_the_report_records_itself(tmp_path):
    scores, chunks = write_inputs(tmp_path, {"c": (2000, viral(1))})
    with pytest.raises(InputError, match="setting threshold is recorded from the report's own options"):
        write_report([scores], [chunks], tmp_path / "o", settings={"threshold": "0.9", "ambiguous": "x"})


def run_report(tmp_path: Path, *extra: str) -> subprocess.CompletedProcess:
    """`virnucpro report` as a task runs it, over one constructed contig; its exit code and stderr."""
    scores, chunks = write_inputs(tmp_path, {"c": (2000, viral(1))})
    command = [sys.executable, "-m", "virnucpro", "report", "--scores", str(scores), "--chunks", str(chunks)]
    command += ["--outdir", str(tmp_path / "out"), *extra]
    return subprocess.run(command, capture_output=True, text=True, timeout=300)


def test_run_entries_come_from_files_and_options_once_each(tmp_path):
    """The pipeline stages the input as given in a file (no host path on a command line)."""
    (tmp_path / "input.json").write_text(json.dumps({"input": "/data/s1_R1.fq.gz,/data/s1_R2.fq.gz"}))
    result = run_report(tmp_path, "--run-info-file", str(tmp_path / "input.json"), "--run-info", "profile=test")
    assert result.returncode == 0, result.stderr
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["run"] == {"input": "/data/s1_R1.fq.gz,/data/s1_R2.fq.gz", "profile": "test"}
    result = run_report(tmp_path, "--run-info-file", str(tmp_path / "input.json"), "--run-info", "input=x.fa")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].endswith("--run-info: run entry 'input' is given twice")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not valid JSON: line 1"),
        ('["input", "x.fa"]', 'expected a JSON object of texts, such as {"input": "reads.fq.gz"}'),
        ('{"input": 3}', "expected a JSON object of texts"),
    ],
)
def test_a_bad_run_file_is_named(tmp_path, content, message):
    (tmp_path / "run.json").write_text(content)
    result = run_report(tmp_path, "--run-info-file", str(tmp_path / "run.json"))
    assert result.returncode == 2
    assert f"{tmp_path / 'run.json'}: {message}" in result.stderr
    assert not (tmp_path / "out").exists()
