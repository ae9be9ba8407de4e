"""Fork safety (issue 10, item 1): children forked after the parent drew get the parent's bits.

Numba's ``omp`` threading layer (GNU OpenMP) terminates any ``fork()``ed child of
a process that used it. The kernel now runs its slabs on plain Python threads
(no threading layer), and a child forked while the parent was still compiling
the kernel draws with the NumPy engine. Each scenario runs in a subprocess with
a timeout: a killed worker hangs a ``multiprocessing.Pool``, which must fail
the test, not the run.
"""

from __future__ import annotations

import os
import subprocess
import sys

from _support import need

TIMEOUT = 300


def _run(code: str) -> str:
    env = dict(os.environ)
    env.setdefault("NUMBA_CACHE_DIR", "/tmp/nbcache-rel")
    env.pop("VARSCALE_ENGINE", None)
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=TIMEOUT)
    assert proc.returncode == 0, f"rc={proc.returncode}\nstdout: {proc.stdout[-2000:]}\nstderr: {proc.stderr[-3000:]}"
    return proc.stdout


_POOL = r"""
import multiprocessing as mp, zlib
import numpy as np
import varscale as vs

init = vs.VarianceScaling(2.0, "fan_in", "truncated_normal", seed=11)
shape = (512, 700)  # 358 400 elements: several slabs, threads in the parent
jobs = [("numba", "float32"), (None, "float32"), ("numba", "bfloat16"), (None, "float64"), ("numba", "float16")]

# the parent draws first, with the compiled kernel on several threads
parent = {dt: zlib.crc32(init(shape, dt, engine="numba").tobytes()) for _, dt in jobs}

def child(job):
    engine, dtype = job
    return zlib.crc32(init(shape, dtype, engine=engine).tobytes())

with mp.get_context("fork").Pool(2) as pool:
    got = pool.map_async(child, jobs).get(timeout=200)
want = [parent[dt] for _, dt in jobs]
assert got == want, (got, want)
ref = [zlib.crc32(init(shape, dt, engine="numpy").tobytes()) for _, dt in jobs]
assert ref == want, (ref, want)
print("OK", len(got))
"""


def test_pool_fork_children_after_the_parent_drew() -> None:
    assert _run(_POOL).split() == ["OK", "5"]


_PREPARING = r"""
import multiprocessing as mp, subprocess, sys, zlib
import varscale as vs
from varscale import _generate as gen

# a kernel compile still under way (in the parent's compile child) when the parent forks; the cache
# holds the kernel already, as it will once that compile child is done
gen.prepare_kernel()
gen._KERNEL.proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
gen._KERNEL.state = "compiling"

init = vs.HeNormal(seed=3)
shape = (300, 1000)

def child(engine):
    return gen.kernel_state(), zlib.crc32(init(shape, engine=engine).tobytes())

def child_big(_):
    # the cache holds the kernel (the parent's compile child would have filled it): a large draw loads it
    big = zlib.crc32(init((1024, 1024)).tobytes())
    return gen.kernel_state(), big

with mp.get_context("fork").Pool(2) as pool:
    got = pool.map_async(child, [None, "numba", "numpy"]).get(timeout=200)
    got_big = pool.map_async(child_big, [0, 1]).get(timeout=200)
gen._KERNEL.proc.kill()
gen._KERNEL.proc.wait()
gen._KERNEL.state = "absent"
want = zlib.crc32(init(shape, engine="numba").tobytes())
assert got == [("unavailable", want)] * 3, (got, want)
want_big = zlib.crc32(init((1024, 1024), engine="numpy").tobytes())
assert got_big == [("ready", want_big)] * 2, (got_big, want_big)
assert gen.kernel_state() == "ready"
print("OK")
"""


def test_fork_while_the_parent_prepares_the_kernel() -> None:
    assert _run(_PREPARING).split() == ["OK"]


_DATALOADER = r"""
import zlib
import numpy as np
import torch
import varscale as vs

class Weights(torch.utils.data.Dataset):
    def __len__(self):
        return 6
    def __getitem__(self, i):
        dtype = ("float32", "float64", "bfloat16")[i % 3]
        arr = vs.GlorotUniform(seed=i)((256, 384), dtype)  # 98 304 elements: the compiled kernel
        return zlib.crc32(arr.tobytes())

ds = Weights()
vs.HeNormal(seed=0)((1024, 1024), engine="numba")  # the parent loads the kernel and runs it on its threads
parent = [ds[i] for i in range(len(ds))]  # the parent draws first
loader = torch.utils.data.DataLoader(ds, batch_size=None, num_workers=2, multiprocessing_context="fork",
                                     timeout=200)
got = [int(x) for x in loader]
assert got == parent, (got, parent)
print("OK", len(got))
"""


def test_torch_dataloader_workers_after_the_parent_drew() -> None:
    need("torch")
    assert _run(_DATALOADER).split() == ["OK", "6"]
