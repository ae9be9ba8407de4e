"""Names ↔ initializers: ``get``, ``serialize`` and ``deserialize`` (Keras-style dicts)."""

from __future__ import annotations

from typing import Any

from ._basic import BASIC_CLASSES, BasicInitializer
from ._errors import InvalidArgumentError, unknown_name
from ._initializer import VarianceScaling
from ._presets import PRESETS

__all__ = ["deserialize", "get", "serialize"]

_CLASSES: dict[str, type[Any]] = {"VarianceScaling": VarianceScaling} | {
    cls.__name__: cls for cls in PRESETS.values()
} | BASIC_CLASSES
_NAMES: dict[str, type[Any]] = {
    **_CLASSES, **PRESETS, "variance_scaling": VarianceScaling, "zeros": BASIC_CLASSES["Zeros"],
    "ones": BASIC_CLASSES["Ones"], "orthogonal": BASIC_CLASSES["Orthogonal"],
}

_ENVELOPE_KEYS = {"class_name", "config", "module", "registered_name"}


def serialize(initializer: VarianceScaling | BasicInitializer) -> dict[str, Any]:
    """Return ``{"class_name", "config", "module"}``, JSON-safe.

    Example:
        >>> import varscale as vs
        >>> vs.serialize(vs.HeNormal(seed=1))["config"]["seed"]
        1
    """
    if not isinstance(initializer, (VarianceScaling, BasicInitializer)):
        raise TypeError(
            f"`initializer` must be a varscale initializer; received initializer={initializer!r} "
            f"of type {type(initializer).__name__}."
        )
    return {"module": "varscale", "class_name": type(initializer).__name__, "config": initializer.get_config()}


def deserialize(config: dict[str, Any]) -> VarianceScaling | BasicInitializer:
    """Rebuild an initializer from :func:`serialize`'s dict.

    Example:
        >>> import varscale as vs
        >>> vs.deserialize(vs.serialize(vs.GlorotUniform(seed=3))) == vs.GlorotUniform(seed=3)
        True
    """
    if not isinstance(config, dict):
        raise TypeError(f"`config` must be a dict with 'class_name' and 'config'; received config={config!r}.")
    missing = sorted({"class_name", "config"} - set(config))
    if missing:
        raise InvalidArgumentError(
            f"`config` must have the keys 'class_name' and 'config'; received config={config!r} without {missing}."
        )
    extra = sorted(set(config) - _ENVELOPE_KEYS)
    if extra:
        raise InvalidArgumentError(
            f"`config` may only have the keys {sorted(_ENVELOPE_KEYS)}; received config={config!r} with {extra}."
        )
    name = config["class_name"]
    if not isinstance(name, str):
        raise TypeError(f"`class_name` must be a string; received class_name={name!r}.")
    cls = _CLASSES.get(name)
    if cls is None:
        raise unknown_name("class_name", name, _CLASSES)
    out: VarianceScaling | BasicInitializer = cls.from_config(config["config"])
    return out


def get(identifier: object) -> Any:
    """Resolve a name, a serialized dict, a class or an instance to an initializer.

    ``None`` gives ``None``; names are class names (``"HeNormal"``) or snake
    case (``"he_normal"``).

    Example:
        >>> import varscale as vs
        >>> vs.get("he_normal")
        HeNormal(seed=None, layout='tf')
    """
    if identifier is None:
        return None
    if isinstance(identifier, (VarianceScaling, BasicInitializer)):
        return identifier
    if isinstance(identifier, str):
        cls = _NAMES.get(identifier)
        if cls is None:
            raise unknown_name("identifier", identifier, _NAMES)
        return cls()
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, type) and issubclass(identifier, (VarianceScaling, BasicInitializer)):
        return identifier()
    raise TypeError(
        f"`identifier` must be None, a name, a config dict, a class or an initializer; "
        f"received identifier={identifier!r} of type {type(identifier).__name__}."
    )
