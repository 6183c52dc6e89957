"""One source for the training settings: the command line shows and passes the library's defaults."""

from __future__ import annotations

import dataclasses

import pytest
from virnucpro.cli.train import command as train_command
from virnucpro.errors import InputError
from virnucpro.models.classifier import DEFAULT_HIDDEN_DIM
from virnucpro.train import TrainInputs, train
from virnucpro.train.settings import TrainSettings


def test_the_default_hidden_width_is_the_published_classifiers():
    assert TrainSettings().hidden_dim == DEFAULT_HIDDEN_DIM == 512


def test_the_train_command_shows_and_passes_the_library_defaults():
    defaults = TrainSettings()
    options = {param.name: param for param in train_command.params}
    exposed = [f.name for f in dataclasses.fields(TrainSettings) if f.name in options]
    assert set(exposed) == {
        "epochs",
        "batch_size",
        "learning_rate",
        "patience",
        "hidden_dim",
        "seed",
        "test_fraction",
        "validation_fraction",
    }
    assert {name: options[name].default for name in exposed} == {name: getattr(defaults, name) for name in exposed}
    assert all(options[name].show_default for name in exposed)


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        (
            TrainInputs(viral=("v.fa",), embeddings=(("d", "e"),)),
            "give either --embeddings with --labels, or --viral/--other FASTA files, not both",
        ),
        (TrainInputs(embeddings=(("d", "e"),)), "--embeddings needs --labels"),
        (TrainInputs(), "FASTA training needs --viral and --other files"),
        (TrainInputs(viral=("v.fa",), other=("o.fa",), chunk_length=300), r"\(missing: --dnabert, --esm\)"),
    ],
)
def test_incomplete_or_mixed_inputs_are_refused_before_any_work(tmp_path, inputs, message):
    with pytest.raises(InputError, match=message):
        train(inputs, tmp_path / "out", TrainSettings())
    assert not (tmp_path / "out").exists()
