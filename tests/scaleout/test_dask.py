"""varscale.dask: chunks generated where computed equal the in-memory tensor bit for bit.

Checked for several chunkings, dtypes and schedulers (synchronous, threads, processes, and a real
``dask.distributed.LocalCluster`` of two worker processes started here).
"""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import varscale as vs
from _support import need

SHAPE = (97, 61)
CHUNKINGS: list[Any] = ["auto", 16, (40, 61), ((50, 47), (1, 30, 30)), (7, 13), -1]


def _bits(a: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    return a.view(np.dtype(f"u{a.dtype.itemsize}"))


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    need("dask")
    distributed = need("distributed")
    cluster = distributed.LocalCluster(
        n_workers=2, processes=True, threads_per_worker=1, dashboard_address=":0", silence_logs=40
    )
    c = distributed.Client(cluster, set_as_default=False)
    try:
        yield c
    finally:
        c.close()
        cluster.close()


@pytest.mark.parametrize("chunks", CHUNKINGS, ids=str)
def test_distributed_cluster_equals_in_memory(client: Any, chunks: Any) -> None:
    from varscale.dask import array

    init = vs.VarianceScaling(2.0, "fan_avg", "truncated_normal", seed=11)
    x = array(init, SHAPE, chunks=chunks)
    got = client.compute(x).result()
    assert got.dtype == np.float32
    np.testing.assert_array_equal(_bits(got), _bits(init(SHAPE)))
    info = client.scheduler_info()
    assert len(info["workers"]) == 2


def test_chunks_are_computed_on_the_workers(client: Any) -> None:
    """Each chunk task runs on a worker process (not the client), both workers taking some."""
    from varscale.dask import array

    init = vs.HeUniform(seed=3)
    x = array(init, (400, 50), chunks=(20, 50))
    futures = client.compute(x.to_delayed().ravel().tolist())
    results = client.gather(futures)
    where = client.who_has(futures)
    assert all(len(w) == 1 for w in where.values())
    owners = {next(iter(w)) for w in where.values()}
    assert owners == set(client.scheduler_info()["workers"])  # 20 chunks spread over both workers
    np.testing.assert_array_equal(np.concatenate(results), init((400, 50)))


@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float64"])
def test_dtypes_on_cluster(client: Any, dtype: str) -> None:
    from varscale.dask import array

    init = vs.GlorotNormal(seed=vs.derive_stream(5, "layer.weight"))
    x = array(init, (30, 20, 9), dtype, chunks=(7, 8, 4))
    assert x.dtype == init((1, 1, 1), dtype).dtype
    np.testing.assert_array_equal(_bits(client.compute(x).result()), _bits(init((30, 20, 9), dtype)))


@pytest.mark.parametrize("scheduler", ["synchronous", "threads", "processes"])
def test_local_schedulers(scheduler: str) -> None:
    need("dask")
    from varscale.dask import array

    init = vs.LecunNormal(seed=2**64 - 1)
    expect = init((64, 48, 3))
    for chunks in [(8, 48, 3), (64, 5, 1), "auto"]:
        got = array(init, (64, 48, 3), chunks=chunks).compute(scheduler=scheduler)
        np.testing.assert_array_equal(got, expect)


def test_seed_override_and_fresh_stream() -> None:
    need("dask")
    from varscale.dask import array

    fresh = vs.HeNormal()  # seed=None: one stream is fixed per array, all chunks are slices of it
    x = array(fresh, (50, 40), chunks=(9, 11))
    a, b = x.compute(), x.compute()
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(x[13:31, 5:29].compute(), a[13:31, 5:29])
    stream = vs.Stream(99, 7)
    np.testing.assert_array_equal(array(fresh, (50, 40), chunks=7, seed=stream).compute(),
                                  vs.HeNormal(seed=stream)((50, 40)))
    np.testing.assert_array_equal(array(vs.HeNormal(seed=1), (50, 40), seed=4).compute(), vs.HeNormal(seed=4)((50, 40)))


def test_graph_name_is_deterministic() -> None:
    need("dask")
    from varscale.dask import array

    def name(**kw: Any) -> str:
        args: dict[str, Any] = {"init": vs.HeNormal(seed=1), "shape": (20, 30), "chunks": 10} | kw
        return str(array(**args).name)

    assert name() == name()
    others = [name(init=vs.HeNormal(seed=2)), name(init=vs.HeUniform(seed=1)), name(shape=(30, 20)),
              name(chunks=5), name(dtype="float64"), name(seed=1)]
    assert name() not in others[:-1]
    assert others[-1] == name()  # seed=1 is the initializer's own seed: the same array
    assert len(set(others[:-1])) == len(others) - 1


def test_edge_shapes() -> None:
    need("dask")
    from varscale.dask import array

    init = vs.HeNormal(seed=0)
    assert array(init, ()).compute() == init(())
    assert array(init, (0, 4)).compute().shape == (0, 4)
    np.testing.assert_array_equal(array(init, (1000,), chunks=333).compute(), init((1000,)))


def test_bad_arguments() -> None:
    need("dask")
    from varscale.dask import array

    with pytest.raises(TypeError, match=r"`init` must be a varscale\.VarianceScaling"):
        array("he_normal", (3, 3))
    with pytest.raises(vs.InvalidArgumentError, match="dtype"):
        array(vs.HeNormal(seed=0), (3, 3), dtype="int32")
    with pytest.raises(vs.InvalidArgumentError, match="seed"):
        array(vs.HeNormal(seed=0), (3, 3), seed=-1)
    with pytest.raises(ValueError, match="shape"):
        array(vs.HeNormal(seed=0), (3, -3))


def test_import_varscale_imports_no_framework() -> None:
    frameworks = ["dask", "distributed", "zarr", "safetensors", "torch", "jax"]
    code = f"import sys, varscale, varscale.io; print(*[m in sys.modules for m in {frameworks!r}])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False"] * len(frameworks)


@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_random_chunkings_equal_the_tensor(data: st.DataObject) -> None:
    need("dask")
    from varscale.dask import array

    shape = tuple(data.draw(st.lists(st.integers(0, 12), min_size=1, max_size=3), label="shape"))
    chunks = tuple(data.draw(st.integers(1, max(1, n)), label=f"chunk{i}") for i, n in enumerate(shape))
    dtype = data.draw(st.sampled_from(["float32", "float64", "float16", "bfloat16"]), label="dtype")
    init = vs.VarianceScaling(1.5, "fan_avg", data.draw(st.sampled_from(["uniform", "truncated_normal"])), seed=77)
    got = array(init, shape, dtype, chunks=chunks).compute(scheduler="synchronous")
    np.testing.assert_array_equal(_bits(got), _bits(init(shape, dtype)))


@pytest.mark.parametrize("threads", [1, 2])
def test_numba_threads_follow_the_worker_thread_count(threads: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """A chunk task on a ``dask.distributed`` worker draws on the worker's threads, not on every core (issue 17:
    each worker ran 2 Numba threads with ``threads_per_worker=1``); the thread's own setting is put back."""
    need("dask")
    distributed = need("distributed")
    numba = need("numba")
    import varscale.dask as vsd

    if numba.config.NUMBA_NUM_THREADS < 2:
        pytest.skip("Numba has a single thread here: nothing to tell apart")
    seen: list[tuple[int, str]] = []
    real = vsd.draw

    def recording(*args: Any, **kwargs: Any) -> Any:
        seen.append((numba.get_num_threads(), threading.current_thread().name))
        return real(*args, **kwargs)

    monkeypatch.setattr(vsd, "draw", recording)
    init = vs.HeNormal(seed=4)
    with distributed.LocalCluster(n_workers=1, processes=False, threads_per_worker=threads, dashboard_address=":0",
                                  silence_logs=40) as cluster, distributed.Client(cluster, set_as_default=False) as c:
        got = c.compute(vsd.array(init, (64, 32), chunks=(64, 32))).result()  # one chunk: the whole worker
        after = c.submit(lambda: numba.get_num_threads(), pure=False).result()
    np.testing.assert_array_equal(got, init((64, 32)))
    assert [n for n, _ in seen] == [min(threads, numba.config.NUMBA_NUM_THREADS)], seen
    assert after == numba.config.NUMBA_NUM_THREADS  # put back on the worker's thread
    seen.clear()
    vsd.array(init, (64, 32), chunks=(64, 32)).compute(scheduler="threads")  # not on a worker: no change
    assert [n for n, _ in seen] == [numba.get_num_threads()]
