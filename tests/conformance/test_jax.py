"""Conformance of ``varscale.compat.jax.nn.initializers`` with real JAX (0.10).

JAX's numbers are taken from JAX itself: its random samplers are swapped for
ones that return ones (and record the call), so ``init(key, shape, dtype)``
returns the exact stddev / limit JAX computes, in the target dtype. Fans and
errors come from ``jax._src.nn.initializers._compute_fans`` and from running
JAX's initializer on the same input. Samples are KS-tested against JAX's own.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from _stats import KS_SHAPE, assert_close, ks_check, ks_power
from _support import need
from conformance.cases_tf import SHAPES, recording, shape_id
from varscale.compat.jax.nn import initializers as ours

MODES = ("fan_in", "fan_out", "fan_avg", "fan_geo_avg")
DISTRIBUTIONS = ("truncated_normal", "normal", "uniform")
SCALES = (2.0, 1.0, 0.3, 7.5)
PRESETS = (
    "glorot_uniform", "glorot_normal", "lecun_uniform", "lecun_normal", "he_uniform", "he_normal",
    "xavier_uniform", "xavier_normal", "kaiming_uniform", "kaiming_normal",
)


@pytest.fixture(scope="module")
def jax() -> Any:
    return need("jax")


def _jinit() -> Any:
    from jax._src.nn import initializers

    return initializers


@contextlib.contextmanager
def ones_sampling(jax: Any) -> Iterator[list[str]]:
    """Make JAX's variance_scaling sample ones, so its output is its own stddev/limit."""
    import jax.numpy as jnp

    mod = _jinit()
    names: list[str] = []

    def real(name: str) -> Callable[..., Any]:
        def fn(key: Any, *args: Any, **kwargs: Any) -> Any:
            names.append(name)
            shape, dtype = (args[2], args[3]) if name == "truncated_normal" else (args[0], args[1])
            return jnp.ones(shape, dtype)

        return fn

    def cplx(name: str) -> Callable[..., Any]:
        def fn(key: Any, *args: Any) -> Any:
            names.append(name)
            shape, dtype = args[-2], args[-1]
            return jnp.ones(shape, dtype)

        return fn

    saved = {n: getattr(mod.random, n) for n in ("truncated_normal", "normal", "uniform")}
    saved_c = {n: getattr(mod, n) for n in ("_complex_truncated_normal", "_complex_uniform")}
    try:
        for n in saved:
            setattr(mod.random, n, real(n))
        for n in saved_c:
            setattr(mod, n, cplx(n))
        yield names
    finally:
        for n, f in saved.items():
            setattr(mod.random, n, f)
        for n, f in saved_c.items():
            setattr(mod, n, f)


def _outcome(fn: Callable[[], Any]) -> tuple[Any, BaseException | None]:
    try:
        return fn(), None
    except Exception as e:  # we compare whatever JAX raises
        return None, e


def _same_failure(theirs: BaseException | None, mine: BaseException | None) -> None:
    if theirs is None:
        assert mine is None, f"JAX succeeded, we raised {type(mine).__name__}: {mine}"
        return
    assert mine is not None, f"JAX raised {type(theirs).__name__}: {theirs}; we did not"
    assert type(mine) is type(theirs), (type(mine), type(theirs), str(mine), str(theirs))
    assert str(mine) == str(theirs)


def _x64(jax: Any, dtype: Any) -> Any:
    wide = dtype is not None and np.dtype(dtype).name in ("float64", "complex128")
    return jax.enable_x64(True) if wide else contextlib.nullcontext()


def _check_numbers(jax: Any, ref_init: Any, our_init: Any, shape: tuple[int, ...], dtype: Any) -> None:
    """Same error, or the same stddev/limit (exactly, in the dtype) and distribution."""
    with _x64(jax, dtype):
        with ones_sampling(jax) as names:
            ref, ref_err = _outcome(lambda: ref_init(jax.random.key(0), shape, dtype))
        with recording(ours, ("normal_sampler", "uniform_sampler")) as rec:
            mine, err = _outcome(lambda: our_init(0, shape, dtype))
    _same_failure(ref_err, err)
    if ref_err is not None:
        return
    assert mine.shape == shape and mine.dtype == np.dtype(ref.dtype)
    if math.prod(shape) == 0:
        return
    value = float(np.asarray(ref, dtype=np.float64).ravel()[0])
    name, args, _ = rec.last()
    if names[-1] == "uniform":
        assert name == "uniform_sampler"
        assert_close(args[1], value, "limit")
        assert args[0] == -args[1]
        assert float(np.abs(mine.astype(np.float64)).max()) <= value
    else:
        assert name == "normal_sampler"
        assert_close(args[1], value, "stddev")
        if names[-1] == "truncated_normal":
            assert args[2:] == (-2 * value, 2 * value)
            assert float(np.abs(mine.astype(np.float64)).max()) <= 2 * value
        else:
            assert len(args) == 2


# ---------------------------------------------------------------------------- case tables
NUMBER_CASES = [
    (shape, mode, dist, SCALES[i % len(SCALES)])
    for i, (shape, mode, dist) in enumerate((s, m, d) for s in SHAPES for m in MODES for d in DISTRIBUTIONS)
]


@pytest.mark.parametrize(
    ("shape", "mode", "distribution", "scale"),
    NUMBER_CASES,
    ids=[f"{shape_id(s)}-{m}-{d}-s{c:g}" for s, m, d, c in NUMBER_CASES],
)
def test_variance_scaling_numbers(jax: Any, shape: tuple[int, ...], mode: str, distribution: str, scale: float) -> None:
    """Fans, stddev/limit and errors (ZeroDivisionError, rank < 2) equal JAX's."""
    ref = jax.nn.initializers.variance_scaling(scale, mode, distribution)
    mine = ours.variance_scaling(scale, mode, distribution)
    _check_numbers(jax, ref, mine, shape, None)


DTYPE_CASES = [
    (dt, dist, mode, shape, scale)
    for dt in ("float16", "bfloat16", "float32", "float64")
    for dist in DISTRIBUTIONS
    for mode, shape, scale in (("fan_in", (3, 3, 64, 128), 2.0), ("fan_avg", (7, 13), 1.0), ("fan_geo_avg", (5, 3, 11), 0.3))
]


@pytest.mark.parametrize(
    ("dtype", "distribution", "mode", "shape", "scale"),
    DTYPE_CASES,
    ids=[f"{d}-{di}-{m}-{shape_id(s)}" for d, di, m, s, _ in DTYPE_CASES],
)
def test_dtype_rounding(jax: Any, dtype: str, distribution: str, mode: str, shape: tuple[int, ...], scale: float) -> None:
    """The variance is rounded to the target dtype before the sqrt, exactly as JAX (bf16: +0.195 %)."""
    import jax.numpy as jnp

    jdt = getattr(jnp, dtype)
    _check_numbers(
        jax, jax.nn.initializers.variance_scaling(scale, mode, distribution),
        ours.variance_scaling(scale, mode, distribution), shape, jdt,
    )


def test_bf16_variance_rounding_number(jax: Any) -> None:
    """semantics.md §6a: in bfloat16, 2/576 becomes 0.00347900 (+0.195 % variance)."""
    with recording(ours, ("uniform_sampler",)) as rec:
        ours.he_uniform()(0, (576, 8), "bfloat16")
    limit = rec.last()[1][1]
    import ml_dtypes

    var = float(np.array(2 / 576, dtype=ml_dtypes.bfloat16))
    assert var == pytest.approx(0.00347900, abs=1e-8)
    assert limit == float(np.sqrt(np.array(3 * np.array(var, ml_dtypes.bfloat16), dtype=ml_dtypes.bfloat16)))


PRESET_CASES = [(p, s) for p in PRESETS for s in ((5, 7), (3, 3, 16, 32), (2, 3, 4, 5, 6))]


@pytest.mark.parametrize(("preset", "shape"), PRESET_CASES, ids=[f"{p}-{shape_id(s)}" for p, s in PRESET_CASES])
def test_presets(jax: Any, preset: str, shape: tuple[int, ...]) -> None:
    """Each preset (and alias) gives JAX's preset's numbers."""
    _check_numbers(jax, getattr(jax.nn.initializers, preset)(), getattr(ours, preset)(), shape, None)


AXES_CASES: list[tuple[tuple[int, ...], Any, Any, Any]] = [
    ((8, 3, 4), -2, -1, 0),
    ((8, 3, 4), 1, 2, (0,)),
    ((5,), 0, 0, ()),
    ((5,), -1, 0, ()),
    ((), -2, -1, ()),
    ((7,), -2, -1, ()),
    ((4, 6, 3, 2), (0, 1), 3, ()),
    ((4, 6, 3, 2), 0, (1, 2), 3),
    ((3, 3, 16, 32), -2, -1, ()),
    ((0, 5), -2, -1, ()),
    ((5, 0), -2, -1, ()),
    ((2, 0, 3), -2, -1, ()),
    ((2, 3), 0, 1, ()),
    ((2, 3), 5, 1, ()),
    ((100, 400), 0, 1, ()),
]


@pytest.mark.parametrize(
    ("shape", "in_axis", "out_axis", "batch_axis"), AXES_CASES,
    ids=[f"{shape_id(s)}-{i}-{o}-{b}" for s, i, o, b in AXES_CASES],
)
def test_compute_fans_and_axes(jax: Any, shape: tuple[int, ...], in_axis: Any, out_axis: Any, batch_axis: Any) -> None:
    """``_compute_fans`` (float fans, errors) equals JAX's, and the initializer with these axes too."""
    ref, ref_err = _outcome(lambda: _jinit()._compute_fans(shape, in_axis, out_axis, batch_axis))
    mine, err = _outcome(lambda: ours._compute_fans(shape, in_axis, out_axis, batch_axis))
    _same_failure(ref_err, err)
    assert mine == ref and [type(v) for v in mine or ()] == [type(v) for v in ref or ()]
    kw = {"in_axis": in_axis, "out_axis": out_axis, "batch_axis": batch_axis}
    _check_numbers(
        jax, jax.nn.initializers.variance_scaling(1.0, "fan_avg", "uniform", **kw),
        ours.variance_scaling(1.0, "fan_avg", "uniform", **kw), shape, None,
    )


ERROR_CASES: list[tuple[Any, Any, Any, tuple[int, ...], Any]] = [
    (1.0, "FAN_IN", "normal", (3, 4), None),
    (1.0, "fan_sum", "normal", (3, 4), None),
    (1.0, "fan_in", "Uniform", (3, 4), None),
    (1.0, "fan_in", "untruncated_normal", (3, 4), None),
    (1.0, "fan_in", "truncated_normal", (3, 4), "int32"),
    (1.0, "fan_in", "normal", (3, 4), "int32"),
    (1.0, "fan_in", "uniform", (3, 4), "int8"),
    (1.0, "fan_in", "bogus", (3, 4), "int32"),
    (1.0, "bogus", "normal", (0, 4), None),
    (-1.0, "fan_in", "normal", (3, 4), None),
    (0.0, "fan_in", "uniform", (3, 4), None),
]


@pytest.mark.parametrize(("scale", "mode", "distribution", "shape", "dtype"), ERROR_CASES, ids=[str(i) for i in range(len(ERROR_CASES))])
def test_errors_and_unchecked_scale(jax: Any, scale: Any, mode: Any, distribution: Any, shape: tuple[int, ...], dtype: Any) -> None:
    """Case-sensitive mode/distribution, int dtypes, error order; scale unchecked (NaN for negative)."""
    ref, ref_err = _outcome(lambda: jax.nn.initializers.variance_scaling(scale, mode, distribution)(jax.random.key(0), shape, dtype))
    mine, err = _outcome(lambda: ours.variance_scaling(scale, mode, distribution)(0, shape, dtype))
    _same_failure(ref_err, err)
    if ref_err is None:
        np.testing.assert_array_equal(np.isnan(np.asarray(ref)), np.isnan(mine))
        if scale == 0.0:
            assert not np.asarray(ref).any() and not mine.any()


SHAPE_ARGS: list[Any] = [5, (4, 3.0), [4, 3], np.array([4, 3]), (np.int64(4), 3), (4, True), "43", (-3,)]


@pytest.mark.parametrize("shape", SHAPE_ARGS, ids=[repr(s) for s in SHAPE_ARGS])
def test_shape_arguments(jax: Any, shape: Any) -> None:
    """Shape canonicalization: lists, arrays, NumPy ints and bools accepted; floats, strings, negatives fail alike."""
    ref, ref_err = _outcome(lambda: jax.nn.initializers.he_uniform()(jax.random.key(0), shape))
    mine, err = _outcome(lambda: ours.he_uniform()(0, shape))
    _same_failure(ref_err, err)
    if ref_err is None:
        assert mine.shape == tuple(ref.shape)


def test_negative_dimension(jax: Any) -> None:
    """JAX fails on a negative dimension (TypeError or, depending on its caches, an MLIRError); ours is a TypeError (and a ValueError)."""
    _, ref_err = _outcome(lambda: jax.nn.initializers.he_uniform()(jax.random.key(0), (4, -3)))
    assert ref_err is not None
    with pytest.raises(TypeError, match="Only non-negative indices are allowed") as info:
        ours.he_uniform()(0, (4, -3))
    assert isinstance(info.value, ValueError)


# ---------------------------------------------------------------------------- KS against JAX's samples
KS_CASES = [(dist, dt) for dist in DISTRIBUTIONS for dt in ("float16", "bfloat16", "float32", "float64")]


@pytest.mark.parametrize(("distribution", "dtype"), KS_CASES, ids=[f"{d}-{t}" for d, t in KS_CASES])
def test_ks_against_jax(jax: Any, distribution: str, dtype: str) -> None:
    """Two-sample KS (n = 20 000 each) against JAX's own samples, per dtype."""
    import jax.numpy as jnp

    ref_init = jax.nn.initializers.variance_scaling(2.0, "fan_in", distribution)
    with _x64(jax, dtype):
        theirs = np.asarray(ref_init(jax.random.key(42), KS_SHAPE, getattr(jnp, dtype)), dtype=np.float64)
    mine = ours.variance_scaling(2.0, "fan_in", distribution)(42, KS_SHAPE, dtype)
    assert mine.dtype.name == dtype
    ks_check(mine, theirs)
    if dtype == "float32":
        ks_power(mine, theirs)


COMPLEX_CASES = [(dist, dt) for dist in DISTRIBUTIONS for dt in ("complex64", "complex128")]


@pytest.mark.parametrize(("distribution", "dtype"), COMPLEX_CASES, ids=[f"{d}-{t}" for d, t in COMPLEX_CASES])
def test_complex_as_jax_defines_it(jax: Any, distribution: str, dtype: str) -> None:
    """Complex dtypes: |z| and angle KS-equal to JAX's; JAX's scale constants (E|z|² = 1.0187× for truncated)."""
    import jax.numpy as jnp

    shape = (1, KS_SHAPE[0] * KS_SHAPE[1])
    ref_init = jax.nn.initializers.variance_scaling(1.0, "fan_in", distribution)
    with _x64(jax, dtype):
        theirs = np.asarray(ref_init(jax.random.key(3), shape, getattr(jnp, dtype)))
        with ones_sampling(jax):
            mult = complex(np.asarray(ref_init(jax.random.key(0), shape, getattr(jnp, dtype))).ravel()[0])
    mine = ours.variance_scaling(1.0, "fan_in", distribution)(3, shape, dtype)
    assert mine.dtype.name == dtype
    ks_check(np.abs(mine), np.abs(theirs))
    ks_check(np.angle(mine), np.angle(theirs))
    radius = {"truncated_normal": 2.0, "uniform": math.sqrt(2.0), "normal": math.inf}[distribution]
    assert float(np.abs(mine).max()) <= radius * abs(mult) * (1 + 1e-6)
    m2 = float(np.mean(np.abs(mine.astype(np.complex128)) ** 2))
    expect = {"truncated_normal": (1 - 5 * math.exp(-4)) / (1 - math.exp(-4)) / 0.95311164380491208**2}.get(distribution, 1.0)
    assert abs(m2 / expect - 1) < 6 * math.sqrt(1.0 / mine.size) * 1.2, (m2, expect)
    if distribution == "truncated_normal":
        assert expect == pytest.approx(1.0187, abs=5e-4)


# ---------------------------------------------------------------------------- keys and outputs
def test_int_key_equals_prng_key(jax: Any) -> None:
    """An int seed s, ``PRNGKey(s)`` and ``key(s)`` give the same values; other keys differ."""
    init = ours.he_normal()
    a = init(5, (64, 32))
    assert np.array_equal(a, init(jax.random.PRNGKey(5), (64, 32)))
    assert np.array_equal(a, init(jax.random.key(5), (64, 32)))
    assert np.array_equal(a, init(np.array([0, 5], np.uint32), (64, 32)))
    assert np.array_equal(a, init(5, (64, 32)))  # same key, same values
    assert not np.array_equal(a, init(6, (64, 32)))
    k1, k2 = jax.random.split(jax.random.key(5))
    assert not np.array_equal(init(k1, (64, 32)), init(k2, (64, 32)))
    rbg = init(jax.random.key(5, impl="rbg"), (64, 32))
    assert rbg.shape == (64, 32) and not np.array_equal(rbg, a)


def test_key_errors(jax: Any) -> None:
    init = ours.glorot_uniform()
    with pytest.raises(TypeError):
        init(True, (3, 4))
    with pytest.raises(ValueError, match="2\\*\\*64"):
        init(-1, (3, 4))
    with pytest.raises(TypeError):
        init(jax.random.split(jax.random.key(0), 3), (3, 4))
    # a traced key (inside jax.jit) is drawn by the JAX engine: the same bits as the eager call
    traced = jax.jit(lambda k: init(k, (3, 4)))(jax.random.key(0))
    np.testing.assert_array_equal(np.asarray(traced), init(jax.random.key(0), (3, 4)))
    with pytest.raises(TypeError, match="complex"):
        jax.jit(lambda k: init(k, (3, 4), jax.numpy.complex64))(jax.random.key(0))


def test_as_jax_and_default_dtype(jax: Any) -> None:
    """NumPy by default; ``as_jax=True`` gives a jax.Array with the same values; x64 changes the default."""
    import jax.numpy as jnp

    a = ours.lecun_normal()(1, (8, 4))
    assert isinstance(a, np.ndarray) and a.dtype == np.float32
    b = ours.lecun_normal(as_jax=True)(1, (8, 4))
    assert isinstance(b, jax.Array) and np.array_equal(np.asarray(b), a)
    c = ours.lecun_normal()(1, (8, 4), jnp.float32, as_jax=True)
    assert isinstance(c, jax.Array)
    sharding = jax.sharding.SingleDeviceSharding(jax.devices()[0])
    d = ours.lecun_normal()(1, (8, 4), out_sharding=sharding)
    assert isinstance(d, jax.Array) and d.sharding == sharding
    with jax.enable_x64(True):
        assert ours.lecun_normal()(1, (8, 4)).dtype == np.float64
        assert jax.nn.initializers.lecun_normal()(jax.random.key(1), (8, 4)).dtype == jnp.float64


def test_facade_imports_no_framework() -> None:
    """Importing the facade and drawing with it imports no framework."""
    import subprocess
    import sys

    code = (
        "from varscale.compat.jax.nn import initializers\n"
        "initializers.he_normal()(1, (4, 3))\n"
        "initializers.variance_scaling(1.0, 'fan_in', 'uniform')(2, (4, 3), 'complex64')\n"
        "bad = sorted(m for m in ('torch', 'jax', 'mindspore', 'tensorflow', 'keras') if m in sys.modules)\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", "import sys\n" + code], check=True, timeout=120)


@pytest.mark.parametrize("name", ["varscale.compat.jax", "varscale.compat.jax.nn", "varscale.compat.jax.nn.initializers"])
def test_doctests(name: str) -> None:
    """The facade's docstring examples run and print what they show."""
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0


@st.composite
def _shape_and_axes(draw: Any) -> tuple[tuple[int, ...], Any, Any, Any]:
    shape = tuple(draw(st.lists(st.integers(0, 6), min_size=0, max_size=5)))
    rank = len(shape)
    if rank == 0 or draw(st.booleans()):
        return shape, -2, -1, ()
    axis = st.integers(-rank, rank - 1)
    in_axis = draw(st.one_of(axis, st.lists(axis, max_size=2).map(tuple)))
    out_axis = draw(st.one_of(axis, st.lists(axis, max_size=2).map(tuple)))
    batch_axis = draw(st.one_of(st.just(()), axis))
    return shape, in_axis, out_axis, batch_axis


@given(
    case=_shape_and_axes(),
    mode=st.sampled_from(MODES),
    distribution=st.sampled_from(DISTRIBUTIONS),
    scale=st.floats(1e-3, 1e3),
    dtype=st.sampled_from(["float16", "bfloat16", "float32"]),
)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_numbers_match_jax_random_shapes(
    jax: Any, case: tuple[tuple[int, ...], Any, Any, Any], mode: str, distribution: str, scale: float, dtype: str
) -> None:
    """Property: any shape of rank 0-5, any axes (overlapping too), scale and dtype: JAX's numbers or JAX's error."""
    import jax.numpy as jnp

    shape, in_axis, out_axis, batch_axis = case
    kw = {"in_axis": in_axis, "out_axis": out_axis, "batch_axis": batch_axis}
    _check_numbers(
        jax, jax.nn.initializers.variance_scaling(scale, mode, distribution, **kw),
        ours.variance_scaling(scale, mode, distribution, **kw), shape, getattr(jnp, dtype),
    )
