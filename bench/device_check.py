"""Device check: the torch and JAX engines against the NumPy reference, bit for bit, and their speed.

Run ``python bench/device_check.py`` on a machine with a GPU: for every
distribution and dtype it draws a few million elements with the torch engine
(on ``cuda``) and the JAX engine (on the default JAX backend), compares the
bits with the NumPy reference, and times both against the framework's own
initializer on the same device (``torch.nn.init``, ``jax.random``). One line
per result; well under 5 minutes. Without a GPU it runs on the CPU and says
so on its first line.

Options: ``--elements N`` (default 4 194 304), ``--repeats R`` (default 3).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import varscale as vs

LAWS = {
    "uniform": vs.VarianceScaling(2.0, "fan_avg", "uniform", seed=20261202),
    "untruncated_normal": vs.VarianceScaling(2.0, "fan_avg", "untruncated_normal", seed=20261202),
    "truncated_normal": vs.VarianceScaling(2.0, "fan_avg", "truncated_normal", seed=20261202),
}
DTYPES = ["float32", "float64", "float16", "bfloat16"]


def _bits(a: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    return a.view({2: np.uint16, 4: np.uint32, 8: np.uint64}[a.itemsize])


def _best(f: Any, repeats: int, sync: Any) -> float:
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        f()
        sync()
        best = min(best, time.perf_counter() - t0)
    return best


def torch_rows(n: int, repeats: int) -> None:
    try:
        import torch
    except ImportError:
        print("torch engine: SKIP (torch not installed)")
        return
    from varscale._engine_torch import fill_tensor

    device = "cuda" if torch.cuda.is_available() else "cpu"
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    shape = (n // 1024, 1024)
    for name, init in LAWS.items():
        for dtype in DTYPES:
            ref = init(shape, dtype, engine="numpy")
            t = torch.empty(shape, dtype=getattr(torch, dtype), device=device)
            fill_tensor(t, shape, init.sampler(shape), init._stream)
            host = t.cpu()
            got = host.view(torch.int16).numpy().view(np.uint16) if dtype in ("float16", "bfloat16") \
                else _bits(host.numpy())
            bad = int((got != _bits(ref)).sum())
            secs = _best(lambda t=t, init=init: fill_tensor(t, shape, init.sampler(shape), init._stream), repeats,
                         sync)
            if name == "uniform":
                peer = _best(lambda t=t: torch.nn.init.kaiming_uniform_(t), repeats, sync)
            elif name == "untruncated_normal":
                peer = _best(lambda t=t: torch.nn.init.kaiming_normal_(t), repeats, sync)
            else:
                peer = _best(lambda t=t: torch.nn.init.trunc_normal_(t, std=0.02), repeats, sync)
            print(f"torch engine  {device:4s} {name:18s} {dtype:8s} {'BITS OK ' if bad == 0 else f'BAD {bad}'}  "
                  f"{n / secs / 1e6:9.1f} Melem/s  torch.nn.init {n / peer / 1e6:9.1f} Melem/s  "
                  f"ratio {peer / secs:5.2f}x")


def jax_rows(n: int, repeats: int) -> None:
    try:
        import jax
    except ImportError:
        print("JAX engine: SKIP (jax not installed)")
        return
    from varscale._engine_jax import draw

    backend = jax.default_backend()
    shape = (n // 1024, 1024)
    for name, init in LAWS.items():
        for dtype in DTYPES:
            ref = init(shape, dtype, engine="numpy")
            f = jax.jit(lambda k, init=init, dtype=dtype: draw(shape, dtype, init.sampler(shape), k))
            key = jax.random.key(20261202)
            with jax.enable_x64(True):
                out = np.asarray(f(key))
            bad = int((_bits(out) != _bits(ref)).sum())
            secs = _best(lambda f=f, key=key: f(key).block_until_ready(), repeats, lambda: None)
            jdt = getattr(jax.numpy, dtype)
            if name == "uniform":
                g = jax.jit(lambda k, jdt=jdt: jax.random.uniform(k, shape, jdt))
            elif name == "untruncated_normal":
                g = jax.jit(lambda k, jdt=jdt: jax.random.normal(k, shape, jdt))
            else:
                g = jax.jit(lambda k, jdt=jdt: jax.random.truncated_normal(k, -2.0, 2.0, shape, jdt))
            if dtype == "float64":
                with jax.enable_x64(True):
                    g(key).block_until_ready()
                    peer = _best(lambda g=g, key=key: g(key).block_until_ready(), repeats, lambda: None)
            else:
                g(key).block_until_ready()
                peer = _best(lambda g=g, key=key: g(key).block_until_ready(), repeats, lambda: None)
            print(f"JAX engine    {backend:4s} {name:18s} {dtype:8s} {'BITS OK ' if bad == 0 else f'BAD {bad}'}  "
                  f"{n / secs / 1e6:9.1f} Melem/s  jax.random    {n / peer / 1e6:9.1f} Melem/s  "
                  f"ratio {peer / secs:5.2f}x")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--elements", type=int, default=4 * 1024 * 1024)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    n = max(1024, args.elements // 1024 * 1024)
    gpu = False
    try:
        import torch

        gpu = torch.cuda.is_available()
    except ImportError:
        pass
    print(f"device check: {'GPU (cuda)' if gpu else 'no GPU: running on the CPU'}; {n} elements per row")
    t0 = time.time()
    torch_rows(n, args.repeats)
    jax_rows(n, args.repeats)
    print(f"done in {time.time() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
