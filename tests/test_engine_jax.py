"""The JAX engine equals the NumPy reference bit for bit: eagerly, under jit with traced keys, vmapped,
sharded over 8 host devices, and under several XLA optimisation settings."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import varscale as vs
from _support import need

jax = need("jax")
jnp = jax.numpy

from varscale._engine_jax import draw, key_words  # noqa: E402

DTYPES = ["float16", "bfloat16", "float32", "float64"]
LAWS: list[Any] = [
    vs.VarianceScaling(2.0, "fan_avg", "uniform", seed=20261202),
    vs.VarianceScaling(2.0, "fan_avg", "untruncated_normal", seed=20261202),
    vs.VarianceScaling(2.0, "fan_avg", "truncated_normal", seed=20261202),
    vs.TruncatedNormal(0.1, 0.02, -0.05, 0.13, seed=vs.Stream(7, 2**63 + 5)),
    vs.Normal(1.0, 1e-3, seed=2**64 - 1),
]
SRC = str(Path(__file__).parents[1] / "src")


def _bits(a: Any) -> np.ndarray[Any, Any]:
    a = np.asarray(a)
    return a.view({2: np.uint16, 4: np.uint32, 8: np.uint64}[a.itemsize])


def _get(x: Any) -> np.ndarray[Any, Any]:
    with jax.enable_x64(True):
        return np.asarray(x)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("law", range(len(LAWS)))
def test_jitted_engine_equals_reference(law: int, dtype: str) -> None:
    init = LAWS[law]
    shape = (389, 1001)
    ref = init(shape, dtype, engine="numpy")
    stream = init._stream
    f = jax.jit(lambda k: draw(shape, dtype, init.sampler(shape), k, stream=stream.stream))
    out = f(jnp.asarray([stream.seed >> 32, stream.seed & 0xFFFFFFFF], dtype=jnp.uint32))
    assert str(out.dtype) == dtype
    mismatch = np.flatnonzero(_bits(ref).ravel() != _bits(_get(out)).ravel())
    assert mismatch.size == 0, f"{mismatch.size} elements differ, first at {mismatch[:5]}"


def test_eager_engine_and_golden_hashes() -> None:
    golden = json.loads((Path(__file__).parent / "golden" / "stream_v1.json").read_text())
    checked = 0
    for case in golden["cases"]:
        if "region" in case or not {"scale", "mode", "distribution"} <= set(case):
            continue
        init = vs.VarianceScaling(case["scale"], case["mode"], case["distribution"], seed=case["seed"])
        shape = tuple(case["shape"])
        out = _get(draw(shape, case["dtype"], init.sampler(shape), case["seed"]))
        assert hashlib.sha256(np.ascontiguousarray(out).tobytes()).hexdigest() == case["sha256"], case
        checked += 1
    assert checked >= 3


def test_user_x64_setting_is_untouched() -> None:
    before = jax.config.jax_enable_x64
    out = jax.jit(lambda k: draw((8, 8), "float32", vs.HeNormal().sampler((8, 8)), k))(jax.random.key(1))
    assert jax.config.jax_enable_x64 == before
    assert out.dtype == jnp.float32
    assert jnp.asarray(1.0).dtype == (jnp.float64 if before else jnp.float32)


def test_jax_key_maps_to_the_seed() -> None:
    # jax.random.key(s) is varscale seed s for s < 2**32 (threefry key data [0, s])
    init = vs.GlorotUniform(seed=123)
    out = _get(jax.jit(lambda k: draw((16, 4), "float32", init.sampler((16, 4)), k))(jax.random.key(123)))
    np.testing.assert_array_equal(out, init((16, 4)))
    kw = _get(key_words(jax.random.key(2**31 + 5), stream=7))
    assert kw.tolist() == [2**31 + 5, 0, 7, 0]
    with pytest.raises(vs.InvalidArgumentError, match="key"):
        key_words(jnp.zeros(3, dtype=jnp.uint32))


def test_vmap_over_keys() -> None:
    init = vs.HeNormal()
    keys = jnp.stack([jax.random.key_data(jax.random.key(s)) for s in range(4)])
    out = _get(jax.jit(jax.vmap(lambda k: draw((32, 8), "float32", init.sampler((32, 8)), k)))(keys))
    for s in range(4):
        np.testing.assert_array_equal(out[s], vs.HeNormal(seed=s)((32, 8)))


@pytest.mark.parametrize(
    "region", [(slice(3, 400, 3), slice(None, None, -2)), (5, slice(None)), (Ellipsis, 7), (slice(10, 10),)]
)
def test_regions(region: Any) -> None:
    init = vs.VarianceScaling(1.0, "fan_in", "truncated_normal", seed=9)
    shape = (500, 41)
    ref = init(shape, "bfloat16", region=region)
    out = _get(jax.jit(lambda k: draw(shape, "bfloat16", init.sampler(shape), k, region=region))(9))
    assert out.shape == ref.shape
    np.testing.assert_array_equal(_bits(out), _bits(np.ascontiguousarray(ref)))


def _run(code: str, flags: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, XLA_FLAGS=flags, JAX_PLATFORMS="cpu")
    env["PYTHONPATH"] = os.pathsep.join(p for p in [SRC, env.get("PYTHONPATH")] if p)
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, env=env,
                          timeout=300, check=False)


CHECK = """
    import jax, numpy as np, varscale as vs
    from varscale._engine_jax import draw
    bad = 0
    for init in [vs.HeNormal(seed=5), vs.GlorotUniform(seed=7), vs.TruncatedNormal(0.1, 0.02, -0.5, 0.13, seed=3),
                 vs.VarianceScaling(2.0, distribution="untruncated_normal", seed=9)]:
        for dt in ["float32", "float64", "bfloat16"]:
            shape = (300, 401)
            ref = init(shape, dt)
            with jax.enable_x64(True):
                out = np.asarray(jax.jit(lambda k: draw(shape, dt, init.sampler(shape), k))(init._stream.seed))
            w = {2: np.uint16, 4: np.uint32, 8: np.uint64}[ref.itemsize]
            bad += int((out.view(w) != ref.view(w)).sum())
    print("BAD", bad)
"""


@pytest.mark.parametrize(
    "flags", ["", "--xla_backend_optimization_level=0", "--xla_backend_optimization_level=3",
              "--xla_cpu_use_thunk_runtime=false"]
)
def test_bits_hold_under_xla_settings(flags: str) -> None:
    proc = _run(CHECK, flags)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "BAD 0" in proc.stdout, proc.stdout + proc.stderr[-2000:]


def test_fast_math_is_refused() -> None:
    proc = _run("""
        import varscale as vs
        from varscale._engine_jax import draw
        try:
            draw((4, 4), "float32", vs.HeNormal().sampler((4, 4)), 0)
        except vs.InvalidArgumentError as err:
            print("REFUSED", err)
    """, "--xla_cpu_enable_fast_math=true")
    assert "REFUSED" in proc.stdout and "fast_math" in proc.stdout, proc.stdout + proc.stderr[-2000:]


def test_sharded_over_eight_host_devices() -> None:
    proc = _run("""
        import jax, numpy as np, varscale as vs
        from jax.sharding import NamedSharding, PartitionSpec as P
        from varscale._engine_jax import draw
        assert len(jax.devices()) == 8
        mesh = jax.make_mesh((4, 2), ("x", "y"))
        sharding = NamedSharding(mesh, P("x", "y"))
        init = vs.HeNormal(seed=11)
        shape = (64, 48)
        f = jax.jit(lambda k: draw(shape, "float32", init.sampler(shape), k), out_shardings=sharding)
        out = f(jax.random.key(11))
        assert out.sharding == sharding
        # each device holds exactly its slice of the full tensor
        full = init(shape)
        for shard in out.addressable_shards:
            np.testing.assert_array_equal(np.asarray(shard.data), full[shard.index])
        # the compiled program has no collective: each device computes only its elements
        hlo = f.lower(jax.random.key(11)).compile().as_text()
        assert "all-gather" not in hlo and "all-reduce" not in hlo and "collective-permute" not in hlo
        print("OK")
    """, "--xla_force_host_platform_device_count=8")
    assert "OK" in proc.stdout, proc.stdout + proc.stderr[-3000:]


@pytest.mark.parametrize(("ebits", "mbits"), [(5, 10), (8, 7)], ids=["float16", "bfloat16"])
def test_16_bit_rounding_equals_the_reference_on_every_value(ebits: int, mbits: int) -> None:
    # the shared _math.round16_bits through jnp.where, jitted: every 16-bit value, tie, neighbour, NaN, subnormal
    from test_engines import _round16_inputs
    from varscale import _engine_numpy as ref
    from varscale._engine_jax import _round16

    with jax.enable_x64(True):
        rounded = jax.jit(lambda v: _round16(v, ebits, mbits))
        for x in _round16_inputs():
            got = np.asarray(rounded(jax.numpy.asarray(x)))
            expect = ref.round_to_16(x, ebits, mbits)
            bad = np.flatnonzero(got != expect)
            assert bad.size == 0, f"{bad.size} differ, e.g. x={x[bad[:3]]!r}: {got[bad[:3]]} != {expect[bad[:3]]}"
