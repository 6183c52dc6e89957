"""Counters and timings of one embedding run, written as JSON at the end (`--metrics FILE.json`)."""

from __future__ import annotations

import json
import resource
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

from virnucpro.io.atomic import write_text_atomically


@dataclass
class RunMetrics:
    """What a run did and what it cost.

    Attributes:
        sequences: sequences in the input.
        resumed: of those, taken from valid checkpoint pieces.
        computed: of those, embedded by this run.
        rejected_pieces: checkpoint pieces that failed verification (their sequences were recomputed).
        batches: forward passes run (out-of-memory retries included once they succeed).
        tokens: real tokens sent through the model by this run.
        budget_tokens: sum of the token budgets of those batches; `fill_ratio` = tokens / budget_tokens.
        token_budget: the budget at the start of the run; `final_token_budget` after out-of-memory halving.
        oom_retries: batches split and retried after a device out-of-memory error.
        model_load_s, compute_s, wall_s: seconds loading the model, inside forward passes and result
            collection, and for the whole stage.
        peak_rss_bytes: peak resident memory of the process; `peak_device_bytes` of the CUDA allocator.
        checkpoints: the checkpoint directory of this input and model ("" without checkpoints); removed
            after a successful run unless the caller keeps it.
    """

    sequences: int = 0
    resumed: int = 0
    computed: int = 0
    rejected_pieces: int = 0
    batches: int = 0
    tokens: int = 0
    budget_tokens: int = 0
    token_budget: int = 0
    final_token_budget: int = 0
    oom_retries: int = 0
    model_load_s: float = 0.0
    compute_s: float = 0.0
    wall_s: float = 0.0
    peak_rss_bytes: int = 0
    peak_device_bytes: int = 0
    device: str = ""
    model_kind: str = ""
    backend: str = ""
    precision: str = ""
    checkpoints: str = ""

    @property
    def fill_ratio(self) -> float:
        """Real tokens / the budgets of the batches that carried them (0 when nothing was computed)."""
        return self.tokens / self.budget_tokens if self.budget_tokens else 0.0

    def as_dict(self) -> dict[str, object]:
        return {**asdict(self), "fill_ratio": round(self.fill_ratio, 6)}

    def write_json(self, path: str | Path) -> None:
        """Write the metrics as pretty JSON (keys sorted) to `path`, atomically."""
        write_text_atomically(Path(path), json.dumps(self.as_dict(), indent=2, sort_keys=True) + "\n")


def peak_rss_bytes() -> int:
    """Peak resident set size of this process so far (ru_maxrss is KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak if sys.platform == "darwin" else peak * 1024)
