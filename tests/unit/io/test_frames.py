"""The frame files: one line per sequence, read back as written; the translate outputs appear together or not."""

from __future__ import annotations

import pytest
from virnucpro.io.chunks import CHUNKS_HEADER
from virnucpro.io.fasta import FastaRecord
from virnucpro.io.frames import FramesWriter, encode_frames, read_frames, write_frames


def test_encoded_frames_read_back_as_the_same_records(tmp_path):
    records = [FastaRecord("r_chunk_1F1", "MA", 1), FastaRecord("r_chunk_1R3", "P", 3)]
    path = tmp_path / "protein.faa"
    assert write_frames(path, records) == 2
    assert path.read_bytes() == b">r_chunk_1F1\nMA\n>r_chunk_1R3\nP\n"
    assert path.read_bytes() == encode_frames([b"r_chunk_1F1", b"r_chunk_1R3"], [b"MA", b"P"])
    assert read_frames(path, "protein") == records


def test_a_zero_byte_frame_file_holds_no_frame(tmp_path):
    (tmp_path / "nucleotide.fa").write_bytes(b"")
    assert read_frames(tmp_path / "nucleotide.fa", "nucleotide") == []
    assert write_frames(tmp_path / "copy.fa", []) == 0
    assert (tmp_path / "copy.fa").read_bytes() == b""


def test_translate_outputs_appear_only_on_commit(tmp_path):
    with FramesWriter(tmp_path) as writer:
        writer.write(b">a_chunk_1F1\nATGG\n", b">a_chunk_1F1\nM\n", "a\t4\ta_chunk_1\t1\t0\t4\t1\n")
        assert not any((tmp_path / name).exists() for name in FramesWriter.NAMES)
        writer.commit()
    visible = sorted(path.name for path in tmp_path.iterdir() if not path.name.startswith("."))
    assert visible == ["chunks.tsv", "nucleotide.fa", "protein.faa"]
    assert [path.name for path in tmp_path.iterdir() if path.name.startswith(".")] == [".virnucpro-translate.json"]
    assert (tmp_path / "chunks.tsv").read_text() == f"{CHUNKS_HEADER}\na\t4\ta_chunk_1\t1\t0\t4\t1\n"


def test_translate_outputs_leave_nothing_when_the_input_fails_late(tmp_path):
    with pytest.raises(RuntimeError), FramesWriter(tmp_path) as writer:
        writer.write(b">a_chunk_1F1\nATGG\n", b">a_chunk_1F1\nM\n", "a\t4\ta_chunk_1\t1\t0\t4\t1\n")
        raise RuntimeError("a duplicate ID found at the end of the input")
    assert list(tmp_path.iterdir()) == []
