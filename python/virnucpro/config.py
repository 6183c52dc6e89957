"""Every `VIRNUCPRO_*` environment variable, and the standard ones the package honours, read in one place.

Nothing else in the package reads `os.environ` for these: code asks `get_env_config()` and passes the
values down. Add a new variable here (a field, its parser, a line in `describe()`), nowhere else.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping
from dataclasses import dataclass

from virnucpro.errors import ConfigError

_TRUE = frozenset({"1", "true", "yes"})
_FALSE = frozenset({"0", "false", "no", ""})


def parse_bool(name: str, raw: str | None) -> bool:
    """Strict boolean: 1/true/yes or 0/false/no/empty (case-insensitive); anything else is an error.

    Strictness matters: a lenient `bool(value)` makes "false" mean true.
    """
    if raw is None:
        return False
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ConfigError(
        f"environment variable {name}={raw!r} is not a boolean: use 1/true/yes or 0/false/no (or leave it empty)"
    )


def parse_choice(name: str, raw: str | None, choices: tuple[str, ...], default: str) -> str:
    """One of a fixed set of lower-case words; unset or empty means the default."""
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip().lower()
    if value not in choices:
        raise ConfigError(f"environment variable {name}={raw!r} must be one of: {', '.join(choices)}")
    return value


def parse_epoch(name: str, raw: str | None) -> int | None:
    """A Unix time in whole seconds (>= 0); unset or empty means none."""
    if raw is None or raw.strip() == "":
        return None
    value = raw.strip()
    if not value.isdigit():
        raise ConfigError(f"environment variable {name}={raw!r} must be a Unix time in whole seconds")
    return int(value)


def parse_names(raw: str | None) -> tuple[str, ...]:
    """A comma-separated list of names, spaces around each ignored; unset or empty is no name."""
    return tuple(name.strip() for name in (raw or "").split(",") if name.strip())


@dataclass(frozen=True)
class EnvConfig:
    """Typed view of the `VIRNUCPRO_*` environment variables.

    Attributes:
        disable_packing: `VIRNUCPRO_DISABLE_PACKING` - run models on padded batches instead of packed
            (variable-length) ones. Slower; a reference path for debugging.
        disable_fp16: `VIRNUCPRO_DISABLE_FP16` - force float32 everywhere, also on CUDA (default there is
            bfloat16 weights and activations with float32 pooling).
        device_lock_dir: `VIRNUCPRO_DEVICE_LOCK_DIR` - where `--device auto` keeps its per-GPU lock files
            (empty: `virnucpro-device-locks` under the system temp dir). Runs that should spread over one
            machine's GPUs must see the same directory (mount it into containers).
        source_date_epoch: `SOURCE_DATE_EPOCH` (the reproducible-builds convention) - the time a report
            records as its creation time instead of the clock, so two runs can give the same bytes.
        pause_at: `VIRNUCPRO_PAUSE_AT` - comma-separated names of points where the process stops itself
            with SIGSTOP (`virnucpro.pause`), so that tests can kill it at an exact moment, such as
            between two renames of a stage's outputs. Empty: never.
    """

    disable_packing: bool = False
    disable_fp16: bool = False
    device_lock_dir: str = ""
    source_date_epoch: int | None = None
    pause_at: tuple[str, ...] = ()

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> EnvConfig:
        """Parse the variables from a mapping (os.environ in production, a dict in tests)."""
        return cls(
            disable_packing=parse_bool("VIRNUCPRO_DISABLE_PACKING", environ.get("VIRNUCPRO_DISABLE_PACKING")),
            disable_fp16=parse_bool("VIRNUCPRO_DISABLE_FP16", environ.get("VIRNUCPRO_DISABLE_FP16")),
            device_lock_dir=environ.get("VIRNUCPRO_DEVICE_LOCK_DIR", "").strip(),
            source_date_epoch=parse_epoch("SOURCE_DATE_EPOCH", environ.get("SOURCE_DATE_EPOCH")),
            pause_at=parse_names(environ.get("VIRNUCPRO_PAUSE_AT")),
        )

    def describe(self) -> dict[str, str]:
        """The settings as variable name -> value, for logs and output metadata."""
        return {
            VARIABLES["disable_packing"]: str(int(self.disable_packing)),
            VARIABLES["disable_fp16"]: str(int(self.disable_fp16)),
            VARIABLES["device_lock_dir"]: self.device_lock_dir,
            VARIABLES["source_date_epoch"]: "" if self.source_date_epoch is None else str(self.source_date_epoch),
            VARIABLES["pause_at"]: ",".join(self.pause_at),
        }


# The variable behind each field: the package's own carry its prefix; the standard ones keep their names.
VARIABLES = {
    "disable_packing": "VIRNUCPRO_DISABLE_PACKING",
    "disable_fp16": "VIRNUCPRO_DISABLE_FP16",
    "device_lock_dir": "VIRNUCPRO_DEVICE_LOCK_DIR",
    "source_date_epoch": "SOURCE_DATE_EPOCH",
    "pause_at": "VIRNUCPRO_PAUSE_AT",
}


@functools.cache
def get_env_config() -> EnvConfig:
    """The process-wide EnvConfig, parsed once from os.environ on first use."""
    return EnvConfig.from_environ(os.environ)


def reset_env_config() -> None:
    """Forget the cached EnvConfig so the next `get_env_config()` re-reads os.environ (for tests)."""
    get_env_config.cache_clear()
