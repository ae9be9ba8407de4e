"""Output dtypes: float16, bfloat16, float32 (the default) and float64.

``ml_dtypes`` (which provides NumPy's bfloat16, and takes most of an import of
varscale's time) is imported only when bfloat16 is first needed: ``BFLOAT16``
is a lazy module attribute.

Example:
    >>> resolve_dtype("bfloat16")[:2]  # the dtype, and the storage the kernel writes
    (dtype(bfloat16), dtype('uint16'))
    >>> resolve_dtype(None)[0]
    dtype('float32')
"""

from __future__ import annotations

from typing import Any, TypeAlias

import numpy as np

from ._codes import Format
from ._errors import InvalidArgumentError

__all__ = ["DTYPE_NAMES", "DTypeLike", "Resolved", "resolve_dtype"]

DTYPE_NAMES = ("bfloat16", "float16", "float32", "float64")

#: What ``dtype=`` accepts: None, a name, a NumPy dtype or scalar type, ``ml_dtypes.bfloat16``, or any object
#: whose ``str()`` names one (``torch.float32``); checked by :func:`resolve_dtype`
DTypeLike: TypeAlias = object

#: (output dtype, storage dtype, rounding format)
Resolved: TypeAlias = "tuple[np.dtype[Any], np.dtype[Any], Format]"

_TABLE: dict[str, Resolved] = {
    "float16": (np.dtype(np.float16), np.dtype(np.uint16), Format.F16),
    "float32": (np.dtype(np.float32), np.dtype(np.float32), Format.NATIVE),
    "float64": (np.dtype(np.float64), np.dtype(np.float64), Format.NATIVE),
}


BFLOAT16: np.dtype[Any]  # lazy, see __getattr__ (annotation only: no value, so the lookup reaches it)


def _bfloat16() -> np.dtype[Any]:
    """NumPy's bfloat16 dtype (imports ml_dtypes on first use)."""
    if "bfloat16" not in _TABLE:
        import ml_dtypes

        _TABLE["bfloat16"] = (np.dtype(ml_dtypes.bfloat16), np.dtype(np.uint16), Format.BF16)
    return _TABLE["bfloat16"][0]


def __getattr__(name: str) -> np.dtype[Any]:
    if name == "BFLOAT16":
        return _bfloat16()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def resolve_dtype(dtype: DTypeLike, argument: str = "dtype") -> Resolved:
    """Return (output dtype, storage dtype, rounding format) for a dtype argument.

    Accepts None (float32), the names in ``DTYPE_NAMES``, NumPy dtypes and
    scalar types, ``ml_dtypes.bfloat16``, and objects whose ``str()`` is such a
    name (``torch.float32`` → ``"torch.float32"`` is accepted too).
    """
    if dtype is None:
        return _TABLE["float32"]
    key: str | None = None
    if isinstance(dtype, str):
        text = dtype.strip().lower()
        text = text.rsplit(".", 1)[-1]
        aliases = {"half": "float16", "float": "float32", "single": "float32", "double": "float64", "bf16": "bfloat16"}
        key = aliases.get(text, text)
        if key not in DTYPE_NAMES:
            try:
                key = np.dtype(text).name
            except TypeError:
                key = None
    else:
        try:
            key = np.dtype(dtype).name  # type: ignore[call-overload]  # any object: NumPy decides, or TypeError
        except TypeError:
            name = str(dtype).rsplit(".", 1)[-1].lower()
            key = name if name in DTYPE_NAMES else None
    if key == "bfloat16":
        _bfloat16()
    if key in _TABLE:
        return _TABLE[key]
    shown = key if key is not None else dtype
    raise InvalidArgumentError(
        f"`{argument}` must be a floating dtype, one of {', '.join(DTYPE_NAMES)}; "
        f"received {argument}={shown!r}."
    )
