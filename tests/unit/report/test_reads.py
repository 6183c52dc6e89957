"""reads.tsv: every input read exactly once, with its status, best frame and call; scores checked."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from virnucpro.errors import InputError
from virnucpro.io.chunks import read_chunks
from virnucpro.report.reads import READS_COLUMNS, call_reads, reads_text

HEADER = "read_id\tread_length\tchunk_id\tchunk_index\tstart\tend\tframes_kept"


def _chunks_file(tmp_path, rows, name="chunks.tsv"):
    """rows: (read_id, read_length, chunk_index, frames_kept); coordinates are not used by the report."""
    lines = [HEADER] + [f"{r}\t{n}\t{r}_chunk_{k}\t{k}\t0\t{n}\t{f}" for r, n, k, f in rows]
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n")
    return path


CHUNKS = [("r1", 600, 1, 2), ("r1", 600, 2, 1), ("r2", 2, 1, 0), ("r3", 90, 1, 0), ("r4", 300, 1, 1)]
SCORES = [
    ("r1_chunk_1F1", "0.4", "0.6"),
    ("r1_chunk_1R2", "0.1", "0.9"),
    ("r1_chunk_2F3", "0.1", "0.9"),
    ("r4_chunk_1R1", "0.50000006", "0.49999997"),
]


def test_every_read_once_with_status_best_frame_and_call(tmp_path):
    calls = call_reads(read_chunks(_chunks_file(tmp_path, CHUNKS)), SCORES, threshold=0.5)
    assert reads_text(calls).splitlines() == [
        "\t".join(READS_COLUMNS),
        # best 0.9 ties between two frames: the first scored one is reported
        "r1\t600\t2\t2\t3\t0.9\tr1_chunk_1\tR2\tvirus\tcalled",
        "r2\t2\t1\t0\t0\tNA\tNA\tNA\tNA\ttoo_short",
        "r3\t90\t1\t0\t0\tNA\tNA\tNA\tNA\tno_valid_frame",
        "r4\t300\t1\t1\t1\t0.49999997\tr4_chunk_1\tR1\tothers\tcalled",
    ]


def test_threshold_is_inclusive(tmp_path):
    chunks = read_chunks(_chunks_file(tmp_path, CHUNKS))
    assert [c.call for c in call_reads(chunks, SCORES, threshold=0.9)] == ["virus", "NA", "NA", "others"]
    assert [c.call for c in call_reads(chunks, SCORES, threshold=0.95)] == ["others", "NA", "NA", "others"]


@pytest.mark.parametrize(
    ("scores", "message"),
    [
        ([*SCORES, ("r9_chunk_1F1", "0.5", "0.5")], "scored frame r9_chunk_1F1 does not belong to any chunk"),
        ([*SCORES, ("r1_chunk_1X1", "0.5", "0.5")], "scored frame r1_chunk_1X1 does not belong to any chunk"),
        (SCORES[1:], "chunk r1_chunk_1: the chunks table says 2 frame\\(s\\) kept, the scores have 1"),
        ([*SCORES, ("r3_chunk_1F2", "0.5", "0.5")], "chunk r3_chunk_1: the chunks table says 0 frame"),
        ([*SCORES, SCORES[0]], "frames scored twice: r1_chunk_1F1"),
    ],
)
def test_scores_that_do_not_match_the_chunks_are_refused(tmp_path, scores, message):
    chunks = read_chunks(_chunks_file(tmp_path, CHUNKS))
    with pytest.raises(InputError, match=message):
        call_reads(chunks, scores, threshold=0.5)


def test_a_read_listed_in_two_places_is_refused(tmp_path):
    chunks = read_chunks(_chunks_file(tmp_path, [*CHUNKS, ("r1", 600, 3, 0)]))
    with pytest.raises(InputError, match="read r1 is listed twice"):
        call_reads(chunks, SCORES, threshold=0.5)


def test_bad_chunks_tables_name_file_and_line(tmp_path):
    path = tmp_path / "c.tsv"
    path.write_text("read_id\tchunk_id\n")
    with pytest.raises(InputError, match=r"c\.tsv: line 1: not a chunks table, missing column\(s\) read_length"):
        read_chunks(path)
    path.write_text(HEADER + "\nr1\tlong\tr1_chunk_1\t1\t0\t5\t0\n")
    with pytest.raises(InputError, match=r"c\.tsv: line 2: read_length and frames_kept must be integers"):
        read_chunks(path)


_read = st.tuples(st.integers(0, 1200), st.lists(st.integers(0, 6), min_size=1, max_size=4))


@settings(max_examples=60, deadline=None)
@given(st.lists(_read, max_size=12), st.floats(0, 1))
def test_every_read_appears_exactly_once_whatever_happened_to_it(tmp_path_factory, reads, threshold):
    tmp_path = tmp_path_factory.mktemp("reads")
    rows, scores = [], []
    for r, (length, frames) in enumerate(reads):
        for k, kept in enumerate(frames, start=1):
            kept = kept if length >= 3 else 0
            rows.append((f"read{r}", length, k, kept))
            suffixes = ["F1", "F2", "F3", "R1", "R2", "R3"][:kept]
            scores += [(f"read{r}_chunk_{k}{s}", "0.3", str((r * 7 + k) % 10 / 10)) for s in suffixes]
    calls = call_reads(read_chunks(_chunks_file(tmp_path, rows)), scores, threshold)
    assert [c.read_id for c in calls] == [f"read{r}" for r in range(len(reads))]
    for call, (length, frames) in zip(calls, reads, strict=True):
        if length < 3:
            assert call.status == "too_short"
        elif sum(frames) == 0:
            assert call.status == "no_valid_frame"
        else:
            assert call.status == "called" and call.call == (
                "virus" if float(call.best_virus_score) >= threshold else "others"
            )
            assert call.frames == sum(frames)
