"""Concurrency: the same bits from many threads, any thread count, any scheduler.

* 8 Python threads call one initializer at once (both engines, several
  dtypes, regions) and get exactly the bits of sequential calls;
* Numba's pool under nested use: kernels launched from the threads of a
  ``ThreadPoolExecutor`` (each thread with its own Numba thread count) and
  from tasks of Dask's threaded scheduler;
* under Numba's ``workqueue`` threading layer (which aborts the process on
  concurrent launches) the kernel still works from many threads: a subprocess
  per threading layer, so that an abort fails the test instead of the run.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import zlib
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pytest

import varscale as vs
from _support import need

THREADS = 8

JOBS: list[tuple[tuple[int, ...], str, Any]] = [
    ((128, 512), "float32", None),
    ((32, 32, 3, 3), "float64", None),
    ((150, 350), "bfloat16", None),
    ((150, 350), "float16", (slice(None), slice(100, 300, 3))),
    ((2048, 33), "float32", (slice(None, None, -7), 5)),
    ((5, 1024, 17), "float64", (..., slice(2, 9))),
]


def _bits(a: np.ndarray[Any, Any]) -> bytes:
    return np.ascontiguousarray(a).tobytes()


def _run_jobs(init: vs.VarianceScaling, engine: str, order: list[int]) -> dict[int, bytes]:
    return {i: _bits(init(JOBS[i][0], JOBS[i][1], region=JOBS[i][2], engine=engine)) for i in order}


@pytest.mark.parametrize("engine", ["numba", "numpy"])
@pytest.mark.parametrize("distribution", ["truncated_normal", "uniform"])
def test_threads_give_sequential_bits(engine: str, distribution: str) -> None:
    init = vs.VarianceScaling(2.0, "fan_avg", distribution, seed=2**63 + 11)
    sequential = _run_jobs(init, engine, list(range(len(JOBS))))
    barrier = threading.Barrier(THREADS)
    results: list[dict[int, bytes]] = [{} for _ in range(THREADS)]
    errors: list[BaseException] = []

    def work(t: int) -> None:
        try:
            rng = np.random.default_rng(t)
            order = [int(i) for i in rng.permutation(len(JOBS))]
            barrier.wait()
            results[t] = _run_jobs(init, engine, order)
        except BaseException as err:
            errors.append(err)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(THREADS)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not errors, errors
    for t in range(THREADS):
        assert results[t] == sequential, f"thread {t} differs"
    # and the engines agree with each other
    other = _run_jobs(init, "numpy" if engine == "numba" else "numba", [0, 3])
    assert other == {i: sequential[i] for i in (0, 3)}


def test_numba_thread_counts_inside_executor() -> None:
    numba = need("numba")
    init = vs.HeUniform(seed=5)
    shape = (512, 2048)
    expected = _bits(init(shape, engine="numpy"))
    max_threads = numba.config.NUMBA_NUM_THREADS

    def task(i: int) -> bytes:
        numba.set_num_threads(1 + i % max_threads)  # thread-local in Numba
        parts = [init(shape, region=(slice(r, r + 128),), engine="numba") for r in range(0, 512, 128)]
        return _bits(np.concatenate(parts))

    with ThreadPoolExecutor(THREADS) as pool:
        outs = list(pool.map(task, range(4 * THREADS)))
    assert all(o == expected for o in outs)


def test_dask_threaded_scheduler() -> None:
    dask = need("dask")
    da = need("dask.array")
    init = vs.HeNormal(seed=9)
    shape, chunks = (1000, 600), (128, 100)

    def block(block_info: Any = None) -> np.ndarray[Any, Any]:
        loc = block_info[None]["array-location"]
        return init(shape, region=tuple(slice(a, b) for a, b in loc), engine="numba")

    arr = da.from_array(np.empty(shape, np.float32), chunks=chunks).map_blocks(
        lambda x, block_info=None: block(block_info), dtype=np.float32
    )
    with dask.config.set(scheduler="threads", num_workers=THREADS):
        got = arr.compute()
    assert _bits(got) == _bits(init(shape, engine="numpy"))


_CHILD = r"""
import sys, zlib
from concurrent.futures import ThreadPoolExecutor
import numba, numpy as np
import varscale as vs
init = vs.GlorotNormal(seed=3)
shapes = [(384, 1024), (1000, 257), (64, 64, 9)]
with ThreadPoolExecutor(8) as pool:
    outs = list(pool.map(lambda i: init(shapes[i % 3], engine="numba").tobytes(), range(48)))
crcs = sorted({(i % 3, zlib.crc32(o)) for i, o in enumerate(outs)})
print(numba.threading_layer(), crcs)
"""


@pytest.mark.parametrize("layer", ["default", "workqueue"])
def test_threading_layers_in_subprocess(layer: str) -> None:
    env = dict(os.environ)
    env.setdefault("NUMBA_CACHE_DIR", "/tmp/nbcache-rel")
    if layer != "default":
        env["NUMBA_THREADING_LAYER"] = layer
    proc = subprocess.run([sys.executable, "-c", _CHILD], env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    name, _, crcs = proc.stdout.strip().partition(" ")
    if layer != "default":
        assert name == layer
    init = vs.GlorotNormal(seed=3)
    shapes = [(384, 1024), (1000, 257), (64, 64, 9)]
    expected = sorted((i, zlib.crc32(init(s, engine="numpy").tobytes())) for i, s in enumerate(shapes))
    assert crcs == repr(expected)


def test_varscale_dask_array_threaded_scheduler() -> None:
    """``varscale.dask.array`` (once it lands) under the threaded scheduler, 8 workers."""
    dask = need("dask")
    try:
        vdask = __import__("varscale.dask", fromlist=["array"])
    except ImportError:
        pytest.skip("varscale.dask has not landed yet")
    init = vs.VarianceScaling(0.5, "fan_out", "untruncated_normal", seed=2**64 - 1)
    shape = (700, 900)
    expected = _bits(init(shape, engine="numpy"))
    for chunks in ((100, 100), (7, 900), (700, 13)):
        arr = vdask.array(init, shape, "float32", chunks=chunks)
        with dask.config.set(scheduler="threads", num_workers=THREADS):
            assert _bits(arr.compute()) == expected, chunks
