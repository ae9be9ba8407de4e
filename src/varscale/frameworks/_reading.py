"""The reading kit every framework's reader uses: a safe AST reader and a call's bound arguments.

Nothing is evaluated: :class:`Reader` accepts literals, arithmetic, ``sqrt``,
``math.pi`` and torch's ``calculate_gain``, and refuses everything else with a
:class:`ParseError` that points at the offending column. :class:`Call` binds
one call's arguments to a framework's parameter names. The helpers build the
:class:`~varscale.Spec` of the laws several frameworks share.

Example:
    >>> import ast
    >>> r = Reader("f(2 * 3, mode='fan_in')")
    >>> c = Call(r, ast.parse(r.source, mode="eval").body, "f", ("scale", "mode"))
    >>> c.num("scale", 1.0), c.text("mode", "fan_avg"), c.flag("uniform", True)
    (6.0, 'fan_in', True)
"""

from __future__ import annotations

import ast
import difflib
import math
from dataclasses import dataclass
from typing import Any

from .._errors import InvalidArgumentError
from .._fans import Layout
from .._gain import calculate_gain
from .._math import TRUNC_STD_2
from .._spec import Spec

__all__ = [
    "PRESETS",
    "SNAKE",
    "Call",
    "DType",
    "Name",
    "ParseError",
    "Reader",
    "absolute_truncated",
    "as_float",
    "as_shape",
    "centred_uniform",
    "choice",
    "clean_cut",
    "mean_of",
    "positive",
    "squared",
    "unknown",
    "vs_spec",
]


class ParseError(InvalidArgumentError):
    """An initializer expression that :func:`parse` cannot read.

    Attributes:
        source: the text given.
        column: 1-based column of the offending part (0 if it is the whole text).
        snippet: the offending part.
    """

    def __init__(self, reason: str, source: str, column: int = 0, snippet: str = "") -> None:
        self.source, self.column, self.snippet, self.reason = source, column, snippet, reason
        shown = source if len(source) <= 120 else source[:117] + "..."
        where = f" at column {column} ({snippet!r})" if column else ""
        caret = ""
        if column and column <= len(shown):
            caret = "\n  " + " " * (column - 1) + "^"
        super().__init__(f"cannot parse `source`: {reason}{where}; received source={shown!r}" +
                         (f"\n  {shown}{caret}" if caret else ""))



#: The six presets: name -> (scale, mode, distribution), as varscale's own classes define them.
PRESETS: dict[str, tuple[float, str, str]] = {}
#: Snake-case names of the presets (Keras' functions, JAX's, torch's words) -> the class name.
SNAKE = {
    "glorot_uniform": "GlorotUniform",
    "glorot_normal": "GlorotNormal",
    "xavier_uniform": "GlorotUniform",
    "xavier_normal": "GlorotNormal",
    "lecun_uniform": "LecunUniform",
    "lecun_normal": "LecunNormal",
    "he_uniform": "HeUniform",
    "he_normal": "HeNormal",
    "kaiming_uniform": "HeUniform",
    "kaiming_normal": "HeNormal",
}


def _presets() -> None:
    from .._presets import PRESETS as classes

    for cls in classes.values():
        init = cls()
        PRESETS[cls.__name__] = (float(init.scale), str(init.mode), str(init.distribution))


_presets()

_DTYPE_NAMES = {
    "float16", "float32", "float64", "bfloat16", "half", "float", "double", "float_", "complex64", "complex128",
}
_FRAMEWORK_ROOTS = {
    "tf", "torch", "jnp", "np", "numpy", "jax", "mstype", "mindspore", "ms", "dtypes", "keras", "math", "nn",
}
_NUMBER_FUNCS = {"sqrt", "math.sqrt", "np.sqrt", "numpy.sqrt", "jnp.sqrt", "float"}
_NUMBER_CONSTS = {"math.pi": math.pi, "math.e": math.e, "np.pi": math.pi, "numpy.pi": math.pi}


def _gain_modules() -> set[tuple[str, ...]]:
    """Where ``calculate_gain`` may be called from in an expression: torch's own module paths, or bare."""
    from . import get

    return {(), *get("torch").prefixes}


class Reader:
    """Reads literal values out of one expression's AST; every refusal is a :class:`ParseError`.

    ``legacy`` is true for TF ≤ 1.9 sources (``parse(..., tf_version="1.9")``).
    """

    def __init__(self, source: str, legacy: bool = False) -> None:
        self.source, self.legacy = source, legacy

    def fail(self, reason: str, node: ast.AST | None = None) -> ParseError:
        if node is None or not hasattr(node, "col_offset"):
            return ParseError(reason, self.source)
        seg = ast.get_source_segment(self.source, node) or ""
        if len(seg) > 60:
            seg = seg[:57] + "..."
        return ParseError(reason, self.source, node.col_offset + 1, seg)

    # dotted names --------------------------------------------------------
    def dotted(self, node: ast.AST) -> tuple[str, ...]:
        parts: list[str] = []
        while isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        if not isinstance(node, ast.Name):
            raise self.fail("only framework names like `keras.initializers.HeNormal` can be called", node)
        parts.append(node.id)
        parts.reverse()
        for p in parts:
            if p.startswith("__"):
                raise self.fail(f"the name {p!r} is not allowed", node)
        return tuple(parts)

    # values ----------------------------------------------------------------
    def value(self, node: ast.AST, what: str) -> Any:
        """A literal: number (with + - * / ** and sqrt), str, bool, None, list/tuple of them."""
        if isinstance(node, ast.Constant):
            if isinstance(node.value, (int, float, str, bool)) or node.value is None:
                if isinstance(node.value, float) and not math.isfinite(node.value):
                    raise self.fail(f"`{what}` must be finite", node)
                return node.value
            raise self.fail(f"`{what}` must be a number, a string, True, False or None", node)
        if isinstance(node, (ast.List, ast.Tuple)):
            return [self.value(e, what) for e in node.elts]
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            operand = node.operand
            if isinstance(operand, ast.Constant) and type(operand.value) is int:
                return -operand.value if isinstance(node.op, ast.USub) else operand.value
            v = self.number(operand, what)
            return -v if isinstance(node.op, ast.USub) else v
        if isinstance(node, ast.BinOp):
            return self.number(node, what)
        if isinstance(node, ast.Call):
            name = ".".join(self.dotted(node.func))
            if name in _NUMBER_FUNCS or name.split(".")[-1] == "calculate_gain":
                return self.number(node, what)
            raise self.fail(f"`{what}` must be a literal value, not a call of {name}", node)
        if isinstance(node, (ast.Attribute, ast.Name)):
            parts = self.dotted(node)
            name = ".".join(parts)
            if name in _NUMBER_CONSTS:
                return _NUMBER_CONSTS[name]
            if parts[-1] in _DTYPE_NAMES and (len(parts) == 1 or parts[0] in _FRAMEWORK_ROOTS):
                return DType(parts[-1])
            if len(parts) == 1:
                return Name(parts[0])
            raise self.fail(f"`{what}` must be a literal value; the name {name!r} is not one", node)
        raise self.fail(f"`{what}` must be a literal value; {type(node).__name__.lower()} expressions are not allowed",
                        node)

    def gain(self, node: ast.Call, what: str) -> float:
        """``torch.nn.init.calculate_gain(nonlinearity, param=None)``, computed as torch does."""
        if len(node.args) + len(node.keywords) > 2 or (len(node.args) < 1 and not node.keywords):
            raise self.fail("calculate_gain() takes nonlinearity and an optional param", node)
        args: dict[str, Any] = {}
        for p, a in zip(("nonlinearity", "param"), node.args, strict=False):
            args[p] = self.value(a, p)
        for kw in node.keywords:
            if kw.arg not in ("nonlinearity", "param") or kw.arg in args:
                raise self.fail(f"calculate_gain() has no argument {kw.arg!r} (or it is given twice)", kw.value)
            args[kw.arg] = self.value(kw.value, kw.arg)
        nl, param = args.get("nonlinearity"), args.get("param")
        if not isinstance(nl, str) or not (param is None or isinstance(param, (int, float))):
            raise self.fail("calculate_gain() takes a nonlinearity name and an optional number", node)
        try:
            return calculate_gain(nl, param)
        except (InvalidArgumentError, ValueError, TypeError) as err:
            raise self.fail(f"`{what}`: {err}", node) from None

    def number(self, node: ast.AST, what: str) -> float:
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(
            node.value, bool
        ):
            v = as_float(node.value, what, self, node)
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            v = self.number(node.operand, what)
            v = -v if isinstance(node.op, ast.USub) else v
        elif isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow)):
            a, b = self.number(node.left, what), self.number(node.right, what)
            try:
                if isinstance(node.op, ast.Add):
                    v = a + b
                elif isinstance(node.op, ast.Sub):
                    v = a - b
                elif isinstance(node.op, ast.Mult):
                    v = a * b
                elif isinstance(node.op, ast.Div):
                    v = a / b
                else:
                    if abs(b) > 64 or abs(a) > 1e6:
                        raise self.fail(f"`{what}`: exponent or base too large (|base| ≤ 1e6, |exponent| ≤ 64)",
                                        node)
                    v = a**b
            except (ZeroDivisionError, OverflowError):
                raise self.fail(f"`{what}`: the arithmetic fails (division by zero or overflow)", node) from None
            if isinstance(v, complex):
                raise self.fail(f"`{what}`: the arithmetic gives a complex number", node)
        elif isinstance(node, ast.Call) and self.dotted(node.func)[-1] == "calculate_gain" and (
            self.dotted(node.func)[:-1] in _gain_modules()
        ):
            v = self.gain(node, what)
        elif isinstance(node, ast.Call) and ".".join(self.dotted(node.func)) in _NUMBER_FUNCS:
            if len(node.args) != 1 or node.keywords:
                raise self.fail("sqrt/float take exactly one argument", node)
            x = self.number(node.args[0], what)
            name = ".".join(self.dotted(node.func))
            if name == "float":
                v = x
            else:
                if x < 0:
                    raise self.fail(f"`{what}`: sqrt of a negative number", node)
                v = math.sqrt(x)
        elif isinstance(node, (ast.Attribute, ast.Name)) and ".".join(self.dotted(node)) in _NUMBER_CONSTS:
            v = _NUMBER_CONSTS[".".join(self.dotted(node))]
        else:
            raise self.fail(f"`{what}` must be a number", node)
        if not math.isfinite(v):
            raise self.fail(f"`{what}` must be finite", node)
        return v


def as_float(value: int | float, what: str, r: Reader, node: ast.AST) -> float:
    """``float(value)``, refusing an integer beyond float64 (``10**400``) as the source would."""
    try:
        return float(value)
    except OverflowError:
        raise r.fail(f"`{what}` must be finite: the integer is too large for a float (OverflowError)",
                     node) from None


@dataclass(frozen=True)
class DType:
    name: str


@dataclass(frozen=True)
class Name:
    name: str


class Call:
    """Arguments of one call, bound to a framework's parameter names (positional and keyword)."""

    def __init__(self, r: Reader, node: ast.Call, name: str, params: tuple[str, ...]) -> None:
        self.r, self.node, self.name = r, node, name
        self.values: dict[str, Any] = {}
        self.nodes: dict[str, ast.AST] = {}
        for kw in node.keywords:
            if kw.arg is None:
                raise r.fail(f"`**` arguments are not allowed in {name}()", kw.value)
        if len(node.args) > len(params):
            raise r.fail(f"{name}() takes at most {len(params)} positional arguments", node.args[len(params)])
        for p, a in zip(params, node.args, strict=False):
            if isinstance(a, ast.Starred):
                raise r.fail(f"`*` arguments are not allowed in {name}()", a)
            self.nodes[p] = a
        for kw in node.keywords:
            if kw.arg is None:
                continue
            if kw.arg not in params:
                raise r.fail(
                    f"{name}() has no argument {kw.arg!r}; allowed: {', '.join(params)}", kw.value
                )
            if kw.arg in self.nodes:
                raise r.fail(f"{name}() got {kw.arg!r} twice", kw.value)
            self.nodes[kw.arg] = kw.value

    def has(self, p: str) -> bool:
        return p in self.nodes

    def get(self, p: str, default: Any = None) -> Any:
        if p not in self.nodes:
            return default
        return self.r.value(self.nodes[p], p)

    def num(self, p: str, default: float) -> float:
        if p not in self.nodes:
            return default
        v = self.r.value(self.nodes[p], p)
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise self.r.fail(f"`{p}` of {self.name}() must be a number; received {p}={v!r}", self.nodes[p])
        return as_float(v, p, self.r, self.nodes[p])

    def text(self, p: str, default: str) -> str:
        if p not in self.nodes:
            return default
        v = self.r.value(self.nodes[p], p)
        if not isinstance(v, str):
            raise self.r.fail(f"`{p}` of {self.name}() must be a string; received {p}={v!r}", self.nodes[p])
        return v

    def flag(self, p: str, default: bool) -> bool:
        if p not in self.nodes:
            return default
        v = self.r.value(self.nodes[p], p)
        if not isinstance(v, bool):
            raise self.r.fail(f"`{p}` of {self.name}() must be True or False; received {p}={v!r}", self.nodes[p])
        return v

    def bad(self, p: str, reason: str) -> ParseError:
        return self.r.fail(f"`{p}` of {self.name}(): {reason}", self.nodes.get(p, self.node))


def vs_spec(framework: str, scale: float, mode: str, dist: str, call: str, *, layout: str | Layout = "tf",
        clamp: bool = True, uncorrected: bool = False) -> Spec:
    if not (scale > 0):
        raise InvalidArgumentError(f"`scale` must be positive; received scale={scale!r} in {call}().")
    if dist == "uniform":
        return Spec(framework, "uniform", scale, mode, clamp=clamp, layout=layout, call=call)
    if dist == "untruncated_normal":
        return Spec(framework, "untruncated_normal", scale, mode, clamp=clamp, layout=layout, call=call)
    factor = 1.0 if uncorrected else 1.0 / TRUNC_STD_2
    return Spec(framework, "truncated_normal", scale, mode, param_factor=factor, cut=2.0, clamp=clamp,
                uncorrected=uncorrected, layout=layout, call=call)


def choice(c: Call, p: str, value: str, allowed: tuple[str, ...]) -> str:
    """``value`` if it is one of ``allowed`` (the framework's own spelling), else a refusal."""
    if value not in allowed:
        raise c.bad(p, f"must be one of {', '.join(map(repr, allowed))} (case-sensitive in this framework); "
                       f"received {p}={value!r}")
    return value


def squared(g: float) -> float:
    """g², with the rounding noise of sqrt(k)² removed (``sqrt(2)²`` → 2.0).

    Only a value within 2 ulps of a 12-decimal number moves: the tolerance is
    relative, so small gains keep every digit (1.0001e-6² stays 1.0002e-12).
    """
    v = g * g
    r = round(v, 12)
    return r if abs(v - r) <= 4e-16 * abs(v) else v


def positive(c: Call, p: str, default: float) -> float:
    v = c.num(p, default)
    if not v > 0:
        raise c.bad(p, f"must be positive; received {p}={v!r}")
    return v


def centred_uniform(c: Call, fw: str, func: str, lo: float, hi: float, p: str, layout: str = "tf") -> Spec:
    """U(lo, hi) as a centred law: mean (lo + hi)/2, half-width (hi - lo)/2."""
    if not hi > lo:
        raise c.bad(p, f"the range must not be empty (lower < upper); received lower={lo!r}, upper={hi!r}")
    half, mid = (hi - lo) / 2.0, (lo + hi) / 2.0
    if lo == -hi:
        half, mid = hi, 0.0  # symmetric: exactly the limit written
    return Spec(fw, "uniform", None, None, fixed=half, mean=mid, layout=layout, call=func)


def clean_cut(x: float) -> float:
    """A truncation in units of σ from absolute bounds, without the noise of decimal literals (1.04 - 1)/0.02."""
    r = round(x, 12)
    return r if abs(x - r) <= 1e-12 * abs(x) else x


def mean_of(c: Call, p: str) -> float:
    """The mean of a fixed normal (any finite number)."""
    return c.num(p, 0.0)



def absolute_truncated(c: Call, fw: str, func: str, std_param: str, default_std: float) -> Spec:
    """A normal truncated at absolute bounds ``a``/``b`` symmetric about ``mean`` (torch's ``trunc_normal_``,
    MindSpore's ``TruncatedNormal``), on ``(out, in, *k)`` weights."""
    mean = mean_of(c, "mean")
    std = positive(c, std_param, default_std)
    a, b = c.num("a", -2.0), c.num("b", 2.0)
    if a - mean != -(b - mean) or b <= mean:
        raise c.bad("a", f"only bounds symmetric about the mean (a - mean == mean - b < 0) are supported; "
                         f"received mean={mean!r}, a={a!r}, b={b!r}")
    return Spec(fw, "truncated_normal", None, None, cut=clean_cut((b - mean) / std), fixed=std, absolute_bounds=True,
                layout="torch", mean=mean, call=func)


def as_shape(r: Reader, value: Any, node: ast.AST) -> tuple[int, ...]:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = [value]
    if not isinstance(value, list) or not all(
        isinstance(d, int) and not isinstance(d, bool) and 0 <= d < 2**62 for d in value
    ):
        raise r.fail(f"the shape must be a list of non-negative ints; received {value!r}", node)
    if len(value) > 16:
        raise r.fail("the shape has more than 16 dimensions", node)
    return tuple(value)



def unknown(r: Reader, func: str, fw: str | None, label: str, node: ast.AST) -> ParseError:
    """The refusal of an unknown function name, with a did-you-mean over every framework's names."""
    from . import all_frameworks

    known = {f.name: f.names for f in all_frameworks()}
    other = {n for f in all_frameworks() for n in f.other}
    own = known.get(fw or "", ())
    pool = {n for names in known.values() for n in names}
    lower = {n.lower(): n for n in sorted(pool)}
    close = list(difflib.get_close_matches(func, own, n=2, cutoff=0.75))
    if not close:
        close = list(difflib.get_close_matches(func, sorted(pool), n=2, cutoff=0.75))
    if not close:
        close = [lower[n] for n in difflib.get_close_matches(func.lower(), sorted(lower), n=2, cutoff=0.75)]
    if func in other or func.lower().rstrip("_") in {n.lower().rstrip("_") for n in other}:
        why = f"{func!r} of {label} is not a variance-scaling law; the translator does not read it"
    else:
        why = f"{func!r} is not an initializer of {label} that the translator knows"
    if close:
        why += f"; did you mean {' or '.join(repr(n) for n in close)}?"
    elif own:
        why += f"; known: {', '.join(own)}"
    return r.fail(why, node)
