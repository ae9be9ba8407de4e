"""The writing kit every framework's writer uses: the translation's context and exact numbers as code.

Every number a translation writes reads back as the same float64 (:func:`num`);
a gain or a slope is written as the shortest text that gives exactly the same
law when the target reads it (:func:`gain_code`, :func:`slope_code`).

Example:
    >>> num(2.011727389229801), gain_code(2.0), slope_code(1.0)
    ('2.011727389229801', 'math.sqrt(2.0)', '1.0')
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING

from .._errors import InvalidArgumentError
from .._fans import compute_fans
from .._gain import calculate_gain
from .._math import TRUNC_STD_2
from .._spec import truncated_std_factor
from ._reading import PRESETS, SNAKE, squared

if TYPE_CHECKING:
    from .._spec import Spec
    from ._base import Framework

__all__ = [
    "PRESET_OF",
    "Bounds",
    "Ctx",
    "UnrepresentableError",
    "closest_trunc",
    "contrib_by_scale",
    "factor_sq",
    "gain_code",
    "gain_law",
    "keras_scale",
    "num",
    "shortest",
    "slope_code",
    "sqrt_int",
    "val",
]


class UnrepresentableError(Exception):
    """A number of the translated code is 0, inf or NaN in float64 (the law is not)."""


def num(x: float) -> str:
    """The shortest text that reads back as the same float64 (``repr``), never rounded.

    Every number the translator writes (a scale, factor, std, limit, bound,
    gain or slope) is nonzero and finite for a real law; a 0.0, inf or NaN
    here is an underflow or overflow of float64, and the translation is refused.

    Example:
        >>> num(1.0009e-12), num(1e-8), num(2.011727389229801)
        ('1.0009e-12', '1e-08', '2.011727389229801')
    """
    v = float(x)
    if v == 0.0 or not math.isfinite(v):
        raise UnrepresentableError(f"a number of the translated code is {v!r} in float64")
    return repr(v)


class Ctx:
    """One translation under way: the source ``spec``, the target framework, the shape, and the notes so far."""

    def __init__(self, spec: Spec, fw: Framework, shape: tuple[int, ...] | None, numbers: bool = False) -> None:
        self.spec, self.fw, self.target, self.shape, self.numbers = spec, fw, fw.name, shape, numbers
        self.notes: list[str] = []

    def fans(self) -> tuple[int, int]:
        if self.shape is None:
            raise InvalidArgumentError(
                f"translating {self.spec.call or 'this initializer'} to {self.target!r} gives numbers that depend on "
                f"the shape; pass `shape` (--shape); received shape=None."
            )
        return self.spec.fans(self.shape)

    def target_fans(self) -> tuple[int, int]:
        """The fans the target computes on the same layer's weight (its own rule, its own layout)."""
        if self.spec.jax_axes is not None:
            self.fans()  # the shape is required
            return compute_fans(self.shape if self.shape is not None else (), "tf")
        return self.fans()

    def q(self) -> float:
        """param² · n for a fan-based spec."""
        s = self.spec
        scale = s.scale_value
        if s.family == "uniform":
            return 3.0 * scale
        if s.family == "untruncated_normal":
            return scale
        if abs(s.param_factor - 1 / TRUNC_STD_2) < 1e-15:
            return scale / (TRUNC_STD_2 * TRUNC_STD_2)
        return factor_sq(s) * scale


def factor_sq(s: Spec) -> float:
    """param_factor² without the rounding of sqrt(1.3)² (TF contrib's factor is exactly 1.3)."""
    return 1.3 if s.contrib_factor else s.param_factor**2


def contrib_by_scale(ctx: Ctx) -> str:
    """How a target with a corrected fan-based truncated normal reproduces TF contrib's ×1.3 law (a note's end)."""
    return f"; reproduced exactly with scale = 1.3·0.8796²·factor = {num(keras_scale(ctx))}"


def keras_scale(ctx: Ctx) -> float:
    """The ``scale`` of a Keras-style VarianceScaling giving the same law (its truncation corrected by 0.8796)."""
    s = ctx.spec
    if s.family == "truncated_normal" and abs(s.param_factor - 1 / TRUNC_STD_2) >= 1e-15:
        return factor_sq(s) * TRUNC_STD_2 * TRUNC_STD_2 * s.scale_value
    return s.scale_value


#: (scale, mode, distribution) -> (class name, snake-case name) of the six presets.
PRESET_OF: dict[tuple[float, str, str], tuple[str, str]] = {
    law: (cls, next(s for s, c in SNAKE.items() if c == cls and not s.startswith(("xavier", "kaiming"))))
    for cls, law in PRESETS.items()
}


def val(v: float) -> str:
    """A constant or gain as code (``0.0``, ``-1.5``): any finite float, zero included."""
    return repr(float(v))


def shortest(x: float, same: Callable[[float], bool]) -> str:
    """The shortest decimal ``c`` (1 to 17 significant digits, from ``x``) with ``same(c)``; else ``repr(x)``.

    ``same`` says whether ``c`` gives exactly the law being translated, so the
    text is short (``a=0.2``) without ever changing the law (no snapping).
    """
    for digits in range(1, 18):
        c = float(f"{x:.{digits}g}")
        if c != 0.0 and same(c):
            return num(c)
    return num(x)


def sqrt_int(g2: float, same: Callable[[float], bool]) -> str | None:
    """``math.sqrt(k)`` for the integer ``k`` nearest ``g2`` when it gives exactly the same law."""
    k = round(g2)
    if k >= 2 and math.isqrt(k) ** 2 != k and same(math.sqrt(k)):
        return f"math.sqrt({num(float(k))})"
    return None


def gain_code(g2: float) -> str:
    """A gain g with g² = ``g2`` as the source's parser reads it back (:func:`varscale._parse.squared`)."""
    def same(g: float) -> bool:
        return squared(g) == g2

    return sqrt_int(g2, same) or shortest(math.sqrt(g2), same)


def slope_code(g2: float) -> str:
    """leaky_relu slope a with 2/(1+a²) = g² (read back as torch's calculate_gain does)."""
    a2 = 2.0 / g2 - 1.0

    def same(a: float) -> bool:
        return squared(calculate_gain("leaky_relu", a)) == g2

    return sqrt_int(a2, same) or shortest(math.sqrt(a2), same)


def closest_trunc(ctx: Ctx, p: float, k: float, normal_fmt: str, trunc_fmt: str) -> tuple[str, str]:
    std = p * truncated_std_factor(k)
    if k > 3.0:
        code = normal_fmt.format(num(std))
        what = f"an untruncated normal with the same std {std:.6g}"
    else:
        code = trunc_fmt.format(num(std / TRUNC_STD_2))
        what = f"a normal truncated at ±2σ' with the same std {std:.6g}"
    ctx.notes.append(
        f"impossible: {ctx.target} truncates only at ±2σ' (this one is cut at ±{k:g}σ' = ±{k * p:.6g}); "
        f"closest: {what}: std error +0.000 %, bounds differ"
    )
    return code, "impossible"


class Bounds:
    """The numbers of a fixed law as code: its bounds ``lo``/``hi``, ``mean`` and truncation ``mlo``/``mhi``.

    A zero-mean law writes each number exactly (:func:`num`); a law centred on
    ``m`` != 0 writes ``m ± p`` at 15 digits, so the bounds the source wrote read back.
    """

    def __init__(self, p: float, k: float, m: float = 0.0) -> None:
        self.p, self.k, self.m = p, k, m

    def _v(self, x: float) -> str:
        return val(float(f"{x:.15g}")) if self.m else num(x)

    @property
    def lo(self) -> str:
        return self._v(self.m - self.p)

    @property
    def hi(self) -> str:
        return self._v(self.m + self.p)

    @property
    def mean(self) -> str:
        return self._v(self.m) if self.m else "0.0"

    @property
    def mlo(self) -> str:
        return self._v(self.m - self.k * self.p)

    @property
    def mhi(self) -> str:
        return self._v(self.m + self.k * self.p)


def gain_law(ctx: Ctx) -> tuple[float, bool, str] | None:
    """A fan-based law as torch-style targets write it (Xavier/He with a gain): ``(gain², uniform, mode text)``,
    or None when they have no one call for it (no mode, JAX's fan_geo_avg, a fan-based truncated normal).

    ``mode text`` is ``""`` for fan_in (their default) and ``", mode='fan_out'"`` otherwise.
    """
    s = ctx.spec
    if s.mode is None or s.mode == "fan_geo_avg" or s.family == "truncated_normal":
        return None  # no fan-based truncated normal: absolute bounds, per shape
    q = ctx.q()
    uniform = s.family == "uniform"
    return (q / 3 if uniform else q), uniform, ("" if s.mode == "fan_in" else f", mode={s.mode!r}")
