"""Exceptions raised by varscale.

The hierarchy multiply-inherits from the builtins users already catch::

    VarscaleError(Exception)
    ├── InvalidArgumentError(VarscaleError, ValueError)   bad value of a known argument
    │   └── UnknownNameError(InvalidArgumentError)        a name not in a fixed table
    └── BackendUnavailableError(VarscaleError, ImportError)  an optional extra is missing

Wrong *types* raise plain ``TypeError``.

Example:
    >>> err = unknown_name("mode", "fan_inn", ("fan_in", "fan_out", "fan_avg"))
    >>> print(err)
    `mode` must be one of 'fan_avg', 'fan_in', 'fan_out'; received mode='fan_inn'. Did you mean 'fan_in'?
    >>> isinstance(err, ValueError)
    True
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

__all__ = [
    "BackendUnavailableError",
    "InvalidArgumentError",
    "UnknownNameError",
    "VarscaleError",
]


class VarscaleError(Exception):
    """Base class of every error varscale raises on purpose."""


class InvalidArgumentError(VarscaleError, ValueError):
    """An argument has the right type but a value that is not allowed."""


class UnknownNameError(InvalidArgumentError):
    """A name (mode, distribution, initializer, nonlinearity…) is not known."""


class BackendUnavailableError(VarscaleError, ImportError):
    """An optional dependency needed for the requested feature is not installed."""


def missing_extra(package: str, extra: str, feature: str) -> BackendUnavailableError:
    """Build the error raised when an optional extra is not installed."""
    return BackendUnavailableError(
        f"{feature} needs {package}, which is not installed; "
        f"install it with: pip install 'varscale[{extra}]'"
    )


def unknown_name(argument: str, value: object, allowed: Iterable[str]) -> UnknownNameError:
    """Build an ``UnknownNameError`` listing the allowed names and the closest one."""
    names = sorted(allowed)
    msg = f"`{argument}` must be one of {', '.join(repr(n) for n in names)}; received {argument}={value!r}."
    if isinstance(value, str):
        close = difflib.get_close_matches(value.lower(), [n.lower() for n in names], n=1)
        if close:
            match = next(n for n in names if n.lower() == close[0])
            msg = msg[:-1] + f". Did you mean {match!r}?"
    return UnknownNameError(msg)
