"""Peak memory (RSS) of writing a 4 GiB float32 tensor with varscale.io.

Each measurement runs in a fresh subprocess that imports what it needs, records its RSS, writes the tensor
(shape 32768 x 32768, float32: 4 GiB) to a temporary folder, and reports its peak RSS (``ru_maxrss``, which
is the whole process' high-water mark, imports included). The file is deleted afterwards. Issue target:
peak RSS < 1 GiB.

Run: ``NUMBA_CACHE_DIR=/tmp/nbcache python bench/bench_write_memory.py [--formats safetensors,zarr,npy]
[--shape 32768,32768] [--dir /tmp]``. Prints one line per format and a JSON summary.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

CHILD = r"""
import json, os, resource, sys, time
fmt, shape, out = sys.argv[1], tuple(int(s) for s in sys.argv[2].split(",")), sys.argv[3]
import numpy as np
import varscale as vs
from varscale import io
if fmt == "zarr":
    import dask.array, zarr  # imported before the baseline, as a user's program would have them
if fmt == "safetensors":
    import safetensors
init = vs.HeNormal(seed=0)
init((64, 64))  # compile / load the kernel before the baseline
def rss():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0
base = rss()
t0 = time.perf_counter()
if fmt == "safetensors":
    io.write_safetensors(out, {"weight": (init, shape, "float32")})
elif fmt == "zarr":
    io.write_zarr(out, init, shape, "float32")
else:
    io.write_npy(out, init, shape, "float32")
dt = time.perf_counter() - t0
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"format": fmt, "baseline_rss": base, "peak_rss": peak, "seconds": dt}))
"""


def _size(path: str) -> int:
    if os.path.isdir(path):
        return sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(path) for f in fs)
    return os.path.getsize(path)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--formats", default="safetensors,zarr")
    parser.add_argument("--shape", default="32768,32768")
    parser.add_argument("--dir", default=tempfile.gettempdir())
    args = parser.parse_args()
    results = []
    suffix = {"safetensors": ".safetensors", "zarr": ".zarr", "npy": ".npy"}
    for fmt in args.formats.split(","):
        folder = tempfile.mkdtemp(prefix="varscale-bench-", dir=args.dir)
        out = os.path.join(folder, "w" + suffix[fmt])
        try:
            t0 = time.perf_counter()
            proc = subprocess.run([sys.executable, "-c", CHILD, fmt, args.shape, out], capture_output=True,
                                  text=True, check=False)
            if proc.returncode != 0:
                print(proc.stderr, file=sys.stderr)
                return 1
            res = json.loads(proc.stdout.strip().splitlines()[-1])
            res["file_bytes"] = _size(out)
            res["wall_seconds"] = time.perf_counter() - t0
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        results.append(res)
        print(f"{fmt:12s} file {res['file_bytes'] / 2**30:6.2f} GiB  peak RSS {res['peak_rss'] / 2**20:7.1f} MiB  "
              f"(after imports {res['baseline_rss'] / 2**20:6.1f} MiB)  write {res['seconds']:6.1f} s")
    print(json.dumps({"shape": args.shape, "dtype": "float32", "results": results}))
    return 0 if all(r["peak_rss"] < 2**30 for r in results) else 2


if __name__ == "__main__":
    sys.exit(main())
