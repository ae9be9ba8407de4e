"""The rule language of model-level initialization, shared by every framework.

``varscale.torch.init_module``, ``varscale.keras.init_model``,
``varscale.jax.init_params`` and ``varscale init`` read the same initializer
forms, resolved here to core initializers in the layout of the framework
where the rule is used:

* a :class:`varscale.VarianceScaling` (or preset) — its layout is the
  framework's unless ``layout=`` was given explicitly;
* the standard initializers :class:`varscale.Normal`,
  :class:`varscale.TruncatedNormal`, :class:`varscale.Uniform`,
  :class:`varscale.Constant`, :class:`varscale.Zeros`, :class:`varscale.Ones`,
  :class:`varscale.Orthogonal`;
* a number (a constant);
* a name: ``"zeros"``, ``"ones"``, a preset (``"he_normal"``,
  ``"GlorotUniform"``), a torch function name (``"kaiming_normal"``,
  ``"xavier_uniform_"`` — torch's law, untruncated), or ``"0"``/``"0.02"``;
* a call with literal arguments: ``"normal(std=0.02)"``,
  ``"trunc_normal(std=0.02, a=-0.04, b=0.04)"``, ``"uniform(-0.1, 0.1)"``,
  ``"constant(0.5)"``, ``"orthogonal(gain=1.0)"``,
  ``"kaiming_normal_(mode='fan_out', nonlinearity='relu')"``, also written
  as torch code (``"torch.nn.init.normal_(w, std=0.02)"``);
* any expression :func:`varscale.parse` reads
  (``"keras.initializers.HeNormal()"``, ``"jax.nn.initializers.lecun_normal()"``)
  or a parsed :class:`varscale.Spec`;
* a ``torch.nn.init`` function (``torch.nn.init.kaiming_normal_``) or a
  ``functools.partial`` of one — the same law as torch, drawn from varscale's
  stream (the facade's functions of the same name too).

An initializer with its own seed is refused: in a rule, every parameter draws
from ``derive_stream(seed, name)`` of the model-level seed.

Example:
    >>> from varscale._rules import resolve, plan_param
    >>> init = resolve("kaiming_normal_(mode='fan_out', nonlinearity='relu')", layout="torch", where="rule")
    >>> p = plan_param(init, (64, 3, 7, 7), "torch")
    >>> p.fan_in, p.fan_out, round(p.std, 6)
    (147, 3136, 0.025254)
"""

from __future__ import annotations

import fnmatch
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias

import numpy as np

from ._errors import InvalidArgumentError
from ._param_plan import (
    BoundPlan,
    FanError,
    MatrixLaw,
    ParamPlan,
    fans_of,
    label_of,
    plan_param,
)
from ._rule_forms import _ALIASES as _ALIASES
from ._rule_forms import _TORCH_FUNCTIONS as _TORCH_FUNCTIONS
from ._rule_forms import SpecInitializer, is_fan_based, resolve, rule_names
from ._rule_forms import _from_text as _from_text
from .stream import Stream, resolve_seed

__all__ = ["BoundPlan", "FanError", "MatrixLaw", "ParamPlan", "Rule", "Rules", "SpecInitializer", "check_default", "check_rules",
           "fans_of", "is_fan_based", "label_of", "matches", "model_seed", "plan_param", "report_unused", "resolve",
           "rule_names"]


# -- the model-level arguments every framework takes ------------------------------------------------------------
#: ``rules=``: ``(pattern, initializer)`` pairs or a mapping (the patterns and initializers each framework reads)
Rules: TypeAlias = "Mapping[Any, Any] | Sequence[tuple[Any, Any]]"


def model_seed(seed: object) -> Stream:
    """The model-level ``seed``: an int in ``[0, 2**64)``, each name drawing from ``derive_stream(seed, name)``."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"`seed` must be an int in [0, 2**64); received seed={seed!r}.")
    key = resolve_seed(int(seed))
    assert key is not None
    return key


def check_default(default: object, allowed: Sequence[str]) -> str:
    """The model-level ``default=`` (what a name no rule matches gets), one of ``allowed``."""
    if not isinstance(default, str) or default not in allowed:
        raise InvalidArgumentError(
            f"`default` must be one of {', '.join(map(repr, allowed))}; received default={default!r}."
        )
    return default


# -- rule lists: validation, matching and the unused-rule check, shared by torch, Keras and JAX ---------------
@dataclass
class Rule:
    """One checked ``(pattern, initializer)`` pair, its text for messages and how many names it matched."""

    pattern: Any
    init: Any
    text: str
    used: int = 0


def is_types(value: Any) -> bool:
    """A non-empty tuple of classes."""
    return isinstance(value, tuple) and len(value) > 0 and all(isinstance(t, type) for t in value)


def pattern_text(pattern: Any) -> str:
    """``"*.weight"``, ``"Linear"``, ``"Linear|Conv2d"`` or ``"Linear.weight"``."""
    if isinstance(pattern, str):
        return pattern
    if isinstance(pattern, type):
        return pattern.__name__
    if is_types(pattern):
        return "|".join(t.__name__ for t in pattern)
    types, glob = pattern
    names = "|".join(t.__name__ for t in (types if isinstance(types, tuple) else (types,)))
    return f"{names}.{glob}"


def check_rules(rules: Any, resolve_one: Callable[[Any, str], Any], *, by_type: bool, help: str) -> list[Rule]:
    """Validate ``rules`` (pairs or a mapping) and resolve each initializer with ``resolve_one(init, where)``.

    A pattern is a glob (str); with ``by_type`` also a class, a tuple of classes, or ``(class(es), glob on the
    local name)``. ``help`` says what a pattern may be, for the error.
    """
    if rules is None:
        return []
    if isinstance(rules, Mapping):
        rules = list(rules.items())
    if isinstance(rules, (str, bytes)) or not isinstance(rules, Sequence):
        raise TypeError(
            f"`rules` must be a sequence of (pattern, initializer) pairs or a mapping pattern -> initializer; "
            f"received rules={rules!r}."
        )
    out: list[Rule] = []
    for rule in rules:
        if not isinstance(rule, tuple) or len(rule) != 2:
            raise TypeError(f"each rule must be a (pattern, initializer) pair; received {rule!r} in `rules`.")
        pattern, init = rule
        ok = isinstance(pattern, str) or (by_type and (
            isinstance(pattern, type) or is_types(pattern) or (
                isinstance(pattern, tuple) and len(pattern) == 2 and isinstance(pattern[1], str)
                and (isinstance(pattern[0], type) or is_types(pattern[0]))
            )
        ))
        if not ok:
            raise TypeError(f"a rule's pattern must be {help}; received pattern {pattern!r} in `rules`.")
        text = pattern_text(pattern)
        out.append(Rule(pattern, resolve_one(init, f"rule {text!r}"), text))
    return out


def matches(pattern: Any, name: str, local: str, owners: Sequence[Any]) -> bool:
    """Does ``pattern`` select the parameter ``name`` (local name ``local``) owned by any of ``owners``?"""
    if isinstance(pattern, str):
        return fnmatch.fnmatchcase(name, pattern)
    if isinstance(pattern, type) or is_types(pattern):
        return any(isinstance(o, pattern) for o in owners)
    types, glob = pattern
    return any(isinstance(o, types) for o in owners) and fnmatch.fnmatchcase(local, glob)


def report_unused(checked: Sequence[Rule], noun: str, names: str, examples: Sequence[str], strict: bool,
                  problems: list[str]) -> None:
    """A rule that matched nothing: a problem (``strict``) or a warning naming the rules and example names."""
    from ._report import listing

    unused = [r.text for r in checked if r.used == 0]
    if not unused:
        return
    message = (
        f"{len(unused)} rule(s) match no {noun}: {listing(unused)}; patterns are globs on {names} such as "
        f"{listing(list(examples)[:3]) or '(there are none)'}."
    )
    if strict:
        problems.append(message + " Pass strict=False to only warn.")
    else:
        warnings.warn(message, stacklevel=3)
