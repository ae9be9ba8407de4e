"""``varscale.parse``: every framework's syntax into one Spec; everything else refused."""

from __future__ import annotations

import math

import pytest

import varscale as vs
from varscale import ParseError

C = 0.87962566103423978


@pytest.mark.parametrize(
    ("source", "framework", "family", "scale", "mode"),
    [
        ('tf.keras.initializers.VarianceScaling(mode="fan_avg", distribution="uniform")', "tf.keras", "uniform",
         1.0, "fan_avg"),
        ("tf.contrib.layers.variance_scaling_initializer(factor=1.0, mode='FAN_AVG', uniform=True)", "tf_contrib",
         "uniform", 1.0, "fan_avg"),
        ("tf.variance_scaling_initializer()", "tf1", "truncated_normal", 1.0, "fan_in"),
        ("XavierUniform(gain=2)", "mindspore", "uniform", 4.0, "fan_avg"),
        ("initializer('he_normal', [64, 3, 3, 3])", "mindspore", "untruncated_normal", 2.0, "fan_in"),
        ("nn.init.kaiming_normal_(w, mode='fan_out', nonlinearity='relu')", "torch", "untruncated_normal", 2.0,
         "fan_out"),
        ("jax.nn.initializers.lecun_normal()", "jax", "truncated_normal", 1.0, "fan_in"),
        ('keras.initializers.get("glorot_uniform")', "keras", "uniform", 1.0, "fan_avg"),
        ('{"class_name": "HeNormal", "config": {"seed": 1}}', "keras", "truncated_normal", 2.0, "fan_in"),
        ('{"module": "keras.initializers", "class_name": "VarianceScaling", "config": {"scale": 3.0, "mode": '
         '"fan_out", "distribution": "uniform", "seed": null, "input_axes": null, "output_axes": null}, '
         '"registered_name": null}', "keras", "uniform", 3.0, "fan_out"),
        ("nn.init.xavier_uniform_(w, gain=nn.init.calculate_gain('relu'))", "torch", "uniform", 2.0, "fan_avg"),
        ("jax.nn.initializers.variance_scaling(2.0, 'fan_avg', 'normal')", "jax", "untruncated_normal", 2.0,
         "fan_avg"),
        ("HeNormal()", "keras", "truncated_normal", 2.0, "fan_in"),
        ("HeNormal(mode='fan_out')", "mindspore", "untruncated_normal", 2.0, "fan_out"),
        ("variance_scaling_initializer(factor=2.0)", "tf_contrib", "truncated_normal", 2.0, "fan_in"),
        ("variance_scaling_initializer(scale=2.0)", "tf1", "truncated_normal", 2.0, "fan_in"),
    ],
)
def test_sources(source: str, framework: str, family: str, scale: float, mode: str) -> None:
    s = vs.parse(source)
    assert (s.framework, s.family, s.mode) == (framework, family, mode)
    assert s.scale is not None and math.isclose(s.scale, scale)


def test_flags_and_numbers() -> None:
    contrib = vs.parse("tf.contrib.layers.variance_scaling_initializer()")
    assert contrib.contrib_factor and not contrib.clamp
    assert math.isclose(contrib.param(576, 1152), math.sqrt(1.3 * 2 / 576))
    legacy = vs.parse("tf.variance_scaling_initializer(scale=2.0)", tf_version="1.9")
    assert legacy.uncorrected and math.isclose(legacy.std(576, 1), C * math.sqrt(2 / 576))
    modern = vs.parse("tf.variance_scaling_initializer(scale=2.0, distribution='normal')", tf_version="1.10")
    assert not modern.uncorrected and math.isclose(modern.std(576, 1), math.sqrt(2 / 576))
    trunc = vs.parse("torch.nn.init.trunc_normal_(w, std=0.02)")
    assert trunc.absolute_bounds and trunc.fixed == 0.02 and trunc.cut == pytest.approx(100)
    assert trunc.bounds(1, 1) == pytest.approx((-2.0, 2.0))
    ms = vs.parse("mindspore.common.initializer.VarianceScaling()")
    assert ms.mindspore_uniform_bug and ms.family == "uniform"
    assert vs.parse("nn.init.xavier_uniform_(torch.empty(3, 5))").shape == (3, 5)
    assert vs.parse("initializer(HeUniform(), [64, 32], mstype.float32)").shape == (64, 32)


@pytest.mark.parametrize(
    ("source", "fragment"),
    [
        ("HeNormal().__class__.__bases__", "__class__"),
        ("__import__('os').system('touch pwned')", "__import__"),
        ("HeNormal(seed=__import__('os').getpid())", "__import__"),
        ("(lambda: open('pwned', 'w'))()", "lambda"),
        ("keras.initializers.VarianceScaling(scale=[x for x in range(9)])", "comprehensions"),
        ("os.system('ls')", "'os' is not a known framework module"),
        ("HeNormal(seed=1", "HeNormal(seed=1"),
        ("torch.nn.init.dirac_(w)", "dirac_"),
        ("VarianceScaling(scale=9**9**9**9)", "exponent"),
        ("VarianceScaling(scale=" + "(" * 40 + "1" + ")" * 40 + ")", "nested too deeply"),
        ("VarianceScaling(scale=" + "+".join(["1"] * 2000) + ")", "too long"),
        ("tf.contrib.layers.variance_scaling_initializer(mode='fan_in')", "'FAN_IN'"),
        ("keras.initializers.VarianceScaling(mode='FAN_IN')", "case-sensitive"),
        ("nn.init.kaiming_normal_(w, mode='fan_avg')", "fan_avg"),
        ("keras.initializers.RandomUniform(minval=1.0, maxval=0.0)", "must not be empty"),
        ("nn.init.trunc_normal_(w, mean=1.0, a=-2.0, b=2.0)", "symmetric about the mean"),
        ("keras.initializers.VarianceScaling(scale=-1.0)", "scale"),
        ("nn.init.kaiming_normal_(w, **kw)", "`**`"),
        ("jax.nn.initializers.variance_scaling(1.0, 'fan_in')", "distribution"),
        ("", "empty"),
    ],
)
def test_refused(source: str, fragment: str) -> None:
    with pytest.raises(vs.InvalidArgumentError) as info:
        vs.parse(source)
    assert fragment in str(info.value)


def test_error_points_at_the_offending_part() -> None:
    with pytest.raises(ParseError) as info:
        vs.parse("keras.initializers.VarianceScaling(scale=2.0, mode=os.environ)")
    err = info.value
    assert err.column == len("keras.initializers.VarianceScaling(scale=2.0, mode=") + 1
    assert err.snippet == "os.environ"
    assert "column 52" in str(err)


def test_not_a_string() -> None:
    with pytest.raises(TypeError, match="source=42"):
        vs.parse(42)  # type: ignore[arg-type]


def test_bad_tf_version() -> None:
    with pytest.raises(vs.InvalidArgumentError, match="tf_version"):
        vs.parse("tf.variance_scaling_initializer()", tf_version="one")
