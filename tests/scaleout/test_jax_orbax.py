"""The JAX-at-scale recipe: a params tree initialized shard by shard (each device draws its own shard) and
written with orbax from those shards; restored with its shardings it equals the single-device init."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from _support import need

SRC = str(Path(__file__).parents[2] / "src")

CODE = textwrap.dedent("""
    import sys
    import jax, numpy as np
    import flax.linen as nn
    import orbax.checkpoint as ocp
    from jax.sharding import NamedSharding, PartitionSpec as P
    import varscale as vs
    from varscale.jax import init_params, sharded

    assert len(jax.devices()) == 8
    mesh = jax.make_mesh((4, 2), ("data", "model"))
    model = nn.Sequential([nn.Dense(64), nn.relu, nn.Dense(32)])
    abstract = jax.eval_shape(model.init, jax.random.key(0), jax.numpy.ones((1, 48)))
    # the layout: kernels split over both mesh axes, biases replicated
    spec = jax.tree.map(lambda a: P("data", "model") if a.ndim == 2 else P(), abstract)
    shardings = jax.tree.map(lambda s: NamedSharding(mesh, s), spec)
    abstract = jax.tree.map(lambda a, s: jax.ShapeDtypeStruct(a.shape, a.dtype, sharding=s), abstract, shardings)
    params = init_params(abstract, seed=5, default="flax")      # each device draws only its shard
    k = params["params"]["layers_0"]["kernel"]
    assert len(k.addressable_shards) == 8 and k.sharding == shardings["params"]["layers_0"]["kernel"]
    extra = sharded("he_normal", (48, 64), NamedSharding(mesh, P("data", "model")), seed=vs.derive_stream(5, "x"))

    path = sys.argv[1]
    with ocp.StandardCheckpointer() as ckpt:
        ckpt.save(path + "/params", {"params": params, "extra": extra})
    with ocp.StandardCheckpointer() as ckpt:
        target = {"params": abstract, "extra": jax.ShapeDtypeStruct((48, 64), "float32",
                                                                    sharding=extra.sharding)}
        restored = ckpt.restore(path + "/params", target)

    # the single-device init of the same tree, by the same names
    plain = jax.eval_shape(model.init, jax.random.key(0), jax.numpy.ones((1, 48)))
    ref = init_params(plain, seed=5, default="flax")
    for (kp, a), (_, b) in zip(jax.tree_util.tree_flatten_with_path(restored["params"])[0],
                               jax.tree_util.tree_flatten_with_path(ref)[0], strict=True):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b), err_msg=str(kp))
    assert restored["params"]["params"]["layers_0"]["kernel"].sharding.spec == P("data", "model")
    np.testing.assert_array_equal(np.asarray(restored["extra"]),
                                  vs.HeNormal(seed=vs.derive_stream(5, "x"))((48, 64)))
    print("OK")
""")


def test_orbax_checkpoint_from_local_shards(tmp_path: Path) -> None:
    need("jax")
    need("flax")
    need("orbax.checkpoint")
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=8", JAX_PLATFORMS="cpu")
    env["PYTHONPATH"] = os.pathsep.join(p for p in [SRC, env.get("PYTHONPATH")] if p)
    proc = subprocess.run([sys.executable, "-c", CODE, str(tmp_path)], capture_output=True, text=True, env=env,
                          timeout=300, check=False)
    assert "OK" in proc.stdout, proc.stdout + proc.stderr[-3000:]
