"""Memory guard: an output that cannot fit in memory fails fast, before
anything of its size is allocated, with an error naming the size.

Checked for the core (whole tensors and regions, both engines), at the exact
limit (with the machine's memory patched down), and for every facade that
draws through the core.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import os
import resource
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import varscale as vs
from _support import with_file_size_limit
from varscale import InvalidArgumentError

HUGE = (2**40, 2**10)  # 4 PiB of float32
HUGE_BYTES = str(2**50 * 4)


def _fails_fast(call: Callable[[], object], *fragments: str) -> None:
    tracemalloc.start()
    start = time.perf_counter()
    try:
        with pytest.raises(InvalidArgumentError) as info:
            call()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    elapsed = time.perf_counter() - start
    msg = str(info.value)
    for fragment in fragments:
        assert fragment in msg, f"{fragment!r} not in {msg!r}"
    assert "GiB" in msg and "region" in msg  # the size in words, and what to do instead
    assert peak < 64 * 2**20, f"{peak} bytes were allocated before the refusal"
    assert elapsed < 5.0, f"the refusal took {elapsed:.1f} s"


@pytest.mark.parametrize("engine", ["numba", "numpy"])
@pytest.mark.parametrize(
    ("shape", "dtype", "region", "fragments"),
    [
        (HUGE, "float32", None, (HUGE_BYTES, "(1099511627776, 1024)", "'float32'")),
        (HUGE, "float64", None, (str(2**50 * 8), "'float64'")),
        (HUGE, "bfloat16", (slice(None), slice(0, 512)), (str(2**40 * 512 * 2), "(1099511627776, 512)")),
        ((2**36, 4), "float32", (slice(None), slice(0, 1)), ("274877906944 bytes", "(68719476736, 1)")),
        ((2**36, 4), "float32", (slice(None, None, 2), 1), ("137438953472 bytes", "(34359738368,)")),
    ],
)
def test_core_guard(engine: str, shape: tuple[int, ...], dtype: str, region: Any, fragments: tuple[str, ...]) -> None:
    init = vs.HeNormal(seed=0)
    _fails_fast(lambda: init(shape, dtype, region=region, engine=engine), *fragments)


def test_guard_at_the_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    gen = importlib.import_module("varscale._generate")
    monkeypatch.setattr(gen, "_available_memory", lambda: 2**20)
    init = vs.GlorotUniform(seed=1)
    assert init((512, 512)).nbytes == 2**20  # exactly the limit: allowed
    assert init((1024, 1024), region=(slice(0, 256),)).nbytes == 2**20
    with pytest.raises(InvalidArgumentError, match=r"needs 1050624 bytes .* shape=\(513, 512\)"):
        init((513, 512))  # one row more than the limit
    with pytest.raises(InvalidArgumentError, match=r"needs 2097152 bytes .* dtype='float64'"):
        init((512, 512), "float64")
    # an in-range region of an out-of-range tensor is fine
    part = init((2**30, 512), region=(slice(5, 7),))
    assert part.shape == (2, 512)


def _facade(module: str, build: Callable[[Any], Callable[[], object]]) -> Callable[[], object]:
    return build(importlib.import_module(module))


FACADES = [
    pytest.param("varscale.compat.keras.initializers", lambda m: lambda: m.HeNormal(seed=0)(HUGE), id="keras"),
    pytest.param("varscale.compat.tf1", lambda m: lambda: m.VarianceScaling(seed=0)(HUGE), id="tf1"),
    pytest.param("varscale.compat.tf_contrib.layers",
                 lambda m: lambda: m.variance_scaling_initializer(seed=0)(HUGE), id="tf_contrib"),
    pytest.param("varscale.compat.jax.nn.initializers",
                 lambda m: lambda: m.variance_scaling(1.0, "fan_in", "truncated_normal")(0, HUGE), id="jax"),
    pytest.param("varscale.compat.mindspore.common.initializer",
                 lambda m: lambda: m.initializer(m.HeNormal(), HUGE), id="mindspore"),
]


@pytest.mark.parametrize(("module", "build"), FACADES)
def test_facade_guard(module: str, build: Callable[[Any], Callable[[], object]]) -> None:
    call = _facade(module, build)
    with pytest.raises(InvalidArgumentError):
        call()  # a first call may import the facade's helpers: not counted below
    _fails_fast(call, HUGE_BYTES, "(1099511627776, 1024)")


def test_numpy_allocation_would_really_fail() -> None:
    """The guard is needed: NumPy itself cannot allocate HUGE (a MemoryError, not a clear error)."""
    with pytest.raises(MemoryError):
        np.empty(HUGE, dtype=np.float32)


# --- writers: an output larger than the free disk space fails before writing ----

@contextlib.contextmanager
def _file_size_limit(nbytes: int) -> Iterator[None]:
    """A regression that streams a huge output must hit EFBIG here, not fill the disk."""
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (nbytes if hard == resource.RLIM_INFINITY else min(nbytes, hard),
                                              hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))


@pytest.mark.parametrize("name", ["write_npy", "write_safetensors"])
def test_io_writer_refuses_output_larger_than_free_disk(name: str, tmp_path: Path) -> None:
    try:
        io = importlib.import_module("varscale.io")
    except ImportError:
        pytest.skip("varscale.io has not landed yet")
    init = vs.HeNormal(seed=0)
    target = tmp_path / ("w.npy" if name == "write_npy" else "w.safetensors")
    start = time.perf_counter()
    with _file_size_limit(64 * 2**20), pytest.raises(InvalidArgumentError) as info:
        if name == "write_npy":
            io.write_npy(target, init, HUGE, "float32")
        else:
            io.write_safetensors(target, {"weight": (init, HUGE, "float32")})
    assert HUGE_BYTES in str(info.value)
    assert time.perf_counter() - start < 5.0
    assert list(tmp_path.iterdir()) == []


_ZARR_CHILD = r"""
import sys, varscale as vs, varscale.io as io
try:
    io.write_zarr(sys.argv[1], vs.HeNormal(seed=0), (2**40, 2**10), "float32")
except vs.InvalidArgumentError as err:
    print("refused:", err)
"""


def test_io_zarr_refuses_output_larger_than_free_disk(tmp_path: Path) -> None:
    if importlib.util.find_spec("varscale.io") is None:
        pytest.skip("varscale.io has not landed yet")
    env = dict(os.environ)
    env.setdefault("NUMBA_CACHE_DIR", "/tmp/nbcache-rel")
    try:
        argv = with_file_size_limit([sys.executable, "-c", _ZARR_CHILD, str(tmp_path / "w.zarr")], 2**26)
        proc = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=10)
    except subprocess.TimeoutExpired:
        pytest.fail("write_zarr did not refuse a 4 PiB output within 10 s")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "refused:" in proc.stdout and HUGE_BYTES in proc.stdout, proc.stdout
    assert list(tmp_path.iterdir()) == []
