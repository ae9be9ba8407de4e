"""What every ``varscale`` command shares: usage errors, argument types, output text, the writers.

Example:
    >>> shape_arg("3, 3, 64, 128")
    (3, 3, 64, 128)
    >>> some(["a", "b", "c"], limit=2)
    'a, b, … (1 more)'
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import math
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from ._errors import VarscaleError, missing_extra
from ._files import check_space

__all__ = ["UsageError", "check_free_space", "clip", "dask_client", "escape", "io_module", "json_safe",
           "output_bytes", "shape_arg", "some"]


class UsageError(Exception):
    """A command line that asks for something impossible (exit code 2)."""


def shape_arg(text: str) -> tuple[int, ...]:
    text = text.strip().strip("()[]")
    if not text:
        return ()
    try:
        return tuple(int(p) for p in text.split(",") if p.strip() != "")
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--shape must be comma-separated integers like 3,3,64,128; received {text!r}"
        ) from None


def json_safe(obj: Any) -> Any:
    """``obj`` with every non-finite float as the string ``"inf"``, ``"-inf"`` or ``"nan"`` (standard JSON).

    Example:
        >>> json_safe({"std": float("inf"), "bounds": (-float("inf"), 0.5)})
        {'std': 'inf', 'bounds': ['-inf', 0.5]}
    """
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else str(obj)
    if isinstance(obj, dict):
        return {k: json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_safe(v) for v in obj]
    return obj


def io_module() -> Any:
    try:
        return importlib.import_module("varscale.io")
    except ImportError as err:
        raise VarscaleError(f"varscale.io is not available ({err})") from None


def output_bytes(shapes: Sequence[tuple[int, ...]], dtype: str) -> int:
    """The bytes of tensors of ``shapes`` in ``dtype``'s storage."""
    from ._dtypes import resolve_dtype

    return sum(math.prod(s) for s in shapes) * resolve_dtype(dtype)[1].itemsize


def check_free_space(target: Any, shapes: Sequence[tuple[int, ...]], dtype: str) -> int:
    """Refuse, before writing anything, an output larger than the free space of its folder; returns its bytes."""
    nbytes = output_bytes(shapes, dtype)
    shown = ", ".join(map(str, shapes[:4])) + (f" and {len(shapes) - 4} more" if len(shapes) > 4 else "")
    return check_space(Path(target), nbytes, f"{len(shapes)} tensor(s) of shape(s) {shown} and dtype={dtype!r}")


@contextlib.contextmanager
def dask_client(args: argparse.Namespace) -> Iterator[Any]:
    """None without --dask; else a client of --scheduler, or of a local cluster of worker processes (closed after)."""
    if not args.dask:
        if args.scheduler is not None or args.workers is not None:
            raise UsageError("--scheduler and --workers apply with --dask only")
        yield None
        return
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise missing_extra("dask.distributed", "dask", "varscale init --dask") from None
    if args.scheduler is not None:
        with Client(args.scheduler, timeout=30) as client:
            yield client
        return
    n = args.workers if args.workers is not None else max(1, os.cpu_count() or 1)
    if n < 1:
        raise UsageError(f"--workers must be a positive integer; received {n}")
    import logging

    with LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None,
                      silence_logs=logging.ERROR) as cluster, Client(cluster) as client:
        yield client


def escape(text: str) -> str:
    """A name as printable text: control characters and the like escaped."""
    return text if text.isprintable() else text.encode("unicode_escape", "backslashreplace").decode("ascii")


def some(items: Sequence[str], limit: int = 8) -> str:
    return ", ".join(items[:limit]) + (f", … ({len(items) - limit} more)" if len(items) > limit else "")


def clip(value: Any, limit: int = 200) -> str:
    """``repr(value)`` (control characters and lone surrogates escaped), cut to ``limit`` characters."""
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 3] + "..."
