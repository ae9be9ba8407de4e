"""What a rule's initializer may be, resolved to a core initializer in the framework's layout.

The forms :mod:`varscale._rules` lists (core initializers, numbers, names,
torch function names and calls, parsed :class:`varscale.Spec` expressions,
``torch.nn.init`` functions and partials of them) go through :func:`resolve`;
a framework expression is drawn by :class:`SpecInitializer`.
"""

from __future__ import annotations

import ast
import dataclasses
import functools
import inspect
import math
from collections.abc import Callable
from typing import Any

import numpy as np

from ._basic import (
    BasicInitializer,
    Constant,
    Normal,
    Ones,
    Orthogonal,
    TruncatedNormal,
    Uniform,
    Zeros,
)
from ._errors import InvalidArgumentError, UnknownNameError
from ._fans import Layout
from ._gain import calculate_gain
from ._initializer import VarianceScaling
from ._plan import Sampler

__all__ = ["SpecInitializer", "is_fan_based", "resolve", "rule_names"]


# -- torch.nn.init's functions, by name, with torch's signatures ----------------------------------------------
def _kaiming(dist: str) -> Callable[..., Any]:
    def build(a: float = 0, mode: str = "fan_in", nonlinearity: str = "leaky_relu", generator: Any = None) -> Any:
        gain = calculate_gain(nonlinearity, a)
        return VarianceScaling(gain * gain, mode, dist)

    return build


def _xavier(dist: str) -> Callable[..., Any]:
    def build(gain: float = 1.0, generator: Any = None) -> Any:
        return VarianceScaling(float(gain) ** 2, "fan_avg", dist)

    return build


def _normal(mean: float = 0.0, std: float = 1.0, generator: Any = None) -> Any:
    return Normal(mean, std)


def _uniform(a: float = 0.0, b: float = 1.0, generator: Any = None) -> Any:
    return Uniform(a, b)


def _trunc(mean: float = 0.0, std: float = 1.0, a: float = -2.0, b: float = 2.0, generator: Any = None) -> Any:
    return TruncatedNormal(mean, std, a, b)


def _constant(val: float) -> Any:
    return Constant(val)


def _orthogonal(gain: float = 1.0, generator: Any = None) -> Any:
    return Orthogonal(gain)


#: torch.nn.init function name (without the trailing "_") -> builder taking torch's arguments after the tensor
_TORCH_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "kaiming_uniform": _kaiming("uniform"),
    "kaiming_normal": _kaiming("untruncated_normal"),
    "xavier_uniform": _xavier("uniform"),
    "xavier_normal": _xavier("untruncated_normal"),
    "normal": _normal,
    "uniform": _uniform,
    "trunc_normal": _trunc,
    "constant": _constant,
    "zeros": lambda: Zeros(),
    "ones": lambda: Ones(),
    "orthogonal": _orthogonal,
}
#: names that are only meaningful with their parameters (a bare "normal" would be N(0, 1): almost never meant)
_NEEDS_ARGS = {"normal", "uniform", "trunc_normal", "truncated_normal", "constant"}
_ALIASES = {"truncated_normal": "trunc_normal", "random_normal": "normal", "random_uniform": "uniform",
            "kaiming_he_normal": "kaiming_normal"}
_UNSUPPORTED = {
    "eye": "identity matrices",
    "dirac": "Dirac delta kernels",
    "sparse": "sparse matrices",
}
_TORCH_MODULES = ("torch.nn.init", "varscale.compat.torch.nn.init")


def rule_names() -> list[str]:
    """Every initializer name a rule accepts (for messages and did-you-mean)."""
    from ._registry import _NAMES

    names = set(_NAMES) | {"zeros", "ones"}
    names |= {n for n in _TORCH_FUNCTIONS if n not in _NEEDS_ARGS}
    names |= {n + "_" for n in _TORCH_FUNCTIONS}
    names |= {f"{n}(...)" for n in _NEEDS_ARGS | {"orthogonal"}}
    return sorted(names)


# -- parsed framework expressions -----------------------------------------------------------------------------
class SpecInitializer:
    """A parsed framework expression (:class:`varscale.Spec`) applied to any shape in a given layout.

    Example:
        >>> import varscale as vs
        >>> from varscale._rules import SpecInitializer, plan_param
        >>> init = SpecInitializer(vs.parse("keras.initializers.HeNormal()"), "torch")
        >>> round(plan_param(init, (64, 3, 7, 7), "torch").std, 6)
        0.116642
    """

    def __init__(self, spec: Any, layout: str | Layout) -> None:
        if spec.jax_axes is None and spec.framework != "varscale":
            spec = dataclasses.replace(spec, layout=layout)
        self.spec = spec

    @property
    def fan_based(self) -> bool:
        return bool(self.spec.fan_based)

    def sampler(self, shape: tuple[int, ...]) -> Sampler:
        """The law for ``shape`` as the core draws it (:func:`varscale._law.initializer_for`): the same bits as
        ``vs.HeNormal()`` for Keras' ``HeNormal()``, a fixed law's own mean."""
        from ._law import initializer_for

        sampler: Sampler = initializer_for(self.spec, shape).sampler(shape)
        return sampler

    def __repr__(self) -> str:
        return str(self.spec.source or self.spec.call)


# -- resolution ------------------------------------------------------------------------------------------------
def _own_seed(init: Any, where: str) -> None:
    stream = getattr(init, "_stream", None)
    if stream is not None:
        raise InvalidArgumentError(
            f"{where}: the initializer {init!r} has its own seed; in a model-level rule every parameter draws "
            f"from derive_stream(seed, name) of the model's seed, which wins. Drop seed= from the initializer "
            f"(or use varscale.derive_stream / fill_shard to draw one tensor with a seed of your own)."
        )


def _with_layout(init: Any, layout: str | Layout) -> Any:
    out = init
    if isinstance(init, VarianceScaling) and not init._layout_given:
        cfg = init.get_config()
        cfg["layout"] = layout if isinstance(layout, str) else layout.to_config()
        out = type(init).from_config(cfg)
    elif isinstance(init, Orthogonal) and not init._layout_given and isinstance(layout, str):
        out = Orthogonal(init.gain, None, layout)
    label = getattr(init, "_label", None)
    if label is not None and out is not init:
        out._label = label
    return out


def _torch_function(fn: Any) -> tuple[str, Callable[..., Any]] | None:
    name = getattr(fn, "__name__", "")
    module = getattr(fn, "__module__", "") or ""
    if module in _TORCH_MODULES and name.endswith("_"):
        key = name[:-1]
        if key in _TORCH_FUNCTIONS:
            return name, _TORCH_FUNCTIONS[key]
        if key in _UNSUPPORTED:
            raise InvalidArgumentError(
                f"{module}.{name} ({_UNSUPPORTED[key]}) is not a rule initializer: it depends on the whole "
                f"tensor's structure, not on a law per element; apply it to the parameter yourself."
            )
    return None


def _bind(builder: Callable[..., Any], name: str, args: tuple[Any, ...], kwargs: dict[str, Any], where: str) -> Any:
    try:
        bound = inspect.signature(builder).bind(*args, **kwargs)
    except TypeError as err:
        raise InvalidArgumentError(f"{where}: bad arguments for {name}: {err}.") from None
    if bound.arguments.get("generator") is not None:
        raise InvalidArgumentError(
            f"{where}: {name}(generator=...) brings its own random generator; in a model-level rule every "
            f"parameter draws from derive_stream(seed, name) of the model's seed. Drop generator=."
        )
    init = builder(*bound.args, **bound.kwargs)
    shown = ", ".join(f"{k}={v!r}" for k, v in bound.arguments.items() if k != "generator")
    init._label = f"{name}({shown})"
    return init


_BINOPS: dict[type, Callable[[float, float], float]] = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: a / b,
    ast.Pow: lambda a, b: a**b,
}


def _literal(node: ast.AST, text: str, depth: int = 0) -> Any:
    """A literal number/string/None, or arithmetic on numbers with ``sqrt``/``math.sqrt`` and ``math.pi``."""
    bad = InvalidArgumentError(
        f"initializer {text!r}: arguments must be literal numbers or strings (arithmetic and math.sqrt allowed); "
        f"received {ast.unparse(node)[:80]!r}."
    )
    if depth > 20:
        raise bad
    if isinstance(node, ast.Constant) and (node.value is None or isinstance(node.value, (int, float, str))):
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        v = _literal(node.operand, text, depth + 1)
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            return -v if isinstance(node.op, ast.USub) else v
        raise bad
    if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
        a, b = _literal(node.left, text, depth + 1), _literal(node.right, text, depth + 1)
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (a, b)):
            raise bad
        if isinstance(node.op, ast.Pow) and abs(b) > 64:
            raise bad
        try:
            return float(_BINOPS[type(node.op)](a, b))
        except (ArithmeticError, ValueError):
            raise bad from None
    name = ast.unparse(node) if isinstance(node, (ast.Attribute, ast.Name)) else ""
    if name in ("math.pi", "pi", "np.pi", "numpy.pi"):
        return math.pi
    if isinstance(node, ast.Call) and ast.unparse(node.func) in ("math.sqrt", "sqrt", "np.sqrt", "numpy.sqrt") \
            and len(node.args) == 1 and not node.keywords:
        v = _literal(node.args[0], text, depth + 1)
        if isinstance(v, (int, float)) and not isinstance(v, bool) and v >= 0:
            return math.sqrt(v)
    raise bad


def _from_text(text: str, layout: str | Layout, where: str) -> Any:
    from ._registry import _NAMES

    t = text.strip()
    key = t.lower()
    if key in ("zeros", "zeros_", "zero"):
        return Zeros()
    if key in ("ones", "ones_", "one"):
        return Ones()
    try:
        value = float(t)
    except ValueError:
        pass
    else:
        return Constant(value)
    if t in _NAMES:
        return _NAMES[t]()
    bare = _ALIASES.get(key.rstrip("_"), key.rstrip("_"))
    if bare in _TORCH_FUNCTIONS and "(" not in t:
        if bare in _NEEDS_ARGS:
            raise InvalidArgumentError(
                f"{where}: {t!r} needs its parameters, e.g. {bare}(std=0.02) / {bare}(-0.1, 0.1) / "
                f"constant(0.5); a bare name would mean the standard law, which is almost never meant."
            )
        return _bind(_TORCH_FUNCTIONS[bare], t, (), {}, where)
    # a call with literal arguments: normal(std=0.02), torch.nn.init.kaiming_normal_(w, mode='fan_out')
    try:
        tree = ast.parse(t, mode="eval")
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        tree = None
    if tree is not None and isinstance(tree.body, ast.Call):
        call = tree.body
        func = call.func
        parts: list[str] = []
        while isinstance(func, ast.Attribute):
            parts.append(func.attr)
            func = func.value
        if isinstance(func, ast.Name):
            parts.append(func.id)
        parts.reverse()
        prefix = ".".join(parts[:-1])
        last = parts[-1] if parts else ""
        fname = _ALIASES.get(last.rstrip("_"), last.rstrip("_"))
        if fname in _TORCH_FUNCTIONS and prefix in ("", "torch.nn.init", "nn.init", "init", "vs", "varscale"):
            args = list(call.args)
            if args and isinstance(args[0], ast.Name) and (last.endswith("_") or prefix):
                args = args[1:]  # the tensor of torch code: init.normal_(w, std=0.02)
            pos = tuple(_literal(a, t) for a in args)
            kws = {}
            for k in call.keywords:
                if k.arg is None:
                    raise InvalidArgumentError(f"initializer {t!r}: **kwargs are not allowed.")
                kws[k.arg] = _literal(k.value, t)
            return _bind(_TORCH_FUNCTIONS[fname], last, pos, kws, where)
        if last.rstrip("_") in _UNSUPPORTED and prefix in ("", "torch.nn.init", "nn.init", "init"):
            raise InvalidArgumentError(
                f"{where}: {t!r} ({_UNSUPPORTED[last.rstrip('_')]}) is not a rule initializer; apply it to the "
                f"parameter yourself."
            )
    from ._parse import ParseError, parse

    try:
        spec = parse(t)
    except ParseError as err:
        from ._errors import unknown_name

        hint = str(unknown_name("initializer", t, rule_names()))
        detail = f" ({str(err).splitlines()[0]})" if "." in t and "(" in t else ""
        raise UnknownNameError(
            f"{where}: {t!r} is not an initializer a rule accepts{detail}. Accepted: varscale initializers, "
            f"numbers, 'zeros'/'ones', preset and torch function names, normal(std=…), trunc_normal(…), "
            f"uniform(a, b), constant(v), orthogonal(gain), and framework expressions varscale.parse reads."
            + (f" Did you mean {hint.split('Did you mean ')[-1]}" if "Did you mean" in hint else "")
        ) from None
    return SpecInitializer(spec, layout)


def resolve(obj: Any, *, layout: str | Layout, where: str) -> Any:
    """Turn any rule initializer form into a core initializer in ``layout`` (see the module docstring).

    ``None`` stays None (leave the parameter as it is). ``where`` names the rule in messages.
    """
    from ._parse import Spec

    if obj is None:
        return None
    if isinstance(obj, (VarianceScaling, BasicInitializer)):
        _own_seed(obj, where)
        return _with_layout(obj, layout)
    if isinstance(obj, SpecInitializer):
        return obj
    if isinstance(obj, Spec):
        return SpecInitializer(obj, layout)
    if isinstance(obj, bool):
        raise TypeError(f"{where}: the initializer must not be a bool; received {obj!r}.")
    if isinstance(obj, (int, float, np.integer, np.floating)):
        return Constant(obj)  # type: ignore[arg-type]
    if isinstance(obj, str):
        return _with_layout(_from_text(obj, layout, where), layout)
    if isinstance(obj, functools.partial):
        found = _torch_function(obj.func)
        if found is not None:
            name, builder = found
            args = obj.args[1:] if obj.args and _is_tensor(obj.args[0]) else obj.args
            return _with_layout(_bind(builder, name, tuple(args), dict(obj.keywords), where), layout)
    elif callable(obj):
        found = _torch_function(obj)
        if found is not None:
            name, builder = found
            if name in ("constant_",):
                raise InvalidArgumentError(
                    f"{where}: {name} needs its value: functools.partial(torch.nn.init.constant_, val=…) or "
                    f"a number."
                )
            return _with_layout(_bind(builder, name, (), {}, where), layout)
    raise TypeError(
        f"{where}: the initializer must be a varscale initializer, a number, a name or expression string, a "
        f"varscale.Spec, a torch.nn.init function or a functools.partial of one, or None; received {obj!r} of "
        f"type {type(obj).__name__}."
    )


def _is_tensor(value: Any) -> bool:
    return hasattr(value, "shape") and hasattr(value, "dtype")


def is_fan_based(init: Any) -> bool:
    """True when the initializer's numbers come from the fans (or it needs a matrix, as orthogonal)."""
    if isinstance(init, (VarianceScaling, Orthogonal)):
        return True
    if isinstance(init, SpecInitializer):
        return init.fan_based
    return False
