"""Draw a tensor (or a region of one) from the stream with a chosen engine.

Both engines give the same bits, so which one runs is invisible except for
speed. With ``engine=None`` (the default, ``"auto"``) every request is drawn
by the compiled kernel once it is loaded (measured: from 256 elements up it is
faster than the NumPy engine, 7x to 20x from 4096 up). Until then the NumPy
engine draws; the kernel is prepared once this process has drawn
``PREPARE_AFTER`` elements: loaded from Numba's cache at once when it is there
(about 0.5 s, the NumPy engine's time for a few million elements), else
compiled by a child process (once per machine, 10 to 20 s on 2 cores, at a
lower priority; it fills the cache even if this process exits first). The
child starts right away for a request of ``COMPILE_DURING`` elements or more
(whose NumPy time exceeds the compile's): the NumPy engine draws it in pieces
of ``PIECE`` elements and the rest switches to the kernel as soon as it is
ready. For a smaller request the child starts once the request is drawn: it
could not finish in time and would only compete for the CPU (measured: +0.7 s
on a 4096x4096 float32 draw of 1.5 s on 2 cores). A process that draws little
(the README's 73 728-element tensor) never imports Numba. ``VARSCALE_ENGINE`` (``numba``
or ``numpy``) overrides the choice; an explicit ``engine="numba"`` waits for
the kernel.

After ``fork()`` a child whose parent was compiling the kernel (its compile
child belongs to the parent) draws with the NumPy engine, an explicit
``engine="numba"`` included, until the cache holds the kernel (its next draw
of ``PIECE`` elements or more then loads it); a kernel that was ready in the
parent works in the child as is (it runs on plain threads, no OpenMP).

Example:
    >>> import numpy as np
    >>> import varscale as vs
    >>> init = vs.HeNormal(seed=0)
    >>> a = draw((64, 32), "float32", init.sampler((64, 32)), vs.derive_stream(0, "w"), engine="numpy")
    >>> b = draw((64, 32), "float32", init.sampler((64, 32)), vs.derive_stream(0, "w"), engine="numba")
    >>> bool(np.array_equal(a, b))  # the same bits from either engine
    True
"""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import logging
import math
import os
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from ._codes import Format
from ._dtypes import DTypeLike, resolve_dtype
from ._errors import InvalidArgumentError, unknown_name
from ._plan import Plan, Region, Sampler, plan_region
from .stream import Stream

__all__ = [
    "ENGINES",
    "check_fits_memory",
    "default_engine",
    "draw",
    "kernel_state",
    "prepare_kernel",
    "resolve_engine",
    "set_compile_listener",
]

ENGINES = ("numba", "numpy")

PREPARE_AFTER = 1 << 22
COMPILE_DURING = 1 << 28
PIECE = 1 << 20

COMPILE_MESSAGE = (
    "varscale: compiling the kernel (all dtypes), once for this machine: 10-20 s{how}; "
    "`varscale warmup` does it ahead of time"
)

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


def _numba_installed() -> bool:
    """Numba can be imported (checked without importing it)."""
    if _numba_ok is not None:
        return _numba_ok
    return importlib.util.find_spec("numba") is not None


class _Kernel:
    """The compiled kernel's life in this process: absent → (compiling →) ready, or failed.

    ``poll`` does every step in the calling thread, under a lock, between
    pieces of work: a kernel in Numba's cache is loaded at once (about 0.5 s,
    Numba's import included); a kernel that must be compiled is compiled by a
    child process (a compile in a thread of this one would hold the GIL most
    of the time and slow the NumPy engine, drawing meanwhile, five-fold),
    which fills the cache and finishes even if this process exits first; once
    the child is done the kernel is loaded from the cache.
    """

    def __init__(self) -> None:
        self.state = "absent"
        self.error: BaseException | None = None
        self.lock = threading.Lock()
        self.drawn = 0
        self.listener: Callable[[str], None] | None = None
        self.compiled_here = False  # this process (or its compile child) compiled it: the cache was cold
        self.proc: Any = None  # the compile child

    def _announce(self, background: bool) -> None:
        self.compiled_here = True
        how = " in the background, the NumPy engine draws meanwhile" if background else ""
        if self.listener is not None:
            self.listener(COMPILE_MESSAGE.format(how=how))
        else:  # library use: the "varscale" logger (silent unless the program configures logging)
            logging.getLogger("varscale").info(COMPILE_MESSAGE.format(how=how))

    def _spawn(self) -> Any:
        # this varscale's folder goes last on the child's path: found when nothing else provides varscale,
        # and never shadowing the standard library (as a PYTHONPATH entry would)
        root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        if getattr(sys, "frozen", False) or not sys.executable:  # no Python interpreter to start
            raise OSError("no Python executable to run the compile in")
        code = (f"import os, sys; hasattr(os, 'nice') and os.nice(10); sys.path.append({root!r}); "
                "from varscale._generate import _compile_child; _compile_child()")
        return subprocess.Popen(
            [sys.executable, "-c", code],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )

    def _start_child(self) -> bool:
        try:
            self.proc = self._spawn()
        except OSError:  # no child processes here: the NumPy engine goes on
            self.state = "failed"
            return False
        self._announce(background=True)
        self.state = "compiling"
        return False

    def poll(self, wait: bool) -> bool:
        """Advance the kernel's preparation; True when it is ready.

        ``wait``: compile here (or wait for the compile child) instead of
        returning False while a compile is under way.
        """
        with self.lock:
            if self.state == "unavailable" and not wait and not _surely_cold():
                # a fork() child of a compiling parent: the parent's compile child has filled the cache
                with contextlib.suppress(Exception):
                    from . import _engine_numba as eng

                    if eng.is_compiled() or eng.is_cached():
                        eng.compile_kernel()
                        self.state = "ready"
            if self.state in ("ready", "unavailable") or (self.state == "failed" and not wait):
                return self.state == "ready"
            if self.state == "failed":  # an explicit request tries again, compiling here if need be
                self.state = "absent"
            try:
                if self.state == "absent" and not wait and "numba" not in sys.modules and _surely_cold():
                    return self._start_child()  # not even Numba's import on this path
                from . import _engine_numba as eng

                if self.state == "absent":
                    if not (eng.is_compiled() or eng.is_cached()):
                        if not wait:
                            return self._start_child()
                        self._announce(background=False)
                elif self.state == "compiling":
                    if wait:
                        self.proc.wait()
                    elif self.proc.poll() is None:
                        return False
                    if not wait and not (eng.is_compiled() or eng.is_cached()):
                        # the child could not fill the cache (read-only, full): no compile in this thread
                        raise RuntimeError(f"the kernel's compile process ended ({self.proc.returncode}) "
                                           f"without filling Numba's cache")
                eng.compile_kernel()  # loads it from the cache unless a compile is needed here
            except Exception as err:  # reported to explicit callers; auto falls back to NumPy
                self.error = err
                self.state = "failed"
                return False
            self.state = "ready"
            return True

    def after_fork_in_child(self) -> None:
        self.lock = threading.Lock()
        if self.state == "compiling":  # the compile child is the parent's
            self.state = "unavailable"
            self.proc = None


@functools.lru_cache(maxsize=1)
def _index_name(here: str) -> str | None:
    """The file name of the kernel's index in Numba's cache (named after ``_tasks``'s first line)."""
    try:
        with open(os.path.join(here, "_engine_numba.py"), encoding="utf-8") as fh:
            lines = fh.read().splitlines()
        line = next(i for i, text in enumerate(lines) if text.startswith("def _tasks("))
    except (OSError, StopIteration):
        return None
    while line > 0 and lines[line - 1].startswith("@"):
        line -= 1  # the first line of a decorated function is its first decorator's
    return f"_engine_numba._tasks-{line + 1}.py{sys.version_info[0]}{sys.version_info[1]}.nbi"


def _surely_cold() -> bool:
    """True when Numba's cache surely lacks the kernel (decided without importing Numba).

    Numba caches in ``NUMBA_CACHE_DIR`` when it is set, else in ``__pycache__``
    beside the source, else in ``~/.cache/numba``; the index file is named
    after the function and its first line (``_engine_numba._tasks-313.py311.nbi``).
    A found index may still be stale (``is_cached`` decides then, after Numba's
    import); none found means a compile for certain.
    """
    here = os.path.dirname(os.path.abspath(__file__))
    name = _index_name(here)
    if name is None:
        return False
    user = os.environ.get("NUMBA_CACHE_DIR")
    if user:
        roots, places = [user], []
    else:
        roots = [os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "numba")]
        places = [os.path.join(here, "__pycache__")]
    for root in roots:
        with contextlib.suppress(OSError):
            places += [e.path for e in os.scandir(root) if e.is_dir() and e.name.startswith("varscale")]
    return not any(os.path.exists(os.path.join(p, name)) for p in places)


def _compile_child() -> None:
    """The background compile's child process: compile the kernel into Numba's on-disk cache.

    Started at a lower priority (``nice 10``, before any import): on a busy
    machine the foreground work, the NumPy engine drawing meanwhile, goes first.
    """
    from . import _engine_numba as eng

    eng.compile_kernel()


_KERNEL = _Kernel()
if hasattr(os, "register_at_fork"):  # POSIX
    os.register_at_fork(after_in_child=_KERNEL.after_fork_in_child)


def kernel_state() -> str:
    """``"absent"``, ``"compiling"``, ``"ready"``, ``"failed"`` or ``"unavailable"`` (fork child, see module doc)."""
    return _KERNEL.state


def set_compile_listener(listener: Callable[[str], None] | None) -> None:
    """Call ``listener(message)`` just before the kernel is compiled (not when it loads from the cache).

    Without a listener the message goes to the ``varscale`` logger at INFO level.
    """
    _KERNEL.listener = listener


def prepare_kernel() -> bool:
    """Load the compiled kernel, compiling it (once per machine) when Numba's cache lacks it.

    Returns True when this call compiled it, False when it was loaded or
    already there. Raises when Numba is unavailable or the compile fails.
    ``varscale warmup`` runs it.
    """
    resolve_engine("numba")
    if not _KERNEL.poll(wait=True):
        _raise_kernel_error()
    return _KERNEL.compiled_here


def _raise_kernel_error() -> None:
    if _KERNEL.state == "unavailable":
        raise InvalidArgumentError(
            "the compiled kernel cannot be prepared in this fork() child (its parent was compiling it); "
            "use engine='numpy' (the same bits) or draw once in the parent before forking."
        )
    raise InvalidArgumentError(f"the compiled kernel failed to build: {_KERNEL.error!r}") from _KERNEL.error


def default_engine() -> str:
    """``"auto"`` (see the module doc); ``VARSCALE_ENGINE`` (``numba`` or ``numpy``) overrides."""
    env = os.environ.get("VARSCALE_ENGINE")
    if env:
        return resolve_engine(env, "VARSCALE_ENGINE")
    return "auto" if _numba_installed() else "numpy"


def resolve_engine(engine: Any, argument: str = "engine") -> str:
    """Validate an engine name; None gives the default engine (``"auto"`` unless overridden)."""
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


def _pieces(plan: Plan, piece: int) -> Iterator[tuple[int, Plan]]:
    """Split a plan into consecutive sub-plans of about ``piece`` elements: (output offset, sub-plan)."""
    starts, run_len, stride = plan.starts, plan.run_len, plan.stride
    if run_len >= piece:
        for r in range(len(starts)):
            for j0 in range(0, run_len, piece):
                n = min(piece, run_len - j0)
                sub = np.array([int(starts[r]) + j0 * stride], dtype=np.int64)
                yield r * run_len + j0, Plan(sub, n, stride, (n,))
    else:
        rows = max(1, piece // max(run_len, 1))
        for r0 in range(0, len(starts), rows):
            sub = starts[r0 : r0 + rows]
            yield r0 * run_len, Plan(sub, run_len, stride, (len(sub) * run_len,))


def _fill(flat: np.ndarray[Any, Any], plan: Plan, stream: Stream, sampler: Sampler, fmt: Format, name: str) -> None:
    """Fill ``flat`` with the plan's elements using engine ``name`` (``"auto"``: see the module doc)."""
    from . import _engine_numpy as ref

    k = _KERNEL
    if name == "numba":
        if k.poll(wait=True):
            from . import _engine_numba as eng

            eng.fill(flat, plan, stream, sampler, fmt)
            return
        if k.state != "unavailable":
            _raise_kernel_error()
        name = "numpy"  # a fork() child that cannot build it: the same bits from the reference
    if name == "numpy":
        ref.fill(flat, plan, stream, sampler, fmt)
        return
    deferred = False
    if k.state == "unavailable" and plan.size >= PIECE:
        k.poll(wait=False)  # loads the kernel once the parent's compile child has filled the cache
    if k.state == "absent":
        k.drawn += plan.size
        if k.drawn >= PREPARE_AFTER:
            # a compile cannot finish within a request shorter than COMPILE_DURING: its child would only
            # compete with the NumPy engine for the CPU, so it starts once this request is drawn
            deferred = plan.size < COMPILE_DURING and "numba" not in sys.modules and _surely_cold()
            if not deferred:
                k.poll(wait=False)
    for off, sub in _pieces(plan, PIECE) if k.state == "compiling" else [(0, plan)]:
        part = flat[off : off + sub.size]
        if k.state == "ready" or (k.state == "compiling" and k.poll(wait=False)):
            from . import _engine_numba as eng

            eng.fill(part, sub, stream, sampler, fmt)
        else:
            ref.fill(part, sub, stream, sampler, fmt)
    if deferred:
        k.poll(wait=False)


def _available_memory() -> int | None:
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return None


def check_fits_memory(shape: tuple[int, ...], dtype: np.dtype[Any], plan_bytes: int = 0) -> None:
    """Raise before allocating when an array of ``shape`` and ``dtype`` cannot fit in this machine's memory.

    ``plan_bytes`` is what the region's plan needs beside the output (its
    int64 run starts: a column of a tall matrix has one per row).
    """
    nbytes = math.prod(shape) * dtype.itemsize
    limit = _available_memory()
    if limit is not None and nbytes + plan_bytes > limit:
        plan = (f" plus {plan_bytes} bytes ({plan_bytes / 2**30:.1f} GiB) for the region's plan (one int64 start "
                f"per run of consecutive elements)") if plan_bytes else ""
        raise InvalidArgumentError(
            f"the requested output needs {nbytes} bytes ({nbytes / 2**30:.1f} GiB) for shape={shape!r} "
            f"and dtype={dtype.name!r}{plan}, more than this machine's {limit / 2**30:.1f} GiB of memory; "
            f"generate it by regions (region=...) or with varscale.dask."
        )


def draw(
    shape: tuple[int, ...],
    dtype: DTypeLike,
    sampler: Sampler,
    stream: Stream,
    region: Region = None,
    engine: str | None = None,
    *,
    out: np.ndarray[Any, Any] | None = None,
) -> np.ndarray[Any, Any]:
    """Return ``full[region]`` where ``full`` is the tensor of ``shape`` drawn from ``stream``.

    ``out``, if given, receives the values without any other allocation of the region's size (a framework
    tensor's memory filled in place): a C-contiguous array of the region's size in ``dtype``'s storage
    (float32/float64, or uint16 bits for float16/bfloat16); the result is then ``out`` viewed as ``dtype``.
    """
    out_dtype, storage, fmt = resolve_dtype(dtype)
    name = resolve_engine(engine)

    def guard(out_shape: tuple[int, ...], plan_bytes: int) -> None:
        # runs before the plan allocates anything of the region's size: the output (unless given) and the
        # plan's starts
        check_fits_memory(out_shape if out is None else (0,), out_dtype, plan_bytes)

    plan = plan_region(shape, region, check=guard)
    if out is None:
        flat = np.empty(plan.size, dtype=storage)
    else:
        flat = out.reshape(-1)
        if flat.dtype != storage or flat.size != plan.size or not np.shares_memory(flat, out):
            raise InvalidArgumentError(
                f"`out` must be a contiguous array of {plan.size} {storage.name} elements; received "
                f"{out.size} {out.dtype.name} elements."
            )
    _fill(flat, plan, stream, sampler, fmt, name)
    return flat.view(out_dtype).reshape(plan.out_shape)


def draw_into(out: np.ndarray[Any, Any], shape: tuple[int, ...], dtype: DTypeLike, sampler: Sampler, stream: Stream,
              region: Region = None, engine: str | None = None) -> None:
    """:func:`draw` into ``out`` (see its ``out``): the same bits, written in place."""
    draw(shape, dtype, sampler, stream, region, engine, out=out)
