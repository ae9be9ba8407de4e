"""One parameter's plan: how it is drawn (a per-element law, a constant or a whole matrix) and what the
report says of it (label, layout, fans, std).

:func:`plan_param` turns a resolved initializer (:mod:`varscale._rule_forms`)
and a shape into a :class:`ParamPlan`; :class:`BoundPlan` adds the stream
for writers that draw a tensor region by region.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from ._basic import (
    BasicInitializer,
    Constant,
    Normal,
    Ones,
    Orthogonal,
    TruncatedNormal,
    Uniform,
    Zeros,
    _truncated_moments,
)
from ._codes import Kind
from ._errors import InvalidArgumentError
from ._fans import Layout, compute_fans
from ._initializer import VarianceScaling
from ._plan import Sampler
from ._report import ParamRow
from ._rule_forms import SpecInitializer, is_fan_based
from .stream import Stream

__all__ = ["BoundPlan", "FanError", "MatrixLaw", "ParamPlan", "fans_of", "label_of", "plan_param"]


class FanError(InvalidArgumentError):
    """A fan-based initializer met a parameter with fewer than 2 dimensions."""


# -- one parameter's plan --------------------------------------------------------------------------------------
class MatrixLaw(Protocol):
    """A law drawn as one whole matrix, not element by element (:class:`varscale.Orthogonal`, the stacked
    orthogonal blocks of recurrent kernels): its float64 values for a shape from a stream."""

    @property
    def gain(self) -> float: ...

    def matrix(self, shape: tuple[int, ...], stream: Stream) -> np.ndarray[Any, Any]: ...


@dataclass(frozen=True)
class ParamPlan:
    """How one parameter is drawn: a label and numbers for the report, and what fills it.

    Exactly one of ``sampler`` (a per-element law on the stream), ``constant``
    or ``matrix`` (orthogonal: the whole tensor at once) is set.
    """

    label: str
    layout: str
    fan_in: int | None
    fan_out: int | None
    std: float | None
    sampler: Sampler | None = None
    constant: float | None = None
    matrix: MatrixLaw | None = None

    def row(self, name: str, shape: tuple[int, ...], rule: str, dtype: str = "-") -> ParamRow:
        """The report's row of a parameter ``name`` drawn by this plan, by ``rule``."""
        return ParamRow(name, shape, self.label, self.fan_in, self.fan_out, self.std, rule, layout=self.layout,
                        dtype=dtype)

    def draw(self, shape: tuple[int, ...], dtype: Any, stream: Stream, region: Any = None) -> np.ndarray[Any, Any]:
        """The values (of ``shape``, or its ``region``) as a NumPy array of ``dtype``."""
        from ._basic import round_float64
        from ._generate import draw

        if self.matrix is not None:
            full = self.matrix.matrix(shape, stream)
            return round_float64(full if region is None else full[region], dtype)
        if self.constant is not None:
            return Constant(self.constant)(shape, dtype, region=region)
        assert self.sampler is not None
        return draw(shape, dtype, self.sampler, stream, region=region)


class BoundPlan:
    """A :class:`ParamPlan` with its stream: what ``varscale.io`` writers draw a tensor from, region by region.

    An orthogonal plan computes its matrix once and slices it.
    """

    def __init__(self, plan: ParamPlan, stream: Stream) -> None:
        self.plan = plan
        self.stream = stream
        self._full: np.ndarray[Any, Any] | None = None

    def block(self, shape: tuple[int, ...], dtype: Any, region: Any = None) -> np.ndarray[Any, Any]:
        from ._basic import round_float64

        if self.plan.matrix is not None:
            if self._full is None:
                self._full = self.plan.matrix.matrix(shape, self.stream)
            return round_float64(self._full if region is None else self._full[region], dtype)
        return self.plan.draw(shape, dtype, self.stream, region)


def _layout_text(layout: str | Layout) -> str:
    return str(layout) if isinstance(layout, str) else "Layout(" + ", ".join(
        f"{k}={v}" for k, v in layout.to_config().items()) + ")"


def label_of(init: Any) -> str:
    """A short human label: ``he_normal``, ``VarianceScaling(scale=1/3, uniform)``, ``normal(std=0.02)``."""
    from ._presets import PRESETS

    given = getattr(init, "_label", None)
    if isinstance(given, str):
        return given
    if isinstance(init, VarianceScaling):
        for name, cls in PRESETS.items():
            if type(init) is cls:
                return name
        cfg = init.get_config()
        scale = cfg["scale"]
        text = "1/3" if math.isclose(scale, 1.0 / 3.0, rel_tol=1e-15) else f"{scale:.6g}"
        return f"variance_scaling({text}, {cfg['mode']}, {cfg['distribution']})"
    if isinstance(init, Zeros):
        return "zeros"
    if isinstance(init, Ones):
        return "ones"
    if isinstance(init, Constant):
        return f"constant({init.value:.6g})"
    if isinstance(init, Normal):
        return f"normal({init.mean:.6g}, {init.std:.6g})" if init.mean else f"normal(std={init.std:.6g})"
    if isinstance(init, TruncatedNormal):
        return f"trunc_normal({init.mean:.6g}, {init.std:.6g}, {init.a:.6g}, {init.b:.6g})"
    if isinstance(init, Uniform):
        return f"uniform({init.a:.6g}, {init.b:.6g})"
    if isinstance(init, Orthogonal):
        return f"orthogonal({init.gain:.6g})" if init.gain != 1 else "orthogonal"
    text = repr(init)
    return text if len(text) <= 60 else text[:57] + "..."


def plan_param(init: Any, shape: tuple[int, ...], layout: str | Layout, label: str | None = None) -> ParamPlan:
    """The :class:`ParamPlan` of ``init`` (already resolved) for a parameter of ``shape``.

    Raises :class:`FanError` for a fan-based initializer on fewer than 2 dimensions.

    Example:
        >>> import varscale as vs
        >>> p = plan_param(vs.GlorotUniform(layout="torch"), (64, 32), "torch")
        >>> p.label, p.fan_in, p.fan_out, round(p.std, 6)
        ('glorot_uniform', 32, 64, 0.144338)
    """
    text = label if label is not None else label_of(init)
    if is_fan_based(init) and len(shape) < 2:
        raise FanError(f"{text} is fan-based and needs 2 or more dimensions")
    lay = getattr(init, "layout", layout)
    if isinstance(init, SpecInitializer):
        lay = init.spec.layout
    lay_text = _layout_text(lay)
    if isinstance(init, VarianceScaling):
        d = init.describe(shape)
        return ParamPlan(text, lay_text, d.fan_in, d.fan_out, d.std, sampler=init.sampler(shape))
    if isinstance(init, Orthogonal):
        return ParamPlan(text, lay_text, None, None, init.describe(shape).std, matrix=init)
    if isinstance(init, Constant):
        return ParamPlan(text, "-", None, None, 0.0, constant=init.value)
    if isinstance(init, BasicInitializer):
        return ParamPlan(text, "-", None, None, init.describe(shape).std, sampler=init.sampler(shape))
    if isinstance(init, SpecInitializer):
        sp = init.sampler(shape)
        if init.fan_based:
            fi, fo = init.spec.fans(shape)
            fan_in, fan_out = int(fi), int(fo)
        else:
            fan_in = fan_out = None  # type: ignore[assignment]
            lay_text = "-"
        if sp.kind == Kind.UNIFORM:
            std = sp.limit / math.sqrt(3.0)
        else:
            std = sp.std * math.sqrt(_truncated_moments(sp.a, sp.b)[1])
        return ParamPlan(text, lay_text, fan_in, fan_out, std, sampler=sp)
    raise TypeError(f"cannot plan initializer {init!r}")


def fans_of(shape: tuple[int, ...], layout: str | Layout) -> tuple[int, int]:
    """``compute_fans`` re-exported for the framework modules."""
    return compute_fans(shape, layout)
