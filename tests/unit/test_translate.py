"""The translate stage: docs/contract.md, sections 2 and 3, rule by rule; the files it writes; the CLI's errors.

Hand-worked expectations come first; then hypothesis compares the fast path with `reference_translate`,
a line-by-line restatement of the published procedure, on random reads with IUPAC codes and lower case.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reference_translate import reference_frames, reference_outputs, reference_overlaps
from virnucpro.cli import main
from virnucpro.errors import InputError
from virnucpro.io.chunks import CHUNKS_HEADER
from virnucpro.io.fasta import FastaRecord
from virnucpro.translate import Frame, translate_file, translate_records


def frames_of(sequence: str, chunk_length: int = 1000, ambiguous: str = "drop") -> list[tuple[str, str, str]]:
    """(frame ID suffix, nucleotide, protein) of the kept frames of a one-read input."""
    chunks = list(translate_records([FastaRecord("r", sequence, 1)], chunk_length, ambiguous=ambiguous))
    return [(frame.id.removeprefix("r_chunk_1"), frame.nucleotide, frame.protein) for frame in chunks[0].frames]


def run_translate(tmp_path: Path, text: str, chunk_length: int, *extra: str) -> dict[str, str]:
    """Write `text` as reads.fa, run `virnucpro translate` through the CLI entry point, return its outputs."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    reads = tmp_path / "reads.fa"
    reads.write_bytes(text.encode())
    out = tmp_path / "out"
    main(["translate", str(reads), "--chunk-length", str(chunk_length), "--outdir", str(out), *extra])
    return {name: (out / name).read_text() for name in ("nucleotide.fa", "protein.faa", "chunks.tsv")}


def cli_exit(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """Run the CLI, return (exit code, stderr)."""
    try:
        main(argv)
        code = 0
    except SystemExit as stop:
        code = int(stop.code or 0)
    return code, capsys.readouterr().err


# --- docs/contract.md, section 3: six frames, selection, the +1 base --------------------------------------


def test_all_six_frames_with_the_extra_base():
    # ATGGCC: F1 ATG GCC=MA, F2 TGG=W, F3 GGC=G; reverse complement GGCCAT: R1 GGC CAT=GH, R2 GCC=A,
    # R3 CCA=P. The nucleotide is S[f-1 : f+3p]: one base past the last codon when the chunk has it.
    assert frames_of("ATGGCC") == [
        ("F1", "ATGGCC", "MA"),
        ("F2", "TGGC", "W"),
        ("F3", "GGCC", "G"),
        ("R1", "GGCCAT", "GH"),
        ("R2", "GCCA", "A"),
        ("R3", "CCAT", "P"),
    ]


def test_extra_base_is_included_when_the_chunk_is_longer():
    # ATGGCCT: F1 = ATG GCC (MA) and the slice S[0:7] takes the 7th base T as well.
    assert frames_of("ATGGCCT")[0] == ("F1", "ATGGCCT", "MA")


def test_frame_with_stop_is_dropped_and_others_kept():
    # ATGTAA: F1 ATG TAA = M* (dropped); F2 TGT = C; F3 GTA = V; reverse TTACAT: LH, Y, T.
    assert frames_of("ATGTAA") == [
        ("F2", "TGTA", "C"),
        ("F3", "GTAA", "V"),
        ("R1", "TTACAT", "LH"),
        ("R2", "TACA", "Y"),
        ("R3", "ACAT", "T"),
    ]


def test_ambiguous_codons_are_dropped_and_the_slice_is_not_realigned():
    # F1: ATG NNN GCC -> M, (dropped), A = "MA", paired with S[0:7] = ATGNNNG (the published quirk).
    # F2 TGN NNG and F3 GNN NGC translate to nothing: empty proteins are not frames.
    # Reverse GGCNNNCAT: R1 GGC NNN CAT -> GH with GGCNNNC.
    assert frames_of("ATGNNNGCC") == [("F1", "ATGNNNG", "MA"), ("R1", "GGCNNNC", "GH")]


def test_ambiguous_x_mode_keeps_codons_as_x_and_the_slice_aligned():
    assert frames_of("ATGNNNGCC", ambiguous="x") == [
        ("F1", "ATGNNNGCC", "MXA"),
        ("F2", "TGNNNGC", "XX"),
        ("F3", "GNNNGCC", "XX"),
        ("R1", "GGCNNNCAT", "GXH"),
        ("R2", "GCNNNCA", "XX"),
        ("R3", "CNNNCAT", "XX"),
    ]


def test_reverse_complement_leaves_non_acgt_letters_in_place():
    # GCNAAA reversed and complemented (A,C,G,T only) is TTTNGC: R1 TTT NGC -> F, slice TTTN.
    assert frames_of("GCNAAA") == [("F1", "GCNA", "K"), ("R1", "TTTN", "F")]


def test_chunk_with_every_frame_stopped_yields_no_frame():
    # TTAATTAGTTAA: F1 TTA ATT AGT TAA, F2 TAA.., F3 AAT TAG..; reverse TTAACTAATTAA: TTA ACT AAT TAA,
    # TAA.., AAC TAA.. - a stop in all six frames.
    assert frames_of("TTAATTAGTTAA") == []


@pytest.mark.parametrize("sequence", ["A", "AC"])
def test_read_shorter_than_a_codon_is_one_chunk_without_frames(sequence):
    chunks = list(translate_records([FastaRecord("r", sequence, 1)], 300))
    assert [(c.chunk_id, c.start, c.end, c.frames) for c in chunks] == [("r_chunk_1", 0, len(sequence), ())]


def test_only_complete_codons_are_translated():
    # ATGGC: F1 has one complete codon (ATG); GC is left over. F3 GGC is complete (positions 2-4).
    frames = dict((suffix, protein) for suffix, _, protein in frames_of("ATGGC"))
    assert frames["F1"] == "M"
    assert frames["F3"] == "G"


# --- docs/contract.md, section 2, through the stage: chunk IDs, order, coordinates -----------------------


def test_frame_ids_follow_chunk_order_then_f1_to_r3():
    # 7 bases, C=6: n=2, R=5, lo=2, need=3 -> chunks [0,6) and [6-3, 7) = [3,7).
    chunks = list(translate_records([FastaRecord("read1", "ATGGCCA", 1)], 6))
    assert [(c.chunk_id, c.start, c.end) for c in chunks] == [("read1_chunk_1", 0, 6), ("read1_chunk_2", 3, 7)]
    assert [f.id for f in chunks[0].frames] == [f"read1_chunk_1{s}" for s in ("F1", "F2", "F3", "R1", "R2", "R3")]
    # chunk 2 = GCCA: F1 GCC=A (slice GCCA), F2 CCA=P; reverse TGGC: R1 TGG=W, R2 GGC=G.
    assert chunks[1].frames == (
        Frame("read1_chunk_2F1", "GCCA", "A"),
        Frame("read1_chunk_2F2", "CCA", "P"),
        Frame("read1_chunk_2R1", "TGGC", "W"),
        Frame("read1_chunk_2R2", "GGC", "G"),
    )


def test_stage_writes_one_line_per_sequence_and_every_chunk(tmp_path):
    text = ">read1 some description\nATGGCC\nA\n>short\nAC\n>stops\nTTAATTAGTTAA\n"
    out = run_translate(tmp_path, text, 6)
    assert out["nucleotide.fa"].splitlines()[:4] == [">read1_chunk_1F1", "ATGGCC", ">read1_chunk_1F2", "TGGC"]
    assert out["protein.faa"].splitlines()[:4] == [">read1_chunk_1F1", "MA", ">read1_chunk_1F2", "W"]
    # read1 (7 bp, C=6) -> [0,6) ATGGCC with 6 frames and [3,7) GCCA with 4 (see the test above).
    # stops (12 bp, C=6) -> n=2, R=0: TTAATT keeps F1 LI, F3 N and, reversed AATTAA, R2 I, R3 L (4);
    # AGTTAA keeps F2 V, F3 L and, reversed TTAACT, R1 LT, R3 N (4). The 2 bp read keeps none.
    assert out["nucleotide.fa"].count(">") == out["protein.faa"].count(">") == 6 + 4 + 4 + 4
    assert out["protein.faa"].endswith(">stops_chunk_2R1\nLT\n>stops_chunk_2R3\nN\n")
    assert out["chunks.tsv"].splitlines() == [
        CHUNKS_HEADER,
        "read1\t7\tread1_chunk_1\t1\t0\t6\t6",
        "read1\t7\tread1_chunk_2\t2\t3\t7\t4",
        "short\t2\tshort_chunk_1\t1\t0\t2\t0",
        "stops\t12\tstops_chunk_1\t1\t0\t6\t4",
        "stops\t12\tstops_chunk_2\t2\t6\t12\t4",
    ]


def test_stage_matches_the_published_output_on_the_demo_reads(tmp_path):
    demo = Path(__file__).resolve().parents[2] / "assets" / "demo" / "reads.fa"
    records = _parse_plain_fasta(demo.read_text())
    for chunk_length in (300, 500):
        out = tmp_path / str(chunk_length)
        translate_file(demo, out, chunk_length=chunk_length)
        nucleotide, protein = reference_outputs(records, chunk_length)
        assert (out / "nucleotide.fa").read_text() == nucleotide
        assert (out / "protein.faa").read_text() == protein


def test_batches_split_long_reads_without_changing_output(tmp_path, monkeypatch):
    import virnucpro.translate as translate_module

    reads = [("a", "ATGGCCAAGT" * 97), ("b", "GGCATTTACCGA" * 40), ("c", "AC")]
    path = tmp_path / "reads.fa"
    path.write_text("".join(f">{name}\n{seq}\n" for name, seq in reads))
    monkeypatch.setattr(translate_module, "BATCH_BASES", 7)  # forces many batches, a read's chunks in several
    translate_file(path, tmp_path / "out", chunk_length=50)
    nucleotide, protein = reference_outputs(reads, 50)
    assert (tmp_path / "out" / "nucleotide.fa").read_text() == nucleotide
    assert (tmp_path / "out" / "protein.faa").read_text() == protein


def test_summary_counts_reads_chunks_frames_and_warnings(tmp_path, caplog):
    path = tmp_path / "reads.fa"
    path.write_text(">a\nATGGCCA\n>b\nAC\n>c\nACGNNRTTT\n>d\nTTAATTAGTTAA\n")
    summary = translate_file(path, tmp_path / "out", chunk_length=6)
    # a: 2 chunks (6 + 4 frames); b: 1 chunk, 0 frames; c: 9 bp -> [0,6) and [3,9); d: 2 chunks.
    assert (summary.reads, summary.chunks, summary.short_reads) == (4, 7, 1)
    assert (summary.reads_with_ambiguous, summary.ambiguous_bases) == (1, 3)
    rows = (tmp_path / "out" / "chunks.tsv").read_text().splitlines()[1:]
    assert summary.frames == sum(int(row.split("\t")[6]) for row in rows)
    assert summary.chunks_without_frame == sum(row.endswith("\t0") for row in rows)
    assert "1 reads are shorter than one codon" in caplog.text
    assert "1 reads contain 3 non-ACGT bases" in caplog.text


# --- property tests against the reference -----------------------------------------------------------------

READ = st.text(alphabet="ACGTacgtNnRYSWKMBDHVU", min_size=1, max_size=700)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    sequences=st.lists(READ, min_size=1, max_size=6),
    chunk_length=st.sampled_from([1, 2, 3, 5, 7, 50, 100, 300, 500]),
    ambiguous=st.sampled_from(["drop", "x"]),
)
def test_fast_path_equals_the_published_procedure(tmp_path, sequences, chunk_length, ambiguous):
    records = [(f"r{i}", seq) for i, seq in enumerate(sequences)]
    path = tmp_path / "reads.fa"
    path.write_text("".join(f">{name}\n{seq}\n" for name, seq in records))
    out = tmp_path / "out"
    summary = translate_file(path, out, chunk_length=chunk_length, ambiguous=ambiguous)
    nucleotide, protein = reference_outputs(records, chunk_length, ambiguous=ambiguous)
    assert (out / "nucleotide.fa").read_text() == nucleotide
    assert (out / "protein.faa").read_text() == protein
    # chunks.tsv: every read, its chunks in order, frame counts adding up to the frames written
    rows = [line.split("\t") for line in (out / "chunks.tsv").read_text().splitlines()[1:]]
    assert [row[0] for row in rows if row[3] == "1"] == [name for name, _ in records]
    assert sum(int(row[6]) for row in rows) == protein.count(">") == summary.frames
    assert all(row[2] == f"{row[0]}_chunk_{row[3]}" for row in rows)


@settings(max_examples=60, deadline=None)
@given(
    sequences=st.lists(st.text(alphabet="ACGTN", min_size=1, max_size=900), min_size=1, max_size=8),
    chunk_length=st.integers(min_value=1, max_value=400),
)
def test_every_read_is_accounted_for_and_no_protein_has_a_stop(sequences, chunk_length):
    records = [FastaRecord(f"r{i}", seq, 1) for i, seq in enumerate(sequences)]
    chunks = list(translate_records(records, chunk_length))
    assert [c.read_id for c in chunks if c.chunk_index == 1] == [r.id for r in records]
    for record in records:
        mine = [c for c in chunks if c.read_id == record.id]
        assert mine[0].start == 0 and mine[-1].end == len(record.sequence)
        assert all(c.end - c.start <= chunk_length for c in mine)
    for frame in (f for c in chunks for f in c.frames):
        assert frame.protein and "*" not in frame.protein


# --- input handling through the CLI ------------------------------------------------------------------------


def test_crlf_lowercase_and_gzip_give_the_same_output(tmp_path):
    plain = run_translate(tmp_path / "plain", ">r1\nATGGCCAAGTTT\n>r2\nGGGCCCAAATTT\n", 6)
    crlf = run_translate(tmp_path / "crlf", ">r1 x\r\natggcc\r\naagttt\r\n>r2\r\nGGGCCCAAATTT\r\n", 6)
    assert crlf == plain
    gz = tmp_path / "reads.fa.gz"
    gz.write_bytes(gzip.compress(b">r1\nATGGCCAAGTTT\n>r2\nGGGCCCAAATTT\n"))
    main(["translate", str(gz), "--chunk-length", "6", "--outdir", str(tmp_path / "gz")])
    assert (tmp_path / "gz" / "protein.faa").read_text() == plain["protein.faa"]


def test_fastq_and_paired_fastq_are_translated_like_fasta(tmp_path):
    fasta = run_translate(tmp_path / "fa", ">r1\nATGGCCAAGTTT\n>r2\nGGGCCCAAATTT\n", 6)
    reads = tmp_path / "reads.data"
    reads.write_bytes(gzip.compress(b"@r1 1:N\natggccAAGTTT\n+\nIIIIIIIIIIII\n@r2\nGGGCCCAAATTT\n+r2\n############\n"))
    main(["translate", str(reads), "--chunk-length", "6", "--outdir", str(tmp_path / "fq")])
    assert {name: (tmp_path / "fq" / name).read_text() for name in fasta} == fasta
    mate = tmp_path / "mate.fq"
    mate.write_bytes(b"@r1 2:N\nCCC\n+\nIII\n@r2\nAAAAAA\n+\nIIIIII\n")
    main(["translate", str(reads), str(mate), "--chunk-length", "6", "--outdir", str(tmp_path / "pe")])
    chunks = (tmp_path / "pe" / "chunks.tsv").read_text().splitlines()[1:]
    assert [row.split("\t")[:3] for row in chunks] == [
        ["r1/1", "12", "r1/1_chunk_1"],
        ["r1/1", "12", "r1/1_chunk_2"],
        ["r1/2", "3", "r1/2_chunk_1"],
        ["r2/1", "12", "r2/1_chunk_1"],
        ["r2/1", "12", "r2/1_chunk_2"],
        ["r2/2", "6", "r2/2_chunk_1"],
    ]


def test_ambiguous_option_reaches_the_output(tmp_path):
    drop = run_translate(tmp_path / "drop", ">r\nATGNNNGCC\n", 300)
    x = run_translate(tmp_path / "x", ">r\nATGNNNGCC\n", 300, "--ambiguous", "x")
    assert drop["protein.faa"] == ">r_chunk_1F1\nMA\n>r_chunk_1R1\nGH\n"
    assert x["protein.faa"].splitlines()[:2] == [">r_chunk_1F1", "MXA"]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "the file is empty"),
        (b"\n\n", "the file is empty"),
        (b"ACGT\n", "line 1: expected a FASTA header"),
        (b">a\n>b\nACGT\n", "line 1: record 'a' has no sequence"),
        (b">a\nACGT\n>b\n", "line 3: record 'b' has no sequence"),
        (b">a\nACGT\n>\nACGT\n", "line 3: the header '>' has no record ID"),
        (b">a\nACGT\nAC-T\n", "line 3, column 3: record 'a' contains '-'"),
        (b">p1\nMKVLEPQWT\n", "looks like a protein FASTA"),
        (b">a\nACGT\n>b\nGG\n>a\nTT\n", "line 5: duplicate record ID 'a' (first seen at line 1)"),
        (b"@a\nACGT\n+\nIII\n", "line 4: record 'a' has 4 bases but 3 quality values"),
        (b"@a\nACGT\n+\nIIII\n@b\nAC", "line 5: record 'b' is truncated"),
        (b"@a\nACGT\n+\nIIII\n@b\nANGTX\n+\nIIIII\n", "line 6, column 5: record 'b' contains 'X'"),
        (b"\xef\xbb\xbf>a\nACGT\n", "starts with a UTF-8 byte-order mark"),
    ],
)
def test_bad_input_exits_2_naming_file_line_and_record(tmp_path, capsys, content, expected):
    path = tmp_path / "bad.fa"
    path.write_bytes(content)
    code, err = cli_exit(["translate", str(path), "--chunk-length", "300", "--outdir", str(tmp_path / "o")], capsys)
    assert code == 2
    assert err.startswith(f"virnucpro: error: {path}")
    assert expected in err
    assert not (tmp_path / "o" / "protein.faa").exists()


def test_missing_file_and_truncated_gzip_exit_2(tmp_path, capsys):
    missing = ["translate", str(tmp_path / "nope.fa"), "--chunk-length", "3", "--outdir", str(tmp_path / "o")]
    code, err = cli_exit(missing, capsys)
    assert (code, "nope.fa: file not found" in err) == (2, True)
    assert not (tmp_path / "o").exists()  # nothing is created for an input that cannot be read
    whole = gzip.compress(b"".join(b">r%d\n%s\n" % (i, b"ACGT" * 50) for i in range(200)))
    truncated = tmp_path / "cut.fa.gz"
    truncated.write_bytes(whole[: len(whole) // 2])
    code, err = cli_exit(["translate", str(truncated), "--chunk-length", "3", "--outdir", str(tmp_path)], capsys)
    assert code == 2
    assert "truncated or corrupt gzip data" in err


def test_bad_options_exit_2(tmp_path, capsys):
    path = tmp_path / "r.fa"
    path.write_text(">a\nACGT\n")
    for extra in (["--chunk-length", "0"], ["--chunk-length", "300", "--ambiguous", "n"]):
        code, _ = cli_exit(["translate", str(path), "--outdir", str(tmp_path / "o"), *extra], capsys)
        assert code == 2
    with pytest.raises(InputError, match="--chunk-length must be a positive integer"):
        translate_file(path, tmp_path / "o", chunk_length=0)


def _parse_plain_fasta(text: str) -> list[tuple[str, str]]:
    """(first header word, joined sequence) pairs: the reference's view of a simple FASTA file."""
    records: list[tuple[str, str]] = []
    for block in text.split(">")[1:]:
        header, _, body = block.partition("\n")
        records.append((header.split()[0], body.replace("\n", "")))
    return records


# --- against Biopython, the library the published tool read and wrote FASTA with ---------------------------


def biopython_published_outputs(path: Path, chunk_length: int, tmp_path: Path) -> tuple[str, str]:
    """Run the published flow with Biopython doing the I/O: SeqIO.parse, SeqRecord slices written as a
    chunked FASTA with SeqIO.write, read back, upper-cased, then framed by the reference."""
    from Bio import SeqIO

    chunked = tmp_path / "chunked.fa"
    with open(chunked, "w") as handle:
        for record in SeqIO.parse(path, "fasta"):
            move, count = 0, -(-len(record.seq) // chunk_length)
            starts = range(0, len(record.seq), chunk_length)
            overlaps = reference_overlaps(len(record.seq), chunk_length)
            for number, (start, overlap) in enumerate(zip(starts, overlaps, strict=False), start=1):
                chunk = record[start - move : start - move + chunk_length]
                chunk.id, chunk.description = f"{record.id}_chunk_{number}", ""
                SeqIO.write(chunk, handle, "fasta")
                move += overlap
            assert number == count
    nucleotide, protein = [], []
    for record in SeqIO.parse(chunked, "fasta"):
        for suffix, bases, aminos in reference_frames(str(record.seq).upper()):
            nucleotide.append(f">{record.id}{suffix}\n{bases}\n")
            protein.append(f">{record.id}{suffix}\n{aminos}\n")
    return "".join(nucleotide), "".join(protein)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    sequences=st.lists(st.text(alphabet="ACGTacgtNnRyKm", min_size=1, max_size=400), min_size=1, max_size=5),
    width=st.integers(min_value=1, max_value=80),
    line_end=st.sampled_from(["\n", "\r\n"]),
    chunk_length=st.sampled_from([3, 10, 100, 300]),
)
def test_same_output_as_the_biopython_flow(tmp_path, sequences, width, line_end, chunk_length):
    text = ""
    for number, sequence in enumerate(sequences):
        text += f">read{number} sample=x len={len(sequence)}{line_end}"
        text += "".join(sequence[i : i + width] + line_end for i in range(0, len(sequence), width))
    path = tmp_path / "reads.fa"
    path.write_bytes(text.encode())
    translate_file(path, tmp_path / "out", chunk_length=chunk_length)
    nucleotide, protein = biopython_published_outputs(path, chunk_length, tmp_path)
    assert (tmp_path / "out" / "nucleotide.fa").read_text() == nucleotide
    assert (tmp_path / "out" / "protein.faa").read_text() == protein
