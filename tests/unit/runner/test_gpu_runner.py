"""The CUDA path of the runner: pinned copies on a side stream, one wait per batch, budget from free memory.

Run with `pytest -m gpu` on a machine with a CUDA device; the same code runs on CPU in the other tests.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from fake_embedding_model import FakeEmbeddingModel
from test_async_runner import make_records
from virnucpro.runner.async_runner import AsyncInferenceRunner
from virnucpro.runner.collator import build_batch
from virnucpro.runner.devices import MAX_CUDA_TOKEN_BUDGET, MIN_CUDA_TOKEN_BUDGET, choose_device, default_token_budget
from virnucpro.runner.settings import RunnerSettings
from virnucpro.runner.staging import Stager

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device"),
]


@pytest.fixture(autouse=True)
def exact_float32():
    # TF32 matmuls would make the CUDA/CPU comparison a test of TF32, not of the runner
    previous = torch.backends.cuda.matmul.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = False
    yield
    torch.backends.cuda.matmul.allow_tf32 = previous


def test_cuda_run_matches_cpu_run():
    records = make_records(500, seed=21)
    settings = RunnerSettings(token_budget=256, window_batches=4)
    cpu = AsyncInferenceRunner(FakeEmbeddingModel(), settings, progress_bar=False).run(records)
    cuda = AsyncInferenceRunner(FakeEmbeddingModel(device="cuda"), settings, progress_bar=False).run(records)
    assert cuda.ids == cpu.ids
    # float32 on both devices, different kernels: measured differences are rounding-level (~1e-7)
    np.testing.assert_allclose(cuda.vectors, cpu.vectors, rtol=0, atol=1e-5)
    assert cuda.metrics.peak_device_bytes > 0


def test_staging_pins_copies_on_a_side_stream_and_waits_once():
    stager = Stager(torch.device("cuda"))
    batch = stager.pin(build_batch([0, 1], ["a", "b"], [[1, 2, 3], [4, 5]], 8))
    assert batch.token_ids.is_pinned() and batch.cu_seqlens.is_pinned()
    staged = stager.upload(batch)
    assert staged.token_ids.is_cuda and staged.ready is not None
    stager.before_compute(staged)
    vectors = staged.token_ids.float().reshape(-1, 1).repeat(1, 2)[:2]
    pending = stager.download(batch, vectors)
    assert pending.host.is_pinned()
    np.testing.assert_array_equal(pending.wait(), [[1, 1], [2, 2]])


def test_budget_from_free_memory_is_clamped():
    budget = default_token_budget(torch.device("cuda"), 2560, torch.bfloat16)
    assert MIN_CUDA_TOKEN_BUDGET <= budget <= MAX_CUDA_TOKEN_BUDGET and budget % 1024 == 0


def test_auto_picks_a_cuda_device(tmp_path):
    choice = choose_device("auto", lock_dir=tmp_path, cuda_visible_devices=None)
    assert choice.device.type == "cuda"
    choice.release()
