"""Conformance of ``varscale.compat.keras.initializers`` with real Keras 3.

Every number is taken from Keras itself: fans from its ``compute_fans``, the
stddev / limit recorded from the ``keras.random`` call its
``VarianceScaling.__call__`` makes (the call still runs), messages from its
exceptions, configs from ``get_config``/``serialize``, and model JSON from
``Model.to_json``. Samples are KS-tested against Keras' own samples.
"""

from __future__ import annotations

import json
import math
import random
import re
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from _stats import KS_SHAPE, assert_close, assert_within, ks_check, ks_power
from _support import need
from conformance.cases_tf import (
    DTYPES,
    SCALES,
    SHAPES,
    keras_op_params,
    recording,
    shape_id,
)
from varscale.compat.keras import initializers as ours_mod

MODES = ("fan_in", "fan_out", "fan_avg")
DISTRIBUTIONS = ("truncated_normal", "untruncated_normal", "uniform", "normal")
PRESETS = ("GlorotUniform", "GlorotNormal", "HeUniform", "HeNormal", "LecunUniform", "LecunNormal")
CLASSES = ("VarianceScaling", *PRESETS)


def _sets_sorted(message: str) -> str:
    """Keras prints Python sets ({'fan_in', ...}); their order differs between processes
    (string hashing, and the frozenset constant in each .pyc), so compare them sorted."""
    return re.sub(r"\{('[^{}]*')\}", lambda m: "{" + ", ".join(sorted(m.group(1).split(", "))) + "}", message)


@pytest.fixture(scope="module")
def keras() -> Any:
    need("tensorflow")
    return need("keras")


def _record(keras: Any, init: Any, shape: Any, dtype: Any = None) -> tuple[dict[str, Any], Any]:
    from keras.src.initializers import random_initializers

    with recording(random_initializers.random, ("truncated_normal", "normal", "uniform")) as rec:
        out = init(shape, dtype=dtype)
    return keras_op_params(rec.last()), out


def _check_numbers(keras: Any, ref: Any, ours: Any, shape: tuple[int, ...]) -> None:
    from keras.src.initializers.random_initializers import compute_fans

    expect, ref_out = _record(keras, ref, shape)
    d = ours.describe(shape)
    assert (d["fan_in"], d["fan_out"]) == compute_fans(shape, ref.input_axes, ref.output_axes)
    assert d["distribution"] == expect["distribution"] == ref.distribution
    if expect["limit"] is not None:
        assert_close(d["limit"], expect["limit"], "limit")
        bound = d["limit"]
    else:
        assert_close(d["stddev"], expect["stddev"], "stddev")
        bound = 2 * d["stddev"] if d["distribution"] == "truncated_normal" else math.inf
    assert d["bounds"] == (-bound, bound)
    x = ours(shape)
    assert x.shape == tuple(ref_out.shape) == shape
    assert x.dtype.name == keras.backend.standardize_dtype(ref_out.dtype) == "float32"
    assert_within(x, bound)


EXACT_CASES = [
    (shape, mode, dist, SCALES[i % len(SCALES)])
    for i, (shape, mode, dist) in enumerate((s, m, d) for s in SHAPES for m in MODES for d in DISTRIBUTIONS)
]


@pytest.mark.parametrize(
    ("shape", "mode", "distribution", "scale"),
    EXACT_CASES,
    ids=[f"{shape_id(s)}-{m}-{d}-s{c:g}" for s, m, d, c in EXACT_CASES],
)
def test_variance_scaling_numbers(keras: Any, shape: tuple[int, ...], mode: str, distribution: str, scale: float) -> None:
    """VarianceScaling: fans, clamped n, stddev/limit, bounds equal Keras'."""
    kwargs = {"scale": scale, "mode": mode, "distribution": distribution, "seed": 3}
    _check_numbers(keras, keras.initializers.VarianceScaling(**kwargs), ours_mod.VarianceScaling(**kwargs), shape)


PRESET_CASES = [(p, s) for p in PRESETS for s in SHAPES]


@pytest.mark.parametrize(("preset", "shape"), PRESET_CASES, ids=[f"{p}-{shape_id(s)}" for p, s in PRESET_CASES])
def test_preset_numbers(keras: Any, preset: str, shape: tuple[int, ...]) -> None:
    """Each preset: same scale/mode/distribution and numbers as Keras' preset."""
    ref = getattr(keras.initializers, preset)(seed=1)
    ours = getattr(ours_mod, preset)(seed=1)
    assert (ours.scale, ours.mode, ours.distribution) == (ref.scale, ref.mode, ref.distribution)
    _check_numbers(keras, ref, ours, shape)


AXES_CASES: list[tuple[tuple[int, ...], Any, Any]] = [
    ((8, 4, 16), [0, 1], [2]),
    ((8, 4, 16), [0], [1, 2]),
    ((8, 4, 16), [-3], [-1]),
    ((8, 4, 16), [2], None),  # one alone is silently ignored
    ((8, 4, 16), None, [0]),
    ((3, 3, 16, 32), [0, 1, 2], [3]),
    ((5, 7), [1], [0]),
    ((4, 0, 6), [1], [2]),
    ((6,), [0], [0]),
    ((2, 3, 4, 5, 6), [], [4]),
]


@pytest.mark.parametrize(("shape", "input_axes", "output_axes"), AXES_CASES)
@pytest.mark.parametrize("preset", ["VarianceScaling", "HeNormal"])
def test_input_output_axes(keras: Any, shape: tuple[int, ...], input_axes: Any, output_axes: Any, preset: str) -> None:
    """Keras 3.15 input_axes/output_axes: used only when both are given."""
    ref = getattr(keras.initializers, preset)(seed=2, input_axes=input_axes, output_axes=output_axes)
    ours = getattr(ours_mod, preset)(seed=2, input_axes=input_axes, output_axes=output_axes)
    assert ours_mod.compute_fans(shape, input_axes, output_axes) == keras.src.initializers.random_initializers.compute_fans(
        shape, input_axes, output_axes
    )
    _check_numbers(keras, ref, ours, shape)
    assert ours.get_config() == ref.get_config()


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("distribution", ["truncated_normal", "untruncated_normal", "uniform"])
def test_dtypes(keras: Any, dtype: str, distribution: str) -> None:
    """float16/bfloat16/float32/float64 (as names or NumPy dtypes): Keras' output dtype, in bounds."""
    ref = keras.initializers.VarianceScaling(2.0, distribution=distribution, seed=1)
    ours = ours_mod.VarianceScaling(2.0, distribution=distribution, seed=1)
    expect, ref_out = _record(keras, ref, (30, 20), dtype=dtype)
    x = ours((30, 20), dtype=dtype)
    assert x.dtype.name == keras.backend.standardize_dtype(ref_out.dtype) == dtype
    d = ours.describe((30, 20))
    key = "limit" if distribution == "uniform" else "stddev"
    assert_close(d[key], expect[key], key)
    if distribution != "untruncated_normal":
        assert_within(x, d["bounds"][1])
    y = ours((30, 20), dtype=np.dtype(x.dtype))
    assert np.array_equal(np.asarray(x, np.float64), np.asarray(y, np.float64))


def test_default_dtype_is_floatx(keras: Any) -> None:
    """dtype=None follows keras.config.floatx()."""
    old = keras.config.floatx()
    try:
        keras.config.set_floatx("float64")
        ref = keras.initializers.HeUniform(seed=1)((4, 4))
        assert ours_mod.HeUniform(seed=1)((4, 4)).dtype.name == keras.backend.standardize_dtype(ref.dtype) == "float64"
    finally:
        keras.config.set_floatx(old)
    assert ours_mod.HeUniform(seed=1)((4, 4)).dtype.name == "float32"


@pytest.mark.parametrize("dtype", ["foo", "float8", "float128", 3.5])
def test_unknown_dtype_message(keras: Any, dtype: Any) -> None:
    """A dtype Keras does not know: Keras' own ValueError from standardize_dtype."""
    with pytest.raises(ValueError) as expect:
        keras.backend.standardize_dtype(dtype)
    with pytest.raises(ValueError) as ours:
        ours_mod.standardize_dtype(dtype)
    assert str(ours.value) == str(expect.value)
    with pytest.raises(ValueError) as ours:
        ours_mod.HeNormal(seed=1)((2, 2), dtype=dtype)
    assert str(ours.value) == str(expect.value)


@pytest.mark.parametrize("dtype", ["int32", "complex64", "bool", "uint8"])
def test_non_floating_dtype_is_typeerror(keras: Any, dtype: str) -> None:
    """Known but non-floating dtypes are refused with TypeError (Keras leaves them to its backend)."""
    assert keras.backend.standardize_dtype(dtype) == dtype
    with pytest.raises(TypeError, match="floating dtype"):
        ours_mod.HeNormal(seed=1)((2, 2), dtype=dtype)


KS_CASES = [
    ("VarianceScaling", {"scale": 2.0, "mode": "fan_in", "distribution": "truncated_normal"}, "float32"),
    ("VarianceScaling", {"scale": 0.5, "mode": "fan_out", "distribution": "untruncated_normal"}, "float32"),
    ("VarianceScaling", {"scale": 3.0, "mode": "fan_avg", "distribution": "uniform"}, "float64"),
    ("VarianceScaling", {"scale": 1.0, "mode": "fan_avg", "distribution": "normal"}, "float64"),
    ("GlorotUniform", {}, "float32"),
    ("GlorotNormal", {}, "bfloat16"),
    ("HeNormal", {}, "float16"),
    ("HeUniform", {}, "float32"),
    ("LecunNormal", {}, "float64"),
    ("LecunUniform", {}, "bfloat16"),
]


@pytest.mark.parametrize(("cls", "kwargs", "dtype"), KS_CASES, ids=[f"{c}-{k}-{d}" for c, k, d in KS_CASES])
def test_ks_against_keras_samples(keras: Any, cls: str, kwargs: dict[str, Any], dtype: str) -> None:
    """KS test, n = 20 000: our samples against Keras' own samples (stateless, seeded)."""
    theirs = keras.ops.convert_to_numpy(
        keras.ops.cast(getattr(keras.initializers, cls)(seed=17, **kwargs)(KS_SHAPE, dtype=dtype), "float64")
    )
    ours = getattr(ours_mod, cls)(seed=17, **kwargs)(KS_SHAPE, dtype=dtype)
    assert ours.dtype.name == dtype
    ks_check(ours, theirs)
    ks_power(ours, theirs)


def _seed_variants(keras: Any) -> dict[str, tuple[Any, Any]]:
    sg = {"module": "keras.random", "class_name": "SeedGenerator", "config": {"seed": 42, "name": "sg"},
          "registered_name": None}
    return {
        "none": (None, None),
        "int": (7, 7),
        "zero": (0, 0),
        "generator": (keras.random.SeedGenerator(42, name="sg"), ours_mod.SeedGenerator(42, name="sg")),
        "generator-config": (sg, sg),
    }


@pytest.mark.parametrize("seed_kind", ["none", "int", "zero", "generator", "generator-config"])
@pytest.mark.parametrize("cls", CLASSES)
def test_config_and_serialize(keras: Any, cls: str, seed_kind: str) -> None:
    """get_config and serialize equal Keras'; each side deserializes the other's dict."""
    ref_seed, our_seed = _seed_variants(keras)[seed_kind]
    kwargs: dict[str, Any] = {"scale": 2.5, "mode": "fan_out", "distribution": "Normal"} if cls == "VarianceScaling" else {}
    ref = getattr(keras.initializers, cls)(seed=ref_seed, **kwargs)
    ours = getattr(ours_mod, cls)(seed=our_seed, **kwargs)
    assert ours.get_config() == ref.get_config()
    ser = ours_mod.serialize(ours)
    assert ser == keras.initializers.serialize(ref)
    assert json.loads(json.dumps(ser)) == ser
    theirs_back = keras.initializers.deserialize(ser)
    assert type(theirs_back).__name__ == cls
    assert keras.initializers.serialize(theirs_back) == ser
    ours_back = ours_mod.deserialize(keras.initializers.serialize(ref))
    assert type(ours_back) is type(ours)
    assert ours_mod.serialize(ours_back) == ser


IDENTIFIERS: list[Any] = [
    "he_normal", "HeNormal", "glorot_uniform", "GlorotUniform", "lecun_normal", "LecunUniform",
    "he_uniform", "glorot_normal", "variance_scaling", "VarianceScaling",
    "He_Normal", "heNormal", "foo", 3,
    {"class_name": "HeNormal", "config": {"seed": 1}},
    {"class_name": "VarianceScaling", "config": {"scale": 2, "mode": "fan_avg"}},
    {"class_name": "HeNormal"},
    {"module": "keras.initializers", "class_name": "GlorotNormal", "config": {"seed": 9, "input_axes": None,
                                                                           "output_axes": None},
     "registered_name": None},
    {"class_name": "Foo", "config": {}},
    {"config": {}},
    {"class_name": "HeNormal", "config": {"seed": 1, "dtype": "float32"}},
    {"class_name": "VarianceScaling", "config": {"mode": "FAN_IN"}},
    None,
]


@pytest.mark.parametrize("identifier", IDENTIFIERS, ids=[repr(i)[:60] for i in IDENTIFIERS])
def test_get_matches_keras(keras: Any, identifier: Any) -> None:
    """get(): same class and config, or the same exception type and message, as Keras."""
    try:
        expect = keras.initializers.get(identifier)
    except Exception as err:
        with pytest.raises(type(err)) as info:
            ours_mod.get(identifier)
        if isinstance(err, TypeError):  # Keras prints its class path; the rest is compared
            assert str(info.value).split(" could not be deserialized")[1] == str(err).split(
                " could not be deserialized"
            )[1]
        else:
            assert _sets_sorted(str(info.value)) == _sets_sorted(str(err))
        return
    got = ours_mod.get(identifier)
    if expect is None:
        assert got is None
        return
    assert type(got).__name__ == type(expect).__name__
    assert got.get_config() == expect.get_config() | {"seed": got.get_config()["seed"]}
    if isinstance(identifier, dict) and identifier.get("config", {}).get("seed") is not None:
        assert got.get_config() == expect.get_config()


@pytest.mark.parametrize("name", ["Initializer", "initializer"])
def test_other_keras_initializers_refused(keras: Any, name: str) -> None:
    """The abstract base (which cannot draw) is the one Keras name not resolved: a clear ValueError."""
    assert keras.initializers.get(name) is not None
    with pytest.raises(ValueError, match=r"not part of varscale\.compat\.keras"):
        ours_mod.get(name)


ERROR_CASES: list[tuple[str, dict[str, Any]]] = [
    ("VarianceScaling", {"scale": 0.0}),
    ("VarianceScaling", {"scale": -2}),
    ("VarianceScaling", {"scale": "a"}),
    ("VarianceScaling", {"mode": "FAN_IN"}),
    ("VarianceScaling", {"mode": "fan_geo_avg"}),
    ("VarianceScaling", {"distribution": "gaussian"}),
    ("VarianceScaling", {"distribution": None}),
    ("VarianceScaling", {"seed": "x"}),
    ("VarianceScaling", {"seed": 1.5}),
    ("HeNormal", {"seed": [1, 2]}),
    ("GlorotUniform", {"seed": "0"}),
    ("HeUniform", {"dtype": "float32"}),
]


@pytest.mark.parametrize(("cls", "kwargs"), ERROR_CASES, ids=[f"{c}-{k}" for c, k in ERROR_CASES])
def test_errors_match_keras(keras: Any, cls: str, kwargs: dict[str, Any]) -> None:
    """Same exception type and message as Keras' constructor."""
    with pytest.raises(Exception) as expect:
        getattr(keras.initializers, cls)(**kwargs)
    with pytest.raises(type(expect.value)) as ours:
        getattr(ours_mod, cls)(**kwargs)
    assert type(ours.value) is type(expect.value)
    assert _sets_sorted(str(ours.value)) == _sets_sorted(str(expect.value).replace(
        "keras.src.initializers.random_initializers.", "varscale.compat.keras.initializers."
    ))


def test_from_config_with_tf1_dtype_key(keras: Any) -> None:
    """from_config is cls(**config): a TF1 config with "dtype" raises Keras' TypeError."""
    cfg = {"scale": 1.0, "mode": "fan_in", "distribution": "truncated_normal", "seed": None, "dtype": "float32"}
    with pytest.raises(TypeError) as expect:
        keras.initializers.VarianceScaling.from_config(cfg)
    with pytest.raises(TypeError) as ours:
        ours_mod.VarianceScaling.from_config(cfg)
    assert str(ours.value) == str(expect.value)


def test_seed_semantics(keras: Any) -> None:
    """Keras 3: int or None seed → the same values every call; SeedGenerator → new values each call."""
    for seed in (5, None):
        ref = keras.initializers.HeNormal(seed=seed)
        assert np.array_equal(np.asarray(ref((8, 8))), np.asarray(ref((8, 8))))
        ours = ours_mod.HeNormal(seed=seed)
        assert np.array_equal(ours((8, 8)), ours((8, 8)))
    assert not np.array_equal(ours_mod.HeNormal()((8, 8)), ours_mod.HeNormal()((8, 8)))
    ref_gen = keras.initializers.HeNormal(seed=keras.random.SeedGenerator(3))
    assert not np.array_equal(np.asarray(ref_gen((8, 8))), np.asarray(ref_gen((8, 8))))
    gen = ours_mod.HeNormal(seed=ours_mod.SeedGenerator(3))
    a, b = gen((8, 8)), gen((8, 8))
    assert not np.array_equal(a, b)
    again = ours_mod.HeNormal(seed=ours_mod.SeedGenerator(3))
    assert np.array_equal(again((8, 8)), a) and np.array_equal(again((8, 8)), b)
    # a real keras SeedGenerator is accepted too, converted by its config
    conv = ours_mod.HeNormal(seed=keras.random.SeedGenerator(3, name="sgk"))
    assert conv.get_config()["seed"]["config"] == {"seed": 3, "name": "sgk"}
    assert np.array_equal(conv((8, 8)), a)


def test_unseeded_default_seed_follows_python_random(keras: Any) -> None:
    """Unseeded: the seed Keras draws at construction is the one we draw (random.randint(1, 1e9))."""
    state = random.getstate()
    try:
        random.seed(1234)
        ref = keras.initializers.GlorotUniform()
        random.seed(1234)
        ours = ours_mod.GlorotUniform()
        assert isinstance(ref.seed, int) and ours.seed == ref.seed
        assert ours.get_config()["seed"] is None is ref.get_config()["seed"]
        keras.utils.set_random_seed(99)
        first = ours_mod.GlorotUniform()((6, 6))
        keras.utils.set_random_seed(99)
        assert np.array_equal(ours_mod.GlorotUniform()((6, 6)), first)
    finally:
        random.setstate(state)


def test_model_json_both_directions(keras: Any) -> None:
    """A model JSON saved by Keras deserializes here; ours loads into Keras."""
    model = keras.Sequential(
        [
            keras.Input((3,)),
            keras.layers.Dense(4, kernel_initializer=keras.initializers.GlorotNormal(seed=7)),
            keras.layers.Dense(2, kernel_initializer=keras.initializers.VarianceScaling(0.5, "fan_avg", "uniform", seed=1)),
        ]
    )
    doc = json.loads(model.to_json())
    layers = [lyr for lyr in doc["config"]["layers"] if lyr["class_name"] == "Dense"]
    for layer in layers:
        cfg = layer["config"]["kernel_initializer"]
        ours = ours_mod.deserialize(cfg)
        assert ours_mod.serialize(ours) == cfg
    # ours into Keras: replace the initializers in the JSON with our serialization
    layers[0]["config"]["kernel_initializer"] = ours_mod.serialize(ours_mod.HeUniform(seed=3, input_axes=[0],
                                                                                        output_axes=[1]))
    layers[1]["config"]["kernel_initializer"] = ours_mod.serialize(
        ours_mod.VarianceScaling(2.0, "fan_out", "untruncated_normal", seed=ours_mod.SeedGenerator(5, name="g"))
    )
    loaded = keras.models.model_from_json(json.dumps(doc))
    dense = [lyr for lyr in loaded.layers if isinstance(lyr, keras.layers.Dense)]
    assert keras.initializers.serialize(dense[0].kernel_initializer) == layers[0]["config"]["kernel_initializer"]
    assert keras.initializers.serialize(dense[1].kernel_initializer) == layers[1]["config"]["kernel_initializer"]


def test_usable_as_keras_layer_initializer(keras: Any) -> None:
    """Our initializer in a real Keras layer: the kernel is exactly our tensor."""
    init = ours_mod.HeNormal(seed=11)
    layer = keras.layers.Dense(16, kernel_initializer=init)
    layer.build((None, 32))
    assert np.array_equal(layer.kernel.numpy(), init((32, 16)))


def test_facades_import_no_framework() -> None:
    """Importing the three facades (and drawing) imports neither TensorFlow nor Keras."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from varscale.compat.keras import initializers\n"
        "from varscale.compat import tf1\n"
        "from varscale.compat.tf_contrib import layers\n"
        "initializers.HeNormal(seed=1)((3, 3)); tf1.VarianceScaling(seed=1)([3, 3])\n"
        "layers.xavier_initializer(seed=1)([3, 3])\n"
        "bad = sorted(m for m in ('tensorflow', 'keras', 'torch', 'jax') if m in sys.modules)\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


@pytest.mark.parametrize("dtype", DTYPES)
def test_as_tensor(keras: Any, dtype: str) -> None:
    """as_tensor=True returns a Keras backend tensor holding exactly the NumPy result."""
    init = ours_mod.LecunNormal(seed=3)
    t = init((6, 5), dtype=dtype, as_tensor=True)
    assert keras.ops.is_tensor(t) and keras.backend.standardize_dtype(t.dtype) == dtype
    got = keras.ops.convert_to_numpy(keras.ops.cast(t, "float64"))
    assert np.array_equal(got, init((6, 5), dtype=dtype).astype(np.float64))


@given(
    shape=st.lists(st.integers(0, 9), min_size=0, max_size=6).map(tuple),
    mode=st.sampled_from(MODES),
    distribution=st.sampled_from(DISTRIBUTIONS),
    scale=st.floats(1e-3, 1e3),
    axes=st.sampled_from([None, "both", "input_only"]),
)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_numbers_match_keras_random_shapes(
    keras: Any, shape: tuple[int, ...], mode: str, distribution: str, scale: float, axes: str | None
) -> None:
    """Property: for any shape of rank 0-6, scale and axes choice, our numbers are Keras'."""
    kwargs: dict[str, Any] = {"scale": scale, "mode": mode, "distribution": distribution, "seed": 1}
    if axes and len(shape) >= 2:
        kwargs["input_axes"] = list(range(len(shape) - 1))
        if axes == "both":
            kwargs["output_axes"] = [len(shape) - 1]
    _check_numbers(keras, keras.initializers.VarianceScaling(**kwargs), ours_mod.VarianceScaling(**kwargs), shape)
