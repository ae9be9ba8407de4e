"""Moments within 6 standard errors (tests/_stats.py), hard bounds, and a power check.

Fixed seeds make these deterministic; the 6-SE band makes them pass for any
seed with probability ~1 - 2e-9, and ``power_check`` proves the same checker
rejects a 10 % variance error on the very same sample.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import varscale as vs
from _stats import KURTOSIS, check_moments, power_check

CASES = [
    (2.0, "fan_in", "truncated_normal", (3, 3, 64, 128)),
    (1.0, "fan_avg", "uniform", (784, 512)),
    (1.0, "fan_out", "untruncated_normal", (512, 300)),
    (0.1, "fan_avg", "truncated_normal", (1000, 400)),
    (3.0, "fan_in", "uniform", (64, 3, 3, 32, 8)),
]


@pytest.mark.parametrize("dtype", ["float32", "float64", "bfloat16"])
@pytest.mark.parametrize(("scale", "mode", "dist", "shape"), CASES)
def test_variance_and_mean(scale: float, mode: str, dist: str, shape: tuple, dtype: str) -> None:
    init = vs.VarianceScaling(scale, mode, dist, seed=1234)
    x = init(shape, dtype).astype(np.float64)
    target = init.describe(shape).variance
    if dtype == "bfloat16":
        # rounding to 8 significant bits adds variance ≤ (2^-8)^2/12 relative per element; negligible
        # against the ±1.7..2.7 % band at n ≈ 2e5..4e5
        pass
    check_moments(x, target, dist)
    power_check(x, target, dist)


def test_truncated_normal_never_exceeds_its_bound() -> None:
    init = vs.VarianceScaling(1.0, "fan_in", "truncated_normal", seed=7)
    for dtype in ["float16", "bfloat16", "float32", "float64"]:
        x = init((2000, 1000), dtype)
        bound = 2 * init.describe((2000, 1000)).param_std
        limit = np.asarray(bound).astype(x.dtype)
        assert float(np.max(np.abs(x.astype(np.float64)))) <= float(limit)
        # and the bound is approached: the extreme is within 0.5 % of it at n = 2e6
        assert float(np.max(np.abs(x.astype(np.float64)))) > 0.995 * bound


def test_uniform_stays_within_its_limit_and_fills_it() -> None:
    init = vs.VarianceScaling(2.0, "fan_avg", "uniform", seed=8)
    for dtype in ["float16", "bfloat16", "float32", "float64"]:
        x = init((1000, 1000), dtype).astype(np.float64)
        limit = init.describe((1000, 1000)).limit
        assert limit is not None
        lim_d = float(np.asarray(limit).astype(init((1,), dtype).dtype))
        assert np.max(np.abs(x)) <= lim_d
        assert np.max(np.abs(x)) > 0.999 * limit


def test_truncated_kurtosis_constant() -> None:
    # kurtosis of N(0,1) cut at ±2, from its moments; checks the checker's own constant
    from scipy.stats import truncnorm

    k = truncnorm(-2, 2).stats(moments="k")
    assert math.isclose(KURTOSIS["truncated_normal"], float(k) + 3.0, rel_tol=1e-12)


def test_uniform_distribution_of_u_is_flat() -> None:
    """Chi-square on 64 bins of the uniform draw (n = 4.2e6), p threshold 1e-9."""
    from scipy.stats import chisquare

    x = vs.VarianceScaling(1.0, "fan_in", "uniform", seed=3)((4096, 1024)).astype(np.float64)
    limit = vs.VarianceScaling(1.0, "fan_in", "uniform").describe((4096, 1024)).limit
    counts, _ = np.histogram(x, bins=64, range=(-limit, limit))
    assert chisquare(counts).pvalue > 1e-9


@pytest.mark.parametrize("dist", ["truncated_normal", "untruncated_normal"])
def test_ks_against_exact_cdf(dist: str) -> None:
    """One-sample KS against the exact law at n = 1e6; threshold p > 1e-9."""
    from scipy import stats

    init = vs.VarianceScaling(1.0, "fan_in", dist, seed=5)
    x = init((1000, 1000), "float64").ravel()
    d = init.describe((1000, 1000))
    law = stats.truncnorm(-2, 2, scale=d.param_std) if dist == "truncated_normal" else stats.norm(scale=d.std)
    assert stats.kstest(x, law.cdf).pvalue > 1e-9
