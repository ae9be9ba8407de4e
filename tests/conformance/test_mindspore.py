"""Conformance of ``varscale.compat.mindspore.common.initializer`` with real MindSpore (2.10).

MindSpore's numbers are recorded from the ``_init_random_uniform`` /
``_init_random_normal`` / ``_init_truncated_normal`` calls (in place or not)
its own initializers make; the calls still run. Exceptions and messages come
from running MindSpore on the same input, fans from its
``_calculate_fan_in_and_fan_out``. Samples are KS-tested against MindSpore's
own (``np.random.seed`` fixes them, as ``mindspore.set_seed`` does).
"""

# MindSpore (and so the facade) seeds every draw from NumPy's legacy global RNG.
# ruff: noqa: NPY002

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from _stats import KS_ALPHA, KS_SHAPE, assert_close, ks_check, ks_power
from _support import need
from conformance.cases_tf import SHAPES, recording, shape_id
from varscale.compat.mindspore.common import initializer as ours

MS_SAMPLERS = (
    "_init_random_uniform",
    "_init_random_uniform_inplace",
    "_init_random_normal",
    "_init_random_normal_inplace",
    "_init_truncated_normal",
    "_init_truncated_normal_inplace",
)
MODES = ("fan_in", "fan_out", "fan_avg")
DISTRIBUTIONS = ("truncated_normal", "untruncated_normal", "uniform")


@pytest.fixture(scope="module")
def ms() -> Any:
    need("mindspore")
    return need("mindspore.common.initializer")


def _outcome(fn: Callable[[], Any]) -> tuple[Any, BaseException | None]:
    try:
        return fn(), None
    except Exception as e:  # we compare whatever MindSpore raises
        return None, e


def _same_failure(theirs: BaseException | None, mine: BaseException | None) -> None:
    if theirs is None:
        assert mine is None, f"MindSpore succeeded, we raised {type(mine).__name__}: {mine}"
        return
    assert mine is not None, f"MindSpore raised {type(theirs).__name__}: {theirs}; we did not"
    assert type(mine) is type(theirs), (type(mine), type(theirs), str(mine), str(theirs))
    # MindSpore's C++ errors append "\n\n---…- C++ Call Stack: …"; the message is what precedes it.
    assert str(mine) == str(theirs).split("\n\n----")[0]


def _ms_params(call: tuple[str, tuple[Any, ...], dict[str, Any]]) -> tuple[str, tuple[float, ...]]:
    """(kind, parameters) of a recorded MindSpore sampler call."""
    name, args, _ = call
    if name.startswith("_init_random_uniform"):
        return "uniform", (float(args[0]), float(args[1]))
    if name.startswith("_init_random_normal"):
        return "normal", (float(args[0]), float(args[1]))
    a, b, mean, sigma = (float(v) for v in args[:4])
    return "truncated", (mean, sigma, a, b)


def _our_params(call: tuple[str, tuple[Any, ...], dict[str, Any]]) -> tuple[str, tuple[float, ...]]:
    name, args, _ = call
    if name == "uniform_sampler":
        return "uniform", tuple(float(v) for v in args)
    if len(args) == 2:
        return "normal", tuple(float(v) for v in args)
    return "truncated", tuple(float(v) for v in args)


def _compare(ms: Any, ref_init: Any, our_init: Any, shape: tuple[int, ...], dtype: Any = np.float32) -> None:
    """Same failure, or the same sampler with the same parameters, and values within the bounds."""
    ref_arr = np.zeros(shape, dtype)
    with recording(ms, MS_SAMPLERS) as rec:
        _, ref_err = _outcome(lambda: ref_init(ref_arr))
    arr = np.zeros(shape, dtype)
    with recording(ours, ("uniform_sampler", "normal_sampler")) as mine:
        _, err = _outcome(lambda: our_init(arr, seed=4))
    _same_failure(ref_err, err)
    if ref_err is not None:
        return
    kind, params = _ms_params(rec.last())
    my_kind, my_params = _our_params(mine.last())
    if kind == "uniform":  # MindSpore's C++ draws U(b, a) when a > b (a negative gain/scale)
        params = tuple(sorted(params))
    assert my_kind == kind
    assert len(my_params) == len(params)
    for p, q in zip(my_params, params, strict=True):
        assert_close(p, q, kind)
    if arr.size and kind == "uniform":
        assert float(np.abs(arr).max()) <= max(abs(params[0]), abs(params[1]))
    if arr.size and kind == "truncated":
        assert params[2] <= float(arr.min()) and float(arr.max()) <= params[3]


# ---------------------------------------------------------------------------- case tables
HE_KWARGS: list[dict[str, Any]] = [
    {},
    {"negative_slope": math.sqrt(5)},
    {"mode": "FAN_OUT", "nonlinearity": "relu"},
    {"mode": "fan_in", "nonlinearity": "tanh"},
    {"negative_slope": 0.2, "mode": "Fan_Out"},
    {"nonlinearity": "linear"},
    {"nonlinearity": "selu"},
    {"negative_slope": "x"},
    {"mode": "fan_avg"},
]
GAINS = (1, 0.5, 2.3, -1.0)
CLASS_CASES: list[tuple[str, dict[str, Any], tuple[int, ...]]] = []
for _ci, _cls in enumerate(("XavierUniform", "XavierNormal", "HeUniform", "HeNormal")):
    for _si, _shape in enumerate(SHAPES):
        _k = _ci * len(SHAPES) + _si
        _kw = {"gain": GAINS[_k % len(GAINS)]} if _cls.startswith("Xavier") else HE_KWARGS[_k % len(HE_KWARGS)]
        CLASS_CASES.append((_cls, _kw, _shape))
for _i, (_m, _d, _shape) in enumerate((m, d, s) for m in MODES for d in DISTRIBUTIONS for s in SHAPES):
    CLASS_CASES.append(("VarianceScaling", {"scale": (2.0, 1.0, 0.3, 7.5)[_i % 4], "mode": _m, "distribution": _d}, _shape))
for _i, _kw in enumerate(
    [{}, {"sigma": 1.0}, {"sigma": 0.02}, {"sigma": 1.0, "mean": 0.5, "a": -1.0, "b": 1.0}, {"sigma": -1.0}, {"sigma": 0.0}]
):
    CLASS_CASES.append(("TruncatedNormal", _kw, ((200, 10), (3, 4, 5), (7,))[_i % 3]))
for _i, (_cls, _kw) in enumerate([("Normal", {}), ("Normal", {"sigma": 2.0, "mean": 1.0}), ("Normal", {"sigma": -1.0}),
                                  ("Uniform", {}), ("Uniform", {"scale": 0.5})]):
    CLASS_CASES.append((_cls, _kw, ((6, 5), (2, 3, 4))[_i % 2]))


@pytest.mark.parametrize(
    ("cls", "kwargs", "shape"),
    CLASS_CASES,
    ids=[f"{c}-{'-'.join(f'{k}={v}' for k, v in kw.items()) or 'default'}-{shape_id(s)}" for c, kw, s in CLASS_CASES],
)
def test_class_numbers_and_errors(ms: Any, cls: str, kwargs: dict[str, Any], shape: tuple[int, ...]) -> None:
    """Fans, bounds/std (VarianceScaling's max(1, n) and its uniform-for-truncated), errors equal MindSpore's."""
    ref, ref_err = _outcome(lambda: getattr(ms, cls)(**kwargs))
    mine, err = _outcome(lambda: getattr(ours, cls)(**kwargs))
    _same_failure(ref_err, err)
    if ref_err is None:
        _compare(ms, ref, mine, shape)


VS_CTOR_ERRORS: list[dict[str, Any]] = [
    {"scale": 0.0},
    {"scale": -1},
    {"mode": "FAN_IN"},
    {"mode": "fan_sum"},
    {"distribution": "normal"},
    {"distribution": "Uniform"},
    {"distribution": "truncated_norm"},
]


@pytest.mark.parametrize("kwargs", VS_CTOR_ERRORS, ids=[str(k) for k in VS_CTOR_ERRORS])
def test_variance_scaling_validation(ms: Any, kwargs: dict[str, Any]) -> None:
    """Construction-time validation: case-sensitive, 'normal' rejected, MindSpore's messages."""
    _, ref_err = _outcome(lambda: ms.VarianceScaling(**kwargs))
    _, err = _outcome(lambda: ours.VarianceScaling(**kwargs))
    assert ref_err is not None
    _same_failure(ref_err, err)


FAN_SHAPES = [*SHAPES, (128, 64, 3, 3), (3, 5, 1, 1, 7, 2)]


@pytest.mark.parametrize("shape", FAN_SHAPES, ids=[shape_id(s) for s in FAN_SHAPES])
def test_fans(ms: Any, shape: tuple[int, ...]) -> None:
    """``_calculate_fan_in_and_fan_out`` equals MindSpore's (values or error)."""
    ref, ref_err = _outcome(lambda: ms._calculate_fan_in_and_fan_out(shape))
    mine, err = _outcome(lambda: ours._calculate_fan_in_and_fan_out(shape))
    _same_failure(ref_err, err)
    assert mine == ref


def _np(x: Any) -> Any:
    """The values of the facade's result: with MindSpore imported it is a lazily initialized Tensor."""
    if hasattr(x, "init_data"):
        return x.init_data().asnumpy()
    return x


NAMES = [
    "xavier_uniform", "XavierUniform", "XAVIER_NORMAL", "xaviernormal", "he_uniform", "HeUniform", "he_normal",
    "HENORMAL", "VarianceScaling", "truncatednormal", "Normal", "uniform", "zeros", "Zero", "ones", "one",
    "identity", "dirac", "orthogonal", "sparse", "glorot_uniform", "he", "",
]


@pytest.mark.parametrize("name", NAMES)
def test_initializer_names(ms: Any, name: str) -> None:
    """Names resolve through MindSpore's alias table, lowercased; unknown names fail alike."""
    shape = (4, 4, 3) if name.lower() == "dirac" else (4, 6)
    ref, ref_err = _outcome(lambda: ms.initializer(name, shape).init_data().asnumpy())
    mine, err = _outcome(lambda: _np(ours.initializer(name, shape, seed=1)))
    _same_failure(ref_err, err)
    if ref_err is None:
        assert mine.shape == ref.shape and mine.dtype == ref.dtype
        if name.lower() in ("zeros", "zero", "ones", "one", "identity", "dirac"):
            np.testing.assert_array_equal(mine, ref)
        if name.lower() == "orthogonal":
            np.testing.assert_allclose(mine @ mine.T, np.eye(4), atol=1e-5)


SHAPE_ARGS: list[Any] = [(0, 4), (3, -1), [2, 3], 5, (2.0, 3), (True, 3), (np.int64(2), 3), (), [3, 0], 0]


@pytest.mark.parametrize("shape", SHAPE_ARGS, ids=[repr(s) for s in SHAPE_ARGS])
def test_initializer_shape_validation(ms: Any, shape: Any) -> None:
    """Every dimension must be a positive ``int`` (bool passes, np.int64 fails), MindSpore's message."""
    ref, ref_err = _outcome(lambda: ms.initializer("ones", shape).init_data().asnumpy())
    mine, err = _outcome(lambda: _np(ours.initializer("ones", shape)))
    _same_failure(ref_err, err)
    if ref_err is None:
        np.testing.assert_array_equal(mine, ref)


def test_initializer_numbers_arrays_and_types(ms: Any) -> None:
    """Numbers become Constant; arrays are returned as they are after the shape check; other types fail."""
    import mindspore

    np.testing.assert_array_equal(_np(ours.initializer(2.5, (2, 3))), ms.initializer(2.5, (2, 3)).init_data().asnumpy())
    np.testing.assert_array_equal(_np(ours.initializer(7, [4])), ms.initializer(7, [4]).init_data().asnumpy())
    t = mindspore.Tensor(np.ones((2, 3), np.float32))
    a = np.ones((2, 3), np.float32)
    assert ms.initializer(t, (2, 3)) is t and ours.initializer(a, (2, 3)) is a
    assert ours.initializer(t, [2, 3]) is t
    for bad_shape in (None, (3, 2), 6):
        _, ref_err = _outcome(lambda s=bad_shape: ms.initializer(t, s))
        _, err = _outcome(lambda s=bad_shape: ours.initializer(a, s))
        _same_failure(ref_err, err)
    for bad in ([1, 2], None, ms.XavierUniform):
        _, ref_err = _outcome(lambda b=bad: ms.initializer(b, (2, 3)))
        _, err = _outcome(lambda b=bad: ours.initializer(b, (2, 3)))
        _same_failure(ref_err, err)
    out = ours.initializer("he_uniform", (3, 4), seed=0, as_tensor=True)
    assert isinstance(out, mindspore.Tensor) and out.shape == (3, 4)


DTYPE_CASES = [(c, d) for c in ("XavierUniform", "HeNormal", "VarianceScaling", "TruncatedNormal") for d in ("float16", "float32", "float64", "int32")]


@pytest.mark.parametrize(("cls", "dtype"), DTYPE_CASES, ids=[f"{c}-{d}" for c, d in DTYPE_CASES])
def test_dtypes(ms: Any, cls: str, dtype: str) -> None:
    """Output dtype as MindSpore; float32 sampling then a cast (int32 silently truncated)."""
    import mindspore

    shape = (50, 40)
    ref = ms.initializer(getattr(ms, cls)(), shape, getattr(mindspore, dtype)).init_data().asnumpy()
    mine = _np(ours.initializer(getattr(ours, cls)(), shape, getattr(mindspore, dtype), seed=2))
    assert mine.dtype == ref.dtype == np.dtype(dtype)
    if dtype == "int32":
        np.testing.assert_array_equal(mine, ref)  # |x| < 1 everywhere: all zeros on both sides
        assert not mine.any()
    if dtype == "float64":  # float32 precision, as MindSpore
        np.testing.assert_array_equal(mine, mine.astype(np.float32).astype(np.float64))
        np.testing.assert_array_equal(ref, ref.astype(np.float32).astype(np.float64))
    mine_same = _np(ours.initializer(getattr(ours, cls)(), shape, dtype, seed=2))
    np.testing.assert_array_equal(mine, mine_same)


def test_bfloat16_is_float32_rounded() -> None:
    """bfloat16 (MindSpore fails to build it with NumPy 2 here): the float32 sample, rounded."""
    import ml_dtypes

    a = ours.initializer(ours.XavierNormal(), (30, 20), "bfloat16", seed=8)
    b = _np(ours.initializer(ours.XavierNormal(), (30, 20), "float32", seed=8))
    assert a.dtype == np.dtype(ml_dtypes.bfloat16)
    np.testing.assert_array_equal(a.view(np.uint16), b.astype(ml_dtypes.bfloat16).view(np.uint16))


# ---------------------------------------------------------------------------- KS against MindSpore's samples
KS_INITS: list[tuple[str, dict[str, Any]]] = [
    ("XavierUniform", {"gain": 1.5}),
    ("XavierNormal", {}),
    ("HeUniform", {"negative_slope": math.sqrt(5)}),
    ("HeNormal", {"mode": "fan_out"}),
    ("VarianceScaling", {"scale": 2.0, "distribution": "uniform"}),
    ("VarianceScaling", {"scale": 2.0, "distribution": "untruncated_normal"}),
    ("VarianceScaling", {"scale": 2.0, "distribution": "truncated_normal"}),
    ("TruncatedNormal", {"sigma": 1.0}),
    ("TruncatedNormal", {"sigma": 0.02}),
    ("TruncatedNormal", {"sigma": 1.0, "mean": 0.5, "a": -1.0, "b": 1.0}),
    ("Normal", {"sigma": 0.3, "mean": 0.1}),
    ("Uniform", {}),
    ("Uniform", {"scale": -0.5}),
]
KS_CASES = [(c, kw, d) for c, kw in KS_INITS for d in ("float16", "float32", "float64")]


@pytest.fixture(scope="module")
def ms_samples(ms: Any) -> dict[tuple[str, str, str], np.ndarray]:
    """MindSpore's own samples (fixed NumPy seeds), one per KS case, built once."""
    out = {}
    state = np.random.get_state()
    try:
        for i, (cls, kw, dt) in enumerate(KS_CASES):
            np.random.seed(100 + i)
            arr = np.zeros(KS_SHAPE, dt)
            getattr(ms, cls)(**kw)(arr)
            out[(cls, repr(kw), dt)] = arr
    finally:
        np.random.set_state(state)
    return out


@pytest.mark.parametrize(
    ("cls", "kwargs", "dtype"), KS_CASES,
    ids=[f"{c}-{i // 3}-{d}" for i, (c, _, d) in enumerate(KS_CASES)],
)
def test_ks_against_mindspore(ms_samples: Any, cls: str, kwargs: dict[str, Any], dtype: str) -> None:
    """Two-sample KS (n = 20 000 each) of our samples against MindSpore's, per dtype."""
    theirs = ms_samples[(cls, repr(kwargs), dtype)]
    arr = np.zeros(KS_SHAPE, dtype)
    getattr(ours, cls)(**kwargs)(arr, seed=31)
    ks_check(arr, theirs)
    if dtype == "float32":
        ks_power(arr, theirs)


def test_truncated_normal_is_uniform_and_the_opt_out(ms: Any, ms_samples: Any) -> None:
    """MindSpore's 'truncated_normal' is uniform (kurtosis 1.8, max 1.732σ); the flag gives a real one."""
    kw = {"scale": 2.0, "distribution": "truncated_normal"}
    theirs = ms_samples[("VarianceScaling", repr(kw), "float32")].astype(np.float64)
    n = KS_SHAPE[1]  # fan_in of (200, 100)
    sigma = math.sqrt(2.0 / n)

    def kurt(x: np.ndarray) -> float:
        return float(np.mean(x**4) / np.mean(x**2) ** 2)

    mine = np.zeros(KS_SHAPE, np.float32)
    ours.VarianceScaling(**kw)(mine, seed=1)
    for x in (theirs, mine.astype(np.float64)):
        assert abs(kurt(x) - 1.8) < 0.03
        assert float(np.abs(x).max()) <= math.sqrt(3) * sigma * (1 + 1e-6)
    doc = np.zeros(KS_SHAPE, np.float32)
    ours.VarianceScaling(**kw, truncated_normal_as_documented=True)(doc, seed=1)
    assert abs(kurt(doc.astype(np.float64)) - 2.3718) < 0.05
    from scipy import stats

    assert float(stats.ks_2samp(doc.ravel(), theirs.ravel()).pvalue) < KS_ALPHA  # not MindSpore's VarianceScaling
    # ... but MindSpore's own TruncatedNormal with per-shape absolute bounds.
    s = sigma / 0.87962566103423978
    state = np.random.get_state()
    try:
        np.random.seed(5)
        real_tn = np.zeros(KS_SHAPE, np.float32)
        ms.TruncatedNormal(sigma=s, a=-2 * s, b=2 * s)(real_tn)
    finally:
        np.random.set_state(state)
    ks_check(doc, real_tn)


def test_seeds_follow_numpy_global_rng(ms: Any) -> None:
    """``np.random.seed`` / ``mindspore.set_seed`` fix the values; reuse draws anew; ``seed=`` leaves NumPy alone."""
    import mindspore

    init = ours.HeUniform()
    saved = np.random.get_state()
    np.random.seed(12)
    a = _np(ours.initializer(init, (16, 8)))
    b = _np(ours.initializer(init, (16, 8)))
    np.random.seed(12)
    assert np.array_equal(a, _np(ours.initializer(init, (16, 8))))
    assert not np.array_equal(a, b)
    mindspore.set_seed(12)
    assert np.array_equal(a, _np(ours.initializer(init, (16, 8))))
    state = np.random.get_state()
    c = _np(ours.initializer(init, (16, 8), seed=3))
    assert np.array_equal(c, _np(ours.initializer(init, (16, 8), seed=3)))
    after = np.random.get_state()
    assert state[0] == after[0] and np.array_equal(state[1], after[1]) and state[2] == after[2]
    arr = np.zeros((16, 8), np.float32)
    assert init(arr, seed=3) is None and np.array_equal(arr, c)  # fills in place, returns None
    np.random.set_state(saved)


def test_facade_imports_no_framework() -> None:
    """Importing the facade and drawing with it imports no framework."""
    import subprocess
    import sys

    code = (
        "from varscale.compat.mindspore.common.initializer import initializer, VarianceScaling\n"
        "initializer(VarianceScaling(), (4, 3), seed=1)\n"
        "initializer('he_normal', (4, 3), seed=1)\n"
        "bad = sorted(m for m in ('torch', 'jax', 'mindspore', 'tensorflow', 'keras') if m in sys.modules)\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", "import sys\n" + code], check=True, timeout=120)


@pytest.mark.parametrize("name", ["varscale.compat.mindspore", "varscale.compat.mindspore.common", "varscale.compat.mindspore.common.initializer"])
def test_doctests(name: str) -> None:
    """The facade's docstring examples run and print what they show."""
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0


@given(
    shape=st.lists(st.integers(0, 7), min_size=0, max_size=6).map(tuple),
    scale=st.floats(1e-3, 1e3),
    mode=st.sampled_from(MODES),
    distribution=st.sampled_from(DISTRIBUTIONS),
    he=st.sampled_from(HE_KWARGS),
    cls=st.sampled_from(["XavierUniform", "XavierNormal", "HeUniform", "HeNormal", "VarianceScaling"]),
)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_numbers_match_mindspore_random_shapes(
    ms: Any, shape: tuple[int, ...], scale: float, mode: str, distribution: str, he: dict[str, Any], cls: str
) -> None:
    """Property: any shape of rank 0-6 (zero dims included): MindSpore's numbers or MindSpore's error."""
    kwargs: dict[str, Any] = {
        "XavierUniform": {"gain": scale},
        "XavierNormal": {"gain": scale},
        "VarianceScaling": {"scale": scale, "mode": mode, "distribution": distribution},
    }.get(cls, he)
    test_class_numbers_and_errors(ms, cls, kwargs, shape)


def test_mindspore_accepts_facade_initializers(ms: Any) -> None:
    """Issue 15: MindSpore layers, Tensor(init=...), Parameter and set_data take the facade's objects."""
    import mindspore
    from mindspore import Parameter, nn

    dense = nn.Dense(8, 4, weight_init=ours.XavierUniform(), bias_init=ours.Zero())
    w = dense.weight.asnumpy()
    assert w.shape == (4, 8) and np.abs(w).max() <= math.sqrt(6 / 12) and not (dense.bias.asnumpy()).any()
    conv = nn.Conv2d(3, 8, 3, weight_init=ours.HeNormal(mode="fan_out"))
    assert conv.weight.shape == (8, 3, 3, 3)
    lazy = ours.initializer(ours.HeNormal(), (64, 32), mindspore.float32, seed=5)
    assert isinstance(lazy, mindspore.Tensor)
    np.testing.assert_array_equal(lazy.init_data().asnumpy(),
                                  ours.initializer(ours.HeNormal(), (64, 32), seed=5, as_numpy=True))
    p = Parameter(ours.initializer("xavier_uniform", (8, 4)), name="w")
    p.set_data(ours.initializer(ours.XavierUniform(), (8, 4), seed=3))
    np.testing.assert_array_equal(p.asnumpy(), ours.initializer(ours.XavierUniform(), (8, 4), seed=3, as_numpy=True))
    assert isinstance(ours.XavierUniform(), ms.Initializer)
