"""The CPU twin of the CUDA transfer path: same calls, no streams, results ready at once."""

from __future__ import annotations

import numpy as np
import torch
from virnucpro.runner.collator import build_batch
from virnucpro.runner.staging import Stager


def test_cpu_staging_round_trip():
    stager = Stager(torch.device("cpu"))
    batch = build_batch([0, 1], ["a", "b"], [[1, 2, 3], [4, 5]], 8)
    pinned = stager.pin(batch)
    staged = stager.upload(pinned)
    stager.before_compute(staged)
    assert staged.ready is None and staged.token_ids.tolist() == [1, 2, 3, 4, 5]
    pending = stager.download(batch, torch.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=torch.float64))
    result = pending.wait()
    assert result.dtype == np.float32
    np.testing.assert_array_equal(result, [[1, 2], [3, 4]])
