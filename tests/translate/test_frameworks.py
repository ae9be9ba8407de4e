"""The framework registry (issue 13): one module per framework, parse and translate as loops over it.

The proof that adding a framework touches only its own module and a registry
line: a toy framework, defined here as one module and registered the way
``varscale/frameworks/__init__.py`` registers the real ones, is read by
:func:`varscale.parse` and written by :func:`varscale.translate` with no other
change.
"""

from __future__ import annotations

import importlib
import math
import sys
import types
from collections.abc import Iterator

import pytest

import varscale as vs
from varscale import frameworks
from varscale._translate import TARGET_ALIASES, TARGETS


def test_registry_order_and_targets() -> None:
    assert frameworks.names() == ("keras", "tf.keras", "tf1", "tf_contrib", "torch", "jax", "mindspore", "varscale")
    assert TARGETS == frameworks.names()
    assert TARGET_ALIASES["pytorch"] == "torch" and TARGET_ALIASES["flax"] == "jax"
    for fw in frameworks.all_frameworks():
        assert fw.facade.startswith("varscale"), fw
        importlib.import_module(fw.facade)  # every framework names a facade that exists


def test_every_alias_belongs_to_one_framework() -> None:
    seen: dict[str, str] = {}
    for fw in frameworks.all_frameworks():
        for alias in fw.aliases:
            assert alias not in seen, f"{alias!r} is an alias of {seen.get(alias)} and {fw.name}"
            seen[alias] = fw.name
    assert not set(seen) & set(frameworks.names())


def test_unknown_framework_is_refused_with_a_hint() -> None:
    with pytest.raises(vs.UnknownNameError, match="Did you mean 'torch'"):
        frameworks.get("toch")
    with pytest.raises(vs.UnknownNameError, match="received to='pytroch'"):
        frameworks.target("pytroch")


# ---------------------------------------------------------------------------
# A toy framework: one module, one registry line
# ---------------------------------------------------------------------------

TOY = '''
"""Toy: ``toy.init.scaled(w, gain)`` is N(0, gain²/fan_in) on (out, in) weights; ``toy.init.normal(w, std)``."""

from varscale._spec import Spec
from varscale.frameworks._base import Framework
from varscale.frameworks._reading import Call, positive, squared
from varscale.frameworks._writing import Ctx, gain_code, num


class Toy(Framework):
    name = "toyfw"
    title = "toy.init"
    module = "toy.init"
    layout = "torch"
    clamps = False
    aliases = ("toy",)
    prefixes = (("toy", "init"),)
    names = ("scaled", "normal")
    facade = "varscale"

    def params(self, func):
        return {"scaled": ("w", "gain"), "normal": ("w", "std")}.get(func, ("w",))

    def read(self, c: Call, func: str) -> Spec:
        if func == "scaled":
            return Spec("toyfw", "untruncated_normal", squared(positive(c, "gain", 1.0)), "fan_in", clamp=False,
                        layout="torch", call=func)
        if func == "normal":
            return Spec("toyfw", "untruncated_normal", None, None, fixed=positive(c, "std", 1.0), layout="torch",
                        call=func)
        return super().read(c, func)

    def fan_code(self, ctx: Ctx):
        s = ctx.spec
        if s.family != "untruncated_normal" or s.mode != "fan_in":
            return None
        return f"toy.init.scaled(w, gain={gain_code(s.scale_value)})", "exact"

    def fixed_code(self, ctx: Ctx, family, p, k):
        if family != "untruncated_normal":
            ctx.notes.append("impossible: toy has only normals")
        return f"toy.init.normal(w, std={num(p)})", "exact" if family == "untruncated_normal" else "impossible"


FRAMEWORKS = (Toy(),)
'''


@pytest.fixture
def toy(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    module = types.ModuleType("varscale.frameworks.toy")
    exec(compile(TOY, "<toy>", "exec"), module.__dict__)  # the framework's own module
    monkeypatch.setitem(sys.modules, "varscale.frameworks.toy", module)
    monkeypatch.setattr(frameworks, "_MODULES", (*frameworks._MODULES, "toy"))  # its registry line
    monkeypatch.setattr(frameworks, "_REGISTRY", {})
    yield
    frameworks._REGISTRY.clear()  # the real registry loads again without it


def test_a_new_framework_is_one_module_and_one_registry_line(toy: None) -> None:
    assert "toyfw" in frameworks.names()
    s = vs.parse("toy.init.scaled(w, gain=2.0)")
    assert (s.framework, s.family, s.scale, s.mode, s.layout) == ("toyfw", "untruncated_normal", 4.0, "fan_in",
                                                                   "torch")
    # read by every other framework's writer...
    assert vs.translate(s, to="keras").code == ("keras.initializers.VarianceScaling(scale=4.0, mode='fan_in', "
                                               "distribution='untruncated_normal')")
    # gain² = 4 > 2: no kaiming slope gives it, so torch gets the snippet computing the fans (no max(1, n), as toy)
    assert vs.translate(s, to="torch").code.splitlines()[1:] == [
        "n = fan_in", "std = math.sqrt(4.0 / n)", "torch.nn.init.normal_(w, mean=0.0, std=std)"]
    # ...and written for any source, by name or alias
    t = vs.translate("nn.init.kaiming_normal_(w, nonlinearity='relu')", to="toy")
    assert (t.target, t.code, t.verdict) == ("toyfw", "toy.init.scaled(w, gain=math.sqrt(2.0))", "exact")
    d_src = vs.parse("nn.init.kaiming_normal_(w, nonlinearity='relu')").describe((128, 64))
    d_toy = vs.parse(t.code).describe((128, 64))
    assert math.isclose(d_src["std"], d_toy["std"], rel_tol=1e-15)
    fixed = vs.translate("keras.initializers.RandomNormal(stddev=0.02)", to="toyfw")
    assert fixed.code == "toy.init.normal(w, std=0.02)"
    impossible = vs.translate("keras.initializers.RandomUniform(-0.1, 0.1)", to="toyfw")
    assert impossible.verdict == "impossible" and "impossible: toy has only normals" in impossible.notes


def test_the_toy_is_gone_after(toy: None) -> None:
    assert "toyfw" in frameworks.names()


def test_registry_is_restored() -> None:
    assert "toyfw" not in frameworks.names()
    with pytest.raises(vs.ParseError, match="not a known framework module"):
        vs.parse("toy.init.scaled(w)")
