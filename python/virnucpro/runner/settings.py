"""Settings of a runner run, validated once; importable without torch (the CLI reads its defaults)."""

from __future__ import annotations

from dataclasses import dataclass

from virnucpro.errors import InputError

DEFAULT_CHECKPOINT_EVERY = 5000
DEFAULT_CHECKPOINT_INTERVAL_S = 300.0


@dataclass(frozen=True)
class RunnerSettings:
    """Settings of one run.

    Attributes:
        token_budget: tokens per packed batch (real tokens; a packed batch has no padding).
        window_batches: input windows hold about this many budgets of tokens; first-fit-decreasing packs
            within a window, so larger windows pack tighter and hold more tokenized input in memory.
        prefetch_batches: packed batches prepared ahead of the one running.
        checkpoint_every: write a checkpoint piece after this many new sequences.
        checkpoint_interval: ... or after this many seconds since the last piece, whichever comes first.
    """

    token_budget: int
    window_batches: int = 16
    prefetch_batches: int = 2
    checkpoint_every: int = DEFAULT_CHECKPOINT_EVERY
    checkpoint_interval: float = DEFAULT_CHECKPOINT_INTERVAL_S

    def __post_init__(self) -> None:
        for name in ("token_budget", "window_batches", "prefetch_batches", "checkpoint_every"):
            if getattr(self, name) < 1:
                raise InputError(f"{name.replace('_', '-')} must be at least 1, got {getattr(self, name)}")
        if self.checkpoint_interval <= 0:
            raise InputError(f"checkpoint-interval must be positive, got {self.checkpoint_interval}")
