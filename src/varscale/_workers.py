"""Numba threads on a ``dask.distributed`` worker: a task draws on its share of the worker's threads.

A worker started with ``nthreads`` threads (``LocalCluster(threads_per_worker=...)``,
``dask worker --nthreads``) is the CPU budget its owner chose; Numba's own
default (every core of the machine, per task) would multiply it by the
tasks running at once. Inside :func:`worker_threads` the calling thread's
Numba thread count (a per-thread setting) is ``nthreads`` divided among the
tasks the worker runs at that moment (at least 1, at most Numba's maximum),
and put back on leaving. Outside a worker nothing changes.

Example:
    >>> with worker_threads():  # not on a worker: no change
    ...     pass
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator

__all__ = ["worker_share", "worker_threads"]


def worker_share() -> int | None:
    """This task's share of its worker's threads, or None outside a ``dask.distributed`` worker."""
    if "distributed" not in sys.modules:  # no worker can be running this without it
        return None
    try:
        from distributed import get_worker

        state = get_worker().state
    except (ImportError, ValueError, AttributeError):
        return None
    return max(1, int(state.nthreads) // max(1, int(state.executing_count)))


@contextlib.contextmanager
def worker_threads(engine: str | None = None) -> Iterator[None]:
    """Draw with Numba on this task's share of the worker's threads (no change off a worker or for NumPy)."""
    share = None if engine == "numpy" else worker_share()
    if share is None:
        yield
        return
    try:
        import numba
    except ImportError:  # the NumPy engine draws: nothing to set
        yield
        return
    previous = numba.get_num_threads()
    numba.set_num_threads(min(share, numba.config.NUMBA_NUM_THREADS))
    try:
        yield
    finally:
        numba.set_num_threads(previous)
