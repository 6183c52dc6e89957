"""Checkpoint pieces: atomic writes, fingerprint directory, lock, batch plan, and rejection of bad pieces."""

from __future__ import annotations

import json
import os
import re
import socket

import numpy as np
import pytest
from virnucpro.errors import VirnucproError
from virnucpro.io.embeddings import EmbeddingTable, read_embeddings, write_embeddings
from virnucpro.runner.checkpoints import CheckpointStore, fingerprint_of, payload_digest

FINGERPRINT = fingerprint_of({"input": "abc", "model": "m1"})
POSITIONS = {f"id{i}": i for i in range(10)}


def vectors(rows: int, start: float = 0.0) -> np.ndarray:
    return (np.arange(rows * 4, dtype=np.float32).reshape(rows, 4) + start) / 7


def store(tmp_path, fingerprint=FINGERPRINT) -> CheckpointStore:
    return CheckpointStore(tmp_path, fingerprint, {"input": "abc"})


def saved_pieces(tmp_path) -> CheckpointStore:
    """A store holding pieces 1 (id0-id2) and 2 (id3-id4), closed and reopened."""
    first = store(tmp_path)
    first.save(["id0", "id1", "id2"], vectors(3))
    first.save(["id3", "id4"], vectors(2, 100))
    first.close()
    return store(tmp_path)


def test_fingerprint_is_order_independent_and_sensitive_to_every_part():
    assert fingerprint_of({"a": "1", "b": "2"}) == fingerprint_of({"b": "2", "a": "1"})
    assert fingerprint_of({"a": "1", "b": "2"}) != fingerprint_of({"a": "1", "b": "3"})


def test_pieces_round_trip_with_their_positions(tmp_path):
    reopened = saved_pieces(tmp_path)
    resumed = reopened.load(POSITIONS, 4)
    reopened.close()
    assert (resumed.pieces, resumed.rejected, resumed.indices) == (2, [], [0, 1, 2, 3, 4])
    np.testing.assert_array_equal(np.concatenate(resumed.vectors), np.concatenate([vectors(3), vectors(2, 100)]))
    assert reopened.directory == tmp_path / FINGERPRINT[:32]
    assert json.loads((reopened.directory / "fingerprint.json").read_text()) == {
        "fingerprint": FINGERPRINT,
        "input": "abc",
    }


def test_piece_header_names_fingerprint_number_and_digest(tmp_path):
    saved_pieces(tmp_path).close()
    table = read_embeddings(tmp_path / FINGERPRINT[:32] / "piece-000002.safetensors")
    assert table.ids == ["id3", "id4"]
    assert table.metadata["fingerprint"] == FINGERPRINT
    assert table.metadata["piece"] == "2"
    assert table.metadata["payload_sha256"] == payload_digest(["id3", "id4"], vectors(2, 100))


def truncate(path):
    path.write_bytes(path.read_bytes()[:-9])


def flip_a_vector_bit(path):
    data = bytearray(path.read_bytes())
    header = 8 + int.from_bytes(data[:8], "little")
    data[header + 5] ^= 0x10  # a bit inside the float32 payload, after the JSON header
    path.write_bytes(bytes(data))


def flip_an_id_byte(path):
    data = bytearray(path.read_bytes())
    data[-1] ^= 0x80  # the IDs are stored last; this makes their UTF-8 invalid
    path.write_bytes(bytes(data))


def flip_a_header_bit(path):
    data = bytearray(path.read_bytes())
    data[20] ^= 0x01
    path.write_bytes(bytes(data))


def foreign(path):
    """Replace the piece by one with the same IDs written for another fingerprint (another model)."""
    ids = read_embeddings(path).ids
    other = {"fingerprint": "0" * 64, "piece": "2", "payload_sha256": payload_digest(ids, vectors(2))}
    write_embeddings(path, EmbeddingTable(ids=ids, vectors=vectors(2), metadata=other))


def unknown_id(path):
    table = read_embeddings(path)
    ids = ["id3", "stranger"]
    meta = {**table.metadata, "payload_sha256": payload_digest(ids, table.vectors)}
    write_embeddings(path, EmbeddingTable(ids=ids, vectors=table.vectors, metadata=meta))


def not_finite(path):
    table = read_embeddings(path)
    bad = table.vectors.copy()
    bad[1, 2] = np.nan
    meta = {**table.metadata, "payload_sha256": payload_digest(table.ids, bad)}
    write_embeddings(path, EmbeddingTable(ids=table.ids, vectors=bad, metadata=meta))


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        (truncate, "not a readable virnucpro embedding file"),
        (flip_a_vector_bit, "payload digest does not match"),
        (flip_an_id_byte, "not valid UTF-8|payload digest does not match"),
        (flip_a_header_bit, "not a readable virnucpro embedding file|not a virnucpro embedding file"),
        (foreign, "made for another input, model or setting"),
        (unknown_id, "ID 'stranger' is not in the input"),
        (not_finite, "holds NaN or Inf values"),
    ],
)
def test_a_bad_piece_is_reported_set_aside_and_its_sequences_recomputed(tmp_path, caplog, damage, reason):
    reopened = saved_pieces(tmp_path)
    piece = reopened.directory / "piece-000002.safetensors"
    damage(piece)
    resumed = reopened.load(POSITIONS, 4)
    assert resumed.indices == [0, 1, 2]  # only the good piece; id3 and id4 must be computed again
    assert [name for name, _ in resumed.rejected] == ["piece-000002.safetensors"]
    assert re.search(reason, resumed.rejected[0][1])
    assert "piece-000002.safetensors rejected" in caplog.text
    assert not piece.exists() and piece.with_name(piece.name + ".rejected").exists()
    # new pieces never reuse a rejected piece's number
    reopened.save(["id3", "id4"], vectors(2, 100))
    reopened.close()
    assert (reopened.directory / "piece-000003.safetensors").exists()


def test_wrong_width_is_rejected(tmp_path):
    reopened = saved_pieces(tmp_path)
    resumed = reopened.load(POSITIONS, 8)
    reopened.close()
    assert resumed.indices == [] and len(resumed.rejected) == 2
    assert "vectors are 4 wide, the model gives 8" in resumed.rejected[0][1]


def test_two_pieces_claiming_the_same_id_keep_only_the_first(tmp_path):
    first = store(tmp_path)
    first.save(["id0", "id1"], vectors(2))
    first.save(["id1", "id2"], vectors(2, 5))
    first.close()
    second = store(tmp_path)
    resumed = second.load(POSITIONS, 4)
    second.close()
    assert resumed.indices == [0, 1]
    assert resumed.rejected == [("piece-000002.safetensors", "holds IDs that another piece already holds")]


def test_a_second_writer_of_the_same_fingerprint_is_refused(tmp_path):
    first = store(tmp_path)
    with pytest.raises(VirnucproError) as refused:
        store(tmp_path)
    holder = f"process {os.getpid()} on {socket.gethostname()}"
    assert f"{first.directory}: another run ({holder}) is writing checkpoints for the same input" in str(refused.value)
    first.close()
    store(tmp_path).close()  # free again once the first run let go
    store(tmp_path, fingerprint_of({"other": "x"})).close()  # another fingerprint never conflicts


def test_leftover_temp_files_are_removed_and_never_loaded(tmp_path):
    first = store(tmp_path)
    first.close()
    leftover = first.directory / ".piece-000001.safetensors.999.tmp"
    leftover.write_bytes(b"half a piece")
    second = store(tmp_path)
    assert second.load(POSITIONS, 4).count == 0
    second.close()
    assert not leftover.exists()


def test_the_first_runs_token_budget_is_kept_for_resumed_runs(tmp_path):
    first = store(tmp_path)
    assert first.token_budget(4096) == 4096
    first.close()
    second = store(tmp_path)
    assert second.token_budget(1024) == 4096
    second.close()


def test_remove_deletes_the_fingerprint_directory(tmp_path):
    reopened = saved_pieces(tmp_path)
    reopened.remove()
    assert not reopened.directory.exists()
