"""An initializer written as text, in any of the forms the command line takes.

* varscale's own forms: a preset or class name (``he_normal``,
  ``HeNormal``), a JSON config (``{"class_name": ..., "config": ...}``, as
  :func:`varscale.serialize` writes) or ``name:key=value,...``
  (``variance_scaling:scale=2,mode=fan_out``) — :func:`initializer_from_text`;
* any framework's expression :func:`varscale.parse` reads — :func:`read`
  gives both as a :class:`varscale.Spec`, with the varscale initializer when
  the text is one of varscale's forms;
* a model-level rule (``varscale init --rule GLOB=SPEC``, recorded in a
  checkpoint and re-drawn by ``varscale verify``): the rule language of
  ``varscale._rules`` plus varscale's JSON and ``name:key=value`` forms —
  :func:`rule_from_text` and :func:`rule_layout`.

A text that is malformed as text (bad JSON, ``key`` without ``=value``, an
initializer that is not variance scaling) raises :class:`SpecSyntaxError`;
the command line reports it as a usage error (exit code 2).

Example:
    >>> from varscale._forms import read, rule_layout
    >>> spec, init = read("variance_scaling:scale=2,mode=fan_out")
    >>> spec.framework, init.get_config()["mode"]
    ('varscale', 'fan_out')
    >>> read("nn.init.kaiming_normal_(w)")[1] is None  # a framework's expression: no varscale initializer
    True
    >>> rule_layout("nn.init.normal_(w, std=0.02)"), rule_layout("he_normal")
    ('torch', 'tf')
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

from . import _registry
from ._errors import InvalidArgumentError, VarscaleError
from ._initializer import VarianceScaling
from ._rules import _TORCH_FUNCTIONS

if TYPE_CHECKING:
    from ._parse import Spec

__all__ = ["SpecSyntaxError", "initializer_from_text", "read", "rule_from_text", "rule_layout", "with_seed"]


class SpecSyntaxError(InvalidArgumentError):
    """The text is not one of varscale's forms (bad JSON, a malformed ``key=value``, not variance scaling)."""


def initializer_from_text(text: str, seed: int | None = None, layout: str | None = None) -> VarianceScaling:
    """A variance-scaling initializer from varscale's own text forms.

    ``text`` is a preset name (``he_normal``, ``HeNormal``), a JSON config
    (``{"class_name": ..., "config": ...}``) or
    ``variance_scaling:scale=2,mode=fan_out,distribution=uniform``; ``seed``
    and ``layout``, when given, replace the config's.

    Raises:
        SpecSyntaxError: the text is none of these forms, or names an
            initializer that is not variance scaling.
        UnknownNameError: a name varscale does not know (with a did-you-mean).
        InvalidArgumentError: a value is refused by the initializer.

    Example:
        >>> initializer_from_text("variance_scaling:scale=2,distribution=uniform", seed=3)
        VarianceScaling(scale=2.0, mode='fan_in', distribution='uniform', seed=3, layout='tf')
    """
    text = text.strip()
    if text.startswith("{"):
        try:
            cfg = json.loads(text)
        except json.JSONDecodeError as err:
            raise SpecSyntaxError(f"SPEC is not valid JSON: {err}") from None
        except RecursionError:
            raise SpecSyntaxError("SPEC is JSON nested too deeply to read") from None
        init = _registry.deserialize(cfg)
    elif ":" in text:
        name, _, args = text.partition(":")
        kwargs: dict[str, Any] = {}
        for part in filter(None, (p.strip() for p in args.split(","))):
            key, eq, value = part.partition("=")
            if not eq:
                raise SpecSyntaxError(f"SPEC argument {part!r} must be KEY=VALUE")
            if key.strip() == "scale":
                try:
                    kwargs["scale"] = float(value)
                except ValueError:
                    raise InvalidArgumentError(
                        f"`scale` must be a number; received scale={value.strip()!r}."
                    ) from None
            else:
                kwargs[key.strip()] = value.strip()
        init = type(_registry.get(name.strip()))(**kwargs)
    else:
        init = _registry.get(text)
    if not isinstance(init, VarianceScaling):
        raise SpecSyntaxError(
            f"SPEC {text!r} is not a variance-scaling initializer; this command takes Glorot/He/LeCun and "
            f"VarianceScaling forms (`varscale init --rule` also takes zeros, normal(std=...), ...)"
        )
    return with_seed(init, seed, layout)


def with_seed(init: VarianceScaling, seed: int | None = None, layout: str | None = None) -> VarianceScaling:
    """``init`` with ``seed`` and ``layout`` replaced where given (through its config, so a preset stays one).

    Example:
        >>> import varscale as vs
        >>> with_seed(vs.HeNormal(), 7, "torch")
        HeNormal(seed=7, layout='torch')
    """
    if seed is None and layout is None:
        return init
    cfg = init.get_config()
    if seed is not None:
        cfg["seed"] = seed
    if layout is not None:
        cfg["layout"] = layout
    return type(init).from_config(cfg)


#: a name, optionally followed by ``:key=value,...``: one of varscale's forms (or a framework's bare name)
_OWN_FORM = re.compile(r"^\s*[A-Za-z_][A-Za-z0-9_]*\s*(:.*)?$", re.S)


def read(text: str, tf_version: str | None = None) -> tuple[Spec, VarianceScaling | None]:
    """``text`` as a :class:`~varscale.Spec`, with the varscale initializer when it is one of varscale's forms.

    A bare name varscale does not know is read as a framework's name
    (``kaiming_normal``, ``zeros``); a framework's JSON config (Keras'
    ``RandomNormal``) by :func:`varscale.parse`; a varscale config that
    :func:`varscale.deserialize` refuses stays refused.

    Example:
        >>> spec, init = read("he_uniform")
        >>> spec.family, type(init).__name__
        ('uniform', 'HeUniform')
    """
    from ._parse import parse
    from ._translate import spec_from_initializer

    stripped = text.strip()
    if stripped.startswith("{") or _OWN_FORM.match(text):
        try:
            init = initializer_from_text(text)
        except VarscaleError as err:
            if stripped.isidentifier():  # a framework's name (kaiming_normal), or zeros/ones/orthogonal
                try:
                    return parse(text, tf_version=tf_version), None
                except VarscaleError:
                    pass
            if isinstance(err, SpecSyntaxError):
                raise  # bad JSON, a name varscale does not know: the syntax error stands
            # a framework's JSON config (Keras' input_axes, RandomNormal...) is read by parse();
            # a varscale config that deserialize() refuses stays refused
            if stripped.startswith("{") and not _is_varscale_config(text):
                return parse(text), None
            raise
        return spec_from_initializer(init, text), init
    return parse(text, tf_version=tf_version), None


def _is_varscale_config(text: str) -> bool:
    try:
        cfg = json.loads(text)
    except (ValueError, RecursionError):
        return False
    if not isinstance(cfg, dict):
        return False
    inner = cfg.get("config")
    module = cfg.get("module")
    return (isinstance(module, str) and module.startswith("varscale")) or (
        isinstance(inner, dict) and ("stream_version" in inner or "layout" in inner)
    )


def rule_from_text(text: str) -> Any:
    """A rule's SPEC for ``varscale._rules.resolve``: varscale's JSON and ``name:key=value`` forms as initializers,
    anything else as the text the rule language reads.

    Example:
        >>> rule_from_text("variance_scaling:scale=2")
        VarianceScaling(scale=2.0, mode='fan_in', distribution='truncated_normal', seed=None, layout='tf')
        >>> rule_from_text("normal(std=0.02)")
        'normal(std=0.02)'
    """
    t = text.strip()
    if t.startswith("{") or (":" in t and _OWN_FORM.match(t)):
        return initializer_from_text(t)
    return t


#: torch code: a torch.nn.init function (the rule language's names, with torch's trailing "_"), or a torch or
#: MindSpore module path
_TORCH_CODE = re.compile(
    rf"(^|[.\s])({'|'.join(sorted(_TORCH_FUNCTIONS))})_\s*(\(|$)|\bnn\.init\.|\btorch\.|\bmindspore\.|\bms\."
)


def rule_layout(text: str) -> str:
    """The layout a rule's own code implies when none is given: torch's for torch and MindSpore code, else tf's."""
    return "torch" if _TORCH_CODE.search(text) else "tf"
