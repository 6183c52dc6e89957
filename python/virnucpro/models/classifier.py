"""The VirNucPro MLP classifier: the model, its safe loaders, and its pickle-free file format.

Three kinds of file are read:
- the published `300_model.pth` / `500_model.pth`: whole modules pickled by the training script, so the
  pickle names `__main__.MLPClassifier`. They are read with torch's weights-only unpickler, which admits
  only that class (mapped onto a stand-in) and the torch types it contains; anything else is refused
  before it can run. The weights are then copied out of the object's dictionaries without calling any
  of its methods, so hooks planted in the pickle never run.
- a plain state dict saved with `torch.save(model.state_dict(), ...)` (also weights-only).
- the project's own format: safetensors with the state dict and a metadata header (`save_classifier`).
"""

from __future__ import annotations

import hashlib
import re
from collections import OrderedDict
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import torch
from safetensors import SafetensorError
from safetensors.torch import load_file
from torch import nn

from virnucpro import __version__
from virnucpro.errors import InputError
from virnucpro.io.atomic import replacing
from virnucpro.io.tensor_file import write_tensor_file

CLASS_NAMES: tuple[str, ...] = ("others", "virus")
FORMAT_NAME = "virnucpro-classifier"
FORMAT_VERSION = "1"
DEFAULT_HIDDEN_DIM = 512
# The original prediction script scored 256 feature rows per batch; using the same size keeps the matrix
# products shaped as they were.
PREDICT_BATCH_SIZE = 256
# Widths of the published feature vector: DNABERT-S hidden size + ESM-2 3B embedding size (docs/contract.md,
# section 6).
PUBLISHED_DIMS = (768, 2560)

_STATE_KEYS = (
    "hidden_layer.weight",
    "hidden_layer.bias",
    "bn1.weight",
    "bn1.bias",
    "bn1.running_mean",
    "bn1.running_var",
    "bn1.num_batches_tracked",
    "output_layer.weight",
    "output_layer.bias",
)


class MLPClassifier(nn.Module):
    """Linear -> BatchNorm1d -> ReLU -> Dropout(0.5) -> Linear, with the published state-dict key names.

    Always use it in eval mode for scoring: BatchNorm then uses its running statistics and dropout is off.
    """

    def __init__(self, input_dim: int, hidden_dim: int = DEFAULT_HIDDEN_DIM, num_class: int = 2) -> None:
        super().__init__()
        self.hidden_layer = nn.Linear(input_dim, hidden_dim)
        self.bn1 = nn.BatchNorm1d(hidden_dim)
        self.output_layer = nn.Linear(hidden_dim, num_class)
        self.dropout = nn.Dropout(0.5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits (B, num_class) of feature rows x (B, input_dim)."""
        x = self.hidden_layer(x)
        x = self.bn1(x)
        x = torch.relu(x)
        x = self.dropout(x)
        return self.output_layer(x)


@dataclass(frozen=True)
class ClassifierInfo:
    """What a classifier expects and where it came from.

    Attributes:
        input_dim: width of one feature row.
        hidden_dim: width of the hidden layer.
        class_names: name of each output class, in order (class 1 is "virus").
        dnabert_dim: how many leading features are DNABERT-S values (None if the file does not say).
        esm_dim: how many trailing features are ESM-2 values (None if the file does not say).
        chunk_length: the chunk length the classifier was trained for (None if unknown).
        source: "legacy-pickle", "state-dict" or "virnucpro".
        extra: any further metadata stored with the model (training settings, metrics).
    """

    input_dim: int
    hidden_dim: int
    class_names: tuple[str, ...] = CLASS_NAMES
    dnabert_dim: int | None = None
    esm_dim: int | None = None
    chunk_length: int | None = None
    source: str = "virnucpro"
    extra: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class LoadedClassifier:
    """A classifier in eval mode on the CPU, with its description."""

    model: MLPClassifier
    info: ClassifierInfo
    path: Path


class _PickledMLPClassifier(nn.Module):
    """Stand-in that the weights-only unpickler builds for `__main__.MLPClassifier`; only its state is used."""


def _legacy_allowlist() -> list:
    """The globals a published classifier pickle may name: its class and the torch layers inside it."""
    return [(_PickledMLPClassifier, "__main__.MLPClassifier"), nn.Linear, nn.BatchNorm1d, nn.ReLU, nn.Dropout]


def load_classifier(path: str | Path) -> LoadedClassifier:
    """Load any supported classifier file without executing code from it.

    Args:
        path: a published pickled module, a pickled state dict, or a file from `save_classifier`.

    Returns:
        The model (float32, CPU, eval mode) and its ClassifierInfo.

    Raises:
        InputError: missing file, a pickle naming anything but the known class and torch types, or
            weights that do not have the classifier's keys and shapes.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: classifier file not found")
    with path.open("rb") as handle:
        head = handle.read(9)
    if head[8:9] == b"{":  # safetensors: 8-byte header length, then the JSON header
        state, info = _load_safetensors(path)
    else:
        state, source = _load_torch_file(path)
        info = _info_from_state(path, state, source)
    model = _build_model(path, state, info)
    return LoadedClassifier(model=model, info=info, path=path)


def _load_torch_file(path: Path) -> tuple[dict[str, torch.Tensor], str]:
    """Read a torch.save file with the weights-only unpickler; return its state dict and kind."""
    try:
        with torch.serialization.safe_globals(_legacy_allowlist()):
            obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises UnpicklingError, RuntimeError or others for bad files
        refused = re.search(r"GLOBAL ([\w.]+)", str(error))
        if refused:
            raise InputError(
                f"{path}: refused to load: the pickle names {refused.group(1)}, which is neither the VirNucPro "
                "MLPClassifier nor a torch type it needs (loading it could run arbitrary code)"
            ) from error
        raise InputError(f"{path}: not a readable classifier file ({type(error).__name__}: {error})") from error
    if type(obj) is _PickledMLPClassifier:
        return _state_of_pickled_module(path, obj), "legacy-pickle"
    if isinstance(obj, dict) and all(isinstance(v, torch.Tensor) for v in obj.values()):
        return dict(obj), "state-dict"
    raise InputError(f"{path}: expected a pickled MLPClassifier or a state dict, found {type(obj).__name__}")


# The layers a published pickle may hold, by attribute name; each is copied out by `_state_of_pickled_module`.
_PICKLED_LAYERS = (nn.Linear, nn.BatchNorm1d, nn.ReLU, nn.Dropout)


def _state_of_pickled_module(path: Path, module: nn.Module) -> dict[str, torch.Tensor]:
    """The weights of an unpickled module, copied out of its `_parameters` and `_buffers` dictionaries.

    No method of the unpickled object is called: a pickle can plant entries such as `_state_dict_hooks`
    that `state_dict()` would run, and only allow-listed callables stand between such an entry and code
    execution. So the object's attribute dictionaries are read as plain data, and everything in them is
    type-checked: submodules must be exactly the published layer types, weights exactly tensors.

    Raises:
        InputError: a submodule of another type, a nested module, or a weight that is not a tensor.
    """
    state: dict[str, torch.Tensor] = {}
    children = _plain_dict(path, module, "_modules")
    for name, child in children.items():
        if type(child) not in _PICKLED_LAYERS:
            raise InputError(f"{path}: layer {name!r} is a {type(child).__name__}, not one of the published layers")
        if _plain_dict(path, child, "_modules"):
            raise InputError(f"{path}: layer {name!r} holds layers of its own, which no published classifier does")
    for prefix, owner in [("", module), *((f"{name}.", child) for name, child in children.items())]:
        for slot in ("_parameters", "_buffers"):
            for key, value in _plain_dict(path, owner, slot).items():
                if value is None:
                    continue
                if type(value) not in (torch.Tensor, nn.Parameter):
                    raise InputError(f"{path}: {prefix}{key} is a {type(value).__name__}, not a tensor")
                state[prefix + key] = value.detach().clone()
    return state


def _plain_dict(path: Path, owner: object, slot: str) -> dict:
    """`owner.__dict__[slot]`, read without attribute lookup hooks, checked to be a dict."""
    value = vars(owner).get(slot, {})
    if type(value) not in (dict, OrderedDict):
        raise InputError(f"{path}: {slot} of the pickled module is a {type(value).__name__}, not a dictionary")
    return value


def _load_safetensors(path: Path) -> tuple[dict[str, torch.Tensor], ClassifierInfo]:
    """Read the project's own format and its metadata header."""
    try:
        state = load_file(str(path))
        from safetensors import safe_open

        with safe_open(str(path), framework="pt") as handle:
            metadata = dict(handle.metadata() or {})
    except (SafetensorError, OSError, ValueError) as error:
        raise InputError(f"{path}: not a classifier file (neither a torch pickle nor safetensors: {error})") from error
    if metadata.get("format") != FORMAT_NAME:
        raise InputError(f"{path}: safetensors file is not a virnucpro classifier (metadata format is missing)")
    if metadata.get("format_version") != FORMAT_VERSION:
        raise InputError(
            f"{path}: classifier format version {metadata.get('format_version')!r} is not supported "
            f"(this virnucpro reads version {FORMAT_VERSION})"
        )
    return state, _info_from_metadata(path, metadata)


def _optional_int(path: Path, metadata: dict[str, str], key: str) -> int | None:
    raw = metadata.get(key, "")
    if raw == "":
        return None
    try:
        return int(raw)
    except ValueError as error:
        raise InputError(f"{path}: metadata {key}={raw!r} is not an integer") from error


def _info_from_metadata(path: Path, metadata: dict[str, str]) -> ClassifierInfo:
    known = {"format", "format_version", "input_dim", "hidden_dim", "class_names", "dnabert_dim", "esm_dim"}
    known |= {"chunk_length"}
    input_dim = _optional_int(path, metadata, "input_dim")
    hidden_dim = _optional_int(path, metadata, "hidden_dim")
    if input_dim is None or hidden_dim is None:
        raise InputError(f"{path}: classifier metadata lacks input_dim or hidden_dim")
    return ClassifierInfo(
        input_dim=input_dim,
        hidden_dim=hidden_dim,
        class_names=tuple(metadata.get("class_names", ",".join(CLASS_NAMES)).split(",")),
        dnabert_dim=_optional_int(path, metadata, "dnabert_dim"),
        esm_dim=_optional_int(path, metadata, "esm_dim"),
        chunk_length=_optional_int(path, metadata, "chunk_length"),
        source="virnucpro",
        extra={k: v for k, v in metadata.items() if k not in known},
    )


def _info_from_state(path: Path, state: dict[str, torch.Tensor], source: str) -> ClassifierInfo:
    """Describe a torch file from its weight shapes alone (it carries no metadata)."""
    _check_keys(path, state)
    hidden_dim, input_dim = state["hidden_layer.weight"].shape
    return ClassifierInfo(input_dim=int(input_dim), hidden_dim=int(hidden_dim), source=source)


def _check_keys(path: Path, state: dict[str, torch.Tensor]) -> None:
    missing = sorted(set(_STATE_KEYS) - set(state))
    unexpected = sorted(set(state) - set(_STATE_KEYS))
    if missing or unexpected:
        raise InputError(
            f"{path}: not an MLPClassifier state: missing keys {missing or 'none'}, "
            f"unexpected keys {unexpected or 'none'}"
        )


def _build_model(path: Path, state: dict[str, torch.Tensor], info: ClassifierInfo) -> MLPClassifier:
    """Make an eval-mode float32 MLPClassifier from a checked state dict."""
    _check_keys(path, state)
    num_class = int(state["output_layer.weight"].shape[0])
    if num_class != len(info.class_names):
        raise InputError(f"{path}: {num_class} output classes but {len(info.class_names)} class names")
    model = MLPClassifier(info.input_dim, info.hidden_dim, num_class)
    expected = model.state_dict()
    for key, tensor in state.items():
        if tuple(tensor.shape) != tuple(expected[key].shape):
            raise InputError(
                f"{path}: weight {key} has shape {tuple(tensor.shape)}, expected {tuple(expected[key].shape)} "
                f"for input_dim={info.input_dim}, hidden_dim={info.hidden_dim}"
            )
    converted = {k: (v if k.endswith("num_batches_tracked") else v.float()) for k, v in state.items()}
    model.load_state_dict(converted, strict=True)
    return model.eval()


def save_classifier(path: str | Path, model: MLPClassifier, info: ClassifierInfo) -> None:
    """Write the pickle-free format: the state dict as safetensors plus `info` as string metadata.

    Written atomically, and the same model and metadata always give the same bytes.

    Args:
        path: output file (conventionally `.safetensors`).
        model: the classifier to store.
        info: its description; `extra` entries are stored as extra metadata keys.
    """
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    metadata = {
        **info.extra,
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "input_dim": str(info.input_dim),
        "hidden_dim": str(info.hidden_dim),
        "class_names": ",".join(info.class_names),
        "dnabert_dim": "" if info.dnabert_dim is None else str(info.dnabert_dim),
        "esm_dim": "" if info.esm_dim is None else str(info.esm_dim),
        "chunk_length": "" if info.chunk_length is None else str(info.chunk_length),
        "virnucpro_version": __version__,
    }
    with replacing(Path(path)) as temporary:
        write_tensor_file(temporary, {k: v.numpy() for k, v in state.items()}, metadata)


def convert_classifier(
    old: str | Path, new: str | Path, *, chunk_length: int | None = None, dnabert_dim: int | None = None
) -> ClassifierInfo:
    """Rewrite any loadable classifier in the pickle-free format, completing its metadata.

    Args:
        old: the classifier to read (a published pickle is read with the restricted loader).
        new: the `.safetensors` file to write.
        chunk_length: training chunk length; default: from the old metadata, else from a file name such as
            `300_model.pth`.
        dnabert_dim: DNABERT-S share of the input width; default: from the old metadata, else 768 for the
            published 3328-wide models.

    Returns:
        The metadata written.

    Raises:
        InputError: the old file cannot be loaded, or the chunk length or feature split cannot be determined.
    """
    old, new = Path(old), Path(new)
    loaded = load_classifier(old)
    info = loaded.info
    if chunk_length is None and info.chunk_length is None:
        match = re.match(r"(\d+)_model\b", old.name)
        if match is None:
            raise InputError(f"{old}: the chunk length it was trained for is unknown: pass --chunk-length")
        chunk_length = int(match.group(1))
    if dnabert_dim is None and info.dnabert_dim is None:
        if info.input_dim != sum(PUBLISHED_DIMS):
            raise InputError(
                f"{old}: input width {info.input_dim} is not the published {sum(PUBLISHED_DIMS)}: pass --dnabert-dim"
            )
        dnabert_dim = PUBLISHED_DIMS[0]
    info = with_feature_dims(info, dnabert_dim, None if dnabert_dim is not None else info.esm_dim)
    extra = {**info.extra, "converted_from": old.name, "converted_from_sha256": _sha256(old)}
    info = replace(info, chunk_length=chunk_length or info.chunk_length, extra=extra)
    save_classifier(new, loaded.model, info)
    return info


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def with_feature_dims(info: ClassifierInfo, dnabert_dim: int | None, esm_dim: int | None) -> ClassifierInfo:
    """Fill in the feature split, checking it adds up to the input width."""
    if dnabert_dim is None and esm_dim is None:
        return info
    dnabert_dim = info.input_dim - esm_dim if dnabert_dim is None else dnabert_dim
    esm_dim = info.input_dim - dnabert_dim if esm_dim is None else esm_dim
    if dnabert_dim <= 0 or esm_dim <= 0 or dnabert_dim + esm_dim != info.input_dim:
        raise InputError(
            f"DNABERT-S width {dnabert_dim} + ESM-2 width {esm_dim} does not equal the classifier's input "
            f"width {info.input_dim}"
        )
    return replace(info, dnabert_dim=dnabert_dim, esm_dim=esm_dim)


def check_feature_dims(loaded: LoadedClassifier, dnabert_dim: int, esm_dim: int) -> None:
    """Refuse embeddings whose widths do not fit the classifier.

    Raises:
        InputError: naming the classifier, what it expects and what the embeddings have.
    """
    info = loaded.info
    if dnabert_dim + esm_dim != info.input_dim or (
        info.dnabert_dim is not None and (info.dnabert_dim, info.esm_dim) != (dnabert_dim, esm_dim)
    ):
        expected = (
            f"{info.dnabert_dim} DNABERT-S + {info.esm_dim} ESM-2 = {info.input_dim}"
            if info.dnabert_dim is not None
            else f"{info.input_dim} features"
        )
        raise InputError(
            f"{loaded.path}: classifier expects {expected}, but the embeddings give {dnabert_dim} DNABERT-S + "
            f"{esm_dim} ESM-2 = {dnabert_dim + esm_dim} features: were they made with the models this "
            "classifier was trained on?"
        )


def predict_proba(model: nn.Module, features: np.ndarray) -> np.ndarray:
    """Softmax class probabilities (N, num_class) float32 of feature rows (N, input_dim), in eval mode."""
    model.eval()
    out: list[np.ndarray] = []
    with torch.no_grad():
        for start in range(0, features.shape[0], PREDICT_BATCH_SIZE):
            batch = torch.from_numpy(np.ascontiguousarray(features[start : start + PREDICT_BATCH_SIZE]))
            out.append(torch.softmax(model(batch.float()), dim=1).numpy())
    num_class = model.output_layer.out_features
    return np.concatenate(out) if out else np.zeros((0, num_class), dtype=np.float32)
