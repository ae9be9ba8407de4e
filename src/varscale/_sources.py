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


def _parallel_threads(fh: IO[bytes], sources: Sequence[Source], step: int) -> int:
    """How many threads may each draw and write their own regions at once (1: the overlapped single writer).

    Every tensor must be a per-element law drawn by the Numba engine (the default) into a real file, with at
    least four regions of ``step`` elements to share out (a small output gains nothing from more threads).
    """
    if any(s.law() is None or s.engine not in (None, "numba") for s in sources):
        return 1
    if sum(s.size for s in sources) < 4 * step:
        return 1
    try:
        fh.fileno()
        fh.tell()
    except (AttributeError, OSError, ValueError):  # io.UnsupportedOperation is an OSError and a ValueError
        return 1
    try:
        import numba
    except ImportError:  # pragma: no cover - numba is a core dependency
        return 1
    return max(1, int(numba.get_num_threads()))


def _pwrite_all(fd: int, data: memoryview, offset: int) -> None:
    while data.nbytes:
        written = os.pwrite(fd, data, offset)
        data, offset = data[written:], offset + written


def _write_parallel(fh: IO[bytes], sources: Sequence[Source], step: int, counter: Counter, nthreads: int) -> None:
    """``nthreads`` threads, each drawing a region on one Numba thread and writing it at its offset (``pwrite``).

    A thread that writes is a thread that does not draw, and the kernel's other threads would wait for it at
    the end of every region: here no thread waits for another, so every core draws or writes all the time.
    Which thread draws a region never changes its bits. The main thread reports progress, syncs every 256 MiB
    and, on an exception or a signal, stops the threads after their current region (none writes afterwards).
    """
    import queue

    import numba

    fh.flush()
    fd = fh.fileno()
    base = fh.tell()
    chunk = max(1, step // nthreads)  # one buffer of `step` elements in all, shared out: short tails per file

    def tasks() -> Any:
        offset = base
        for s in sources:
            law = s.law()
            storage = resolve_dtype(s.dtype)[1]
            for region, n in regions(s.shape, chunk):
                yield s, law, storage, region, n, offset
                offset += n * s.dtype.itemsize
        end[0] = offset

    end = [base]
    it = tasks()
    lock = threading.Lock()
    stop = threading.Event()
    done: queue.SimpleQueue[tuple[int, int] | BaseException | None] = queue.SimpleQueue()

    def work() -> None:
        buf: np.ndarray[Any, Any] | None = None
        try:
            numba.set_num_threads(1)  # this thread's own setting: one core per writer
            while not stop.is_set():
                with lock:
                    task = next(it, None)
                if task is None:
                    break
                s, law, storage, region, n, offset = task
                if buf is None or buf.dtype != storage or buf.size < n:
                    buf = np.empty(max(n, chunk), storage)
                block = buf[:n]
                draw_into(block, s.shape, s.dtype, law[0], law[1], region, engine=s.engine)
                _pwrite_all(fd, le_bytes(block), offset)
                done.put((n, block.nbytes))
        except BaseException as err:  # re-raised in the main thread
            stop.set()
            done.put(err)
        finally:
            done.put(None)

    workers = [threading.Thread(target=work, daemon=True) for _ in range(nthreads)]
    for t in workers:
        t.start()
    running, unsynced = nthreads, 0
    try:
        while running:
            try:
                item = done.get(timeout=0.2)  # a timeout: signals reach the main thread while it waits
            except queue.Empty:
                continue
            if item is None:
                running -= 1
            elif isinstance(item, BaseException):
                raise item
            else:
                counter.add(item[0])
                unsynced += item[1]
                if unsynced >= SYNC_EVERY:  # write back while drawing goes on: the final fsync is short
                    unsynced = 0
                    with contextlib.suppress(OSError):
                        os.fdatasync(fd)
    finally:
        stop.set()
        for t in workers:  # no write may land after the caller removes the file
            t.join()
    fh.seek(end[0])


def write_sources(fh: IO[bytes], sources: Sequence[Source], step: int, counter: Counter) -> None:
    """Draw each tensor region by region and append its bytes; drawing the next region overlaps writing this one.

    Into a real file, when every tensor is a per-element law on the Numba engine, one thread per core draws
    and writes its own regions at their offsets (:func:`_write_parallel`). Otherwise one background thread
    writes while the main thread draws (NumPy's writes and the kernel release the GIL), with at most two
    regions in flight. Either way the file is synced every 256 MiB so that the disk writes back during the
    drawing, and the bytes are the same.
    """
    nthreads = _parallel_threads(fh, sources, step)
    if nthreads > 1:
        _write_parallel(fh, sources, step, counter, nthreads)
        return
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

