"""Mixed-up inputs are refused with exit 2 naming the file: swapped embeddings, the wrong frame file, other frames.

The two models' widths add up to the classifier's input either way round (768 + 2560 for the published
models too), so a swap used to be scored without complaint and flipped every call.
"""

from __future__ import annotations

import pytest
from virnucpro.cli import main
from virnucpro.embed import embed_file
from virnucpro.io.embeddings import EmbeddingTable, read_embeddings, write_embeddings
from virnucpro.translate import translate_file

from tests.faults.helpers import write_reads


@pytest.fixture(scope="module")
def embedded(tiny_models, tmp_path_factory):
    """Frames of 20 reads and both models' embeddings of them, plus embeddings of other frames."""
    root = tmp_path_factory.mktemp("mixups")
    translate_file(write_reads(root / "reads.fa", 20), root / "frames", chunk_length=300)
    translate_file(write_reads(root / "other.fa", 20, seed=99), root / "other", chunk_length=300)
    common = {"device": "cpu", "token_budget": 512, "progress_bar": False}
    for frames in ("frames", "other"):
        embed_file(
            root / frames / "nucleotide.fa",
            root / frames / "d.st",
            model_kind="dnabert-s",
            model=str(tiny_models.dnabert_s),
            **common,
        )
        embed_file(
            root / frames / "protein.faa",
            root / frames / "e.st",
            model_kind="esm2",
            model=str(tiny_models.esm2),
            **common,
        )
    return root


def run(argv, capsys) -> tuple[int, str]:
    try:
        main([str(a) for a in argv])
        code = 0
    except SystemExit as stop:
        code = stop.code
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.startswith("virnucpro: error:")]
    return code, lines[0] if len(lines) == 1 else err


def classify(root, models, dnabert, esm, out="o"):
    return ["classify", "--dnabert", dnabert, "--esm", esm, "--classifier", models.classifier, "--output", root / out]


def test_swapped_embedding_files_are_refused(embedded, tiny_models, capsys):
    f = embedded / "frames"
    code, line = run(classify(embedded, tiny_models, f / "e.st", f / "d.st"), capsys)
    assert code == 2
    assert line == (
        f"virnucpro: error: {f / 'e.st'}: holds esm2 embeddings, but was given as the dnabert-s embeddings "
        "(were the DNABERT-S and ESM-2 files swapped?)"
    )
    assert not (embedded / "o").exists() or not (embedded / "o" / "scores.tsv").exists()


def test_the_same_model_twice_is_refused(embedded, tiny_models, capsys):
    f = embedded / "frames"
    code, line = run(classify(embedded, tiny_models, f / "d.st", f / "d.st"), capsys)
    assert code == 2 and line.startswith(
        f"virnucpro: error: {f / 'd.st'}: holds dnabert-s embeddings, but was given as the esm2"
    )


def test_a_file_that_does_not_say_its_model_is_refused(embedded, tiny_models, tmp_path, capsys):
    table = read_embeddings(embedded / "frames" / "e.st")
    write_embeddings(tmp_path / "bare.st", EmbeddingTable(table.ids, table.vectors))
    code, line = run(classify(embedded, tiny_models, embedded / "frames" / "d.st", tmp_path / "bare.st"), capsys)
    assert code == 2
    assert f"{tmp_path / 'bare.st'}: the header does not say which model made these embeddings" in line


def test_embeddings_of_other_frames_are_refused_naming_both_files(embedded, tiny_models, capsys):
    f, o = embedded / "frames", embedded / "other"
    code, line = run(classify(embedded, tiny_models, f / "d.st", o / "e.st"), capsys)
    assert code == 2
    assert "the embedding files do not cover the same frames" in line
    assert f"only in {f / 'd.st'}" in line and f"only in {o / 'e.st'}" in line


def test_the_same_frames_in_another_order_give_the_same_scores(embedded, tiny_models, tmp_path, capsys):
    f = embedded / "frames"
    table = read_embeddings(f / "e.st")
    order = list(range(len(table.ids)))[::-1]
    reversed_table = EmbeddingTable([table.ids[i] for i in order], table.vectors[order], table.metadata)
    write_embeddings(tmp_path / "e-reversed.st", reversed_table)
    assert run(classify(embedded, tiny_models, f / "d.st", f / "e.st", out="a"), capsys)[0] == 0
    assert run(classify(embedded, tiny_models, f / "d.st", tmp_path / "e-reversed.st", out="b"), capsys)[0] == 0
    assert (embedded / "a" / "scores.tsv").read_bytes() == (embedded / "b" / "scores.tsv").read_bytes()


@pytest.mark.parametrize(
    ("kind", "frame_file", "message"),
    [
        (
            "esm2",
            "nucleotide.fa",
            "every letter is one of A C G T U N: these are nucleotides, but proteins were expected",
        ),
        ("dnabert-s", "protein.faa", "the file looks like a protein FASTA (letters such as E F I L P Q"),
    ],
)
def test_embed_refuses_the_other_models_frame_file(embedded, tiny_models, tmp_path, capsys, kind, frame_file, message):
    model = tiny_models.esm2 if kind == "esm2" else tiny_models.dnabert_s
    frames = embedded / "frames" / frame_file
    argv = ["embed", "--model-kind", kind, "--model", model, "--input", frames, "--output", tmp_path / "x.st"]
    code, line = run([*argv, "--device", "cpu"], capsys)
    assert code == 2
    assert line.startswith(f"virnucpro: error: {frames}") and message in line
    assert not (tmp_path / "x.st").exists()


def test_proteins_written_only_in_nucleotide_codes_are_refused_too(tiny_models, tmp_path, capsys):
    """Amino acids such as K M R S V W Y D H B are IUPAC nucleotide codes: the letter check alone passes them."""
    (tmp_path / "p.fa").write_text(">a_chunk_1F1\nMKVRWSDHYKMRSVWDAGT\n>a_chunk_1F2\nKKRRSSVVWWYYDDHHMMAC\n")
    argv = ["embed", "--model-kind", "dnabert-s", "--model", tiny_models.dnabert_s, "--input", tmp_path / "p.fa"]
    code, line = run([*argv, "--output", tmp_path / "x.st", "--device", "cpu"], capsys)
    assert code == 2
    assert line == (
        f"virnucpro: error: {tmp_path / 'p.fa'}: 34 of the first 39 letters are not A C G T U N: these are "
        "proteins, but nucleotides were expected (DNABERT-S embeds the nucleotides, nucleotide.fa; ESM-2 the "
        "proteins, protein.faa)"
    )
