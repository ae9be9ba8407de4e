"""Conformance of ``varscale.compat.tf_contrib.layers`` with TensorFlow.

``tf.contrib`` left TensorFlow in 2.0, and no TF 1.x wheel installs on the
Python versions varscale supports, so the contrib *file* cannot be run here.
What is checked against the real framework instead:

* fans: TF's own ``init_ops._compute_fans`` (contrib's float fans have the
  same values; contrib's rank rules are TF core's);
* the stddev / limit: recorded from TF's ``init_ops.VarianceScaling`` built
  with the documented equivalence of semantics.md §12.4(d),
  ``scale = 1.3·0.87962566103423978²·factor`` with ``"truncated_normal"``
  (whose σ' is then exactly contrib's ``sqrt(1.3·factor/n)``) and
  ``scale = factor`` with ``"uniform"`` (contrib's ``sqrt(3·factor/n)``);
* the samples: two-sample KS tests against ``tf.random.truncated_normal`` /
  ``tf.random.uniform``, the ops contrib calls, with those parameters;
* contrib-only behaviour (upper-case modes, the unformatted TypeError tuple,
  non-floating ``tf.DType``, ZeroDivisionError on a zero fan) against the TF
  1.15 contrib source text as semantics.md §1 quotes it, with TensorFlow's
  real ``DType`` objects and Python's own error messages.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from _stats import KS_SHAPE, assert_close, assert_within, ks_check, ks_power
from _support import need
from conformance.cases_tf import (
    DTYPES,
    SCALES,
    SHAPES,
    recording,
    shape_id,
    tf_op_params,
)
from varscale.compat.tf1 import PartitionInfo
from varscale.compat.tf_contrib import layers

C = 0.87962566103423978
MODES = ("FAN_IN", "FAN_OUT", "FAN_AVG")


@pytest.fixture(scope="module")
def tf() -> Any:
    return need("tensorflow")


def _tf_mode_n(fans: tuple[int, int], mode: str) -> float:
    fan_in, fan_out = fans
    return {"FAN_IN": fan_in, "FAN_OUT": fan_out, "FAN_AVG": (fan_in + fan_out) / 2.0}[mode]


def _oracle(tf: Any, shape: tuple[int, ...], factor: float, mode: str, uniform: bool) -> dict[str, Any]:
    """Fans from TF, and the op parameters TF's init_ops computes for contrib's formula."""
    from tensorflow.python.ops import init_ops, random_ops

    fans = init_ops._compute_fans(list(shape))
    n = _tf_mode_n(fans, mode)
    out: dict[str, Any] = {"fan_in": float(fans[0]), "fan_out": float(fans[1]), "n": float(n)}
    if n == 0:
        return out
    assert n >= 1.0  # every SHAPES entry; TF clamps below 1 where contrib does not
    scale = factor if uniform else 1.3 * C * C * factor
    dist = "uniform" if uniform else "truncated_normal"
    init = tf.compat.v1.variance_scaling_initializer(scale=scale, mode=mode.lower(), distribution=dist, seed=1)
    with recording(random_ops, ("truncated_normal", "random_normal", "random_uniform")) as rec:
        init(list(shape))
    out.update(tf_op_params(rec.last()))
    return out


EXACT_CASES = [
    (shape, mode, uniform, SCALES[(i // 2) % len(SCALES)])
    for i, (shape, mode, uniform) in enumerate(
        (s, m, u) for s in SHAPES for m in MODES for u in (False, True)
    )
]


@pytest.mark.parametrize(
    ("shape", "mode", "uniform", "factor"),
    EXACT_CASES,
    ids=[f"{shape_id(s)}-{m}-{'U' if u else 'TN'}-f{f:g}" for s, m, u, f in EXACT_CASES],
)
def test_numbers_match_tf(tf: Any, shape: tuple[int, ...], mode: str, uniform: bool, factor: float) -> None:
    """Fans, n, stddev/limit and bounds equal TF's; a zero fan raises ZeroDivisionError."""
    expect = _oracle(tf, shape, factor, mode, uniform)
    init = layers.variance_scaling_initializer(factor=factor, mode=mode, uniform=uniform, seed=5)
    if expect["n"] == 0:
        with pytest.raises(ZeroDivisionError, match="float division by zero"):
            init.describe(list(shape))
        with pytest.raises(ZeroDivisionError, match="float division by zero"):
            init(list(shape))
        return
    d = init.describe(list(shape))
    assert (d["fan_in"], d["fan_out"], d["n"]) == (expect["fan_in"], expect["fan_out"], expect["n"])
    assert all(isinstance(d[k], float) for k in ("fan_in", "fan_out", "n"))  # contrib's fans are floats
    assert d["distribution"] == expect["distribution"]
    if uniform:
        assert_close(d["limit"], expect["limit"], "limit")
        assert d["bounds"] == (-d["limit"], d["limit"])
    else:
        assert_close(d["stddev"], expect["stddev"], "stddev")
        assert_close(d["stddev"], math.sqrt(1.3 * factor / expect["n"]), "contrib's sqrt(1.3·factor/n)")
        assert d["bounds"] == (-2 * d["stddev"], 2 * d["stddev"])
    x = init(list(shape))
    assert x.shape == shape and x.dtype == np.float32
    assert_within(x, d["bounds"][1])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("uniform", [False, True])
def test_dtypes_match_tf(tf: Any, dtype: str, uniform: bool) -> None:
    """A tf.DType at construction or at call time gives TF's output dtype; values stay in bounds."""
    tf_dtype = getattr(tf, dtype)
    ref = (tf.random.uniform if uniform else tf.random.truncated_normal)([4, 6], dtype=tf_dtype, seed=1)
    init = layers.variance_scaling_initializer(uniform=uniform, seed=2, dtype=tf_dtype)
    x = init([40, 60])
    assert x.dtype.name == ref.dtype.name == dtype
    assert_within(x, init.describe([40, 60])["bounds"][1])
    y = layers.variance_scaling_initializer(uniform=uniform, seed=2)([40, 60], dtype=tf_dtype)
    assert y.dtype.name == dtype
    assert np.array_equal(np.asarray(x, np.float64), np.asarray(y, np.float64))


KS_CASES = [
    ("variance_scaling_initializer", {"factor": 2.0, "mode": "FAN_IN", "uniform": False}, "float32"),
    ("variance_scaling_initializer", {"factor": 2.0, "mode": "FAN_IN", "uniform": True}, "float32"),
    ("variance_scaling_initializer", {"factor": 0.5, "mode": "FAN_OUT", "uniform": False}, "float64"),
    ("variance_scaling_initializer", {"factor": 3.0, "mode": "FAN_AVG", "uniform": True}, "float64"),
    ("variance_scaling_initializer", {"factor": 1.0, "mode": "FAN_IN", "uniform": False}, "bfloat16"),
    ("variance_scaling_initializer", {"factor": 1.0, "mode": "FAN_OUT", "uniform": False}, "float16"),
    ("xavier_initializer", {"uniform": True}, "float32"),
    ("xavier_initializer", {"uniform": False}, "float32"),
    ("xavier_initializer_conv2d", {"uniform": False}, "float64"),
]


@pytest.mark.parametrize(("fn", "kwargs", "dtype"), KS_CASES, ids=[f"{f}-{k}-{d}" for f, k, d in KS_CASES])
def test_ks_against_tf_ops(tf: Any, fn: str, kwargs: dict[str, Any], dtype: str) -> None:
    """KS test, n = 20 000: ours against the TF op contrib calls, with TF's parameters."""
    init = getattr(layers, fn)(seed=11, dtype=getattr(tf, dtype), **kwargs)
    ours = init(list(KS_SHAPE))
    factor = kwargs.get("factor", 1.0)
    mode = kwargs.get("mode", "FAN_AVG")
    expect = _oracle(tf, KS_SHAPE, factor, mode, kwargs["uniform"])
    tf.random.set_seed(1234)
    if kwargs["uniform"]:
        theirs = tf.random.uniform(KS_SHAPE, -expect["limit"], expect["limit"], getattr(tf, dtype), seed=7)
    else:
        theirs = tf.random.truncated_normal(KS_SHAPE, 0.0, expect["stddev"], getattr(tf, dtype), seed=7)
    theirs = np.asarray(tf.cast(theirs, tf.float64))
    ks_check(ours, theirs)
    ks_power(ours, theirs)


@pytest.mark.parametrize("uniform", [False, True])
def test_xavier_is_fan_avg_factor_1(tf: Any, uniform: bool) -> None:
    """xavier_initializer == variance_scaling_initializer(1.0, 'FAN_AVG'); the conv2d name is an alias."""
    assert layers.xavier_initializer_conv2d is layers.xavier_initializer
    a = layers.xavier_initializer(uniform=uniform, seed=3)
    b = layers.variance_scaling_initializer(factor=1.0, mode="FAN_AVG", uniform=uniform, seed=3)
    for shape in ([64, 128], [3, 3, 16, 32]):
        assert a.describe(shape) == b.describe(shape)
        assert np.array_equal(a(shape), b(shape))
        expect = _oracle(tf, tuple(shape), 1.0, "FAN_AVG", uniform)
        key = "limit" if uniform else "stddev"
        assert_close(a.describe(shape)[key], expect[key], key)
    if not uniform:  # the docstring's sqrt(3/(in+out)) is not what the code draws
        assert a.describe([64, 128])["stddev"] == math.sqrt(2.6 / 192)


@pytest.mark.parametrize("mode", ["fan_in", "Fan_In", "FAN_GEO_AVG", "", "fan_avg"])
def test_bad_mode_typeerror_tuple(mode: str) -> None:
    """Contrib raises TypeError with its two arguments unformatted (case-sensitive modes)."""
    with pytest.raises(TypeError) as info:
        layers.variance_scaling_initializer(mode=mode)
    assert info.value.args == ("Unknown mode %s [FAN_IN, FAN_OUT, FAN_AVG]", mode)
    assert str(info.value) == f"('Unknown mode %s [FAN_IN, FAN_OUT, FAN_AVG]', {mode!r})"


@pytest.mark.parametrize("dtype", ["int32", "int64", "complex64", "bool", "uint8"])
def test_non_floating_tf_dtype(tf: Any, dtype: str) -> None:
    """A non-floating tf.DType raises contrib's TypeError at construction and at call time."""
    tf_dtype = getattr(tf, dtype)
    assert not tf_dtype.is_floating
    msg = "Cannot create initializer for non-floating point type."
    with pytest.raises(TypeError) as info:
        layers.variance_scaling_initializer(dtype=tf_dtype)
    assert str(info.value) == msg
    init = layers.xavier_initializer()
    with pytest.raises(TypeError) as info:
        init([3, 3], dtype=tf_dtype)
    assert str(info.value) == msg


@pytest.mark.parametrize("dtype", ["float32", np.float32, np.dtype("float64")])
def test_unconverted_dtype_attributeerror(dtype: Any) -> None:
    """Contrib does no as_dtype: a string or NumPy dtype fails on ``.is_floating``."""
    with pytest.raises(AttributeError) as ours:
        layers.variance_scaling_initializer(dtype=dtype)
    with pytest.raises(AttributeError) as python:
        dtype.is_floating  # noqa: B018 - the attribute access contrib performs
    assert str(ours.value) == str(python.value)


def test_factor_not_validated() -> None:
    """factor=0 gives zeros; a negative factor raises math's ValueError at call time only."""
    assert not layers.variance_scaling_initializer(factor=0.0, seed=1)([8, 8]).any()
    assert not layers.variance_scaling_initializer(factor=0.0, uniform=True, seed=1)([8, 8]).any()
    init = layers.variance_scaling_initializer(factor=-1.0)
    with pytest.raises(ValueError, match="math domain error"):
        init([8, 8])


@pytest.mark.parametrize("uniform", [False, True])
def test_partition_info_ignored(tf: Any, uniform: bool) -> None:
    """partition_info is ignored: fans from the partition's shape, drawn as a tensor of its own."""
    from tensorflow.python.ops import variable_scope

    init = layers.variance_scaling_initializer(uniform=uniform, seed=9)
    info = variable_scope._PartitionInfo(full_shape=[100, 8], var_offset=[25, 0])
    ours_info = PartitionInfo([100, 8], [25, 0])
    plain = init([25, 8])
    assert np.array_equal(init([25, 8], partition_info=info), plain)
    assert np.array_equal(init([25, 8], partition_info=ours_info), plain)
    expect = _oracle(tf, (25, 8), 2.0, "FAN_IN", uniform)
    assert init.describe([25, 8])["n"] == expect["n"] == 25.0


def test_seed_semantics() -> None:
    """Seeded: the same values every call (TF1 graph mode); unseeded: fresh values per call."""
    seeded = layers.variance_scaling_initializer(seed=4)
    assert np.array_equal(seeded([16, 16]), seeded([16, 16]))
    unseeded = layers.variance_scaling_initializer()
    assert not np.array_equal(unseeded([16, 16]), unseeded([16, 16]))
    assert not np.array_equal(seeded([16, 16]), layers.variance_scaling_initializer(seed=5)([16, 16]))


def test_default_he_conv_numbers() -> None:
    """semantics.md §1: the default on 3x3x64x128 has σ' 0.067185, bounds ±0.134371, std 0.059098."""
    init = layers.variance_scaling_initializer(seed=0)
    d = init.describe([3, 3, 64, 128])
    assert round(d["stddev"], 6) == 0.067185
    assert round(d["bounds"][1], 6) == 0.134371
    realized = math.sqrt(1.3) * C * math.sqrt(2.0 / 576)
    assert round(realized, 6) == 0.059098
    x = init([3, 3, 64, 128]).astype(np.float64)
    assert abs(float(x.std()) / realized - 1) < 0.01


@pytest.mark.parametrize("dtype", DTYPES)
def test_as_tensor(tf: Any, dtype: str) -> None:
    """as_tensor=True returns a tf.Tensor holding exactly the NumPy result, in TF's dtype."""
    init = layers.variance_scaling_initializer(seed=3, dtype=getattr(tf, dtype))
    t = init([6, 5], as_tensor=True)
    assert isinstance(t, tf.Tensor) and t.dtype == getattr(tf, dtype)
    assert np.array_equal(np.asarray(tf.cast(t, tf.float64)), init([6, 5]).astype(np.float64))
