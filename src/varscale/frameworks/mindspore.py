"""MindSpore (``mindspore.common.initializer``).

MindSpore draws ``(out, in, *kernel)`` weights and refuses fans of fewer than
2 dimensions. ``XavierUniform``/``HeNormal`` take torch's gains (without
``selu``) and divide by ``n``; its ``VarianceScaling`` divides by
``max(1, n)`` and, asked for ``distribution="truncated_normal"``, draws a
uniform (the ``'truncated_norm'`` typo, 2.0–2.10). Its truncation bounds are
absolute. ``initializer('he_normal', shape)`` and layer keywords
(``weight_init='normal'``) name initializers by string. The drop-in facade is
:mod:`varscale.compat.mindspore.common.initializer`.

Example:
    >>> import varscale as vs
    >>> s = vs.parse("mindspore.common.initializer.VarianceScaling(distribution='truncated_normal')")
    >>> s.framework, s.family, s.mindspore_uniform_bug
    ('mindspore', 'uniform', True)
    >>> vs.parse("nn.Dense(3, 4, weight_init='normal')").fixed
    0.01
"""

from __future__ import annotations

import ast
import math
from collections.abc import Mapping
from dataclasses import replace
from typing import ClassVar

from .._errors import InvalidArgumentError
from .._gain import NONLINEARITIES, calculate_gain
from .._spec import Spec
from ._base import Framework, OtherInit
from ._reading import (
    Call,
    Reader,
    absolute_truncated,
    as_shape,
    choice,
    mean_of,
    positive,
    squared,
    unknown,
    vs_spec,
)
from ._writing import Bounds, Ctx, gain_code, gain_law, num, slope_code, val

__all__ = ["FRAMEWORKS", "GAINS", "MindSpore", "gain"]

_PARAMS = {
    "XavierUniform": ("gain",),
    "XavierNormal": ("gain",),
    "HeUniform": ("negative_slope", "mode", "nonlinearity"),
    "HeNormal": ("negative_slope", "mode", "nonlinearity"),
    "VarianceScaling": ("scale", "mode", "distribution"),
    "TruncatedNormal": ("sigma", "mean", "a", "b"),
    "Normal": ("sigma", "mean"),
    "Uniform": ("scale",),
}
#: The string names ``initializer()`` and the layer keywords accept -> the class.
_NAMES = {
    "xavier_uniform": "XavierUniform", "xavieruniform": "XavierUniform",
    "xavier_normal": "XavierNormal", "xaviernormal": "XavierNormal",
    "he_uniform": "HeUniform", "heuniform": "HeUniform",
    "he_normal": "HeNormal", "henormal": "HeNormal",
    "variancescaling": "VarianceScaling", "truncatednormal": "TruncatedNormal",
    "normal": "Normal", "uniform": "Uniform",
}
_OTHER: dict[str, OtherInit] = {
    "Zero": ("constant", (), None, 0.0),
    "One": ("constant", (), None, 1.0),
    "Constant": ("constant", ("value",), "value", 0.0),
    "Orthogonal": ("orthogonal", ("gain",), "gain", 1.0),
    "Identity": ("identity", (), None, 1.0),
}
_OTHER_NAMES = {"zeros": "Zero", "zero": "Zero", "ones": "One", "one": "One", "orthogonal": "Orthogonal",
                "identity": "Identity", "constant": "Constant"}
#: Layer keywords that take an initializer name (``nn.Dense(weight_init='normal')``).
_NAME_KWARGS = ("weight_init", "gamma_init", "beta_init", "moving_mean_init", "moving_var_init", "embedding_table",
                "bias_init")
_BASE = "mindspore.common.initializer"


#: MindSpore's gain table: torch's ``calculate_gain`` names without ``'selu'`` (the facade's too).
GAINS = tuple(n for n in NONLINEARITIES if n != "selu")


def gain(nonlinearity: str, param: float | None = None) -> float:
    """MindSpore's gain: torch's ``calculate_gain`` table without ``selu`` (:data:`GAINS`).

    Example:
        >>> round(gain("relu"), 6)
        1.414214
    """
    if nonlinearity in NONLINEARITIES and nonlinearity not in GAINS:
        raise InvalidArgumentError(f"MindSpore's gain table has no {nonlinearity!r}")
    return calculate_gain(nonlinearity, param) if nonlinearity == "leaky_relu" else calculate_gain(nonlinearity)


class MindSpore(Framework):
    """MindSpore."""

    name = "mindspore"
    title = "MindSpore"
    module = _BASE
    layout = "torch"
    clamps = False
    needs_rank2 = True
    absolute_bounds = True
    aliases = ("ms", "mindspore.common.initializer")
    prefixes = (("mindspore", "common", "initializer"), ("ms", "common", "initializer"), ("mindspore", "initializer"),
                ("varscale", "compat", "mindspore", "common", "initializer"))
    names = ("XavierUniform", "XavierNormal", "HeUniform", "HeNormal", "VarianceScaling", "TruncatedNormal",
             "Normal", "Uniform", "initializer", *_OTHER)
    other: ClassVar[Mapping[str, OtherInit]] = _OTHER
    unread = frozenset({"Dirac"})
    bare = frozenset({"Zero", "One", "XavierUniform", "XavierNormal", "initializer", "Normal", "Uniform", "HeUniform",
                      "HeNormal", "VarianceScaling", "TruncatedNormal"})
    guess_order = 20
    facade = "varscale.compat.mindspore.common.initializer"

    def claims_module(self, head: tuple[str, ...], func: str, kw: frozenset[str] = frozenset()) -> bool:
        # `import mindspore.common.initializer as init`: torch.nn.init has no classes
        return head in (("init",), ("weight_init",)) and func[:1].isupper()

    def owns_bare(self, func: str, kw: set[str], node: ast.Call) -> bool:
        if func in ("Zero", "One", "XavierUniform", "XavierNormal", "initializer", "Normal", "Uniform"):
            return True
        if func in ("HeUniform", "HeNormal"):
            return bool(kw & {"negative_slope", "mode", "nonlinearity"}) or bool(node.args)
        if func == "VarianceScaling":
            dist = [k.value for k in node.keywords if k.arg == "distribution"]
            return bool(dist) and isinstance(dist[0], ast.Constant) and dist[0].value == "untruncated_norm"
        if func == "TruncatedNormal":
            return bool(kw & {"sigma", "a", "b"}) or bool(node.args)
        return False

    def name_call(self, keyword: str) -> str | None:
        return "initializer" if keyword in _NAME_KWARGS else None

    # -- shapes ----------------------------------------------------------------------
    def rank_refusal(self, spec: Spec, rank: int) -> str | None:
        return ("ValueError(\"'fan_in' and 'fan_out' can not be computed for tensor with fewer than 2 "
                f'dimensions, but got dimensions {rank}.")')

    # -- reading ---------------------------------------------------------------------
    def params(self, func: str) -> tuple[str, ...]:
        return _PARAMS[func]

    def read_call(self, r: Reader, node: ast.Call, func: str) -> Spec:
        if func == "initializer":
            return self._initializer(r, node)
        if func not in _PARAMS:
            raise unknown(r, func, "mindspore", "MindSpore", node.func)
        return self.read(Call(r, node, func, _PARAMS[func]), func)

    def _initializer(self, r: Reader, node: ast.Call) -> Spec:
        """``initializer(init, shape, dtype)``: a name, a class or an instance, and the shape it carries."""
        from .._parse import read_node

        c = Call(r, node, "initializer", ("init", "shape", "dtype"))
        if not c.has("init"):
            raise r.fail("initializer() needs `init`", node)
        init = c.nodes["init"]
        if isinstance(init, ast.Constant) and isinstance(init.value, str):
            spec = replace(self.from_name(r, init.value, init), call=f"initializer({init.value!r})")
        elif isinstance(init, ast.Call) and isinstance(init.func, ast.Name) and init.func.id in _PARAMS:
            name = init.func.id  # a bare name inside initializer() is MindSpore's
            spec = self.read(Call(r, init, name, _PARAMS[name]), name)
        else:
            spec = read_node(r, init)
            if spec.framework != "mindspore":
                raise r.fail("initializer() takes a MindSpore initializer", init)
        shape = None
        if c.has("shape"):
            shape_node = c.nodes["shape"]
            if isinstance(shape_node, (ast.Attribute, ast.Name)) and not (isinstance(shape_node, ast.Name)
                                                                           and shape_node.id == "None"):
                v = None  # `self.weight.shape`, `shape`: known only when the code runs
            else:
                v = c.get("shape")
            shape = None if v is None else as_shape(r, v, shape_node)
            if shape is not None and 0 in shape:
                raise c.bad("shape", f"MindSpore's initializer() needs positive dimensions; received {shape}")
        return replace(spec, shape=shape)

    def from_name(self, r: Reader, name: str, node: ast.AST) -> Spec:
        if name.lower() in _OTHER_NAMES:
            cls = _OTHER_NAMES[name.lower()]
            call = ast.Call(func=ast.Name(id=cls, col_offset=0), args=[], keywords=[], col_offset=0)
            got = self.read_other(r, call, cls)
            assert got is not None
            return replace(got, call=name)
        found = _NAMES.get(name.lower())
        if found is None:
            raise r.fail(f"MindSpore has no initializer named {name!r}; known: {', '.join(sorted(_NAMES))}", node)
        call = ast.Call(func=ast.Name(id=found, col_offset=0), args=[], keywords=[])
        return self.read(Call(r, call, found, ()), found)

    def read(self, c: Call, func: str) -> Spec:
        if func in ("XavierUniform", "XavierNormal"):
            g = c.num("gain", 1.0)
            if not g > 0:
                raise c.bad("gain", f"must be positive; received gain={g!r}")
            dist = "uniform" if func == "XavierUniform" else "untruncated_normal"
            return Spec("mindspore", dist, squared(g), "fan_avg", clamp=False, layout="torch", call=func)
        if func in ("HeUniform", "HeNormal"):
            a = c.num("negative_slope", 0.0)
            mode = choice(c, "mode", c.text("mode", "fan_in").lower(), ("fan_in", "fan_out"))
            nl = c.text("nonlinearity", "leaky_relu")
            try:
                g = gain(nl, a)
            except (InvalidArgumentError, ValueError, TypeError) as err:
                raise c.bad("nonlinearity", str(err)) from None
            dist = "uniform" if func == "HeUniform" else "untruncated_normal"
            return Spec("mindspore", dist, squared(g), mode, clamp=False, layout="torch", call=func)
        if func == "VarianceScaling":
            scale = c.num("scale", 1.0)
            mode = choice(c, "mode", c.text("mode", "fan_in"), ("fan_in", "fan_out", "fan_avg"))
            dist = choice(c, "distribution", c.text("distribution", "truncated_normal"),
                          ("uniform", "truncated_normal", "untruncated_normal"))
            if dist == "truncated_normal":
                spec = vs_spec("mindspore", scale, mode, "uniform", func, layout="torch")
                return replace(spec, mindspore_uniform_bug=True)
            return vs_spec("mindspore", scale, mode, dist, func, layout="torch")
        if func == "TruncatedNormal":
            return absolute_truncated(c, "mindspore", func, "sigma", 0.01)
        if func == "Normal":
            return Spec("mindspore", "untruncated_normal", None, None, fixed=positive(c, "sigma", 0.01),
                        layout="torch", mean=mean_of(c, "mean"), call=func)
        if func == "Uniform":
            return Spec("mindspore", "uniform", None, None, fixed=positive(c, "scale", 0.07), layout="torch",
                        call=func)
        raise unknown(c.r, func, "mindspore", "MindSpore", c.node.func)

    # -- writing ---------------------------------------------------------------------
    def fan_code(self, ctx: Ctx) -> tuple[str, str] | None:
        law = gain_law(ctx)
        if law is None:
            return None
        g2, uniform, mode = law
        cls = "Uniform" if uniform else "Normal"
        if ctx.spec.mode == "fan_avg":
            g = "" if abs(g2 - 1) < 1e-14 else f"gain={gain_code(g2)}"
            return f"{_BASE}.Xavier{cls}({g})", "exact"
        if abs(g2 - 2) < 1e-14 and not mode:
            return f"{_BASE}.He{cls}()", "exact"
        if abs(g2 - 1) < 1e-14:
            return f"{_BASE}.He{cls}(nonlinearity='linear'{mode})", "exact"
        if g2 < 2:
            return f"{_BASE}.He{cls}(negative_slope={slope_code(g2)}{mode})", "exact"
        dist = "uniform" if uniform else "untruncated_normal"
        return f"{_BASE}.VarianceScaling(scale={num(g2)}, mode={ctx.spec.mode!r}, distribution={dist!r})", "exact"

    def fixed_code(self, ctx: Ctx, family: str, p: float, k: float) -> tuple[str, str]:
        b = Bounds(p, k)
        if family == "uniform":
            return f"{_BASE}.Uniform(scale={num(p)})", "exact"
        if family == "untruncated_normal":
            return f"{_BASE}.Normal(sigma={num(p)}, mean=0.0)", "exact"
        return f"{_BASE}.TruncatedNormal(sigma={num(p)}, mean=0.0, a={b.mlo}, b={b.mhi})", "exact"

    def fixed_mean_code(self, ctx: Ctx, family: str, p: float, k: float, m: float) -> tuple[str, str]:
        b = Bounds(p, k, m)
        if family == "untruncated_normal":
            return f"{_BASE}.Normal(sigma={num(p)}, mean={b.mean})", "exact"
        if family == "truncated_normal":
            return f"{_BASE}.TruncatedNormal(sigma={num(p)}, mean={b.mean}, a={b.mlo}, b={b.mhi})", "exact"
        ctx.notes.append(f"impossible: MindSpore's Uniform(scale) is symmetric about 0; closest: a normal with the "
                         f"same mean {m:.6g} and the same std {p / math.sqrt(3):.6g}: std error +0.000 %, unbounded "
                         f"instead of [{m - p:.6g}, {m + p:.6g}]")
        return f"{_BASE}.Normal(sigma={num(p / math.sqrt(3))}, mean={b.mean})", "impossible"

    def constant_forms(self) -> tuple[str, str, str]:
        return (f"{_BASE}.Zero()", f"{_BASE}.One()", f"{_BASE}.Constant({{v}})")

    def orthogonal_code(self, ctx: Ctx, g: str) -> str:
        if ctx.shape is not None and len(ctx.shape) < 2:
            ctx.notes.append("MindSpore's Orthogonal needs at least 2 dimensions")
        return f"{_BASE}.Orthogonal(gain={g})"

    def identity_code(self, ctx: Ctx, v: float, g: str) -> tuple[str, str]:
        if v == 1.0:
            return f"{_BASE}.Identity()", "exact"
        ctx.notes.append(f"impossible: MindSpore's Identity() has no gain; closest: Identity() (values {val(v)}× "
                         f"smaller than the source's; scale the parameter by {val(v)} after initialization)")
        return f"{_BASE}.Identity()", "impossible"

    def snippet_call(self, family: str, k: str) -> str | None:
        if family == "uniform":
            return f"{_BASE}.Uniform(scale=bound)"
        if family == "untruncated_normal":
            return f"{_BASE}.Normal(sigma=std, mean=0.0)"
        return f"{_BASE}.TruncatedNormal(sigma=std, mean=0.0, a=-{k} * std, b={k} * std)"

    def snippet_alternative(self, vs_code: str) -> str:
        return f"mindspore.Tensor({vs_code}(tuple(shape)))"

    def clamps_code(self, code: str) -> bool:
        return ".VarianceScaling(" in code  # its VarianceScaling divides by max(1, n); the others by n

    def contrib_how(self, ctx: Ctx) -> str:
        return "; reproduced exactly with absolute bounds computed from the weight's fans"

    def notes(self, ctx: Ctx) -> None:
        if ctx.spec.family == "truncated_normal":
            ctx.notes.append("not MindSpore's VarianceScaling(distribution='truncated_normal'): it draws a uniform "
                             "(the 'truncated_norm' typo, 2.0–2.10); TruncatedNormal with absolute bounds is the "
                             "real one")
        super().notes(ctx)


FRAMEWORKS = (MindSpore(),)
