"""The classifier loaders: published pickles (restricted), state dicts, and the pickle-free format."""

from __future__ import annotations

import os
import pickletools
import zipfile

import numpy as np
import pytest
import torch
from reference_mlp import load_as_original
from safetensors.torch import save_file
from torch import nn
from virnucpro.errors import InputError
from virnucpro.models.classifier import (
    MLPClassifier,
    check_feature_dims,
    convert_classifier,
    load_classifier,
    predict_proba,
)
from virnucpro.models.tiny_checkpoints import mlp_classifier_in_main, save_as_original, write_test_classifier


def _pickle_globals(path) -> list[str]:
    with zipfile.ZipFile(path) as archive:
        data = archive.read(next(n for n in archive.namelist() if n.endswith("data.pkl")))
    return [arg for op, arg, _ in pickletools.genops(data) if op.name == "GLOBAL"]


@pytest.fixture
def legacy_pth(tmp_path):
    path = tmp_path / "300_model.pth"
    write_test_classifier(path, input_dim=24, seed=7, hidden_dim=32)
    return path


def test_test_classifier_is_pickled_like_the_published_files(legacy_pth):
    names = _pickle_globals(legacy_pth)
    assert names[0] == "__main__ MLPClassifier"
    assert "torch.nn.modules.batchnorm BatchNorm1d" in names
    module = load_as_original(legacy_pth)
    assert [name for name, _ in module.named_children()] == ["hidden_layer", "bn1", "output_layer", "dropout"]
    # running statistics are not the defaults (0 and 1), so eval mode changes the numbers
    assert module.bn1.running_var.max() < 0.05 and abs(module.bn1.running_mean).max() > 0


def test_restricted_load_gives_the_same_scores_as_the_pickled_module(legacy_pth):
    features = np.random.default_rng(0).normal(size=(300, 24)).astype(np.float32)
    with torch.no_grad():
        expected = torch.softmax(load_as_original(legacy_pth)(torch.from_numpy(features)), dim=1).numpy()
    loaded = load_classifier(legacy_pth)
    assert loaded.info.source == "legacy-pickle"
    assert (loaded.info.input_dim, loaded.info.hidden_dim) == (24, 32)
    assert not loaded.model.training
    np.testing.assert_array_equal(predict_proba(loaded.model, features), expected)
    with torch.no_grad():
        train_mode = torch.softmax(loaded.model.train()(torch.from_numpy(features)), dim=1).numpy()
    assert np.abs(train_mode - expected).max() > 1e-3


class _Evil:
    def __reduce__(self):
        return (os.system, ("echo should-not-run",))


class MLPClassifierWithExtras(nn.Module):
    pass


@pytest.mark.parametrize(
    ("payload", "refused"),
    [
        ({"weights": _Evil()}, "system"),
        (MLPClassifierWithExtras(), "MLPClassifierWithExtras"),
    ],
)
def test_a_pickle_naming_any_other_global_is_refused(tmp_path, payload, refused):
    path = tmp_path / "bad.pth"
    torch.save(payload, path)
    with pytest.raises(InputError, match=rf"{path}: refused to load: the pickle names \S*{refused}"):
        load_classifier(path)


def test_state_dict_and_pickle_free_files_load_to_the_same_model(tmp_path, legacy_pth):
    legacy = load_classifier(legacy_pth)
    torch.save(legacy.model.state_dict(), tmp_path / "state.pt")
    from_state = load_classifier(tmp_path / "state.pt")
    assert from_state.info.source == "state-dict"
    info = convert_classifier(legacy_pth, tmp_path / "new.safetensors", dnabert_dim=10)
    assert (info.chunk_length, info.dnabert_dim, info.esm_dim) == (300, 10, 14)
    converted = load_classifier(tmp_path / "new.safetensors")
    assert converted.info.source == "virnucpro"
    assert (converted.info.chunk_length, converted.info.dnabert_dim, converted.info.esm_dim) == (300, 10, 14)
    assert converted.info.class_names == ("others", "virus")
    assert converted.info.extra["converted_from"] == "300_model.pth"
    features = np.random.default_rng(1).normal(size=(50, 24)).astype(np.float32)
    expected = predict_proba(legacy.model, features)
    np.testing.assert_array_equal(predict_proba(from_state.model, features), expected)
    np.testing.assert_array_equal(predict_proba(converted.model, features), expected)
    assert b"\x80\x02" not in (tmp_path / "new.safetensors").read_bytes()[:8]


def test_convert_needs_the_chunk_length_and_split_when_they_cannot_be_inferred(tmp_path):
    path = tmp_path / "model.pth"
    write_test_classifier(path, input_dim=24, seed=1, hidden_dim=8)
    with pytest.raises(InputError, match="pass --chunk-length"):
        convert_classifier(path, tmp_path / "x.safetensors", dnabert_dim=4)
    with pytest.raises(InputError, match="input width 24 is not the published 3328: pass --dnabert-dim"):
        convert_classifier(path, tmp_path / "x.safetensors", chunk_length=500)
    with pytest.raises(InputError, match="DNABERT-S width 30 \\+ ESM-2 width -6"):
        convert_classifier(path, tmp_path / "x.safetensors", chunk_length=500, dnabert_dim=30)


def test_published_width_defaults_to_the_published_split(tmp_path):
    path = tmp_path / "500_model.pth"
    save_as_original(path, MLPClassifier(3328, 4, 2).state_dict())
    info = convert_classifier(path, tmp_path / "500.safetensors")
    assert (info.chunk_length, info.dnabert_dim, info.esm_dim, info.input_dim) == (500, 768, 2560, 3328)


def test_width_mismatch_is_a_clear_error(tmp_path, legacy_pth):
    loaded = load_classifier(legacy_pth)
    check_feature_dims(loaded, 10, 14)
    with pytest.raises(InputError, match=r"expects 24 features, but the embeddings give 10 DNABERT-S \+ 16 ESM-2"):
        check_feature_dims(loaded, 10, 16)
    convert_classifier(legacy_pth, tmp_path / "c.safetensors", dnabert_dim=10)
    converted = load_classifier(tmp_path / "c.safetensors")
    # same total width, wrong split: only the metadata can catch it
    with pytest.raises(InputError, match=r"expects 10 DNABERT-S \+ 14 ESM-2 = 24"):
        check_feature_dims(converted, 14, 10)


@pytest.mark.parametrize(
    ("state", "message"),
    [
        ({"hidden_layer.weight": torch.zeros(4, 3)}, r"missing keys \['bn1.bias'"),
        ({**MLPClassifier(3, 4).state_dict(), "extra.weight": torch.zeros(1)}, r"unexpected keys \['extra.weight'\]"),
    ],
)
def test_wrong_state_dicts_list_their_keys(tmp_path, state, message):
    torch.save(state, tmp_path / "s.pt")
    with pytest.raises(InputError, match=message):
        load_classifier(tmp_path / "s.pt")


def test_foreign_safetensors_and_missing_files_are_refused(tmp_path):
    save_file({"x": torch.zeros(2)}, str(tmp_path / "other.safetensors"))
    with pytest.raises(InputError, match="is not a virnucpro classifier"):
        load_classifier(tmp_path / "other.safetensors")
    with pytest.raises(InputError, match="classifier file not found"):
        load_classifier(tmp_path / "absent.pth")
    (tmp_path / "junk.pth").write_bytes(b"not a model at all")
    with pytest.raises(InputError, match=r"junk\.pth: not a readable classifier file"):
        load_classifier(tmp_path / "junk.pth")


class _WithReluModule(nn.Module):
    """A variant of the training class that holds its ReLU as a submodule."""

    def __init__(self):
        super().__init__()
        self.hidden_layer = nn.Linear(6, 8)
        self.output_layer = nn.Linear(8, 2)
        self.relu = nn.ReLU()
        self.bn1 = nn.BatchNorm1d(8)
        self.dropout = nn.Dropout(0.5)


def test_a_pickle_whose_class_holds_a_relu_module_loads_too(tmp_path):
    _WithReluModule.__module__, _WithReluModule.__qualname__ = "__main__", "MLPClassifier"
    with mlp_classifier_in_main(_WithReluModule):
        module = _WithReluModule().eval()
        torch.save(module, tmp_path / "m.pth")
    loaded = load_classifier(tmp_path / "m.pth")
    assert loaded.info.source == "legacy-pickle" and loaded.info.input_dim == 6
    assert all(torch.equal(loaded.model.state_dict()[k], v) for k, v in module.state_dict().items())


def test_convert_classifier_cli(tmp_path, legacy_pth):
    from click.testing import CliRunner
    from virnucpro.cli import cli

    new = tmp_path / "converted.safetensors"
    result = CliRunner().invoke(cli, ["convert-classifier", str(legacy_pth), str(new), "--dnabert-dim", "20"])
    assert result.exit_code == 0, result.output
    info = load_classifier(new).info
    assert (info.chunk_length, info.dnabert_dim, info.esm_dim) == (300, 20, 4)
    result = CliRunner().invoke(cli, ["convert-classifier", str(legacy_pth), str(new), "--chunk-length", "500"])
    assert isinstance(result.exception, InputError) and "pass --dnabert-dim" in str(result.exception)
