"""Conformance of ``varscale.compat.tf1`` with TensorFlow's ``tf.compat.v1`` init_ops.

Every number is taken from the real TensorFlow: fans from its
``init_ops._compute_fans``, the stddev / limit recorded from the
``random_ops`` call its ``VarianceScaling.__call__`` makes (the op still
runs), messages from its own exceptions, configs from its ``get_config``.
The samples are KS-tested against the samples TF's initializer draws.
"""

from __future__ import annotations

import math
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
    recording,
    shape_id,
    tf_op_params,
)
from varscale.compat import tf1

C = 0.87962566103423978
MODES = ("fan_in", "fan_out", "fan_avg")
DISTRIBUTIONS = ("truncated_normal", "normal", "untruncated_normal", "uniform")
OPS = ("truncated_normal", "random_normal", "random_uniform")


@pytest.fixture(scope="module")
def tf() -> Any:
    return need("tensorflow")


def _record(tf: Any, init: Any, shape: Any, **kwargs: Any) -> tuple[dict[str, Any], Any]:
    from tensorflow.python.ops import random_ops

    with recording(random_ops, OPS) as rec:
        out = init(shape, **kwargs)
    return tf_op_params(rec.last()), out


EXACT_CASES = [
    (shape, mode, dist, SCALES[i % len(SCALES)])
    for i, (shape, mode, dist) in enumerate((s, m, d) for s in SHAPES for m in MODES for d in DISTRIBUTIONS)
]


@pytest.mark.parametrize(
    ("shape", "mode", "distribution", "scale"),
    EXACT_CASES,
    ids=[f"{shape_id(s)}-{m}-{d}-s{c:g}" for s, m, d, c in EXACT_CASES],
)
def test_numbers_match_tf(tf: Any, shape: tuple[int, ...], mode: str, distribution: str, scale: float) -> None:
    """Fans, the clamped n, stddev/limit and bounds equal what TF's init_ops computes."""
    from tensorflow.python.ops import init_ops

    ref = tf.compat.v1.variance_scaling_initializer(scale=scale, mode=mode, distribution=distribution, seed=3)
    expect, ref_out = _record(tf, ref, list(shape))
    ours = tf1.VarianceScaling(scale=scale, mode=mode, distribution=distribution, seed=3)
    d = ours.describe(list(shape))
    assert (d["fan_in"], d["fan_out"]) == init_ops._compute_fans(list(shape))
    assert d["distribution"] == expect["distribution"]
    if expect["limit"] is not None:
        assert_close(d["limit"], expect["limit"], "limit")
        bound = d["limit"]
    else:
        assert_close(d["stddev"], expect["stddev"], "stddev")
        bound = 2 * d["stddev"] if d["distribution"] == "truncated_normal" else math.inf
    assert d["bounds"] == (-bound, bound)
    x = ours(list(shape))
    assert x.shape == tuple(ref_out.shape) == shape
    assert x.dtype.name == ref_out.dtype.name == "float32"
    assert_within(x, bound)


LEGACY_CASES = [(shape, mode, SCALES[i % len(SCALES)]) for i, (shape, mode) in enumerate(
    (s, m) for s in SHAPES for m in MODES
)]


@pytest.mark.parametrize(
    ("shape", "mode", "scale"), LEGACY_CASES, ids=[f"{shape_id(s)}-{m}-s{c:g}" for s, m, c in LEGACY_CASES]
)
def test_legacy_normal_matches_tf_equivalent(tf: Any, shape: tuple[int, ...], mode: str, scale: float) -> None:
    """legacy_normal: TF ≤ 1.9's uncorrected "normal", σ = sqrt(scale/n).

    TF ≤ 1.9 cannot be installed; TF ≥ 1.10 reproduces it exactly with
    ``scale·C²`` (semantics.md §12.2/12.4c), which is what is recorded here.
    """
    ref = tf.compat.v1.variance_scaling_initializer(scale=scale * C * C, mode=mode, distribution="truncated_normal")
    expect, _ = _record(tf, ref, list(shape))
    ours = tf1.VarianceScaling(scale=scale, mode=mode, distribution="normal", legacy_normal=True, seed=1)
    d = ours.describe(list(shape))
    assert_close(d["stddev"], expect["stddev"], "legacy stddev")
    assert d["bounds"] == (-2 * d["stddev"], 2 * d["stddev"])
    new = tf1.VarianceScaling(scale=scale, mode=mode, distribution="normal").describe(list(shape))
    assert math.isclose(new["stddev"] / d["stddev"], 1 / C, rel_tol=1e-15)
    assert ours.get_config()["legacy_normal"] is True
    # only "normal" changes
    tn = tf1.VarianceScaling(scale=scale, mode=mode, legacy_normal=True).describe(list(shape))
    assert tn == new


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("distribution", ["truncated_normal", "untruncated_normal", "uniform"])
@pytest.mark.parametrize("where", ["ctor", "call"])
def test_dtypes_match_tf(tf: Any, dtype: str, distribution: str, where: str) -> None:
    """float16/bfloat16/float32/float64 as a tf.DType at construction or call: TF's output dtype."""
    tf_dtype = getattr(tf, dtype)
    if where == "ctor":
        ref = tf.compat.v1.variance_scaling_initializer(distribution=distribution, dtype=tf_dtype, seed=1)
        ours = tf1.VarianceScaling(distribution=distribution, dtype=tf_dtype, seed=1)
        kwargs: dict[str, Any] = {}
    else:
        ref = tf.compat.v1.variance_scaling_initializer(distribution=distribution, seed=1)
        ours = tf1.VarianceScaling(distribution=distribution, seed=1)
        kwargs = {"dtype": tf_dtype}
    expect, ref_out = _record(tf, ref, [30, 20], **kwargs)
    x = ours([30, 20], **kwargs)
    assert x.dtype.name == ref_out.dtype.name == dtype
    d = ours.describe([30, 20])
    key = "limit" if distribution == "uniform" else "stddev"
    assert_close(d[key], expect[key], key)
    if distribution != "untruncated_normal":
        assert_within(x, d["bounds"][1])
    if where == "ctor":
        assert ours.get_config() == ref.get_config()


KS_CASES = [
    ("truncated_normal", "fan_in", 2.0, "float32"),
    ("normal", "fan_avg", 1.0, "float64"),
    ("untruncated_normal", "fan_out", 0.5, "float32"),
    ("uniform", "fan_in", 1.0, "float32"),
    ("uniform", "fan_avg", 3.0, "float64"),
    ("truncated_normal", "fan_out", 1.0, "bfloat16"),
    ("untruncated_normal", "fan_in", 2.0, "float16"),
]


@pytest.mark.parametrize(("distribution", "mode", "scale", "dtype"), KS_CASES, ids=["-".join(map(str, c)) for c in KS_CASES])
def test_ks_against_tf_samples(tf: Any, distribution: str, mode: str, scale: float, dtype: str) -> None:
    """KS test, n = 20 000: our samples against TF's initializer's own samples."""
    tf.random.set_seed(1234)
    ref = tf.compat.v1.variance_scaling_initializer(scale, mode, distribution, seed=7, dtype=getattr(tf, dtype))
    theirs = np.asarray(tf.cast(ref(list(KS_SHAPE)), tf.float64))
    ours = tf1.VarianceScaling(scale, mode, distribution, seed=7, dtype=getattr(tf, dtype))(list(KS_SHAPE))
    assert ours.dtype.name == dtype
    ks_check(ours, theirs)
    ks_power(ours, theirs)


PARTITION_CASES = [
    ([1000, 64], [250, 64], [500, 0], "uniform"),
    ([1000, 64], [10, 64], [990, 0], "truncated_normal"),
    ([64, 1000], [64, 100], [0, 300], "untruncated_normal"),
    ([3, 3, 16, 32], [3, 3, 16, 8], [0, 0, 0, 24], "truncated_normal"),
    ([3, 3, 16, 32], [3, 3, 4, 32], [0, 0, 12, 0], "uniform"),
    ([100], [30], [70], "normal"),
]


@pytest.mark.parametrize(("full", "part", "offset", "distribution"), PARTITION_CASES)
def test_partition_info(tf: Any, full: list[int], part: list[int], offset: list[int], distribution: str) -> None:
    """Fans from the full shape as TF computes them; values are exactly that slice of the full tensor."""
    from tensorflow.python.ops import variable_scope

    info = variable_scope._PartitionInfo(full_shape=full, var_offset=offset)
    ref = tf.compat.v1.variance_scaling_initializer(2.0, "fan_avg", distribution, seed=1)
    expect, ref_out = _record(tf, ref, part, partition_info=info)
    ours = tf1.VarianceScaling(2.0, "fan_avg", distribution, seed=1)
    d = ours.describe(part, partition_info=info)
    key = "limit" if distribution == "uniform" else "stddev"
    assert_close(d[key], expect[key], key)
    assert d == ours.describe(full)
    for pi in (info, tf1.PartitionInfo(full, offset)):
        x = ours(part, partition_info=pi)
        assert x.shape == tuple(ref_out.shape)
        region = tuple(slice(o, o + s) for o, s in zip(offset, part, strict=True))
        assert np.array_equal(x, ours(full)[region])


def test_partitioned_variable_in_graph_mode(tf: Any) -> None:
    """Used by TF's own get_variable with a partitioner, the partitions assemble into the full tensor."""
    ours = tf1.VarianceScaling(2.0, "fan_in", "truncated_normal", seed=21)
    graph = tf.Graph()
    with graph.as_default():
        var = tf.compat.v1.get_variable(
            "w", shape=[100, 8], initializer=ours, partitioner=tf.compat.v1.fixed_size_partitioner(4)
        )
        parts = list(var)
        with tf.compat.v1.Session(graph=graph) as sess:
            sess.run(tf.compat.v1.global_variables_initializer())
            values = sess.run(parts)
    assert len(values) == 4
    assert np.array_equal(np.concatenate(values, axis=0), ours([100, 8]))


def test_partition_info_class_matches_tf(tf: Any) -> None:
    """PartitionInfo's checks and answers are TF's _PartitionInfo's."""
    from tensorflow.python.ops import variable_scope

    tfp = variable_scope._PartitionInfo
    cases: list[tuple[Any, Any]] = [
        ([10, 8], [5, 0]), ((10, 8), (0, 0)), ("x", [0]), ([10], "y"), ([10, 8], [0]), ([10, 8], [10, 0]), ([10], [-1]),
    ]
    for full, offset in cases:
        try:
            expect = tfp(full, offset)
        except Exception as err:
            with pytest.raises(type(err)) as info:
                tf1.PartitionInfo(full, offset)
            assert str(info.value) == str(err)
            continue
        ours = tf1.PartitionInfo(full, offset)
        for shape in ([5, 8], [10, 8], [5, 4], (5, 8), [6, 8], [5]):
            try:
                want = (expect.single_slice_dim(shape), expect.single_offset(shape))
            except Exception as err:
                with pytest.raises(type(err)) as info:
                    ours.single_slice_dim(shape)
                assert str(info.value) == str(err)
                continue
            assert (ours.single_slice_dim(shape), ours.single_offset(shape)) == want


def test_partition_out_of_bounds() -> None:
    """A partition that does not fit the full shape is refused (TF would silently draw it)."""
    ours = tf1.VarianceScaling(seed=1)
    with pytest.raises(ValueError, match=r"would exceed partition_info\.full_shape"):
        ours([10, 8], partition_info=tf1.PartitionInfo([12, 8], [5, 0]))
    with pytest.raises(ValueError, match="Expected equal length"):
        ours([10], partition_info=tf1.PartitionInfo([12, 8], [0, 0]))


CONFIG_CASES: list[dict[str, Any]] = [
    {},
    {"scale": 2.0, "mode": "fan_out", "distribution": "uniform", "seed": 5},
    {"scale": 2, "mode": "fan_avg", "distribution": "NORMAL", "seed": None},
    {"distribution": "Untruncated_Normal", "seed": 0},
    {"dtype": "float16"},
    {"dtype": "bfloat16", "scale": 0.1},
    {"dtype": np.float64, "seed": 123},
    {"dtype": "float64", "mode": "fan_avg"},
]


@pytest.mark.parametrize("kwargs", CONFIG_CASES, ids=[str(i) for i in range(len(CONFIG_CASES))])
def test_config_matches_tf(tf: Any, kwargs: dict[str, Any]) -> None:
    """get_config equals TF's; each side's from_config takes the other's config."""
    ref = tf.compat.v1.variance_scaling_initializer(**kwargs)
    ours = tf1.VarianceScaling(**kwargs)
    assert ours.get_config() == ref.get_config()
    assert tf1.VarianceScaling.from_config(ref.get_config()).get_config() == ref.get_config()
    back = type(ref).from_config(ours.get_config())
    assert back.get_config() == ours.get_config()
    assert tf1.variance_scaling_initializer is tf1.VarianceScaling


@pytest.mark.parametrize(
    ("name", "kwargs"),
    [
        ("glorot_uniform_initializer", {"seed": 3}),
        ("glorot_normal_initializer", {"seed": 4, "dtype": "float64"}),
        ("he_normal", {"seed": 2}),
        ("he_uniform", {"seed": 2}),
        ("lecun_normal", {"seed": 1}),
        ("lecun_uniform", {}),
    ],
)
def test_helpers_match_tf(tf: Any, name: str, kwargs: dict[str, Any]) -> None:
    """TF1 helper initializers: same config and same numbers as tf.compat.v1's."""
    v1 = tf.compat.v1
    ref = getattr(v1, name) if hasattr(v1, name) else getattr(v1.initializers, name)
    ref_init = ref(**kwargs)
    ours = getattr(tf1, name)(**kwargs)
    assert ours.get_config() == ref_init.get_config()
    expect, _ = _record(tf, ref_init, [3, 3, 16, 32])
    d = ours.describe([3, 3, 16, 32])
    key = "limit" if expect["limit"] is not None else "stddev"
    assert_close(d[key], expect[key], key)
    assert ours([4, 4]).dtype.name == ref_init([4, 4]).dtype.name


ERROR_CASES: list[dict[str, Any]] = [
    {"scale": 0.0},
    {"scale": -1},
    {"scale": "a"},
    {"mode": "FAN_IN"},
    {"mode": "fan_geo_avg"},
    {"mode": 3},
    {"distribution": "gaussian"},
    {"distribution": None},
    {"dtype": "int32"},
    {"dtype": "complex64"},
    {"dtype": "bool"},
    {"dtype": "not_a_dtype"},
]


@pytest.mark.parametrize("kwargs", ERROR_CASES, ids=[repr(k) for k in ERROR_CASES])
def test_errors_match_tf(tf: Any, kwargs: dict[str, Any]) -> None:
    """Same exception type and message as TF's constructor."""
    with pytest.raises(Exception) as expect:
        tf.compat.v1.variance_scaling_initializer(**kwargs)
    with pytest.raises(type(expect.value)) as ours:
        tf1.VarianceScaling(**kwargs)
    assert type(ours.value) is type(expect.value)
    assert str(ours.value) == str(expect.value)


def test_non_float_call_dtype_is_typeerror(tf: Any) -> None:
    """Call-time dtype is not re-validated by TF: its op raises TypeError; so do we."""
    ref = tf.compat.v1.variance_scaling_initializer(seed=1)
    with pytest.raises(TypeError):
        ref([3, 3], dtype=tf.int32)
    with pytest.raises(TypeError, match="floating dtype"):
        tf1.VarianceScaling(seed=1)([3, 3], dtype=tf.int32)


def test_seed_semantics() -> None:
    """Seeded: identical values on every call (TF1 graph mode); unseeded: fresh values."""
    seeded = tf1.VarianceScaling(seed=4)
    assert np.array_equal(seeded([32, 8]), seeded([32, 8]))
    unseeded = tf1.VarianceScaling()
    assert not np.array_equal(unseeded([32, 8]), unseeded([32, 8]))


@pytest.mark.parametrize("dtype", DTYPES)
def test_as_tensor(tf: Any, dtype: str) -> None:
    """as_tensor=True returns a tf.Tensor (partitioned too) holding exactly the NumPy result."""
    init = tf1.VarianceScaling(2.0, "fan_avg", "uniform", seed=3)
    info = tf1.PartitionInfo([12, 5], [6, 0])
    t = init([6, 5], dtype=dtype, partition_info=info, as_tensor=True)
    assert isinstance(t, tf.Tensor) and t.dtype == getattr(tf, dtype)
    want = init([12, 5], dtype=dtype)[6:].astype(np.float64)
    assert np.array_equal(np.asarray(tf.cast(t, tf.float64)), want)


@given(
    shape=st.lists(st.integers(0, 9), min_size=0, max_size=6).map(tuple),
    mode=st.sampled_from(MODES),
    distribution=st.sampled_from(DISTRIBUTIONS),
    scale=st.floats(1e-3, 1e3),
)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_numbers_match_tf_random_shapes(
    tf: Any, shape: tuple[int, ...], mode: str, distribution: str, scale: float
) -> None:
    """Property: for any shape of rank 0-6 and any scale, our numbers are TF's."""
    ref = tf.compat.v1.variance_scaling_initializer(scale=scale, mode=mode, distribution=distribution)
    expect, _ = _record(tf, ref, list(shape))
    d = tf1.VarianceScaling(scale=scale, mode=mode, distribution=distribution).describe(list(shape))
    key = "limit" if expect["limit"] is not None else "stddev"
    assert_close(d[key], expect[key], key)
