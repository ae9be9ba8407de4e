"""The model-level rule language (varscale._rules): every form users write resolves to the right law."""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np
import pytest

import varscale as vs
from varscale._rules import FanError, plan_param, resolve

TORCH_CONV = (64, 3, 7, 7)  # (out, in, kh, kw): fan_in 147, fan_out 3136


def _p(obj: Any, shape: tuple[int, ...] = TORCH_CONV, layout: str = "torch") -> Any:
    return plan_param(resolve(obj, layout=layout, where="rule"), shape, layout)


@pytest.mark.parametrize(
    ("rule", "std"),
    [
        ("he_normal", math.sqrt(2 / 147)),
        ("HeNormal", math.sqrt(2 / 147)),
        (vs.HeNormal(), math.sqrt(2 / 147)),  # no layout given: the framework's (torch) layout
        ("kaiming_normal", math.sqrt(2 / 147)),
        ("kaiming_normal_(mode='fan_out', nonlinearity='relu')", math.sqrt(2 / 3136)),
        ("torch.nn.init.kaiming_normal_(w, mode='fan_out')", math.sqrt(2 / 3136)),
        ("kaiming_uniform_(a=math.sqrt(5))", 1 / math.sqrt(147) / math.sqrt(3)),
        ("xavier_uniform", math.sqrt(2 / (147 + 3136))),
        ("xavier_normal_(gain=2.0)", 2 * math.sqrt(2 / (147 + 3136))),
        ("normal(std=0.02)", 0.02),
        ("nn.init.normal_(w, 0.0, 0.02)", 0.02),
        ("uniform(-0.1, 0.1)", 0.2 / math.sqrt(12)),
        ("zeros", 0.0),
        ("0.5", 0.0),
        (0.0, 0.0),
        ("keras.initializers.HeNormal()", math.sqrt(2 / 147)),
        ("jax.nn.initializers.lecun_normal()", math.sqrt(1 / 147)),
    ],
)
def test_forms_resolve_to_the_law(rule: Any, std: float) -> None:
    p = _p(rule)
    assert math.isclose(p.std, std, rel_tol=1e-12), (p.label, p.std, std)


def test_torch_functions_and_partials() -> None:
    torch = pytest.importorskip("torch")
    p = _p(torch.nn.init.xavier_uniform_)
    assert math.isclose(p.std, math.sqrt(2 / (147 + 3136)), rel_tol=1e-12)
    p = _p(functools.partial(torch.nn.init.kaiming_normal_, mode="fan_out", nonlinearity="relu"))
    assert math.isclose(p.std, math.sqrt(2 / 3136), rel_tol=1e-12)
    p = _p(functools.partial(torch.nn.init.trunc_normal_, std=0.02, a=-0.04, b=0.04))
    assert p.sampler is not None and p.sampler.a == -2.0 and p.sampler.b == 2.0
    p = _p(functools.partial(torch.nn.init.constant_, val=0.3))
    assert p.constant == 0.3
    with pytest.raises(vs.InvalidArgumentError, match="generator"):
        _p(functools.partial(torch.nn.init.normal_, generator=torch.Generator()))
    with pytest.raises(vs.InvalidArgumentError, match="not a rule initializer"):
        _p(torch.nn.init.eye_)


def test_explicit_layout_wins() -> None:
    p = _p(vs.HeNormal(layout="tf"))
    assert (p.fan_in, p.layout) == (1344, "tf")  # TF's rule read on this OIHW shape (the old trap), as asked
    p = _p(vs.HeNormal())
    assert (p.fan_in, p.layout) == (147, "torch")
    q = _p("he_normal", (7, 7, 3, 64), layout="tf")
    assert (q.fan_in, q.layout) == (147, "tf")


def test_own_seed_is_refused_and_says_which_wins() -> None:
    with pytest.raises(vs.InvalidArgumentError, match=r"own seed.*model's seed"):
        resolve(vs.HeNormal(seed=3), layout="torch", where="rule '*'")
    with pytest.raises(vs.InvalidArgumentError, match="own seed"):
        resolve(vs.Normal(std=0.1, seed=3), layout="torch", where="rule '*'")


def test_fan_based_on_one_dimension() -> None:
    for rule in ("he_normal", "orthogonal", "keras.initializers.GlorotUniform()"):
        with pytest.raises(FanError, match="2 or more dimensions"):
            _p(rule, (64,))
    assert _p("normal(std=0.02)", (64,)).std == 0.02


@pytest.mark.parametrize(
    ("rule", "error", "match"),
    [
        ("normal", vs.InvalidArgumentError, "needs its parameters"),
        ("he_normall", vs.UnknownNameError, "Did you mean 'he_normal'"),
        ("normal(std=__import__('os'))", vs.InvalidArgumentError, "literal"),
        ("normal(std=2**1000)", vs.InvalidArgumentError, "literal|finite"),
        ("uniform(1, 0)", vs.InvalidArgumentError, "a <= b"),
        ("normal(sd=0.02)", vs.InvalidArgumentError, "bad arguments"),
        (True, TypeError, "bool"),
        (object(), TypeError, "initializer"),
    ],
)
def test_bad_rules(rule: Any, error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        resolve(rule, layout="torch", where="rule '*'")


def test_framework_expression_rule_draws_the_core_law() -> None:
    """A parsed expression as a rule draws what the core draws for that law (helper-13's finding): a fixed law
    keeps its mean, and Keras' HeNormal() gives vs.HeNormal()'s bits (it drew a recomputed σ, an ulp off)."""
    torch = pytest.importorskip("torch")
    from varscale.torch import init_module

    def weight(rule: Any) -> np.ndarray:
        m = torch.nn.Linear(256, 128, bias=False)
        init_module(m, {"weight": rule}, seed=5)
        return m.weight.detach().numpy().copy()

    w = weight("keras.initializers.RandomNormal(mean=1.0, stddev=0.02)")
    # mean of 32768 draws of N(1, 0.02²): standard error 0.02/sqrt(32768) = 1.1e-4; 6 standard errors = 6.6e-4
    assert abs(float(w.mean()) - 1.0) < 6.6e-4
    assert abs(float(w.mean())) > 0.5  # the old sampler centred it on 0: this check fails there
    np.testing.assert_array_equal(weight("keras.initializers.HeNormal()"), weight(vs.HeNormal()))
    np.testing.assert_array_equal(weight("nn.init.kaiming_uniform_(w, a=math.sqrt(5))"),
                                  weight(vs.VarianceScaling(1 / 3, "fan_in", "uniform")))
