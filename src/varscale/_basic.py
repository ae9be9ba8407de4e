"""The standard initializers that are not variance scaling.

``Normal(mean, std)``, ``TruncatedNormal(mean, std, a, b)`` (absolute bounds,
as ``torch.nn.init.trunc_normal_``), ``Uniform(a, b)``, ``Constant(value)``,
``Zeros``, ``Ones`` and ``Orthogonal(gain)``: the laws every real model mixes
with Glorot/He (biases, embeddings, norms, recurrent kernels, the
``normal(std=0.02)`` of GPT/BERT/ViT).

The random ones draw from the same counter-based stream as
:class:`varscale.VarianceScaling` (same seeds, same regions, same engines,
same bits on every engine and thread count); the constant ones are exact.

**Orthogonal.** The Gaussian matrix is drawn from the stream in float64 (bit
for bit reproducible, like every other draw); the QR factorization is
``numpy.linalg.qr`` (LAPACK ``dgeqrf``/``dorgqr``) in float64, the signs of
``diag(R)`` are applied as torch and Keras do, and the result is rounded once
to the output dtype. The QR step is deterministic for a given NumPy/LAPACK
build and thread count, but different BLAS/LAPACK builds may differ in the
last bits of float64 (almost never after rounding to float32). The flattening
follows the layout: ``"torch"`` is ``torch.nn.init.orthogonal_`` (rows =
``shape[0]``), ``"tf"`` is Keras' ``Orthogonal`` (columns = ``shape[-1]``).

Example:
    >>> import varscale as vs
    >>> w = vs.Normal(std=0.02, seed=0)((768, 768))
    >>> round(float(w.std()), 3)
    0.02
    >>> b = vs.Zeros()((16,))
    >>> float(abs(b).max())
    0.0
    >>> q = vs.Orthogonal(seed=0, layout="torch")((64, 32), dtype="float64")
    >>> import numpy as np
    >>> bool(np.allclose(q.T @ q, np.eye(32)))
    True
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from ._base import Initializer
from ._codes import Format
from ._dtypes import DTypeLike
from ._errors import InvalidArgumentError
from ._fans import Layout, resolve_layout
from ._generate import draw
from ._plan import Region, Sampler, normal_sampler, uniform_sampler
from ._validation import ShapeLike
from .stream import STREAM_VERSION, Stream

__all__ = [
    "BASIC_CLASSES",
    "BasicDescription",
    "BasicInitializer",
    "Constant",
    "Normal",
    "Ones",
    "Orthogonal",
    "TruncatedNormal",
    "Uniform",
    "Zeros",
    "round_float64",
]


def _finite(value: Any, argument: str, cls: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"`{argument}` of {cls} must be a real number; received {argument}={value!r}.")
    try:
        out = float(value)
    except OverflowError:
        raise InvalidArgumentError(
            f"`{argument}` of {cls} must be a finite number; received {argument}={value!r} (too large for a float)."
        ) from None
    if not math.isfinite(out):
        raise InvalidArgumentError(f"`{argument}` of {cls} must be a finite number; received {argument}={value!r}.")
    return out


def _truncated_moments(a: float, b: float) -> tuple[float, float]:
    """Mean and variance of a standard normal truncated to ``[a, b]`` (std units).

    Narrow intervals (width below 1e-3) use the expansion around the midpoint
    (the textbook formula cancels there); elsewhere the interval is reflected
    to the side where ``erfc`` keeps its relative accuracy.
    """
    if a > 0:  # reflect: moments of [-b, -a], mean negated
        m, v = _truncated_moments(-b, -a)
        return -m, v
    w = b - a
    c = (a + b) / 2.0
    if w * (1.0 + abs(c)) < 1e-3:
        # density ∝ exp(-x²/2) on a tiny interval around c: expand in w (error O((|c|+1)·w)³)
        return c - c * w * w / 12.0, w * w / 12.0 * (1.0 - w * w / 30.0 - c * c * w * w / 20.0)
    r2 = math.sqrt(2.0)
    if b <= 0:
        mass = 0.5 * (math.erfc(-b / r2) - math.erfc(-a / r2))
    else:
        mass = 1.0 - 0.5 * math.erfc(-a / r2) - 0.5 * math.erfc(b / r2)
    pa = 0.0 if math.isinf(a) else math.exp(-a * a / 2.0) / math.sqrt(2.0 * math.pi)
    pb = 0.0 if math.isinf(b) else math.exp(-b * b / 2.0) / math.sqrt(2.0 * math.pi)
    mean = (pa - pb) / mass
    ta = 0.0 if math.isinf(a) else a * pa
    tb = 0.0 if math.isinf(b) else b * pb
    var = 1.0 + (ta - tb) / mass - mean * mean
    if var < 1e-3 * (1.0 + mean * mean):
        # the closed form cancels: integrate the moments about the midpoint (Gauss-Legendre, 64 nodes;
        # here the interval is short against the density's scale, so the integrand is smooth)
        h = w / 2.0
        nodes, weights = np.polynomial.legendre.leggauss(64)
        t = h * nodes
        dens = weights * np.exp(-c * t - t * t / 2.0)
        z = float(dens.sum())
        m1 = float((dens * t).sum()) / z
        m2 = float((dens * (t - m1) ** 2).sum()) / z
        return c + m1, m2
    return mean, max(var, 0.0)


@dataclass(frozen=True)
class BasicDescription:
    """What a non-variance-scaling initializer draws for one shape."""

    shape: tuple[int, ...]
    mean: float
    std: float
    bounds: tuple[float, float]
    formula: str


def _check_shape(shape: Any) -> tuple[int, ...]:
    from ._validation import check_shape

    return check_shape(shape)


class BasicInitializer(Initializer):
    """Common base of the standard initializers: their config is their ``_keys`` (and ``seed``). Not used
    directly."""

    _keys: ClassVar[tuple[str, ...]] = ()
    _seeded: ClassVar[bool] = True

    def describe(self, shape: ShapeLike) -> BasicDescription:
        """Mean, std, bounds and the formula for ``shape``."""
        raise NotImplementedError

    def get_config(self) -> dict[str, Any]:
        """JSON-safe config; ``from_config(get_config())`` rebuilds an equal initializer."""
        cfg: dict[str, Any] = {k: getattr(self, k) for k in self._keys}
        if self._seeded:
            cfg["seed"] = self.seed
        if isinstance(cfg.get("layout"), Layout):
            cfg["layout"] = cfg["layout"].to_config()
        cfg["stream_version"] = STREAM_VERSION
        return cfg

    @classmethod
    def _allowed_keys(cls) -> set[str]:
        return set(cls._keys) | {"stream_version"} | ({"seed"} if cls._seeded else set())


class Constant(BasicInitializer):
    """Every element equals ``value`` (rounded once to the output dtype).

    Example:
        >>> import varscale as vs
        >>> vs.Constant(0.25)((2, 3)).tolist()
        [[0.25, 0.25, 0.25], [0.25, 0.25, 0.25]]
    """

    _keys: ClassVar[tuple[str, ...]] = ("value",)
    _seeded = False

    def __init__(self, value: float = 0.0) -> None:
        self.value = _finite(value, "value", type(self).__name__)
        self.seed = None

    def sampler(self, shape: tuple[int, ...]) -> Sampler:
        # loc + 0·(2u − 1) is exactly loc: the constant, rounded once like any draw
        return uniform_sampler(self.value, self.value)

    def describe(self, shape: ShapeLike) -> BasicDescription:
        dims = _check_shape(shape)
        return BasicDescription(dims, self.value, 0.0, (self.value, self.value), f"constant {self.value!r}")

    def _call_stream(self) -> Stream:
        # a constant needs no stream: any fixed key gives the same bits
        return Stream(0, 0)


class _Fixed(Constant):
    """A constant without arguments: its value is the class attribute ``_value``."""

    _keys = ()
    _value: ClassVar[float] = 0.0

    def __init__(self) -> None:
        super().__init__(self._value)


class Zeros(_Fixed):
    """Every element is zero.

    Example:
        >>> import varscale as vs
        >>> vs.Zeros()((3,)).tolist()
        [0.0, 0.0, 0.0]
    """

    _value = 0.0


class Ones(_Fixed):
    """Every element is one.

    Example:
        >>> import varscale as vs
        >>> vs.Ones()((2,)).tolist()
        [1.0, 1.0]
    """

    _value = 1.0


class Normal(BasicInitializer):
    """``N(mean, std²)``, untruncated: ``torch.nn.init.normal_``, Keras ``RandomNormal``.

    Example:
        >>> import varscale as vs
        >>> vs.Normal(std=0.02).describe((768, 768)).std
        0.02
    """

    _keys = ("mean", "std")

    def __init__(self, mean: float = 0.0, std: float = 1.0, seed: int | Stream | None = None) -> None:
        name = type(self).__name__
        self.mean = _finite(mean, "mean", name)
        self.std = _finite(std, "std", name)
        if self.std < 0:
            raise InvalidArgumentError(f"`std` of {name} must be >= 0; received std={std!r}.")
        self._init_seed(seed)

    def sampler(self, shape: tuple[int, ...]) -> Sampler:
        return normal_sampler(self.mean, self.std)

    def describe(self, shape: ShapeLike) -> BasicDescription:
        dims = _check_shape(shape)
        return BasicDescription(dims, self.mean, self.std, (-math.inf, math.inf),
                                f"N(mean, std²), mean = {self.mean!r}, std = {self.std!r}")


class TruncatedNormal(BasicInitializer):
    """``N(mean, std²)`` truncated to the *absolute* interval ``[a, b]``, as ``torch.nn.init.trunc_normal_``.

    Drawn by exact inverse-CDF truncation (no rejection). The realized std is
    smaller than ``std`` when the cut is narrow; :meth:`describe` reports it.
    For Keras/TF's ``TruncatedNormal(stddev)`` (cut at ±2·stddev around the
    mean) use ``TruncatedNormal(mean, s, mean - 2*s, mean + 2*s)``.

    Example:
        >>> import varscale as vs
        >>> init = vs.TruncatedNormal(std=0.02, a=-0.04, b=0.04, seed=0)
        >>> bool(abs(init((1000,))).max() <= 0.04)
        True
    """

    _keys = ("mean", "std", "a", "b")

    def __init__(
        self,
        mean: float = 0.0,
        std: float = 1.0,
        a: float = -2.0,
        b: float = 2.0,
        seed: int | Stream | None = None,
    ) -> None:
        name = type(self).__name__
        self.mean = _finite(mean, "mean", name)
        self.std = _finite(std, "std", name)
        self.a = _finite(a, "a", name)
        self.b = _finite(b, "b", name)
        if self.std <= 0:
            raise InvalidArgumentError(f"`std` of {name} must be > 0; received std={std!r}.")
        if not self.a < self.b:
            raise InvalidArgumentError(f"the bounds of {name} must satisfy a < b; received a={a!r}, b={b!r}.")
        normal_sampler(self.mean, self.std, self.a, self.b)  # validates the interval's mass
        self._init_seed(seed)

    def sampler(self, shape: tuple[int, ...]) -> Sampler:
        return normal_sampler(self.mean, self.std, self.a, self.b)

    def describe(self, shape: ShapeLike) -> BasicDescription:
        dims = _check_shape(shape)
        sp = self.sampler(dims)
        mean, var = _truncated_moments(sp.a, sp.b)
        return BasicDescription(
            dims, self.mean + self.std * mean, self.std * math.sqrt(var), (self.a, self.b),
            f"N(mean, std²) truncated to [a, b], mean = {self.mean!r}, std = {self.std!r}, "
            f"a = {self.a!r}, b = {self.b!r}",
        )


class Uniform(BasicInitializer):
    """``U(a, b)``: ``torch.nn.init.uniform_``, Keras ``RandomUniform(minval=a, maxval=b)``.

    Example:
        >>> import varscale as vs
        >>> w = vs.Uniform(-0.05, 0.05, seed=0)((100,))
        >>> bool(abs(w).max() <= 0.05)
        True
    """

    _keys = ("a", "b")

    def __init__(self, a: float = 0.0, b: float = 1.0, seed: int | Stream | None = None) -> None:
        name = type(self).__name__
        self.a = _finite(a, "a", name)
        self.b = _finite(b, "b", name)
        if not self.a <= self.b:
            raise InvalidArgumentError(f"the bounds of {name} must satisfy a <= b; received a={a!r}, b={b!r}.")
        self._init_seed(seed)

    def sampler(self, shape: tuple[int, ...]) -> Sampler:
        return uniform_sampler(self.a, self.b)

    def describe(self, shape: ShapeLike) -> BasicDescription:
        dims = _check_shape(shape)
        return BasicDescription(dims, (self.a + self.b) / 2.0, (self.b - self.a) / math.sqrt(12.0),
                                (self.a, self.b), f"U(a, b), a = {self.a!r}, b = {self.b!r}")


class Orthogonal(BasicInitializer):
    """A (semi-)orthogonal matrix times ``gain``: torch's ``orthogonal_`` or Keras' ``Orthogonal``.

    Needs at least 2 dimensions. With ``layout="torch"`` the tensor is
    flattened to ``(shape[0], rest)`` as ``torch.nn.init.orthogonal_`` does;
    with ``layout="tf"`` (the default) to ``(rest, shape[-1])`` as Keras does.
    See the module docstring for what is bit-reproducible. A ``region`` is cut
    from the full matrix (the QR needs all of it).

    Example:
        >>> import numpy as np
        >>> import varscale as vs
        >>> w = vs.Orthogonal(gain=2.0, seed=1, layout="torch")((8, 16), dtype="float64")
        >>> bool(np.allclose(w @ w.T, 4 * np.eye(8)))
        True
    """

    _keys = ("gain", "layout")

    def __init__(self, gain: float = 1.0, seed: int | Stream | None = None, layout: str | Layout | None = None) -> None:
        self.gain = _finite(gain, "gain", type(self).__name__)
        self._layout_given = layout is not None
        lay = resolve_layout("tf" if layout is None else layout)
        if isinstance(lay, Layout):
            raise InvalidArgumentError(
                f"`layout` of Orthogonal must be 'tf' or 'torch'; received layout={layout!r}."
            )
        self.layout: str = lay
        self._init_seed(seed)

    def _flat(self, dims: tuple[int, ...]) -> tuple[int, int]:
        if len(dims) < 2:
            raise InvalidArgumentError(
                f"Orthogonal needs a shape with 2 or more dimensions (as torch's orthogonal_ and Keras' "
                f"Orthogonal); received shape={dims!r}."
            )
        total = math.prod(dims)
        if self.layout == "torch":
            rows = dims[0]
            return rows, (total // rows if rows else 0)
        cols = dims[-1]
        return (total // cols if cols else 0), cols

    def sampler(self, shape: tuple[int, ...]) -> Sampler:
        """The Gaussian draw behind the QR step (standard normal)."""
        return normal_sampler(0.0, 1.0)

    def describe(self, shape: ShapeLike) -> BasicDescription:
        dims = _check_shape(shape)
        rows, cols = self._flat(dims)
        big = max(rows, cols, 1)
        std = abs(self.gain) / math.sqrt(big)
        return BasicDescription(dims, 0.0, std, (-abs(self.gain), abs(self.gain)),
                                f"gain · Q, Q from the QR of a {rows}×{cols} standard normal matrix "
                                f"({self.layout} flattening); element std = gain/sqrt({big})")

    def matrix(self, shape: tuple[int, ...], stream: Stream) -> np.ndarray[Any, Any]:
        """The full result in float64 (before rounding to the output dtype)."""
        dims = _check_shape(shape)
        rows, cols = self._flat(dims)
        if rows * cols == 0:
            return np.zeros(dims, dtype=np.float64)
        if self.layout == "torch":
            flat = draw((rows, cols), "float64", self.sampler(dims), stream)
            if rows < cols:
                flat = flat.T
        else:
            flat = draw((max(rows, cols), min(rows, cols)), "float64", self.sampler(dims), stream)
        q, r = np.linalg.qr(flat)
        q = q * np.sign(np.diagonal(r))
        if rows < cols:
            q = q.T
        out: np.ndarray[Any, Any] = (self.gain * q).reshape(dims)
        return out

    def _draw(
        self, dims: tuple[int, ...], dtype: DTypeLike, stream: Stream, region: Region, engine: str | None
    ) -> np.ndarray[Any, Any]:
        from ._plan import plan_region

        plan_region(dims, region)  # validates the region before the work
        full = self.matrix(dims, stream)
        return round_float64(full if region is None else full[region], dtype)


def round_float64(x: np.ndarray[Any, Any], dtype: DTypeLike) -> np.ndarray[Any, Any]:
    """float64 values rounded once (nearest even) to ``dtype``, as the stream rounds its draws."""
    from ._dtypes import resolve_dtype
    from ._engine_numpy import round_to_16

    out_dtype, storage, fmt = resolve_dtype(dtype)
    part = np.ascontiguousarray(x, dtype=np.float64)
    if fmt == Format.F16:
        return round_to_16(part.reshape(-1), 5, 10).view(out_dtype).reshape(part.shape)
    if fmt == Format.BF16:
        return round_to_16(part.reshape(-1), 8, 7).view(out_dtype).reshape(part.shape)
    return part.astype(storage)


BASIC_CLASSES: dict[str, type[BasicInitializer]] = {
    cls.__name__: cls for cls in (Constant, Zeros, Ones, Normal, TruncatedNormal, Uniform, Orthogonal)
}
