"""VarianceScaling and presets: exact numbers, seeds, dtypes, errors, configs."""

from __future__ import annotations

import json
import math

import ml_dtypes
import numpy as np
import pytest

import varscale as vs

C = 0.87962566103423978


@pytest.mark.parametrize(
    ("scale", "mode", "dist", "shape", "n"),
    [
        (2.0, "fan_in", "truncated_normal", (3, 3, 64, 128), 576),
        (1.0, "fan_out", "uniform", (3, 3, 64, 128), 1152),
        (1.0, "fan_avg", "untruncated_normal", (3, 3, 64, 128), 864.0),
        (0.5, "FAN_AVG", "Uniform", (784, 256), 520.0),
        (3.0, "fan_in", "normal", (10,), 10),
        (1.0, "fan_in", "uniform", (), 1),
        (1.0, "fan_in", "uniform", (0, 5), 1),  # max(1, n)
    ],
)
def test_describe_numbers_are_exact(scale: float, mode: str, dist: str, shape: tuple, n: float) -> None:
    d = vs.VarianceScaling(scale, mode, dist).describe(shape)
    var = scale / max(1.0, n)
    assert d.variance == var
    assert d.std == math.sqrt(var)
    if d.distribution == "uniform":
        assert d.limit == math.sqrt(3.0 * var)
        assert d.bounds == (-d.limit, d.limit)
    elif d.distribution == "truncated_normal":
        assert d.param_std == math.sqrt(var) / C
        assert d.bounds == (-2 * d.param_std, 2 * d.param_std)
    else:
        assert d.param_std == d.std
        assert d.bounds == (-math.inf, math.inf)


def test_presets_match_keras_definitions() -> None:
    table = {
        vs.GlorotUniform: (1.0, "fan_avg", "uniform"),
        vs.GlorotNormal: (1.0, "fan_avg", "truncated_normal"),
        vs.HeUniform: (2.0, "fan_in", "uniform"),
        vs.HeNormal: (2.0, "fan_in", "truncated_normal"),
        vs.LecunUniform: (1.0, "fan_in", "uniform"),
        vs.LecunNormal: (1.0, "fan_in", "truncated_normal"),
    }
    for cls, (scale, mode, dist) in table.items():
        init = cls(seed=3)
        assert (init.scale, init.mode, init.distribution) == (scale, mode, dist)
        ref = vs.VarianceScaling(scale, mode, dist, seed=3)
        assert np.array_equal(init((8, 9)), ref((8, 9)))


def test_normal_is_the_truncated_alias() -> None:
    a = vs.VarianceScaling(distribution="normal", seed=1)
    assert a.distribution == "truncated_normal"
    assert np.array_equal(a((30, 30)), vs.VarianceScaling(seed=1)((30, 30)))


def test_seeded_calls_repeat_and_unseeded_differ() -> None:
    init = vs.HeNormal(seed=42)
    assert np.array_equal(init((64, 64)), init((64, 64)))
    free = vs.HeNormal()
    assert not np.array_equal(free((64, 64)), free((64, 64)))
    assert not np.array_equal(vs.HeNormal(seed=1)((64, 64)), vs.HeNormal(seed=2)((64, 64)))


@pytest.mark.parametrize("seed", [0, 1, 2**32, 2**64 - 1, np.uint64(2**63), np.int64(7)])
def test_seed_range(seed: object) -> None:
    init = vs.GlorotUniform(seed=seed)  # type: ignore[arg-type]
    assert np.array_equal(init((5, 5)), init((5, 5)))


@pytest.mark.parametrize(
    ("seed", "exc", "fragment"),
    [
        (-1, vs.InvalidArgumentError, "seed=-1"),
        (2**64, vs.InvalidArgumentError, "seed=18446744073709551616"),
        (1.5, TypeError, "seed=1.5"),
        ("1", TypeError, "seed='1'"),
        (True, TypeError, "seed=True"),
    ],
)
def test_bad_seeds(seed: object, exc: type, fragment: str) -> None:
    with pytest.raises(exc, match=fragment):
        vs.VarianceScaling(seed=seed)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("dtype", "expected"),
    [
        (None, np.float32),
        ("float16", np.float16),
        ("half", np.float16),
        ("bfloat16", ml_dtypes.bfloat16),
        (ml_dtypes.bfloat16, ml_dtypes.bfloat16),
        ("float32", np.float32),
        (np.float32, np.float32),
        (np.dtype("float64"), np.float64),
        ("double", np.float64),
    ],
)
def test_dtypes(dtype: object, expected: type) -> None:
    out = vs.HeUniform(seed=0)((16, 16), dtype)
    assert out.dtype == np.dtype(expected)
    assert out.shape == (16, 16)


@pytest.mark.parametrize("dtype", ["int32", np.int64, bool, "bool", "complex64", "uint8", "float8", "str"])
def test_non_float_dtypes_are_refused(dtype: object) -> None:
    with pytest.raises(vs.InvalidArgumentError, match="`dtype` must be a floating dtype") as info:
        vs.HeUniform(seed=0)((4, 4), dtype)
    assert "received dtype=" in str(info.value)


def test_same_bits_across_dtypes_for_float32_family() -> None:
    """float16/bfloat16/float32 share the 32-bit words: each is one rounding of the same float64."""
    init = vs.GlorotNormal(seed=11)
    f32 = init((100, 100), "float32").astype(np.float64)
    f16 = init((100, 100), "float16").astype(np.float64)
    assert np.all(np.abs(f16 - f32) <= np.abs(f32) * 2.0**-11 + 2.0**-24)


@pytest.mark.parametrize(
    ("kwargs", "exc", "fragment"),
    [
        ({"scale": 0}, vs.InvalidArgumentError, "`scale` must be a positive finite float; received scale=0"),
        ({"scale": -1.0}, vs.InvalidArgumentError, "scale=-1.0"),
        ({"scale": float("nan")}, vs.InvalidArgumentError, "scale=nan"),
        ({"scale": float("inf")}, vs.InvalidArgumentError, "scale=inf"),
        ({"scale": "2"}, TypeError, "scale='2'"),
        ({"mode": "fan_inn"}, vs.UnknownNameError, "Did you mean 'fan_in'"),
        ({"mode": 3}, TypeError, "mode=3"),
        ({"distribution": "gaussian"}, vs.UnknownNameError, "distribution='gaussian'"),
        ({"distribution": "trunc_normal"}, vs.UnknownNameError, "Did you mean 'truncated_normal'"),
        ({"layout": "oihw"}, vs.UnknownNameError, "layout='oihw'"),
    ],
)
def test_constructor_errors(kwargs: dict, exc: type, fragment: str) -> None:
    with pytest.raises(exc, match=fragment.replace("(", r"\(").replace(")", r"\)")):
        vs.VarianceScaling(**kwargs)


def test_a_scale_whose_uniform_limit_overflows_is_refused() -> None:
    # sqrt(3·1e308/1) is inf: the sampler is built by uniform_sampler, which refuses non-finite bounds
    # (a hand-built sampler used to draw ±inf here); the error names the scale and the shape
    init = vs.VarianceScaling(scale=1e308, distribution="uniform", seed=0)
    with pytest.raises(vs.InvalidArgumentError, match=r"infinite uniform limit") as info:
        init((1, 1))
    assert "scale=1e+308" in str(info.value) and "shape=(1, 1)" in str(info.value)
    assert np.isfinite(init((100, 100), "float64")).all()  # n = 100: the limit is finite


def test_zero_size_shapes_give_empty_arrays() -> None:
    for shape in [(0,), (0, 5), (3, 3, 0, 8)]:
        out = vs.HeNormal(seed=0)(shape)
        assert out.shape == shape and out.size == 0


def test_config_round_trip_is_json_safe() -> None:
    inits = [
        vs.VarianceScaling(2.0, "fan_out", "uniform", seed=5, layout="torch"),
        vs.VarianceScaling(seed=vs.derive_stream(3, "w"), layout=vs.Layout(in_axis=0, out_axis=(1, 2))),
        vs.HeNormal(seed=None),
        vs.LecunUniform(seed=2**64 - 1),
    ]
    for init in inits:
        cfg = json.loads(json.dumps(vs.serialize(init)))
        back = vs.deserialize(cfg)
        assert back == init
        assert type(back) is type(init)
        if init.seed is not None:
            assert np.array_equal(back((6, 7, 3)), init((6, 7, 3)))
        assert type(init).from_config(init.get_config()) == init


def test_config_contents() -> None:
    cfg = vs.VarianceScaling(2.0, "FAN_IN", "normal", seed=1).get_config()
    assert cfg == {
        "scale": 2.0,
        "mode": "fan_in",
        "distribution": "truncated_normal",
        "seed": 1,
        "layout": "tf",
        "stream_version": 1,
    }
    assert vs.HeNormal(seed=1).get_config() == {"seed": 1, "layout": "tf", "stream_version": 1}


def test_config_errors() -> None:
    with pytest.raises(vs.InvalidArgumentError, match="unknown keys"):
        vs.VarianceScaling.from_config({"scale": 1.0, "dtype": "float32"})
    with pytest.raises(vs.InvalidArgumentError, match="stream_version=2"):
        vs.VarianceScaling.from_config({"stream_version": 2})
    with pytest.raises(vs.InvalidArgumentError, match="unknown keys"):
        vs.HeNormal.from_config({"scale": 2.0})
    with pytest.raises(vs.UnknownNameError, match="class_name='Identity'"):
        vs.deserialize({"class_name": "Identity", "config": {}})
    # Orthogonal is a core initializer now (wave 2): it deserializes
    assert vs.deserialize({"class_name": "Orthogonal", "config": {}}) == vs.Orthogonal()
    with pytest.raises(vs.InvalidArgumentError, match="without"):
        vs.deserialize({"class_name": "HeNormal"})
    with pytest.raises(TypeError, match="config"):
        vs.deserialize("he_normal")


def test_get() -> None:
    assert vs.get(None) is None
    assert isinstance(vs.get("he_normal"), vs.HeNormal)
    assert isinstance(vs.get("HeNormal"), vs.HeNormal)
    assert isinstance(vs.get("variance_scaling"), vs.VarianceScaling)
    init = vs.GlorotUniform(seed=1)
    assert vs.get(init) is init
    assert vs.get(vs.serialize(init)) == init
    assert isinstance(vs.get(vs.LecunNormal), vs.LecunNormal)
    with pytest.raises(vs.UnknownNameError, match="Did you mean 'he_normal'"):
        vs.get("he_norml")
    with pytest.raises(TypeError, match="identifier=3"):
        vs.get(3)


def test_engine_argument() -> None:
    init = vs.HeNormal(seed=0)
    with pytest.raises(vs.UnknownNameError, match="engine='cuda'"):
        init((2, 2), engine="cuda")
    assert np.array_equal(init((9, 9), engine="numpy"), init((9, 9), engine="numba"))


def test_memory_guard_refuses_before_allocating() -> None:
    with pytest.raises(vs.InvalidArgumentError, match="bytes") as info:
        vs.HeNormal(seed=0)((2**40, 2**10))
    assert "GiB" in str(info.value)


def test_repr_round_trips() -> None:
    init = vs.VarianceScaling(2.0, "fan_out", "uniform", seed=3)
    assert eval(repr(init), {"VarianceScaling": vs.VarianceScaling}) == init
