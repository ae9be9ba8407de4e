"""Parse an initializer expression written in any supported framework's syntax.

:func:`parse` reads Keras 3, tf.keras 2, TF1 core, TF1 contrib, PyTorch,
JAX/Flax, MindSpore and varscale expressions (and Keras JSON configs) with
:mod:`ast` only — nothing is evaluated, no framework is imported — and returns
a :class:`Spec`: the distribution family, its parameter and bounds as
functions of ``(fan_in, fan_out)``, and each framework's quirks as flags
(TF contrib's ×1.3, TF ≤ 1.9's uncorrected truncation, absolute truncation
bounds, MindSpore's uniform-for-truncated bug, the source's weight layout).

Example:
    >>> import varscale as vs
    >>> s = vs.parse("tf.contrib.layers.variance_scaling_initializer()")
    >>> s.framework, s.family, s.mode, s.contrib_factor
    ('tf_contrib', 'truncated_normal', 'fan_in', True)
    >>> round(s.describe((3, 3, 64, 128))["std"], 6)
    0.059098
"""

from __future__ import annotations

import ast
import difflib
import json
import math
import re
import warnings
from dataclasses import dataclass, field, replace
from typing import Any

from ._errors import InvalidArgumentError
from ._fans import Layout, compute_fans
from ._gain import calculate_gain
from ._math import TRUNC_STD_2, truncated_normal_std
from ._validation import check_shape

__all__ = ["FAMILIES", "FRAMEWORKS", "ParseError", "Spec", "parse", "spec_from_basic", "truncated_std_factor"]

#: Frameworks a Spec can come from (and translation targets).
FRAMEWORKS = ("keras", "tf.keras", "tf1", "tf_contrib", "torch", "jax", "mindspore", "varscale")
FAMILIES = ("uniform", "truncated_normal", "untruncated_normal", "constant", "orthogonal", "identity")
#: Families that are not a zero-mean random law: ``fixed`` is the value (constant) or the gain.
OTHER_FAMILIES = ("constant", "orthogonal", "identity")

MAX_CHARS = 2000
MAX_NODES = 300
MAX_DEPTH = 24

C = TRUNC_STD_2  # std of a standard normal truncated to [-2, 2]


class ParseError(InvalidArgumentError):
    """An initializer expression that :func:`parse` cannot read.

    Attributes:
        source: the text given.
        column: 1-based column of the offending part (0 if it is the whole text).
        snippet: the offending part.
    """

    def __init__(self, reason: str, source: str, column: int = 0, snippet: str = "") -> None:
        self.source, self.column, self.snippet, self.reason = source, column, snippet, reason
        shown = source if len(source) <= 120 else source[:117] + "..."
        where = f" at column {column} ({snippet!r})" if column else ""
        caret = ""
        if column and column <= len(shown):
            caret = "\n  " + " " * (column - 1) + "^"
        super().__init__(f"cannot parse `source`: {reason}{where}; received source={shown!r}" +
                         (f"\n  {shown}{caret}" if caret else ""))


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
        framework: the source framework (one of :data:`FRAMEWORKS`).
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
        if self.framework not in FRAMEWORKS:
            raise InvalidArgumentError(
                f"`framework` must be one of {', '.join(map(repr, sorted(FRAMEWORKS)))}; "
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
        if self.jax_axes is not None:
            return _jax_fans(dims, *self.jax_axes)
        return compute_fans(dims, self.layout)

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
        dims = check_shape(shape)
        if not self.fan_based:
            return dims
        who = f"{self.framework}'s {self.call or 'initializer'}" + ("()" if self.call.isidentifier() else "")
        rank, empty = len(dims), 0 in dims
        torch_noop = self.framework == "torch" and self.call.startswith("kaiming_") and empty
        if torch_noop and drawing:
            return dims
        if torch_noop and rank < 2:
            raise InvalidArgumentError(
                f"`shape` {dims!r} has no elements, and {who} leaves a zero-element tensor unchanged "
                f"(UserWarning: Initializing zero-element tensors is a no-op) without computing fans: there is no "
                f"law to describe; received shape={dims!r}."
            )
        refusal = None
        if rank < 2 and self.framework == "torch":
            refusal = ('ValueError("Fan in and fan out can not be computed for tensor with fewer than 2 '
                       'dimensions")')
        elif rank < 2 and self.framework == "mindspore":
            refusal = ("ValueError(\"'fan_in' and 'fan_out' can not be computed for tensor with fewer than 2 "
                       f'dimensions, but got dimensions {rank}.")')
        elif rank < 2 and self.framework == "jax" and (self.jax_axes is None or self.jax_axes[0] == -2):
            refusal = (f'ValueError("Can\'t compute input and output sizes of a {rank}-dimensional weights tensor '
                       'with default in_axis. Must be at least 2D or specify in_axis explicitly.")')
        if refusal is not None:
            raise InvalidArgumentError(
                f"`shape` must have at least 2 axes for {who} ({self.framework} raises {refusal}); "
                f"received shape={dims!r}."
            )
        if empty and self.framework == "jax":
            raise InvalidArgumentError(
                f"`shape` must not have a zero dimension for {who}: JAX divides by the sizes of the fan axes and "
                f"by the receptive field without max(1, n) and raises ZeroDivisionError; received shape={dims!r}."
            )
        fan_in, fan_out = self._raw_fans(dims)
        if not self.clamp and self._raw_n(fan_in, fan_out) == 0:
            if torch_noop:
                how = ("leaves a zero-element tensor unchanged (UserWarning: Initializing zero-element tensors is "
                       "a no-op): there is no law to describe")
            else:
                how = "divides by it without max(1, n) and raises ZeroDivisionError: float division by zero"
            raise InvalidArgumentError(
                f"`shape` gives n = 0 ({self.mode}: fan_in={fan_in}, fan_out={fan_out}) and {who} {how}; "
                f"received shape={dims!r}."
            )
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

_PREFIXES: list[tuple[tuple[str, ...], str]] = [
    (("tf", "contrib", "layers"), "tf_contrib"),
    (("contrib", "layers"), "tf_contrib"),
    (("tf", "keras", "initializers"), "tf.keras"),
    (("tf_keras", "initializers"), "tf.keras"),
    (("tf", "compat", "v1", "keras", "initializers"), "tf.keras"),
    (("tf", "compat", "v1", "initializers"), "tf1"),
    (("tf", "compat", "v1"), "tf1"),
    (("tf", "initializers"), "tf1"),
    (("tf",), "tf1"),
    (("keras", "initializers"), "keras"),
    (("keras", "src", "initializers"), "keras"),
    (("torch", "nn", "init"), "torch"),
    (("nn", "init"), "torch"),
    (("init",), "torch"),
    (("jax", "nn", "initializers"), "jax"),
    (("flax", "linen", "initializers"), "jax"),
    (("flax", "nnx", "initializers"), "jax"),
    (("nn", "initializers"), "jax"),
    (("nnx", "initializers"), "jax"),
    (("linen", "initializers"), "jax"),
    (("flax", "nn", "initializers"), "jax"),
    (("jax", "nn", "initializers"), "jax"),
    (("jinit",), "jax"),
    (("mindspore", "common", "initializer"), "mindspore"),
    (("ms", "common", "initializer"), "mindspore"),
    (("mindspore", "initializer"), "mindspore"),
    (("varscale", "compat", "keras", "initializers"), "keras"),
    (("varscale", "compat", "tf1"), "tf1"),
    (("varscale", "compat", "tf_contrib", "layers"), "tf_contrib"),
    (("varscale", "compat", "torch", "nn", "init"), "torch"),
    (("varscale", "compat", "jax", "nn", "initializers"), "jax"),
    (("varscale", "compat", "mindspore", "common", "initializer"), "mindspore"),
    (("varscale",), "varscale"),
    (("vs",), "varscale"),
]

_KERAS_PRESETS = {
    "GlorotUniform": (1.0, "fan_avg", "uniform"),
    "GlorotNormal": (1.0, "fan_avg", "truncated_normal"),
    "LecunUniform": (1.0, "fan_in", "uniform"),
    "LecunNormal": (1.0, "fan_in", "truncated_normal"),
    "HeUniform": (2.0, "fan_in", "uniform"),
    "HeNormal": (2.0, "fan_in", "truncated_normal"),
}
_SNAKE = {
    "glorot_uniform": "GlorotUniform",
    "glorot_normal": "GlorotNormal",
    "xavier_uniform": "GlorotUniform",
    "xavier_normal": "GlorotNormal",
    "lecun_uniform": "LecunUniform",
    "lecun_normal": "LecunNormal",
    "he_uniform": "HeUniform",
    "he_normal": "HeNormal",
    "kaiming_uniform": "HeUniform",
    "kaiming_normal": "HeNormal",
}
_DTYPE_NAMES = {
    "float16", "float32", "float64", "bfloat16", "half", "float", "double", "float_", "complex64", "complex128",
}
_FRAMEWORK_ROOTS = {
    "tf", "torch", "jnp", "np", "numpy", "jax", "mstype", "mindspore", "ms", "dtypes", "keras", "math", "nn",
}
_GAIN_MODULES = {("torch", "nn", "init"), ("nn", "init"), ("init",), ()}
_NUMBER_FUNCS = {"sqrt", "math.sqrt", "np.sqrt", "numpy.sqrt", "jnp.sqrt", "float"}
_NUMBER_CONSTS = {"math.pi": math.pi, "math.e": math.e, "np.pi": math.pi, "numpy.pi": math.pi}


# ---------------------------------------------------------------------------
# Safe reading of the AST
# ---------------------------------------------------------------------------


class _Reader:
    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, reason: str, node: ast.AST | None = None) -> ParseError:
        if node is None or not hasattr(node, "col_offset"):
            return ParseError(reason, self.source)
        seg = ast.get_source_segment(self.source, node) or ""
        if len(seg) > 60:
            seg = seg[:57] + "..."
        return ParseError(reason, self.source, node.col_offset + 1, seg)

    # dotted names --------------------------------------------------------
    def dotted(self, node: ast.AST) -> tuple[str, ...]:
        parts: list[str] = []
        while isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        if not isinstance(node, ast.Name):
            raise self.fail("only framework names like `keras.initializers.HeNormal` can be called", node)
        parts.append(node.id)
        parts.reverse()
        for p in parts:
            if p.startswith("__"):
                raise self.fail(f"the name {p!r} is not allowed", node)
        return tuple(parts)

    # values ----------------------------------------------------------------
    def value(self, node: ast.AST, what: str) -> Any:
        """A literal: number (with + - * / ** and sqrt), str, bool, None, list/tuple of them."""
        if isinstance(node, ast.Constant):
            if isinstance(node.value, (int, float, str, bool)) or node.value is None:
                if isinstance(node.value, float) and not math.isfinite(node.value):
                    raise self.fail(f"`{what}` must be finite", node)
                return node.value
            raise self.fail(f"`{what}` must be a number, a string, True, False or None", node)
        if isinstance(node, (ast.List, ast.Tuple)):
            return [self.value(e, what) for e in node.elts]
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            operand = node.operand
            if isinstance(operand, ast.Constant) and type(operand.value) is int:
                return -operand.value if isinstance(node.op, ast.USub) else operand.value
            v = self.number(operand, what)
            return -v if isinstance(node.op, ast.USub) else v
        if isinstance(node, ast.BinOp):
            return self.number(node, what)
        if isinstance(node, ast.Call):
            name = ".".join(self.dotted(node.func))
            if name in _NUMBER_FUNCS or name.split(".")[-1] == "calculate_gain":
                return self.number(node, what)
            raise self.fail(f"`{what}` must be a literal value, not a call of {name}", node)
        if isinstance(node, (ast.Attribute, ast.Name)):
            parts = self.dotted(node)
            name = ".".join(parts)
            if name in _NUMBER_CONSTS:
                return _NUMBER_CONSTS[name]
            if parts[-1] in _DTYPE_NAMES and (len(parts) == 1 or parts[0] in _FRAMEWORK_ROOTS):
                return _DType(parts[-1])
            if len(parts) == 1:
                return _Name(parts[0])
            raise self.fail(f"`{what}` must be a literal value; the name {name!r} is not one", node)
        raise self.fail(f"`{what}` must be a literal value; {type(node).__name__.lower()} expressions are not allowed",
                        node)

    def gain(self, node: ast.Call, what: str) -> float:
        """``torch.nn.init.calculate_gain(nonlinearity, param=None)``, computed as torch does."""
        if len(node.args) + len(node.keywords) > 2 or (len(node.args) < 1 and not node.keywords):
            raise self.fail("calculate_gain() takes nonlinearity and an optional param", node)
        args: dict[str, Any] = {}
        for p, a in zip(("nonlinearity", "param"), node.args, strict=False):
            args[p] = self.value(a, p)
        for kw in node.keywords:
            if kw.arg not in ("nonlinearity", "param") or kw.arg in args:
                raise self.fail(f"calculate_gain() has no argument {kw.arg!r} (or it is given twice)", kw.value)
            args[kw.arg] = self.value(kw.value, kw.arg)
        nl, param = args.get("nonlinearity"), args.get("param")
        if not isinstance(nl, str) or not (param is None or isinstance(param, (int, float))):
            raise self.fail("calculate_gain() takes a nonlinearity name and an optional number", node)
        try:
            return calculate_gain(nl, param)
        except (InvalidArgumentError, ValueError, TypeError) as err:
            raise self.fail(f"`{what}`: {err}", node) from None

    def number(self, node: ast.AST, what: str) -> float:
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(
            node.value, bool
        ):
            v = _as_float(node.value, what, self, node)
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            v = self.number(node.operand, what)
            v = -v if isinstance(node.op, ast.USub) else v
        elif isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow)):
            a, b = self.number(node.left, what), self.number(node.right, what)
            try:
                if isinstance(node.op, ast.Add):
                    v = a + b
                elif isinstance(node.op, ast.Sub):
                    v = a - b
                elif isinstance(node.op, ast.Mult):
                    v = a * b
                elif isinstance(node.op, ast.Div):
                    v = a / b
                else:
                    if abs(b) > 64 or abs(a) > 1e6:
                        raise self.fail(f"`{what}`: exponent or base too large (|base| ≤ 1e6, |exponent| ≤ 64)",
                                        node)
                    v = a**b
            except (ZeroDivisionError, OverflowError):
                raise self.fail(f"`{what}`: the arithmetic fails (division by zero or overflow)", node) from None
            if isinstance(v, complex):
                raise self.fail(f"`{what}`: the arithmetic gives a complex number", node)
        elif isinstance(node, ast.Call) and self.dotted(node.func)[-1] == "calculate_gain" and (
            self.dotted(node.func)[:-1] in _GAIN_MODULES
        ):
            v = self.gain(node, what)
        elif isinstance(node, ast.Call) and ".".join(self.dotted(node.func)) in _NUMBER_FUNCS:
            if len(node.args) != 1 or node.keywords:
                raise self.fail("sqrt/float take exactly one argument", node)
            x = self.number(node.args[0], what)
            name = ".".join(self.dotted(node.func))
            if name == "float":
                v = x
            else:
                if x < 0:
                    raise self.fail(f"`{what}`: sqrt of a negative number", node)
                v = math.sqrt(x)
        elif isinstance(node, (ast.Attribute, ast.Name)) and ".".join(self.dotted(node)) in _NUMBER_CONSTS:
            v = _NUMBER_CONSTS[".".join(self.dotted(node))]
        else:
            raise self.fail(f"`{what}` must be a number", node)
        if not math.isfinite(v):
            raise self.fail(f"`{what}` must be finite", node)
        return v


def _as_float(value: int | float, what: str, r: _Reader, node: ast.AST) -> float:
    """``float(value)``, refusing an integer beyond float64 (``10**400``) as the source would."""
    try:
        return float(value)
    except OverflowError:
        raise r.fail(f"`{what}` must be finite: the integer is too large for a float (OverflowError)",
                     node) from None


@dataclass(frozen=True)
class _DType:
    name: str


@dataclass(frozen=True)
class _Name:
    name: str


def _prefix_framework(parts: tuple[str, ...]) -> tuple[str | None, str]:
    """Map a dotted callee to (framework, function name)."""
    head, func = parts[:-1], parts[-1]
    if not head:
        return None, func
    if head == ("initializers",):  # `from flax.linen import initializers` / `from keras import initializers`
        return ("keras" if func[:1].isupper() else "jax"), func
    if head in (("slim",), ("tf", "contrib", "slim"), ("layers",), ("contrib_layers",)) and func in (
            "variance_scaling_initializer", "xavier_initializer", "xavier_initializer_conv2d"):
        return "tf_contrib", func  # TF-Slim and `from tensorflow.contrib import layers` re-export contrib's
    if head in (("init",), ("weight_init",)) and func[:1].isupper():
        return "mindspore", func  # `import mindspore.common.initializer as init`: torch.nn.init has no classes
    for prefix, fw in _PREFIXES:
        if head == prefix:
            return fw, func
    return "?", func


# ---------------------------------------------------------------------------
# Builders per framework
# ---------------------------------------------------------------------------


class _Call:
    """Arguments of one call, bound to a signature."""

    def __init__(self, r: _Reader, node: ast.Call, name: str, params: tuple[str, ...]) -> None:
        self.r, self.node, self.name = r, node, name
        self.values: dict[str, Any] = {}
        self.nodes: dict[str, ast.AST] = {}
        for kw in node.keywords:
            if kw.arg is None:
                raise r.fail(f"`**` arguments are not allowed in {name}()", kw.value)
        if len(node.args) > len(params):
            raise r.fail(f"{name}() takes at most {len(params)} positional arguments", node.args[len(params)])
        for p, a in zip(params, node.args, strict=False):
            if isinstance(a, ast.Starred):
                raise r.fail(f"`*` arguments are not allowed in {name}()", a)
            self.nodes[p] = a
        for kw in node.keywords:
            if kw.arg is None:
                continue
            if kw.arg not in params:
                raise r.fail(
                    f"{name}() has no argument {kw.arg!r}; allowed: {', '.join(params)}", kw.value
                )
            if kw.arg in self.nodes:
                raise r.fail(f"{name}() got {kw.arg!r} twice", kw.value)
            self.nodes[kw.arg] = kw.value

    def has(self, p: str) -> bool:
        return p in self.nodes

    def get(self, p: str, default: Any = None) -> Any:
        if p not in self.nodes:
            return default
        return self.r.value(self.nodes[p], p)

    def num(self, p: str, default: float) -> float:
        if p not in self.nodes:
            return default
        v = self.r.value(self.nodes[p], p)
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise self.r.fail(f"`{p}` of {self.name}() must be a number; received {p}={v!r}", self.nodes[p])
        return _as_float(v, p, self.r, self.nodes[p])

    def text(self, p: str, default: str) -> str:
        if p not in self.nodes:
            return default
        v = self.r.value(self.nodes[p], p)
        if not isinstance(v, str):
            raise self.r.fail(f"`{p}` of {self.name}() must be a string; received {p}={v!r}", self.nodes[p])
        return v

    def flag(self, p: str, default: bool) -> bool:
        if p not in self.nodes:
            return default
        v = self.r.value(self.nodes[p], p)
        if not isinstance(v, bool):
            raise self.r.fail(f"`{p}` of {self.name}() must be True or False; received {p}={v!r}", self.nodes[p])
        return v

    def bad(self, p: str, reason: str) -> ParseError:
        return self.r.fail(f"`{p}` of {self.name}(): {reason}", self.nodes.get(p, self.node))


def _vs(framework: str, scale: float, mode: str, dist: str, call: str, *, layout: str | Layout = "tf",
        clamp: bool = True, uncorrected: bool = False) -> Spec:
    if not (scale > 0):
        raise InvalidArgumentError(f"`scale` must be positive; received scale={scale!r} in {call}().")
    if dist == "uniform":
        return Spec(framework, "uniform", scale, mode, clamp=clamp, layout=layout, call=call)
    if dist == "untruncated_normal":
        return Spec(framework, "untruncated_normal", scale, mode, clamp=clamp, layout=layout, call=call)
    factor = 1.0 if uncorrected else 1.0 / C
    return Spec(framework, "truncated_normal", scale, mode, param_factor=factor, cut=2.0, clamp=clamp,
                uncorrected=uncorrected, layout=layout, call=call)


def _check_choice(c: _Call, p: str, value: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise c.bad(p, f"must be one of {', '.join(map(repr, allowed))} (case-sensitive in this framework); "
                       f"received {p}={value!r}")
    return value


_SEED = ("seed",)


def _keras_like(fw: str, c: _Call, func: str) -> Spec:
    """Keras 3 / tf.keras 2 classes (and TF2 core ``tf.initializers``)."""
    if func in ("VarianceScaling", "variance_scaling"):
        scale = c.num("scale", 1.0)
        mode = _check_choice(c, "mode", c.text("mode", "fan_in"), ("fan_in", "fan_out", "fan_avg"))
        dist = c.text("distribution", "truncated_normal").lower()
        dist = _check_choice(c, "distribution", dist, ("normal", "truncated_normal", "untruncated_normal", "uniform"))
        _axes_check(c)
        return _vs(fw, scale, mode, "truncated_normal" if dist == "normal" else dist, func)
    if func in _KERAS_PRESETS or func in _SNAKE:
        _axes_check(c)
        s, m, d = _KERAS_PRESETS[_SNAKE.get(func, func)]
        return _vs(fw, s, m, d, func)
    if func in ("RandomNormal", "random_normal"):
        return Spec(fw, "untruncated_normal", None, None, fixed=_pos(c, "stddev", 0.05), mean=_mean(c, "mean"),
                    call=func)
    if func in ("TruncatedNormal", "truncated_normal"):
        return Spec(fw, "truncated_normal", None, None, cut=2.0, fixed=_pos(c, "stddev", 0.05), mean=_mean(c, "mean"),
                    call=func)
    if func in ("RandomUniform", "random_uniform"):
        lo, hi = c.num("minval", -0.05), c.num("maxval", 0.05)
        return _uniform(c, fw, func, lo, hi, "minval")
    raise _unknown(c.r, func, fw, fw, c.node.func)


def _axes_check(c: _Call) -> None:
    if c.get("input_axes") is not None or c.get("output_axes") is not None:
        raise c.bad("input_axes", "input_axes/output_axes are not supported by the translator")


def _sq(g: float) -> float:
    """g², with the rounding noise of sqrt(k)² removed (``sqrt(2)²`` → 2.0).

    Only a value within 2 ulps of a 12-decimal number moves: the tolerance is
    relative, so small gains keep every digit (1.0001e-6² stays 1.0002e-12).
    """
    v = g * g
    r = round(v, 12)
    return r if abs(v - r) <= 4e-16 * abs(v) else v


def _pos(c: _Call, p: str, default: float) -> float:
    v = c.num(p, default)
    if not v > 0:
        raise c.bad(p, f"must be positive; received {p}={v!r}")
    return v


def _uniform(c: _Call, fw: str, func: str, lo: float, hi: float, p: str, layout: str = "tf") -> Spec:
    """U(lo, hi) as a centred law: mean (lo + hi)/2, half-width (hi - lo)/2."""
    if not hi > lo:
        raise c.bad(p, f"the range must not be empty (lower < upper); received lower={lo!r}, upper={hi!r}")
    half, mid = (hi - lo) / 2.0, (lo + hi) / 2.0
    if lo == -hi:
        half, mid = hi, 0.0  # symmetric: exactly the limit written
    return Spec(fw, "uniform", None, None, fixed=half, mean=mid, layout=layout, call=func)


def _cut(x: float) -> float:
    """A truncation in units of σ from absolute bounds, without the noise of decimal literals (1.04 - 1)/0.02."""
    r = round(x, 12)
    return r if abs(x - r) <= 1e-12 * abs(x) else x


def _mean(c: _Call, p: str) -> float:
    """The mean of a fixed normal (any finite number)."""
    return c.num(p, 0.0)


def _zero_mean(c: _Call, p: str) -> None:
    if c.num(p, 0.0) != 0.0:
        raise c.bad(p, f"only a zero mean is variance scaling; received {p}={c.get(p)!r}")


_KERAS_PARAMS: dict[str, tuple[str, ...]] = {
    "VarianceScaling": ("scale", "mode", "distribution", "seed", "input_axes", "output_axes", "dtype"),
    "RandomNormal": ("mean", "stddev", "seed", "dtype"),
    "TruncatedNormal": ("mean", "stddev", "seed", "dtype"),
    "RandomUniform": ("minval", "maxval", "seed", "dtype"),
}


_KERAS_SNAKE_PARAMS = {"variance_scaling": "VarianceScaling", "random_normal": "RandomNormal",
                       "truncated_normal": "TruncatedNormal", "random_uniform": "RandomUniform"}


def _keras_params(func: str) -> tuple[str, ...]:
    func = _KERAS_SNAKE_PARAMS.get(func, func)  # Keras' snake-case aliases take the class's arguments
    if func in _KERAS_PARAMS:
        return _KERAS_PARAMS[func]
    return ("seed", "input_axes", "output_axes", "dtype")


def _tf1(c: _Call, func: str, legacy: bool) -> Spec:
    """TF1 core (``tf.variance_scaling_initializer`` and friends)."""
    if func in ("variance_scaling_initializer", "VarianceScaling", "variance_scaling"):
        scale = c.num("scale", 1.0)
        mode = _check_choice(c, "mode", c.text("mode", "fan_in"), ("fan_in", "fan_out", "fan_avg"))
        default = "normal" if legacy else "truncated_normal"
        dist = c.text("distribution", default).lower()
        allowed = ("normal", "uniform") if legacy else ("normal", "truncated_normal", "untruncated_normal", "uniform")
        dist = _check_choice(c, "distribution", dist, allowed)
        if dist == "normal":
            return _vs("tf1", scale, mode, "truncated_normal", func, uncorrected=legacy)
        return _vs("tf1", scale, mode, dist, func)
    base = func.removesuffix("_initializer")
    if base in _SNAKE or base in _KERAS_PRESETS:
        s, m, d = _KERAS_PRESETS[_SNAKE.get(base, base)]
        return _vs("tf1", s, m, d, func, uncorrected=legacy and d == "truncated_normal")
    if base in ("random_normal", "truncated_normal", "random_uniform", "RandomNormal", "TruncatedNormal",
                "RandomUniform"):
        return _keras_like("tf1", c, base)
    raise _unknown(c.r, func, "tf1", "TF1", c.node.func)


def _tf1_params(func: str) -> tuple[str, ...]:
    base = func.removesuffix("_initializer")
    if func in ("variance_scaling_initializer", "VarianceScaling", "variance_scaling"):
        return ("scale", "mode", "distribution", "seed", "dtype")
    if base in ("random_normal", "truncated_normal", "RandomNormal", "TruncatedNormal"):
        return ("mean", "stddev", "seed", "dtype")
    if base in ("random_uniform", "RandomUniform"):
        return ("minval", "maxval", "seed", "dtype")
    return ("seed", "dtype")


def _contrib(c: _Call, func: str) -> Spec:
    if func == "variance_scaling_initializer":
        factor = c.num("factor", 2.0)
        mode = _check_choice(c, "mode", c.text("mode", "FAN_IN"), ("FAN_IN", "FAN_OUT", "FAN_AVG"))
        uniform = c.flag("uniform", False)
    elif func in ("xavier_initializer", "xavier_initializer_conv2d"):
        factor, mode, uniform = 1.0, "FAN_AVG", c.flag("uniform", True)
    else:
        raise _unknown(c.r, func, "tf_contrib", "TF contrib", c.node.func)
    if not factor > 0:
        raise c.bad("factor", f"must be positive; received factor={factor!r}")
    if uniform:
        return Spec("tf_contrib", "uniform", factor, mode.lower(), clamp=False, call=func)
    return Spec("tf_contrib", "truncated_normal", factor, mode.lower(), param_factor=math.sqrt(1.3), cut=2.0,
                contrib_factor=True, clamp=False, call=func)


def _contrib_params(func: str) -> tuple[str, ...]:
    if func == "variance_scaling_initializer":
        return ("factor", "mode", "uniform", "seed", "dtype")
    return ("uniform", "seed", "dtype")


_TORCH_PARAMS = {
    "xavier_uniform_": ("tensor", "gain", "generator"),
    "xavier_normal_": ("tensor", "gain", "generator"),
    "kaiming_uniform_": ("tensor", "a", "mode", "nonlinearity", "generator"),
    "kaiming_normal_": ("tensor", "a", "mode", "nonlinearity", "generator"),
    "trunc_normal_": ("tensor", "mean", "std", "a", "b", "generator"),
    "normal_": ("tensor", "mean", "std", "generator"),
    "uniform_": ("tensor", "a", "b", "generator"),
}


_TORCH_ALL = frozenset({*_TORCH_PARAMS, "zeros_", "ones_", "constant_", "orthogonal_", "eye_"})
_KNOWN_BARE = frozenset({
    *_TORCH_ALL, "XavierUniform", "XavierNormal", "HeUniform", "HeNormal", "VarianceScaling", "TruncatedNormal",
    "Normal", "Uniform", "initializer", "GlorotUniform", "GlorotNormal", "LecunUniform", "LecunNormal",
    "RandomNormal", "RandomUniform", "get", "variance_scaling", "Zeros", "Ones", "Constant", "Orthogonal",
    "Identity", "Zero", "One", "zeros_init", "ones_init", "xavier_uniform", "xavier_normal", "kaiming_uniform",
    "kaiming_normal", "glorot_uniform", "glorot_normal", "lecun_uniform", "lecun_normal", "he_uniform", "he_normal",
    "normal", "truncated_normal", "uniform", "zeros", "ones", "constant", "orthogonal",
})


def _torch_tensor(r: _Reader, node: ast.AST) -> tuple[int, ...] | None:
    """The tensor argument: a name (``w``, ``self.fc.weight``) or ``torch.empty(dims)``."""
    if isinstance(node, ast.Call):
        parts = r.dotted(node.func)
        if parts in (("torch", "empty"), ("torch", "zeros"), ("torch", "ones"), ("torch", "randn"),
                     ("np", "empty"), ("np", "zeros"), ("numpy", "empty"), ("numpy", "zeros")):
            dims: list[Any] = []
            for a in node.args:
                v = r.value(a, "shape")
                dims.extend(v if isinstance(v, list) else [v])
            return _as_shape(r, dims, node)
        raise r.fail("the tensor must be a name like `w` or torch.empty(...)", node)
    parts = r.dotted(node)
    if len(parts) > 5:
        raise r.fail("the tensor name is too long", node)
    return None


def _torch(c: _Call, func: str) -> Spec:
    nl = c.text("nonlinearity", "leaky_relu")
    if func in ("xavier_uniform_", "xavier_normal_"):
        g = c.num("gain", 1.0)
        if not g > 0:
            raise c.bad("gain", f"must be positive; received gain={g!r}")
        dist = "uniform" if func == "xavier_uniform_" else "untruncated_normal"
        return Spec("torch", dist, _sq(g), "fan_avg", clamp=False, layout="torch", call=func)
    if func in ("kaiming_uniform_", "kaiming_normal_"):
        a = c.num("a", 0.0)
        mode = c.text("mode", "fan_in").lower()
        _check_choice(c, "mode", mode, ("fan_in", "fan_out"))
        try:
            g = calculate_gain(nl, a) if nl == "leaky_relu" else calculate_gain(nl)
        except (InvalidArgumentError, ValueError, TypeError) as err:
            raise c.bad("nonlinearity", str(err)) from None
        dist = "uniform" if func == "kaiming_uniform_" else "untruncated_normal"
        return Spec("torch", dist, _sq(g), mode, clamp=False, layout="torch", call=func)
    if func == "trunc_normal_":
        mean = _mean(c, "mean")
        std = _pos(c, "std", 1.0)
        a, b = c.num("a", -2.0), c.num("b", 2.0)
        if a - mean != -(b - mean) or b <= mean:
            raise c.bad("a", f"only bounds symmetric about the mean (a - mean == mean - b < 0) are supported; "
                             f"received mean={mean!r}, a={a!r}, b={b!r}")
        return Spec("torch", "truncated_normal", None, None, cut=_cut((b - mean) / std), fixed=std, absolute_bounds=True,
                    layout="torch", mean=mean, call=func)
    if func == "normal_":
        return Spec("torch", "untruncated_normal", None, None, fixed=_pos(c, "std", 1.0), layout="torch",
                    mean=_mean(c, "mean"), call=func)
    if func == "uniform_":
        return _uniform(c, "torch", func, c.num("a", 0.0), c.num("b", 1.0), "a", layout="torch")
    raise _unknown(c.r, func, "torch", "torch.nn.init", c.node.func)


_JAX_PRESETS = {
    "glorot_uniform": "GlorotUniform", "xavier_uniform": "GlorotUniform",
    "glorot_normal": "GlorotNormal", "xavier_normal": "GlorotNormal",
    "lecun_uniform": "LecunUniform", "lecun_normal": "LecunNormal",
    "he_uniform": "HeUniform", "kaiming_uniform": "HeUniform",
    "he_normal": "HeNormal", "kaiming_normal": "HeNormal",
}


def _jax_params(func: str) -> tuple[str, ...]:
    if func == "variance_scaling":
        return ("scale", "mode", "distribution", "in_axis", "out_axis", "batch_axis", "dtype")
    if func == "truncated_normal":
        return ("stddev", "dtype", "lower", "upper")
    if func == "normal":
        return ("stddev", "dtype")
    if func == "uniform":
        return ("scale", "dtype")
    return ("in_axis", "out_axis", "batch_axis", "dtype")


def _jax_axes(c: _Call) -> tuple[Any, Any, Any] | None:
    """JAX's (in_axis, out_axis, batch_axis), or None for the defaults."""
    axes = []
    for p, default in (("in_axis", -2), ("out_axis", -1), ("batch_axis", [])):
        v = c.get(p, default)
        items = v if isinstance(v, list) else [v]
        if not all(isinstance(a, int) and not isinstance(a, bool) and -16 <= a < 16 for a in items):
            raise c.bad(p, f"must be an int axis or a list of them; received {p}={v!r}")
        axes.append(tuple(v) if isinstance(v, list) else v)
    if axes[0] == -2 and axes[1] == -1 and axes[2] == ():
        return None
    return (axes[0], axes[1], axes[2])


def _jax_fans(shape: tuple[int, ...], in_axis: Any, out_axis: Any, batch_axis: Any) -> tuple[float, float]:
    """``jax.nn.initializers._compute_fans``: products over the named axes, float receptive field."""
    rank = len(shape)

    def size(axes: Any) -> int:
        items = axes if isinstance(axes, tuple) else (axes,)
        out = 1
        for a in items:
            if not -rank <= a < rank:
                raise InvalidArgumentError(
                    f"JAX axis {a} is out of range for a rank-{rank} shape; received shape={shape!r}."
                )
            out *= shape[a]
        return out

    in_size, out_size, batch_size = size(in_axis), size(out_axis), size(batch_axis)
    if 0 in (in_size, out_size, batch_size):
        raise InvalidArgumentError(f"JAX divides by a zero dimension (ZeroDivisionError); received shape={shape!r}.")
    rf = math.prod(shape) / in_size / out_size / batch_size
    return in_size * rf, out_size * rf


def _jax(c: _Call, func: str) -> Spec:
    if func == "variance_scaling":
        for p in ("scale", "mode", "distribution"):
            if not c.has(p):
                raise c.r.fail(f"jax variance_scaling() needs `{p}` (JAX has no default)", c.node)
        scale = c.num("scale", 1.0)
        mode = _check_choice(c, "mode", c.text("mode", ""), ("fan_in", "fan_out", "fan_avg", "fan_geo_avg"))
        dist = _check_choice(c, "distribution", c.text("distribution", ""), ("truncated_normal", "normal", "uniform"))
        spec = _vs("jax", scale, mode, "untruncated_normal" if dist == "normal" else dist, func, clamp=False)
        return replace(spec, jax_axes=_jax_axes(c))
    if func in _JAX_PRESETS:
        s, m, d = _KERAS_PRESETS[_JAX_PRESETS[func]]
        return replace(_vs("jax", s, m, d, func, clamp=False), jax_axes=_jax_axes(c))
    if func == "normal":
        return Spec("jax", "untruncated_normal", None, None, fixed=_pos(c, "stddev", 0.01), call=func)
    if func == "uniform":  # jax.nn.initializers.uniform(scale=0.01): U[0, scale)
        scale = _pos(c, "scale", 0.01)
        return _uniform(c, "jax", func, 0.0, scale, "scale")
    if func == "truncated_normal":
        lo, hi = c.num("lower", -2.0), c.num("upper", 2.0)
        if lo != -hi or hi <= 0:
            raise c.bad("lower", f"only symmetric lower == -upper < 0 is supported; received lower={lo!r}, "
                                 f"upper={hi!r}")
        return Spec("jax", "truncated_normal", None, None, cut=hi, fixed=_pos(c, "stddev", 0.01), call=func)
    raise _unknown(c.r, func, "jax", "jax.nn.initializers", c.node.func)


_MS_PARAMS = {
    "XavierUniform": ("gain",),
    "XavierNormal": ("gain",),
    "HeUniform": ("negative_slope", "mode", "nonlinearity"),
    "HeNormal": ("negative_slope", "mode", "nonlinearity"),
    "VarianceScaling": ("scale", "mode", "distribution"),
    "TruncatedNormal": ("sigma", "mean", "a", "b"),
    "Normal": ("sigma", "mean"),
    "Uniform": ("scale",),
}
_MS_NAMES = {
    "xavier_uniform": "XavierUniform", "xavieruniform": "XavierUniform",
    "xavier_normal": "XavierNormal", "xaviernormal": "XavierNormal",
    "he_uniform": "HeUniform", "heuniform": "HeUniform",
    "he_normal": "HeNormal", "henormal": "HeNormal",
    "variancescaling": "VarianceScaling", "truncatednormal": "TruncatedNormal",
    "normal": "Normal", "uniform": "Uniform",
}


def _mindspore(c: _Call, func: str) -> Spec:
    if func in ("XavierUniform", "XavierNormal"):
        g = c.num("gain", 1.0)
        if not g > 0:
            raise c.bad("gain", f"must be positive; received gain={g!r}")
        dist = "uniform" if func == "XavierUniform" else "untruncated_normal"
        return Spec("mindspore", dist, _sq(g), "fan_avg", clamp=False, layout="torch", call=func)
    if func in ("HeUniform", "HeNormal"):
        a = c.num("negative_slope", 0.0)
        mode = _check_choice(c, "mode", c.text("mode", "fan_in").lower(), ("fan_in", "fan_out"))
        nl = c.text("nonlinearity", "leaky_relu")
        if nl == "selu":
            raise c.bad("nonlinearity", "MindSpore's gain table has no 'selu'")
        try:
            g = calculate_gain(nl, a) if nl == "leaky_relu" else calculate_gain(nl)
        except (InvalidArgumentError, ValueError, TypeError) as err:
            raise c.bad("nonlinearity", str(err)) from None
        dist = "uniform" if func == "HeUniform" else "untruncated_normal"
        return Spec("mindspore", dist, _sq(g), mode, clamp=False, layout="torch", call=func)
    if func == "VarianceScaling":
        scale = c.num("scale", 1.0)
        mode = _check_choice(c, "mode", c.text("mode", "fan_in"), ("fan_in", "fan_out", "fan_avg"))
        dist = _check_choice(c, "distribution", c.text("distribution", "truncated_normal"),
                             ("uniform", "truncated_normal", "untruncated_normal"))
        if dist == "truncated_normal":
            spec = _vs("mindspore", scale, mode, "uniform", func, layout="torch")
            return replace(spec, mindspore_uniform_bug=True)
        return _vs("mindspore", scale, mode, dist, func, layout="torch")
    if func == "TruncatedNormal":
        mean = _mean(c, "mean")
        sigma = _pos(c, "sigma", 0.01)
        a, b = c.num("a", -2.0), c.num("b", 2.0)
        if a - mean != -(b - mean) or b <= mean:
            raise c.bad("a", f"only bounds symmetric about the mean (a - mean == mean - b < 0) are supported; "
                             f"received mean={mean!r}, a={a!r}, b={b!r}")
        return Spec("mindspore", "truncated_normal", None, None, cut=_cut((b - mean) / sigma), fixed=sigma,
                    absolute_bounds=True, layout="torch", mean=mean, call=func)
    if func == "Normal":
        return Spec("mindspore", "untruncated_normal", None, None, fixed=_pos(c, "sigma", 0.01), layout="torch",
                    mean=_mean(c, "mean"), call=func)
    if func == "Uniform":
        return Spec("mindspore", "uniform", None, None, fixed=_pos(c, "scale", 0.07), layout="torch", call=func)
    raise _unknown(c.r, func, "mindspore", "MindSpore", c.node.func)


def _as_shape(r: _Reader, value: Any, node: ast.AST) -> tuple[int, ...]:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = [value]
    if not isinstance(value, list) or not all(
        isinstance(d, int) and not isinstance(d, bool) and 0 <= d < 2**62 for d in value
    ):
        raise r.fail(f"the shape must be a list of non-negative ints; received {value!r}", node)
    if len(value) > 16:
        raise r.fail("the shape has more than 16 dimensions", node)
    return tuple(value)


def _varscale(c: _Call, func: str) -> Spec:
    if func in ("VarianceScaling",):
        scale = c.num("scale", 1.0)
        mode = c.text("mode", "fan_in").lower()
        _check_choice(c, "mode", mode, ("fan_in", "fan_out", "fan_avg"))
        dist = c.text("distribution", "truncated_normal").lower()
        dist = _check_choice(c, "distribution", dist, ("normal", "truncated_normal", "untruncated_normal", "uniform"))
        layout = c.get("layout", "tf")
        if layout not in ("tf", "torch"):
            raise c.bad("layout", f"must be 'tf' or 'torch'; received layout={layout!r}")
        return _vs("varscale", scale, mode, "truncated_normal" if dist == "normal" else dist, func, layout=layout)
    if func in _KERAS_PRESETS:
        layout = c.get("layout", "tf")
        if layout not in ("tf", "torch"):
            raise c.bad("layout", f"must be 'tf' or 'torch'; received layout={layout!r}")
        s, m, d = _KERAS_PRESETS[func]
        return _vs("varscale", s, m, d, func, layout=layout)
    raise _unknown(c.r, func, "varscale", "varscale", c.node.func)


# ---------------------------------------------------------------------------
# Dispatch
# ---------------------------------------------------------------------------


#: Names each framework offers (what the translator reads), for did-you-mean.
_KNOWN_NAMES: dict[str, tuple[str, ...]] = {
    "keras": ("VarianceScaling", "GlorotUniform", "GlorotNormal", "LecunUniform", "LecunNormal", "HeUniform",
              "HeNormal", "RandomNormal", "TruncatedNormal", "RandomUniform", "get", "glorot_uniform",
              "glorot_normal", "lecun_uniform", "lecun_normal", "he_uniform", "he_normal", "random_normal",
              "truncated_normal", "random_uniform", "variance_scaling"),
    "tf1": ("variance_scaling_initializer", "glorot_uniform_initializer", "glorot_normal_initializer",
            "he_uniform", "he_normal", "lecun_uniform", "lecun_normal", "glorot_uniform", "glorot_normal",
            "random_normal_initializer", "truncated_normal_initializer", "random_uniform_initializer"),
    "tf_contrib": ("variance_scaling_initializer", "xavier_initializer", "xavier_initializer_conv2d"),
    "torch": ("xavier_uniform_", "xavier_normal_", "kaiming_uniform_", "kaiming_normal_", "trunc_normal_",
              "normal_", "uniform_"),
    "jax": ("variance_scaling", "glorot_uniform", "glorot_normal", "xavier_uniform", "xavier_normal",
            "lecun_uniform", "lecun_normal", "he_uniform", "he_normal", "kaiming_uniform", "kaiming_normal",
            "normal", "truncated_normal", "uniform"),
    "mindspore": ("XavierUniform", "XavierNormal", "HeUniform", "HeNormal", "VarianceScaling", "TruncatedNormal",
                  "Normal", "Uniform", "initializer"),
    "varscale": ("VarianceScaling", "GlorotUniform", "GlorotNormal", "LecunUniform", "LecunNormal", "HeUniform",
                 "HeNormal"),
}
_KNOWN_NAMES["tf.keras"] = _KNOWN_NAMES["keras"]
#: Initializers real model code uses that are not a variance-scaling law (no Spec for them yet).
_OTHER_INITS = frozenset({
    "zeros", "Zeros", "zeros_", "ones", "Ones", "ones_", "constant", "Constant", "constant_", "orthogonal",
    "Orthogonal", "orthogonal_", "identity", "Identity", "eye_", "dirac_", "Dirac", "sparse_", "delta_orthogonal",
    "zeros_initializer", "ones_initializer", "constant_initializer", "orthogonal_initializer", "Zero", "One",
    "identity_initializer", "uniform", "Uniform",
})


def _unknown(r: _Reader, func: str, fw: str | None, label: str, node: ast.AST) -> ParseError:
    """The refusal of an unknown function name, with a did-you-mean over every framework's names."""
    own = _KNOWN_NAMES.get(fw or "", ())
    pool = {n for names in _KNOWN_NAMES.values() for n in names}
    lower = {n.lower(): n for n in sorted(pool)}
    close = list(difflib.get_close_matches(func, own, n=2, cutoff=0.75))
    if not close:
        close = list(difflib.get_close_matches(func, sorted(pool), n=2, cutoff=0.75))
    if not close:
        close = [lower[n] for n in difflib.get_close_matches(func.lower(), sorted(lower), n=2, cutoff=0.75)]
    if func in _OTHER_INITS or func.lower().rstrip("_") in {n.lower().rstrip("_") for n in _OTHER_INITS}:
        why = f"{func!r} of {label} is not a variance-scaling law; the translator does not read it"
    else:
        why = f"{func!r} is not an initializer of {label} that the translator knows"
    if close:
        why += f"; did you mean {' or '.join(repr(n) for n in close)}?"
    elif own:
        why += f"; known: {', '.join(own)}"
    return r.fail(why, node)



def _from_name(r: _Reader, name: str, node: ast.AST, framework: str) -> Spec:
    """A string identifier as ``keras.initializers.get`` resolves it."""
    key = _SNAKE.get(name, name)
    if framework == "mindspore" and name.lower() in _MS_OTHER_NAMES:
        ms_name = _MS_OTHER_NAMES[name.lower()]
        call = ast.Call(func=ast.Name(id=ms_name, col_offset=0), args=[], keywords=[], col_offset=0)
        return replace(_other_spec(r, call, "mindspore", ms_name) or _never(), call=name)
    if framework != "mindspore" and (framework, name) in _OTHER and name[:1].islower():
        call = ast.Call(func=ast.Name(id=name, col_offset=0), args=[], keywords=[], col_offset=0)
        return _other_spec(r, call, framework, name) or _never()
    if framework == "mindspore":
        ms = _MS_NAMES.get(name.lower())
        if ms is None:
            raise r.fail(f"MindSpore has no initializer named {name!r}; known: {', '.join(sorted(_MS_NAMES))}",
                         node)
        call = ast.Call(func=ast.Name(id=ms, col_offset=0), args=[], keywords=[])
        return _mindspore(_Call(r, call, ms, ()), ms)
    if key not in _KERAS_PRESETS:
        names = sorted({*_SNAKE, *(n for (f, n) in _OTHER if f == "keras" and n[:1].islower())})
        close = difflib.get_close_matches(name, names, n=2, cutoff=0.75)
        hint = f"; did you mean {' or '.join(repr(n) for n in close)}?" if close else ""
        raise r.fail(f"unknown initializer name {name!r}{hint} (known: {', '.join(names)})", node)
    s, m, d = _KERAS_PRESETS[key]
    return _vs(framework, s, m, d, key)


#: Non-variance-scaling initializers: (framework, name) -> (family, parameters, value parameter, default).
_OTHER: dict[tuple[str, str], tuple[str, tuple[str, ...], str | None, float]] = {}
for _fw in ("keras", "tf.keras", "varscale"):
    _OTHER.update({
        (_fw, "Zeros"): ("constant", ("dtype",), None, 0.0), (_fw, "zeros"): ("constant", ("dtype",), None, 0.0),
        (_fw, "Ones"): ("constant", ("dtype",), None, 1.0), (_fw, "ones"): ("constant", ("dtype",), None, 1.0),
        (_fw, "Constant"): ("constant", ("value", "dtype"), "value", 0.0),
        (_fw, "constant"): ("constant", ("value", "dtype"), "value", 0.0),
        (_fw, "Orthogonal"): ("orthogonal", ("gain", "seed", "layout"), "gain", 1.0),
        (_fw, "orthogonal"): ("orthogonal", ("gain", "seed", "layout"), "gain", 1.0),
        (_fw, "Identity"): ("identity", ("gain", "dtype"), "gain", 1.0),
        (_fw, "identity"): ("identity", ("gain", "dtype"), "gain", 1.0),
    })
_OTHER.update({
    ("tf1", "zeros_initializer"): ("constant", ("dtype",), None, 0.0),
    ("tf1", "ones_initializer"): ("constant", ("dtype",), None, 1.0),
    ("tf1", "constant_initializer"): ("constant", ("value", "dtype", "verify_shape"), "value", 0.0),
    ("tf1", "orthogonal_initializer"): ("orthogonal", ("gain", "seed", "dtype"), "gain", 1.0),
    ("tf1", "identity_initializer"): ("identity", ("gain", "dtype"), "gain", 1.0),
    ("tf1", "zeros"): ("constant", ("dtype",), None, 0.0), ("tf1", "ones"): ("constant", ("dtype",), None, 1.0),
    ("tf1", "constant"): ("constant", ("value", "dtype", "verify_shape"), "value", 0.0),
    ("tf1", "orthogonal"): ("orthogonal", ("gain", "seed", "dtype"), "gain", 1.0),
    ("tf1", "identity"): ("identity", ("gain", "dtype"), "gain", 1.0),
    ("torch", "zeros_"): ("constant", ("tensor",), None, 0.0),
    ("torch", "ones_"): ("constant", ("tensor",), None, 1.0),
    ("torch", "constant_"): ("constant", ("tensor", "val"), "val", 0.0),
    ("torch", "orthogonal_"): ("orthogonal", ("tensor", "gain", "generator"), "gain", 1.0),
    ("torch", "eye_"): ("identity", ("tensor",), None, 1.0),
    ("jax", "zeros"): ("constant", ("key", "shape", "dtype"), None, 0.0),
    ("jax", "ones"): ("constant", ("key", "shape", "dtype"), None, 1.0),
    ("jax", "zeros_init"): ("constant", (), None, 0.0),
    ("jax", "ones_init"): ("constant", (), None, 1.0),
    ("jax", "constant"): ("constant", ("value", "dtype"), "value", 0.0),
    ("jax", "orthogonal"): ("orthogonal", ("scale", "column_axis", "dtype"), "scale", 1.0),
    ("mindspore", "Zero"): ("constant", (), None, 0.0),
    ("mindspore", "One"): ("constant", (), None, 1.0),
    ("mindspore", "Constant"): ("constant", ("value",), "value", 0.0),
    ("mindspore", "Orthogonal"): ("orthogonal", ("gain",), "gain", 1.0),
    ("mindspore", "Identity"): ("identity", (), None, 1.0),
})
for (_fw, _name) in list(_OTHER):
    if _fw in _KNOWN_NAMES and _name not in _KNOWN_NAMES[_fw]:
        _KNOWN_NAMES[_fw] = (*_KNOWN_NAMES[_fw], _name)
_MS_OTHER_NAMES = {"zeros": "Zero", "zero": "Zero", "ones": "One", "one": "One", "orthogonal": "Orthogonal",
                   "identity": "Identity", "constant": "Constant"}


def _other_spec(r: _Reader, node: ast.Call, fw: str, func: str) -> Spec | None:
    """A zeros/ones/constant/orthogonal/identity initializer, else None."""
    entry = _OTHER.get((fw, func))
    if entry is None:
        return None
    family, params, value_param, default = entry
    c = _Call(r, node, func, params)
    if fw == "torch" and not c.has("tensor"):
        raise r.fail(f"{func}() needs the tensor to fill, e.g. {func}(w)", node)
    if fw == "jax" and func == "orthogonal" and c.get("column_axis", -1) != -1:
        raise c.bad("column_axis", f"only the default column_axis=-1 is translated; received "
                                   f"column_axis={c.get('column_axis')!r}")
    value = c.num(value_param, default) if value_param else default
    layout = "torch" if fw in ("torch", "mindspore") else "tf"
    if fw == "varscale" and c.has("layout"):
        layout = c.text("layout", "tf")
        if layout not in ("tf", "torch"):
            raise c.bad("layout", f"must be 'tf' or 'torch'; received layout={layout!r}")
    shape = _torch_tensor(r, c.nodes["tensor"]) if fw == "torch" else None
    return Spec(fw, family, None, None, fixed=value, layout=layout, shape=shape, call=func)


_TENSOR_METHODS = {"normal_": ("mean", "std", "generator"), "uniform_": ("from", "to", "generator"),
                   "zero_": (), "fill_": ("value",)}
_INIT_KW_SUFFIXES = ("init", "initializer", "embedding_table")
#: Keyword arguments that take a MindSpore initializer name (``nn.Dense(weight_init='normal')``).
_MS_KWARGS = ("weight_init", "gamma_init", "beta_init", "moving_mean_init", "moving_var_init", "embedding_table",
              "bias_init")


def _tensor_method(r: _Reader, node: ast.Call, func: str) -> Spec:
    """``m.weight.data.normal_(0, 0.01)``, ``.uniform_(a, b)``, ``.zero_()``, ``.fill_(v)``: torch's Tensor methods."""
    c = _Call(r, node, func, _TENSOR_METHODS[func])
    tensor = node.func.value if isinstance(node.func, ast.Attribute) else node.func
    shape = _torch_tensor(r, tensor) if isinstance(tensor, ast.Call) else None
    if func == "zero_":
        return Spec("torch", "constant", None, None, fixed=0.0, layout="torch", shape=shape, call=func)
    if func == "fill_":
        if not c.has("value"):
            raise r.fail("fill_() needs the value", node)
        return Spec("torch", "constant", None, None, fixed=c.num("value", 0.0), layout="torch", shape=shape,
                    call=func)
    if func == "normal_":
        return Spec("torch", "untruncated_normal", None, None, fixed=_pos(c, "std", 1.0), layout="torch", shape=shape,
                    mean=_mean(c, "mean"), call=func)
    return replace(_uniform(c, "torch", func, c.num("from", 0.0), c.num("to", 1.0), "from", layout="torch"),
                   shape=shape)


def _layer_initializer(node: ast.Call) -> ast.AST | None:
    """The initializer argument of a layer call (the first keyword named ``*init``/``*initializer``)."""
    for kw in node.keywords:
        if kw.arg and kw.arg.lower().endswith(_INIT_KW_SUFFIXES):
            if kw.arg in _MS_KWARGS and isinstance(kw.value, ast.Constant) and isinstance(kw.value.value, str):
                return ast.Call(func=ast.Name(id="initializer", col_offset=kw.value.col_offset),
                                args=[kw.value], keywords=[], lineno=1, col_offset=kw.value.col_offset)
            return kw.value
    return None


def _rule_spec(r: _Reader, node: ast.Call, func: str) -> Spec | None:
    """varscale's rule syntax (``normal(std=0.02)``, ``uniform(-0.1, 0.1)``, ``trunc_normal(std=0.02)``,
    ``constant(0.1)``, ``orthogonal(gain=2)``), read by :mod:`varscale._rules` as torch's functions."""
    from . import _rules

    name = _rules._ALIASES.get(func.rstrip("_"), func.rstrip("_"))
    if name not in _rules._TORCH_FUNCTIONS:
        return None
    text = ast.get_source_segment(r.source, node) or ""
    try:
        init = _rules._from_text(text, "tf", "SPEC")
    except (InvalidArgumentError, TypeError, ValueError) as err:
        raise r.fail(str(err).split("; received")[0], node) from None
    return replace(spec_from_basic(init), call=func)


def spec_from_basic(init: Any) -> Spec:
    """The :class:`Spec` of one of varscale's basic initializers (Zeros, Ones, Constant, Normal,
    TruncatedNormal, Uniform, Orthogonal); fan-based ones go through :func:`varscale.translate`'s own path.

    Example:
        >>> import varscale as vs
        >>> s = spec_from_basic(vs.Normal(mean=1.0, std=0.02))
        >>> s.family, s.fixed, s.mean
        ('untruncated_normal', 0.02, 1.0)
    """
    from ._basic import Constant, Normal, Orthogonal, TruncatedNormal, Uniform

    name = type(init).__name__
    if isinstance(init, Constant):
        return Spec("varscale", "constant", None, None, fixed=float(init.value), call=name)
    if isinstance(init, Orthogonal):
        return Spec("varscale", "orthogonal", None, None, fixed=float(init.gain), layout=init.layout, call=name)
    if isinstance(init, TruncatedNormal):
        m, sd, a, b = init.mean, init.std, init.a, init.b
        if a - m != -(b - m):
            raise InvalidArgumentError(
                f"`init`: only bounds symmetric about the mean translate; received mean={m!r}, a={a!r}, b={b!r}."
            )
        return Spec("varscale", "truncated_normal", None, None, fixed=sd, cut=_cut((b - m) / sd),
                    absolute_bounds=True, mean=m, layout="torch", call=name)
    if isinstance(init, Normal):
        if not init.std > 0:
            raise InvalidArgumentError(f"`init`: std must be positive to translate; received std={init.std!r}.")
        return Spec("varscale", "untruncated_normal", None, None, fixed=init.std, mean=init.mean, layout="torch",
                    call=name)
    if isinstance(init, Uniform):
        lo, hi = init.a, init.b
        if not hi > lo:
            raise InvalidArgumentError(f"`init`: the range must not be empty; received a={lo!r}, b={hi!r}.")
        half, mid = ((hi, 0.0) if lo == -hi else ((hi - lo) / 2.0, (lo + hi) / 2.0))
        return Spec("varscale", "uniform", None, None, fixed=half, mean=mid, layout="torch", call=name)
    if hasattr(init, "spec"):  # a rule's framework expression (SpecInitializer)
        return init.spec  # type: ignore[no-any-return]
    raise InvalidArgumentError(f"`init` of type {name} has no Spec; received init={init!r}.")


def _never() -> Spec:
    raise AssertionError("unreachable")


def _call(r: _Reader, node: ast.AST, legacy: bool) -> Spec:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return _from_name(r, node.value, node, "keras")
    if isinstance(node, ast.Dict):
        raise r.fail("a config dict must be given as JSON text (the whole source), not inside an expression",
                     node)
    if isinstance(node, ast.Lambda):
        raise r.fail("lambda expressions are not allowed", node)
    if isinstance(node, (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
        raise r.fail("comprehensions are not allowed", node)
    if not isinstance(node, ast.Call):
        if isinstance(node, ast.Attribute):
            fw, func = _prefix_framework(r.dotted(node))
            if fw in ("keras", "tf.keras", "tf1", "jax", "mindspore", "varscale") and func in _KNOWN_NAMES[fw]:
                # an initializer passed uncalled (`kernel_initializer=tf.keras.initializers.he_normal`,
                # `bias_init=initializers.zeros`): the framework calls it with its defaults
                return _call(r, ast.Call(func=node, args=[], keywords=[], lineno=1, col_offset=node.col_offset),
                             legacy)
        if isinstance(node, (ast.Attribute, ast.Name)):
            parts = r.dotted(node)
            raise r.fail(f"{'.'.join(parts)!r} must be called, e.g. {'.'.join(parts)}()", node)
        raise r.fail(f"expected an initializer call; found a {type(node).__name__.lower()} expression", node)
    parts = r.dotted(node.func)
    fw, func = _prefix_framework(parts)
    if fw == "?" and func in _TENSOR_METHODS and isinstance(node.func, ast.Attribute):
        return _tensor_method(r, node, func)
    if fw == "?" or (fw is None and func not in _KNOWN_BARE and not func.endswith("_initializer")):
        layer_init = _layer_initializer(node)
        if layer_init is not None:  # layers.Dense(10, kernel_initializer='lecun_normal'): its initializer
            return _call(r, layer_init, legacy)
    if fw == "?":
        raise r.fail(f"{'.'.join(parts[:-1])!r} is not a known framework module (tf, keras, torch.nn.init, "
                     f"jax.nn.initializers, mindspore.common.initializer, varscale)", node.func)
    kw = {k.arg for k in node.keywords if k.arg}
    if fw == "jax" and parts[:-1] == ("initializers",) and "seed" in kw:
        fw = "keras"  # `from keras import initializers`: Keras' snake-case functions take a seed, JAX's do not
    if fw == "torch" and not func.endswith("_") and func + "_" in _TORCH_ALL:
        func = func + "_"  # deprecated non-underscore aliases (init.constant, init.orthogonal, init.normal)
        node = ast.Call(func=ast.Attribute(value=node.func.value, attr=func, col_offset=node.func.col_offset)
                        if isinstance(node.func, ast.Attribute) else ast.Name(id=func, col_offset=node.col_offset),
                        args=node.args, keywords=node.keywords, lineno=1, col_offset=node.col_offset)
    if fw is None:
        fw = _guess(func, kw, node)
        if fw is None:
            from_rule = _rule_spec(r, node, func)
            if from_rule is not None:
                return from_rule
            raise _unknown(r, func, None, "any supported framework", node.func)
    other = _other_spec(r, node, fw, func)
    if other is not None:
        return other
    if func == "get" and fw in ("keras", "tf.keras", "varscale", "tf1"):
        if len(node.args) != 1 or node.keywords:
            raise r.fail("get() takes one identifier", node)
        arg = node.args[0]
        if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
            return replace(_from_name(r, arg.value, arg, "keras" if fw == "tf1" else fw), call="get")
        return replace(_call(r, arg, legacy), framework=fw)
    if fw == "mindspore" and func == "initializer":
        return _ms_initializer(r, node, legacy)
    if fw == "torch":
        if func.endswith("_") is False and func + "_" in _TORCH_PARAMS:
            func = func + "_"  # deprecated non-underscore aliases
        if func not in _TORCH_PARAMS:
            raise _unknown(r, func, "torch", "torch.nn.init", node.func)
        c = _Call(r, node, func, _TORCH_PARAMS[func])
        if not c.has("tensor"):
            raise r.fail(f"{func}() needs the tensor to fill, e.g. {func}(w)", node)
        shape = _torch_tensor(r, c.nodes["tensor"])
        return replace(_torch(c, func), shape=shape)
    if fw in ("keras", "tf.keras"):
        return _keras_like(fw, _Call(r, node, func, _keras_params(func)), func)
    if fw == "tf1":
        return _tf1(_Call(r, node, func, _tf1_params(func)), func, legacy)
    if fw == "tf_contrib":
        return _contrib(_Call(r, node, func, _contrib_params(func)), func)
    if fw == "jax":
        return _jax(_Call(r, node, func, _jax_params(func)), func)
    if fw == "mindspore":
        if func not in _MS_PARAMS:
            raise _unknown(r, func, "mindspore", "MindSpore", node.func)
        return _mindspore(_Call(r, node, func, _MS_PARAMS[func]), func)
    params = _KERAS_PARAMS.get(func, ("seed", "layout", "dtype"))
    params = (*params, "layout") if "layout" not in params else params
    return _varscale(_Call(r, node, func, params), func)


def _guess(func: str, kw: set[str], node: ast.Call) -> str | None:
    """The framework of a bare (unqualified) call."""
    if func in _TORCH_PARAMS or (func + "_" in _TORCH_PARAMS and func in ("xavier_uniform", "xavier_normal",
                                                                         "kaiming_uniform", "kaiming_normal")):
        return "torch" if func.endswith("_") or node.args else "jax"
    if func in ("zeros_", "ones_", "constant_", "orthogonal_", "eye_"):
        return "torch"
    if func in ("Zero", "One"):
        return "mindspore"
    if func in ("Zeros", "Ones", "Constant", "Orthogonal", "Identity"):
        return "keras"
    if func in ("zeros_init", "ones_init"):
        return "jax"
    if func in ("XavierUniform", "XavierNormal", "initializer", "Normal", "Uniform"):
        return "mindspore"
    if func in ("HeUniform", "HeNormal"):
        ms_kw = kw & {"negative_slope", "mode", "nonlinearity"}
        return "mindspore" if ms_kw or node.args else "keras"
    if func == "VarianceScaling":
        dist = [k.value for k in node.keywords if k.arg == "distribution"]
        if dist and isinstance(dist[0], ast.Constant) and dist[0].value == "untruncated_norm":
            return "mindspore"
        return "keras"
    if func == "TruncatedNormal":
        return "mindspore" if kw & {"sigma", "a", "b"} or node.args else "keras"
    if func in _KERAS_PRESETS or func in ("RandomNormal", "RandomUniform", "get"):
        return "keras"
    if func in _JAX_PRESETS or func == "variance_scaling":
        return "jax"
    if func in ("xavier_initializer", "xavier_initializer_conv2d"):
        return "tf_contrib"
    if func == "variance_scaling_initializer":
        contrib = bool(kw & {"factor", "uniform"})
        for k in node.keywords:
            if k.arg == "mode" and isinstance(k.value, ast.Constant) and isinstance(k.value.value, str):
                contrib = contrib or k.value.value.isupper()
        return "tf_contrib" if contrib else "tf1"
    if func.endswith("_initializer"):
        return "tf1"
    return None


def _ms_initializer(r: _Reader, node: ast.Call, legacy: bool) -> Spec:
    c = _Call(r, node, "initializer", ("init", "shape", "dtype"))
    if not c.has("init"):
        raise r.fail("initializer() needs `init`", node)
    init = c.nodes["init"]
    if isinstance(init, ast.Constant) and isinstance(init.value, str):
        spec = replace(_from_name(r, init.value, init, "mindspore"), call=f"initializer({init.value!r})")
    elif isinstance(init, ast.Call) and isinstance(init.func, ast.Name) and init.func.id in _MS_PARAMS:
        name = init.func.id  # a bare name inside initializer() is MindSpore's
        spec = _mindspore(_Call(r, init, name, _MS_PARAMS[name]), name)
    else:
        spec = _call(r, init, legacy)
        if spec.framework != "mindspore":
            raise r.fail("initializer() takes a MindSpore initializer", init)
    shape = None
    if c.has("shape"):
        shape_node = c.nodes["shape"]
        if isinstance(shape_node, (ast.Attribute, ast.Name)) and not (isinstance(shape_node, ast.Name)
                                                                       and shape_node.id == "None"):
            v = None  # `self.weight.shape`, `shape`: known only when the code runs
        else:
            v = c.get("shape")
        shape = None if v is None else _as_shape(r, v, shape_node)
        if shape is not None and 0 in shape:
            raise c.bad("shape", f"MindSpore's initializer() needs positive dimensions; received {shape}")
    return replace(spec, shape=shape)


def _parse_json(source: str, legacy: bool) -> Spec:
    try:
        cfg = json.loads(source)
    except (json.JSONDecodeError, RecursionError) as err:
        col = getattr(err, "colno", 0)
        raise ParseError(f"not valid JSON ({getattr(err, 'msg', err)})", source, col,
                         source[max(0, col - 1):col + 10]) from None
    if not isinstance(cfg, dict) or "class_name" not in cfg:
        raise ParseError("a JSON config must be an object with 'class_name' and 'config'", source)
    unknown = set(cfg) - {"class_name", "config", "module", "registered_name"}
    if unknown:
        raise ParseError(f"unknown keys {sorted(unknown)} in the JSON config", source)
    name, conf = cfg["class_name"], cfg.get("config", {})
    if not isinstance(name, str) or not isinstance(conf, dict):
        raise ParseError("'class_name' must be a string and 'config' an object", source)
    module = cfg.get("module")
    framework = "keras"
    if "layout" in conf or "stream_version" in conf or (isinstance(module, str) and module.startswith("varscale")):
        framework = "varscale"
    elif isinstance(module, str) and module.startswith("tf"):
        framework = "tf.keras"
    elif "dtype" in conf:
        framework = "tf1"
    # Rebuild a call expression from the config and read it with the same rules.
    conf = {k: v for k, v in conf.items() if k not in ("stream_version", "registered_name")}
    for k, v in conf.items():
        if not isinstance(k, str) or not k.isidentifier() or k.startswith("_"):
            raise ParseError(f"bad config key {k!r}", source)
        if isinstance(v, dict):
            if k == "seed":
                continue
            raise ParseError(f"config value {k}={v!r} must be a literal", source)
    if not name.isidentifier() or name.startswith("_"):
        raise ParseError(f"bad class_name {name!r}", source)
    if "seed" in conf and isinstance(conf["seed"], dict):
        conf = dict(conf, seed=None)
    if framework == "tf1":
        conf = dict(conf, dtype=None)
    args = ", ".join(f"{k}={v!r}" for k, v in conf.items())
    prefix = {"keras": "keras.initializers", "tf.keras": "tf.keras.initializers",
              "tf1": "tf.compat.v1", "varscale": "varscale"}[framework]
    expr = f"{prefix}.{name}({args})"
    try:
        spec = _parse_expr(expr, legacy)
    except ParseError as err:
        raise ParseError(f"the config does not describe a variance-scaling initializer ({err.reason})", source) from None
    return replace(spec, call=name)


def _parse_expr(source: str, legacy: bool) -> Spec:
    r = _Reader(source)
    try:
        with warnings.catch_warnings():  # e.g. "invalid decimal literal": the text is refused or read anyway
            warnings.simplefilter("ignore", SyntaxWarning)
            tree = ast.parse(source.strip(), mode="eval")
    except SyntaxError as err:
        col = err.offset or 0
        raise ParseError(f"not a Python expression ({err.msg})", source, col,
                         source[max(0, col - 1):col + 10]) from None
    except (ValueError, MemoryError, RecursionError) as err:
        raise ParseError(f"not a Python expression ({err})", source) from None
    r.source = source.strip()
    nodes = list(ast.walk(tree))
    if len(nodes) > MAX_NODES:
        raise ParseError(f"the expression is too large ({len(nodes)} syntax nodes; at most {MAX_NODES})", source)
    for n in nodes:
        if isinstance(n, ast.Lambda):
            raise r.fail("lambda expressions are not allowed", n)
        if isinstance(n, (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
            raise r.fail("comprehensions are not allowed", n)
        if isinstance(n, (ast.NamedExpr, ast.Await, ast.Yield, ast.YieldFrom, ast.Subscript, ast.Starred,
                          ast.JoinedStr, ast.IfExp, ast.BoolOp, ast.Compare)):
            raise r.fail(f"{type(n).__name__} expressions are not allowed", n)
        if isinstance(n, ast.Name) and n.id.startswith("__"):
            raise r.fail(f"the name {n.id!r} is not allowed", n)
        if isinstance(n, ast.Attribute) and n.attr.startswith("_") and not n.attr.endswith("_"):
            raise r.fail(f"the attribute {n.attr!r} is not allowed", n)
        if isinstance(n, ast.Attribute) and n.attr.startswith("__"):
            raise r.fail(f"the attribute {n.attr!r} is not allowed", n)
    return replace(_call(r, tree.body, legacy), source=source)


_TORCH_NAMES = frozenset({"kaiming_normal", "kaiming_uniform", "xavier_normal", "xavier_uniform"})
_ASSIGN = re.compile(r"^\s*[A-Za-z_][A-Za-z0-9_]*(\s*\.\s*[A-Za-z_][A-Za-z0-9_]*)*\s*(:\s*[A-Za-z_][\w.]*\s*)?=(?!=)\s*")


_DICT_ENTRY = re.compile(r"""^\s*(['"])[A-Za-z_][A-Za-z0-9_]*\1\s*:\s*""")


def _strip_assignment(text: str) -> str:
    """The value of a keyword argument or an assignment as real code writes it.

    ``kernel_initializer='he_uniform'``, ``kernel_init=nn.initializers.lecun_normal(),``
    and ``self.init = ...`` give the part after ``=`` (a trailing comma dropped).

    Example:
        >>> _strip_assignment("kernel_initializer='he_uniform',")
        "'he_uniform'"
    """
    m = _ASSIGN.match(text) or _DICT_ENTRY.match(text)  # also a dict entry: 'kernel_initializer': 'he_normal'
    if m is None:
        return text
    rest = text[m.end():].strip()
    if rest.endswith(","):
        rest = rest[:-1].rstrip()
    return rest or text


def parse(source: str, *, tf_version: str | None = None) -> Spec:
    """Parse an initializer expression from any supported framework into a :class:`Spec`.

    Args:
        source: one Python expression (``keras.initializers.HeNormal()``,
            ``tf.contrib.layers.variance_scaling_initializer(factor=1.0,
            mode='FAN_AVG', uniform=True)``, ``nn.init.kaiming_normal_(w,
            mode='fan_out')``, ``jax.nn.initializers.lecun_normal()``,
            ``initializer('he_normal', [64, 3, 3, 3])``, ``XavierUniform(gain=2)``…),
            a preset name (``"he_normal"``), or a Keras JSON config.
            It is read with :mod:`ast` and never evaluated.
        tf_version: the TensorFlow version a TF1 expression ran under; below
            ``"1.10"`` its ``"normal"`` truncated normal is uncorrected.

    Returns:
        The canonical :class:`Spec`.

    Raises:
        TypeError: ``source`` is not a string.
        ParseError: the text is not a supported initializer expression (the
            message gives the column and the offending part).

    Example:
        >>> import varscale as vs
        >>> s = vs.parse("XavierUniform(gain=2)")
        >>> s.framework, s.family, s.scale, s.mode
        ('mindspore', 'uniform', 4.0, 'fan_avg')
        >>> vs.parse("initializer('he_normal', [64, 3, 3, 3])").shape
        (64, 3, 3, 3)
    """
    if not isinstance(source, str):
        raise TypeError(f"`source` must be a str; received source={source!r} of type {type(source).__name__}.")
    legacy = False
    if tf_version is not None:
        try:
            major, minor = (int(p) for p in str(tf_version).split(".")[:2])
        except ValueError:
            raise InvalidArgumentError(
                f"`tf_version` must look like '1.9' or '2.15'; received tf_version={tf_version!r}."
            ) from None
        legacy = (major, minor) < (1, 10)
    text = source.strip()
    if len(text) > MAX_CHARS:
        raise ParseError(f"the text is too long ({len(text)} characters; at most {MAX_CHARS})", source)
    if not text:
        raise ParseError("the text is empty", source)
    depth = level = 0
    for ch in text:
        if ch in "([{":
            level += 1
            depth = max(depth, level)
        elif ch in ")]}":
            level -= 1
    if depth > MAX_DEPTH:
        raise ParseError(f"the expression is nested too deeply ({depth} levels; at most {MAX_DEPTH})", source)
    if text.startswith("{"):
        return replace(_parse_json(text, legacy), source=source)
    name_kw = (text.split("=", 1)[0].strip() if _ASSIGN.match(text) else
               text.split(":", 1)[0].strip().strip("'\"") if _DICT_ENTRY.match(text) else "")
    text = _strip_assignment(text)
    if name_kw in _MS_KWARGS and text[:1] in "'\"" and text[-1:] == text[:1] and text[1:-1].isidentifier():
        # nn.Dense(weight_init='normal'): a MindSpore initializer name
        text = f"initializer({text})"
    if text.rstrip("_") in _TORCH_NAMES:
        # the names users type for torch's functions: torch's law (kaiming_normal is an untruncated normal)
        return replace(_parse_expr(f"torch.nn.init.{text.rstrip('_')}_(w)", legacy), source=source)
    if text.isidentifier():
        return replace(_from_name(_Reader(text), text, ast.Constant(value=text, col_offset=0), "keras"),
                       source=source)
    return _parse_expr(text, legacy)
