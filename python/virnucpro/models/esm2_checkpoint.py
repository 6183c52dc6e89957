"""ESM-2 checkpoints in fair-esm's file layout: find them, read them safely, write tiny test ones.

A checkpoint `<name>.pt` is a dict `{"model": state_dict, "cfg": {"model": argparse.Namespace(...)}}`
whose keys carry the prefixes `encoder.sentence_encoder.` or `encoder.`. fair-esm also requires
`<name>-contact-regression.pt` beside it (contact prediction only); embedding does not need that file.
"""

from __future__ import annotations

import argparse
import pickle
import re
from dataclasses import dataclass
from pathlib import Path

import torch

from virnucpro.errors import InputError
from virnucpro.models.esm2_alphabet import ALPHABET_SIZE, PAD_ID

_PREFIX = re.compile(r"^(encoder\.sentence_encoder\.|encoder\.)")
# Present in real files, not needed to embed: accepted and ignored.
_OPTIONAL = re.compile(r"^(lm_head\.|contact_head\.|layers\.\d+\.self_attn\.rot_emb\.inv_freq$)")
_DOWNLOAD_URL = "https://dl.fbaipublicfiles.com/fair-esm/models/{name}.pt"


@dataclass(frozen=True)
class ESM2Config:
    """Shape of an ESM-2 model, read from the checkpoint's `cfg` (never assumed).

    Attributes:
        num_layers: transformer layers; the embedding is the last one's output.
        embed_dim: hidden width (2560 for the 3B model).
        attention_heads: heads per layer; head_dim = embed_dim / attention_heads.
        token_dropout: whether embeddings are rescaled by (1 - 0.15*0.8) / (1 - mask fraction).
    """

    num_layers: int
    embed_dim: int
    attention_heads: int
    token_dropout: bool

    @property
    def ffn_dim(self) -> int:
        """fair-esm's ESM2 always builds its feed-forward layer 4x wider than the model."""
        return 4 * self.embed_dim

    @property
    def head_dim(self) -> int:
        return self.embed_dim // self.attention_heads


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
            f"{_DOWNLOAD_URL.format(name=model)} there (or set TORCH_HOME), or pass the path of a local .pt file"
        )
    return cached


def load_esm2_checkpoint(path: Path) -> tuple[ESM2Config, dict[str, torch.Tensor]]:
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
    """torch.load with weights_only=True, allow-listing exactly argparse.Namespace (fair-esm's cfg)."""
    if not path.is_file():
        raise InputError(f"ESM-2 checkpoint {path} does not exist")
    try:
        with torch.serialization.safe_globals([argparse.Namespace]):
            return torch.load(path, map_location="cpu", weights_only=True)
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


def write_test_checkpoint(
    path: str | Path, *, num_layers: int = 2, embed_dim: int = 64, heads: int = 4, seed: int = 0
) -> Path:
    """Write a tiny random ESM-2 checkpoint that fair-esm itself loads, plus its contact-regression file.

    The weights are random but not degenerate (layer norms are not identity), so that a test comparing
    two forward passes exercises every parameter.

    Args:
        path: the `.pt` file to write; its stem should start with `esm2` (fair-esm picks its loader by name).
        num_layers, embed_dim, heads: model shape (embed_dim divisible by 2 * heads).
        seed: random seed; the same arguments give the same bytes of weights.

    Returns:
        The path written. `<stem>-contact-regression.pt` is written beside it.
    """
    path = Path(path)
    config = ESM2Config(num_layers=num_layers, embed_dim=embed_dim, attention_heads=heads, token_dropout=True)
    generator = torch.Generator().manual_seed(seed)
    state = {}
    for key, shape in expected_shapes(config).items():
        state[key] = _random_tensor(key, shape, generator)
    state["embed_tokens.weight"][PAD_ID] = 0.0  # nn.Embedding(padding_idx=...) keeps the pad row at zero
    head_dim = config.head_dim
    inv_freq = 1.0 / (10000 ** (torch.arange(0, head_dim, 2).float() / head_dim))
    for i in range(num_layers):
        state[f"layers.{i}.self_attn.rot_emb.inv_freq"] = inv_freq.clone()
    state.update(_random_lm_head(embed_dim, state["embed_tokens.weight"], generator))
    prefixed = {
        (f"encoder.{key}" if key.startswith("lm_head") else f"encoder.sentence_encoder.{key}"): value
        for key, value in state.items()
    }
    cfg = argparse.Namespace(
        encoder_layers=num_layers, encoder_embed_dim=embed_dim, encoder_attention_heads=heads, token_dropout=True
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"model": prefixed, "cfg": {"model": cfg}}, path)
    regression = {
        "contact_head.regression.weight": torch.randn((1, num_layers * heads), generator=generator) * 0.1,
        "contact_head.regression.bias": torch.zeros(1),
    }
    torch.save({"model": regression}, path.with_name(f"{path.stem}-contact-regression.pt"))
    return path


def _random_tensor(key: str, shape: tuple[int, ...], generator: torch.Generator) -> torch.Tensor:
    """Random weights of a sensible scale: ~1/sqrt(fan_in) for matrices, 1 +- 0.2 for norm gains."""
    noise = torch.randn(shape, generator=generator)
    if "layer_norm" in key and key.endswith(".weight"):
        return 1.0 + 0.2 * noise
    if key.endswith(".bias"):
        return 0.1 * noise
    if key == "embed_tokens.weight":
        return noise
    return noise / shape[-1] ** 0.5


def _random_lm_head(embed_dim: int, embed_tokens: torch.Tensor, generator: torch.Generator) -> dict[str, torch.Tensor]:
    """The masked-LM head fair-esm's ESM2 carries (its weight is tied to the token embeddings)."""
    return {
        "lm_head.weight": embed_tokens.clone(),
        "lm_head.bias": torch.zeros(ALPHABET_SIZE),
        "lm_head.dense.weight": torch.randn((embed_dim, embed_dim), generator=generator) / embed_dim**0.5,
        "lm_head.dense.bias": torch.zeros(embed_dim),
        "lm_head.layer_norm.weight": torch.ones(embed_dim),
        "lm_head.layer_norm.bias": torch.zeros(embed_dim),
    }
