"""varscale.torch.fill_shard: two gloo processes fill their shards; the gathered tensor is the full one.

The ranks run as two subprocesses of ``_torch_shard_worker.py`` (``torch.distributed`` with the gloo
backend, ``init_method=file://``): an FSDP-style uneven dim-0 split and a DTensor ``Shard(1)``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import varscale as vs
from _support import need

WORKER = Path(__file__).with_name("_torch_shard_worker.py")


def test_two_gloo_ranks_gather_the_single_process_tensor(tmp_path: Path) -> None:
    need("torch")
    need("torch.distributed")
    env = dict(os.environ)
    env.setdefault("NUMBA_CACHE_DIR", "/tmp/nbcache-scale")
    env["PYTHONPATH"] = os.pathsep.join(p for p in [str(Path(__file__).parents[2] / "src"), env.get("PYTHONPATH")] if p)
    init_file = tmp_path / "rendezvous"
    procs = [
        subprocess.Popen([sys.executable, str(WORKER), str(rank), "2", str(init_file), str(tmp_path)], env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for rank in range(2)
    ]
    try:
        outputs = [p.communicate(timeout=240)[0] for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    assert [p.returncode for p in procs] == [0, 0], "\n".join(outputs)
    assert np.load(tmp_path / "offsets.npy").tolist() == [0, 7]
    full = vs.HeNormal(layout="torch", seed=vs.derive_stream(2024, "layer.weight"))((13, 6))
    np.testing.assert_array_equal(np.load(tmp_path / "fsdp.npy"), full)
    # a float64 DTensor gets the stream's float64 draw (each shard drawn in its own dtype)
    full2 = vs.GlorotUniform(seed=vs.derive_stream(2024, "proj.weight"))((5, 11), "float64")
    np.testing.assert_array_equal(np.load(tmp_path / "dtensor.npy"), full2)


def test_fill_shard_in_process_blocks_tile_the_tensor() -> None:
    torch = need("torch")
    from varscale.torch import fill_shard

    init = vs.VarianceScaling(2.0, "fan_out", "truncated_normal", layout="torch")
    stream = vs.derive_stream(3, "w")
    full = vs.VarianceScaling(2.0, "fan_out", "truncated_normal", layout="torch", seed=stream)((9, 4, 3, 3), "float64")
    out = torch.empty(9, 4, 3, 3, dtype=torch.float64)
    for r0, r1 in [(0, 4), (4, 9)]:
        for c0, c1 in [(0, 1), (1, 4)]:
            block = torch.empty(r1 - r0, c1 - c0, 3, 3, dtype=torch.float64)
            fill_shard(block, init, (9, 4, 3, 3), (r0, c0), stream, gen_dtype="float64", chunk_elems=4)
            out[r0:r1, c0:c1] = block
    np.testing.assert_array_equal(out.numpy(), full)
    half = torch.empty(2, 4, 3, 3, dtype=torch.bfloat16)
    fill_shard(half, init, (9, 4, 3, 3), [5], stream)
    # a bfloat16 shard gets the stream's own bfloat16 bits (rounded once from float64), as every path does
    bf = vs.VarianceScaling(2.0, "fan_out", "truncated_normal", layout="torch", seed=stream)((9, 4, 3, 3), "bfloat16")
    np.testing.assert_array_equal(half.view(torch.int16).numpy().view(np.uint16), bf[5:7].view(np.uint16))


@pytest.mark.parametrize(
    ("shape", "offsets", "match"),
    [((4, 4), (7, 0), "inside"), ((4, 4), (0, -1), "offsets"), ((4, 4, 1), (0, 0), "inside"),
     ((2, 2), "00", "offsets"),
     # issue 10.13: floats, strings and bools were truncated to ints and accepted
     ((2, 2), (1.9,), "offsets"), ((2, 2), ("2",), "offsets"), ((2, 2), (True,), "offsets"),
     ((2, 2), (np.int64(1), 0.0), "offsets")],
)
def test_fill_shard_bad_offsets(shape: tuple[int, ...], offsets: object, match: str) -> None:
    torch = need("torch")
    from varscale.torch import fill_shard

    with pytest.raises((vs.InvalidArgumentError, TypeError), match=match):
        fill_shard(torch.empty(*shape), vs.HeNormal(), (10, 4), offsets, 0)
    with pytest.raises(vs.InvalidArgumentError, match="meta"):
        fill_shard(torch.empty(2, 2, device="meta"), vs.HeNormal(), (10, 4), (0, 0), 0)
