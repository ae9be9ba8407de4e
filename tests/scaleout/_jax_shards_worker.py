"""Run by test_jax_sharded.py with ``XLA_FLAGS=--xla_force_host_platform_device_count=8`` (set before JAX
imports): builds sharded arrays on 8 CPU devices for several meshes and partition specs, and checks each
device's shard and the whole array against the unsharded tensor, bit for bit. Prints one JSON line per case.
"""

from __future__ import annotations

import json
from typing import Any

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, SingleDeviceSharding
from jax.sharding import PartitionSpec as P

import varscale as vs
from varscale.jax import sharded


def bits(a: Any) -> np.ndarray[Any, Any]:
    a = np.asarray(a)
    return a.view(np.dtype(f"u{a.dtype.itemsize}"))


def main() -> None:
    devices = jax.devices()
    assert len(devices) == 8, devices
    meshes = {
        "8": Mesh(np.array(devices), ("x",)),
        "2x4": Mesh(np.array(devices).reshape(2, 4), ("data", "model")),
        "4x2": Mesh(np.array(devices).reshape(4, 2), ("data", "model")),
        "2x2x2": Mesh(np.array(devices).reshape(2, 2, 2), ("a", "b", "c")),
    }
    cases: list[tuple[str, Any, tuple[int, ...]]] = [
        ("8", P("x"), (64, 24)),
        ("8", P(None, "x"), (24, 64)),
        ("8", P(), (10, 7)),  # fully replicated
        ("2x4", P("data", "model"), (48, 40)),
        ("2x4", P("model", "data"), (48, 40)),
        ("2x4", P(("data", "model"), None), (40, 9)),
        ("2x4", P("data", None), (6, 5, 3)),  # the "model" axis replicates
        ("4x2", P(None, "model", "data"), (3, 10, 12)),
        ("2x2x2", P("a", ("b", "c")), (16, 16)),
        ("2x2x2", P(None, None, "c", "a"), (3, 3, 64, 128)),  # a conv kernel, TF/JAX layout
    ]
    init = vs.VarianceScaling(2.0, "fan_avg", "truncated_normal", seed=vs.derive_stream(9, "kernel"))
    for mesh_name, spec, shape in cases:
        for dtype in ("float32", "bfloat16", "float16"):
            sharding = NamedSharding(meshes[mesh_name], spec)
            arr = sharded(init, shape, sharding, dtype)
            full = init(shape, dtype)
            shards_ok = all(
                np.array_equal(bits(s.data), bits(full[s.index])) for s in arr.addressable_shards
            )
            shard_shapes = sorted({tuple(s.data.shape) for s in arr.addressable_shards})
            print(json.dumps({
                "mesh": mesh_name, "spec": str(spec), "shape": list(shape), "dtype": dtype,
                "equal": bool(np.array_equal(bits(arr), bits(full))), "shards_equal": shards_ok,
                "n_shards": len(arr.addressable_shards), "shard_shapes": [list(s) for s in shard_shapes],
                "jax_dtype": str(arr.dtype), "devices": len(arr.sharding.device_set),
            }))
    one = sharded(vs.HeNormal(), (5, 5), SingleDeviceSharding(devices[3]), seed=4)
    print(json.dumps({"mesh": "single", "equal": bool(np.array_equal(np.asarray(one), vs.HeNormal(seed=4)((5, 5)))),
                      "device_id": next(iter(one.devices())).id}))
    # issue 14: a PartitionSpec under the ambient mesh, rule-language initializers, JAX keys, facade initializers
    from varscale.compat.jax.nn import initializers as facade

    mesh = meshes["2x4"]
    with jax.set_mesh(mesh):
        by_name = sharded("he_normal", (16, 24), P("data", "model"), seed=jax.random.key(9))
        by_std = sharded("normal(std=0.02)", (16, 24), P(None, "model"), "bfloat16", seed=vs.Stream(9, 2))
        by_facade = sharded(facade.lecun_normal(), (16, 24), P("data", "model"), seed=jax.random.key(9))
    eager = facade.lecun_normal()(jax.random.key(9), (16, 24))
    print(json.dumps({
        "mesh": "ambient",
        "name_equal": bool(np.array_equal(np.asarray(by_name), vs.HeNormal(seed=9)((16, 24)))),
        "std_equal": bool(np.array_equal(bits(by_std), bits(vs.Normal(std=0.02, seed=vs.Stream(9, 2))((16, 24),
                                                                                                "bfloat16")))),
        "facade_equal": bool(np.array_equal(np.asarray(by_facade), np.asarray(eager))),
        "facade_shards": len(by_facade.addressable_shards),
        "facade_spec": str(by_facade.sharding.spec),
        "facade_shards_equal": all(np.array_equal(np.asarray(s.data), np.asarray(eager)[s.index])
                                   for s in by_facade.addressable_shards),
    }))


if __name__ == "__main__":
    main()
