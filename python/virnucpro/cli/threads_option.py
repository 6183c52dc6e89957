"""The `--threads` option every stage takes: binds the process's CPU thread pools before the stage runs."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import click

from virnucpro.threads import available_cpus, bind_threads

F = TypeVar("F", bound=Callable[..., object])


def threads_option(*, torch_pools: bool) -> Callable[[F], F]:
    """`--threads N` (default: the CPUs this process may use), applied while the command line is parsed.

    Args:
        torch_pools: the stage runs torch, so torch's pools are set too (others only set the OpenMP/BLAS
            variables, and skip importing torch).
    """

    def bind(_ctx: click.Context, _param: click.Parameter, value: int | None) -> None:
        bind_threads(available_cpus() if value is None else value, torch_pools=torch_pools)

    return click.option(
        "--threads",
        type=click.IntRange(min=1),
        default=None,
        expose_value=False,
        callback=bind,
        help="CPU threads for torch and the OpenMP/BLAS pools [default: the CPUs this process may use].",
    )
