"""Property tests (hypothesis; derandomized by the ``ci`` profile in conftest).

* fans: :func:`varscale.compute_fans` against an independent formula, for the
  ``tf`` and ``torch`` layouts and explicit :class:`varscale.Layout` axes;
* std/limit: ``describe()`` against the variance-scaling formulas;
* config round trips: ``get_config``/``from_config`` and
  ``serialize``/``deserialize`` through JSON rebuild an equal initializer that
  draws the same bits;
* regions: any region (slices with any step, negative included, ints,
  Ellipsis) equals the same slice of the full tensor, with both engines;
* the parser (once ``varscale.parse`` lands) raises nothing but varscale's
  documented errors.
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import varscale as vs
from reliability.bad_inputs import need_api
from varscale import VarscaleError

TRUNC = 0.87962566103423978

dims = st.integers(min_value=0, max_value=7)
shapes = st.lists(dims, min_size=0, max_size=5).map(tuple)
positive_shapes = st.lists(st.integers(1, 7), min_size=2, max_size=5).map(tuple)
scales = st.floats(min_value=1e-6, max_value=1e6, allow_nan=False, allow_infinity=False)
modes = st.sampled_from(["fan_in", "fan_out", "fan_avg", "FAN_IN", "Fan_Avg"])
distributions = st.sampled_from(["truncated_normal", "untruncated_normal", "uniform", "normal", "UNIFORM"])
seeds = st.one_of(st.none(), st.integers(0, 2**64 - 1))
dtypes = st.sampled_from(["float32", "float64", "float16", "bfloat16"])


def _prod(xs: Any) -> int:
    out = 1
    for x in xs:
        out *= int(x)
    return out


def _fans_reference(shape: tuple[int, ...], layout: str) -> tuple[int, int]:
    """Independent statement of the fan rules (Keras for tf, PyTorch for torch)."""
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    if layout == "tf":
        *kernel, fin, fout = shape
    else:
        fout, fin, *kernel = shape
    rf = _prod(kernel)
    return fin * rf, fout * rf


@st.composite
def layouts(draw: st.DrawFn) -> tuple[tuple[int, ...], vs.Layout, int, int]:
    """A shape, a Layout with disjoint axes, and the fans computed by hand."""
    shape = tuple(draw(st.lists(st.integers(0, 6), min_size=2, max_size=5)))
    rank = len(shape)
    axes = list(range(rank))
    perm = draw(st.permutations(axes))
    n_in = draw(st.integers(1, rank - 1))
    n_out = draw(st.integers(1, rank - n_in))
    n_batch = draw(st.integers(0, rank - n_in - n_out))
    ins = perm[:n_in]
    outs = perm[n_in : n_in + n_out]
    batch = perm[n_in + n_out : n_in + n_out + n_batch]
    rest = perm[n_in + n_out + n_batch :]

    def spell(ax: list[int]) -> int | tuple[int, ...]:
        # negative spellings and single ints must mean the same axes
        neg = draw(st.booleans())
        vals = tuple(a - rank if neg else a for a in ax)
        return vals[0] if len(vals) == 1 and draw(st.booleans()) else vals

    lay = vs.Layout(in_axis=spell(ins), out_axis=spell(outs), batch_axis=spell(batch) if batch else ())
    rf = _prod(shape[a] for a in rest)
    return shape, lay, _prod(shape[a] for a in ins) * rf, _prod(shape[a] for a in outs) * rf


@given(shape=shapes, layout=st.sampled_from(["tf", "torch", "TF", "Torch"]))
def test_fans_named_layouts(shape: tuple[int, ...], layout: str) -> None:
    assert vs.compute_fans(shape, layout) == _fans_reference(shape, layout.lower())


@given(case=layouts())
def test_fans_explicit_layout(case: tuple[tuple[int, ...], vs.Layout, int, int]) -> None:
    shape, lay, fin, fout = case
    assert vs.compute_fans(shape, lay) == (fin, fout)
    # a Layout survives its config
    assert vs.compute_fans(shape, vs.Layout(**lay.to_config())) == (fin, fout)


@given(shape=positive_shapes)
def test_fans_torch_is_tf_transposed(shape: tuple[int, ...]) -> None:
    # (out, in, *k) in torch is (*k, in, out) in tf
    tf_shape = (*shape[2:], shape[1], shape[0])
    assert vs.compute_fans(shape, "torch") == vs.compute_fans(tf_shape, "tf")


@given(scale=scales, mode=modes, distribution=distributions, shape=shapes,
       layout=st.sampled_from(["tf", "torch"]))
def test_describe_formulas(scale: float, mode: str, distribution: str, shape: tuple[int, ...],
                           layout: str) -> None:
    d = vs.VarianceScaling(scale, mode, distribution, layout=layout).describe(shape)
    fin, fout = _fans_reference(shape, layout)
    n = {"fan_in": fin, "fan_out": fout, "fan_avg": (fin + fout) / 2}[mode.lower()]
    var = scale / max(1.0, n)
    std = math.sqrt(var)
    assert (d.fan_in, d.fan_out) == (fin, fout)
    assert d.n == n
    assert d.variance == pytest.approx(var, rel=1e-15)
    assert d.std == pytest.approx(std, rel=1e-15)
    dist = distribution.lower()
    if dist == "uniform":
        assert d.limit == pytest.approx(math.sqrt(3 * var), rel=1e-15)
        assert d.bounds == (-d.limit, d.limit)
        assert d.param_std is None
    elif dist == "untruncated_normal":
        assert d.param_std == pytest.approx(std, rel=1e-15)
        assert d.bounds == (-math.inf, math.inf)
        assert d.limit is None
    else:  # truncated_normal and its alias normal
        assert d.distribution == "truncated_normal"
        assert d.param_std == pytest.approx(std / TRUNC, rel=1e-15)
        assert d.bounds == pytest.approx((-2 * std / TRUNC, 2 * std / TRUNC), rel=1e-15)
    # the as_dict form is JSON-safe
    json.dumps(d.as_dict(), allow_nan=False)


@st.composite
def initializers(draw: st.DrawFn) -> vs.VarianceScaling:
    seed = draw(st.one_of(seeds, st.builds(vs.Stream, st.integers(0, 2**64 - 1), st.integers(0, 2**64 - 1))))
    layout = draw(st.one_of(st.sampled_from(["tf", "torch"]), layouts().map(lambda c: c[1])))
    if draw(st.booleans()):
        cls = draw(st.sampled_from([vs.GlorotUniform, vs.GlorotNormal, vs.HeUniform, vs.HeNormal,
                                    vs.LecunUniform, vs.LecunNormal]))
        return cls(seed=seed, layout=layout)
    return vs.VarianceScaling(draw(scales), draw(modes), draw(distributions), seed=seed, layout=layout)


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(init=initializers())
def test_config_round_trip(init: vs.VarianceScaling) -> None:
    cfg = json.loads(json.dumps(init.get_config(), allow_nan=False))
    again = type(init).from_config(cfg)
    assert again == init
    assert again.get_config() == init.get_config()
    ser = json.loads(json.dumps(vs.serialize(init)))
    back = vs.deserialize(ser)
    assert type(back) is type(init)
    assert back == init
    assert vs.get(ser) == init
    if init.seed is not None:
        shape = (3, 4)
        if isinstance(init.layout, vs.Layout):
            # a shape with enough axes for the layout's axes
            shape = (2, 3, 2, 3, 2)
        try:
            expected = init(shape, engine="numpy")
        except vs.InvalidArgumentError:
            return  # the layout names axes this shape does not have; fans are refused either way
        assert np.array_equal(back(shape, engine="numpy"), expected)


@st.composite
def regions(draw: st.DrawFn) -> tuple[tuple[int, ...], Any]:
    shape = tuple(draw(st.lists(st.integers(0, 6), min_size=0, max_size=4)))
    items: list[Any] = []
    for d in shape:
        kind = draw(st.sampled_from(["slice", "slice", "int", "full"] if d else ["slice", "full"]))
        if kind == "int":
            items.append(draw(st.integers(-d, d - 1)))
        elif kind == "full":
            items.append(slice(None))
        else:
            bound = st.one_of(st.none(), st.integers(-d - 2, d + 2))
            step = draw(st.one_of(st.none(), st.integers(-4, 4).filter(bool)))
            items.append(slice(draw(bound), draw(bound), step))
    # replace a run of axes (maybe empty) by Ellipsis, or drop a suffix (implicit full axes)
    if draw(st.booleans()):
        i = draw(st.integers(0, len(items)))
        j = draw(st.integers(i, len(items)))
        items = [*items[:i], Ellipsis, *items[j:]]
    else:
        items = items[: draw(st.integers(0, len(items)))]
    if draw(st.integers(0, 9)) == 0:
        items.append(draw(st.sampled_from([0, Ellipsis, slice(None)])))  # one entry too many (or a 2nd ...)
    region: Any = tuple(items)
    if len(items) == 1 and draw(st.booleans()):
        region = items[0]  # a bare slice, int or Ellipsis
    return shape, region


def _bits(a: Any) -> np.ndarray[Any, Any]:
    arr = np.asarray(a)
    return np.ascontiguousarray(arr).reshape(-1).view(f"u{arr.dtype.itemsize}")


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(case=regions(), dtype=dtypes, distribution=distributions, seed=st.integers(0, 2**64 - 1))
def test_region_equals_slice(case: tuple[tuple[int, ...], Any], dtype: str, distribution: str, seed: int) -> None:
    shape, region = case
    init = vs.VarianceScaling(1.5, "fan_avg", distribution, seed=seed)
    full = init(shape, dtype, engine="numpy")
    try:
        expected = full[region]
    except IndexError:
        for engine in ("numpy", "numba"):
            with pytest.raises(vs.InvalidArgumentError, match="`region`"):
                init(shape, dtype, region=region, engine=engine)
        return
    for engine in ("numpy", "numba"):
        part = init(shape, dtype, region=region, engine=engine)
        assert part.shape == expected.shape, (engine, region)
        assert part.dtype == expected.dtype
        np.testing.assert_array_equal(_bits(part), _bits(expected))
    np.testing.assert_array_equal(_bits(init(shape, dtype, engine="numba")), _bits(full))


sources = st.one_of(
    st.text(max_size=80),
    st.text(alphabet="()[]{},.=:'\"_ 0123456789abcdefghijklmnopqrstuvwxyzFANIUT-+*/", max_size=80),
    st.builds(
        lambda f, args: f"{f}({', '.join(args)})",
        st.sampled_from([
            "tf.keras.initializers.VarianceScaling", "keras.initializers.HeNormal", "nn.init.kaiming_normal_",
            "jax.nn.initializers.variance_scaling", "XavierUniform", "initializer",
            "tf.contrib.layers.variance_scaling_initializer", "tf.variance_scaling_initializer",
            "__import__", "getattr", "eval",
        ]),
        st.lists(st.one_of(
            st.sampled_from(["w", "'he_normal'", "[64, 3, 3, 3]", "mode='fan_out'", "mode='FAN_AVG'",
                             "distribution='uniform'", "uniform=True", "factor=1.0", "gain=2", "scale=-1",
                             "scale=float('nan')", "nonlinearity='relu'", "seed=1", "x.__class__", "1e999",
                             "a=0.2", "**{}", "*[]", "lambda: 0"]),
            st.from_regex(r"[a-z_]{1,8}=[-0-9.e]{1,6}", fullmatch=True),
        ), max_size=4),
    ),
)


@settings(max_examples=200)
@given(source=sources)
def test_parse_raises_only_documented_errors(source: str) -> None:
    parse = need_api("parse")
    try:
        parse(source)
    except VarscaleError:
        pass
