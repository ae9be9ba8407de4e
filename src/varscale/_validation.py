"""Argument checks shared by the core, the facades and the CLI.

Every check raises at once with a message that names the argument, the value
received and what is allowed, in one sentence.

Example:
    >>> check_shape([3, 4])
    (3, 4)
    >>> try:
    ...     check_shape((3, -1))
    ... except ValueError as err:
    ...     print(err)
    `shape` must contain non-negative integers; received shape=(3, -1) with the negative dimension -1.
"""

from __future__ import annotations

import math
import numbers
import operator
from collections.abc import Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from typing import Any, SupportsIndex, TypeAlias

import numpy as np

from ._errors import InvalidArgumentError

__all__ = [
    "MAX_ELEMENTS",
    "ShapeLike",
    "check_scale",
    "check_shape",
    "count_elements",
]

#: What ``shape=`` accepts: an int (a 1-D shape) or a sequence of ints (NumPy integers too); see :func:`check_shape`
ShapeLike: TypeAlias = "SupportsIndex | Iterable[SupportsIndex]"

#: The flat element index is a 64-bit signed integer; larger tensors are refused.
MAX_ELEMENTS = 2**63 - 1


def _as_index(value: object, argument: str, whole: object) -> int:
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(
            f"`{argument}` must contain non-negative integers; received {argument}={whole!r} "
            f"with a boolean {value!r}."
        )
    try:
        return operator.index(value)  # type: ignore[arg-type]
    except TypeError:
        raise TypeError(
            f"`{argument}` must contain non-negative integers; received {argument}={whole!r} "
            f"with {value!r} of type {type(value).__name__}."
        ) from None


def check_shape(shape: Any, argument: str = "shape") -> tuple[int, ...]:
    """Return ``shape`` as a tuple of non-negative Python ints, or raise.

    Accepts an int (a 1-D shape) or a sequence of ints (NumPy integers too).
    """
    if isinstance(shape, (str, bytes, Mapping, AbstractSet)) or shape is None:
        # a mapping or a set has no meaningful order of axes
        raise TypeError(
            f"`{argument}` must be an int or a sequence of non-negative ints; "
            f"received {argument}={shape!r}."
        )
    if not isinstance(shape, (bool, np.bool_)) and isinstance(shape, numbers.Integral):
        dims: tuple[int, ...] = (operator.index(shape),)
    elif isinstance(shape, (Sequence, np.ndarray)) or hasattr(shape, "__iter__"):
        try:
            items = list(shape)
        except TypeError:
            raise TypeError(
                f"`{argument}` must be an int or a sequence of non-negative ints; "
                f"received {argument}={shape!r}."
            ) from None
        dims = tuple(_as_index(d, argument, shape) for d in items)
    else:
        raise TypeError(
            f"`{argument}` must be an int or a sequence of non-negative ints; "
            f"received {argument}={shape!r} of type {type(shape).__name__}."
        )
    for d in dims:
        if d < 0:
            raise InvalidArgumentError(
                f"`{argument}` must contain non-negative integers; received {argument}={shape!r} "
                f"with the negative dimension {d}."
            )
        if d > MAX_ELEMENTS:  # even beside a zero: no index, fan or file header can hold it
            raise InvalidArgumentError(
                f"`{argument}` dimensions must be at most {MAX_ELEMENTS} (2**63 - 1); received "
                f"{argument}={shape!r} with the dimension {d}."
            )
    count_elements(dims, argument)
    return dims


def count_elements(dims: tuple[int, ...], argument: str = "shape") -> int:
    """Return the number of elements, refusing tensors beyond 2**63 - 1 elements."""
    total = math.prod(dims)
    if total > MAX_ELEMENTS:
        raise InvalidArgumentError(
            f"`{argument}` has {total} elements, more than the {MAX_ELEMENTS} "
            f"(2**63 - 1) that varscale can index; received {argument}={dims!r}."
        )
    return total


def check_scale(scale: Any, argument: str = "scale") -> float:
    """Return ``scale`` as a positive finite float, or raise."""
    if isinstance(scale, (bool, np.bool_)) or not isinstance(scale, numbers.Real):
        raise TypeError(
            f"`{argument}` must be a positive finite float; received {argument}={scale!r} "
            f"of type {type(scale).__name__}."
        )
    try:
        value = float(scale)
    except OverflowError:  # an int beyond float64 (10**400)
        value = math.inf
    if not math.isfinite(value) or value <= 0.0:
        raise InvalidArgumentError(
            f"`{argument}` must be a positive finite float; received {argument}={scale!r}."
        )
    return value
