"""Every framework varscale reads and writes: one module each, one registry.

A :class:`Framework` holds all that varscale knows of one framework: its
weight layout, whether it divides by ``max(1, n)``, the shapes it refuses,
the module paths that name it, how it reads an initializer expression (its
parameter names, its defaults, its quirks) and how it writes one (the
translator's code), and which varscale module is its drop-in facade.
:func:`varscale.parse` and :func:`varscale.translate` are loops over this
registry; nothing outside a framework's module knows a framework's rules.

Adding a framework is one module here (a :class:`Framework` subclass and an
instance of it in ``FRAMEWORKS``), its name in :data:`_MODULES`, its facade
shim under ``varscale.compat`` and its conformance tests
(``docs/contributing.md``).

Example:
    >>> from varscale import frameworks
    >>> frameworks.names()
    ('keras', 'tf.keras', 'tf1', 'tf_contrib', 'torch', 'jax', 'mindspore', 'varscale')
    >>> fw = frameworks.get("torch")
    >>> fw.layout, fw.module, fw.clamps
    ('torch', 'torch.nn.init', False)
    >>> frameworks.target("pytorch").name
    'torch'
"""

from __future__ import annotations

import importlib

from .._errors import unknown_name
from ._base import Framework

__all__ = ["Framework", "all_frameworks", "get", "names", "target"]

#: The framework modules, in the order translations list their targets (one line per framework).
_MODULES = ("keras", "tf1", "tf_contrib", "torch", "jax", "mindspore", "varscale")

_REGISTRY: dict[str, Framework] = {}


def _load() -> dict[str, Framework]:
    if not _REGISTRY:
        found: dict[str, Framework] = {}
        for mod in _MODULES:
            for fw in importlib.import_module(f"{__name__}.{mod}").FRAMEWORKS:
                found[fw.name] = fw
        _REGISTRY.update(found)
    return _REGISTRY


def all_frameworks() -> tuple[Framework, ...]:
    """Every registered framework, in the registry's order."""
    return tuple(_load().values())


def names() -> tuple[str, ...]:
    """The registered frameworks' names (a :class:`~varscale.Spec`'s ``framework``, a translation target)."""
    return tuple(_load())


def get(name: str) -> Framework:
    """The framework called ``name`` (exactly; see :func:`target` for the names users type).

    Raises:
        UnknownNameError: no framework has that name (with a did-you-mean).
    """
    reg = _load()
    if name in reg:
        return reg[name]
    raise unknown_name("framework", name, tuple(reg))


def target(to: str) -> Framework:
    """The framework a user's name means (``"pytorch"`` → torch, ``"flax"`` → jax), case-insensitive.

    Raises:
        UnknownNameError: neither a framework nor an alias (with a did-you-mean).
    """
    key = to.strip().lower()
    reg = _load()
    if key in reg:
        return reg[key]
    for fw in reg.values():
        if key in fw.aliases:
            return fw
    raise unknown_name("to", to, (*reg, *(a for fw in reg.values() for a in fw.aliases)))
