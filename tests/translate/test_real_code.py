"""Real-code input: keyword-argument forms, the names users type, did-you-mean, notes that matter."""

from __future__ import annotations

import math

import pytest

import varscale as vs
from varscale import ParseError
from varscale._translate import target_name


@pytest.mark.parametrize(
    ("source", "framework", "family", "scale", "mode"),
    [
        ("kernel_initializer='he_uniform'", "keras", "uniform", 2.0, "fan_in"),
        ('kernel_initializer="glorot_normal",', "keras", "truncated_normal", 1.0, "fan_avg"),
        ("kernel_initializer=keras.initializers.HeNormal()", "keras", "truncated_normal", 2.0, "fan_in"),
        ("kernel_initializer=tf.keras.initializers.VarianceScaling(scale=2.0, mode='fan_out'),", "tf.keras",
         "truncated_normal", 2.0, "fan_out"),
        ("kernel_init=nn.initializers.lecun_normal()", "jax", "truncated_normal", 1.0, "fan_in"),
        ("self.w_init = jax.nn.initializers.he_normal()", "jax", "truncated_normal", 2.0, "fan_in"),
        ("init: Callable = nn.initializers.xavier_uniform()", "jax", "uniform", 1.0, "fan_avg"),
        # the names users type for torch's functions mean torch's law: kaiming_normal is untruncated
        ("kaiming_normal", "torch", "untruncated_normal", 2.0, "fan_in"),
        ("kaiming_uniform", "torch", "uniform", 2.0, "fan_in"),
        ("xavier_uniform", "torch", "uniform", 1.0, "fan_avg"),
        ("xavier_normal_", "torch", "untruncated_normal", 1.0, "fan_avg"),
    ],
)
def test_real_code_forms(source: str, framework: str, family: str, scale: float, mode: str) -> None:
    s = vs.parse(source)
    assert (s.framework, s.family, s.mode) == (framework, family, mode)
    assert s.scale is not None and math.isclose(s.scale, scale)


def test_comparison_is_not_an_assignment() -> None:
    with pytest.raises(ParseError):
        vs.parse("x == keras.initializers.HeNormal()")


@pytest.mark.parametrize(
    ("source", "suggestion"),
    [
        ("keras.initializers.GlorotUnifrom()", "'GlorotUniform'"),
        ("tf.keras.initializers.HeNromal()", "'HeNormal'"),
        ("torch.nn.init.kaimin_normal_(w)", "'kaiming_normal_'"),
        ("nn.init.xavier_unifrom_(w)", "'xavier_uniform_'"),
        ("jax.nn.initializers.he_nromal()", "'he_normal'"),
        ("mindspore.common.initializer.XavierUnifrom()", "'XavierUniform'"),
        ("tf.contrib.layers.xavier_initialiser()", "'xavier_initializer'"),
        ("tf.glorot_unifrom_initializer()", "'glorot_uniform_initializer'"),
        ("XavierUnifrom()", "'XavierUniform'"),
    ],
)
def test_did_you_mean_across_frameworks(source: str, suggestion: str) -> None:
    with pytest.raises(ParseError, match="did you mean") as err:
        vs.parse(source)
    assert suggestion in str(err.value)


@pytest.mark.parametrize(("name", "target"), [("pytorch", "torch"), ("PyTorch", "torch"), ("tf.keras", "tf.keras"),
                                              ("tf_keras", "tf.keras"), ("flax", "jax"), ("ms", "mindspore"),
                                              ("contrib", "tf_contrib"), ("keras", "keras")])
def test_target_aliases(name: str, target: str) -> None:
    assert target_name(name) == target
    assert vs.translate("he_uniform", to=name).target == target


def test_unknown_target_suggests() -> None:
    with pytest.raises(vs.InvalidArgumentError, match="Did you mean 'pytorch'"):
        target_name("pytorhc")


def test_clamp_note_only_for_zero_size_shapes() -> None:
    # no shape: said once, worded for zero-size shapes only
    t = vs.translate("keras.initializers.HeUniform()", to="torch")
    clamp = [n for n in t.notes if "max(1, n)" in n]
    assert len(clamp) == 1 and clamp[0].startswith("for zero-size shapes only")
    # a real shape: n > 0, the clamp changes nothing, no note
    t = vs.translate("keras.initializers.HeUniform()", to="torch", shape=(3, 3, 64, 128))
    assert not [n for n in t.notes if "max(1, n)" in n]
    # a zero-size shape: the note says what differs
    t = vs.translate("keras.initializers.HeUniform()", to="torch", shape=(3, 3, 0, 128))
    assert [n for n in t.notes if "n = 0 for shape (3, 3, 0, 128)" in n]


def test_shape_in_the_other_layout_is_flagged() -> None:
    t = vs.translate("keras.initializers.HeUniform()", to="torch", shape=(128, 64, 3, 3))
    assert any(n.startswith("check the shape") and "(3, 3, 64, 128)" in n for n in t.notes)
    t = vs.translate("keras.initializers.HeUniform()", to="torch", shape=(3, 3, 64, 128))
    assert not any(n.startswith("check the shape") for n in t.notes)
    t = vs.translate("nn.init.kaiming_uniform_(w)", to="keras", shape=(3, 3, 64, 128))
    assert any(n.startswith("check the shape") and "(128, 64, 3, 3)" in n for n in t.notes)


@pytest.mark.parametrize(
    ("source", "same_as"),
    [
        ("m.weight.data.normal_(0, 0.01)", "nn.init.normal_(w, 0.0, 0.01)"),
        ("m.weight.data.uniform_(-0.1, 0.1)", "nn.init.uniform_(w, -0.1, 0.1)"),
        ("m.bias.data.zero_()", "nn.init.zeros_(w)"),
        ("m.weight.data.fill_(1)", "nn.init.ones_(w)"),
        ("init.constant(m.bias.data, 0.0)", "nn.init.zeros_(w)"),
        ("init.orthogonal(m.weight.data)", "nn.init.orthogonal_(w)"),
        ("init.kaiming_normal(m.weight.data)", "nn.init.kaiming_normal_(w)"),
        ("initializers.glorot_uniform(seed=0)", "keras.initializers.GlorotUniform()"),
        ("TruncatedNormal(0.02)", "mindspore.common.initializer.TruncatedNormal(sigma=0.02)"),
        ("initializer(HeUniform(math.sqrt(5)), self.weight.shape, self.weight.dtype)",
         "mindspore.common.initializer.HeUniform(negative_slope=math.sqrt(5))"),
        ("weight_init='normal'", "mindspore.common.initializer.Normal()"),
        ("nn.Conv2d(3, 64, 3, weight_init='he_uniform')", "mindspore.common.initializer.HeUniform()"),
        ("layers.Dense(10, kernel_initializer='lecun_normal')", "keras.initializers.LecunNormal()"),
        ("nn.Dense(features=10, kernel_init=nn.initializers.zeros_init())", "jax.nn.initializers.zeros"),
        ("slim.xavier_initializer()", "tf.contrib.layers.xavier_initializer()"),
        ("slim.variance_scaling_initializer(factor=2.0, mode='FAN_IN', uniform=False)",
         "tf.contrib.layers.variance_scaling_initializer()"),
        ("init.XavierUniform()", "mindspore.common.initializer.XavierUniform()"),
        ("weight_init=init.HeUniform(math.sqrt(5))", "mindspore.common.initializer.HeUniform(math.sqrt(5))"),
        ("tf.keras.initializers.random_normal(stddev=0.02)", "tf.keras.initializers.RandomNormal(stddev=0.02)"),
        ("keras.initializers.random_uniform(-1, 1)", "keras.initializers.RandomUniform(-1.0, 1.0)"),
        ("trunc_normal_(self.pos_embed, std=.02)", "torch.nn.init.trunc_normal_(w, std=0.02)"),
        ("nn.initializers.orthogonal(jnp.sqrt(2))", "jax.nn.initializers.orthogonal(scale=math.sqrt(2))"),
    ],
)
def test_more_real_code_forms(source: str, same_as: str) -> None:
    """Tensor methods, torch's deprecated names, MindSpore's keyword names, a layer call: the same Spec."""
    got, want = vs.parse(source), vs.parse(same_as)
    keys = ("framework", "family", "scale", "mode", "fixed", "cut", "layout")
    assert {k: getattr(got, k) for k in keys} == {k: getattr(want, k) for k in keys}


@pytest.mark.parametrize("source", ["m.weight.data.normal_(0, 0.01)", "m.weight.data.uniform_(-0.1, 0.1)"])
@pytest.mark.parametrize("target", ["keras", "jax", "mindspore", "tf1"])
def test_tensor_methods_run_and_translate(source: str, target: str) -> None:
    """The Tensor method runs in torch; its translation runs in the target; both sample the same law."""
    torch = pytest.importorskip("torch")
    from translate.test_table import _check_sample, _draw

    spec = vs.parse(source)
    w = torch.empty(100, 200)
    torch.manual_seed(0)
    eval(source.replace("m.weight.data", "w"), {"w": w})
    d = spec.describe((100, 200))
    _check_sample(w.double().numpy().ravel(), d, spec, "torch source")
    tr = vs.translate(spec, target, (100, 200))
    assert tr.verdict == "exact", tr
    _check_sample(_draw(target, tr.code, tr.target_shape, 5).ravel(), d, spec, f"{target}: {tr.code}")


def test_did_you_mean_for_names_in_strings() -> None:
    with pytest.raises(ParseError, match="did you mean 'he_uniform'"):
        vs.parse("kernel_initializer='he_unifrom'")


def test_orthogonal_layout_note_only_across_layouts() -> None:
    same = vs.translate("keras.initializers.Orthogonal()", to="jax")
    across = vs.translate("keras.initializers.Orthogonal()", to="torch")
    assert not any("Haar" in n for n in same.notes) and any("Haar" in n for n in across.notes)


@pytest.mark.parametrize(
    ("source", "same_as"),
    [
        ("normal(std=0.02)", "nn.init.normal_(w, std=0.02)"),
        ("uniform(-0.1, 0.2)", "nn.init.uniform_(w, -0.1, 0.2)"),
        ("trunc_normal(std=0.02)", "nn.init.trunc_normal_(w, std=0.02)"),
        ("constant(0.5)", "nn.init.constant_(w, 0.5)"),
        ("orthogonal(gain=2)", "keras.initializers.Orthogonal(gain=2.0)"),
    ],
)
def test_rule_syntax_reads_as_the_rules_do(source: str, same_as: str) -> None:
    got, want = vs.parse(source), vs.parse(same_as)
    keys = ("family", "fixed", "cut", "mean")
    assert {k: getattr(got, k) for k in keys} == {k: getattr(want, k) for k in keys}


def test_varscale_basic_initializers_translate() -> None:
    assert vs.translate(vs.Normal(mean=1.0, std=0.02), "torch").code == "torch.nn.init.normal_(w, mean=1.0, std=0.02)"
    assert vs.translate(vs.Zeros(), "jax").code == "jax.nn.initializers.zeros"
    assert vs.translate(vs.Uniform(0.0, 1.0), "keras").code == "keras.initializers.RandomUniform(minval=0.0, maxval=1.0)"
    t = vs.translate(vs.Orthogonal(gain=2.0, layout="torch"), "varscale")
    assert t.code == "varscale.Orthogonal(gain=2.0, layout='torch')"


def test_cli_reads_rule_names(capsys: pytest.CaptureFixture[str]) -> None:
    from varscale.cli import main

    assert main(["translate", "zeros", "--to", "torch"]) == 0
    assert capsys.readouterr().out.startswith("torch.nn.init.zeros_(w)\n# verdict: exact")
