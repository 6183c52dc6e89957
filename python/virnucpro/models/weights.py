"""Put checkpoint tensors into a network one at a time, so loading never holds two copies of the weights.

A checkpoint is read memory-mapped (`torch.load(mmap=True)`, safetensors): its tensors are pages of the
file that the kernel reads in when touched. `place_state` copies each tensor to the device in its compute
dtype and then tells the kernel this process no longer needs that tensor's pages of the file. The peak is
the placed weights plus one tensor of the file, not the placed weights plus the whole file (a float16
ESM-2 3B file cast to float32 would otherwise peak at 1.5 times the weights).
"""

from __future__ import annotations

import ctypes
import mmap
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from unittest import mock

import torch
from torch import nn

from virnucpro.models.precision import Float32LayerNorm

_MADV_DONTNEED = 4  # Linux: drop the pages from this process; a private file mapping re-reads them if touched


@contextmanager
def meta_modules() -> Iterator[None]:
    """Build modules on the meta device, without their random initialisation, for `place_state` to fill.

    On meta tensors torch runs `nn.Embedding`'s initialiser (`init.normal_`) through its reference
    implementations, which import TorchDynamo and Triton: 2.5 s and ~65 MB resident per load, for
    values that are replaced at once. Inside the block `nn.Embedding` skips its initialiser.
    """
    with torch.device("meta"), mock.patch.object(nn.Embedding, "reset_parameters", lambda self: None):
        yield


def compute_dtypes(network: nn.Module, dtype: torch.dtype) -> dict[str, torch.dtype | None]:
    """The dtype each state-dict entry takes under `precision.place_network`'s rule.

    Floating tensors take `dtype`, except those of `Float32LayerNorm` modules, which stay float32; None
    means "keep the checkpoint's dtype" (integer buffers).
    """
    dtypes: dict[str, torch.dtype | None] = {}
    for module_name, module in network.named_modules():
        prefix = f"{module_name}." if module_name else ""
        keep_float32 = isinstance(module, Float32LayerNorm)
        for name, tensor in [*module.named_parameters(recurse=False), *module.named_buffers(recurse=False)]:
            if not tensor.is_floating_point():
                dtypes[prefix + name] = None
            else:
                dtypes[prefix + name] = torch.float32 if keep_float32 else dtype
    return dtypes


def place_state(
    network: nn.Module,
    state: Mapping[str, torch.Tensor],
    device: torch.device,
    dtype: torch.dtype,
    *,
    mapped_file: Path | None = None,
    visit: Callable[[str, torch.Tensor], None] | None = None,
) -> nn.Module:
    """Fill `network` (built on the meta device) with `state`, each tensor cast and moved as it is copied.

    Args:
        network: the module, built under `torch.device("meta")`; its keys must equal `state`'s.
        state: checked tensors, typically memory-mapped from `mapped_file`.
        device, dtype: where and in what the network computes (layer norms stay float32).
        mapped_file: the file `state` is mapped from; its pages are released tensor by tensor.
        visit: called with (key, tensor as read) for every key in sorted order, before its pages are
            released (the loaders fingerprint the weights here, in the same pass).

    Returns:
        `network`, in eval mode, holding new tensors (never views of the file).
    """
    dtypes = compute_dtypes(network, dtype)
    pages = MappedPages(mapped_file) if mapped_file is not None else None
    placed = {}
    for key in sorted(state):
        tensor = state[key]
        if visit is not None:
            visit(key, tensor)
        target = dtypes[key] or tensor.dtype
        copy = torch.empty(tensor.shape, dtype=target, device=device)
        copy.copy_(tensor)
        placed[key] = copy
        if pages is not None:
            pages.release(tensor)
    network.load_state_dict(placed, strict=True, assign=True)
    return network.eval()


class MappedPages:
    """The address ranges where this process maps one file, and a way to give their pages back.

    Only a tensor lying wholly inside a mapping of that very file is released, so memory that is not the
    file's (a heap copy, another file) is never touched. Elsewhere than Linux nothing is released.
    """

    def __init__(self, path: Path) -> None:
        self.ranges = _mappings_of(Path(path).resolve()) if sys.platform == "linux" else []

    def release(self, tensor: torch.Tensor) -> bool:
        """Drop the whole pages under `tensor` from this process; True when any were released."""
        storage = tensor.untyped_storage()
        start, end = storage.data_ptr(), storage.data_ptr() + storage.nbytes()
        if not any(low <= start and end <= high for low, high in self.ranges):
            return False
        first = -(-start // mmap.PAGESIZE) * mmap.PAGESIZE  # whole pages only: never a neighbour's bytes
        last = end // mmap.PAGESIZE * mmap.PAGESIZE
        if last <= first:
            return False
        return _libc().madvise(ctypes.c_void_p(first), ctypes.c_size_t(last - first), _MADV_DONTNEED) == 0


def _mappings_of(path: Path) -> list[tuple[int, int]]:
    """(start, end) of every mapping of `path` in /proc/self/maps."""
    ranges = []
    try:
        lines = Path("/proc/self/maps").read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return []
    for line in lines:
        fields = line.split(maxsplit=5)
        if len(fields) == 6 and fields[5] == str(path):
            low, high = (int(part, 16) for part in fields[0].split("-"))
            ranges.append((low, high))
    return ranges


def _libc() -> ctypes.CDLL:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.madvise.argtypes = (ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int)
    return libc
