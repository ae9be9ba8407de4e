"""MindSpore ``mindspore.common.initializer`` on varscale's stream.

Mirrors ``mindspore/common/initializer.py`` of MindSpore 2.10 (the code, not
its docstrings):

* ``XavierUniform(gain=1)``: ``U(±gain·sqrt(6/(n_in + n_out)))``;
  ``XavierNormal(gain=1)``: an **untruncated** ``N(0, (gain·sqrt(2/(fan_in +
  fan_out)))²)``.
* ``HeUniform(negative_slope=0, mode='fan_in', nonlinearity='leaky_relu')``:
  ``U(±sqrt(3)·gain/sqrt(fan))``; ``HeNormal(...)``: untruncated ``N(0,
  (gain/sqrt(fan))²)``. The default slope 0 is passed to the gain, so the
  default is He/ReLU (gain sqrt(2)); ``mode`` is lowercased; the gain table
  is torch's **without** ``'selu'``, and its errors name ``'HeUniform'`` even
  when raised from ``HeNormal``.
* Fans ``_calculate_fan_in_and_fan_out(shape)``: layout ``(out, in,
  *kernel)``; fewer than 2 dimensions raise ``ValueError("'fan_in' and
  'fan_out' can not be computed for tensor with fewer than 2 dimensions, but
  got dimensions 1.")``.
* ``VarianceScaling(scale=1.0, mode='fan_in', distribution='truncated_normal')``:
  validated at construction, case-sensitive (``'normal'`` is rejected), with
  MindSpore's messages; the fan is clamped with ``max(1., n)``.
  **MindSpore 2.x draws a uniform for ``distribution='truncated_normal'``**:
  its ``_initialize`` tests ``== 'truncated_norm'`` (a typo), which no
  accepted value matches, so the default falls through to ``U(±sqrt(3·scale/
  n))`` (variance ``scale/n``, kurtosis 1.8, ``max|x| = 1.7321·σ``). This
  facade reproduces that by default; pass
  ``truncated_normal_as_documented=True`` for the documented behaviour, a
  normal with ``σ' = sqrt(scale/n)/0.87962566103423978`` cut at ``±2σ'``.
* ``TruncatedNormal(sigma=0.01, mean=0.0, a=-2.0, b=2.0)``: ``a`` and ``b``
  are **absolute** values (``sigma=0.02`` is in effect untruncated); ``sigma <
  0`` raises ``ValueError("sigma < 0")`` and ``sigma == 0`` raises
  ``RuntimeError("TruncatedNormal: invalid sigma 0.")``, as MindSpore.
  ``a >= b`` raises ``ValueError`` here (MindSpore's C++ sampler then draws
  values outside ``[a, b]``).
* ``Normal(sigma=0.01, mean=0.0)``, ``Uniform(scale=0.07)``, ``Constant``,
  ``Zero``, ``One``, ``Identity``, ``Dirac``, ``Orthogonal`` and
  ``Sparse``, with MindSpore's formulas and messages.
* ``initializer(init, shape=None, dtype=float32)``: ``init`` is an
  ``Initializer``, a name (looked up lowercased in MindSpore's alias table:
  ``xavier_uniform``, ``xavieruniform``, ``he_normal``, ``variancescaling``,
  ``truncatednormal``, ``zeros``, ``ones``, …; ``'glorot_uniform'`` is not
  there), a number (``Constant``) or an array (returned as it is after
  MindSpore's shape check); the shape may be an int, a list or a tuple, and
  every dimension must be a positive ``int`` (``ValueError("For
  'initializer', the argument 'shape' is invalid, …")``).
* Values are sampled in float32 and then cast, as MindSpore's C++ samplers
  do: float16 is rounded from float32, float64 has float32 precision, and an
  integer dtype is silently truncated (``HeUniform`` into int32 gives zeros).

**Seeds.** As in MindSpore, every draw takes its seed from NumPy's global RNG,
``np.random.randint(1, 2**63, dtype=np.int64)``, so ``np.random.seed(s)``
(which ``mindspore.set_seed(s)`` calls) makes the values reproducible and the
same initializer used twice gives different values. The keyword-only
``seed=`` of ``initializer`` and ``Initializer.__call__`` (an int in
``[0, 2**64)`` or a ``varscale.Stream``) is a varscale extension that uses
that seed instead and consumes no NumPy RNG state. The values come from
varscale's stream, not MindSpore's C++ generators; the distributions are
MindSpore's.

**Outputs.** When MindSpore is imported, ``initializer`` returns what
MindSpore returns: a lazily initialized ``Tensor`` whose ``init_data()``
materializes varscale's values (``Parameter(initializer(...))`` and
``param.set_data(initializer(...))`` work), and every class is created as a
subclass of MindSpore's ``Initializer`` too, so ``nn.Dense(8, 4,
weight_init=XavierUniform())`` and ``nn.Conv2d(..., weight_init=HeNormal())``
accept it. Without MindSpore (or with ``as_numpy=True``) it returns the
materialized NumPy array; ``as_tensor=True`` a materialized ``Tensor``.
bfloat16 is always returned as NumPy (MindSpore cannot build it from NumPy 2
here). ``Initializer.__call__(arr)`` fills a NumPy array in place and returns
None, as MindSpore's does.

**One module, on purpose** (~800 lines): it is all of
``mindspore.common.initializer`` (17 names), one file as MindSpore's is, so
each class reads side by side with MindSpore's; the conformance suite records
the samplers it builds through this module's names. What it shares with the
other facades is in :mod:`varscale.compat._kit`.

Example:
    >>> import numpy as np
    >>> from varscale.compat.mindspore.common.initializer import initializer, VarianceScaling
    >>> w = initializer(VarianceScaling(2.0, "fan_in"), (128, 64), seed=0, as_numpy=True)
    >>> bool(np.abs(w).max() <= (6 / 64) ** 0.5)   # uniform, as MindSpore draws it
    True
    >>> initializer("HeNormal", [8, 4, 3, 3], seed=0, as_numpy=True).shape
    (8, 4, 3, 3)
"""

from __future__ import annotations

import copy
import numbers
import sys
from typing import Any

import numpy as np

from ...._dtypes import BFLOAT16
from ...._generate import check_fits_memory, draw
from ...._plan import Sampler, normal_sampler, uniform_sampler
from ....stream import Stream, derive_stream, resolve_seed
from ..._kit import (
    TRUNC_STD_2,
    Twins,
    gain,
    kaiming_param,
    select_n,
    torch_fans,
    torch_mode_fan,
    torch_orthogonal,
    variance_law,
    xavier_param,
)

__all__ = [
    "Constant",
    "Dirac",
    "HeNormal",
    "HeUniform",
    "Identity",
    "Initializer",
    "Normal",
    "One",
    "Orthogonal",
    "Sparse",
    "TruncatedNormal",
    "Uniform",
    "VarianceScaling",
    "XavierNormal",
    "XavierUniform",
    "Zero",
    "initializer",
]

_INITIALIZER_ALIAS: dict[str, type[Initializer]] = {}
#: The std of N(0, 1) truncated to ±2 (for ``truncated_normal_as_documented=True``).
_TRUNC_STD = TRUNC_STD_2  # the one definition: varscale._math


def _numpy_seed() -> int:
    """MindSpore's per-draw seed: ``np.random.randint(1, 2**63)`` from NumPy's global RNG."""
    return int(np.random.randint(low=1, high=(1 << 63), dtype=np.int64))  # noqa: NPY002 - MindSpore's global RNG


def _ms_initializer(cls: type) -> type | None:
    """``mindspore.common.initializer.Initializer`` if MindSpore is imported (this module never imports it)."""
    if "mindspore" not in sys.modules:
        return None
    try:
        from mindspore.common.initializer import Initializer as MsInitializer
    except ImportError:  # pragma: no cover - a broken install
        return None
    base: type = MsInitializer
    return base


#: The class MindSpore treats as its own for a facade class: a subclass of it and of MindSpore's
#: ``Initializer``; None while MindSpore is not imported. ``_seed``: MindSpore's ``Initializer.seed`` property
#: reads it (slice seeds in parallel ``init_data``).
_ms_twin = Twins("_varscale_ms_twin", _ms_initializer, _seed=None)


class Initializer:
    """Base class, as ``mindspore.common.initializer.Initializer``.

    When MindSpore is imported, instances are created as a subclass of MindSpore's own ``Initializer`` too,
    so MindSpore layers (``nn.Dense(8, 4, weight_init=XavierUniform())``), ``Tensor(init=...)`` and
    ``Parameter`` accept them; MindSpore calls ``init(arr)`` on a NumPy array, which fills it from
    varscale's stream.

    ``init(arr)`` fills the NumPy array ``arr`` in place (and returns None).

    Args:
        **kwargs: the constructor arguments, kept in ``self._kwargs``.

    Example:
        >>> import numpy as np
        >>> from varscale.compat.mindspore.common.initializer import XavierUniform
        >>> arr = np.empty((4, 5), np.float32)
        >>> XavierUniform()(arr, seed=0)
        >>> bool(np.abs(arr).max() <= (6 / 9) ** 0.5)
        True
    """

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        twin = _ms_twin(cls)
        return object.__new__(twin if twin is not None else cls)

    def __init__(self, **kwargs: Any) -> None:
        self._kwargs = kwargs
        self._stream: Stream | None = None
        self._fixed_seed: Any = None

    def _initialize(self, arr: np.ndarray) -> None:
        raise NotImplementedError("Must be overridden!")

    def __call__(self, arr: np.ndarray, *, seed: Any = None) -> None:
        if seed is None:
            seed = getattr(self, "_fixed_seed", None)  # set by initializer(..., seed=) for a lazy Tensor
        self._stream = resolve_seed(seed)
        try:
            self._initialize(arr)
        finally:
            self._stream = None

    # -- sampling helpers (float32, as MindSpore's C++ samplers) ---------------------
    def _next_stream(self) -> Stream:
        if self._stream is not None:
            return self._stream
        return Stream(_numpy_seed(), 0)

    def _sample(self, sampler: Sampler, shape: tuple[int, ...]) -> np.ndarray:
        return draw(tuple(int(d) for d in shape), "float32", sampler, self._next_stream())


def _register(*aliases: str) -> Any:
    def alias_reg(cls: type[Initializer]) -> type[Initializer]:
        name = cls.__name__.lower()
        if name not in _INITIALIZER_ALIAS:
            _INITIALIZER_ALIAS[name] = cls
        for alias in aliases:
            if alias not in _INITIALIZER_ALIAS:
                _INITIALIZER_ALIAS[alias] = cls
        return cls

    return alias_reg


def _assignment(arr: np.ndarray, num: Any) -> np.ndarray:
    """Assign ``num`` to ``arr`` (a cast into ``arr``'s dtype), as MindSpore."""
    if arr.shape == ():
        arr = arr.reshape(1)
        arr[:] = num
        arr = arr.reshape(())
    elif isinstance(num, np.ndarray):
        arr[:] = num[:]
    else:
        arr[:] = num
    return arr


def _random_normal(init: Initializer, mean: float, sigma: float, shape: tuple[int, ...]) -> np.ndarray:
    if sigma < 0:
        raise ValueError("sigma < 0")
    return init._sample(normal_sampler(mean, sigma), shape)


def _random_uniform(init: Initializer, a: float, b: float, shape: tuple[int, ...]) -> np.ndarray:
    return init._sample(uniform_sampler(min(a, b), max(a, b)), shape)


def _calculate_fan_in_and_fan_out(shape: tuple[int, ...]) -> tuple[int, int]:
    """(fan_in, fan_out) of an ``(out, in, *kernel)`` shape, as MindSpore.

    Example:
        >>> from varscale.compat.mindspore.common.initializer import _calculate_fan_in_and_fan_out
        >>> _calculate_fan_in_and_fan_out((128, 64, 3, 3))
        (576, 1152)
    """
    return torch_fans(shape, "'fan_in' and 'fan_out' can not be computed for tensor with fewer than"
                             f" 2 dimensions, but got dimensions {len(shape)}.")


def _calculate_correct_fan(shape: tuple[int, ...], mode: str) -> int:
    return torch_mode_fan(mode, lambda: _calculate_fan_in_and_fan_out(shape),
                          "'mode' {mode} not supported, please use one of {valid}")


def _calculate_gain(nonlinearity: str, param: Any = None) -> float:
    """MindSpore's gain: torch's table without ``'selu'``, with MindSpore's messages (naming ``'HeUniform'``)."""
    return gain(nonlinearity, param, framework="mindspore")


@_register("zeros")
class Zero(Initializer):
    """All zeros, as MindSpore's ``Zero`` (aliases ``'zero'``, ``'zeros'``).

    Example:
        >>> from varscale.compat.mindspore.common.initializer import initializer
        >>> initializer("zeros", 3, as_numpy=True).tolist()
        [0.0, 0.0, 0.0]
    """

    def _initialize(self, arr: np.ndarray) -> None:
        arr.fill(0)


@_register("ones")
class One(Initializer):
    """All ones, as MindSpore's ``One`` (aliases ``'one'``, ``'ones'``).

    Example:
        >>> from varscale.compat.mindspore.common.initializer import initializer
        >>> initializer("ONES", [2], as_numpy=True).tolist()
        [1.0, 1.0]
    """

    def _initialize(self, arr: np.ndarray) -> None:
        arr.fill(1)


class Constant(Initializer):
    """A constant value, as MindSpore's ``Constant`` (what ``initializer(number, …)`` uses).

    Args:
        value: the value.

    Example:
        >>> from varscale.compat.mindspore.common.initializer import initializer
        >>> initializer(0.5, (2,), as_numpy=True).tolist()
        [0.5, 0.5]
    """

    def __init__(self, value: Any) -> None:
        super().__init__(value=value)
        self.value = value

    def _initialize(self, arr: np.ndarray) -> None:
        arr.fill(self.value)


def _xavier(shape: tuple[int, ...], gain: Any, distribution: str) -> float:
    """MindSpore's ``gain·sqrt(2/(n_in + n_out))`` std (times ``sqrt(3)``: the bound), the core's way."""
    return xavier_param(*_calculate_fan_in_and_fan_out(shape), gain, distribution)


@_register("xavier_normal")
class XavierNormal(Initializer):
    """Xavier normal, untruncated: ``N(0, (gain·sqrt(2/(fan_in + fan_out)))²)``.

    Args:
        gain: scaling factor.

    Example:
        >>> from varscale.compat.mindspore.common.initializer import initializer, XavierNormal
        >>> initializer(XavierNormal(), [3, 4], seed=0, as_numpy=True).dtype.name
        'float32'
    """

    def __init__(self, gain: float = 1) -> None:
        super().__init__(gain=gain)
        self.gain = gain

    def _initialize(self, arr: np.ndarray) -> None:
        _assignment(arr, _random_normal(self, 0, _xavier(arr.shape, self.gain, "untruncated_normal"), arr.shape))


@_register("xavier_uniform")
class XavierUniform(Initializer):
    """Xavier uniform ``U(±gain·sqrt(6/(n_in + n_out)))``.

    Args:
        gain: scaling factor.

    Example:
        >>> import numpy as np
        >>> from varscale.compat.mindspore.common.initializer import initializer, XavierUniform
        >>> w = initializer(XavierUniform(gain=2), [30, 70], seed=0, as_numpy=True)
        >>> bool(np.abs(w).max() <= 2 * (6 / 100) ** 0.5)
        True
    """

    def __init__(self, gain: float = 1) -> None:
        super().__init__(gain=gain)
        self.gain = gain

    def _initialize(self, arr: np.ndarray) -> None:
        boundary = _xavier(arr.shape, self.gain, "uniform")
        _assignment(arr, _random_uniform(self, -boundary, boundary, arr.shape))


class _He(Initializer):
    def __init__(self, negative_slope: Any = 0, mode: str = "fan_in", nonlinearity: str = "leaky_relu") -> None:
        super().__init__(negative_slope=negative_slope, mode=mode, nonlinearity=nonlinearity)
        self.negative_slope = negative_slope
        self.mode = mode
        self.nonlinearity = nonlinearity

    def _param(self, arr: np.ndarray, distribution: str) -> float:
        """MindSpore's ``gain/sqrt(fan)`` std (times ``sqrt(3)``: the bound), computed as the core's
        ``VarianceScaling(gain², mode, distribution)`` computes it (``gain² = 2.0`` for the default)."""
        fan = _calculate_correct_fan(arr.shape, self.mode)
        return kaiming_param(fan, self.nonlinearity, self.negative_slope, distribution, framework="mindspore")


@_register("he_uniform")
class HeUniform(_He):
    """He (Kaiming) uniform ``U(±sqrt(3)·gain/sqrt(fan))``; ``HeUniform(math.sqrt(5))`` is ``nn.Dense``'s default.

    Args:
        negative_slope: slope of the rectifier (used with ``'leaky_relu'``).
        mode: ``'fan_in'`` or ``'fan_out'`` (any case).
        nonlinearity: a gain name (torch's table without ``'selu'``).

    Example:
        >>> import math
        >>> import numpy as np
        >>> from varscale.compat.mindspore.common.initializer import initializer, HeUniform
        >>> w = initializer(HeUniform(math.sqrt(5)), [64, 100], seed=0, as_numpy=True)
        >>> bool(np.abs(w).max() <= 0.1)
        True
    """

    def _initialize(self, arr: np.ndarray) -> None:
        boundary = self._param(arr, "uniform")
        _assignment(arr, _random_uniform(self, -boundary, boundary, arr.shape))


@_register("he_normal")
class HeNormal(_He):
    """He (Kaiming) normal, untruncated: ``N(0, (gain/sqrt(fan))²)``; the arguments are :class:`HeUniform`'s.

    Example:
        >>> from varscale.compat.mindspore.common.initializer import initializer, HeNormal
        >>> initializer(HeNormal(mode="FAN_OUT"), [8, 4], seed=0, as_numpy=True).shape
        (8, 4)
    """

    def _initialize(self, arr: np.ndarray) -> None:
        _assignment(arr, _random_normal(self, 0, self._param(arr, "untruncated_normal"), arr.shape))


@_register()
class Identity(Initializer):
    """A 2-D identity matrix, as MindSpore's ``Identity``.

    Example:
        >>> from varscale.compat.mindspore.common.initializer import initializer
        >>> initializer("identity", (2, 3), as_numpy=True).tolist()
        [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]
    """

    def _initialize(self, arr: np.ndarray) -> None:
        if len(arr.shape) != 2:
            raise ValueError(
                "For Identity initializer, the dimension of the initialized tensor should be 2, "
                f"but got {len(arr.shape)}."
            )
        _assignment(arr, np.eye(arr.shape[0], arr.shape[1]))


@_register()
class Sparse(Initializer):
    """A 2-D matrix with ``ceil(sparsity·rows)`` zeros per column and ``N(0, sigma²)`` elsewhere.

    The zero rows of each column are a uniformly random subset (from a stream
    derived from the draw's seed; MindSpore uses ``np.random.permutation``).

    Args:
        sparsity: the fraction of zeros in each column.
        sigma: std of the non-zero values.

    Example:
        >>> import numpy as np
        >>> from varscale.compat.mindspore.common.initializer import initializer, Sparse
        >>> w = initializer(Sparse(0.5), (4, 3), seed=0, as_numpy=True)
        >>> (w == 0).sum(axis=0).tolist()
        [2, 2, 2]
    """

    def __init__(self, sparsity: float, sigma: float = 0.01) -> None:
        super().__init__()
        self.sparsity = sparsity
        self.sigma = sigma

    def _initialize(self, arr: np.ndarray) -> None:
        if len(arr.shape) != 2:
            raise ValueError(
                "For Sparse initializer, the dimension of the initialized tensor should be 2, "
                f"but got {len(arr.shape)}."
            )
        rows, cols = arr.shape
        zero_num = int(np.ceil(self.sparsity * rows))
        stream = self._next_stream()
        self._stream = stream
        data = _random_normal(self, 0, self.sigma, arr.shape)
        keys = draw((cols, rows), "float64", uniform_sampler(0.0, 1.0), derive_stream(stream.seed, "sparse"))
        for col_idx in range(cols):
            data[np.argsort(keys[col_idx], kind="stable")[:zero_num], col_idx] = 0.0
        _assignment(arr, data)


@_register()
class Dirac(Initializer):
    """The Dirac delta for 3-, 4- and 5-D convolution weights, as MindSpore's ``Dirac``.

    Args:
        groups: number of groups; each group gets the same delta.

    Example:
        >>> from varscale.compat.mindspore.common.initializer import initializer, Dirac
        >>> initializer(Dirac(), (2, 2, 3), as_numpy=True)[:, :, 1].tolist()
        [[1.0, 0.0], [0.0, 1.0]]
    """

    def __init__(self, groups: int = 1) -> None:
        super().__init__()
        self.groups = groups

    def _initialize(self, arr: np.ndarray) -> None:
        dimension = len(arr.shape)
        data = np.zeros(arr.shape)
        if dimension not in [3, 4, 5]:
            raise ValueError(
                "For Dirac initializer, only support "
                f"to initialize tensor with dimension of 3, 4 or 5, but got {dimension}."
            )
        shapes = arr.shape
        if shapes[0] % self.groups != 0:
            raise ValueError(
                "For Dirac initializer, the first dimension of"
                "the initialized tensor must be divisible by groups, "
                f"but got first dimension{shapes[0]}, groups{self.groups}."
            )
        out_channel_per_group = shapes[0] // self.groups
        min_dim = min(out_channel_per_group, shapes[1])
        centre = tuple(s // 2 for s in shapes[2:])
        for group in range(self.groups):
            for dim in range(min_dim):
                index = (group * out_channel_per_group + dim, dim, *centre)
                data[index] = 1
        _assignment(arr, data)


@_register()
class Orthogonal(Initializer):
    """A (semi-)orthogonal matrix from the QR of a standard normal draw, as MindSpore.

    Args:
        gain: scaling factor.

    Example:
        >>> import numpy as np
        >>> from varscale.compat.mindspore.common.initializer import initializer
        >>> q = initializer("orthogonal", (4, 4), dtype="float64", seed=0, as_numpy=True)
        >>> bool(np.allclose(q @ q.T, np.eye(4), atol=1e-6))
        True
    """

    def __init__(self, gain: float = 1.0) -> None:
        super().__init__(gain=gain)
        self.gain = gain

    def _initialize(self, arr: np.ndarray) -> None:
        if len(arr.shape) < 2:
            raise ValueError(
                "For Orthogonal initializer, the dimension of the initialized tensor should"
                f" be no less than 2, but got {len(arr.shape)}."
            )
        rows = arr.shape[0]
        cols = int(np.prod(arr.shape)) // rows
        q = torch_orthogonal(_random_normal(self, 0, 1, (rows, cols)))
        _assignment(arr, (q * self.gain).reshape(arr.shape))


@_register()
class VarianceScaling(Initializer):
    """MindSpore's ``VarianceScaling``, including its ``'truncated_normal'`` → uniform bug.

    MindSpore 2.0–2.10 accept ``distribution='truncated_normal'`` (the
    default) but draw ``U(±sqrt(3·scale/n))`` for it, because ``_initialize``
    compares with the misspelt ``'truncated_norm'``. That is reproduced by
    default. ``truncated_normal_as_documented=True`` (keyword only, a varscale
    extension) draws what the docstring promises instead: a normal with
    ``σ' = sqrt(scale/n)/0.87962566103423978`` cut at ``±2σ'`` (realized std
    ``sqrt(scale/n)``).

    Args:
        scale: scaling factor, > 0.
        mode: ``'fan_in'``, ``'fan_out'`` or ``'fan_avg'`` (case-sensitive).
        distribution: ``'uniform'``, ``'truncated_normal'`` or
            ``'untruncated_normal'`` (case-sensitive; ``'normal'`` rejected).
        truncated_normal_as_documented: see above.

    Raises:
        ValueError: with MindSpore's messages, at construction.

    Example:
        >>> import numpy as np
        >>> from varscale.compat.mindspore.common.initializer import initializer, VarianceScaling
        >>> bug = initializer(VarianceScaling(), (1000, 1000), seed=0, as_numpy=True)
        >>> doc = initializer(VarianceScaling(truncated_normal_as_documented=True), (1000, 1000), seed=0, as_numpy=True)
        >>> round(float(np.abs(bug).max()) * 1000**0.5, 3), round(float(np.abs(doc).max()) * 1000**0.5, 3)
        (1.732, 2.274)
    """

    def __init__(self, scale: float = 1.0, mode: str = "fan_in", distribution: str = "truncated_normal", *,
                 truncated_normal_as_documented: bool = False) -> None:
        super().__init__(scale=scale, mode=mode, distribution=distribution)
        if scale <= 0.0:
            raise ValueError(
                "For VarianceScaling initializer, "
                f"the argument 'scale' must be greater than 0, but got {scale}."
            )
        if mode not in ["fan_in", "fan_out", "fan_avg"]:
            raise ValueError(
                "For VarianceScaling initializer, the argument 'mode' must be fan_in, "
                f"fan_out or fan_avg, but got {mode}."
            )
        if distribution not in ["uniform", "truncated_normal", "untruncated_normal"]:
            raise ValueError(
                "For VarianceScaling initializer, the argument 'distribution' must be uniform, "
                f"truncated_norm or untruncated_norm, but got {distribution}."
            )
        self.scale = scale
        self.mode = mode
        self.distribution = distribution
        self.truncated_normal_as_documented = bool(truncated_normal_as_documented)

    def _initialize(self, arr: np.ndarray) -> None:
        fan_in, fan_out = _calculate_fan_in_and_fan_out(arr.shape)
        documented = self.distribution == "truncated_normal" and self.truncated_normal_as_documented
        # MindSpore's 'truncated_normal' falls through to its uniform (the 'truncated_norm' typo)
        distribution = "uniform" if self.distribution == "truncated_normal" and not documented else self.distribution
        law = variance_law(self.scale, select_n(self.mode, fan_in, fan_out), distribution)
        if documented:
            stddev = law["stddev"]
            data = self._sample(normal_sampler(0.0, stddev, -2.0 * stddev, 2.0 * stddev), arr.shape)
        elif distribution == "untruncated_normal":
            data = _random_normal(self, 0, law["stddev"], arr.shape)
        else:
            data = _random_uniform(self, -law["limit"], law["limit"], arr.shape)
        _assignment(arr, data)


@_register()
class Uniform(Initializer):
    """``U(-scale, scale)``, as MindSpore's ``Uniform``.

    Args:
        scale: the bound.

    Example:
        >>> import numpy as np
        >>> from varscale.compat.mindspore.common.initializer import initializer, Uniform
        >>> bool(np.abs(initializer(Uniform(0.1), (50,), seed=0, as_numpy=True)).max() <= 0.1)
        True
    """

    def __init__(self, scale: float = 0.07) -> None:
        super().__init__(scale=scale)
        self.scale = scale

    def _initialize(self, arr: np.ndarray) -> None:
        _assignment(arr, _random_uniform(self, -self.scale, self.scale, arr.shape))


@_register()
class Normal(Initializer):
    """``N(mean, sigma²)``, as MindSpore's ``Normal``.

    Args:
        sigma: the standard deviation.
        mean: the mean.

    Example:
        >>> from varscale.compat.mindspore.common.initializer import initializer, Normal
        >>> initializer(Normal(0.02), (3, 3), seed=0, as_numpy=True).shape
        (3, 3)
    """

    def __init__(self, sigma: float = 0.01, mean: float = 0.0) -> None:
        super().__init__(sigma=sigma, mean=mean)
        self.sigma = sigma
        self.mean = mean

    def _initialize(self, arr: np.ndarray) -> None:
        _assignment(arr, _random_normal(self, self.mean, self.sigma, arr.shape))


@_register()
class TruncatedNormal(Initializer):
    """``N(mean, sigma²)`` truncated to the **absolute** interval ``[a, b]``.

    Args:
        sigma: the standard deviation of the untruncated normal.
        mean: its mean.
        a: the lower bound (a value, not std units).
        b: the upper bound.

    Example:
        >>> import numpy as np
        >>> from varscale.compat.mindspore.common.initializer import initializer, TruncatedNormal
        >>> w = initializer(TruncatedNormal(sigma=1.0), (100_000,), seed=0, as_numpy=True)
        >>> round(float(w.std()), 2), bool(np.abs(w).max() <= 2.0)
        (0.88, True)
    """

    def __init__(self, sigma: float = 0.01, mean: float = 0.0, a: float = -2.0, b: float = 2.0) -> None:
        super().__init__(sigma=sigma, mean=mean, a=a, b=b)
        self.sigma = sigma
        self.mean = mean
        self.a = a
        self.b = b

    def _initialize(self, arr: np.ndarray) -> None:
        if self.sigma < 0:
            raise ValueError("sigma < 0")
        if self.sigma == 0:
            raise RuntimeError(f"TruncatedNormal: invalid sigma {float(self.sigma):g}.")
        if not self.a < self.b:
            raise ValueError(
                f"For TruncatedNormal initializer, 'a' must be less than 'b', but got a={self.a}, b={self.b}."
            )
        sampler = normal_sampler(self.mean, self.sigma, self.a, self.b)
        _assignment(arr, self._sample(sampler, arr.shape))


def _np_dtype(dtype: Any) -> np.dtype[Any]:
    """A NumPy dtype from a MindSpore dtype, a NumPy dtype or a name."""
    out: np.dtype[Any]
    if dtype is None:
        out = np.dtype(np.float32)
    elif str(dtype).lower() == "bfloat16":
        out = BFLOAT16
    elif type(dtype).__module__.split(".")[0] == "mindspore":
        import mindspore

        out = np.dtype(mindspore.dtype_to_nptype(dtype))
    else:
        out = np.dtype(dtype)
    return out


def _is_ms_tensor(obj: Any) -> bool:
    return type(obj).__module__.split(".")[0] == "mindspore" and hasattr(obj, "asnumpy")


def initializer(
    init: Any, shape: Any = None, dtype: Any = None, *, seed: Any = None, as_tensor: bool = False,
    as_numpy: bool = False,
) -> Any:
    """Create an initialized array, as ``mindspore.common.initializer.initializer``.

    Args:
        init: an :class:`Initializer`, a name (case-insensitive, MindSpore's
            alias table), a number (``Constant``), or an array (a NumPy array
            or ``mindspore.Tensor``, returned as it is after the shape check).
        shape: an int, a list or a tuple of positive ints.
        dtype: a MindSpore dtype, NumPy dtype or name (default float32).
        seed: varscale extension (keyword only): a seed instead of NumPy's
            global RNG.
        as_tensor: varscale extension (keyword only): return a
            materialized ``mindspore.Tensor``.
        as_numpy: varscale extension (keyword only): return a NumPy array
            even when MindSpore is imported.

    Returns:
        When MindSpore is imported: what MindSpore returns, a ``Tensor``
        initialized lazily (``.init_data()`` materializes varscale's values,
        ``Parameter(...)`` and ``param.set_data(...)`` accept it); ``seed=``
        is kept for that materialization. Without MindSpore (or with
        ``as_numpy=True``, or for bfloat16, which MindSpore cannot build from
        NumPy 2 here): the materialized NumPy array.

    Raises:
        TypeError: ``init`` of another type (MindSpore's message).
        ValueError: bad shape, unknown name, or an array of another shape.

    Example:
        >>> from varscale.compat.mindspore.common.initializer import initializer
        >>> initializer("xavier_uniform", [2, 3], "float16", seed=0, as_numpy=True).dtype.name
        'float16'
    """
    is_array = isinstance(init, np.ndarray) or _is_ms_tensor(init)
    lazy = "mindspore" in sys.modules and not as_numpy and not as_tensor
    if not (is_array or isinstance(init, (numbers.Number, str, Initializer))):
        raise TypeError(
            "For 'initializer', the type of the 'init' argument should be 'Tensor', 'number', 'string' "
            f"or 'initializer', but got {type(init)}."
        )
    if is_array:
        init_shape = tuple(init.shape)
        shape = shape if isinstance(shape, (tuple, list)) else [shape]
        if shape is not None and init_shape != tuple(shape):
            raise ValueError(
                "For 'initializer', the shape of the 'init' argument should be same as "
                "the argument 'shape', but got the "
                f"'init' shape {list(init.shape)} and the 'shape' {shape}."
            )
        return init
    if isinstance(shape, list):
        shape = tuple(shape)
    elif isinstance(shape, numbers.Number):
        shape = (shape,)
    for value in shape if shape is not None else ():
        if not isinstance(value, int) or value <= 0:
            raise ValueError(
                "For 'initializer', the argument 'shape' is invalid, the value of 'shape' "
                f"must be positive integer, but got {shape}"
            )
    if isinstance(init, str):
        cls = _INITIALIZER_ALIAS.get(init.lower())
        if cls is None:
            raise ValueError(f"For 'initializer', the class corresponding to '{init}' was not found.")
        init = cls()
    elif isinstance(init, numbers.Number):
        init = Constant(init)
    shape = shape if shape is not None else init.shape
    dims = tuple(int(d) for d in shape)
    np_dtype = _np_dtype(dtype)
    check_fits_memory(dims, np.dtype(np_dtype))  # before anything: a clear error, not NumPy's MemoryError later
    if lazy and np_dtype != BFLOAT16:
        # what MindSpore returns: a Tensor initialized lazily (init_data() draws from varscale's stream)
        import mindspore
        from mindspore.common.initializer import initializer as ms_initializer

        twin = _ms_twin(type(init))
        if twin is not None and type(init) is not twin:
            init = copy.copy(init)
            init.__class__ = twin
        if seed is not None:
            resolve_seed(seed)  # validated now, used when the Tensor is materialized
            init = copy.copy(init)
            init._fixed_seed = seed
        ms_dtype = dtype if type(dtype).__module__.startswith("mindspore") else getattr(mindspore, np_dtype.name)
        return ms_initializer(init, dims, ms_dtype)
    arr = np.zeros(dims, dtype=np_dtype)
    init(arr, seed=seed)
    if as_tensor:
        import mindspore

        return mindspore.Tensor(arr)
    return arr
