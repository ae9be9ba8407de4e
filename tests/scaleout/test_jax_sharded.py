"""varscale.jax.sharded on 8 CPU devices: every mesh and partition spec gives the unsharded tensor.

JAX reads ``XLA_FLAGS`` once, when it initializes, so the checks run in a subprocess
(``_jax_shards_worker.py``) started with ``--xla_force_host_platform_device_count=8``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import varscale as vs
from _support import need

WORKER = Path(__file__).with_name("_jax_shards_worker.py")


@pytest.fixture(scope="module")
def results() -> list[dict[str, Any]]:
    need("jax")
    env = dict(os.environ)
    env["XLA_FLAGS"] = (env.get("XLA_FLAGS", "") + " --xla_force_host_platform_device_count=8").strip()
    env["JAX_PLATFORMS"] = "cpu"
    env.setdefault("NUMBA_CACHE_DIR", "/tmp/nbcache-scale")
    proc = subprocess.run([sys.executable, str(WORKER)], env=env, capture_output=True, text=True, timeout=300,
                          check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]


def test_every_mesh_equals_the_unsharded_array(results: list[dict[str, Any]]) -> None:
    meshes = [r for r in results if r["mesh"] not in ("single", "ambient")]
    assert len(meshes) == 30
    bad = [r for r in meshes if not (r["equal"] and r["shards_equal"])]
    assert not bad, bad
    assert {r["mesh"] for r in meshes} == {"8", "2x4", "4x2", "2x2x2"}
    assert all(r["n_shards"] == 8 and r["devices"] == 8 for r in meshes)
    assert {r["jax_dtype"] for r in meshes} == {"float32", "bfloat16", "float16"}


def test_shards_are_real_partitions(results: list[dict[str, Any]]) -> None:
    by = {(r["mesh"], tuple(r["shape"]), r["dtype"]): r["shard_shapes"] for r in results if r["mesh"] not in ("single", "ambient")}
    assert by[("2x4", (6, 5, 3), "float32")] == [[3, 5, 3]]  # split over "data", replicated over "model"
    assert by[("8", (10, 7), "float32")] == [[10, 7]]
    assert by[("2x4", (40, 9), "float16")] == [[5, 9]]
    assert by[("4x2", (3, 10, 12), "bfloat16")] == [[3, 5, 3]]
    assert by[("2x2x2", (3, 3, 64, 128), "float32")] == [[3, 3, 32, 64]]


def test_single_device_sharding(results: list[dict[str, Any]]) -> None:
    single = [r for r in results if r["mesh"] == "single"]
    assert single == [{"mesh": "single", "equal": True, "device_id": 3}]


def test_in_process_single_device_and_errors() -> None:
    jax = need("jax")
    from jax.sharding import SingleDeviceSharding

    from varscale.jax import sharded

    dev = jax.devices()[0]
    got = sharded(vs.LecunUniform(seed=1), (7, 3), SingleDeviceSharding(dev))
    np.testing.assert_array_equal(np.asarray(got), vs.LecunUniform(seed=1)((7, 3)))
    with pytest.raises(TypeError, match="sharding"):
        sharded(vs.LecunUniform(seed=1), (7, 3), dev)
    # any rule-language initializer; a name draws in the tf layout (JAX/Flax kernels)
    by_name = sharded("lecun_uniform", (7, 3), SingleDeviceSharding(dev), seed=1)
    np.testing.assert_array_equal(np.asarray(by_name), vs.LecunUniform(seed=1)((7, 3)))
    with pytest.raises(TypeError, match="init"):
        sharded(object(), (7, 3), SingleDeviceSharding(dev))
    from jax.sharding import PartitionSpec as P

    with pytest.raises(vs.InvalidArgumentError, match="no mesh"):
        sharded("lecun_uniform", (7, 3), P(None, "model"), seed=1)
    from varscale.compat.jax.nn import initializers as facade

    with pytest.raises(vs.InvalidArgumentError, match="seed"):
        sharded(facade.he_normal(), (7, 3), SingleDeviceSharding(dev))


def test_ambient_mesh_keys_and_facade_initializers(results: list[dict[str, Any]]) -> None:
    (amb,) = [r for r in results if r["mesh"] == "ambient"]
    assert amb == {"mesh": "ambient", "name_equal": True, "std_equal": True, "facade_equal": True,
                   "facade_shards": 8, "facade_spec": "P('data', 'model')",
                   "facade_shards_equal": True}, amb
