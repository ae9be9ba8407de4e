"""End-to-end checkpoint write rate against the kernel's in-memory rate, measured in the same run.

Writes a Llama-style set of tensors (bfloat16 and float32) with ``varscale.io.write_safetensors_sharded`` to
a tmpfs folder (``/dev/shm`` by default: no disk in the way) and compares with drawing the same elements into
memory only (``vs.HeNormal(...)(shape, dtype, region=...)`` region by region, no file), the better of two
runs each. ``copy_GB_s`` is one thread copying into a new file in the same folder and ``cpu_bound_ceiling``
the ratio reachable when every core draws and one of them also copies each byte (tmpfs: no disk, so the
copy's CPU time is what the write costs). Also times
``varscale.io.verify`` (sampled and whole). Under 2 minutes on 2 cores::

    NUMBA_CACHE_DIR=/tmp/nbcache python bench/bench_checkpoint.py [--gb 1.0] [--dir /dev/shm]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

import varscale as vs
from varscale.io import regions, verify, write_safetensors_sharded


def _shapes(total_bytes: float, itemsize: int) -> dict[str, tuple[int, int]]:
    """Llama-7B-like matrices (hidden 4096, intermediate 11008) cut down to about ``total_bytes``."""
    per_layer = [("self_attn.q_proj", (4096, 4096)), ("self_attn.k_proj", (4096, 4096)),
                 ("mlp.gate_proj", (11008, 4096)), ("mlp.down_proj", (4096, 11008))]
    out: dict[str, tuple[int, int]] = {}
    size = 0
    layer = 0
    while size < total_bytes:
        for name, shape in per_layer:
            out[f"model.layers.{layer}.{name}.weight"] = shape
            size += shape[0] * shape[1] * itemsize
        layer += 1
    return out


def _kernel_rate(shapes: dict[str, tuple[int, int]], dtype: str) -> float:
    """Elements per second drawn into memory, region by region as the writer draws them, into one reused
    buffer on every core (the kernel's best: no page faults, no file)."""
    from varscale._dtypes import resolve_dtype
    from varscale._generate import draw_into

    storage = resolve_dtype(dtype)[1]
    buf = np.empty(1 << 24, storage)
    start = time.perf_counter()
    n = 0
    for name, shape in shapes.items():
        init = vs.HeNormal(layout="torch", seed=vs.derive_stream(0, name))
        sampler = init.sampler(shape)
        stream = vs.derive_stream(0, name)
        for region, k in regions(shape, 1 << 24):
            draw_into(buf[:k], shape, dtype, sampler, stream, region)
            n += k
    return n / (time.perf_counter() - start)


def _copy_rate(folder: str | None, itemsize: int) -> float:
    """Bytes per second one thread copies into a new file there (tmpfs: page allocation and copy, CPU only)."""
    block = np.ones((1 << 24) * itemsize // 4, dtype=np.float32)
    best = math.inf
    for _ in range(2):
        d = tempfile.mkdtemp(dir=folder)
        try:
            t0 = time.perf_counter()
            with open(os.path.join(d, "copy"), "wb") as fh:
                for _ in range(8):
                    fh.write(block.data)
            best = min(best, time.perf_counter() - t0)
        finally:
            shutil.rmtree(d, ignore_errors=True)
    return 8 * block.nbytes / best


def _dask_rate(tensors: dict[str, tuple[object, tuple[int, int], str]], elems: int,
               args: argparse.Namespace) -> dict[str, float]:
    from distributed import Client, LocalCluster

    t0 = time.perf_counter()
    with LocalCluster(n_workers=args.dask, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        client.run(lambda: vs.HeNormal(seed=0)((64, 64)))  # each worker imports varscale and loads the kernel
        start = time.perf_counter() - t0
        folder = Path(tempfile.mkdtemp(dir=args.dir)) / "ckpt"
        try:
            t0 = time.perf_counter()
            write_safetensors_sharded(folder, tensors, max_shard_size=args.max_shard_size, client=client)
            write = time.perf_counter() - t0
        finally:
            shutil.rmtree(folder.parent, ignore_errors=True)
    return {"dask_workers": args.dask, "dask_start_s": round(start, 1), "dask_write_Melem_s": round(elems / write / 1e6, 1)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--gb", type=float, default=1.0, help="checkpoint size per dtype in GB (default 1.0)")
    ap.add_argument("--dir", default="/dev/shm" if os.path.isdir("/dev/shm") else None)
    ap.add_argument("--max-shard-size", default="500MB")
    ap.add_argument("--repeat", type=int, default=2, help="writes per dtype; the fastest counts (default 2)")
    ap.add_argument("--dask", type=int, default=0, metavar="N",
                    help="also write through a dask.distributed LocalCluster of N worker processes")
    args = ap.parse_args()
    from varscale._generate import prepare_kernel

    prepare_kernel()  # compile (or load from cache) before timing: no NumPy fallback while it compiles
    rows = []
    for dtype, itemsize in (("bfloat16", 2), ("float32", 4)):
        shapes = _shapes(args.gb * 1e9, itemsize)
        elems = sum(a * b for a, b in shapes.values())
        before = _kernel_rate(shapes, dtype)
        tensors = {n: (vs.HeNormal(layout="torch", seed=vs.derive_stream(0, n)), s, dtype) for n, s in shapes.items()}
        write = math.inf
        for attempt in range(args.repeat):  # the machine is shared: the better of the runs, as for the kernel
            folder = Path(tempfile.mkdtemp(dir=args.dir)) / "ckpt"
            try:
                t0 = time.perf_counter()
                write_safetensors_sharded(folder, tensors, max_shard_size=args.max_shard_size)
                write = min(write, time.perf_counter() - t0)
                if attempt == 0:
                    t0 = time.perf_counter()
                    ok = verify(folder).ok
                    sampled = time.perf_counter() - t0
                    files = len(list(folder.glob("*.safetensors")))
            finally:
                shutil.rmtree(folder.parent, ignore_errors=True)
        kernel = max(before, _kernel_rate(shapes, dtype))
        copy = _copy_rate(args.dir, itemsize)
        # both cores draw and one of them also copies each byte into the file: the CPU-bound ceiling of the ratio
        ceiling = 1 / (1 + kernel * itemsize / copy / (os.cpu_count() or 1))
        rows.append({"dtype": dtype, "tensors": len(shapes), "files": files, "GB": round(elems * itemsize / 1e9, 2),
                     "kernel_Melem_s": round(kernel / 1e6, 1), "write_Melem_s": round(elems / write / 1e6, 1),
                     "write_GB_s": round(elems * itemsize / write / 1e9, 2), "ratio": round(elems / write / kernel, 2),
                     "copy_GB_s": round(copy / 1e9, 2), "cpu_bound_ceiling": round(ceiling, 2),
                     "verify_sampled_s": round(sampled, 2), "verify_ok": ok})
        if args.dask:
            rows[-1].update(_dask_rate(tensors, elems, args))
    print(json.dumps({"target": args.dir, "cpus": os.cpu_count(), "rows": rows}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
