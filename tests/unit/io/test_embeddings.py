"""The embedding file's names."""

from __future__ import annotations

from virnucpro.io.embeddings import embeddings_name


def test_names_follow_the_model_kinds():
    assert (embeddings_name("esm2"), embeddings_name("dnabert-s")) == ("esm2.safetensors", "dnabert-s.safetensors")
