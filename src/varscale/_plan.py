"""What to generate: output formats, distribution parameters and region plans.

A *plan* describes the flat element indices of a region of the full tensor as
``len(starts)`` runs of ``run_len`` elements each; element ``j`` of run ``r``
has the flat index ``starts[r] + j*stride`` and goes to output position
``r*run_len + j``. A full tensor is one run; a column shard of a matrix is one
run per row. Cost is proportional to the region's size.
"""

from __future__ import annotations

import math
import numbers
import operator
from collections.abc import Callable
from dataclasses import dataclass
from types import EllipsisType
from typing import TypeAlias

import numpy as np
import numpy.typing as npt

from ._codes import Kind
from ._errors import InvalidArgumentError

__all__ = [
    "KIND_NORMAL",
    "KIND_UNIFORM",
    "Plan",
    "Region",
    "Sampler",
    "normal_sampler",
    "plan_region",
    "uniform_sampler",
]

#: the kinds under their former names (the members of :class:`varscale._codes.Kind`)
KIND_UNIFORM = Kind.UNIFORM
KIND_NORMAL = Kind.NORMAL

#: What ``region=`` accepts: None (everything), a slice, an int, or a tuple of slices, ints and one ``...``
Region: TypeAlias = "slice | int | tuple[slice | int | EllipsisType, ...] | None"


@dataclass(frozen=True)
class Sampler:
    """The per-element transform: a uniform on ±limit or a (truncated) normal.

    For the normal, ``a`` and ``b`` are the bounds in std units (±inf for
    untruncated) and ``P, W, Q`` are Φ(a), Φ(b) − Φ(a) and 1 − Φ(b).
    Every value is ``loc + limit·(2u − 1)`` or ``loc + std·z``.
    Built only by :func:`uniform_sampler` and :func:`normal_sampler` (they
    validate the law and compute ``P, W, Q``); nothing builds one by hand.
    """

    kind: Kind
    loc: float = 0.0
    limit: float = 0.0
    std: float = 0.0
    a: float = -math.inf
    b: float = math.inf
    P: float = 0.0
    W: float = 1.0
    Q: float = 0.0


def uniform_sampler(low: float, high: float) -> Sampler:
    """U(low, high) as ``loc + half·(2u − 1)``, ``loc = (low + high)/2``, ``half = (high − low)/2``."""
    low, high = float(low), float(high)
    if not (math.isfinite(low) and math.isfinite(high)) or not low <= high:
        raise InvalidArgumentError(
            f"`low` and `high` must be finite with low <= high; received low={low!r}, high={high!r}."
        )
    if low == -high:
        return Sampler(Kind.UNIFORM, limit=high)
    return Sampler(Kind.UNIFORM, loc=(low + high) / 2.0, limit=(high - low) / 2.0)


def normal_sampler(
    mean: float, std: float, lower: float | None = None, upper: float | None = None
) -> Sampler:
    """N(mean, std²), optionally truncated to the *absolute* interval [lower, upper].

    The bounds are converted to std units ``a = (lower − mean)/std``; the
    interval must hold at least 1e-200 of the normal's mass.
    """
    from ._math import truncation_constants

    mean, std = float(mean), float(std)
    if not (math.isfinite(mean) and math.isfinite(std)) or std < 0.0:
        raise InvalidArgumentError(
            f"`mean` and `std` must be finite with std >= 0; received mean={mean!r}, std={std!r}."
        )
    if std == 0.0:
        return Sampler(Kind.UNIFORM, loc=mean, limit=0.0)
    a = -math.inf if lower is None else (float(lower) - mean) / std
    b = math.inf if upper is None else (float(upper) - mean) / std
    if math.isnan(a) or math.isnan(b) or not a < b:
        raise InvalidArgumentError(
            f"the truncation bounds must satisfy lower < upper; received lower={lower!r}, upper={upper!r}."
        )
    P, W, Q = truncation_constants(a, b)
    if W < 1e-200:
        raise InvalidArgumentError(
            f"the truncation interval [{lower!r}, {upper!r}] holds only {W:.3g} of N({mean!r}, {std!r}²); "
            f"it must hold at least 1e-200."
        )
    return Sampler(Kind.NORMAL, loc=mean, std=std, a=a, b=b, P=P, W=W, Q=Q)


@dataclass(frozen=True)
class Plan:
    """Runs of flat indices (see the module docstring) and the output shape."""

    starts: npt.NDArray[np.int64]
    run_len: int
    stride: int
    out_shape: tuple[int, ...]

    @property
    def size(self) -> int:
        return len(self.starts) * self.run_len


def _full_plan(shape: tuple[int, ...]) -> Plan:
    total = math.prod(shape)
    return Plan(np.zeros(1 if total else 0, dtype=np.int64), total, 1, shape)


def plan_region(
    shape: tuple[int, ...], region: Region | object, check: Callable[[tuple[int, ...], int], None] | None = None
) -> Plan:
    """Turn ``region`` (None, a slice, an int, or a tuple of those, maybe with
    ``...``: a :data:`Region`) into a :class:`Plan` whose output equals
    ``full[region]``; anything else is refused with the argument named.

    ``check``, if given, is called with the output shape and the bytes the
    plan itself will take (its int64 run starts and the temporaries that build
    them) before anything of the region's size is allocated (the memory guard
    of ``draw``). A slice step matters only between two elements: a slice that
    keeps one element gets step 1, so steps beyond int64 give NumPy's answer.

    Example:
        >>> plan_region((4, 6), (slice(None), slice(0, 1))).starts.tolist()  # a column: one run per row
        [0, 6, 12, 18]
        >>> plan_region((5,), slice(None, None, 10**30)).out_shape  # NumPy: the first element
        (1,)
    """
    if region is None:
        if check is not None:
            check(shape, 0)
        return _full_plan(shape)
    items = region if isinstance(region, tuple) else (region,)
    n_ellipsis = sum(1 for it in items if it is Ellipsis)
    if n_ellipsis > 1:
        raise InvalidArgumentError(f"`region` may contain at most one Ellipsis; received region={region!r}.")
    if n_ellipsis:
        pos = next(i for i, it in enumerate(items) if it is Ellipsis)
        fill = len(shape) - (len(items) - 1)
        items = items[:pos] + (slice(None),) * max(fill, 0) + items[pos + 1 :]
    if len(items) > len(shape):
        raise InvalidArgumentError(
            f"`region` has {len(items)} entries but the shape {shape!r} has only {len(shape)} axes; "
            f"received region={region!r}."
        )
    items = items + (slice(None),) * (len(shape) - len(items))
    # per-axis (start, step, count, keep_axis)
    axes: list[tuple[int, int, int, bool]] = []
    for axis, (it, dim) in enumerate(zip(items, shape, strict=True)):
        if isinstance(it, slice):
            try:
                start, stop, step = it.indices(dim)
            except (TypeError, ValueError) as err:
                kind = TypeError if isinstance(err, TypeError) else InvalidArgumentError
                raise kind(
                    f"`region` has a bad slice {it!r} for axis {axis} ({err}); received region={region!r}."
                ) from None
            count = len(range(start, stop, step))
            if count <= 1:
                # one element (or none): the step plays no part, and NumPy answers a[::10**30] with a[:1];
                # keeping a step beyond int64 would overflow the plan (and the kernel's int64 arithmetic)
                step = 1
            axes.append((start, step, count, True))
        elif not isinstance(it, (bool, np.bool_)) and isinstance(it, numbers.Integral):
            i = operator.index(it)
            if not -dim <= i < dim:
                raise InvalidArgumentError(
                    f"`region` index {i} is out of bounds for axis {axis} of size {dim}; "
                    f"received region={region!r}."
                )
            axes.append((i % dim, 1, 1, False))
        else:
            raise TypeError(
                f"`region` must be a slice, an int, or a tuple of slices and ints; "
                f"received region={region!r} with {it!r}."
            )
    out_shape = tuple(c for (_, _, c, keep) in axes if keep)
    if not shape or any(c == 0 for (_, _, c, _) in axes):
        if check is not None:
            check(out_shape, 0)
        return _full_plan(()) if not shape else Plan(np.zeros(0, dtype=np.int64), 0, 1, out_shape)
    # merge trailing axes that are taken whole into one longer run
    last = len(shape) - 1
    run_len = axes[last][2]
    stride = axes[last][1]
    while last > 0 and stride == 1 and axes[last][0] == 0 and axes[last][2] == shape[last] and axes[last - 1][1] == 1:
        last -= 1
        run_len *= axes[last][2]
    if check is not None:
        # one int64 start per run, and while they are built the previous level and the broadcast
        # temporary: at most 16 bytes per run (plus a few per index of the widest axis); one run
        # (a block of whole rows) is as negligible as the full tensor's plan
        runs = math.prod(axes[i][2] for i in range(last))
        check(out_shape, 0 if runs == 1 else 16 * runs + 24 * max(axes[i][2] for i in range(last)))
    strides = [math.prod(shape[i + 1 :]) for i in range(len(shape))]
    base = sum(axes[i][0] * strides[i] for i in range(len(shape)))
    starts = np.array([base], dtype=np.int64)
    for i in range(last):
        start, step, count, _ = axes[i]
        offs = np.arange(count, dtype=np.int64) * (step * strides[i])
        starts = (starts[:, None] + offs[None, :]).reshape(-1)
    return Plan(starts, run_len, stride, out_shape)
