"""Fan computation: which axes of a weight shape are inputs and outputs.

Pure Python, no arrays. The ``"tf"`` layout follows Keras 3's ``compute_fans``
exactly (rank 0 → (1, 1); rank 1 ``(k,)`` → (k, k); rank 2 → (s0, s1);
rank ≥ 3 is ``(*kernel, in, out)`` with the receptive field from the kernel
axes). The ``"torch"`` layout is ``(out, in, *kernel)`` as in PyTorch and
MindSpore. A :class:`Layout` names the axes explicitly as JAX does
(``in_axis``, ``out_axis``, ``batch_axis``); every axis not named is part of
the receptive field. Rank 0 and 1 shapes take Keras' rules in every layout.

Fans are exact integers; a zero-size dimension gives a zero fan, and the
variance computation clamps the fan to ``max(1, n)`` as Keras does.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ._errors import InvalidArgumentError, unknown_name
from ._validation import ShapeLike, check_shape

__all__ = ["LAYOUT_NAMES", "Layout", "LayoutLike", "compute_fans", "resolve_layout"]

LAYOUT_NAMES = ("tf", "torch")


def _axes(value: Any, argument: str) -> tuple[int, ...]:
    if isinstance(value, bool):
        raise TypeError(f"`{argument}` must be an int or a sequence of ints; received {argument}={value!r}.")
    if isinstance(value, Sequence) and not isinstance(value, str):
        items = list(value)
    else:
        items = [value]
    out = []
    for item in items:
        if isinstance(item, bool):
            raise TypeError(f"`{argument}` must be an int or a sequence of ints; received {argument}={value!r}.")
        try:
            out.append(operator.index(item))
        except TypeError:
            raise TypeError(
                f"`{argument}` must be an int or a sequence of ints; received {argument}={value!r}."
            ) from None
    return tuple(out)


@dataclass(frozen=True)
class Layout:
    """Explicit fan axes, as JAX's ``variance_scaling`` names them.

    Args:
        in_axis: axis or axes whose product is the input size.
        out_axis: axis or axes whose product is the output size.
        batch_axis: axes that are neither (e.g. the group axis of a packed
            weight); they do not count in either fan.

    Every other axis is part of the receptive field, multiplied into both fans.

    Example:
        >>> import varscale as vs
        >>> vs.compute_fans((3, 3, 64, 128), vs.Layout(in_axis=-2, out_axis=-1))
        (576, 1152)
    """

    in_axis: int | tuple[int, ...] = -2
    out_axis: int | tuple[int, ...] = -1
    batch_axis: int | tuple[int, ...] = ()

    def __post_init__(self) -> None:
        for name in ("in_axis", "out_axis", "batch_axis"):
            axes = _axes(getattr(self, name), name)
            raw = getattr(self, name)
            normalized: int | tuple[int, ...] = axes[0] if isinstance(raw, int) else axes
            object.__setattr__(self, name, normalized)
        if not _axes(self.in_axis, "in_axis") or not _axes(self.out_axis, "out_axis"):
            raise InvalidArgumentError(
                f"`in_axis` and `out_axis` must name at least one axis each; "
                f"received in_axis={self.in_axis!r}, out_axis={self.out_axis!r}."
            )

    def axes(self, rank: int) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
        """Return the (in, out, batch) axes normalized to ``0 <= axis < rank``."""
        result = []
        seen: dict[int, str] = {}
        for name in ("in_axis", "out_axis", "batch_axis"):
            norm = []
            for axis in _axes(getattr(self, name), name):
                if not -rank <= axis < rank:
                    raise InvalidArgumentError(
                        f"`{name}` must be an axis of a rank-{rank} shape (between {-rank} and "
                        f"{rank - 1}); received {name}={getattr(self, name)!r}."
                    )
                a = axis % rank
                if a in seen:
                    raise InvalidArgumentError(
                        f"`{name}` must not repeat an axis already used by `{seen[a]}`; "
                        f"received {name}={getattr(self, name)!r} for a rank-{rank} shape."
                    )
                seen[a] = name
                norm.append(a)
            result.append(tuple(norm))
        return result[0], result[1], result[2]

    def to_config(self) -> dict[str, Any]:
        """JSON-safe dict form."""
        def plain(v: int | tuple[int, ...]) -> int | list[int]:
            return v if isinstance(v, int) else list(v)

        return {
            "in_axis": plain(self.in_axis),
            "out_axis": plain(self.out_axis),
            "batch_axis": plain(self.batch_axis),
        }


LayoutLike = str | Layout

_TORCH = "torch"


def resolve_layout(layout: Any, argument: str = "layout") -> str | Layout:
    """Validate a layout argument: ``"tf"``, ``"torch"``, a :class:`Layout` or its dict."""
    if isinstance(layout, Layout):
        return layout
    if isinstance(layout, dict):
        unknown = set(layout) - {"in_axis", "out_axis", "batch_axis"}
        if unknown:
            raise InvalidArgumentError(
                f"`{argument}` dict may only have the keys 'batch_axis', 'in_axis', 'out_axis'; "
                f"received {argument}={layout!r}."
            )
        return Layout(**layout)
    if isinstance(layout, str):
        key = layout.lower()
        if key in LAYOUT_NAMES:
            return key
        raise unknown_name(argument, layout, LAYOUT_NAMES)
    raise TypeError(
        f"`{argument}` must be 'tf', 'torch' or a varscale.Layout; received {argument}={layout!r} "
        f"of type {type(layout).__name__}."
    )


def compute_fans(shape: ShapeLike, layout: str | Layout = "tf") -> tuple[int, int]:
    """Compute ``(fan_in, fan_out)`` of a weight shape.

    Args:
        shape: the full weight shape (an int or a sequence of ints).
        layout: ``"tf"`` for ``(*kernel, in, out)`` (Keras, TensorFlow, JAX,
            Flax), ``"torch"`` for ``(out, in, *kernel)`` (PyTorch,
            MindSpore), or a :class:`Layout` naming the axes.

    Returns:
        The two fans as Python ints. Rank 0 gives ``(1, 1)`` and rank 1
        ``(k,)`` gives ``(k, k)`` in every layout (Keras' rules).

    Example:
        >>> import varscale as vs
        >>> vs.compute_fans((3, 3, 64, 128))
        (576, 1152)
        >>> vs.compute_fans((128, 64, 3, 3), layout="torch")
        (576, 1152)
    """
    dims = check_shape(shape)
    lay = resolve_layout(layout)
    rank = len(dims)
    if rank == 0:
        return 1, 1
    if rank == 1:
        return dims[0], dims[0]
    if isinstance(lay, Layout):
        ins, outs, batch = lay.axes(rank)
        named = set(ins) | set(outs) | set(batch)
        receptive = math.prod(d for i, d in enumerate(dims) if i not in named)
        fan_in = math.prod(dims[i] for i in ins) * receptive
        fan_out = math.prod(dims[i] for i in outs) * receptive
        return fan_in, fan_out
    if lay == _TORCH:
        receptive = math.prod(dims[2:])
        return dims[1] * receptive, dims[0] * receptive
    receptive = math.prod(dims[:-2])
    return dims[-2] * receptive, dims[-1] * receptive
