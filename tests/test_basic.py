"""The standard non-variance-scaling initializers: laws, constants, configs, regions, engines, dtypes."""

from __future__ import annotations

import math
from typing import Any

import mpmath
import numpy as np
import pytest

import varscale as vs
from _stats import Z
from varscale._basic import _truncated_moments

SEED = 20261202


def _ks_against(x: np.ndarray[Any, Any], cdf: Any) -> float:
    """One-sample Kolmogorov–Smirnov statistic of ``x`` against a CDF (vectorised callable)."""
    v = np.sort(np.asarray(x, dtype=np.float64).ravel())
    n = v.size
    f = cdf(v)
    return float(max(np.max(np.arange(1, n + 1) / n - f), np.max(f - np.arange(0, n) / n)))


def _ks_band(n: int) -> float:
    # P(sqrt(n)·D > 1.95) ≈ 0.001 (Kolmogorov); the fixed seed makes the test deterministic,
    # the band keeps a correct law passing for any seed with high probability
    return 1.95 / math.sqrt(n)


def _norm_cdf(x: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    from scipy.special import ndtr

    out: np.ndarray[Any, Any] = ndtr(x)
    return out


def test_normal_law_and_a_wrong_law_fails() -> None:
    n = 200_000
    x = vs.Normal(mean=0.5, std=0.02, seed=SEED)((n,), "float64")
    d = _ks_against(x, lambda v: _norm_cdf((v - 0.5) / 0.02))
    assert d < _ks_band(n), d
    wrong = _ks_against(x, lambda v: _norm_cdf((v - 0.5) / 0.022))  # 10 % off in std
    assert wrong > _ks_band(n), wrong


def test_truncated_normal_absolute_bounds_as_torch() -> None:
    n = 200_000
    init = vs.TruncatedNormal(mean=0.0, std=0.02, a=-0.03, b=0.05, seed=SEED)
    x = init((n,), "float64")
    assert x.min() >= -0.03 and x.max() <= 0.05
    lo, hi = _norm_cdf(np.array(-1.5)), _norm_cdf(np.array(2.5))
    d = _ks_against(x, lambda v: (_norm_cdf(v / 0.02) - lo) / (hi - lo))
    assert d < _ks_band(n), d
    desc = init.describe((n,))
    # the realized mean and std from the exact truncated moments, within Z standard errors
    assert abs(x.mean() - desc.mean) <= Z * desc.std / math.sqrt(n)
    assert abs(x.std() / desc.std - 1) <= Z * math.sqrt(2.0 / n)


def test_uniform_bounds_and_law() -> None:
    n = 200_000
    x = vs.Uniform(-0.1, 0.3, seed=SEED)((n,), "float64")
    assert -0.1 <= x.min() and x.max() <= 0.3
    d = _ks_against(x, lambda v: (v + 0.1) / 0.4)
    assert d < _ks_band(n), d
    assert _ks_against(x, lambda v: np.clip((v + 0.1) / 0.44, 0, 1)) > _ks_band(n)


@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float32", "float64"])
def test_constants_exact(dtype: str) -> None:
    assert (vs.Zeros()((3, 4), dtype).astype(np.float64) == 0).all()
    assert (vs.Ones()((5,), dtype).astype(np.float64) == 1).all()
    c = vs.Constant(0.1)((7,), dtype)
    assert c.dtype.name == dtype
    assert (c == np.array(0.1).astype(c.dtype)).all() or dtype == "bfloat16"
    if dtype == "bfloat16":  # rounded once from float64, nearest even
        import ml_dtypes

        assert (c == ml_dtypes.bfloat16(np.float32(0.1))).all()


@pytest.mark.parametrize("layout", ["torch", "tf"])
@pytest.mark.parametrize("shape", [(64, 32), (32, 64), (16, 4, 3, 3), (3, 3, 4, 16)])
def test_orthogonal_is_orthogonal(layout: str, shape: tuple[int, ...]) -> None:
    q = vs.Orthogonal(gain=1.5, seed=SEED, layout=layout)(shape, "float64")
    if layout == "torch":
        m = q.reshape(shape[0], -1)
    else:
        m = q.reshape(-1, shape[-1])
    small = min(m.shape)
    g = m.T @ m if m.shape[0] >= m.shape[1] else m @ m.T
    np.testing.assert_allclose(g, 2.25 * np.eye(small), atol=1e-12)
    # same seed, same matrix; a region is a slice of it
    again = vs.Orthogonal(gain=1.5, seed=SEED, layout=layout)(shape, "float64", region=(slice(1, 3),))
    np.testing.assert_array_equal(again, q[1:3])


def test_orthogonal_needs_a_matrix() -> None:
    with pytest.raises(vs.InvalidArgumentError, match="2 or more dimensions"):
        vs.Orthogonal(seed=0)((5,))


def test_orthogonal_against_torch_algorithm() -> None:
    torch = pytest.importorskip("torch")
    # the same Gaussian matrix through torch's own orthogonal_ algorithm gives the same Q (up to LAPACK rounding)
    from varscale._generate import draw
    from varscale._plan import normal_sampler

    rows, cols = 6, 10
    g = draw((rows, cols), "float64", normal_sampler(0.0, 1.0), vs.Stream(SEED, 0))
    flat = torch.from_numpy(g.copy()).t()
    q, r = torch.linalg.qr(flat)
    q = (q * torch.diag(r, 0).sign()).t()
    ours = vs.Orthogonal(seed=SEED, layout="torch")((rows, cols), "float64")
    np.testing.assert_allclose(ours, q.numpy(), atol=1e-12)


@pytest.mark.parametrize(
    "init",
    [vs.Normal(0.1, 2.0, seed=3), vs.TruncatedNormal(0, 1, -1, 3, seed=vs.Stream(3, 9)), vs.Uniform(-1, 2, seed=4),
     vs.Constant(2.5), vs.Zeros(), vs.Ones(), vs.Orthogonal(0.5, seed=1, layout="torch")],
)
def test_config_round_trip(init: Any) -> None:
    cfg = init.get_config()
    assert type(init).from_config(cfg) == init
    assert vs.deserialize(vs.serialize(init)) == init
    with pytest.raises(vs.InvalidArgumentError, match="unknown keys"):
        type(init).from_config({**cfg, "bogus": 1})


@pytest.mark.parametrize("engine", ["numpy", "numba"])
def test_regions_and_engines_agree(engine: str) -> None:
    init = vs.TruncatedNormal(0.0, 0.02, -0.04, 0.04, seed=SEED)
    full = init((64, 48), engine="numpy")
    part = init((64, 48), region=(slice(None), slice(8, 40, 3)), engine=engine)
    np.testing.assert_array_equal(part, full[:, 8:40:3])


@pytest.mark.parametrize(
    ("build", "match"),
    [
        (lambda: vs.Normal(std=-1.0), "std"),
        (lambda: vs.Normal(std=math.inf), "std"),
        (lambda: vs.Normal(mean=10**400), "mean"),
        (lambda: vs.TruncatedNormal(a=1.0, b=-1.0), "a < b"),
        (lambda: vs.TruncatedNormal(std=0.0), "std"),
        (lambda: vs.TruncatedNormal(mean=0.0, std=1.0, a=50.0, b=60.0), "1e-200"),
        (lambda: vs.Uniform(1.0, 0.0), "a <= b"),
        (lambda: vs.Constant(math.nan), "value"),
        (lambda: vs.Orthogonal(layout=vs.Layout(in_axis=0, out_axis=1)), "layout"),
    ],
)
def test_bad_arguments(build: Any, match: str) -> None:
    with pytest.raises(vs.InvalidArgumentError, match=match):
        build()
    with pytest.raises(TypeError, match="std"):
        vs.Normal(std="0.02")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("a", "b"),
    [(-2.0, 2.0), (-1e-8, 1e-8), (-2e-7, 2e-7), (1.0, 1.0004), (9.0, 9.0005), (9.0, 9.1), (0.0, 0.01),
     (-30.0, -29.99), (3.0, 40.0), (-1e-9, 0.1), (11.2, 11.2000002), (-0.001, 0.0011), (-4.0, 1.0)],
)
def test_truncated_moments_against_mpmath(a: float, b: float) -> None:
    # issue 10.10's concern for the core: narrow cuts (torch's a=-2, b=2 with a large std) must not cancel
    mpmath.mp.dps = 80
    aa, bb = mpmath.mpf(a), mpmath.mpf(b)
    mass = mpmath.ncdf(bb) - mpmath.ncdf(aa)
    pa, pb = mpmath.npdf(aa), mpmath.npdf(bb)
    mean = (pa - pb) / mass
    var = 1 + (aa * pa - bb * pb) / mass - mean * mean
    m, v = _truncated_moments(a, b)
    assert abs(m - float(mean)) <= 1e-9 * max(1.0, abs(float(mean)))
    assert abs(v / float(var) - 1) <= 1e-8


def test_narrow_truncation_reports_the_realized_std() -> None:
    # trunc_normal_(w, std=1e8) with the default absolute bounds ±2 is a uniform on [-2, 2]: std 2/√3
    for std in (1e7, 3e7, 1e8, 1e12):
        d = vs.TruncatedNormal(std=std).describe((10,))
        assert math.isclose(d.std, 2 / math.sqrt(3), rel_tol=1e-6), (std, d.std)
