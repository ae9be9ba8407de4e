"""A parsed initializer's law as the CLI draws and plots it (``varscale._law``), through ``varscale sample``."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

import varscale as vs
import varscale._law
from _support import need
from varscale._law import density, initializer_for, sampler_density
from varscale.cli import main


def sample(tmp_path: Path, spec: str, shape: tuple[int, ...], seed: int, capsys: pytest.CaptureFixture[str],
           dtype: str = "float32") -> np.ndarray:
    out = tmp_path / "w.npy"
    code = main(["sample", spec, "--shape", ",".join(map(str, shape)), "--seed", str(seed), "--dtype", dtype,
                 "--out", str(out), "--force", "--no-progress"])
    _, err = capsys.readouterr()
    assert code == 0, err
    return np.load(out)



# -- one law, one computation: a framework's expression draws the bits of varscale's own initializer ----------


@pytest.mark.parametrize(("expr", "preset"), [
    ("keras.initializers.HeNormal()", vs.HeNormal),
    ("jax.nn.initializers.lecun_normal()", vs.LecunNormal),
    ("tf.compat.v1.keras.initializers.glorot_normal()", vs.GlorotNormal),
    ("nn.init.kaiming_uniform_(w, nonlinearity='relu')", None),
])
def test_sample_of_a_framework_expression_draws_the_core_bits(
        expr: str, preset: type | None, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Keras' corrected truncated normal was drawn with scale (1/0.8796…)²·0.8796…² = 2.0000000000000004:
    # not the bits of varscale's HeNormal for the same seed
    shape = (3, 3, 64, 128)
    got = sample(tmp_path, expr, shape, 11, capsys, "float64")
    if preset is None:  # torch's layout: fan_in = 3·3·128, drawn as he_uniform in torch's layout
        want = vs.HeUniform(seed=11, layout="torch")(shape, "float64")
    else:
        want = preset(seed=11)(shape, "float64")
    np.testing.assert_array_equal(got, want)


def test_contrib_and_uncorrected_truncated_normals_keep_their_sigma() -> None:
    for expr, factor in [("tf.contrib.layers.variance_scaling_initializer()", math.sqrt(1.3)),
                         ("tf.keras.initializers.he_normal()", 1 / 0.87962566103423978)]:
        spec = vs.parse(expr)
        d = initializer_for(spec, (64, 32), seed=0).describe((64, 32))
        assert math.isclose(d.param_std, factor * math.sqrt(2.0 / 64), rel_tol=1e-15)
        assert d.param_std == pytest.approx(spec.describe((64, 32))["param_std"], rel=1e-15)


def test_fixed_laws_keep_their_mean(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # the mean of RandomNormal(mean=1.0) and normal_(w, mean, std) was dropped: values centred on 0
    for expr, want in [("keras.initializers.RandomNormal(mean=1.0, stddev=0.05)", vs.Normal(1.0, 0.05, seed=4)),
                       ("nn.init.normal_(w, mean=-3.0, std=0.1)", vs.Normal(-3.0, 0.1, seed=4)),
                       ("nn.init.uniform_(w, 2.0, 3.0)", vs.Uniform(2.0, 3.0, seed=4))]:
        got = sample(tmp_path, expr, (200, 50), 4, capsys)
        np.testing.assert_array_equal(got, want((200, 50)))


def test_fixed_normal_draws_its_own_std(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # drawn before as VarianceScaling(0.02²·n, 'fan_in'): σ = sqrt(0.02²·n/n), not always 0.02
    got = sample(tmp_path, "normal(std=0.02)", (97, 31), 2, capsys, "float64")
    np.testing.assert_array_equal(got, vs.Normal(std=0.02, seed=2)((97, 31), "float64"))


def test_laws_once_refused_are_drawn(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # each was refused as "cut at ±infσ'" (zeros, constant) or "±100σ'" (torch's default trunc_normal_ bounds)
    got = sample(tmp_path, "nn.init.trunc_normal_(w, std=0.02)", (100, 100), 9, capsys)
    assert np.abs(got).max() <= 2.0 and 0.018 < got.std() < 0.022
    np.testing.assert_array_equal(got, vs.TruncatedNormal(0.0, 0.02, -2.0, 2.0, seed=9)((100, 100)))
    assert not sample(tmp_path, "nn.init.zeros_(w)", (4, 3), 0, capsys).any()
    np.testing.assert_array_equal(sample(tmp_path, "keras.initializers.Constant(0.5)", (4, 3), 0, capsys),
                                  np.full((4, 3), 0.5, np.float32))


def test_identity_is_refused_by_name(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["sample", "nn.init.eye_(w)", "--shape", "4,4", "--seed", "0", "--out", str(tmp_path / "w.npy")])
    _, err = capsys.readouterr()
    assert code == 1 and "identity matrix" in err and "eye_" in err and "cut at" not in err
    assert list(tmp_path.iterdir()) == []


def test_orthogonal_is_the_core_orthogonal() -> None:
    init = initializer_for(vs.parse("nn.init.orthogonal_(w, gain=2.0)"), (8, 16), seed=3)
    assert isinstance(init, vs.Orthogonal)
    np.testing.assert_array_equal(init((8, 16)), vs.Orthogonal(2.0, seed=3, layout="torch")((8, 16)))


def test_refused_shapes_quote_the_source() -> None:
    with pytest.raises(vs.InvalidArgumentError, match="fewer than 2 dimensions"):
        initializer_for(vs.parse("nn.init.kaiming_uniform_(w)"), (5,))


# -- density -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("expr", "shape"), [
    ("nn.init.trunc_normal_(w, std=0.05, a=-0.1, b=0.1)", (200, 100)),
    ("keras.initializers.HeNormal()", (3, 3, 64, 128)),
    ("tf.contrib.layers.variance_scaling_initializer()", (64, 32)),
    ("nn.init.kaiming_normal_(w, mode='fan_out')", (64, 32)),
    ("keras.initializers.RandomNormal(mean=1.0, stddev=0.05)", (8, 8)),
    ("nn.init.xavier_uniform_(w)", (64, 32)),
    ("keras.initializers.RandomUniform(minval=0.5, maxval=1.5)", (8, 8)),
])
def test_density_is_the_law_drawn(expr: str, shape: tuple[int, ...]) -> None:
    stats = need("scipy.stats")
    spec = vs.parse(expr)
    d = spec.describe(shape)
    lo, hi = d["bounds"]
    mean, std = d.get("mean", 0.0), d["std"]
    x = np.linspace(max(lo, mean - 6 * std) - std / 3, min(hi, mean + 6 * std) + std / 3, 1001)
    p = d["param_std"] if d["limit"] is None else d["limit"]
    if d["limit"] is not None:
        want = stats.uniform(mean - p, 2 * p).pdf(x)
    elif math.isinf(hi):
        want = stats.norm(mean, p).pdf(x)
    else:
        want = stats.truncnorm((lo - mean) / p, (hi - mean) / p, loc=mean, scale=p).pdf(x)
    inside = (x > lo * (1 + 1e-12)) & (x < hi * (1 - 1e-12)) if math.isfinite(hi) else np.ones(x.shape, bool)
    got = density(spec, shape, x)
    np.testing.assert_allclose(got[inside], want[inside], rtol=1e-9, atol=0)
    assert not got[(x < lo) | (x > hi)].any()
    values = initializer_for(spec, shape, seed=0)(shape, "float64")  # the values drawn lie where it is positive
    assert (density(spec, shape, values) > 0).all()


def test_sampler_density_integrates_to_one() -> None:
    from varscale._plan import normal_sampler, uniform_sampler

    for sp in [normal_sampler(0.5, 2.0), normal_sampler(0.0, 1.0, 0.5, 3.0), uniform_sampler(-1.0, 3.0)]:
        x = np.linspace(-20.0, 20.0, 400_001)
        assert math.isclose(float(np.trapezoid(sampler_density(sp, x), x)), 1.0, rel_tol=1e-4)


def test_density_refusals() -> None:
    with pytest.raises(vs.InvalidArgumentError, match="constant law"):
        density(vs.parse("nn.init.constant_(w, 0.3)"), (4, 4), [0.3])
    with pytest.raises(vs.InvalidArgumentError, match="orthogonal"):
        density(vs.parse("nn.init.orthogonal_(w)"), (4, 4), [0.0])


def test_cli_keeps_its_old_names() -> None:
    import varscale.cli as cli

    assert cli.initializer_for is initializer_for
