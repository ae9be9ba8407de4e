"""A minimal stand-in for ``tf.DType`` and ``tf.as_dtype`` (no TensorFlow import).

The TF1 facades (:mod:`varscale.compat.tf1`, :mod:`varscale.compat.tf_contrib`)
need TensorFlow's dtype objects for their defaults and checks: ``dtype.name``,
``dtype.is_floating`` and the ``<dtype: 'float32'>`` repr that TensorFlow's
messages print. :class:`DType` provides exactly those; a real ``tf.DType``
works wherever a :class:`DType` does, and compares equal to it by name.

Example:
    >>> from varscale.compat._tfdtype import as_dtype, float32
    >>> as_dtype("float32") == float32, float32.is_floating
    (True, True)
    >>> as_dtype("int32")
    <dtype: 'int32'>
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._kit import FLOATING, as_tensor

__all__ = [
    "FLOATING",
    "DType",
    "as_dtype",
    "bfloat16",
    "float16",
    "float32",
    "float64",
    "storage_name",
    "to_tf_tensor",
]

# TensorFlow's DType names (tensorflow/python/framework/dtypes.py), enough for
# as_dtype to accept what TF accepts and for the messages to print TF's names.
_KNOWN = (
    "float16", "bfloat16", "float32", "float64",
    "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
    "bool", "complex64", "complex128", "string",
    "qint8", "qint16", "qint32", "quint8", "quint16", "resource", "variant",
    "float8_e4m3fn", "float8_e5m2",
)
_ALIASES = {"half": "float16", "float": "float32", "double": "float64"}


class DType:
    """The parts of ``tf.DType`` the TF1 facades use: ``name``, ``is_floating``, repr.

    Args:
        name: a TensorFlow dtype name such as ``"float32"``.

    Example:
        >>> from varscale.compat._tfdtype import DType
        >>> DType("bfloat16").is_floating, DType("int32").is_floating
        (True, False)
    """

    __slots__ = ("_name",)

    def __init__(self, name: str) -> None:
        self._name = name

    @property
    def name(self) -> str:
        return self._name

    @property
    def is_floating(self) -> bool:
        return self._name in FLOATING or self._name.startswith("float8")

    def __repr__(self) -> str:
        return f"<dtype: {self._name!r}>"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, DType):
            return self._name == other._name
        name = getattr(other, "name", None)
        if isinstance(name, str) and hasattr(other, "is_floating"):
            return self._name == name
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._name)


float16 = DType("float16")
bfloat16 = DType("bfloat16")
float32 = DType("float32")
float64 = DType("float64")


def as_dtype(type_value: Any) -> DType:
    """Convert ``type_value`` to a :class:`DType` as ``tf.as_dtype`` does.

    Accepts a :class:`DType` or ``tf.DType``, a TensorFlow dtype name, a NumPy
    dtype or scalar type (``ml_dtypes.bfloat16`` too). Anything else raises
    TensorFlow's ``TypeError``.
    """
    if isinstance(type_value, DType):
        return type_value
    name = getattr(type_value, "name", None)
    if isinstance(name, str) and hasattr(type_value, "is_floating"):
        return DType(name)
    if isinstance(type_value, str):
        key = _ALIASES.get(type_value, type_value)
        if key in _KNOWN:
            return DType(key)
    else:
        try:
            key = np.dtype(type_value).name
        except (TypeError, ValueError):
            key = ""
        key = {"str": "string", "bytes": "string"}.get(key, key)
        if key in _KNOWN:
            return DType(key)
    raise TypeError(f"Cannot convert the argument `type_value`: {type_value!r} to a TensorFlow DType.")


def storage_name(dtype: DType) -> str:
    """The varscale dtype name for a floating :class:`DType` (``float8`` types excluded)."""
    if dtype.name not in FLOATING:
        raise TypeError(
            f"`dtype` must be a floating dtype that varscale draws ({', '.join(FLOATING)}); "
            f"received dtype={dtype!r}. TensorFlow's random ops raise TypeError for it too."
        )
    return dtype.name


def to_tf_tensor(array: np.ndarray[Any, Any]) -> Any:
    """``tf.convert_to_tensor(array)``, importing TensorFlow only now."""
    return as_tensor(array, "tensorflow")
