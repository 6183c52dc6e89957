"""The legacy pickled classifier: weights are copied out as data, no method of the unpickled object runs.

`state_dict()` runs the hooks a module carries, and a pickle can plant them: only the weights-only
unpickler's allow-list stood between such an entry and running code.
"""

from __future__ import annotations

from collections import OrderedDict

import pytest
import torch
from torch import nn
from virnucpro.errors import InputError
from virnucpro.models import classifier as classifier_module
from virnucpro.models.classifier import load_classifier
from virnucpro.models.tiny_checkpoints import mlp_classifier_in_main


class _Trained(nn.Module):
    """The training script's class, as the published files pickle it (`__main__.MLPClassifier`)."""

    def __init__(self) -> None:
        super().__init__()
        self.hidden_layer = nn.Linear(6, 8)
        self.bn1 = nn.BatchNorm1d(8)
        self.output_layer = nn.Linear(8, 2)
        self.dropout = nn.Dropout(0.5)


_Trained.__module__, _Trained.__qualname__, _Trained.__name__ = "__main__", "MLPClassifier", "MLPClassifier"


def _save(path, module: nn.Module) -> None:
    with mlp_classifier_in_main(_Trained):
        torch.save(module, path)


def _trained() -> _Trained:
    torch.manual_seed(0)
    return _Trained().eval()


def test_a_planted_state_dict_hook_never_runs(tmp_path):
    module = _trained()
    # An allow-listed callable as a hook: `state_dict()` would call nn.Linear(module, destination, ...)
    module._state_dict_hooks[0] = nn.Linear
    module.bn1._state_dict_hooks[1] = nn.Linear
    _save(tmp_path / "hooked.pth", module)
    with mlp_classifier_in_main(_Trained):
        unpickled = torch.load(tmp_path / "hooked.pth", weights_only=False)
    with pytest.raises(TypeError):
        unpickled.state_dict()  # what the old loader did: the planted hook runs (and here, fails)
    loaded = load_classifier(tmp_path / "hooked.pth")  # the hooks are data here, never called
    assert loaded.info.source == "legacy-pickle"
    assert all(torch.equal(loaded.model.state_dict()[k], v) for k, v in _trained().state_dict().items())


def test_no_method_of_the_unpickled_object_is_called(tmp_path, monkeypatch):
    _save(tmp_path / "plain.pth", _trained())

    def refuse(*args, **kwargs):
        raise AssertionError("a method of the unpickled object was called")

    for name in ("state_dict", "named_parameters", "named_buffers", "parameters", "children", "modules"):
        monkeypatch.setattr(classifier_module._PickledMLPClassifier, name, refuse, raising=False)
    loaded = load_classifier(tmp_path / "plain.pth")
    assert all(torch.equal(loaded.model.state_dict()[k], v) for k, v in _trained().state_dict().items())


@pytest.mark.parametrize(
    ("plant", "message"),
    [
        (lambda m: m._modules.__setitem__("extra", _Trained()), "layer 'extra' is a _PickledMLPClassifier"),
        (lambda m: m.bn1._modules.__setitem__("inner", nn.ReLU()), "layer 'bn1' holds layers of its own"),
        (lambda m: m.hidden_layer._parameters.__setitem__("weight", nn.ReLU()), "hidden_layer.weight is a ReLU"),
        (lambda m: m.__dict__.__setitem__("_buffers", [1, 2]), "_buffers of the pickled module is a list"),
        (lambda m: m.__dict__.__setitem__("_modules", OrderedDict(x=nn.Dropout())), "missing keys"),
    ],
)
def test_what_is_not_plain_layers_and_tensors_is_refused(tmp_path, plant, message):
    module = _trained()
    plant(module)
    _save(tmp_path / "odd.pth", module)
    with pytest.raises(InputError, match=message) as raised:
        load_classifier(tmp_path / "odd.pth")
    assert str(raised.value).startswith(f"{tmp_path / 'odd.pth'}: ")
