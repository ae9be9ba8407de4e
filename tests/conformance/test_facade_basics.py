"""Conformance of the facades' non-variance-scaling initializers with the real frameworks.

Keras 3 (``RandomNormal``, ``TruncatedNormal``, ``RandomUniform``, ``Orthogonal``, ``Zeros``, ``Ones``,
``Constant``, ``Identity``, ``get``), TF1 ``init_ops`` (the same set plus integer ``RandomUniform``) and
``jax.nn.initializers`` (``uniform``, ``normal``, ``truncated_normal``, ``orthogonal``,
``delta_orthogonal``, ``constant``, ``zeros``, ``ones``):

* the random ones: two-sample KS (n = 20 000, fixed seeds) against the framework's own samples, and a
  check that the KS test rejects a wrong law (a 20 % scale error, and the untruncated law for a
  truncated one);
* the constant ones: exactly the framework's values, dtype and shape;
* errors (type and message), configs and name look-ups: the framework's.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from scipy import stats

from _stats import KS_ALPHA, KS_SHAPE, ks_check, ks_power
from _support import need

#: Sample shape of the wrong-law checks: truncation at ±2σ moves the CDF by about 0.023, which KS at
#: alpha = 1e-6 sees from n ≈ 60 000 per side.
BIG_SHAPE = (1000, 100)


def _ks_rejects(ours: np.ndarray, theirs: np.ndarray) -> None:
    """The KS check sees a wrong law: our sample against the framework's sample of another law."""
    a = np.asarray(ours, dtype=np.float64).ravel()
    b = np.asarray(theirs, dtype=np.float64).ravel()
    assert float(stats.ks_2samp(a, b).pvalue) < KS_ALPHA, "KS check did not see a wrong law"


def _same_error(ref: Any, ours: Any) -> None:
    with pytest.raises(Exception) as theirs_info:
        ref()
    with pytest.raises(type(theirs_info.value)) as ours_info:
        ours()
    assert str(ours_info.value) == str(theirs_info.value)


# ======================================================================================== Keras
@pytest.fixture(scope="module")
def keras() -> Any:
    return need("keras")


@pytest.fixture(scope="module")
def kinit(keras: Any) -> Any:
    from varscale.compat.keras import initializers

    return initializers


def _k_np(keras: Any, x: Any) -> np.ndarray:
    return np.asarray(keras.ops.convert_to_numpy(keras.ops.cast(x, "float64")))


KERAS_RANDOM = [
    ("RandomNormal", {"mean": 0.3, "stddev": 0.7}, "float32"),
    ("RandomNormal", {}, "bfloat16"),
    ("TruncatedNormal", {"mean": -0.2, "stddev": 1.3}, "float32"),
    ("TruncatedNormal", {}, "float64"),
    ("RandomUniform", {"minval": -0.3, "maxval": 0.9}, "float32"),
    ("RandomUniform", {}, "float16"),
]


@pytest.mark.parametrize(("cls", "kwargs", "dtype"), KERAS_RANDOM, ids=[f"{c}-{d}" for c, _, d in KERAS_RANDOM])
def test_keras_random_ks(keras: Any, kinit: Any, cls: str, kwargs: dict[str, Any], dtype: str) -> None:
    """Same law as Keras (KS against Keras' samples); a 20 % scale error is rejected."""
    theirs = _k_np(keras, getattr(keras.initializers, cls)(seed=11, **kwargs)(KS_SHAPE, dtype=dtype))
    ours = getattr(kinit, cls)(seed=11, **kwargs)(KS_SHAPE, dtype=dtype)
    assert ours.dtype.name == dtype and ours.shape == KS_SHAPE
    ks_check(ours, theirs)
    if kwargs:
        ks_power(ours, theirs)


def test_keras_truncated_is_not_normal(keras: Any, kinit: Any) -> None:
    """The KS check tells Keras' TruncatedNormal (cut at ±2 stddev) from the untruncated law."""
    theirs = _k_np(keras, keras.initializers.RandomNormal(stddev=1.0, seed=3)(BIG_SHAPE))
    ours = kinit.TruncatedNormal(stddev=1.0, seed=3)(BIG_SHAPE)
    _ks_rejects(ours, theirs)
    assert float(np.abs(ours).max()) <= 2.0


@pytest.mark.parametrize("shape", [(6, 4), (4, 6), (3, 3, 2, 5), (5, 5)])
@pytest.mark.parametrize("gain", [1.0, 2.5])
def test_keras_orthogonal(keras: Any, kinit: Any, shape: tuple[int, ...], gain: float) -> None:
    """Keras' flattening (rows = prod(shape[:-1])): gain times orthonormal columns or rows."""
    theirs = _k_np(keras, keras.initializers.Orthogonal(gain=gain, seed=1)(shape))
    ours = kinit.Orthogonal(gain=gain, seed=1)(shape, dtype="float64")
    assert ours.shape == theirs.shape == shape
    flat = ours.reshape(-1, shape[-1])
    gram = flat.T @ flat if flat.shape[0] >= flat.shape[1] else flat @ flat.T
    np.testing.assert_allclose(gram, gain**2 * np.eye(gram.shape[0]), atol=1e-12)
    ref_flat = theirs.reshape(-1, shape[-1])
    ref_gram = ref_flat.T @ ref_flat if ref_flat.shape[0] >= ref_flat.shape[1] else ref_flat @ ref_flat.T
    np.testing.assert_allclose(ref_gram, gain**2 * np.eye(gram.shape[0]), atol=1e-5)


def test_keras_orthogonal_elements_ks(keras: Any, kinit: Any) -> None:
    """The elements of a 200x100 orthogonal matrix: same law as Keras'; 20 % off is rejected."""
    theirs = _k_np(keras, keras.initializers.Orthogonal(seed=5)(KS_SHAPE))
    ours = kinit.Orthogonal(seed=5)(KS_SHAPE)
    ks_check(ours, theirs)
    ks_power(ours, theirs)


CONST_DTYPES = ["float32", "float16", "bfloat16", "float64", "int32"]


@pytest.mark.parametrize("dtype", CONST_DTYPES)
@pytest.mark.parametrize(
    ("cls", "args", "shape"),
    [
        ("Zeros", (), (3, 4)),
        ("Ones", (), (2, 3, 4)),
        ("Constant", (0.1,), (5, 2)),
        ("Constant", (-3,), (4,)),
        ("Identity", (1.0,), (3, 5)),
        ("Identity", (0.3,), (4, 2)),
    ],
)
def test_keras_constants_exact(keras: Any, kinit: Any, cls: str, args: tuple[Any, ...], shape: tuple[int, ...],
                               dtype: str) -> None:
    """Zeros, Ones, Constant, Identity: exactly Keras' values and dtype."""
    ref_fn = getattr(keras.initializers, cls)(*args)
    ours_fn = getattr(kinit, cls)(*args)
    if cls == "Identity" and dtype == "int32" and isinstance(args[0], float):
        _same_error(lambda: ref_fn(shape, dtype=dtype), lambda: ours_fn(shape, dtype=dtype))
        return
    ref = ref_fn(shape, dtype=dtype)
    ours = ours_fn(shape, dtype=dtype)
    assert ours.dtype.name == keras.backend.standardize_dtype(ref.dtype) and ours.shape == tuple(ref.shape)
    theirs = _k_np(keras, ref)
    if cls == "Constant" and dtype == "float64" and keras.backend.backend() == "tensorflow":
        # Keras' TF backend turns the Python float into a float32 tensor before the cast: 0.1 arrives as
        # float32(0.1); varscale keeps the float64 value exact
        value = float(args[0])
        assert np.array_equal(theirs, np.full(shape, float(np.float32(value))))
        assert np.array_equal(ours, np.full(shape, value))
        return
    assert np.array_equal(ours.astype(np.float64), theirs)


def test_keras_constant_array_value(keras: Any, kinit: Any) -> None:
    """An array value broadcasts as in Keras, and the config round-trips through keras.saving."""
    value = np.array([1.5, -2.0, 0.25])
    theirs = keras.ops.convert_to_numpy(keras.initializers.Constant(value)((2, 3)))
    ours = kinit.Constant(value)((2, 3))
    assert np.array_equal(ours, theirs)
    assert kinit.Constant(value).get_config() == keras.initializers.Constant(value).get_config()
    back = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(kinit.Constant(value)))
    assert isinstance(back, kinit.Constant)
    assert np.array_equal(back((2, 3)), ours)


@pytest.mark.parametrize(
    ("cls", "args", "shape"),
    [("Orthogonal", (), (5,)), ("Orthogonal", (), ()), ("Identity", (), (2, 3, 4)), ("Identity", (), (3,))],
)
def test_keras_errors(keras: Any, kinit: Any, cls: str, args: tuple[Any, ...], shape: tuple[int, ...]) -> None:
    """Shape errors: Keras' type and message."""
    _same_error(lambda: getattr(keras.initializers, cls)(*args)(shape),
                lambda: getattr(kinit, cls)(*args)(shape))


CONFIG_CASES = [
    ("RandomNormal", {"mean": 0.5, "stddev": 2.0, "seed": 3}),
    ("TruncatedNormal", {"stddev": 0.1, "seed": 0}),
    ("RandomUniform", {"minval": -1.0, "maxval": 2.0, "seed": 9}),
    ("Orthogonal", {"gain": 3.0, "seed": 2}),
    ("Zeros", {}),
    ("Ones", {}),
    ("Constant", {"value": 4.5}),
    ("Identity", {"gain": 0.5}),
]


@pytest.mark.parametrize(("cls", "kwargs"), CONFIG_CASES, ids=[c for c, _ in CONFIG_CASES])
def test_keras_config_serialize_twin(keras: Any, kinit: Any, cls: str, kwargs: dict[str, Any]) -> None:
    """get_config equals Keras'; the object is an instance of Keras' class; keras.saving round-trips it to
    varscale's class with the same values; Keras' config loads here."""
    ref = getattr(keras.initializers, cls)(**kwargs)
    ours = getattr(kinit, cls)(**kwargs)
    # Keras 3.15's Identity has no get_config (it returns {}, losing gain); varscale keeps gain
    assert ours.get_config() == (kwargs if cls == "Identity" else ref.get_config())
    assert isinstance(ours, getattr(keras.initializers, cls))
    blob = keras.saving.serialize_keras_object(ours)
    assert blob["registered_name"] == f"varscale>{cls}"
    back = keras.saving.deserialize_keras_object(blob)
    assert type(back) is type(ours)
    assert np.array_equal(back((4, 3)), ours((4, 3)))
    loaded = kinit.deserialize(keras.initializers.serialize(ref))
    assert type(loaded) is type(ours)
    assert loaded.get_config() == ({"gain": 1.0} if cls == "Identity" else ref.get_config())


def test_keras_layer_draws_from_varscale(keras: Any, kinit: Any) -> None:
    """A Dense layer built with the facade's RandomNormal/Constant holds varscale's values."""
    init = kinit.RandomNormal(stddev=0.02, seed=4)
    layer = keras.layers.Dense(5, kernel_initializer=init, bias_initializer=kinit.Constant(0.5))
    layer.build((None, 7))
    kernel, bias = layer.get_weights()
    assert np.array_equal(kernel, init((7, 5)))
    assert np.array_equal(bias, np.full(5, 0.5, np.float32))


KERAS_NAMES = [
    "random_normal", "random_uniform", "truncated_normal", "orthogonal", "zeros", "ones", "constant", "identity",
    "RandomNormal", "Zeros", "Identity", "normal", "uniform", "zero", "one", "IdentityInitializer",
    "OrthogonalInitializer", "STFT", "stft", "STFTInitializer",
]


@pytest.mark.parametrize("name", KERAS_NAMES)
def test_keras_get_names(keras: Any, kinit: Any, name: str) -> None:
    """get(name): the class Keras' get gives, with the same config (seed aside)."""
    if name == "constant":
        # Keras 3.15 fails here (Constant.from_config({}) reads config["value"]); varscale gives Constant(0.0)
        with pytest.raises(KeyError):
            keras.initializers.get(name)
        assert kinit.get(name).get_config() == keras.initializers.Constant().get_config()
        return
    ref = keras.initializers.get(name)
    ours = kinit.get(name)
    assert type(ours).__name__ == type(ref).__name__
    cfg = {"gain": 1.0} if type(ref).__name__ == "Identity" else ref.get_config()
    if "seed" in cfg:
        cfg["seed"] = ours.get_config()["seed"]
    assert ours.get_config() == cfg


def test_keras_get_array(keras: Any, kinit: Any) -> None:
    """get(array): the array itself, cast to the call's dtype; another shape raises Keras' ValueError."""
    arr = np.arange(6, dtype=np.float64).reshape(2, 3) / 7.0
    ref_fn, our_fn = keras.initializers.get(arr), kinit.get(arr)
    for dtype in ("float32", "float16", None):
        theirs = keras.ops.convert_to_numpy(ref_fn((2, 3), dtype=dtype))
        ours = our_fn((2, 3), dtype=dtype)
        assert ours.dtype == theirs.dtype and np.array_equal(ours, theirs)
    _same_error(lambda: ref_fn((3, 2)), lambda: our_fn((3, 2)))


STFT_CASES = [
    ("real", "hann", "density", False, "float32"),
    ("imag", "hamming", "spectrum", True, "float64"),
    ("real", None, "density", False, "float16"),
    ("imag", [0.5, 1.0, 2.0, 1.0, 0.5, 0.25, 0.1, 0.0], None, False, "float32"),
]


@pytest.mark.parametrize(("side", "window", "scaling", "periodic", "dtype"), STFT_CASES)
def test_keras_stft(keras: Any, kinit: Any, side: str, window: Any, scaling: Any, periodic: bool,
                    dtype: str) -> None:
    """STFT: Keras' kernel (Keras computes in the dtype, varscale in float64 rounded once: equal to the dtype's
    precision), its config, and the exact float64 formula."""
    shape = (8, 2, 5)
    theirs = _k_np(keras, keras.initializers.STFT(side, window, scaling, periodic)(shape, dtype))
    ours = kinit.STFT(side, window, scaling, periodic)(shape, dtype)
    # as Keras, the kernel is (frame_length, 1, fft_length) whatever input_channels says
    assert ours.dtype.name == dtype and ours.shape == theirs.shape == (8, 1, 5)
    # Keras evaluates the phase in the dtype: in float16 its own error reaches 0.0064 (exact values here)
    tol = {"float16": 1e-2, "float32": 1e-6, "float64": 1e-12}[dtype]
    np.testing.assert_allclose(ours.astype(np.float64), theirs, atol=tol)
    exact = kinit.STFT(side, window, scaling, periodic)(shape, "float64")
    np.testing.assert_array_equal(ours, exact.astype(ours.dtype))
    assert kinit.STFT(side, window, scaling, periodic).get_config() == \
        keras.initializers.STFT(side, window, scaling, periodic).get_config()


@pytest.mark.parametrize("kwargs", [{"side": "imaginary"}, {"scaling": "l2"}, {"window": "unknown"}])
def test_keras_stft_errors(keras: Any, kinit: Any, kwargs: dict[str, Any]) -> None:
    _same_error(lambda: keras.initializers.STFT(**kwargs), lambda: kinit.STFT(**kwargs))
    _same_error(lambda: keras.initializers.STFT(window=[1.0, 2.0])((3, 1, 4)),
                lambda: kinit.STFT(window=[1.0, 2.0])((3, 1, 4)))


def test_keras_seed_semantics(kinit: Any) -> None:
    """An int seed repeats on every call; a SeedGenerator advances; two unseeded instances differ."""
    init = kinit.RandomUniform(seed=8)
    assert np.array_equal(init((50,)), init((50,)))
    gen = kinit.RandomNormal(seed=kinit.SeedGenerator(8))
    assert not np.array_equal(gen((50,)), gen((50,)))
    assert not np.array_equal(kinit.TruncatedNormal()((50,)), kinit.TruncatedNormal()((50,)))
    orth = kinit.Orthogonal(seed=kinit.SeedGenerator(1))
    assert not np.array_equal(orth((4, 4)), orth((4, 4)))


# ======================================================================================== TF1
@pytest.fixture(scope="module")
def tf() -> Any:
    return need("tensorflow")


@pytest.fixture(scope="module")
def tf1() -> Any:
    from varscale.compat import tf1

    return tf1


TF_RANDOM = [
    ("random_uniform_initializer", {"minval": -1.0, "maxval": 2.0}, "float32"),
    ("random_uniform_initializer", {}, "float64"),
    ("random_normal_initializer", {"mean": 0.5, "stddev": 2.0}, "float32"),
    ("random_normal_initializer", {}, "float16"),
    ("truncated_normal_initializer", {"mean": 0.5, "stddev": 2.0}, "float32"),
    ("truncated_normal_initializer", {}, "bfloat16"),
]


@pytest.mark.parametrize(("name", "kwargs", "dtype"), TF_RANDOM, ids=[f"{n}-{d}" for n, _, d in TF_RANDOM])
def test_tf1_random_ks(tf: Any, tf1: Any, name: str, kwargs: dict[str, Any], dtype: str) -> None:
    """Same law as TF1's init_ops (KS against TF's samples); a 20 % scale error is rejected."""
    ref = getattr(tf.compat.v1, name)(seed=21, dtype=dtype, **kwargs)
    theirs = tf.cast(ref(list(KS_SHAPE)), tf.float64).numpy()
    ours = getattr(tf1, name)(seed=21, dtype=dtype, **kwargs)(list(KS_SHAPE))
    assert ours.dtype.name == dtype and ours.shape == KS_SHAPE
    ks_check(ours, theirs)
    if kwargs:
        ks_power(ours, theirs)


def test_tf1_truncated_is_not_normal(tf: Any, tf1: Any) -> None:
    theirs = tf.compat.v1.random_normal_initializer(seed=2)(list(BIG_SHAPE)).numpy()
    ours = tf1.truncated_normal_initializer(seed=2)(list(BIG_SHAPE))
    _ks_rejects(ours, theirs)


def test_tf1_integer_uniform(tf: Any, tf1: Any) -> None:
    """Integer dtypes: integers in [minval, maxval), every value reached, same law as TF (KS)."""
    theirs = tf.compat.v1.random_uniform_initializer(-3, 7, seed=1)(list(KS_SHAPE), dtype=tf.int32).numpy()
    ours = tf1.random_uniform_initializer(-3, 7, seed=1)(list(KS_SHAPE), dtype="int32")
    assert ours.dtype == np.int32 and ours.min() == -3 and ours.max() == 6
    assert set(np.unique(ours)) == set(range(-3, 7))
    ks_check(ours, theirs)
    counts = np.bincount(ours.ravel() + 3, minlength=10)
    assert stats.chisquare(counts).pvalue > KS_ALPHA
    assert stats.chisquare(counts * np.linspace(0.8, 1.2, 10)).pvalue < KS_ALPHA  # the check sees 20 % skew
    _same_error(lambda: tf.compat.v1.random_uniform_initializer(seed=1)([3], dtype=tf.int32),
                lambda: tf1.random_uniform_initializer(seed=1)([3], dtype="int32"))


@pytest.mark.parametrize("shape", [[6, 4], [4, 6], [3, 3, 2, 5]])
def test_tf1_orthogonal(tf: Any, tf1: Any, shape: list[int]) -> None:
    ours = tf1.orthogonal_initializer(gain=1.5, seed=3)(shape, dtype="float64")
    theirs = tf.compat.v1.orthogonal_initializer(gain=1.5, seed=3)(shape, dtype=tf.float64).numpy()
    assert ours.shape == theirs.shape == tuple(shape)
    for x in (ours, theirs):
        flat = x.reshape(-1, shape[-1])
        gram = flat.T @ flat if flat.shape[0] >= flat.shape[1] else flat @ flat.T
        np.testing.assert_allclose(gram, 2.25 * np.eye(gram.shape[0]), atol=1e-10)


def test_tf1_orthogonal_elements_ks(tf: Any, tf1: Any) -> None:
    theirs = tf.compat.v1.orthogonal_initializer(seed=4)(list(KS_SHAPE)).numpy()
    ours = tf1.orthogonal_initializer(seed=4)(list(KS_SHAPE))
    ks_check(ours, theirs)
    ks_power(ours, theirs)


def _tf_graph_value(tf: Any, fn: Any) -> np.ndarray:
    """Run a TF1 initializer in graph mode (constant_v1's padding is a graph-mode rule)."""
    with tf.Graph().as_default():
        t = fn()
        with tf.compat.v1.Session() as sess:
            return np.asarray(sess.run(t))


@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16", "float64", "int32"])
@pytest.mark.parametrize(
    ("name", "args", "shape"),
    [
        ("zeros_initializer", (), [3, 4]),
        ("ones_initializer", (), [2, 3, 4]),
        ("constant_initializer", (3,), [5, 2]),
        ("constant_initializer", ([1, 2, 3, 4, 5, 6],), [2, 3]),
        ("constant_initializer", ([1, 2],), [2, 3]),
    ],
)
def test_tf1_constants_exact(tf: Any, tf1: Any, name: str, args: tuple[Any, ...], shape: list[int],
                             dtype: str) -> None:
    """Zeros, Ones, Constant (fill, reshape, pad with the last value): exactly TF1's values."""
    theirs = _tf_graph_value(tf, lambda: getattr(tf.compat.v1, name)(*args)(shape, dtype=tf.as_dtype(dtype)))
    ours = getattr(tf1, name)(*args)(shape, dtype=dtype)
    assert ours.shape == theirs.shape and ours.dtype.name == theirs.dtype.name
    assert np.array_equal(ours.astype(np.float64), theirs.astype(np.float64))


def test_tf1_constant_fraction_to_integer(tf1: Any) -> None:
    """A fractional value for an integer dtype raises TypeError (TF1 graph mode's message)."""
    with pytest.raises(TypeError, match=r"Expected int32, but got 0.5 of type 'float'"):
        tf1.constant_initializer([1.0, 0.5])([2], dtype="int32")
    assert tf1.constant_initializer(0.1)([2], dtype="float32").tolist() == [np.float32(0.1)] * 2


@pytest.mark.parametrize("dtype", ["float32", "float16", "float64"])
def test_tf1_identity_exact(tf: Any, tf1: Any, dtype: str) -> None:
    for shape, gain in (([3, 5], 1.0), ([4, 2], 0.3)):
        theirs = tf.compat.v1.initializers.identity(gain=gain)(shape, dtype=tf.as_dtype(dtype)).numpy()
        ours = tf1.identity_initializer(gain=gain)(shape, dtype=dtype)
        assert ours.dtype == theirs.dtype and np.array_equal(ours, theirs)
    part = tf1.PartitionInfo([4, 6], [2, 0])
    full = tf1.identity_initializer(gain=2.0)([4, 6])
    assert np.array_equal(tf1.identity_initializer(gain=2.0)([2, 6], partition_info=part), full[2:4])


def test_tf1_random_partitions_assemble(tf1: Any) -> None:
    """A partitioned draw is the slice of the unpartitioned one."""
    for init in (tf1.random_normal_initializer(seed=5), tf1.random_uniform_initializer(-1, 1, seed=5),
                 tf1.truncated_normal_initializer(seed=5)):
        full = init([10, 4])
        part = init([5, 4], partition_info=tf1.PartitionInfo([10, 4], [5, 0]))
        assert np.array_equal(part, full[5:])


@pytest.mark.parametrize(
    "case",
    [
        ("random_normal_initializer", {"dtype": "int32"}, None),
        ("truncated_normal_initializer", {"dtype": "int32"}, None),
        ("orthogonal_initializer", {"dtype": "int32"}, None),
        ("initializers.identity", {"dtype": "int32"}, None),
        ("constant_initializer", {"value": object()}, None),
        ("orthogonal_initializer", {}, [5]),
        ("initializers.identity", {}, [2, 3, 4]),
    ],
    ids=lambda c: f"{c[0]}-{c[1]}-{c[2]}",
)
def test_tf1_errors(tf: Any, tf1: Any, case: tuple[str, dict[str, Any], list[int] | None]) -> None:
    name, kwargs, shape = case
    ref_cls, our_cls = _tf_pair(tf, tf1, name)
    if shape is None:
        _same_error(lambda: ref_cls(**kwargs), lambda: our_cls(**kwargs))
    else:
        _same_error(lambda: ref_cls(**kwargs)(shape), lambda: our_cls(**kwargs)(shape))


def _tf_pair(tf: Any, tf1: Any, name: str) -> tuple[Any, Any]:
    """TF's class under tf.compat.v1 (``initializers.identity`` is Identity's v1 name) and ours."""
    if name == "initializers.identity":
        return tf.compat.v1.initializers.identity, tf1.identity_initializer
    return getattr(tf.compat.v1, name), getattr(tf1, name)


TF_CONFIGS = [
    ("random_uniform_initializer", {"minval": -1.0, "maxval": 2.0, "seed": 3}),
    ("random_uniform_initializer", {}),
    ("random_normal_initializer", {"mean": 0.5, "stddev": 2.0, "seed": 1, "dtype": "float64"}),
    ("truncated_normal_initializer", {"stddev": 0.1}),
    ("orthogonal_initializer", {"gain": 2.0, "seed": 7}),
    ("zeros_initializer", {"dtype": "int32"}),
    ("ones_initializer", {}),
    ("constant_initializer", {"value": [1, 2], "dtype": "float16"}),
    ("initializers.identity", {"gain": 0.5}),
]


@pytest.mark.parametrize(("name", "kwargs"), TF_CONFIGS, ids=[n for n, _ in TF_CONFIGS])
def test_tf1_configs(tf: Any, tf1: Any, name: str, kwargs: dict[str, Any]) -> None:
    """get_config equals TF's; from_config rebuilds an equal config (TF's config loads here)."""
    ref_cls, our_cls = _tf_pair(tf, tf1, name)
    ref = ref_cls(**kwargs)
    ours = our_cls(**kwargs)
    assert ours.get_config() == ref.get_config()
    assert type(ours).from_config(ref.get_config()).get_config() == ref.get_config()


def test_tf1_seed_semantics(tf1: Any) -> None:
    init = tf1.random_normal_initializer(seed=3)
    assert np.array_equal(init([20]), init([20]))
    free = tf1.random_normal_initializer()
    assert not np.array_equal(free([20]), free([20]))


# ======================================================================================== JAX
@pytest.fixture(scope="module")
def jax() -> Any:
    return need("jax")


@pytest.fixture(scope="module")
def jinit() -> Any:
    from varscale.compat.jax.nn import initializers

    return initializers


JAX_RANDOM = [
    ("uniform", {"scale": 0.7}, "float32"),
    ("uniform", {}, "bfloat16"),
    ("normal", {"stddev": 1.3}, "float32"),
    ("normal", {}, "float16"),
    ("truncated_normal", {"stddev": 1.3}, "float32"),
    ("truncated_normal", {"stddev": 2.0, "lower": -1.0, "upper": 0.5}, "float32"),
    ("truncated_normal", {}, "bfloat16"),
]


@pytest.mark.parametrize(("name", "kwargs", "dtype"), JAX_RANDOM, ids=[f"{n}-{k}-{d}" for n, k, d in JAX_RANDOM])
def test_jax_random_ks(jax: Any, jinit: Any, name: str, kwargs: dict[str, Any], dtype: str) -> None:
    """Same law as jax.nn.initializers (KS against JAX's samples); a 20 % scale error is rejected; the
    same values under jax.jit (a traced key)."""
    theirs = np.asarray(getattr(jax.nn.initializers, name)(**kwargs)(jax.random.key(42), KS_SHAPE, dtype),
                        dtype=np.float64)
    init = getattr(jinit, name)(**kwargs)
    ours = init(jax.random.PRNGKey(42), KS_SHAPE, dtype)
    assert ours.dtype.name == dtype and ours.shape == KS_SHAPE
    ks_check(ours, theirs)
    if kwargs:
        ks_power(ours, theirs)
    jitted = jax.jit(lambda k: init(k, KS_SHAPE, dtype))(jax.random.PRNGKey(42))
    assert isinstance(jitted, jax.Array)
    assert np.array_equal(np.asarray(jitted).astype(np.float64), ours.astype(np.float64))


def test_jax_truncated_is_not_normal(jax: Any, jinit: Any) -> None:
    theirs = np.asarray(jax.nn.initializers.normal(1.0)(jax.random.key(1), BIG_SHAPE))
    ours = jinit.truncated_normal(1.0)(1, BIG_SHAPE)
    _ks_rejects(ours, theirs)


def test_jax_complex_normal(jax: Any, jinit: Any) -> None:
    """complex64: real and imaginary parts each N(0, stddev²/2), as JAX (KS per part)."""
    theirs = np.asarray(jax.nn.initializers.normal(2.0)(jax.random.key(3), KS_SHAPE, "complex64"))
    ours = jinit.normal(2.0)(3, KS_SHAPE, "complex64")
    assert ours.dtype == np.complex64
    ks_check(ours.real, theirs.real)
    ks_check(ours.imag, theirs.imag)
    ks_power(ours.real, theirs.real)


@pytest.mark.parametrize(("shape", "column_axis"), [((6, 4), -1), ((4, 6), -1), ((3, 4, 5), 0), ((2, 3, 5), 1)])
def test_jax_orthogonal(jax: Any, jinit: Any, shape: tuple[int, ...], column_axis: int) -> None:
    """JAX's layout (column_axis moved back), orthonormality, and the same values under jax.jit."""
    init = jinit.orthogonal(scale=2.0, column_axis=column_axis)
    ours = init(7, shape, "float32")
    theirs = np.asarray(jax.nn.initializers.orthogonal(2.0, column_axis)(jax.random.key(7), shape))
    assert ours.shape == theirs.shape == shape and ours.dtype == theirs.dtype
    for x in (ours.astype(np.float64), theirs.astype(np.float64)):
        flat = np.moveaxis(x, column_axis, -1).reshape(-1, shape[column_axis])
        gram = flat.T @ flat if flat.shape[0] >= flat.shape[1] else flat @ flat.T
        np.testing.assert_allclose(gram, 4.0 * np.eye(gram.shape[0]), atol=1e-5)
    jitted = np.asarray(jax.jit(lambda k: init(k, shape, "float32"))(jax.random.PRNGKey(7)))
    np.testing.assert_allclose(jitted, ours, atol=1e-5)


def test_jax_orthogonal_elements_ks(jax: Any, jinit: Any) -> None:
    theirs = np.asarray(jax.nn.initializers.orthogonal()(jax.random.key(2), KS_SHAPE))
    ours = jinit.orthogonal()(2, KS_SHAPE)
    ks_check(ours, theirs)
    ks_power(ours, theirs)


def test_jax_orthogonal_complex(jax: Any, jinit: Any) -> None:
    q = jinit.orthogonal()(0, (5, 3), "complex64").astype(np.complex128)
    assert q.dtype == np.complex128
    np.testing.assert_allclose(q.conj().T @ q, np.eye(3), atol=1e-5)


@pytest.mark.parametrize("shape", [(3, 4, 4), (3, 3, 2, 4), (3, 3, 3, 4, 4)])
def test_jax_delta_orthogonal(jax: Any, jinit: Any, shape: tuple[int, ...]) -> None:
    """Zero except the spatial center, which is orthogonal(shape[-2:]) with the same key; as JAX's layout."""
    ours = jinit.delta_orthogonal(scale=1.5)(4, shape, "float32")
    theirs = np.asarray(jax.nn.initializers.delta_orthogonal(1.5)(jax.random.key(4), shape))
    center = tuple((k - 1) // 2 for k in shape[:-2])
    for x in (ours, theirs):
        mask = np.zeros(shape[:-2], bool)
        mask[center] = True
        assert float(np.abs(x[~mask]).max()) == 0.0
        c = x[center].astype(np.float64)
        np.testing.assert_allclose(c @ c.T, 2.25 * np.eye(shape[-2]), atol=1e-5)
    assert np.array_equal(ours[center], jinit.orthogonal(scale=1.5)(4, shape[-2:], "float32"))
    jitted = np.asarray(jax.jit(lambda k: jinit.delta_orthogonal(scale=1.5)(k, shape))(jax.random.PRNGKey(4)))
    np.testing.assert_allclose(jitted, ours, atol=1e-5)


@pytest.mark.parametrize(
    ("call", "args"),
    [
        ("uniform", ((3, 3), "int32")),
        ("normal", ((3, 3), "int32")),
        ("truncated_normal", ((3, 3), "int32")),
        ("truncated_normal", ((3, 3), "complex64")),
        ("orthogonal", ((3,),)),
        ("orthogonal", ((3, 3), "int32")),
        ("delta_orthogonal", ((3, 3),)),
        ("delta_orthogonal", ((3, 3, 4, 2),)),
    ],
)
def test_jax_errors(jax: Any, jinit: Any, call: str, args: tuple[Any, ...]) -> None:
    _same_error(lambda: getattr(jax.nn.initializers, call)()(jax.random.key(0), *args),
                lambda: getattr(jinit, call)()(0, *args))


@pytest.mark.parametrize("dtype", [None, "float32", "bfloat16", "float16", "int32"])
def test_jax_constants_exact(jax: Any, jinit: Any, dtype: str | None) -> None:
    """constant / zeros / ones: exactly JAX's values and dtype, also under jax.jit."""
    jnn = jax.nn.initializers
    key = jax.random.key(0)
    cases = [
        (jnn.zeros, jinit.zeros, (3, 2)),
        (jnn.ones, jinit.ones, (2, 2, 2)),
        (jnn.constant(0.1), jinit.constant(0.1), (4,)),
        (jnn.constant(-3), jinit.constant(-3), (2, 3)),
        (jnn.constant(np.array([1.5, 2.0])), jinit.constant(np.array([1.5, 2.0])), (3, 2)),
    ]
    for ref, ours_fn, shape in cases:
        theirs = np.asarray(ref(key, shape, dtype))
        ours = ours_fn(0, shape, dtype)
        assert ours.dtype == theirs.dtype and ours.shape == theirs.shape
        assert np.array_equal(ours, theirs)
        jitted = jax.jit(lambda k, f=ours_fn, s=shape: f(k, s, dtype))(jax.random.PRNGKey(0))
        assert np.array_equal(np.asarray(jitted), theirs)


def test_jax_scale_rounded_to_dtype(jinit: Any) -> None:
    """The parameter is rounded to the target dtype first (JAX's jnp.array(scale, dtype))."""
    w = jinit.uniform(scale=0.1)(0, (20_000,), "bfloat16").astype(np.float64)
    import ml_dtypes

    bound = float(np.array(0.1, dtype=ml_dtypes.bfloat16))
    assert bound != 0.1
    assert float(w.max()) <= bound
    assert math.isclose(float(w.max()), bound, rel_tol=1e-3)


# ------------------------------------------------------------------ TF1 conv-orthogonal family
CONV_CASES = [
    ("convolutional_delta_orthogonal", [3, 3, 16, 32]),
    ("convolutional_delta_orthogonal", [3, 8, 8]),
    ("convolutional_orthogonal_1d", [3, 8, 16]),
    ("convolutional_orthogonal_2d", [3, 3, 8, 16]),
    ("convolutional_orthogonal_2d", [1, 1, 4, 4]),
    ("convolutional_orthogonal_3d", [2, 2, 2, 4, 8]),
]


def _init_ops(tf: Any) -> Any:
    """TF's init_ops module: the conv-orthogonal initializers are not exported under tf.compat.v1."""
    from tensorflow.python.ops import init_ops

    return init_ops


def _paraunitary_gram(w: np.ndarray) -> np.ndarray:
    """Σ over the spatial taps of K·Kᵀ (in × in): gain² · I for these kernels."""
    taps = w.reshape(-1, w.shape[-2], w.shape[-1]).astype(np.float64)
    return np.einsum("tio,tjo->ij", taps, taps)


@pytest.mark.parametrize(("name", "shape"), CONV_CASES, ids=[f"{n}-{s}" for n, s in CONV_CASES])
def test_tf1_conv_orthogonal(tf: Any, tf1: Any, name: str, shape: list[int]) -> None:
    """Orthogonal kernels as TF builds them: Σ K·Kᵀ = gain²·I for ours and TF's; a seeded instance repeats."""
    # the dtype goes to the constructor: TF's conv-orthogonal kernels mix the constructor's dtype into the call's
    ours_init = getattr(tf1, name)(gain=1.5, seed=3, dtype="float64")
    ours = ours_init(shape)
    theirs = getattr(_init_ops(tf), name)(gain=1.5, seed=3, dtype=tf.float64)(shape).numpy()
    assert ours.shape == theirs.shape == tuple(shape)
    for w in (ours, theirs):
        np.testing.assert_allclose(_paraunitary_gram(w), 2.25 * np.eye(shape[-2]), atol=1e-10)
    assert ours.dtype == np.float64
    assert np.array_equal(ours_init(shape), ours)
    assert ours_init.get_config() == getattr(_init_ops(tf), name)(gain=1.5, seed=3, dtype=tf.float64).get_config()


def test_tf1_conv_orthogonal_2d_law(tf: Any, tf1: Any) -> None:
    """Elements of ConvolutionOrthogonal2D: same law as TF's (KS, pooled over seeds), 20 % off rejected."""
    shape = [3, 3, 32, 32]
    theirs = np.concatenate([_init_ops(tf).convolutional_orthogonal_2d(seed=s)(shape).numpy().ravel()
                             for s in (1, 2, 3)])
    ours = np.concatenate([tf1.convolutional_orthogonal_2d(seed=s)(shape).ravel() for s in (1, 2, 3)])
    ks_check(ours, theirs)
    ks_power(ours, theirs)


@pytest.mark.parametrize(
    ("name", "shape"),
    [
        ("convolutional_delta_orthogonal", [3, 3]),
        ("convolutional_delta_orthogonal", [3, 3, 8, 4]),
        ("convolutional_orthogonal_1d", [3, 3, 8, 8]),
        ("convolutional_orthogonal_1d", [3, 8, 4]),
        ("convolutional_orthogonal_2d", [3, 2, 4, 4]),
        ("convolutional_orthogonal_2d", [3, 3, 4]),
        ("convolutional_orthogonal_3d", [2, 2, 3, 4, 4]),
        ("convolutional_orthogonal_3d", [2, 2, 2, 8, 4]),
    ],
)
def test_tf1_conv_orthogonal_errors(tf: Any, tf1: Any, name: str, shape: list[int]) -> None:
    _same_error(lambda: getattr(_init_ops(tf), name)(seed=1)(shape), lambda: getattr(tf1, name)(seed=1)(shape))


def test_jax_flax_linen_with_the_new_initializers(jax: Any, jinit: Any) -> None:
    """Flax Linen: orthogonal kernels and constant biases under jax.jit(model.init) and jax.eval_shape; the
    jitted parameters equal the eager ones (orthogonal: to float32 precision, the QR differs)."""
    nn = need("flax.linen")
    import jax.numpy as jnp

    model = nn.Dense(6, kernel_init=jinit.orthogonal(scale=2.0), bias_init=jinit.constant(0.1))
    x = jnp.ones((1, 4))
    params = jax.jit(model.init)(jax.random.key(0), x)["params"]
    eager = model.init(jax.random.key(0), x)["params"]
    shapes = jax.eval_shape(model.init, jax.random.key(0), x)["params"]
    assert shapes["kernel"].shape == (4, 6) and shapes["bias"].shape == (6,)
    kernel = np.asarray(params["kernel"], dtype=np.float64)
    np.testing.assert_allclose(kernel, np.asarray(eager["kernel"]), atol=1e-6)
    np.testing.assert_allclose(kernel @ kernel.T, 4.0 * np.eye(4), atol=1e-5)
    assert np.array_equal(np.asarray(params["bias"]), np.full(6, 0.1, np.float32))
    assert np.array_equal(np.asarray(eager["bias"]), np.full(6, 0.1, np.float32))
    conv = nn.Conv(8, (3, 3), kernel_init=jinit.delta_orthogonal(), bias_init=jinit.zeros)
    conv_params = jax.jit(conv.init)(jax.random.key(1), jnp.ones((1, 5, 5, 4)))["params"]
    k = np.asarray(conv_params["kernel"])
    np.testing.assert_allclose(k[1, 1] @ k[1, 1].T, np.eye(4), atol=1e-5)
    assert float(np.abs(k[0]).max()) == 0.0
    assert float(np.abs(np.asarray(conv_params["bias"])).max()) == 0.0


def test_new_initializers_work_without_the_frameworks() -> None:
    """With keras, tensorflow and jax unimportable, every new initializer still draws NumPy arrays."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "for m in ('keras', 'tensorflow', 'jax', 'flax'): sys.modules[m] = None\n"
        "import numpy as np\n"
        "from varscale.compat.keras import initializers as K\n"
        "from varscale.compat import tf1\n"
        "from varscale.compat.jax.nn import initializers as J\n"
        "outs = [K.RandomNormal(seed=1)((3, 2)), K.TruncatedNormal(seed=1)((3, 2)), K.RandomUniform(seed=1)((3, 2)),\n"
        "        K.Orthogonal(seed=1)((3, 2)), K.Zeros()((2,)), K.Ones()((2,)), K.Constant(2)((2,)),\n"
        "        K.Identity()((2, 2)), K.get('random_normal')((2,)), K.get(np.ones(2))((2,)),\n"
        "        tf1.RandomUniform(seed=1)([2]), tf1.RandomNormal(seed=1)([2]), tf1.TruncatedNormal(seed=1)([2]),\n"
        "        tf1.Orthogonal(seed=1)([2, 2]), tf1.Constant([1, 2])([2]), tf1.Zeros()([2]), tf1.Ones()([2]),\n"
        "        tf1.Identity()([2, 2]), tf1.convolutional_orthogonal_2d(seed=1)([3, 3, 2, 2]),\n"
        "        J.uniform()(1, (2,)), J.normal()(1, (2,)), J.truncated_normal()(1, (2,)), J.orthogonal()(1, (2, 2)),\n"
        "        J.delta_orthogonal()(1, (3, 2, 2)), J.constant(3)(1, (2,)), J.zeros(1, (2,)), J.ones(1, (2,))]\n"
        "assert all(type(o) is np.ndarray for o in outs)\n"
        "assert not any(m in sys.modules and sys.modules[m] is not None for m in ('keras', 'tensorflow', 'jax'))\n"
        "print('ok', len(outs))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok 27"
