"""One computation per law: a facade and the core, drawing the same law from the same stream, give the same bits.

For every facade, each variance-scaling entry point (its ``VarianceScaling`` and its presets: Keras' and
TF1's classes, contrib's uniform, torch's and MindSpore's Xavier / Kaiming, JAX's ``variance_scaling``)
is compared with :class:`varscale.VarianceScaling` of the same law — scale, mode, distribution and
layout — seeded with the same stream, in every mode and distribution, float32 and float64. Each pair
must be equal bit for bit: both compute σ / the limit as the core does (``varscale.compat._kit``).

Where a framework defines another law on purpose, the test says so and pins that law instead:

* JAX rounds the variance and σ to the target dtype (``jnp.array(scale/n, dtype)``, semantics.md §6a),
  so in float32 its law has σ rounded to float32, not the core's float64 σ; equality with the core is
  pinned in float64, and in float32 the facade's σ is pinned to be exactly the float32 rounding of the
  core's computation in float32 arithmetic (which real JAX checks in ``test_jax.py``);
* MindSpore samples in float32 and casts: its float64 values are the core's float32 values, cast;
* contrib's ``uniform=False`` normal (``σ = sqrt(1.3·factor/n)``, uncorrected) is no core law.

The facades need no framework here (NumPy arrays, ``seed=``); nothing is skipped.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

import varscale as vs
from _support import need
from varscale._math import TRUNC_STD_2
from varscale._presets import PRESETS as CORE_PRESETS
from varscale.compat import _kit, tf1
from varscale.compat.jax.nn import initializers as jinit
from varscale.compat.keras import initializers as kinit
from varscale.compat.mindspore.common import initializer as msinit
from varscale.compat.tf_contrib import layers as contrib
from varscale.compat.torch.nn import init as tinit

SEEDS = (5, 2**63 + 3)
DTYPES = ("float32", "float64")
MODES = ("fan_in", "fan_out", "fan_avg")
DISTRIBUTIONS = ("truncated_normal", "untruncated_normal", "uniform")
SCALES = (2.0, 0.3, 1.0, 7.5)
TF_SHAPES = ((3, 3, 64, 128), (64, 32), (7, 13), (7,), (), (2, 3, 4, 5, 6))
TORCH_SHAPES = ((128, 64, 3, 3), (64, 32), (7, 13), (3, 5, 1, 1, 7))
PRESETS = ("glorot_uniform", "glorot_normal", "he_uniform", "he_normal", "lecun_uniform", "lecun_normal")


def _camel(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))


def _core(scale: float, mode: str, distribution: str, seed: int, layout: str = "tf") -> vs.VarianceScaling:
    return vs.VarianceScaling(scale, mode, distribution, seed=seed, layout=layout)


def _same_bits(a: Any, b: Any) -> None:
    a, b = np.asarray(a), np.asarray(b)
    assert a.dtype == b.dtype and a.shape == b.shape
    assert a.tobytes() == b.tobytes(), f"{int((a != b).sum())} of {a.size} values differ"


VS_CASES = [
    (scale, mode, dist, shape, dtype, seed)
    for i, (mode, dist, dtype) in enumerate((m, d, t) for m in MODES for d in DISTRIBUTIONS for t in DTYPES)
    for scale, shape, seed in [(SCALES[i % 4], TF_SHAPES[i % len(TF_SHAPES)], SEEDS[i % 2]),
                               (SCALES[(i + 1) % 4], TF_SHAPES[(i + 3) % len(TF_SHAPES)], SEEDS[(i + 1) % 2])]
]
VS_IDS = [f"{m}-{d}-{t}-s{c:g}-{'x'.join(map(str, s)) or 'scalar'}" for c, m, d, s, t, _ in VS_CASES]


# ---------------------------------------------------------------------------- Keras, TF1, contrib
@pytest.mark.parametrize(("scale", "mode", "distribution", "shape", "dtype", "seed"), VS_CASES, ids=VS_IDS)
def test_keras_variance_scaling(scale: float, mode: str, distribution: str, shape: tuple[int, ...], dtype: str,
                                seed: int) -> None:
    mine = kinit.VarianceScaling(scale, mode, distribution, seed=seed)(shape, dtype)
    _same_bits(mine, _core(scale, mode, distribution, seed)(shape, dtype))


@pytest.mark.parametrize(("scale", "mode", "distribution", "shape", "dtype", "seed"), VS_CASES, ids=VS_IDS)
def test_tf1_variance_scaling(scale: float, mode: str, distribution: str, shape: tuple[int, ...], dtype: str,
                              seed: int) -> None:
    mine = tf1.VarianceScaling(scale, mode, distribution, seed=seed)(list(shape), dtype)
    _same_bits(mine, _core(scale, mode, distribution, seed)(shape, dtype))


def test_tf1_partition_is_the_core_region() -> None:
    init = tf1.VarianceScaling(2.0, "fan_avg", "uniform", seed=9)
    part = init([250, 64], partition_info=tf1.PartitionInfo([1000, 64], [500, 0]))
    _same_bits(part, _core(2.0, "fan_avg", "uniform", 9)((1000, 64), region=(slice(500, 750), slice(None))))


@pytest.mark.parametrize("preset", PRESETS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_keras_and_tf1_presets(preset: str, dtype: str) -> None:
    shape = (3, 3, 16, 32)
    expected = CORE_PRESETS[preset](seed=11)(shape, dtype)
    _same_bits(getattr(kinit, _camel(preset))(seed=11)(shape, dtype), expected)
    tf1_preset = getattr(tf1, f"{preset}_initializer" if preset.startswith("glorot") else preset)
    _same_bits(tf1_preset(seed=11)(list(shape), dtype), expected)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("factor", [2.0, 1.0, 0.3])
def test_contrib_uniform(mode: str, dtype: str, factor: float) -> None:
    init = contrib.variance_scaling_initializer(factor, mode.upper(), uniform=True, seed=3,
                                                dtype=getattr(contrib, dtype))
    for shape in TF_SHAPES[:4]:
        _same_bits(init(list(shape)), _core(factor, mode, "uniform", 3)(shape, dtype))
    _same_bits(contrib.xavier_initializer(seed=3)([64, 32]), vs.GlorotUniform(seed=3)((64, 32)))


# ---------------------------------------------------------------------------- torch, MindSpore
#: (nonlinearity, param) → the variance scale gain² of that law (He's 2/(1 + slope²) for the rectifiers).
GAIN_LAWS: list[tuple[str, Any, float]] = [
    ("leaky_relu", 0, 2.0),  # torch's default: He
    ("relu", None, 2.0),
    ("leaky_relu", math.sqrt(5), 2.0 / (1 + math.sqrt(5) ** 2)),  # nn.Linear / nn.Conv*'s reset_parameters
    ("leaky_relu", 0.2, 2.0 / (1 + 0.2**2)),
    ("tanh", None, (5.0 / 3) ** 2),
    ("linear", None, 1.0),
    ("selu", None, 0.75**2),
]


@pytest.mark.parametrize(("nonlinearity", "param", "scale"), GAIN_LAWS)
@pytest.mark.parametrize("mode", ["fan_in", "fan_out"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_torch_kaiming(nonlinearity: str, param: Any, scale: float, mode: str, dtype: str) -> None:
    for shape, seed in zip(TORCH_SHAPES, SEEDS * 2, strict=False):
        for fn, dist in ((tinit.kaiming_uniform_, "uniform"), (tinit.kaiming_normal_, "untruncated_normal")):
            mine = fn(np.empty(shape, dtype), param or 0, mode, nonlinearity, seed=seed)
            _same_bits(mine, _core(scale, mode, dist, seed, "torch")(shape, dtype))


@pytest.mark.parametrize("gain", [1.0, 5.0 / 3, 0.5, math.sqrt(2.0)])
@pytest.mark.parametrize("dtype", DTYPES)
def test_torch_xavier(gain: float, dtype: str) -> None:
    for shape, seed in zip(TORCH_SHAPES, SEEDS * 2, strict=False):
        for fn, dist in ((tinit.xavier_uniform_, "uniform"), (tinit.xavier_normal_, "untruncated_normal")):
            mine = fn(np.empty(shape, dtype), gain, seed=seed)
            _same_bits(mine, _core(gain**2, "fan_avg", dist, seed, "torch")(shape, dtype))
    _same_bits(tinit.xavier_uniform_(np.empty((64, 32), np.float32), seed=1), vs.GlorotUniform(seed=1, layout="torch")((64, 32)))


def _ms(init: Any, shape: tuple[int, ...], dtype: str, seed: int) -> np.ndarray:
    return msinit.initializer(init, shape, dtype, seed=seed, as_numpy=True)  # type: ignore[no-any-return]


def _ms_expected(core: vs.VarianceScaling, shape: tuple[int, ...], dtype: str) -> np.ndarray:
    """MindSpore samples in float32 and casts."""
    return core(shape, "float32").astype(dtype)


@pytest.mark.parametrize(("nonlinearity", "param", "scale"), [g for g in GAIN_LAWS if g[0] != "selu"])
@pytest.mark.parametrize("mode", ["fan_in", "fan_out"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_mindspore_he(nonlinearity: str, param: Any, scale: float, mode: str, dtype: str) -> None:
    for shape, seed in zip(TORCH_SHAPES, SEEDS * 2, strict=False):
        for cls, dist in ((msinit.HeUniform, "uniform"), (msinit.HeNormal, "untruncated_normal")):
            mine = _ms(cls(param or 0, mode, nonlinearity), shape, dtype, seed)
            _same_bits(mine, _ms_expected(_core(scale, mode, dist, seed, "torch"), shape, dtype))


@pytest.mark.parametrize("gain", [1.0, 5.0 / 3, 0.5])
@pytest.mark.parametrize("dtype", DTYPES)
def test_mindspore_xavier(gain: float, dtype: str) -> None:
    for shape, seed in zip(TORCH_SHAPES, SEEDS * 2, strict=False):
        for cls, dist in ((msinit.XavierUniform, "uniform"), (msinit.XavierNormal, "untruncated_normal")):
            mine = _ms(cls(gain), shape, dtype, seed)
            _same_bits(mine, _ms_expected(_core(gain**2, "fan_avg", dist, seed, "torch"), shape, dtype))


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("distribution", DISTRIBUTIONS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_mindspore_variance_scaling(mode: str, distribution: str, dtype: str) -> None:
    for (shape, seed), scale in zip(zip(TORCH_SHAPES, SEEDS * 2, strict=False), SCALES, strict=True):
        # MindSpore 2.x draws its uniform for 'truncated_normal' (semantics: the 'truncated_norm' typo)
        bug = "uniform" if distribution == "truncated_normal" else distribution
        mine = _ms(msinit.VarianceScaling(scale, mode, distribution), shape, dtype, seed)
        _same_bits(mine, _ms_expected(_core(scale, mode, bug, seed, "torch"), shape, dtype))
        documented = msinit.VarianceScaling(scale, mode, distribution, truncated_normal_as_documented=True)
        _same_bits(_ms(documented, shape, dtype, seed),
                   _ms_expected(_core(scale, mode, distribution, seed, "torch"), shape, dtype))


# ---------------------------------------------------------------------------- JAX
JAX_DISTRIBUTIONS = {"truncated_normal": "truncated_normal", "normal": "untruncated_normal", "uniform": "uniform"}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("distribution", list(JAX_DISTRIBUTIONS))
def test_jax_variance_scaling_float64(mode: str, distribution: str) -> None:
    for shape, scale, seed in zip(TF_SHAPES[:3] + TF_SHAPES[5:], SCALES, SEEDS * 2, strict=False):
        mine = jinit.variance_scaling(scale, mode, distribution)(seed, shape, "float64")
        _same_bits(mine, _core(scale, mode, JAX_DISTRIBUTIONS[distribution], seed)(shape, "float64"))


@pytest.mark.parametrize("preset", PRESETS)
def test_jax_presets_float64(preset: str) -> None:
    shape = (3, 3, 16, 32)
    _same_bits(getattr(jinit, preset)()(7, shape, "float64"), CORE_PRESETS[preset](seed=7)(shape, "float64"))
    key = np.array([0, 7], dtype=np.uint32)  # jax.random.PRNGKey(7)'s data: the same stream as the int seed 7
    _same_bits(getattr(jinit, preset)()(key, shape, "float64"), CORE_PRESETS[preset](seed=7)(shape, "float64"))


@pytest.mark.parametrize("preset", PRESETS)
def test_jax_float32_law_is_the_dtype_rounding(preset: str) -> None:
    """In float32 JAX's σ / limit is the core's formula evaluated in float32 (JAX's dtype rounding), and the
    values are the core's stream scaled by it; where that rounding is exact the bits are the core's."""
    scale, mode, dist = CORE_PRESETS[preset]._scale, CORE_PRESETS[preset]._mode, CORE_PRESETS[preset]._distribution
    shape = (3, 3, 16, 32)
    fan_in, fan_out = vs.compute_fans(shape)
    n = {"fan_in": fan_in, "fan_avg": (fan_in + fan_out) / 2}[mode]
    f32 = np.float32
    variance = f32(scale / n)
    param = np.sqrt(f32(3) * variance) if dist == "uniform" else np.sqrt(variance) / f32(TRUNC_STD_2)
    core_param = vs.VarianceScaling(scale, mode, dist).describe(shape)
    core_value = core_param.limit if dist == "uniform" else core_param.param_std
    assert float(param) == float(f32(core_value)) or abs(float(param) / core_value - 1) < 2**-22
    mine = getattr(jinit, preset)()(7, shape)
    # the core's stream at JAX's float32 σ: within one float32 rounding of every value
    rescaled = vs.VarianceScaling(scale * (float(param) / core_value) ** 2, mode, dist, seed=7)(shape, "float32")
    assert np.allclose(mine, rescaled, rtol=2**-23, atol=0)
    assert not np.array_equal(mine, CORE_PRESETS[preset](seed=7)(shape))  # another law: σ differs in float32


def test_jax_float32_equals_the_core_where_the_rounding_is_exact() -> None:
    # he_uniform on fan_in = 24: variance 2/24, limit sqrt(3·2/24) = 0.5 exactly in float32 and in float64
    shape = (24, 10)
    assert vs.HeUniform().describe(shape).limit == 0.5
    _same_bits(jinit.he_uniform()(3, shape), vs.HeUniform(seed=3)(shape))


# ---------------------------------------------------------------------------- the parameters themselves
def _recorded(module: Any, call: Any) -> tuple[str, tuple[Any, ...]]:
    """The last sampler ``call()`` built through ``module`` (its name and arguments)."""
    calls: list[tuple[str, tuple[Any, ...]]] = []
    saved = {n: getattr(module, n) for n in ("uniform_sampler", "normal_sampler")}

    def wrap(name: str) -> Any:
        def fn(*args: Any) -> Any:
            calls.append((name, args))
            return saved[name](*args)

        return fn

    try:
        for n in saved:
            setattr(module, n, wrap(n))
        call()
    finally:
        for n, f in saved.items():
            setattr(module, n, f)
    return calls[-1]


PARAM_SHAPES = [(c, k) for c in (3, 7, 10, 13, 64, 100, 300, 576, 1000) for k in (1, 3)]


@pytest.mark.parametrize(("channels", "kernel"), PARAM_SHAPES)
def test_torch_and_mindspore_parameters_are_the_cores(channels: int, kernel: int) -> None:
    """The limit / std each facade hands the sampler is the core's ``describe`` number, exactly."""
    shape = (channels + 1, channels, kernel, kernel)
    glorot = vs.VarianceScaling(1.0, "fan_avg", "uniform", layout="torch").describe(shape).limit
    he = vs.VarianceScaling(2.0, "fan_in", "untruncated_normal", layout="torch").describe(shape).std
    arr = np.empty(shape, np.float32)
    assert _recorded(tinit, lambda: tinit.xavier_uniform_(arr, seed=0)) == ("uniform_sampler", (-glorot, glorot))
    assert _recorded(tinit, lambda: tinit.kaiming_normal_(arr, seed=0)) == ("normal_sampler", (0.0, he))
    assert _recorded(msinit, lambda: msinit.XavierUniform()(arr, seed=0)) == ("uniform_sampler", (-glorot, glorot))
    assert _recorded(msinit, lambda: msinit.HeNormal()(arr, seed=0)) == ("normal_sampler", (0.0, he))


# ---------------------------------------------------------------------------- the kit's gains
@pytest.mark.parametrize("slope", [math.inf, -math.inf, math.nan, 1e10, 0.0, 3])
def test_gain_at_any_slope_is_torchs(slope: float) -> None:
    """The facades' gain takes torch's values where varscale.calculate_gain refuses the slope (±inf, NaN)."""
    torch = need("torch")
    theirs = torch.nn.init.calculate_gain("leaky_relu", slope)
    for mine in (tinit.calculate_gain("leaky_relu", slope), _kit.gain("leaky_relu", slope, framework="mindspore")):
        assert mine == theirs or (math.isnan(mine) and math.isnan(theirs))


def test_mindspore_table_is_torchs_without_selu() -> None:
    assert set(_kit.GAIN_TABLES["torch"]) - set(_kit.GAIN_TABLES["mindspore"]) == {"selu"}
    with pytest.raises(ValueError, match="should be one of"):
        msinit.initializer(msinit.HeUniform(nonlinearity="selu"), (4, 4), seed=0, as_numpy=True)
    assert tinit.calculate_gain("selu") == 0.75


def test_kit_doctests() -> None:
    import doctest

    result = doctest.testmod(_kit, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
