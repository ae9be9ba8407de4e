"""PyTorch (``torch.nn.init``) and torch's tensor methods (``w.data.normal_(0, 0.01)``).

torch draws ``(out, in, *kernel)`` weights, divides by ``n`` without
``max(1, n)``, refuses fans of a tensor with fewer than 2 dimensions, leaves a
zero-element tensor unchanged, writes its gains with ``calculate_gain`` and
its truncation bounds as absolute values. Its fan-based laws are untruncated
(``kaiming_normal_`` is a plain normal): a fan-based truncated normal is
written as a snippet computing the fans from the weight ``w``. The drop-in
facade is :mod:`varscale.compat.torch.nn.init`.

Example:
    >>> import varscale as vs
    >>> s = vs.parse("nn.init.kaiming_normal_(torch.empty(64, 3, 3, 3), mode='fan_out')")
    >>> s.family, s.mode, s.shape
    ('untruncated_normal', 'fan_out', (64, 3, 3, 3))
    >>> vs.translate("he_normal", to="torch", shape=(3, 3), numbers=True).verdict
    'exact_for_shape'
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from dataclasses import replace
from typing import Any, ClassVar

from .._errors import InvalidArgumentError
from .._gain import calculate_gain
from .._spec import Spec
from ._base import Framework, OtherInit
from ._reading import (
    Call,
    Reader,
    absolute_truncated,
    as_shape,
    centred_uniform,
    choice,
    mean_of,
    positive,
    squared,
    unknown,
)
from ._writing import Bounds, Ctx, gain_code, gain_law, num, slope_code, val

__all__ = ["FRAMEWORKS", "Torch", "tensor_shape"]

_PARAMS = {
    "xavier_uniform_": ("tensor", "gain", "generator"),
    "xavier_normal_": ("tensor", "gain", "generator"),
    "kaiming_uniform_": ("tensor", "a", "mode", "nonlinearity", "generator"),
    "kaiming_normal_": ("tensor", "a", "mode", "nonlinearity", "generator"),
    "trunc_normal_": ("tensor", "mean", "std", "a", "b", "generator"),
    "normal_": ("tensor", "mean", "std", "generator"),
    "uniform_": ("tensor", "a", "b", "generator"),
}
_OTHER: dict[str, OtherInit] = {
    "zeros_": ("constant", ("tensor",), None, 0.0),
    "ones_": ("constant", ("tensor",), None, 1.0),
    "constant_": ("constant", ("tensor", "val"), "val", 0.0),
    "orthogonal_": ("orthogonal", ("tensor", "gain", "generator"), "gain", 1.0),
    "eye_": ("identity", ("tensor",), None, 1.0),
}
_ALL = frozenset({*_PARAMS, *_OTHER})
#: The words users type for torch's functions (``kaiming_normal``): torch's law, not JAX's.
_TYPED = frozenset({"kaiming_normal", "kaiming_uniform", "xavier_normal", "xavier_uniform"})
_METHODS = {"normal_": ("mean", "std", "generator"), "uniform_": ("from", "to", "generator"), "zero_": (),
            "fill_": ("value",)}
_TENSOR_FACTORIES = (("torch", "empty"), ("torch", "zeros"), ("torch", "ones"), ("torch", "randn"),
                     ("np", "empty"), ("np", "zeros"), ("numpy", "empty"), ("numpy", "zeros"))


def tensor_shape(r: Reader, node: ast.AST) -> tuple[int, ...] | None:
    """The tensor argument: a name (``w``, ``self.fc.weight``: no shape) or ``torch.empty(dims)`` (its shape)."""
    if isinstance(node, ast.Call):
        parts = r.dotted(node.func)
        if parts in _TENSOR_FACTORIES:
            dims: list[Any] = []
            for a in node.args:
                v = r.value(a, "shape")
                dims.extend(v if isinstance(v, list) else [v])
            return as_shape(r, dims, node)
        raise r.fail("the tensor must be a name like `w` or torch.empty(...)", node)
    parts = r.dotted(node)
    if len(parts) > 5:
        raise r.fail("the tensor name is too long", node)
    return None


def _gain(c: Call, nl: str, a: float) -> float:
    try:
        return calculate_gain(nl, a) if nl == "leaky_relu" else calculate_gain(nl)
    except (InvalidArgumentError, ValueError, TypeError) as err:
        raise c.bad("nonlinearity", str(err)) from None


class Torch(Framework):
    """PyTorch."""

    name = "torch"
    title = "torch.nn.init"
    module = "torch.nn.init"
    layout = "torch"
    clamps = False
    needs_rank2 = True
    absolute_bounds = True
    aliases = ("pytorch", "pt", "torch.nn.init")
    prefixes = (("torch", "nn", "init"), ("nn", "init"), ("init",), ("varscale", "compat", "torch", "nn", "init"))
    names = ("xavier_uniform_", "xavier_normal_", "kaiming_uniform_", "kaiming_normal_", "trunc_normal_",
             "normal_", "uniform_", *_OTHER)
    other: ClassVar[Mapping[str, OtherInit]] = _OTHER
    unread = frozenset({"dirac_", "sparse_"})
    bare = _ALL
    passed_uncalled = False
    guess_order = 10
    methods: ClassVar[Mapping[str, tuple[str, ...]]] = _METHODS
    facade = "varscale.compat.torch.nn.init"
    snippet_shape = "w.shape"

    def owns_bare(self, func: str, kw: set[str], node: ast.Call) -> bool:
        # xavier_uniform(w) is torch's deprecated alias; xavier_uniform() is JAX's
        return func in _ALL or (func in _TYPED and bool(node.args))

    def canonical(self, func: str) -> str:
        if not func.endswith("_") and func + "_" in _ALL:
            return func + "_"  # deprecated non-underscore aliases (init.constant, init.orthogonal, init.normal)
        return func

    def typed(self, text: str) -> str | None:
        word = text.rstrip("_")
        return f"torch.nn.init.{word}_(w)" if word in _TYPED else None

    # -- shapes ----------------------------------------------------------------------
    def rank_refusal(self, spec: Spec, rank: int) -> str | None:
        return 'ValueError("Fan in and fan out can not be computed for tensor with fewer than 2 dimensions")'

    def check_shape(self, spec: Spec, dims: tuple[int, ...], *, drawing: bool = False, noop: bool = False) -> None:
        noop = spec.call.startswith("kaiming_") and 0 in dims  # kaiming_* leaves a zero-element tensor unchanged
        if noop and drawing:
            return
        if noop and len(dims) < 2:
            who = f"{spec.framework}'s {spec.call}" + ("()" if spec.call.isidentifier() else "")
            raise InvalidArgumentError(
                f"`shape` {dims!r} has no elements, and {who} leaves a zero-element tensor unchanged "
                f"(UserWarning: Initializing zero-element tensors is a no-op) without computing fans: there is no "
                f"law to describe; received shape={dims!r}."
            )
        super().check_shape(spec, dims, drawing=drawing, noop=noop)

    # -- reading ---------------------------------------------------------------------
    def params(self, func: str) -> tuple[str, ...]:
        return _PARAMS[func]

    def read_call(self, r: Reader, node: ast.Call, func: str) -> Spec:
        if func not in _PARAMS:
            raise unknown(r, func, "torch", "torch.nn.init", node.func)
        c = Call(r, node, func, _PARAMS[func])
        if not c.has("tensor"):
            raise r.fail(f"{func}() needs the tensor to fill, e.g. {func}(w)", node)
        return replace(self.read(c, func), shape=tensor_shape(r, c.nodes["tensor"]))

    def read(self, c: Call, func: str) -> Spec:
        nl = c.text("nonlinearity", "leaky_relu")
        if func in ("xavier_uniform_", "xavier_normal_"):
            g = c.num("gain", 1.0)
            if not g > 0:
                raise c.bad("gain", f"must be positive; received gain={g!r}")
            dist = "uniform" if func == "xavier_uniform_" else "untruncated_normal"
            return Spec("torch", dist, squared(g), "fan_avg", clamp=False, layout="torch", call=func)
        if func in ("kaiming_uniform_", "kaiming_normal_"):
            a = c.num("a", 0.0)
            mode = c.text("mode", "fan_in").lower()
            choice(c, "mode", mode, ("fan_in", "fan_out"))
            g = _gain(c, nl, a)
            dist = "uniform" if func == "kaiming_uniform_" else "untruncated_normal"
            return Spec("torch", dist, squared(g), mode, clamp=False, layout="torch", call=func)
        if func == "trunc_normal_":
            return absolute_truncated(c, "torch", func, "std", 1.0)
        if func == "normal_":
            return Spec("torch", "untruncated_normal", None, None, fixed=positive(c, "std", 1.0), layout="torch",
                        mean=mean_of(c, "mean"), call=func)
        if func == "uniform_":
            return centred_uniform(c, "torch", func, c.num("a", 0.0), c.num("b", 1.0), "a", layout="torch")
        raise unknown(c.r, func, "torch", "torch.nn.init", c.node.func)

    def check_other(self, c: Call, func: str) -> None:
        if not c.has("tensor"):
            raise c.r.fail(f"{func}() needs the tensor to fill, e.g. {func}(w)", c.node)

    def other_shape(self, c: Call) -> tuple[int, ...] | None:
        return tensor_shape(c.r, c.nodes["tensor"])

    def read_method(self, r: Reader, node: ast.Call, func: str) -> Spec:
        """``m.weight.data.normal_(0, 0.01)``, ``.uniform_(a, b)``, ``.zero_()``, ``.fill_(v)``."""
        c = Call(r, node, func, _METHODS[func])
        tensor = node.func.value if isinstance(node.func, ast.Attribute) else node.func
        shape = tensor_shape(r, tensor) if isinstance(tensor, ast.Call) else None
        if func == "zero_":
            return Spec("torch", "constant", None, None, fixed=0.0, layout="torch", shape=shape, call=func)
        if func == "fill_":
            if not c.has("value"):
                raise r.fail("fill_() needs the value", node)
            return Spec("torch", "constant", None, None, fixed=c.num("value", 0.0), layout="torch", shape=shape,
                        call=func)
        if func == "normal_":
            return Spec("torch", "untruncated_normal", None, None, fixed=positive(c, "std", 1.0), layout="torch",
                        shape=shape, mean=mean_of(c, "mean"), call=func)
        return replace(centred_uniform(c, "torch", func, c.num("from", 0.0), c.num("to", 1.0), "from",
                                       layout="torch"), shape=shape)

    # -- writing ---------------------------------------------------------------------
    def fan_code(self, ctx: Ctx) -> tuple[str, str] | None:
        law = gain_law(ctx)
        if law is None:
            return None
        g2, uniform, mode = law
        kind = "uniform" if uniform else "normal"
        if ctx.spec.mode == "fan_avg":
            gain = "" if abs(g2 - 1) < 1e-14 else f", gain={gain_code(g2)}"
            return f"torch.nn.init.xavier_{kind}_(w{gain})", "exact"
        if abs(g2 - 1) < 1e-14:
            return f"torch.nn.init.kaiming_{kind}_(w{mode}, nonlinearity='linear')", "exact"
        if abs(g2 - 2) < 1e-14:
            return f"torch.nn.init.kaiming_{kind}_(w{mode}, nonlinearity='relu')", "exact"
        if g2 < 2:
            return f"torch.nn.init.kaiming_{kind}_(w, a={slope_code(g2)}{mode})", "exact"
        return None

    def fixed_code(self, ctx: Ctx, family: str, p: float, k: float) -> tuple[str, str]:
        return write_torch_fixed("torch.nn.init", family, p, Bounds(p, k))

    def fixed_mean_code(self, ctx: Ctx, family: str, p: float, k: float, m: float) -> tuple[str, str]:
        return write_torch_fixed("torch.nn.init", family, p, Bounds(p, k, m))

    def constant_forms(self) -> tuple[str, str, str]:
        return ("torch.nn.init.zeros_(w)", "torch.nn.init.ones_(w)", "torch.nn.init.constant_(w, {v})")

    def orthogonal_code(self, ctx: Ctx, g: str) -> str:
        return f"torch.nn.init.orthogonal_(w, gain={g})"

    def identity_code(self, ctx: Ctx, v: float, g: str) -> tuple[str, str]:
        return ("torch.nn.init.eye_(w)" if v == 1.0 else f"torch.nn.init.eye_(w).mul_({val(v)})"), "exact"

    def snippet_call(self, family: str, k: str) -> str | None:
        if family == "uniform":
            return "torch.nn.init.uniform_(w, a=-bound, b=bound)"
        if family == "untruncated_normal":
            return "torch.nn.init.normal_(w, mean=0.0, std=std)"
        return f"torch.nn.init.trunc_normal_(w, mean=0.0, std=std, a=-{k} * std, b={k} * std)"

    def snippet_alternative(self, vs_code: str) -> str:
        return f"w.copy_(torch.from_numpy({vs_code}(tuple(w.shape))))"

    def contrib_how(self, ctx: Ctx) -> str:
        return "; reproduced exactly with absolute bounds computed from the weight's fans"


def write_torch_fixed(base: str, family: str, p: float, b: Bounds) -> tuple[str, str]:
    """A fixed law with torch's ``uniform_``/``normal_``/``trunc_normal_`` from the module ``base``."""
    if family == "uniform":
        return f"{base}.uniform_(w, a={b.lo}, b={b.hi})", "exact"
    if family == "untruncated_normal":
        return f"{base}.normal_(w, mean={b.mean}, std={num(p)})", "exact"
    return f"{base}.trunc_normal_(w, mean={b.mean}, std={num(p)}, a={b.mlo}, b={b.mhi})", "exact"


FRAMEWORKS = (Torch(),)
