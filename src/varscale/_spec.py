"""The canonical description of an initializer, independent of its framework (:class:`Spec`).

:func:`varscale.parse` reads any framework's expression into a :class:`Spec`;
:func:`varscale.translate` writes one in any framework's code. A Spec knows
its family, its parameter as a function of ``(fan_in, fan_out)``, its bounds
and its source's quirks; the source framework's own rules (which shapes it
refuses, how it computes fans) come from :mod:`varscale.frameworks`.

Example:
    >>> import varscale as vs
    >>> s = vs.Spec("keras", "truncated_normal", 2.0, "fan_in", param_factor=1 / 0.87962566103423978, cut=2.0)
    >>> round(s.describe((3, 3, 64, 128))["std"], 6)
    0.058926
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from ._errors import InvalidArgumentError
from ._fans import Layout
from ._math import TRUNC_STD_2, truncated_normal_std
from ._validation import check_shape

__all__ = ["FAMILIES", "OTHER_FAMILIES", "Spec", "truncated_std_factor"]

FAMILIES = ("uniform", "truncated_normal", "untruncated_normal", "constant", "orthogonal", "identity")
#: Families that are not a zero-mean random law: ``fixed`` is the value (constant) or the gain.
OTHER_FAMILIES = ("constant", "orthogonal", "identity")

C = TRUNC_STD_2  # std of a standard normal truncated to [-2, 2]


def truncated_std_factor(cut: float) -> float:
    """Std of a standard normal truncated to ``[-cut, cut]``, accurate for every cut.

    A narrow cut (``trunc_normal_(w, std=1e8)``: ``cut = 2e-8``) gives the
    uniform limit ``cut/sqrt(3)``, never 0 (:func:`varscale._math.truncated_normal_std`).

    Example:
        >>> round(truncated_std_factor(2.0), 8)
        0.87962566
        >>> round(truncated_std_factor(2e-8) * 3 ** 0.5 / 2e-8, 12)
        1.0
    """
    if cut == 2.0:
        return C
    return truncated_normal_std(-cut, cut)


@dataclass(frozen=True)
class Spec:
    """Canonical description of an initializer, independent of its framework.

    Fan-based specs (``scale`` and ``mode`` set) draw, for ``n`` the fan of
    ``mode`` (clamped to ``max(1, n)`` when ``clamp``):

    * ``uniform``: ``U(-L, L)``, ``L = sqrt(3·scale/n)``;
    * ``untruncated_normal``: ``N(0, scale/n)``;
    * ``truncated_normal``: ``N(0, σ'²)`` cut at ``±cut·σ'`` with
      ``σ' = param_factor·sqrt(scale/n)`` — ``param_factor`` is ``1/0.8796…``
      (corrected, Keras/TF ≥ 1.10/JAX), ``1`` (TF ≤ 1.9, ``uncorrected``) or
      ``sqrt(1.3)`` (TF contrib, ``contrib_factor``).

    Fixed specs (``fixed`` set, ``scale``/``mode`` None) have a parameter that
    does not depend on the shape: ``L`` for uniform, ``σ'`` for the normals.

    Attributes:
        framework: the source framework (one of :func:`varscale.frameworks.names`).
        family: ``uniform``, ``truncated_normal`` or ``untruncated_normal``.
        scale: the variance numerator (fan-based), else None.
        mode: ``fan_in``, ``fan_out``, ``fan_avg`` or ``fan_geo_avg`` (JAX), else None.
        param_factor: σ' / sqrt(scale/n) for fan-based truncated normals.
        cut: truncation half-width in units of σ' (``inf`` if untruncated).
        fixed: fixed ``L`` or ``σ'`` when not fan-based.
        absolute_bounds: the source wrote the truncation bounds as absolute values.
        contrib_factor: TF contrib's ``1.3·factor``.
        uncorrected: TF ≤ 1.9's truncated normal without the 0.8796 correction.
        mindspore_uniform_bug: MindSpore's ``VarianceScaling('truncated_normal')`` (draws uniform).
        mean: the centre of a fixed law (``RandomNormal(mean=1.0)``, ``uniform_(w, 0, 1)``); 0 otherwise.
        clamp: the source clamps ``n`` to ``max(1, n)``.
        layout: the source's weight layout: ``"tf"`` (``(*k, in, out)``),
            ``"torch"`` (``(out, in, *k)``) or a :class:`varscale.Layout`.
        shape: the shape the expression carried (MindSpore ``initializer(..., shape)``,
            ``torch.empty(...)``), else None.
        jax_axes: JAX's ``(in_axis, out_axis, batch_axis)`` when not the
            defaults; the fans are then JAX's (float) products over them.
        call: the function or class called, as written.
        source: the text parsed.
    """

    framework: str
    family: str
    scale: float | None
    mode: str | None
    param_factor: float = 1.0
    cut: float = math.inf
    fixed: float | None = None
    absolute_bounds: bool = False
    contrib_factor: bool = False
    uncorrected: bool = False
    mindspore_uniform_bug: bool = False
    clamp: bool = True
    layout: str | Layout = "tf"
    shape: tuple[int, ...] | None = None
    jax_axes: tuple[Any, Any, Any] | None = None
    mean: float = 0.0
    call: str = ""
    source: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        from .frameworks import names

        if self.framework not in names():
            raise InvalidArgumentError(
                f"`framework` must be one of {', '.join(map(repr, sorted(names())))}; "
                f"received framework={self.framework!r}."
            )
        if self.family not in FAMILIES:
            raise InvalidArgumentError(
                f"`family` must be one of {', '.join(map(repr, sorted(FAMILIES)))}; received family={self.family!r}."
            )
        if self.family in OTHER_FAMILIES:
            if self.fixed is None or not math.isfinite(self.fixed):
                raise InvalidArgumentError(
                    f"`fixed` must be a finite float (the value or the gain) for a {self.family} spec; "
                    f"received fixed={self.fixed!r}."
                )
        elif self.fixed is None:
            if self.scale is None or not (self.scale > 0 and math.isfinite(self.scale)):
                raise InvalidArgumentError(
                    f"`scale` must be a positive finite float for a fan-based spec; received scale={self.scale!r}."
                )
            if self.mode not in ("fan_in", "fan_out", "fan_avg", "fan_geo_avg"):
                raise InvalidArgumentError(
                    f"`mode` must be one of 'fan_avg', 'fan_geo_avg', 'fan_in', 'fan_out' for a fan-based spec; "
                    f"received mode={self.mode!r}."
                )
        elif not (self.fixed > 0 and math.isfinite(self.fixed)):
            raise InvalidArgumentError(f"`fixed` must be a positive finite float; received fixed={self.fixed!r}.")
        if not self.cut > 0:
            raise InvalidArgumentError(f"`cut` must be positive; received cut={self.cut!r}.")
        if not math.isfinite(self.mean) or (self.mean != 0.0 and (self.fixed is None
                                                                  or self.family in OTHER_FAMILIES)):
            raise InvalidArgumentError(
                f"`mean` must be finite, and nonzero only for a fixed normal or uniform; received mean={self.mean!r}."
            )

    @property
    def scale_value(self) -> float:
        """``scale`` of a fan-based spec (an error for a fixed one)."""
        if self.scale is None:
            raise InvalidArgumentError(f"`scale` is None: {self.call or 'this spec'} is not fan-based.")
        return self.scale

    @property
    def fan_based(self) -> bool:
        """True when the numbers depend on the fans."""
        return self.fixed is None

    # -- numbers -------------------------------------------------------------
    def fans(self, shape: Any) -> tuple[Any, Any]:
        """``(fan_in, fan_out)`` of ``shape`` in the source's layout (JAX's rule for named JAX axes).

        A fan-based spec refuses the shapes its source framework refuses (:meth:`check_shape`).
        """
        if self.fan_based:
            return self._raw_fans(self.check_shape(shape))
        return self._raw_fans(check_shape(shape))

    def _raw_fans(self, dims: tuple[int, ...]) -> tuple[Any, Any]:
        from .frameworks import get

        return get(self.framework).fans(self, dims)

    def _raw_n(self, fan_in: float, fan_out: float) -> float:
        if self.mode is None:
            raise InvalidArgumentError(f"`mode` is None: {self.call} is not fan-based.")
        if self.mode == "fan_in":
            return float(fan_in)
        if self.mode == "fan_out":
            return float(fan_out)
        if self.mode == "fan_avg":
            return (fan_in + fan_out) / 2.0
        return math.sqrt(fan_in * fan_out)

    def check_shape(self, shape: Any, *, drawing: bool = False) -> tuple[int, ...]:
        """``shape`` as a tuple of ints, refused where the source framework refuses it.

        For a fan-based spec: torch, MindSpore and JAX (default ``in_axis``)
        compute no fans for fewer than 2 axes; JAX divides by every dimension;
        TF contrib, torch and MindSpore divide by ``n`` without ``max(1, n)``.
        Those shapes raise :class:`~varscale.InvalidArgumentError` quoting the
        source's own error. torch's ``kaiming_*_`` leaves a zero-element
        tensor unchanged: it has no numbers to describe, but ``drawing=True``
        (drawing the tensor itself, which is empty) accepts it.

        Example:
            >>> import varscale as vs
            >>> s = vs.parse("nn.init.kaiming_uniform_(w)")
            >>> s.check_shape([128, 64])
            (128, 64)
            >>> try:
            ...     s.check_shape((5,))
            ... except vs.InvalidArgumentError as err:
            ...     print(str(err).split(" (")[0])
            `shape` must have at least 2 axes for torch's kaiming_uniform_()
        """
        from .frameworks import get

        dims = check_shape(shape)
        if self.fan_based:
            get(self.framework).check_shape(self, dims, drawing=drawing)
        return dims

    def n(self, fan_in: float, fan_out: float) -> float:
        """The fan the mode uses (clamped if the source clamps)."""
        n = self._raw_n(fan_in, fan_out)
        if self.clamp:
            return max(1.0, n)
        if n == 0:
            raise InvalidArgumentError(
                f"{self.framework}'s {self.call or 'initializer'} divides by n = 0 ({self.mode}: fan_in={fan_in}, "
                f"fan_out={fan_out}) and raises ZeroDivisionError; received fan_in={fan_in!r}, fan_out={fan_out!r}."
            )
        return n

    def param(self, fan_in: float, fan_out: float) -> float:
        """``L`` (uniform) or ``σ'`` (normals) for these fans."""
        if self.fixed is not None:
            return self.fixed
        var = self.scale_value / self.n(fan_in, fan_out)
        if self.family == "uniform":
            return math.sqrt(3.0 * var)
        if self.family == "untruncated_normal":
            return math.sqrt(var)
        return self.param_factor * math.sqrt(var)

    def flat(self, dims: tuple[int, ...]) -> tuple[int, int]:
        """``(rows, cols)`` the weight is flattened to for an orthogonal or identity matrix, in the source's layout."""
        if len(dims) < 2:
            return (1, dims[0]) if dims else (1, 1)
        if self.layout == "torch":
            return dims[0], math.prod(dims[1:])
        return math.prod(dims[:-1]), dims[-1]

    def _other_std(self, dims: tuple[int, ...]) -> float:
        g = float(self.fixed or 0.0)
        if self.family == "constant":
            return 0.0
        rows, cols = self.flat(dims)
        if rows * cols == 0:
            return 0.0
        if self.family == "orthogonal":  # orthonormal columns (rows >= cols) or rows: E[w²] = 1/max(rows, cols)
            return abs(g) / math.sqrt(max(rows, cols))
        frac = min(rows, cols) / (rows * cols)  # identity: that share of the entries is g, the rest 0
        return abs(g) * math.sqrt(frac - frac * frac)

    def std(self, fan_in: float, fan_out: float) -> float:
        """The realized standard deviation for these fans."""
        if self.family in OTHER_FAMILIES:
            raise InvalidArgumentError(f"the std of a {self.family} spec depends on the shape: use describe(shape).")
        p = self.param(fan_in, fan_out)
        if self.family == "uniform":
            return p / math.sqrt(3.0)
        if self.family == "untruncated_normal":
            return p
        return p * truncated_std_factor(self.cut)

    def bounds(self, fan_in: float, fan_out: float) -> tuple[float, float]:
        """Support of the distribution (``±inf`` for an untruncated normal)."""
        p = self.param(fan_in, fan_out)
        if self.family == "constant":
            return (p, p)
        if self.family == "orthogonal":
            return (-abs(p), abs(p))
        if self.family == "identity":
            return (min(0.0, p), max(0.0, p))
        m = self.mean
        if self.family == "uniform":
            return (m - p, m + p)
        if self.family == "untruncated_normal" or math.isinf(self.cut):
            return (-math.inf, math.inf)
        return (m - self.cut * p, m + self.cut * p)

    def formula(self) -> str:
        """The formula as text, in terms of ``n``."""
        nm = {
            None: "",
            "fan_in": "fan_in",
            "fan_out": "fan_out",
            "fan_avg": "(fan_in + fan_out)/2",
            "fan_geo_avg": "sqrt(fan_in·fan_out)",
        }[self.mode]
        clamp = "max(1, n)" if self.clamp else "n"
        if self.family == "constant":
            return f"every value = {self.fixed:.6g}"
        if self.family == "orthogonal":
            return (f"gain {self.fixed:.6g} × a Haar-random (semi-)orthogonal matrix, the weight flattened to "
                    f"{'(shape[0], rest)' if self.layout == 'torch' else '(rest, shape[-1])'}")
        if self.family == "identity":
            return f"gain {self.fixed:.6g} × the identity matrix (2-D weights)"
        if self.fixed is not None:
            m = self.mean
            if self.family == "uniform":
                if m:
                    return f"U({m - self.fixed:.6g}, {m + self.fixed:.6g}) (fixed; mean {m:.6g}, half-width {self.fixed:.6g})"
                return f"U(-L, L), L = {self.fixed:.6g} (fixed)"
            if self.family == "untruncated_normal":
                return f"N({m:.6g}, σ²), σ = {self.fixed:.6g} (fixed)"
            return f"N({m:.6g}, σ'²) truncated to mean ± {self.cut:g}σ', σ' = {self.fixed:.6g} (fixed)"
        if self.family == "uniform":
            return f"U(-L, L), L = sqrt(3·{self.scale:g}/{clamp}), n = {nm}"
        if self.family == "untruncated_normal":
            return f"N(0, σ²), σ = sqrt({self.scale:g}/{clamp}), n = {nm}"
        if self.contrib_factor:
            how = "sqrt(1.3·scale/n) (TF contrib, no 0.8796 correction)"
        elif self.uncorrected:
            how = "sqrt(scale/n) (TF ≤ 1.9, uncorrected)"
        elif abs(self.param_factor - 1 / C) < 1e-15:
            how = "sqrt(scale/n)/0.87962566103423978"
        else:
            how = f"{self.param_factor:.10g}·sqrt(scale/n)"
        return f"N(0, σ'²) truncated to ±{self.cut:g}σ', σ' = {how}, scale = {self.scale:g}, n = {nm}"

    def initializer(self, shape: Any, seed: Any = None) -> Any:
        """The varscale initializer drawing this law for ``shape`` (read in the spec's layout) from ``seed``'s stream.

        A :class:`~varscale.VarianceScaling` when varscale has the law for every
        shape, else a standard initializer holding this shape's numbers
        (:func:`varscale._law.initializer_for`).

        Example:
            >>> import varscale as vs
            >>> init = vs.parse("nn.init.kaiming_normal_(w, mode='fan_out')").initializer((64, 3, 3, 3), seed=0)
            >>> init
            VarianceScaling(scale=2.0, mode='fan_out', distribution='untruncated_normal', seed=0, layout='torch')
            >>> w = init((64, 3, 3, 3))
            >>> w.shape, round(float(w.std()), 2)
            ((64, 3, 3, 3), 0.06)
        """
        from ._law import initializer_for

        return initializer_for(self, shape, seed)

    def density(self, shape: Any, x: Any) -> Any:
        """The probability density of this law for ``shape`` at ``x`` (float64, the shape of ``x``).

        Example:
            >>> import varscale as vs
            >>> round(float(vs.parse("keras.initializers.RandomUniform(-0.5, 0.5)").density((4, 4), 0.0)), 6)
            1.0
        """
        from ._law import density

        return density(self, shape, x)

    def describe(self, shape: Any = None) -> dict[str, Any]:
        """Fans, n, parameter, realized std, limit, bounds and formula for ``shape``.

        ``shape`` defaults to the shape the expression carried.

        Example:
            >>> import varscale as vs
            >>> d = vs.parse("nn.init.kaiming_uniform_(w, a=math.sqrt(5))").describe((128, 64))
            >>> d["fan_in"], round(d["limit"], 6)
            (64, 0.125)
        """
        if shape is None:
            shape = self.shape
        if shape is None:
            raise InvalidArgumentError(
                f"`shape` is required to describe {self.call or 'this initializer'}; received shape=None."
            )
        fan_in, fan_out = self.fans(shape)
        n = self.n(fan_in, fan_out) if self.fan_based else None
        p = self.param(fan_in, fan_out)
        lo, hi = self.bounds(fan_in, fan_out)
        if self.family in OTHER_FAMILIES:
            dims = check_shape(shape)
            std = self._other_std(dims)
            return {
                "framework": self.framework, "shape": dims, "layout": self.layout if isinstance(self.layout, str)
                else repr(self.layout), "fan_in": fan_in, "fan_out": fan_out, "mode": None, "n": None,
                "family": self.family, "param_std": None, "limit": None, "value" if self.family == "constant"
                else "gain": p, "std": std, "variance": std * std, "bounds": (lo, hi), "formula": self.formula(),
            }
        return {
            "framework": self.framework,
            "shape": tuple(int(d) for d in (shape if isinstance(shape, (tuple, list)) else (shape,))),
            "layout": (
                f"jax(in_axis={self.jax_axes[0]!r}, out_axis={self.jax_axes[1]!r}, batch_axis={self.jax_axes[2]!r})"
                if self.jax_axes is not None
                else self.layout if isinstance(self.layout, str) else repr(self.layout)
            ),
            "fan_in": fan_in,
            "fan_out": fan_out,
            "mode": self.mode,
            "n": n,
            "family": self.family,
            "param_std": None if self.family == "uniform" else p,
            "limit": p if self.family == "uniform" else None,
            "std": self.std(fan_in, fan_out),
            "variance": self.std(fan_in, fan_out) * self.std(fan_in, fan_out),  # inf, not OverflowError
            "mean": self.mean,
            "bounds": (lo, hi),
            "formula": self.formula(),
        }


# ---------------------------------------------------------------------------
# Framework aliases (dotted prefixes) and the functions each one offers.
# ---------------------------------------------------------------------------

