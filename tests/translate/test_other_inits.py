"""zeros/ones/constant, orthogonal and identity: parsed in every framework, translated to every target,
run in the real source and target frameworks, and compared."""

from __future__ import annotations

import math

import numpy as np
import pytest

import varscale as vs
from _support import need
from translate.test_table import _draw
from varscale._translate import TARGETS, translate

CASES = [
    # (source, shape in the source's layout)
    ("keras.initializers.Zeros()", (8, 6)),
    ("keras.initializers.Ones()", (3, 3, 4, 5)),
    ("keras.initializers.Constant(value=0.1)", (7,)),
    ("bias_initializer='zeros'", (7,)),
    ("tf.keras.initializers.Constant(-2.5)", (4, 6)),
    ("tf.zeros_initializer()", (5, 4)),
    ("tf.constant_initializer(0.3)", (5, 4)),
    ("nn.init.zeros_(m.bias)", (9,)),
    ("nn.init.ones_(m.weight)", (9,)),
    ("nn.init.constant_(m.bias, 0.01)", (6, 4)),
    ("jax.nn.initializers.zeros", (4, 3)),
    ("nn.initializers.ones", (4, 3)),
    ("jax.nn.initializers.constant(0.5)", (4, 3)),
    ("mindspore.common.initializer.Zero()", (3, 4)),
    ("mindspore.common.initializer.Constant(2.0)", (3, 4)),
    ("varscale.Ones()", (2, 5)),
    ("keras.initializers.Orthogonal()", (3, 3, 16, 32)),
    ("keras.initializers.Orthogonal(gain=2.0)", (60, 40)),
    ("tf.orthogonal_initializer(gain=0.5)", (40, 60)),
    ("nn.init.orthogonal_(w)", (32, 16, 3, 3)),
    ("nn.init.orthogonal_(w, gain=math.sqrt(2))", (40, 60)),
    ("jax.nn.initializers.orthogonal(scale=1.5)", (60, 40)),
    ("mindspore.common.initializer.Orthogonal(gain=1.0)", (40, 60)),
    ("varscale.Orthogonal(gain=2.0)", (60, 40)),
    ("keras.initializers.Identity(gain=0.5)", (6, 4)),
    ("tf.keras.initializers.Identity()", (5, 5)),
    ("nn.init.eye_(w)", (4, 6)),
    ("mindspore.common.initializer.Identity()", (4, 6)),
]


def _runnable(source: str) -> str:
    """The source as its framework runs it (a string name through keras.initializers.get; the tensor is w)."""
    head, eq, value = source.partition("=")
    if eq and head.isidentifier():  # kernel_initializer='he_uniform', kernel_initializer=keras.initializers.X()
        value = value.strip()
        return f"keras.initializers.get({value})" if value[:1] in "'\"" else _runnable(value)
    if source.startswith("nn.initializers."):
        return "jax." + source
    return source.replace("m.bias", "w").replace("m.weight", "w").replace("(m.", "(w")


def _flat(x: np.ndarray, layout: str) -> np.ndarray:
    if layout == "torch":
        return x.reshape(x.shape[0], -1)
    return x.reshape(-1, x.shape[-1])


def _check(x: np.ndarray, spec: vs.Spec, shape: tuple[int, ...], layout: str, what: str) -> None:
    g = float(spec.fixed or 0.0)
    if spec.family == "constant":
        assert np.allclose(x, g, rtol=1e-7, atol=0), (what, np.unique(x)[:5])
    elif spec.family == "identity":
        m = _flat(x, layout)
        assert np.allclose(m, g * np.eye(*m.shape), rtol=1e-7, atol=0), what
    else:
        m = _flat(x, layout).astype(np.float64)
        gram = m.T @ m if m.shape[0] >= m.shape[1] else m @ m.T
        assert np.allclose(gram, g * g * np.eye(gram.shape[0]), atol=1e-4 * max(1.0, g * g)), what


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize(("source", "shape"), CASES, ids=[c[0] for c in CASES])
def test_runs_in_both_frameworks_and_matches(source: str, shape: tuple[int, ...], target: str) -> None:
    spec = vs.parse(source)
    assert spec.family in ("constant", "orthogonal", "identity")
    src_layout = spec.layout if isinstance(spec.layout, str) else "tf"
    want = spec.describe(shape)
    x = _draw(spec.framework, _runnable(source), shape, 7)
    _check(x, spec, shape, src_layout, f"{spec.framework} source")
    assert math.isclose(float(x.astype(np.float64).std()) if spec.family != "orthogonal" else
                        float(np.sqrt(np.mean(x.astype(np.float64) ** 2))), want["std"], rel_tol=1e-4, abs_tol=1e-7)
    tr = translate(spec, target, shape)
    if spec.family == "identity" and len(shape) != 2:
        return
    y = _draw(target, tr.code, tr.target_shape, 11)
    assert y.shape == tuple(tr.target_shape)
    if tr.verdict == "impossible":
        assert any(n.startswith("impossible") for n in tr.notes), tr.notes
        return
    assert tr.verdict == "exact"
    tgt_layout = tr.target_layout if target != "varscale" else src_layout
    _check(y, spec, tr.target_shape, tgt_layout, f"{target} translation {tr.code}")
    if spec.family == "orthogonal":  # same law of the entries: RMS exact, KS on the marginals
        assert math.isclose(float(np.sqrt(np.mean(y.astype(np.float64) ** 2))), want["std"], rel_tol=1e-4)
        scipy_stats = need("scipy.stats")
        p = scipy_stats.ks_2samp(x.ravel(), y.ravel()).pvalue
        assert p > 1e-6, (tr.code, p)


def test_did_you_mean_and_refusals() -> None:
    with pytest.raises(vs.ParseError, match="did you mean 'Orthogonal'"):
        vs.parse("keras.initializers.Orthogonl()")
    with pytest.raises(vs.ParseError, match="column_axis"):
        vs.parse("jax.nn.initializers.orthogonal(column_axis=0)")
    with pytest.raises(vs.ParseError, match="needs the tensor"):
        vs.parse("nn.init.zeros_()")
