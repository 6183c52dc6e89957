"""ESM-2 checkpoints in fair-esm's file layout: resolve a name or path, read it safely, check it, load it.

A checkpoint `<name>.pt` is a dict `{"model": state_dict, "cfg": {"model": argparse.Namespace(...)}}`
whose keys carry the prefixes `encoder.sentence_encoder.` or `encoder.`. fair-esm also requires
`<name>-contact-regression.pt` beside it (contact prediction only); embedding does not need that file.
"""

from __future__ import annotations

import argparse
import hashlib
import pickle
import re
import zipfile
from pathlib import Path

import torch

from virnucpro.config import EnvConfig
from virnucpro.errors import InputError
from virnucpro.models.attention import select_backend
from virnucpro.models.esm2 import ESM2, ESM2Config, ESM2Embedder
from virnucpro.models.esm2_alphabet import ALPHABET_SIZE
from virnucpro.models.precision import choose_precision
from virnucpro.models.weights import meta_modules, place_state

_PREFIX = re.compile(r"^(encoder\.sentence_encoder\.|encoder\.)")
# Present in real files, not needed to embed: accepted and ignored.
_OPTIONAL = re.compile(r"^(lm_head\.|contact_head\.|layers\.\d+\.self_attn\.rot_emb\.inv_freq$)")
_DOWNLOAD_URL = "https://dl.fbaipublicfiles.com/fair-esm/models/{name}.pt"


def expected_shapes(config: ESM2Config) -> dict[str, tuple[int, ...]]:
    """Every tensor the encoder needs, by prefix-stripped key, with its shape."""
    e, f = config.embed_dim, config.ffn_dim
    shapes: dict[str, tuple[int, ...]] = {"embed_tokens.weight": (ALPHABET_SIZE, e)}
    for i in range(config.num_layers):
        layer = f"layers.{i}."
        for proj in ("q_proj", "k_proj", "v_proj", "out_proj"):
            shapes[f"{layer}self_attn.{proj}.weight"] = (e, e)
            shapes[f"{layer}self_attn.{proj}.bias"] = (e,)
        for norm in ("self_attn_layer_norm", "final_layer_norm"):
            shapes[f"{layer}{norm}.weight"] = (e,)
            shapes[f"{layer}{norm}.bias"] = (e,)
        shapes[f"{layer}fc1.weight"] = (f, e)
        shapes[f"{layer}fc1.bias"] = (f,)
        shapes[f"{layer}fc2.weight"] = (e, f)
        shapes[f"{layer}fc2.bias"] = (e,)
    shapes["emb_layer_norm_after.weight"] = (e,)
    shapes["emb_layer_norm_after.bias"] = (e,)
    return shapes


def resolve_esm2_checkpoint(model: str) -> Path:
    """The local file for `model`: a path to a `.pt` file, or a fair-esm name found in the torch hub cache.

    A name such as `esm2_t36_3B_UR50D` is looked up as `<torch hub dir>/checkpoints/<name>.pt`
    (`$TORCH_HOME/hub`, default `~/.cache/torch/hub`), where fair-esm downloads it. Nothing is downloaded.

    Raises:
        InputError: the file does not exist, or the name is not an ESM-2 model name.
    """
    path = Path(model).expanduser()
    if model.endswith(".pt") or path.exists() or "/" in model:
        if not path.is_file():
            what = "is a directory, not an ESM-2 .pt file" if path.is_dir() else "does not exist"
            raise InputError(f"ESM-2 checkpoint {path} {what}")
        return path
    if not model.startswith("esm2"):
        raise InputError(f"{model!r} is not an ESM-2 model name (expected e.g. esm2_t36_3B_UR50D) nor a .pt file")
    cached = Path(torch.hub.get_dir()) / "checkpoints" / f"{model}.pt"
    if not cached.is_file():
        raise InputError(
            f"ESM-2 model {model!r} is not in the torch hub cache: expected the file {cached}. Download "
            f"{_DOWNLOAD_URL.format(name=model)} there (or set TORCH_HOME), or pass the path of a local .pt file "
            "(`virnucpro fetch-models --dest DIR --only esm2` downloads and checks it)"
        )
    return cached


def read_esm2_checkpoint(path: Path) -> tuple[ESM2Config, dict[str, torch.Tensor]]:
    """Read a fair-esm ESM-2 checkpoint without running pickled code, and check every tensor.

    Returns:
        The config and the prefix-stripped state dict (only the encoder tensors listed by
        `expected_shapes`; language-model and contact heads are dropped).

    Raises:
        InputError: naming `path`, when the file is missing, truncated or corrupt, not an ESM-2 checkpoint,
            or has missing, unexpected or wrongly shaped tensors (every difference listed).
    """
    data = _torch_load(path)
    if not isinstance(data, dict) or not isinstance(data.get("model"), dict) or "cfg" not in data:
        raise InputError(f"{path} is not an ESM-2 checkpoint: {_describe_content(data)}")
    config = _read_config(path, data["cfg"])
    state = {_PREFIX.sub("", key): value for key, value in data["model"].items()}
    _check_state(path, config, state)
    return config, {key: state[key] for key in expected_shapes(config)}


def _torch_load(path: Path) -> object:
    """torch.load with weights_only=True, allow-listing exactly argparse.Namespace (fair-esm's cfg).

    Files in torch's zip format (every file torch has saved since 1.6) are memory-mapped: tensors are read
    from the file when touched, so the loader can place them one at a time (`weights.place_state`).
    """
    if not path.is_file():
        raise InputError(f"ESM-2 checkpoint {path} does not exist")
    try:
        with torch.serialization.safe_globals([argparse.Namespace]):
            return torch.load(path, map_location="cpu", weights_only=True, mmap=zipfile.is_zipfile(path))
    except pickle.UnpicklingError as error:
        found = re.search(r"GLOBAL ([\w.]+)", str(error))
        holds = f"it pickles {found.group(1)}" if found else "it holds pickled objects other than tensors"
        raise InputError(f"{path} is not an ESM-2 checkpoint: {holds}, which is not loaded for safety") from None
    except Exception as error:  # a damaged file can fail anywhere in the unpickler (IndexError, KeyError...)
        raise InputError(
            f"ESM-2 checkpoint {path} cannot be read (truncated or corrupt? {type(error).__name__}: "
            f"{str(error).splitlines()[0] if str(error) else 'no detail'})"
        ) from None


def _describe_content(data: object) -> str:
    """Say what a non-ESM-2 file holds, so the user can tell which file they passed by mistake."""
    if isinstance(data, dict):
        keys = sorted(str(key) for key in data)[:3]
        if keys and all(isinstance(value, torch.Tensor) for value in data.values()):
            return f"it is a plain state dict (keys like {', '.join(keys)}), not fair-esm's {{model, cfg}} dict"
        return f"it is a dict with keys {', '.join(keys)}, expected 'model' and 'cfg'"
    return f"it holds a {type(data).__name__}, expected a dict with 'model' and 'cfg'"


def _read_config(path: Path, cfg: object) -> ESM2Config:
    """ESM2Config from `cfg["model"]`, the argparse Namespace fair-esm's ESM-2 loader reads."""
    model_cfg = cfg.get("model") if isinstance(cfg, dict) else None
    names = ("encoder_layers", "encoder_embed_dim", "encoder_attention_heads", "token_dropout")
    missing = [name for name in names if not hasattr(model_cfg, name)]
    if missing:
        raise InputError(f"{path} is not an ESM-2 checkpoint: cfg['model'] lacks {', '.join(missing)}")
    config = ESM2Config(
        num_layers=int(model_cfg.encoder_layers),
        embed_dim=int(model_cfg.encoder_embed_dim),
        attention_heads=int(model_cfg.encoder_attention_heads),
        token_dropout=bool(model_cfg.token_dropout),
    )
    if config.num_layers < 1 or config.attention_heads < 1 or config.embed_dim % (2 * config.attention_heads):
        raise InputError(f"{path}: impossible ESM-2 shape in cfg: {config}")
    return config


def _check_state(path: Path, config: ESM2Config, state: dict[str, object]) -> None:
    """Compare expected and found tensors; raise once, listing every missing, unexpected and misshapen key."""
    expected = expected_shapes(config)
    if "embed_tokens.weight" not in state and not any(key.startswith("layers.") for key in state):
        raise InputError(f"{path} is not an ESM-2 checkpoint: no embed_tokens or layers tensors")
    problems = []
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(key for key in set(state) - set(expected) if not _OPTIONAL.match(key))
    if missing:
        problems.append(f"missing: {', '.join(missing)}")
    if unexpected:
        problems.append(f"unexpected: {', '.join(unexpected)}")
    for key in sorted(set(expected) & set(state)):
        value = state[key]
        if not isinstance(value, torch.Tensor) or tuple(value.shape) != expected[key]:
            found = tuple(value.shape) if isinstance(value, torch.Tensor) else type(value).__name__
            problems.append(f"{key} has shape {found}, expected {expected[key]}")
    if problems:
        raise InputError(f"ESM-2 checkpoint {path} does not match its cfg {config}: " + "; ".join(problems))


def esm2_network(config: ESM2Config, state: dict[str, torch.Tensor]) -> ESM2:
    """An `ESM2` holding checked weights, built without first allocating random ones (3B parameters)."""
    with torch.device("meta"):
        network = ESM2(config)
    network.load_state_dict(state, strict=True, assign=True)
    return network


class StateDigest:
    """sha256 of the model shape and every tensor's name, dtype, shape and bytes (not the file name).

    Checkpoint pieces and output files carry this digest, so the text it hashes is fixed here, spelled
    out, rather than taken from a class's repr that a rename would change. Tensors must be fed in sorted
    key order; the loader feeds them while it places them, so the file is read once.
    """

    def __init__(self, config: ESM2Config) -> None:
        shape = (
            f"ESM2Config(num_layers={config.num_layers}, embed_dim={config.embed_dim}, "
            f"attention_heads={config.attention_heads}, token_dropout={config.token_dropout})"
        )
        self._digest = hashlib.sha256(shape.encode("utf-8"))

    def update(self, key: str, tensor: torch.Tensor) -> None:
        tensor = tensor.detach().contiguous().cpu()
        self._digest.update(f"\0{key}\0{tensor.dtype}\0{tuple(tensor.shape)}\0".encode())
        self._digest.update(tensor.reshape(-1).view(torch.uint8).numpy())

    def hexdigest(self) -> str:
        return self._digest.hexdigest()


def fingerprint_state(config: ESM2Config, state: dict[str, torch.Tensor]) -> str:
    """The `StateDigest` of a whole state dict."""
    digest = StateDigest(config)
    for key in sorted(state):
        digest.update(key, state[key])
    return digest.hexdigest()


def load_esm2(model: str, device: torch.device, *, env: EnvConfig, backend: str | None = None) -> ESM2Embedder:
    """Load a fair-esm ESM-2 checkpoint (path or hub-cache name) onto `device`, in the policy's precision.

    Matrices are cast to the chosen dtype, layer norms stay float32 (`precision.place_network`'s rule),
    one tensor at a time from the memory-mapped file, which is fingerprinted in the same pass: a float16
    file placed in float32 never has both copies in memory. See
    `virnucpro.models.loading.load_embedding_model` for the arguments and errors.
    """
    path = resolve_esm2_checkpoint(model)
    config, state = read_esm2_checkpoint(path)
    dtype = choose_precision(device, env)
    chosen = select_backend(device, env, backend, alibi=False, dtype=dtype)
    digest = StateDigest(config)
    with meta_modules():
        network = ESM2(config)
    place_state(network, state, torch.device(device), dtype, mapped_file=path, visit=digest.update)
    return ESM2Embedder(network, model_id=model, fingerprint=digest.hexdigest(), backend=chosen)
