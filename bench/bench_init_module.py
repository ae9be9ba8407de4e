"""Whole-model initialization: ``init_module(model, default="torch")`` against torch's own init, side by side.

The model (about 100M parameters, float32) is the one of issue 11: a ResNet-style CNN with BatchNorm
(a 7x7 stem and four stages of two basic blocks, 64-512 channels), an ``Embedding(50000, 768)``, six
``TransformerEncoderLayer(768, 12, 3072)``, a ``LayerNorm``, a one-layer ``LSTM(768, 768)`` and a linear
head. Three ways to initialize every parameter are timed in the same process, alternating, at the same
thread count (``torch.set_num_threads(T)`` and ``NUMBA_NUM_THREADS=T``, set before Numba loads):

* ``varscale``: ``init_module(model, seed=0, default="torch")`` (torch's laws, varscale's stream,
  BatchNorm running statistics reset);
* ``torch reset``: ``reset_parameters()`` (``_reset_parameters()`` for ``MultiheadAttention``) on every
  module that has one: what torch does at construction;
* ``torch.nn.init loop``: ``kaiming_uniform_(a=√5)`` on every matrix, ``zeros_`` on every vector.

Each is run once before timing (Numba's cache warm, the parameters' pages resident); then ``--repeats``
rounds of the three in turn; the median per method is reported. Peak RSS is measured in a fresh
subprocess per method: the model is built on the meta device and materialized with ``to_empty`` (its pages
are not touched yet), the process' peak RSS (VmHWM) is reset, the model is initialized, and the peak is
read again: ``peak - RSS before the model`` is compared with the model's size (target: ≤ size + 64 MiB).
The model's pages are made resident (``zero_()``) before the peak is reset, so the last column,
``peak - RSS with the model resident``, is the initializer's own working memory; the difference between
the two (about 70 MiB, the same for every method) is what materializing the model costs beyond its
tensors (allocator and Python objects), not the initializer.

Run: ``NUMBA_CACHE_DIR=.numba_cache python bench/bench_init_module.py [--threads T] [--repeats N]``
(about a minute on 2 cores). Prints a table and a JSON summary.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from typing import Any

MIB = 1 << 20

MODEL = r'''
import math
import torch
from torch import nn


class Block(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.down = None
        if stride != 1 or cin != cout:
            self.down = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        y = torch.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return torch.relu(y + (x if self.down is None else self.down(x)))


class Model(nn.Module):
    """ResNet-18-style CNN + Embedding + 6 Transformer encoder layers + LayerNorm + LSTM + head."""

    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 64, 7, 2, 3, bias=False), nn.BatchNorm2d(64), nn.ReLU(),
                                  nn.MaxPool2d(3, 2, 1))
        blocks, cin = [], 64
        for cout, stride in ((64, 1), (128, 2), (256, 2), (512, 2)):
            blocks += [Block(cin, cout, stride), Block(cout, cout, 1)]
            cin = cout
        self.cnn = nn.Sequential(*blocks)
        self.embed = nn.Embedding(50000, 768, padding_idx=0)
        self.encoder = nn.ModuleList(nn.TransformerEncoderLayer(768, 12, 3072, batch_first=True)
                                     for _ in range(6))
        self.norm = nn.LayerNorm(768)
        self.lstm = nn.LSTM(768, 768, batch_first=True)
        self.head = nn.Linear(768 + 512, 1000)
'''

CHILD = r'''
import json, os, sys, time
method, threads = sys.argv[1], int(sys.argv[2])
import torch
torch.set_num_threads(threads)
from torch import nn
from varscale.torch import init_module
exec(compile(sys.argv[3], "model", "exec"))
import varscale as vs
vs.HeNormal(seed=0)((8, 8), engine="numba")  # load the compiled kernel (warm Numba cache) before the baseline
init_module(nn.Sequential(nn.Linear(8, 8), nn.BatchNorm1d(8)), seed=0, default="torch")

def status(key):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
    return 0

base = status("VmRSS")
with torch.device("meta"):
    model = Model()
model = model.to_empty(device="cpu")
size = sum(p.numel() * p.element_size() for p in model.parameters())
size += sum(b.numel() * b.element_size() for b in model.buffers())
with torch.no_grad():
    for t in [*model.parameters(), *model.buffers()]:
        t.zero_()  # every page of the model resident: what remains is the initializer's own memory
resident = status("VmRSS")
with open("/proc/self/clear_refs", "w") as f:
    f.write("5")  # reset the peak RSS (VmHWM) to the current RSS
t0 = time.perf_counter()
exec(sys.argv[4])
dt = time.perf_counter() - t0
print(json.dumps({"method": method, "base": base, "resident": resident, "peak": status("VmHWM"), "size": size,
                  "seconds": dt}))
'''

RUN = {
    "varscale": "init_module(model, seed=0, default='torch')",
    "torch reset": (
        "with torch.no_grad():\n"
        "    for m in model.modules():\n"
        "        f = getattr(m, 'reset_parameters', None) or getattr(m, '_reset_parameters', None)\n"
        "        if f is not None:\n"
        "            f()"
    ),
    "torch.nn.init loop": (
        "with torch.no_grad():\n"
        "    for p in model.parameters():\n"
        "        nn.init.kaiming_uniform_(p, a=math.sqrt(5)) if p.dim() > 1 else nn.init.zeros_(p)"
    ),
}


def measure_rss(method: str, threads: int) -> dict[str, Any]:
    env = dict(os.environ, NUMBA_NUM_THREADS=str(threads), OMP_NUM_THREADS=str(threads))
    out = subprocess.run([sys.executable, "-c", CHILD, method, str(threads), MODEL, RUN[method]],
                         env=env, capture_output=True, text=True, check=True)
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--no-rss", action="store_true", help="skip the peak-RSS subprocesses")
    args = parser.parse_args()
    threads = args.threads
    os.environ["NUMBA_NUM_THREADS"] = str(threads)  # before Numba loads
    os.environ["OMP_NUM_THREADS"] = str(threads)

    import math

    import torch
    from torch import nn

    from varscale.torch import init_module

    torch.set_num_threads(threads)
    scope: dict[str, Any] = {}
    exec(compile(MODEL, "model", "exec"), scope)
    model = scope["Model"]()
    n_params = sum(p.numel() for p in model.parameters())
    size = sum(p.numel() * p.element_size() for p in model.parameters())
    size += sum(b.numel() * b.element_size() for b in model.buffers())
    env = {"model": model, "init_module": init_module, "torch": torch, "nn": nn, "math": math}
    code = {name: compile(text, name, "exec") for name, text in RUN.items()}
    times: dict[str, list[float]] = {name: [] for name in RUN}
    import varscale as vs

    vs.HeNormal(seed=0)((8, 8), engine="numba")  # load the compiled kernel from Numba's (warm) cache
    for name in RUN:  # warm: every page resident
        exec(code[name], env)
    for _ in range(args.repeats):
        for name in RUN:
            t0 = time.perf_counter()
            exec(code[name], env)
            times[name].append(time.perf_counter() - t0)
    med = {name: statistics.median(ts) for name, ts in times.items()}
    rss = {} if args.no_rss else {name: measure_rss(name, threads) for name in RUN}

    print(f"model: {n_params / 1e6:.1f}M parameters, {size / MIB:.0f} MiB (float32); threads: {threads} "
          f"(torch.set_num_threads, NUMBA_NUM_THREADS); median of {args.repeats}")
    print(f"{'method':<20}{'seconds':>9}{'÷ torch reset':>15}{'peak RSS - base':>17}{'- model':>12}"
          f"{'- resident model':>18}")
    for name in RUN:
        r = rss.get(name)
        cells = "" if r is None else (f"{(r['peak'] - r['base']) / MIB:>13.0f} MiB"
                                      f"{(r['peak'] - r['base'] - r['size']) / MIB:>8.1f} MiB"
                                      f"{(r['peak'] - r['resident']) / MIB:>14.1f} MiB")
        print(f"{name:<20}{med[name]:>9.3f}{med[name] / med['torch reset']:>15.2f}{cells}")
    summary = {
        "parameters": n_params,
        "model_bytes": size,
        "threads": threads,
        "repeats": args.repeats,
        "seconds": med,
        "all_seconds": times,
        "ratio_varscale_to_torch_reset": med["varscale"] / med["torch reset"],
        "ratio_varscale_to_init_loop": med["varscale"] / med["torch.nn.init loop"],
        "rss": rss,
        "varscale_peak_minus_model_mib": None if not rss else (rss["varscale"]["peak"] - rss["varscale"]["base"]
                                                                - rss["varscale"]["size"]) / MIB,
        "varscale_own_memory_mib": None if not rss else (rss["varscale"]["peak"] - rss["varscale"]["resident"]) / MIB,
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
