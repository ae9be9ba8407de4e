"""Draw a tensor (or a region of one) from the stream with a chosen engine."""

from __future__ import annotations

import math
import os
from typing import Any

import numpy as np

from ._dtypes import resolve_dtype
from ._errors import InvalidArgumentError, unknown_name
from ._plan import Sampler, plan_region
from .stream import Stream

__all__ = ["ENGINES", "check_fits_memory", "default_engine", "draw", "draw_into", "resolve_engine"]

ENGINES = ("numba", "numpy")

_numba_ok: bool | None = None


def _numba_available() -> bool:
    global _numba_ok
    if _numba_ok is None:
        try:
            from . import _engine_numba  # noqa: F401
        except ImportError:
            _numba_ok = False
        else:
            _numba_ok = True
    return _numba_ok


def default_engine() -> str:
    """``"numba"`` when Numba imports, else ``"numpy"``; ``VARSCALE_ENGINE`` overrides."""
    env = os.environ.get("VARSCALE_ENGINE")
    if env:
        return resolve_engine(env, "VARSCALE_ENGINE")
    return "numba" if _numba_available() else "numpy"


def resolve_engine(engine: Any, argument: str = "engine") -> str:
    """Validate an engine name; None gives the default engine."""
    if engine is None:
        return default_engine()
    if not isinstance(engine, str):
        raise TypeError(f"`{argument}` must be None, 'numba' or 'numpy'; received {argument}={engine!r}.")
    if engine not in ENGINES:
        raise unknown_name(argument, engine, ENGINES)
    if engine == "numba" and not _numba_available():
        raise InvalidArgumentError(
            f"`{argument}`='numba' needs Numba, which failed to import; use engine='numpy'."
        )
    return engine


def _available_memory() -> int | None:
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return None


def check_fits_memory(shape: tuple[int, ...], dtype: np.dtype[Any]) -> None:
    """Raise before allocating when an array of ``shape`` and ``dtype`` cannot fit in this machine's memory."""
    nbytes = math.prod(shape) * dtype.itemsize
    limit = _available_memory()
    if limit is not None and nbytes > limit:
        raise InvalidArgumentError(
            f"the requested output needs {nbytes} bytes ({nbytes / 2**30:.1f} GiB) for shape={shape!r} "
            f"and dtype={dtype.name!r}, more than this machine's {limit / 2**30:.1f} GiB of memory; "
            f"generate it by regions (region=...) or with varscale.dask."
        )


def draw(
    shape: tuple[int, ...],
    dtype: Any,
    sampler: Sampler,
    stream: Stream,
    region: Any = None,
    engine: Any = None,
) -> np.ndarray[Any, Any]:
    """Return ``full[region]`` where ``full`` is the tensor of ``shape`` drawn from ``stream``."""
    out_dtype, storage, fmt = resolve_dtype(dtype)
    name = resolve_engine(engine)

    def guard(out_shape: tuple[int, ...]) -> None:
        # runs before the plan allocates anything of the region's size
        check_fits_memory(out_shape, out_dtype)

    plan = plan_region(shape, region, check=guard)
    flat = np.empty(plan.size, dtype=storage)
    if name == "numba":
        from . import _engine_numba as eng
    else:
        from . import _engine_numpy as eng  # type: ignore[no-redef]
    eng.fill(flat, plan, stream, sampler, fmt)
    return flat.view(out_dtype).reshape(plan.out_shape)


def draw_into(
    out: np.ndarray[Any, Any],
    shape: tuple[int, ...],
    dtype: Any,
    sampler: Sampler,
    stream: Stream,
    region: Any = None,
    engine: Any = None,
) -> None:
    """Write ``full[region]`` into ``out`` (a C-contiguous array of the region's size, in ``dtype``'s
    storage: float32/float64, or uint16 bits for float16/bfloat16) without any other allocation of its size.

    Same bits as :func:`draw`; used to fill a framework tensor's memory in place.
    """
    _, storage, fmt = resolve_dtype(dtype)
    plan = plan_region(shape, region)
    flat = out.reshape(-1)
    if flat.dtype != storage or flat.size != plan.size or not np.shares_memory(flat, out):
        raise InvalidArgumentError(
            f"`out` must be a contiguous array of {plan.size} {storage.name} elements; received "
            f"{out.size} {out.dtype.name} elements."
        )
    name = resolve_engine(engine)
    if name == "numba":
        from . import _engine_numba as eng
    else:
        from . import _engine_numpy as eng  # type: ignore[no-redef]
    eng.fill(flat, plan, stream, sampler, fmt)
