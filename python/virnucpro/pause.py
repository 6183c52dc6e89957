"""Named points where a run can stop itself, so a test can kill it at an exact moment (`VIRNUCPRO_PAUSE_AT`).

Killing a process "a little later" hits a different moment on every machine; stopping it at a named
point does not. When the point's name is listed in `VIRNUCPRO_PAUSE_AT`, the process writes one line to
stderr and sends itself SIGSTOP. The test sees the stop (`waitpid` with `WUNTRACED`) and then kills it,
or lets it go on with SIGCONT. Unset, a point costs one tuple lookup.

Points:
- `<label>:written`: every file of a stage's output set (`virnucpro.io.outputs`) is written and synced
  under its temporary name, nothing is replaced yet; `<label>:renamed-<k>`: the k-th file is in place.
  Labels: `translate`, `classify`, `report`, `shard-<prefix>`, or an embedding file's name.
- `checkpoint:<model kind>:piece-<n>`: the n-th checkpoint piece of an embedding run is on disk.
"""

from __future__ import annotations

import os
import signal
import sys

from virnucpro.config import get_env_config


def pause_point(name: str) -> None:
    """Stop this process with SIGSTOP if `name` is one of the points `VIRNUCPRO_PAUSE_AT` lists."""
    if name not in get_env_config().pause_at:
        return
    sys.stderr.write(f"virnucpro: paused at {name} (VIRNUCPRO_PAUSE_AT)\n")
    sys.stderr.flush()
    os.kill(os.getpid(), signal.SIGSTOP)
