"""The embed stage's provenance: one record gives both the checkpoint fingerprint and the output header."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
import torch
import virnucpro.embed as embed_module
from virnucpro import __version__
from virnucpro.embed import Provenance, checkpoint_parts, records_digest
from virnucpro.io.fasta import FastaRecord
from virnucpro.runner.checkpoints import fingerprint_of

RECORDS = [FastaRecord("r_chunk_1F1", "MKV", 2), FastaRecord("r_chunk_1R2", "LL", 4)]


@dataclass
class LoadedModel:
    """What `Provenance` reads of a loaded model (the `EmbeddingModel` attributes)."""

    kind: str = "esm2"
    model_id: str = "/models/esm2_t36_3B_UR50D.pt"
    fingerprint: str = "f" * 64
    embedding_dim: int = 2560
    dtype: torch.dtype = torch.bfloat16
    backend: str = "varlen"
    device: torch.device = field(default_factory=lambda: torch.device("cuda", 1))


def test_checkpoint_key_and_output_header_are_two_views_of_one_record(monkeypatch):
    monkeypatch.setattr(embed_module, "_device_name", lambda device: f"Test GPU ({device})")
    provenance = Provenance.of(RECORDS, LoadedModel())
    shared = {
        "input_sha256": records_digest(RECORDS),
        "model_kind": "esm2",
        "model_fingerprint": "f" * 64,
        "precision": "bfloat16",
        "backend": "varlen",
        "device_type": "cuda",
        "virnucpro_version": __version__,
    }
    assert provenance.checkpoint_parts() == {"format": "1", "embedding_dim": "2560", **shared}
    descriptive = {"device_name": "Test GPU (cuda:1)", "torch_version": torch.__version__}
    assert provenance.metadata() == {"model_id": "/models/esm2_t36_3B_UR50D.pt", **shared, **descriptive}


def test_the_input_is_hashed_once_per_run(monkeypatch):
    calls = []
    monkeypatch.setattr(embed_module, "records_digest", lambda records: calls.append(records) or "d" * 64)
    provenance = Provenance.of(RECORDS, LoadedModel())
    provenance.checkpoint_parts()
    provenance.metadata()
    assert len(calls) == 1


@pytest.mark.parametrize(
    ("change", "same_checkpoints"),
    [
        ({"model_id": "esm2_t36_3B_UR50D"}, True),  # the same weights under another name
        ({"fingerprint": "e" * 64}, False),
        ({"dtype": torch.float32}, False),
        ({"backend": "padded"}, False),
        ({"device": torch.device("cpu")}, False),
    ],
)
def test_only_what_changes_the_numbers_changes_the_checkpoint_key(change, same_checkpoints):
    base = fingerprint_of(checkpoint_parts(RECORDS, LoadedModel()))
    changed = fingerprint_of(checkpoint_parts(RECORDS, LoadedModel(**change)))
    assert (base == changed) is same_checkpoints
