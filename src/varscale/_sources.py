"""Tensors to write and the writer that draws them region by region into one open file.

A :class:`Source` is one tensor of an output: an initializer (drawn by
regions from one fixed stream), a model-level rule's plan
(``varscale._rules.BoundPlan``) or an array (sliced by regions, a Dask array
computed region by region). :func:`write_sources` appends their bytes in C
order, drawing the next region while a background thread writes this one,
into two buffers reused for the whole output.

Example:
    >>> import io, numpy as np
    >>> import varscale as vs
    >>> src = Source("w", vs.HeNormal(seed=0), (64, 32), None)
    >>> fh = io.BytesIO()
    >>> write_sources(fh, [src], 100, Counter(src.size, None))
    >>> bool((np.frombuffer(fh.getvalue(), np.float32).reshape(64, 32) == vs.HeNormal(seed=0)((64, 32))).all())
    True
"""

from __future__ import annotations

import contextlib
import math
import os
import threading
from collections.abc import Sequence
from typing import IO, Any

import numpy as np

from ._basic import BasicInitializer, Orthogonal
from ._dtypes import resolve_dtype
from ._errors import InvalidArgumentError
from ._generate import draw, draw_into, resolve_engine
from ._initializer import VarianceScaling
from ._regions import Progress, fixed_stream, le_bytes, regions
from ._validation import check_shape
from .stream import Stream

__all__ = ["SYNC_EVERY", "Counter", "Source", "describe", "short", "write_block", "write_sources"]


def write_block(fh: IO[bytes], block: np.ndarray[Any, Any]) -> None:
    """Append the little-endian C-order bytes of ``block``."""
    fh.write(le_bytes(block))


class Source:
    """One tensor to write: an initializer (drawn by regions) or an array-like (sliced by regions)."""

    def __init__(self, name: str, source: Any, shape: Any, dtype: Any, engine: str | None = None) -> None:
        self.name = name
        self.shape = check_shape(shape)
        self.dtype = resolve_dtype(dtype)[0]
        self.engine = engine if engine is None else resolve_engine(engine)  # None: the default; same bits on each
        self.bound: Any = None
        if isinstance(source, (VarianceScaling, BasicInitializer)) and not isinstance(source, Orthogonal):
            self.init: VarianceScaling | BasicInitializer | None = source
            self.stream = fixed_stream(source)
            self.sampler = source.sampler(self.shape)
            self.array: Any = None
        elif type(source).__name__ == "BoundPlan" and hasattr(source, "block"):
            # a model-level rule's plan with its stream (varscale._rules.BoundPlan): any law, orthogonal too
            self.init = None
            self.array = None
            self.bound = source
        elif hasattr(source, "shape") and hasattr(source, "dtype") and hasattr(source, "__getitem__"):
            self.init = None
            self.array = source
            if tuple(source.shape) != self.shape:
                raise InvalidArgumentError(
                    f"tensor {name!r}: the array's shape {tuple(source.shape)} differs from the shape given; "
                    f"received shape={self.shape!r}."
                )
            if np.dtype(source.dtype) != self.dtype:
                raise InvalidArgumentError(
                    f"tensor {name!r}: the array's dtype {np.dtype(source.dtype).name} differs from the dtype given; "
                    f"received dtype={self.dtype.name!r}."
                )
        else:
            raise TypeError(
                f"tensor {name!r} must come from a varscale.VarianceScaling, a standard initializer of a per-element "
                f"law (vs.Normal, vs.TruncatedNormal, vs.Uniform, vs.Constant) or an array (NumPy, Dask) with shape, "
                f"dtype and slicing; received {source!r} of type {type(source).__name__}."
            )

    @property
    def size(self) -> int:
        return math.prod(self.shape)

    def law(self) -> tuple[Any, Stream] | None:
        """``(sampler, stream)`` when the values are a per-element law on a stream (drawn into a reused buffer)."""
        if self.init is not None:
            return self.sampler, self.stream
        if self.bound is not None and getattr(self.bound.plan, "sampler", None) is not None:
            return self.bound.plan.sampler, self.bound.stream
        return None

    def block(self, region: tuple[slice, ...]) -> np.ndarray[Any, Any]:
        law = self.law()
        if law is not None:  # an initializer's or a plan's per-element law: drawn on the engine given
            return draw(self.shape, self.dtype, law[0], law[1], region=region, engine=self.engine)
        if self.bound is not None:  # a constant or a whole matrix (orthogonal)
            out: np.ndarray[Any, Any] = self.bound.block(self.shape, self.dtype, region)
            return out
        part = self.array[region]
        if hasattr(part, "compute"):  # a Dask array: compute this region only
            part = part.compute()
        return np.asarray(part, dtype=self.dtype)


def short(value: Any, limit: int = 200) -> str:
    """``repr(value)``, cut to ``limit`` characters for a message."""
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def describe(sources: Sequence[Source]) -> str:
    """A short description of the tensors for messages: the first few, then a count."""
    shown = ", ".join(f"{s.name} {s.shape!r} {s.dtype.name}" for s in sources[:4])
    return shown + (f" and {len(sources) - 4} more tensors" if len(sources) > 4 else "")


class Counter:
    """Elements written so far, reported to ``progress``."""

    def __init__(self, total: int, report: Progress | None, done: int = 0) -> None:
        self.total, self.report, self.done = total, report, done

    def add(self, n: int) -> None:
        self.done += n
        if self.report is not None:
            self.report(self.done, self.total)


SYNC_EVERY = 256 << 20  # bytes written between two background fdatasync calls


def write_sources(fh: IO[bytes], sources: Sequence[Source], step: int, counter: Counter) -> None:
    """Draw each tensor region by region and append its bytes; drawing the next region overlaps writing this one.

    One background thread writes while the main thread draws (NumPy's writes and the kernel release the GIL),
    with at most two regions in flight, and syncs every 256 MiB so that the disk writes back during the drawing.
    """
    pending: list[tuple[threading.Thread, list[BaseException]]] = []

    def finish() -> None:
        while pending:
            t, errs = pending.pop(0)
            t.join()
            if errs:
                raise errs[0]

    unsynced = [0]

    def write(block: np.ndarray[Any, Any], errs: list[BaseException]) -> None:
        try:
            write_block(fh, block)
            unsynced[0] += block.nbytes
            if unsynced[0] >= SYNC_EVERY:  # write back while the next region is drawn: the final fsync is short
                unsynced[0] = 0
                fh.flush()
                with contextlib.suppress(OSError, AttributeError, ValueError):
                    os.fdatasync(fh.fileno())
        except BaseException as err:  # re-raised in the main thread
            errs.append(err)

    buffers: list[np.ndarray[Any, Any] | None] = [None, None]  # drawn into in turn: one is written meanwhile
    turn = 0
    try:
        for s in sources:
            law = s.law()
            storage = resolve_dtype(s.dtype)[1]
            for region, n in regions(s.shape, step):
                if law is not None and n >= 4096:
                    buf = buffers[turn]
                    if buf is None or buf.dtype != storage or buf.size < n:
                        buf = buffers[turn] = np.empty(max(n, min(step, s.size)), storage)
                    block = buf[:n]
                    draw_into(block, s.shape, s.dtype, law[0], law[1], region, engine=s.engine)
                    turn ^= 1
                else:
                    block = s.block(region)
                finish()  # the previous region is on its way to the file
                if n * s.dtype.itemsize < (1 << 20):
                    write_block(fh, block)
                else:
                    errs: list[BaseException] = []
                    t = threading.Thread(target=write, args=(block, errs), daemon=True)
                    t.start()
                    pending.append((t, errs))
                counter.add(n)
        finish()
    finally:
        for t, _ in pending:  # an exception in the main thread: no write may land after the file is removed
            t.join()


# -- Zarr: a directory, completed under a temporary name -------------------------------------------

