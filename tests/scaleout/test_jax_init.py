"""varscale.jax.init_params and flax_init: whole pytrees from varscale's stream, as Flax would initialize them."""

from __future__ import annotations

import math
import os
import subprocess
import sys
import textwrap
from typing import Any, NamedTuple

import numpy as np
import pytest

import varscale as vs
from _support import need

jax = need("jax")
jnp = need("jax.numpy")
nn = need("flax.linen")
stats = need("scipy.stats")

from varscale.jax import flax_init, init_params, key_seed  # noqa: E402

F, H, D, U = 64, 4, 16, 128  # features, heads, head_dim, recurrent units


class Net(nn.Module):  # type: ignore[misc]
    """Every Flax layer kind of the issue, with weights large enough for a KS test."""

    @nn.compact
    def __call__(self, tokens: Any, image: Any) -> Any:
        e = nn.Embed(2000, F, name="embed")(tokens)
        x = nn.Dense(U, name="dense")(e)
        x = nn.LayerNorm(name="ln")(x)
        lstm = nn.LSTMCell(U, name="lstm")
        carry = lstm.initialize_carry(jax.random.key(0), x[:, 0].shape)
        _, y = lstm(carry, x[:, 0])
        gru = nn.GRUCell(U, name="gru")
        carry = gru.initialize_carry(jax.random.key(0), y.shape)
        _, y = gru(carry, y)
        a = nn.MultiHeadDotProductAttention(H, qkv_features=H * D, out_features=F, name="mha")(e)
        c = nn.Conv(64, (3, 3), name="conv")(image)
        c = nn.BatchNorm(use_running_average=False, name="bn")(c)
        return y, a, c


def _variables(seed: int = 0) -> Any:
    tokens = jnp.zeros((2, 3), jnp.int32)
    image = jnp.ones((1, 8, 8, 16))
    return Net().init(jax.random.key(seed), tokens, image)


def _flat(tree: Any) -> dict[str, np.ndarray]:
    out = {}
    for path, leaf in jax.tree_util.tree_flatten_with_path(tree)[0]:
        out["/".join(str(getattr(k, "key", getattr(k, "name", getattr(k, "idx", k)))) for k in path)] = np.asarray(leaf)
    return out


def _stream(seed: int, name: str) -> vs.Stream:
    return vs.derive_stream(seed, name)


def _ks_same(a: np.ndarray, b: np.ndarray, alpha: float = 1e-6) -> tuple[bool, str]:
    """Two-sample KS: the tolerance on D comes from the sample sizes (asymptotic critical value at ``alpha``)."""
    x, y = np.asarray(a, np.float64).ravel(), np.asarray(b, np.float64).ravel()
    d = float(stats.ks_2samp(x, y).statistic)
    n, m = x.size, y.size
    crit = math.sqrt(-math.log(alpha / 2) / 2) * math.sqrt((n + m) / (n * m))
    return d <= crit, f"D={d:.4g} critical={crit:.4g} (n={n}, m={m})"


LECUN = vs.VarianceScaling(1.0, "fan_in", "truncated_normal")
QKV = vs.Layout(in_axis=0, out_axis=(1, 2))
OUT = vs.Layout(in_axis=(0, 1), out_axis=2)


def _expected(name: str, shape: tuple[int, ...], seed: int) -> np.ndarray:
    """What default='flax' must give each leaf, written out independently of varscale.jax."""
    s = _stream(seed, name)
    parts = name.split("/")
    last, parent = parts[-1], parts[-2]
    if last == "kernel" and parent in ("hi", "hf", "hg", "ho", "hr", "hz", "hn"):
        return vs.Orthogonal(seed=s, layout="tf")(shape)
    if last == "kernel" and parent in ("query", "key", "value"):
        return vs.VarianceScaling(1.0, "fan_in", "truncated_normal", layout=QKV, seed=s)(shape)
    if last == "kernel" and parent == "out":
        return vs.VarianceScaling(1.0, "fan_in", "truncated_normal", layout=OUT, seed=s)(shape)
    if last == "kernel":
        return vs.LecunNormal(seed=s)(shape)
    if last == "embedding":
        return vs.Normal(std=1 / math.sqrt(shape[1]), seed=s)(shape)
    if last in ("bias", "mean"):
        return np.zeros(shape, np.float32)
    assert last in ("scale", "var"), name
    return np.ones(shape, np.float32)


def test_flax_default_values_exact() -> None:
    variables = _variables()
    new, report = init_params(variables, seed=3, default="flax", return_report=True)
    assert jax.tree_util.tree_structure(new) == jax.tree_util.tree_structure(variables)
    got = _flat(new)
    assert len(got) == len(report) == len(_flat(variables))
    for name, value in got.items():
        np.testing.assert_array_equal(value, _expected(name, value.shape, 3), err_msg=name)
    rows = {r.name: r for r in report}
    assert (rows["params/mha/query/kernel"].fan_in, rows["params/mha/query/kernel"].fan_out) == (F, H * D)
    assert (rows["params/mha/out/kernel"].fan_in, rows["params/mha/out/kernel"].fan_out) == (H * D, F)
    assert rows["params/conv/kernel"].fan_in == 9 * 16
    assert rows["params/embed/embedding"].std == pytest.approx(1 / math.sqrt(F))
    assert rows["params/lstm/hi/kernel"].initializer == "orthogonal (recurrent)"
    assert rows["batch_stats/bn/var"].initializer == "ones"


def test_same_law_as_flax_own_init() -> None:
    theirs = _flat(_variables(seed=5))
    ours = _flat(init_params(_variables(seed=6), seed=9, default="flax"))
    checked = 0
    for name, value in ours.items():
        ref = theirs[name]
        assert value.shape == ref.shape and value.dtype == ref.dtype, name
        if np.all(ref == ref.ravel()[0]):
            np.testing.assert_array_equal(value, ref, err_msg=name)  # constants: exact
            continue
        ok, msg = _ks_same(value, ref)
        assert ok, f"{name}: {msg}"
        checked += 1
    assert checked == 21  # embed, dense, conv, 4 LSTM input + 4 recurrent, 3 GRU input + 3 recurrent, 4 MHA
    # the test has power: a 10 % wider law, or the query kernel with Conv-style fans, is rejected
    assert not _ks_same(ours["params/embed/embedding"] * 1.1, theirs["params/embed/embedding"])[0]
    conv_style = vs.LecunNormal(seed=0)(ours["params/mha/query/kernel"].shape)
    assert not _ks_same(conv_style, theirs["params/mha/query/kernel"])[0]


def test_dtypes_numpy_leaves_and_names() -> None:
    class Pair(NamedTuple):
        w: Any
        step: Any

    tree = {
        "layers": [{"kernel": jnp.zeros((32, 16), jnp.bfloat16)}, {"kernel": np.zeros((16, 8), np.float16)}],
        "pair": Pair(jnp.zeros((8, 8), jnp.float32), jnp.asarray(7, jnp.int32)),
    }
    new, report = init_params(tree, [("pair/w", "normal(std=0.5)"), ("*kernel", "he_uniform")], seed=1,
                              return_report=True)
    assert [r.name for r in report] == ["layers/0/kernel", "layers/1/kernel", "pair/w", "pair/step"]
    k0 = new["layers"][0]["kernel"]
    assert isinstance(k0, jax.Array) and k0.dtype == jnp.bfloat16
    want = vs.HeUniform(seed=_stream(1, "layers/0/kernel"))((32, 16), "bfloat16")
    np.testing.assert_array_equal(np.asarray(k0).view(np.uint16), want.view(np.uint16))
    k1 = new["layers"][1]["kernel"]
    assert isinstance(k1, np.ndarray) and k1.dtype == np.float16
    np.testing.assert_array_equal(k1, vs.HeUniform(seed=_stream(1, "layers/1/kernel"))((16, 8), "float16"))
    assert isinstance(new["pair"], Pair)
    np.testing.assert_array_equal(new["pair"].w, vs.Normal(std=0.5, seed=_stream(1, "pair/w"))((8, 8)))
    assert new["pair"].step is tree["pair"].step  # not floating: kept
    assert report[3].skipped and report[3].rule == "not floating"


def test_abstract_tree_from_eval_shape() -> None:
    """jax.eval_shape(model.init, ...) gives ShapeDtypeStructs: init_params makes the arrays, Flax never draws."""
    abstract = jax.eval_shape(Net().init, jax.random.key(0), jnp.zeros((2, 3), jnp.int32), jnp.ones((1, 8, 8, 16)))
    assert isinstance(abstract["params"]["dense"]["kernel"], jax.ShapeDtypeStruct)
    new = init_params(abstract, seed=3, default="flax")
    concrete = init_params(_variables(), seed=3, default="flax")
    for name, value in _flat(concrete).items():
        np.testing.assert_array_equal(_flat(new)[name], value, err_msg=name)
    assert isinstance(new["params"]["dense"]["kernel"], jax.Array)


def test_nnx_state() -> None:
    nnx = need("flax.nnx")
    model = nnx.Sequential(nnx.Linear(64, 32, rngs=nnx.Rngs(0)), nnx.LayerNorm(32, rngs=nnx.Rngs(0)))
    state = nnx.state(model, nnx.Param)
    new, report = init_params(state, seed=2, default="flax", return_report=True)
    names = [r.name for r in report]
    assert "layers/0/kernel" in names and "layers/1/scale" in names, names
    nnx.update(model, new)
    np.testing.assert_array_equal(np.asarray(model.layers[0].kernel[...]),
                                  vs.LecunNormal(seed=_stream(2, "layers/0/kernel"))((64, 32)))
    np.testing.assert_array_equal(np.asarray(model.layers[1].scale[...]), np.ones(32, np.float32))
    # NNX's fused cells: one recurrent kernel for all gates (dense_h), one orthogonal matrix as NNX draws it
    for cell in (nnx.OptimizedLSTMCell(64, 32, rngs=nnx.Rngs(0)), nnx.GRUCell(64, 32, rngs=nnx.Rngs(0))):
        new = init_params(nnx.state(cell, nnx.Param), seed=2, default="flax")
        nnx.update(cell, new)
        h = np.asarray(cell.dense_h.kernel[...])
        np.testing.assert_array_equal(h, vs.Orthogonal(seed=_stream(2, "dense_h/kernel"))(h.shape))
        np.testing.assert_array_equal(np.asarray(cell.dense_i.kernel[...]),
                                      vs.LecunNormal(seed=_stream(2, "dense_i/kernel"))((64, h.shape[1])))


def test_rules_defaults_and_no_silent_no_ops() -> None:
    params = _variables()["params"]
    with pytest.raises(vs.InvalidArgumentError, match=r"match no rule: .*dense/bias"):
        init_params(params, [("*kernel", "glorot_uniform")], seed=0)
    new = init_params(params, [("dense/kernel", "glorot_uniform"), ("conv/*", None)], seed=0, default="skip")
    old, got = _flat(params), _flat(new)
    np.testing.assert_array_equal(got["dense/kernel"], vs.GlorotUniform(seed=_stream(0, "dense/kernel"))((F, U)))
    for name in got:
        if name != "dense/kernel":
            np.testing.assert_array_equal(got[name], old[name])
    with pytest.raises(vs.InvalidArgumentError, match=r"fewer than 2 dimensions.*dense/bias \(128,\)"):
        init_params(params, [("*", "he_normal")], seed=0)
    with pytest.raises(vs.InvalidArgumentError, match=r"rule\(s\) match no leaf: nothing;"):
        init_params(params, [("nothing", 0.0)], seed=0, default="flax")
    with pytest.warns(UserWarning, match="match no leaf"):
        init_params(params, [("nothing", 0.0)], seed=0, default="flax", strict=False)
    with pytest.raises(vs.InvalidArgumentError, match="has its own seed"):
        init_params(params, [("*kernel", vs.HeNormal(seed=1))], seed=0, default="flax")
    with pytest.raises(vs.InvalidArgumentError, match=r"no default for 1 leaf/leaves: w"):
        init_params({"w": jnp.ones((3, 3))}, seed=0, default="flax")
    with pytest.raises(vs.InvalidArgumentError, match=r"non-floating .*count"):
        init_params({"count": jnp.zeros((3,), jnp.int32)}, [("*", 0.0)], seed=0)
    with pytest.raises(vs.InvalidArgumentError, match=r"shared by several leaves: a/b"):
        init_params({"a/b": jnp.ones(3), "a": {"b": jnp.ones(3)}}, [("*", 0.0)], seed=0)
    with pytest.raises(vs.InvalidArgumentError, match="`default` must be one of 'error', 'skip', 'flax'"):
        init_params(params, seed=0, default="torch")
    with pytest.raises(TypeError, match="pattern must be a glob"):
        init_params(params, [(int, 0.0)], seed=0)
    with pytest.raises(TypeError, match="`seed` must be an int"):
        init_params(params, seed=None)  # type: ignore[arg-type]


def test_under_jit_the_jax_engine_gives_the_same_bits() -> None:
    """Traced leaves and keys are drawn by varscale's JAX engine: bit-equal to the eager (host) draw."""
    params = {"w": jnp.zeros((64, 32)), "b": jnp.zeros((32,), jnp.bfloat16), "e": jnp.zeros((100, 16))}
    rules = [("w", "he_normal"), ("b", "normal(std=0.1)"), ("e", 0.5)]
    eager = init_params(params, rules, seed=3)
    jitted = jax.jit(lambda p: init_params(p, rules, seed=3))(params)
    for k in params:
        assert jitted[k].dtype == params[k].dtype, k
        np.testing.assert_array_equal(np.asarray(jitted[k]).view(np.uint8), np.asarray(eager[k]).view(np.uint8), k)
    with pytest.raises(vs.InvalidArgumentError, match=r"leaf 'w' is a JAX tracer .* orthogonal"):
        jax.jit(lambda p: init_params(p, [("w", "orthogonal"), ("*", 0.0)], seed=0))(params)
    # flax_init inside jax.jit(model.init) and jax.eval_shape: the eager values, bit for bit
    x = jnp.ones((1, 64))
    layer = nn.Dense(32, param_dtype=jnp.bfloat16, kernel_init=flax_init(vs.HeNormal()), bias_init=flax_init(0.25))
    e = layer.init(jax.random.key(5), x)["params"]
    j = jax.jit(layer.init)(jax.random.key(5), x)["params"]
    for k in ("kernel", "bias"):
        assert j[k].dtype == jnp.bfloat16
        np.testing.assert_array_equal(np.asarray(j[k]).view(np.uint16), np.asarray(e[k]).view(np.uint16), k)
    shapes = jax.eval_shape(layer.init, jax.random.key(5), x)["params"]
    assert shapes["kernel"].shape == (64, 32)
    with pytest.raises(vs.InvalidArgumentError, match=r"tracer .* orthogonal"):
        jax.jit(nn.Dense(4, kernel_init=flax_init("orthogonal")).init)(jax.random.key(0), x)
    with pytest.raises(vs.InvalidArgumentError, match="needs a threefry key"):
        jax.jit(layer.init)(jax.random.key(0, impl="rbg"), x)
    with pytest.raises(vs.InvalidArgumentError, match="key_seed needs a concrete key"):
        jax.jit(key_seed)(jax.random.key(0))


def test_flax_init_in_a_flax_layer() -> None:
    x = jnp.ones((1, 256))
    layer = nn.Dense(256, kernel_init=flax_init(vs.HeNormal()), bias_init=flax_init("normal(std=0.1)"))
    p1 = layer.init(jax.random.key(0), x)["params"]
    p2 = layer.init(jax.random.key(0), x)["params"]
    p3 = layer.init(jax.random.key(1), x)["params"]
    np.testing.assert_array_equal(np.asarray(p1["kernel"]), np.asarray(p2["kernel"]))
    assert not np.array_equal(np.asarray(p1["kernel"]), np.asarray(p3["kernel"]))
    assert isinstance(p1["kernel"], jax.Array) and p1["kernel"].dtype == jnp.float32
    ref = nn.Dense(256, kernel_init=nn.initializers.he_normal()).init(jax.random.key(4), x)["params"]["kernel"]
    ok, msg = _ks_same(np.asarray(p1["kernel"]), np.asarray(ref))
    assert ok, msg
    assert not _ks_same(np.asarray(p1["kernel"]) * 1.1, np.asarray(ref))[0]
    # the documented mapping: the key's words are the seed, the shape names the stream
    key = jax.random.key(7)
    got = flax_init("he_uniform")(key, (16, 8), jnp.bfloat16)
    assert got.dtype == jnp.bfloat16
    want = vs.HeUniform(seed=vs.derive_stream(7, "flax_init(16, 8)"))((16, 8), "bfloat16")
    np.testing.assert_array_equal(np.asarray(got).view(np.uint16), want.view(np.uint16))
    assert key_seed(jax.random.PRNGKey(7)) == 7 and key_seed(jax.random.wrap_key_data(jnp.asarray([1, 2], jnp.uint32))) == 2**32 + 2
    rbg = jax.random.key(7, impl="rbg")
    assert key_seed(rbg) != 7 and key_seed(rbg) == key_seed(jax.random.key(7, impl="rbg"))
    with pytest.raises(vs.InvalidArgumentError, match=r"fan-based.*shape=\(5,\)"):
        flax_init("he_normal")(key, (5,))
    with pytest.raises(vs.InvalidArgumentError, match="own seed"):
        flax_init(vs.HeNormal(seed=1))


_SHARDED = textwrap.dedent("""
    import jax, jax.numpy as jnp, numpy as np
    from jax.sharding import Mesh, NamedSharding, PartitionSpec as P
    import varscale as vs
    from varscale.jax import init_params
    assert len(jax.devices()) == 4
    mesh = Mesh(np.array(jax.devices()).reshape(2, 2), ("data", "model"))
    specs = {"kernel": P("data", "model"), "embedding": P(None, "model"), "rec": P("data", None), "bias": P()}
    shapes = {"kernel": (64, 32), "embedding": (10, 8), "rec": (16, 16), "bias": (32,)}
    dtypes = {"kernel": jnp.bfloat16, "embedding": jnp.float32, "rec": jnp.float32, "bias": jnp.float32}
    tree = {k: jax.device_put(jnp.zeros(shapes[k], dtypes[k]), NamedSharding(mesh, specs[k])) for k in specs}
    new = init_params(tree, [("rec", "orthogonal")], seed=4, default="flax")
    for k, v in new.items():
        assert v.sharding == tree[k].sharding, k
        assert v.dtype == tree[k].dtype, k
    s = lambda n: vs.derive_stream(4, n)
    want = {"kernel": vs.LecunNormal(seed=s("kernel"))((64, 32), "bfloat16"),
            "rec": vs.Orthogonal(seed=s("rec"))((16, 16)), "bias": np.zeros(32, np.float32)}
    for k, w in want.items():
        assert np.array_equal(np.asarray(new[k]).view(np.uint8), w.view(np.uint8)), k
    assert len(new["kernel"].addressable_shards) == 4
    print("SHARDED-OK")
""")


def test_shardings_kept_on_four_devices() -> None:
    env = dict(os.environ)
    env["XLA_FLAGS"] = (env.get("XLA_FLAGS", "") + " --xla_force_host_platform_device_count=4").strip()
    env["JAX_PLATFORMS"] = "cpu"
    proc = subprocess.run([sys.executable, "-c", _SHARDED], env=env, capture_output=True, text=True, timeout=300,
                          check=False)
    assert proc.returncode == 0 and "SHARDED-OK" in proc.stdout, proc.stdout[-3000:] + proc.stderr[-3000:]
