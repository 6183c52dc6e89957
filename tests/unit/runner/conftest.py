"""Runner tests run torch on one thread.

The test machines are small and shared: with two OpenMP threads competing with other processes and with
the runner's packing thread, a tiny forward pass is 10-50x slower (measured 21 ms vs 2.6 ms). One thread
keeps these tests fast; every comparison in them is between runs made with the same thread count.
"""

from __future__ import annotations

import pytest
import torch


@pytest.fixture(autouse=True)
def one_torch_thread():
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)
