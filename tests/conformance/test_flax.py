"""The JAX facade inside real Flax: Linen init/apply/tabulate/eval_shape/partition specs, jitted init with
out_shardings, and NNX under nnx.jit/eval_shape/vmap — values equal to the eager facade call."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from _support import need

jax = need("jax")
flax = need("flax")
jnp = jax.numpy
nn = pytest.importorskip("flax.linen")

from varscale.compat.jax.nn import initializers as ours  # noqa: E402

SRC = str(Path(__file__).parents[2] / "src")


class MLP(nn.Module):
    @nn.compact
    def __call__(self, x: Any) -> Any:
        x = nn.Dense(32, kernel_init=ours.he_normal(), name="fc1")(x)
        x = nn.relu(x)
        x = nn.Conv(8, (3, 3), kernel_init=ours.lecun_uniform(), name="conv")(x.reshape(x.shape[0], 4, 8, 1))
        return nn.Dense(4, kernel_init=ours.variance_scaling(2.0, "fan_avg", "truncated_normal"), name="out")(
            x.reshape(x.shape[0], -1))


def _key_of(params_key: Any, path: tuple[str, ...]) -> Any:
    # Flax hands each parameter the key folded in by its path: recompute it as Flax does
    from flax.core.scope import LazyRng

    return LazyRng.create(params_key, *path).as_jax_rng()


def test_linen_init_jit_apply_tabulate_eval_shape() -> None:
    model = MLP()
    x = jnp.ones((2, 16))
    key = jax.random.key(0)
    eager = model.init(key, x)
    jitted = jax.jit(model.init)(key, x)
    for a, b in zip(jax.tree.leaves(eager), jax.tree.leaves(jitted), strict=True):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    # the eager values are the facade's values for the key Flax passes
    w = np.asarray(eager["params"]["fc1"]["kernel"])
    assert w.shape == (16, 32) and abs(float(w.std()) - np.sqrt(2 / 16)) < 0.05
    y = model.apply(eager, x)  # apply eval_shapes the initializers to check shapes
    assert y.shape == (2, 4) and bool(jnp.isfinite(y).all())
    table = model.tabulate(key, x)
    assert "fc1" in table and "conv" in table
    shapes = jax.eval_shape(model.init, key, x)
    assert shapes["params"]["fc1"]["kernel"].shape == (16, 32)
    specs = nn.get_partition_spec(shapes)
    assert "fc1" in specs["params"]


def test_jit_init_with_out_shardings_on_eight_devices() -> None:
    code = textwrap.dedent("""
        import jax, numpy as np
        import flax.linen as nn
        from jax.sharding import NamedSharding, PartitionSpec as P
        from varscale.compat.jax.nn import initializers as ours
        assert len(jax.devices()) == 8
        mesh = jax.make_mesh((8,), ("model",))
        model = nn.Dense(64, kernel_init=nn.with_partitioning(ours.glorot_normal(), (None, "model")))
        x = jax.numpy.ones((1, 32))
        abstract = jax.eval_shape(model.init, jax.random.key(1), x)
        shardings = nn.get_sharding(abstract, mesh)
        params = jax.jit(model.init, out_shardings=shardings)(jax.random.key(1), x)
        k = params["params"]["kernel"].unbox()
        assert len(k.addressable_shards) == 8 and k.sharding.spec == P(None, "model")
        eager = model.init(jax.random.key(1), x)["params"]["kernel"].unbox()
        np.testing.assert_array_equal(np.asarray(k), np.asarray(eager))
        for shard in k.addressable_shards:
            np.testing.assert_array_equal(np.asarray(shard.data), np.asarray(eager)[shard.index])
        print("OK")
    """)
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=8", JAX_PLATFORMS="cpu")
    env["PYTHONPATH"] = os.pathsep.join(p for p in [SRC, env.get("PYTHONPATH")] if p)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300,
                          check=False)
    assert "OK" in proc.stdout, proc.stdout + proc.stderr[-3000:]


def test_nnx_jit_eval_shape_and_vmap() -> None:
    nnx = pytest.importorskip("flax.nnx")

    def build(rngs: Any) -> Any:
        return nnx.Linear(16, 8, kernel_init=ours.he_uniform(), rngs=rngs)

    eager = build(nnx.Rngs(3))
    jitted = nnx.jit(build)(nnx.Rngs(3))
    np.testing.assert_array_equal(np.asarray(eager.kernel[...]), np.asarray(jitted.kernel[...]))
    abstract = nnx.eval_shape(lambda: build(nnx.Rngs(3)))
    assert abstract.kernel.shape == (16, 8)

    @nnx.split_rngs(splits=4)
    @nnx.vmap(in_axes=(0,), out_axes=0)
    def ensemble(rngs: Any) -> Any:
        return build(rngs)

    models = ensemble(nnx.Rngs(5))
    k = np.asarray(models.kernel[...])
    assert k.shape == (4, 16, 8)
    assert not np.array_equal(k[0], k[1])  # each member its own key, its own values
    limit = np.sqrt(6 / 16)
    assert np.abs(k).max() <= limit
