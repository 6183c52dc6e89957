"""A stage's outputs appear together or not at all: SIGKILL between two renames, then read, then rerun.

Each trial replaces an older, complete set of outputs, kills the stage at a chosen point of its commit
(`VIRNUCPRO_PAUSE_AT`), and checks three things: what the directory holds and what its record says; that
every reader in the package refuses a file of the half-replaced set instead of mixing old and new; and
that rerunning the stage removes the leftovers and leaves exactly what a clean run leaves.
"""

from __future__ import annotations

import json
import socket

import pytest
from virnucpro.errors import InputError
from virnucpro.io.chunks import read_chunks
from virnucpro.io.frames import read_frames
from virnucpro.io.outputs import check_complete
from virnucpro.io.scores import read_scores

from tests.faults.helpers import Paused, hidden, virnucpro, visible, write_reads

TRANSLATED = ["chunks.tsv", "nucleotide.fa", "protein.faa"]


def record(directory, label):
    return json.loads((directory / f".virnucpro-{label}.json").read_text())


def leftovers(directory) -> list[str]:
    return [name for name in hidden(directory) if name.endswith(".tmp")]


def translate(reads, outdir, chunk_length, point=None, log=None):
    args = ("translate", reads, "--chunk-length", chunk_length, "--outdir", outdir)
    return Paused(point, *args, log=log) if point else virnucpro(*args)


@pytest.fixture
def translated(tmp_path):
    """Reads, a clean translate at chunk length 300 (the reference), and an outdir holding an older set."""
    reads = write_reads(tmp_path / "reads.fa", 60)
    assert translate(reads, tmp_path / "clean", 300).returncode == 0
    assert translate(reads, tmp_path / "out", 200).returncode == 0  # the older outputs, to be replaced
    return reads, tmp_path / "clean", tmp_path / "out"


def test_translate_killed_between_renames_is_refused_by_readers_and_redone(translated, tmp_path):
    reads, clean, out = translated
    old = {name: (out / name).read_bytes() for name in TRANSLATED}
    translate(reads, out, 300, "translate:renamed-1", tmp_path / "kill.log").kill()

    # the first file is new, the others old: the record says the set is being replaced
    assert (out / "nucleotide.fa").read_bytes() == (clean / "nucleotide.fa").read_bytes()
    assert (out / "protein.faa").read_bytes() == old["protein.faa"]
    assert (out / "chunks.tsv").read_bytes() == old["chunks.tsv"]
    assert record(out, "translate")["state"] == "replacing"
    assert len(leftovers(out)) == 2  # protein.faa and chunks.tsv, written whole, not yet renamed

    for read in (lambda: read_frames(out / "protein.faa", "protein"), lambda: read_chunks(out / "chunks.tsv")):
        with pytest.raises(InputError, match=r"stopped before all its outputs were in place .* run translate again"):
            read()
    (tmp_path / "scores.tsv").write_text("Sequence_ID\tscore1\tscore2\n")
    args = ("--scores", tmp_path / "scores.tsv", "--chunks", out / "chunks.tsv", "--outdir", tmp_path / "r")
    report = virnucpro("report", *args)
    assert report.returncode == 2 and "chunks.tsv: the translate run that writes it stopped" in report.error_line

    rerun = translate(reads, out, 300)
    assert rerun.returncode == 0, rerun.log
    assert "removed 2 temporary file(s) left by an interrupted translate run" in rerun.log
    assert "the previous translate run stopped while replacing its outputs" in rerun.log
    assert all((out / name).read_bytes() == (clean / name).read_bytes() for name in TRANSLATED)
    assert hidden(out) == [".virnucpro-translate.json"] and record(out, "translate")["state"] == "complete"


def test_translate_killed_before_any_rename_leaves_the_old_set_usable(translated, tmp_path):
    reads, _, out = translated
    old = {name: (out / name).read_bytes() for name in TRANSLATED}
    translate(reads, out, 300, "translate:written", tmp_path / "kill.log").kill()
    assert {name: (out / name).read_bytes() for name in TRANSLATED} == old
    assert record(out, "translate")["state"] == "complete"
    assert len(leftovers(out)) == 3  # full-size temporary files of the killed run
    assert len(read_frames(out / "protein.faa", "protein")) == old["protein.faa"].count(b">")

    rerun = translate(reads, out, 300)
    assert rerun.returncode == 0 and "removed 3 temporary file(s)" in rerun.log
    assert leftovers(out) == [] and visible(out) == TRANSLATED


def test_a_second_run_into_the_same_directory_stops_at_once_naming_the_first(translated, tmp_path):
    reads, clean, out = translated
    first = translate(reads, out, 300, "translate:written", tmp_path / "first.log")  # holds the lock, paused
    second = translate(reads, out, 500)
    assert second.returncode == 1
    holder = f"process {first.process.pid} on {socket.gethostname()}"
    assert second.error_line == (
        f"virnucpro: error: {out}: another virnucpro run ({holder}) is writing the translate outputs here; "
        "wait for it to finish or write elsewhere"
    )
    assert first.resume().returncode == 0  # the first run is undisturbed and writes its set
    assert all((out / name).read_bytes() == (clean / name).read_bytes() for name in TRANSLATED)
    assert hidden(out) == [".virnucpro-translate.json"]


def test_a_file_changed_after_its_stage_wrote_it_is_refused(translated):
    _, _, out = translated
    with open(out / "chunks.tsv", "ab") as handle:
        handle.write(b"extra\t1\textra_chunk_1\t1\t0\t1\t0\n")
    with pytest.raises(InputError, match=r"chunks.tsv: \d+ bytes, but translate .* recorded \d+"):
        read_chunks(out / "chunks.tsv")
    text = (out / "protein.faa").read_bytes()
    (out / "protein.faa").write_bytes(text.replace(b"M", b"A", 1))  # same size, other content
    with pytest.raises(InputError, match=r"protein.faa: its content differs from what translate .* recorded"):
        read_frames(out / "protein.faa", "protein")


def test_files_that_no_record_lists_are_read_as_they_are(tmp_path):
    (tmp_path / "protein.faa").write_text(">a_chunk_1F1\nMKV\n")
    check_complete(tmp_path / "protein.faa")
    assert [r.id for r in read_frames(tmp_path / "protein.faa", "protein")] == ["a_chunk_1F1"]


def write_scores_and_chunks(directory, reads: int, contigs: int = 0):
    """A chunks table and scores of `reads` one-chunk reads, then `contigs` reads of ten chunks, with one F1
    frame per chunk, as files without a record."""
    chunks = ["read_id\tread_length\tchunk_id\tchunk_index\tstart\tend\tframes_kept"]
    scores = ["Sequence_ID\tscore1\tscore2"]
    for i in range(reads + contigs):
        pieces = 1 if i < reads else 10
        for j in range(pieces):
            chunk = f"r{i}_chunk_{j + 1}"
            chunks.append(f"r{i}\t{300 * pieces}\t{chunk}\t{j + 1}\t{300 * j}\t{300 * (j + 1)}\t1")
            virus = ((i + j) % 10) / 10 + 0.05
            scores.append(f"{chunk}F1\t{1 - virus:.2f}\t{virus:.2f}")
    (directory / "chunks.tsv").write_text("\n".join(chunks) + "\n")
    (directory / "scores.tsv").write_text("\n".join(scores) + "\n")
    return directory / "scores.tsv", directory / "chunks.tsv"


MULTIQC = [f"multiqc/virnucpro_{part}_mqc.json" for part in ("contigs", "general_stats", "reads", "scores")]
REPORT = [
    "contigs.tsv",
    "prediction_results.txt",
    "prediction_results_highestscore.csv",
    "reads.tsv",
    "regions.bed",
    "report.html",
    "summary.json",
    *MULTIQC,
]


def report_files(directory) -> list[str]:
    return sorted(str(path.relative_to(directory)) for path in directory.rglob("*") if path.is_file())


def test_report_killed_between_renames_is_flagged_and_redone(tmp_path):
    scores, chunks = write_scores_and_chunks(tmp_path, 200, contigs=3)
    args = ("report", "--scores", scores, "--chunks", chunks, "--sample", "s")
    assert virnucpro(*args, "--outdir", tmp_path / "clean", "--threshold", "0.3").returncode == 0
    out = tmp_path / "out"
    assert virnucpro(*args, "--outdir", out, "--threshold", "0.7").returncode == 0
    assert report_files(out) == sorted([*REPORT, ".virnucpro-report.json"])
    old = {name: (out / name).read_bytes() for name in REPORT}
    clean = {name: (tmp_path / "clean" / name).read_bytes() for name in REPORT}
    changed = {"contigs.tsv", "reads.tsv", "regions.bed", "summary.json", "multiqc/virnucpro_contigs_mqc.json"}
    assert all(old[name] != clean[name] for name in changed)
    # the third rename puts the new reads.tsv in place; contigs, regions, summary, page and MultiQC files
    # (renamed later, in the order the report lists them) are still the old ones
    Paused("report:renamed-3", *args, "--outdir", out, "--threshold", "0.3", log=tmp_path / "kill.log").kill()
    assert (out / "reads.tsv").read_bytes() == clean["reads.tsv"]
    assert all((out / name).read_bytes() == old[name] for name in changed - {"reads.tsv"})
    assert record(out, "report")["state"] == "replacing"
    assert sorted(record(out, "report")["files"]) == sorted(REPORT)
    for name in changed:
        with pytest.raises(InputError, match="stopped before all its outputs were in place"):
            check_complete(out / name)

    rerun = virnucpro(*args, "--outdir", out, "--threshold", "0.3")
    assert rerun.returncode == 0, rerun.log
    assert {name: (out / name).read_bytes() for name in REPORT} == clean
    assert report_files(out) == sorted([*REPORT, ".virnucpro-report.json"])  # no temporary file left, anywhere
    assert record(out, "report")["state"] == "complete"
    for name in REPORT:
        check_complete(out / name)


def test_classify_outputs_are_one_set_too(tmp_path):
    scores, _ = write_scores_and_chunks(tmp_path, 3)
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "scores.tsv").write_bytes(scores.read_bytes())
    (tmp_path / "out" / ".virnucpro-classify.json").write_text(
        json.dumps({"stage": "classify", "state": "replacing", "files": {"scores.tsv": {}, "classify.json": {}}})
    )
    with pytest.raises(InputError, match=r"scores.tsv: the classify run that writes it stopped .* run classify again"):
        read_scores(tmp_path / "out" / "scores.tsv")
