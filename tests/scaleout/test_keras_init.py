"""varscale.keras.init_model: whole Keras 3 models from varscale's stream, as Keras would initialize them.

The module runs under the backend ``KERAS_BACKEND`` names (TensorFlow in CI);
``test_other_backend`` runs this same file again in a subprocess under the
JAX backend (Keras fixes its backend at import).
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import varscale as vs
from _support import need

keras = need("keras")
stats = need("scipy.stats")

from varscale.keras import einsum_axes, from_keras, init_model  # noqa: E402

F, H, D, U = 64, 4, 16, 64  # features, heads, key_dim, recurrent units


def _model(name: str = "net") -> Any:
    """Every layer kind of the issue, large enough weights for a KS test, explicit layer names."""
    L = keras.layers
    tokens = keras.Input((6,), dtype="int32")
    image = keras.Input((8, 8, 16))
    e = L.Embedding(2000, F, name="embed")(tokens)
    x = L.LSTM(U, return_sequences=True, name="lstm")(e)
    x = L.GRU(U, return_sequences=True, name="gru")(x)
    x = L.Dense(F, name="dense")(x)
    x = L.MultiHeadAttention(H, D, name="mha")(x, x)
    x = L.LayerNormalization(name="ln")(x)
    c = L.Conv2D(64, 3, name="conv")(image)
    c = L.BatchNormalization(name="bn")(c)
    c = L.GlobalAveragePooling2D()(c)
    out = L.Concatenate()([L.GlobalAveragePooling1D()(x), c])
    return keras.Model([tokens, image], out, name=name)


def _numpy(w: Any) -> np.ndarray:
    v = w.value  # a tf.Variable (TensorFlow) or a jax.Array (JAX)
    return np.asarray(v.numpy() if hasattr(v, "numpy") else v)


def _weights(model: Any) -> dict[str, np.ndarray]:
    lead = model.name + "/"
    return {(w.path[len(lead):] if w.path.startswith(lead) else w.path): _numpy(w) for w in model.weights}


def _stream(seed: int, name: str) -> vs.Stream:
    return vs.derive_stream(seed, name)


def _ks_same(a: np.ndarray, b: np.ndarray, alpha: float = 1e-6) -> tuple[bool, str]:
    """Two-sample KS: the tolerance on D comes from the sample sizes (asymptotic critical value at ``alpha``)."""
    x, y = np.asarray(a, np.float64).ravel(), np.asarray(b, np.float64).ravel()
    d = float(stats.ks_2samp(x, y).statistic)
    n, m = x.size, y.size
    crit = math.sqrt(-math.log(alpha / 2) / 2) * math.sqrt((n + m) / (n * m))
    return d <= crit, f"D={d:.4g} critical={crit:.4g} (n={n}, m={m})"


# -- exact values ------------------------------------------------------------------------------------------------
def test_default_keras_values_are_the_core_initializers() -> None:
    model = _model()
    report = init_model(model, seed=7)
    got = _weights(model)
    rows = {r.name: r for r in report}
    assert set(rows) == set(got)

    def expect(name: str, init: Any) -> None:
        shape = got[name].shape
        want = init(seed=_stream(7, name))(shape) if callable(init) else init
        np.testing.assert_array_equal(got[name], want, err_msg=name)

    expect("embed/embeddings", lambda seed: vs.Uniform(-0.05, 0.05, seed=seed))
    expect("dense/kernel", lambda seed: vs.GlorotUniform(seed=seed))
    expect("conv/kernel", lambda seed: vs.GlorotUniform(seed=seed))
    expect("lstm/lstm_cell/kernel", lambda seed: vs.GlorotUniform(seed=seed))
    expect("lstm/lstm_cell/recurrent_kernel", lambda seed: vs.Orthogonal(seed=seed, layout="tf"))
    expect("gru/gru_cell/recurrent_kernel", lambda seed: vs.Orthogonal(seed=seed, layout="tf"))
    # MultiHeadAttention's projections: EinsumDense's fans (Keras: input axes contracted, output axes kept)
    q = vs.Layout(in_axis=0, out_axis=(1, 2))
    o = vs.Layout(in_axis=(0, 1), out_axis=2)
    for part, lay in (("query", q), ("key", q), ("value", q), ("attention_output", o)):
        expect(f"mha/{part}/kernel", lambda seed, lay=lay: vs.VarianceScaling(1.0, "fan_avg", "uniform", layout=lay,
                                                                               seed=seed))
        assert got[f"mha/{part}/bias"].any() == 0
    assert (rows["mha/query/kernel"].fan_in, rows["mha/query/kernel"].fan_out) == (F, H * D)
    assert (rows["mha/attention_output/kernel"].fan_in, rows["mha/attention_output/kernel"].fan_out) == (H * D, F)
    # exact constants
    lstm_bias = np.zeros(4 * U, np.float32)
    lstm_bias[U:2 * U] = 1.0
    expect("lstm/lstm_cell/bias", lstm_bias)
    expect("gru/gru_cell/bias", np.zeros((2, 3 * U), np.float32))
    for name in ("bn/gamma", "bn/moving_variance", "ln/gamma"):
        expect(name, np.ones(got[name].shape, np.float32))
    for name in ("bn/beta", "bn/moving_mean", "ln/beta", "dense/bias", "conv/bias"):
        expect(name, np.zeros(got[name].shape, np.float32))
    assert rows["lstm/lstm_cell/bias"].initializer == "zeros + unit_forget_bias"
    assert rows["conv/kernel"].layout == "tf" and rows["conv/kernel"].fan_in == 9 * 16


def test_values_follow_paths_not_construction_or_model_kind() -> None:
    """A Sequential (layers built in its name scope) and a functional model give the same values."""
    L = keras.layers
    seq = keras.Sequential([keras.Input((5,)), L.Dense(7, name="a"), L.Dense(3, name="b")])
    inp = keras.Input((5,))
    fun = keras.Model(inp, L.Dense(3, name="b")(L.Dense(7, name="a")(inp)))
    r1 = init_model(seq, seed=3)
    r2 = init_model(fun, seed=3)
    assert [r.name for r in r1] == [r.name for r in r2] == ["a/kernel", "a/bias", "b/kernel", "b/bias"]
    for k, v in _weights(seq).items():
        np.testing.assert_array_equal(v, _weights(fun)[k])
    np.testing.assert_array_equal(_weights(seq)["b/kernel"], vs.GlorotUniform(seed=_stream(3, "b/kernel"))((7, 3)))
    # a layer alone keeps its own name in the path: the values it gets inside the model
    alone = keras.layers.Dense(3, name="b")
    alone.build((None, 7))
    assert [r.name for r in init_model(alone, seed=3)] == ["b/kernel", "b/bias"]
    np.testing.assert_array_equal(_numpy(alone.kernel), _weights(fun)["b/kernel"])
    # another seed, other values
    init_model(fun, seed=4)
    assert not np.array_equal(_weights(seq)["a/kernel"], _weights(fun)["a/kernel"])


# -- the same law as Keras' own initialization -------------------------------------------------------------------
def test_same_law_as_keras_own_init() -> None:
    keras.utils.set_random_seed(1)
    theirs = _weights(_model("theirs"))
    ours_model = _model("ours")
    init_model(ours_model, seed=11)
    ours = _weights(ours_model)
    assert set(ours) == set(theirs)
    checked = 0
    for name, value in ours.items():
        ref = theirs[name]
        assert value.shape == ref.shape and value.dtype == ref.dtype, name
        if np.all(ref == ref.ravel()[0]) or name.endswith("lstm_cell/bias"):
            np.testing.assert_array_equal(value, ref, err_msg=name)  # constants: exact
            continue
        ok, msg = _ks_same(value, ref)
        assert ok, f"{name}: {msg}"
        checked += 1
    assert checked == 11  # embeddings, LSTM/GRU kernels and recurrent kernels, dense, 4 MHA kernels, conv
    # the test has power: a 10 % wider law, or the MHA kernel with Conv-style fans, is rejected
    assert not _ks_same(ours["embed/embeddings"] * 1.1, theirs["embed/embeddings"])[0]
    wrong = vs.GlorotUniform(seed=0)(ours["mha/query/kernel"].shape)
    assert not _ks_same(wrong, theirs["mha/query/kernel"])[0]


def test_truncated_random_and_custom_initializers() -> None:
    L = keras.layers
    ki = keras.initializers
    inp = keras.Input((256,))
    x = L.Dense(256, kernel_initializer=ki.TruncatedNormal(stddev=0.02), bias_initializer=ki.Constant(0.5),
                name="t")(inp)
    x = L.Dense(256, kernel_initializer=ki.RandomNormal(0.1, 0.03), bias_initializer=ki.Ones(), name="n")(x)
    x = L.Dense(256, kernel_initializer=ki.RandomUniform(-0.2, 0.1), name="u")(x)
    x = L.Dense(256, kernel_initializer=ki.HeNormal(), name="h")(x)
    x = L.Dense(256, kernel_initializer=ki.VarianceScaling(2.0, "fan_out", "untruncated_normal"), name="v")(x)
    x = L.Dense(256, kernel_initializer=ki.Orthogonal(gain=0.5), name="o")(x)
    keras.utils.set_random_seed(2)
    model = keras.Model(inp, x)
    theirs = _weights(model)
    report = init_model(model, seed=5)
    ours = _weights(model)
    for name in ("t/kernel", "n/kernel", "u/kernel", "h/kernel", "v/kernel", "o/kernel"):
        ok, msg = _ks_same(ours[name], theirs[name])
        assert ok, f"{name}: {msg}"
    np.testing.assert_array_equal(ours["t/kernel"], vs.TruncatedNormal(0, 0.02, -0.04, 0.04,
                                                                        seed=_stream(5, "t/kernel"))((256, 256)))
    assert np.abs(ours["t/kernel"]).max() <= 0.04
    np.testing.assert_array_equal(ours["t/bias"], np.full(256, 0.5, np.float32))
    np.testing.assert_array_equal(ours["n/bias"], np.ones(256, np.float32))
    np.testing.assert_array_equal(ours["h/kernel"], vs.HeNormal(seed=_stream(5, "h/kernel"))((256, 256)))
    rows = {r.name: r for r in report}
    assert rows["h/kernel"].initializer == "he_normal"
    assert rows["t/kernel"].initializer.startswith("truncated_normal(")


def test_fan_based_layer_initializers_on_1d_weights_and_random_forget_bias() -> None:
    """Keras runs VarianceScaling on a 1-D bias (fans (n, n)); unit_forget_bias keeps a random bias' law."""
    ki = keras.initializers
    inp = keras.Input((3, 32))
    x = keras.layers.LSTM(64, bias_initializer=ki.RandomNormal(stddev=0.1), name="lstm")(inp)
    x = keras.layers.Dense(512, bias_initializer=ki.HeNormal(), name="d")(x)
    model = keras.Model(inp, x)
    report = init_model(model, seed=8)
    got = _weights(model)
    row = {r.name: r for r in report}["d/bias"]
    assert (row.fan_in, row.fan_out, row.initializer) == (512, 512, "he_normal")
    np.testing.assert_array_equal(got["d/bias"], vs.HeNormal(seed=_stream(8, "d/bias"))((512,)))
    bias = got["lstm/lstm_cell/bias"]
    want = vs.Normal(std=0.1, seed=_stream(8, "lstm/lstm_cell/bias"))((256,))
    np.testing.assert_array_equal(bias[64:128], np.ones(64, np.float32))
    np.testing.assert_array_equal(np.delete(bias, np.s_[64:128]), np.delete(want, np.s_[64:128]))


def test_more_layer_kinds() -> None:
    """Layers whose initializer is not a `<weight>_initializer` attribute: depthwise kernels, hard-coded ones."""
    # Bidirectional names its inner layers from Keras' global name counters ("forward_lstm_1" once another test
    # in this process built an LSTM): start from fresh counters so the weight paths below are these
    keras.backend.clear_session()
    L = keras.layers
    inp = keras.Input((8, 8, 4))
    x = L.DepthwiseConv2D(3, name="dw")(inp)
    x = L.SeparableConv2D(4, 3, name="sep")(x)
    x = L.PReLU(name="prelu")(x)
    x = L.Reshape((16, 4))(x)
    x = L.Bidirectional(L.LSTM(4, return_sequences=True), name="bi")(x)
    dense = L.Dense(8, name="d")
    x = dense(x)
    x = L.Attention(use_scale=True, score_mode="concat", name="att")([x, x])
    x = L.AdditiveAttention(name="add")([x, x])
    x = L.RMSNormalization(name="rms")(x)
    model = keras.Model(inp, x)
    dense.enable_lora(2)
    rows = {r.name: r for r in init_model(model, seed=2)}
    got = _weights(model)
    glorot = {"dw/kernel", "sep/depthwise_kernel", "sep/pointwise_kernel", "bi/forward_lstm/lstm_cell/kernel",
              "bi/backward_lstm/lstm_cell/kernel", "add/scale"}
    for name in glorot:
        np.testing.assert_array_equal(got[name], vs.GlorotUniform(seed=_stream(2, name))(got[name].shape), name)
    assert (rows["add/scale"].fan_in, rows["add/scale"].fan_out) == (8, 8)  # Keras' fans of a 1-D weight
    np.testing.assert_array_equal(got["d/lora_kernel_a"], vs.HeUniform(seed=_stream(2, "d/lora_kernel_a"))((8, 2)))
    for name in ("att/scale", "att/concat_score_weight", "rms/scale"):
        assert np.all(got[name] == 1), name
    for name in ("prelu/alpha", "d/lora_kernel_b"):
        assert np.all(got[name] == 0), name


def test_varscale_keras_facade_initializers_in_layers() -> None:
    """Layers built with varscale.compat.keras initializers (subclasses of Keras' own) map as Keras' classes."""
    from varscale.compat.keras import initializers as vki

    inp = keras.Input((16,))
    x = keras.layers.Dense(8, kernel_initializer=vki.HeNormal(), name="d")(inp)
    x = keras.layers.EinsumDense("ab,bcd->acd", (4, 2), kernel_initializer=vki.GlorotUniform(), name="e")(x)
    model = keras.Model(inp, x)
    rows = {r.name: r for r in init_model(model, seed=1)}
    got = _weights(model)
    np.testing.assert_array_equal(got["d/kernel"], vs.HeNormal(seed=_stream(1, "d/kernel"))((16, 8)))
    assert rows["d/kernel"].initializer == "he_normal"
    assert (rows["e/kernel"].fan_in, rows["e/kernel"].fan_out) == (8, 8)  # EinsumDense axes: b in, c·d out
    with pytest.raises(vs.InvalidArgumentError, match="has its own seed"):
        init_model(model, [("*kernel", vki.HeNormal(seed=4))], seed=0, default="skip")


def test_unknown_keras_initializer_is_an_error_naming_the_weight() -> None:
    inp = keras.Input((4,))
    model = keras.Model(inp, keras.layers.Dense(4, kernel_initializer=keras.initializers.Identity(), name="d")(inp))
    before = _weights(model)
    with pytest.raises(vs.InvalidArgumentError, match=r"d/kernel \(Dense.kernel_initializer\).*Identity"):
        init_model(model, seed=0)
    np.testing.assert_array_equal(_weights(model)["d/bias"], before["d/bias"])  # nothing assigned
    init_model(model, [("d/kernel", "orthogonal")], seed=0)  # a rule takes over


# -- rules and defaults --------------------------------------------------------------------------------------------
def test_rules_globs_types_and_keras_initializers() -> None:
    model = _model()
    L = keras.layers
    rules: list[Any] = [
        (((L.Dense, L.EinsumDense), "bias"), 0.125),  # a (types, glob) pair: first match wins
        (L.LSTM, "normal(std=0.02)"),  # a wrapper type matches its cell's weights
        ("*/bias", 0.25),
        ("embed/*", keras.initializers.RandomNormal(stddev=0.5)),
        ("*kernel", "he_uniform"),
    ]
    report = init_model(model, rules, seed=1, default="skip")
    got = _weights(model)
    rows = {r.name: r for r in report}
    assert rows["dense/bias"].rule == "Dense|EinsumDense.bias"
    assert float(got["dense/bias"][0]) == 0.125 and float(got["mha/query/bias"].ravel()[0]) == 0.125
    assert float(got["conv/bias"][0]) == 0.25
    np.testing.assert_array_equal(got["lstm/lstm_cell/bias"], vs.Normal(std=0.02, seed=_stream(1, "lstm/lstm_cell/bias"))
                                  ((4 * U,)))
    np.testing.assert_array_equal(got["embed/embeddings"], vs.Normal(std=0.5, seed=_stream(1, "embed/embeddings"))
                                  ((2000, F)))
    # rules use the TF layout: the conv kernel's fan_in is 3·3·16
    np.testing.assert_array_equal(got["conv/kernel"], vs.HeUniform(seed=_stream(1, "conv/kernel"))((3, 3, 16, 64)))
    assert rows["conv/kernel"].fan_in == 144 and rows["conv/kernel"].layout == "tf"
    assert rows["bn/gamma"].skipped and rows["bn/gamma"].rule == "default=skip"


def test_default_error_and_skip() -> None:
    model = _model()
    with pytest.raises(vs.InvalidArgumentError, match=r"weight\(s\) match no rule: .*bn/gamma"):
        init_model(model, [("*kernel", "glorot_uniform")], seed=0, default="error")
    before = _weights(model)
    init_model(model, [("dense/kernel", "glorot_uniform")], seed=0, default="skip")
    after = _weights(model)
    assert not np.array_equal(before["dense/kernel"], after["dense/kernel"])
    for name in after:
        if name != "dense/kernel":
            np.testing.assert_array_equal(before[name], after[name])


def test_no_silent_no_ops() -> None:
    model = _model()
    before = _weights(model)
    with pytest.raises(vs.InvalidArgumentError, match=r"fewer than 2 dimensions.*bn/gamma \(64,\).*he_normal"):
        init_model(model, [("*", "he_normal")], seed=0)
    with pytest.raises(vs.InvalidArgumentError, match=r"rule\(s\) match no weight: nothing/\*;"):
        init_model(model, [("nothing/*", 0.0)], seed=0)
    with pytest.raises(vs.InvalidArgumentError, match="has its own seed"):
        init_model(model, [("*kernel", vs.HeNormal(seed=3))], seed=0)
    with pytest.raises(vs.InvalidArgumentError, match=r"HeNormal\(seed=3\) has its own seed"):
        init_model(model, [("*kernel", keras.initializers.HeNormal(seed=3))], seed=0)
    for name, value in _weights(model).items():  # nothing was assigned
        np.testing.assert_array_equal(value, before[name])
    with pytest.warns(UserWarning, match="match no weight"):
        init_model(model, [("nothing/*", 0.0)], seed=0, strict=False)


def test_unbuilt_model_and_bad_arguments() -> None:
    with pytest.raises(vs.InvalidArgumentError, match="not built"):
        init_model(keras.Sequential([keras.layers.Dense(3)]), seed=0)
    model = _model()
    with pytest.raises(TypeError, match="`seed` must be an int"):
        init_model(model, seed=1.5)  # type: ignore[arg-type]
    with pytest.raises(vs.InvalidArgumentError, match="`default` must be one of 'keras', 'error', 'skip'"):
        init_model(model, seed=0, default="torch")
    with pytest.raises(TypeError, match="a rule's pattern"):
        init_model(model, [(3, 0.0)], seed=0)
    with pytest.raises(TypeError, match="`model` must be a Keras 3 model"):
        init_model(object(), seed=0)


@pytest.mark.parametrize("dtype", ["bfloat16", "float16", "float64"])
def test_weights_drawn_in_their_own_dtype(dtype: str) -> None:
    if dtype == "float64" and keras.backend.backend() == "jax" and not need("jax").config.jax_enable_x64:
        pytest.skip("float64 weights need jax_enable_x64 on the JAX backend")
    inp = keras.Input((32,))
    model = keras.Model(inp, keras.layers.Dense(16, dtype=dtype, name="d")(inp))
    init_model(model, seed=9)
    w = model.get_layer("d").kernel
    assert str(w.dtype) == dtype
    want = vs.GlorotUniform(seed=_stream(9, "d/kernel"))((32, 16), dtype)
    got = _numpy(w)
    assert got.dtype == want.dtype
    np.testing.assert_array_equal(got.view(np.uint8), want.view(np.uint8))


def test_report_table() -> None:
    inp = keras.Input((8,))
    model = keras.Model(inp, keras.layers.Dense(4, name="d")(inp))
    text = str(init_model(model, [("d/bias", None)], seed=0))
    assert text.splitlines()[0].split() == ["name", "shape", "initializer", "layout", "fan_in", "fan_out", "std",
                                            "rule"]
    assert text.splitlines()[1].split() == ["d/kernel", "(8,", "4)", "glorot_uniform", "tf", "8", "4", "0.408248",
                                            "default=keras"]
    assert "(skipped)" in text.splitlines()[2]


def test_einsum_axes_match_keras() -> None:
    from keras.src.layers.core.einsum_dense import _analyze_einsum_string

    for eq, inp, out in (("abc,cde->abde", (2, 3, 8), (None, 4, 5)), ("abcd,cde->abe", (2, 3, 4, 5), (None, 6)),
                         ("...b,bc->...c", (2, 3, 8), (6,)), ("ab,bc->ac", (2, 8), (4,)),
                         ("abc,cd->abd", (2, 3, 8), (None, 4))):
        *_, ins, outs = _analyze_einsum_string(eq, None, inp, out)
        assert einsum_axes(eq) == (ins, outs), eq
    with pytest.raises(vs.InvalidArgumentError, match="not an EinsumDense equation"):
        einsum_axes("ab->b")
    assert from_keras(keras.initializers.GlorotNormal()).get_config()["distribution"] == "truncated_normal"


@pytest.mark.skipif(os.environ.get("VARSCALE_KERAS_CHILD") == "1", reason="already the other backend")
def test_other_backend() -> None:
    """The whole file again, under the JAX backend if this run is TensorFlow's (and TensorFlow's otherwise)."""
    current = keras.backend.backend()
    other = "jax" if current != "jax" else "tensorflow"
    need(other)
    env = {**os.environ, "KERAS_BACKEND": other, "VARSCALE_KERAS_CHILD": "1"}
    here = Path(__file__)
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", str(here)],
        cwd=here.parents[2], env=env, capture_output=True, text=True, timeout=900,
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert "passed" in proc.stdout
