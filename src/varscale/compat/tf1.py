"""TF1 core ``init_ops`` initializers (``tf.compat.v1.*_initializer``), VarianceScaling first.

Besides the variance-scaling family below, the module mirrors init_ops v1's
``RandomUniform``/``random_uniform_initializer``, ``RandomNormal``,
``TruncatedNormal`` (cut at ``mean ± 2·stddev``) and ``Orthogonal`` (drawn
from varscale's stream, seeds as below), and the exact ``Constant``,
``Zeros``, ``Ones`` and ``Identity``: TF's signatures with ``dtype`` and
``seed``, ``__call__(shape, dtype=None, partition_info=None)``,
``get_config``/``from_config``, TF's errors; and the convolution-orthogonal
family (``ConvolutionDeltaOrthogonal``, ``ConvolutionOrthogonal1D/2D/3D``).

Mirrors ``tensorflow/python/ops/init_ops.py`` as TensorFlow 2.21 ships it
under ``tf.compat.v1`` (the TF ≥ 1.10 semantics, with 2.21's messages):

* ``VarianceScaling(scale=1.0, mode="fan_in", distribution="truncated_normal",
  seed=None, dtype=float32)`` with ``__call__(shape, dtype=None,
  partition_info=None)``.
* Fans: rank 0 gives (1, 1); rank 1 ``[k]`` gives (k, k); rank 2 gives
  (s0, s1); rank ≥ 3 is HWIO, ``rf = prod(shape[:-2])``; ints. ``n`` is
  clamped: ``scale /= max(1., n)``.
* ``"truncated_normal"`` and its deprecated alias ``"normal"`` draw a normal
  with parameter ``σ' = sqrt(scale/n)/0.87962566103423978`` cut at ``±2σ'``
  (realized std exactly ``sqrt(scale/n)``); ``"untruncated_normal"`` draws
  ``N(0, scale/n)``; ``"uniform"`` draws ``U(±sqrt(3·scale/n))``.
* ``mode`` is case-sensitive, ``distribution`` is lowercased and
  ``get_config()`` keeps it as given after lowercasing (``"normal"`` stays
  ``"normal"``), with ``"dtype"`` as a name.
* With ``partition_info`` (a :class:`PartitionInfo` or TF's own
  ``_PartitionInfo``: ``full_shape`` plus ``var_offset``), the fans come from
  the *full* shape, and the values returned are exactly the slice
  ``full[var_offset : var_offset + shape]`` of the tensor that an
  unpartitioned call with ``full_shape`` returns. TensorFlow only promises
  the first half; varscale's stream makes the partitions of a variable
  assemble, bit for bit, into the unpartitioned tensor.

``legacy_normal=True`` selects the TF 1.0–1.9 meaning of ``"normal"``: the
same truncation at ±2σ but **without** the 0.8796 correction, ``σ =
sqrt(scale/n)``, so the realized std is ``0.8796·sqrt(scale/n)`` (12 % low).
The same code gave std ×1.1368 after upgrading TF 1.9 → 1.10; pass
``legacy_normal=True`` to reproduce weights of a model trained with TF ≤ 1.9.
It only changes ``"normal"``; ``get_config()`` then carries
``"legacy_normal": True`` (omitted otherwise, so default configs equal TF's).

Differences from TensorFlow, on purpose: values come from varscale's stream
and are NumPy arrays (``tf.compat.v1.get_variable(initializer=init)``
accepts them), or ``tf.Tensor`` with ``init(shape, as_tensor=True)``. A seeded instance returns the same values on every call (TF1
graph-mode behaviour; TF2 eager would advance); ``seed=None`` draws fresh
entropy per call. TensorFlow's deprecation log lines are not emitted.

**One module, on purpose** (~1 000 lines): it is ``tf.compat.v1``'s
initializer API (39 names: every ``init_ops`` v1 initializer and alias), kept
in one file as TensorFlow keeps ``init_ops.py``, so each class reads side by
side with TF's; what it shares with the other facades is in
:mod:`varscale.compat._kit`.

Example:
    >>> from varscale.compat import tf1
    >>> init = tf1.variance_scaling_initializer(scale=2.0, seed=0)
    >>> full = init([1000, 64])
    >>> part = init([250, 64], partition_info=tf1.PartitionInfo([1000, 64], [500, 0]))
    >>> bool((part == full[500:750]).all())
    True
    >>> init.get_config()
    {'scale': 2.0, 'mode': 'fan_in', 'distribution': 'truncated_normal', 'seed': 0, 'dtype': 'float32'}
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import Any

from .._generate import draw
from .._plan import Sampler, normal_sampler, uniform_sampler
from ..stream import Stream
from ._kit import (
    PRESETS,
    TRUNC_STD_2,
    law_sampler,
    mean_sampler,
    np_dtype,
    scalar,
    select_n,
    stream_or_fresh,
    tf_fans,
    tf_seed_stream,
    variance_law,
)
from ._tfdtype import (
    DType,
    as_dtype,
    bfloat16,
    float16,
    float32,
    float64,
    storage_name,
    to_tf_tensor,
)

__all__ = [
    "Constant",
    "ConvolutionDeltaOrthogonal",
    "ConvolutionOrthogonal1D",
    "ConvolutionOrthogonal2D",
    "ConvolutionOrthogonal3D",
    "GlorotNormal",
    "GlorotUniform",
    "Identity",
    "Ones",
    "Orthogonal",
    "PartitionInfo",
    "RandomNormal",
    "RandomUniform",
    "TruncatedNormal",
    "VarianceScaling",
    "Zeros",
    "bfloat16",
    "constant_initializer",
    "convolutional_delta_orthogonal",
    "convolutional_orthogonal_1d",
    "convolutional_orthogonal_2d",
    "convolutional_orthogonal_3d",
    "float16",
    "float32",
    "float64",
    "glorot_normal_initializer",
    "glorot_uniform_initializer",
    "he_normal",
    "he_uniform",
    "identity_initializer",
    "lecun_normal",
    "lecun_uniform",
    "ones_initializer",
    "orthogonal_initializer",
    "random_normal_initializer",
    "random_uniform_initializer",
    "truncated_normal_initializer",
    "variance_scaling_initializer",
    "zeros_initializer",
]

#: std of a standard normal truncated to [-2, 2] (TF: scipy.stats.truncnorm.std(a=-2, b=2)).
TRUNCATED_STD = TRUNC_STD_2  # the one definition: varscale._math


def _assert_float_dtype(dtype: DType) -> DType:
    if not dtype.is_floating:
        raise ValueError(f"Argument `dtype` is expected to be floating point. Received: {dtype}.")
    return dtype


def _compute_fans(shape: Sequence[int]) -> tuple[int, int]:
    """TF's ``init_ops._compute_fans``: (fan_in, fan_out) as ints (Keras' rules)."""
    return tf_fans(shape)


class PartitionInfo:
    """Full shape and offset of one partition of a variable (TF's ``_PartitionInfo``).

    Same constructor checks and messages as TensorFlow's
    ``variable_scope._PartitionInfo``; TF's own object works as well wherever
    this one is accepted.

    Args:
        full_shape: list or tuple, the shape of the whole variable.
        var_offset: list or tuple, where this partition starts in each dimension.

    Raises:
        TypeError: ``full_shape`` or ``var_offset`` is not a list or tuple.
        ValueError: their lengths differ, or an offset lies outside ``[0, shape)``.

    Example:
        >>> from varscale.compat.tf1 import PartitionInfo
        >>> p = PartitionInfo([10, 8], [5, 0])
        >>> p.single_slice_dim([5, 8]), p.single_offset([5, 8])
        (0, 5)
    """

    __slots__ = ("_full_shape", "_var_offset")

    def __init__(self, full_shape: Sequence[int], var_offset: Sequence[int]) -> None:
        if not isinstance(full_shape, (list, tuple)):
            raise TypeError(
                "`full_shape` must be a sequence (like tuple or list) instead of " + type(full_shape).__name__
            )
        if not isinstance(var_offset, (list, tuple)):
            raise TypeError(
                "`var_offset` must be a sequence (like tuple or list) instead of " + type(var_offset).__name__
            )
        if len(var_offset) != len(full_shape):
            raise ValueError(
                f"Expected equal length, but `var_offset` is of length {len(var_offset)} while "
                f"full_shape is of length {len(full_shape)}."
            )
        for offset, shape in zip(var_offset, full_shape, strict=True):
            if offset < 0 or offset >= shape:
                raise ValueError(
                    f"Expected 0 <= offset < shape but found offset={offset}, shape={shape} for "
                    f"var_offset={var_offset}, full_shape={full_shape}"
                )
        self._full_shape = full_shape
        self._var_offset = var_offset

    @property
    def full_shape(self) -> Sequence[int]:
        return self._full_shape

    @property
    def var_offset(self) -> Sequence[int]:
        return self._var_offset

    def single_offset(self, shape: Sequence[int]) -> int:
        """The offset along the one partitioned dimension (0 if none)."""
        dim = self.single_slice_dim(shape)
        if dim is None:
            return 0
        return int(self.var_offset[dim])

    def single_slice_dim(self, shape: Sequence[int]) -> int | None:
        """The one dimension along which ``shape`` is a partition, or None."""
        if not isinstance(shape, (tuple, list)):
            raise TypeError("`shape` must be a sequence (like tuple or list) instead of " + type(shape).__name__)
        if len(shape) != len(self.full_shape):
            raise ValueError(
                f"Expected equal length, but received shape={shape} of length {len(shape)} while "
                f"self.full_shape={self.full_shape} is of length {len(self.full_shape)}."
            )
        for i in range(len(shape)):
            if self.var_offset[i] + shape[i] > self.full_shape[i]:
                raise ValueError(
                    f"With self.var_offset={self.var_offset}, a partition of shape={shape} would exceed "
                    f"self.full_shape={self.full_shape} in dimension {i}."
                )
        slice_dim = None
        for i in range(len(shape)):
            if shape[i] == self.full_shape[i]:
                continue
            if slice_dim is not None:
                raise ValueError(
                    f"Cannot use single_slice_dim() with shape={shape} and self.full_shape={self.full_shape} "
                    f"since slice dim could be either dimension {i} or {slice_dim}."
                )
            slice_dim = i
        return slice_dim

    def __repr__(self) -> str:
        return f"PartitionInfo(full_shape={self._full_shape!r}, var_offset={self._var_offset!r})"


def _region(shape: tuple[int, ...], partition_info: Any) -> tuple[tuple[int, ...], tuple[slice, ...]]:
    """The full shape and the slice of it that a partition of ``shape`` covers."""
    full = tuple(int(d) for d in partition_info.full_shape)
    offset = tuple(int(o) for o in partition_info.var_offset)
    if len(full) != len(shape) or len(offset) != len(shape):
        raise ValueError(
            f"Expected equal length, but received shape={list(shape)} of length {len(shape)} while "
            f"partition_info.full_shape={list(full)} is of length {len(full)} and "
            f"partition_info.var_offset={list(offset)} of length {len(offset)}."
        )
    for i, (s, f, o) in enumerate(zip(shape, full, offset, strict=True)):
        if o < 0 or o + s > f:
            raise ValueError(
                f"With partition_info.var_offset={list(offset)}, a partition of shape={list(shape)} would "
                f"exceed partition_info.full_shape={list(full)} in dimension {i}."
            )
    return full, tuple(slice(o, o + s) for o, s in zip(offset, shape, strict=True))


class _Configured:
    """What every TF1 initializer shares: ``get_config``, ``from_config`` (``cls(**config)``, as TensorFlow
    does) and a repr of the config."""

    def get_config(self) -> dict[str, Any]:
        raise NotImplementedError

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Any:
        """``cls(**config)``, as TensorFlow does."""
        return cls(**config)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class VarianceScaling(_Configured):
    """Builds TF1's ``VarianceScaling`` initializer (``tf.compat.v1.variance_scaling_initializer``).

    Args:
        scale: positive float (``scale <= 0.`` raises TF's ValueError).
        mode: ``"fan_in"``, ``"fan_out"`` or ``"fan_avg"``, lower case only.
        distribution: ``"truncated_normal"``, ``"untruncated_normal"``,
            ``"uniform"`` or ``"normal"`` (any case; ``"normal"`` is the
            corrected truncated normal unless ``legacy_normal=True``).
        seed: None (fresh values every call) or an int (the same values every
            call; any int, used modulo 2**64).
        dtype: default dtype of calls: a floating ``tf.DType``, a name such as
            ``"float16"``, a NumPy dtype, or this module's ``float32`` etc.
        legacy_normal: keyword only; ``True`` gives ``"normal"`` TF ≤ 1.9's
            uncorrected meaning (``σ = sqrt(scale/n)`` cut at ±2σ).

    Raises:
        ValueError: TF's messages for scale, mode, distribution and dtype.

    Example:
        >>> from varscale.compat.tf1 import VarianceScaling
        >>> old = VarianceScaling(2.0, distribution="normal", legacy_normal=True, seed=0)
        >>> new = VarianceScaling(2.0, distribution="normal", seed=0)
        >>> round(new.describe([576, 1])["stddev"] / old.describe([576, 1])["stddev"], 4)
        1.1368
        >>> VarianceScaling(mode="FAN_IN")
        Traceback (most recent call last):
        ...
        ValueError: Argument `mode` should be one of ('fan_in', 'fan_out', 'fan_avg'). Received: FAN_IN
    """

    def __init__(
        self,
        scale: float = 1.0,
        mode: str = "fan_in",
        distribution: str = "truncated_normal",
        seed: int | None = None,
        dtype: Any = float32,
        *,
        legacy_normal: bool = False,
    ) -> None:
        if scale <= 0.0:
            raise ValueError(f"Argument `scale` must be a positive float. Received: {scale}")
        if mode not in {"fan_in", "fan_out", "fan_avg"}:
            raise ValueError(f"Argument `mode` should be one of ('fan_in', 'fan_out', 'fan_avg'). Received: {mode}")
        distribution = distribution.lower()
        if distribution not in {"normal", "uniform", "truncated_normal", "untruncated_normal"}:
            raise ValueError(
                "Argument `distribution` should be one of ('normal', uniform', 'truncated_normal', "
                f"'untruncated_normal'). Received: {distribution}"
            )
        if not isinstance(legacy_normal, bool):
            raise TypeError(f"`legacy_normal` must be True or False; received legacy_normal={legacy_normal!r}.")
        self.scale = scale
        self.mode = mode
        self.distribution = distribution
        self.seed = seed
        self.dtype = _assert_float_dtype(as_dtype(dtype))
        self.legacy_normal = legacy_normal
        self._stream = tf_seed_stream(seed)

    def describe(self, shape: Sequence[int], partition_info: Any = None) -> dict[str, Any]:
        """Fans (from ``partition_info.full_shape`` when given), ``n`` and the draw's parameters.

        Returns a dict with ``fan_in``, ``fan_out`` (ints), ``n`` (the clamped
        ``max(1., n)``), ``distribution`` (what is drawn), ``stddev`` (the
        normal's parameter; None for uniform), ``limit`` (None for normals)
        and ``bounds``.
        """
        scale_shape = shape if partition_info is None else partition_info.full_shape
        fan_in, fan_out = _compute_fans(scale_shape)
        n = max(1.0, select_n(self.mode, fan_in, fan_out))
        legacy = self.distribution == "normal" and self.legacy_normal
        law = variance_law(float(self.scale), n, self.distribution, corrected=not legacy)
        return {"fan_in": fan_in, "fan_out": fan_out, "n": n} | law

    def sampler(self, shape: Sequence[int], partition_info: Any = None) -> Sampler:
        """The varscale sampler (fans from the full shape when partitioned)."""
        return law_sampler(self.describe(shape, partition_info))

    def __call__(
        self, shape: Sequence[int], dtype: Any = None, partition_info: Any = None, *, as_tensor: bool = False
    ) -> Any:
        """Draw a tensor of ``shape``, or the partition of a larger one.

        Args:
            shape: the shape to return (the partition's shape when partitioned).
            dtype: None (the constructor's dtype) or a floating dtype.
            partition_info: None, or an object with ``full_shape`` and
                ``var_offset`` (:class:`PartitionInfo`, TF's ``_PartitionInfo``).
            as_tensor: keyword only; return a ``tf.Tensor`` instead of NumPy.

        Returns:
            A NumPy array (or ``tf.Tensor``); partitioned, exactly
            ``full[var_offset : var_offset + shape]``.
        """
        dtype = self.dtype if dtype is None else as_dtype(dtype)
        name = storage_name(dtype)
        dims = tuple(int(d) for d in shape)
        stream = stream_or_fresh(self._stream)
        sampler = self.sampler(dims, partition_info)
        if partition_info is None:
            out = draw(dims, name, sampler, stream)
        else:
            full, region = _region(dims, partition_info)
            out = draw(full, name, sampler, stream, region=region)
        return to_tf_tensor(out) if as_tensor else out

    def get_config(self) -> dict[str, Any]:
        """TF's config: ``scale``, ``mode``, ``distribution``, ``seed``, ``dtype`` (a name)."""
        config: dict[str, Any] = {
            "scale": self.scale,
            "mode": self.mode,
            "distribution": self.distribution,
            "seed": self.seed,
            "dtype": self.dtype.name,
        }
        if self.legacy_normal:
            config["legacy_normal"] = True
        return config


#: ``tf.compat.v1.variance_scaling_initializer`` is the class itself.
variance_scaling_initializer = VarianceScaling


class GlorotUniform(VarianceScaling):
    """TF1's ``glorot_uniform_initializer``: ``VarianceScaling(1.0, "fan_avg", "uniform")``.

    ``get_config()`` is ``{"seed", "dtype"}`` as in TensorFlow. As in
    TensorFlow, the constructor's ``dtype`` is ignored: calls default to
    float32 (pass ``dtype=`` to the call instead).

    Example:
        >>> from varscale.compat.tf1 import glorot_uniform_initializer
        >>> glorot_uniform_initializer(seed=3).get_config()
        {'seed': 3, 'dtype': 'float32'}
    """

    def __init__(self, seed: int | None = None, dtype: Any = float32) -> None:
        # TF's quirk, mirrored: ``dtype`` is accepted and dropped (not passed on, not
        # validated), so calls default to float32 and the config says "float32".
        del dtype
        super().__init__(*PRESETS["glorot_uniform"], seed=seed)

    def get_config(self) -> dict[str, Any]:
        return {"seed": self.seed, "dtype": self.dtype.name}


class GlorotNormal(VarianceScaling):
    """TF1's ``glorot_normal_initializer``: ``VarianceScaling(1.0, "fan_avg", "truncated_normal")``.

    ``get_config()`` is ``{"seed", "dtype"}`` as in TensorFlow; the
    constructor's ``dtype`` is ignored, as in TensorFlow.
    """

    def __init__(self, seed: int | None = None, dtype: Any = float32) -> None:
        # TF's quirk, mirrored: ``dtype`` is accepted and dropped (not passed on, not
        # validated), so calls default to float32 and the config says "float32".
        del dtype
        super().__init__(*PRESETS["glorot_normal"], seed=seed)

    def get_config(self) -> dict[str, Any]:
        return {"seed": self.seed, "dtype": self.dtype.name}


glorot_uniform_initializer = GlorotUniform
glorot_normal_initializer = GlorotNormal


def lecun_normal(seed: int | None = None) -> VarianceScaling:
    """``tf.compat.v1.initializers.lecun_normal``: ``VarianceScaling(1., "fan_in", "truncated_normal")``."""
    return VarianceScaling(*PRESETS["lecun_normal"], seed=seed)


def lecun_uniform(seed: int | None = None) -> VarianceScaling:
    """``tf.compat.v1.initializers.lecun_uniform``: ``VarianceScaling(1., "fan_in", "uniform")``."""
    return VarianceScaling(*PRESETS["lecun_uniform"], seed=seed)


def he_normal(seed: int | None = None) -> VarianceScaling:
    """``tf.compat.v1.initializers.he_normal``: ``VarianceScaling(2., "fan_in", "truncated_normal")``."""
    return VarianceScaling(*PRESETS["he_normal"], seed=seed)


def he_uniform(seed: int | None = None) -> VarianceScaling:
    """``tf.compat.v1.initializers.he_uniform``: ``VarianceScaling(2., "fan_in", "uniform")``."""
    return VarianceScaling(*PRESETS["he_uniform"], seed=seed)


# -- the rest of init_ops (v1): random_uniform / random_normal / truncated_normal / orthogonal initializers,
# -- drawn from varscale's stream, and the exact constant / zeros / ones / identity initializers -----------


def _dims(shape: Any) -> tuple[int, ...]:
    """A shape (list, tuple or ``tf.TensorShape``) as a tuple of ints."""
    if hasattr(shape, "as_list"):
        shape = shape.as_list()
    dims = []
    for d in shape:
        if isinstance(d, bool) or not isinstance(d, numbers.Integral):
            raise TypeError(f"`shape` must contain integers; received shape={shape!r}.")
        if d < 0:
            raise ValueError(f"`shape` must contain non-negative integers; received shape={shape!r}.")
        dims.append(int(d))
    return tuple(dims)


def _numpy_dtype(dtype: DType) -> Any:
    """The NumPy dtype of a TF dtype (ml_dtypes for bfloat16 / float8)."""
    import numpy as np

    if dtype.name == "string":
        return np.dtype(object)
    try:
        return np_dtype(dtype.name)
    except TypeError:
        raise TypeError(f"`dtype` {dtype.name!r} cannot hold an initializer's values.") from None


_scalar = scalar


class _Random(_Configured):
    """A TF1 random initializer: ``seed`` (None: fresh values every call; an int: the same values every call),
    ``dtype``, and ``partition_info`` (the partition is that slice of the unpartitioned draw)."""

    seed: int | None
    dtype: DType
    _stream: Stream | None

    def _sampler(self, dtype: DType) -> Sampler:
        raise NotImplementedError

    def __call__(
        self, shape: Any, dtype: Any = None, partition_info: Any = None, *, as_tensor: bool = False
    ) -> Any:
        """A NumPy array of ``shape`` (``as_tensor=True``: a ``tf.Tensor``).

        With ``partition_info`` the values are the slice ``full[var_offset : var_offset + shape]`` of the
        unpartitioned draw (TensorFlow draws each partition independently; the law is the same).
        """
        dtype = self.dtype if dtype is None else as_dtype(dtype)
        dims = _dims(shape)
        out = self._draw(dims, dtype, partition_info)
        return to_tf_tensor(out) if as_tensor else out

    def _draw(self, dims: tuple[int, ...], dtype: DType, partition_info: Any) -> Any:
        name = storage_name(dtype)
        stream = stream_or_fresh(self._stream)
        sampler = self._sampler(dtype)
        if partition_info is None:
            return draw(dims, name, sampler, stream)
        full, region = _region(dims, partition_info)
        return draw(full, name, sampler, stream, region=region)


class RandomUniform(_Random):
    """TF1's ``random_uniform_initializer(minval=0.0, maxval=None, seed=None, dtype=float32)``.

    Floating dtypes draw ``U(minval, maxval)`` (``maxval=None`` means 1). Integer dtypes draw integers
    uniformly from ``[minval, maxval)``, and then ``maxval`` is required (TF's ``ValueError``); they are drawn
    as ``floor(minval + (maxval - minval)·u)`` from one float64 variate ``u`` of the stream per element.

    Example:
        >>> from varscale.compat import tf1
        >>> w = tf1.random_uniform_initializer(-1.0, 1.0, seed=124)([1000])
        >>> bool(w.min() >= -1.0 and w.max() <= 1.0), tf1.RandomUniform(seed=1).get_config()
        (True, {'minval': 0.0, 'maxval': None, 'seed': 1, 'dtype': 'float32'})
        >>> tf1.RandomUniform(0, 10, seed=0)([2, 3], dtype="int32").dtype.name
        'int32'
    """

    def __init__(self, minval: Any = 0.0, maxval: Any = None, seed: int | None = None, dtype: Any = float32) -> None:
        self.minval = minval
        self.maxval = maxval
        self.seed = seed
        self.dtype = as_dtype(dtype)
        self._stream = tf_seed_stream(seed)

    def _bounds(self, dtype: DType) -> tuple[float, float]:
        if self.maxval is None and not dtype.is_floating:
            raise ValueError(f"Must specify maxval for integer dtype tf.{dtype.name}")
        lo = _scalar(self.minval, "minval", "RandomUniform")
        hi = 1.0 if self.maxval is None else _scalar(self.maxval, "maxval", "RandomUniform")
        return lo, hi

    def _sampler(self, dtype: DType) -> Sampler:
        lo, hi = self._bounds(dtype)
        return uniform_sampler(min(lo, hi), max(lo, hi))

    def _draw(self, dims: tuple[int, ...], dtype: DType, partition_info: Any) -> Any:
        import numpy as np

        if dtype.is_floating:
            return super()._draw(dims, dtype, partition_info)
        if dtype.name not in ("int32", "int64", "uint32", "uint64"):
            raise TypeError(f"Invalid dtype {dtype!r} for RandomUniform: a floating dtype or int32, int64, uint32, "
                            "uint64.")
        lo, hi = self._bounds(dtype)
        if not lo < hi:
            raise ValueError(f"Need minval < maxval, got {int(lo)} >= {int(hi)}")
        stream = stream_or_fresh(self._stream)
        unit = uniform_sampler(0.0, 1.0)
        if partition_info is None:
            u = draw(dims, "float64", unit, stream)
        else:
            full, region = _region(dims, partition_info)
            u = draw(full, "float64", unit, stream, region=region)
        span = int(hi) - int(lo)
        k = np.minimum(np.floor(u * span), span - 1)
        return (int(lo) + k.astype(np.int64)).astype(dtype.name)

    def get_config(self) -> dict[str, Any]:
        """TF's config: ``minval``, ``maxval``, ``seed``, ``dtype`` (a name)."""
        return {"minval": self.minval, "maxval": self.maxval, "seed": self.seed, "dtype": self.dtype.name}


class RandomNormal(_Random):
    """TF1's ``random_normal_initializer(mean=0.0, stddev=1.0, seed=None, dtype=float32)``: ``N(mean, stddev²)``.

    Raises:
        ValueError: a non-floating ``dtype`` (TF's message).

    Example:
        >>> from varscale.compat import tf1
        >>> w = tf1.random_normal_initializer(stddev=0.02, seed=0)([512, 512])
        >>> round(float(w.std()), 3)
        0.02
    """

    def __init__(self, mean: Any = 0.0, stddev: Any = 1.0, seed: int | None = None, dtype: Any = float32) -> None:
        self.mean = mean
        self.stddev = stddev
        self.seed = seed
        self.dtype = _assert_float_dtype(as_dtype(dtype))
        self._stream = tf_seed_stream(seed)

    def _sampler(self, dtype: DType) -> Sampler:
        name = type(self).__name__
        return mean_sampler(_scalar(self.mean, "mean", name), _scalar(self.stddev, "stddev", name), truncated=False)

    def get_config(self) -> dict[str, Any]:
        """TF's config: ``mean``, ``stddev``, ``seed``, ``dtype`` (a name)."""
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed, "dtype": self.dtype.name}


class TruncatedNormal(RandomNormal):
    """TF1's ``truncated_normal_initializer(mean=0.0, stddev=1.0, seed=None, dtype=float32)``.

    ``N(mean, stddev²)`` cut at ``mean ± 2·stddev`` (TF re-draws values beyond two standard deviations);
    realized std ``0.8796·stddev``. Drawn by exact inverse-CDF truncation.

    Example:
        >>> from varscale.compat import tf1
        >>> w = tf1.truncated_normal_initializer(stddev=1.0, seed=126)([12, 99, 7])
        >>> bool(abs(w).max() <= 2.0)
        True
    """

    def _sampler(self, dtype: DType) -> Sampler:
        name = type(self).__name__
        return mean_sampler(_scalar(self.mean, "mean", name), _scalar(self.stddev, "stddev", name), truncated=True)


class Orthogonal(_Random):
    """TF1's ``orthogonal_initializer(gain=1.0, seed=None, dtype=float32)``.

    As TensorFlow: the shape is flattened to ``(prod(shape[:-1]), shape[-1])``, a standard normal matrix of
    shape ``(max, min)`` is factorized by QR, ``Q`` takes the signs of ``diag(R)`` (transposed when there are
    fewer rows than columns), times ``gain``. The Gaussian matrix is varscale's stream; the QR is NumPy's in
    float64, rounded once to ``dtype``. ``partition_info`` is ignored, as in TensorFlow.

    Raises:
        ValueError: a non-floating ``dtype``; a shape of rank < 2 (TF's messages).

    Example:
        >>> import numpy as np
        >>> from varscale.compat import tf1
        >>> q = tf1.orthogonal_initializer(seed=123)([20, 20], dtype="float64")
        >>> bool(np.allclose(q @ q.T, np.eye(20)))
        True
    """

    def __init__(self, gain: Any = 1.0, seed: int | None = None, dtype: Any = float32) -> None:
        self.gain = gain
        self.dtype = _assert_float_dtype(as_dtype(dtype))
        self.seed = seed
        self._stream = tf_seed_stream(seed)

    def _draw(self, dims: tuple[int, ...], dtype: DType, partition_info: Any) -> Any:
        from .._basic import Orthogonal as _Orthogonal
        from .._basic import round_float64

        if len(dims) < 2:
            raise ValueError("The tensor to initialize, specified by argument `shape` must be at least "
                             f"two-dimensional. Received shape={list(dims)}")
        name = storage_name(dtype)
        stream = stream_or_fresh(self._stream)
        gain = _scalar(self.gain, "gain", "Orthogonal")
        return round_float64(_Orthogonal(gain=gain, layout="tf").matrix(dims, stream), name)

    def get_config(self) -> dict[str, Any]:
        """TF's config: ``gain``, ``seed``, ``dtype`` (a name)."""
        return {"gain": self.gain, "seed": self.seed, "dtype": self.dtype.name}


class _Exact(_Configured):
    """A TF1 constant initializer: no randomness, any dtype TF can hold."""

    dtype: DType

    def get_config(self) -> dict[str, Any]:
        return {"dtype": self.dtype.name}


class _Fill(_Exact):
    """Every element ``_value``, in any dtype TF can hold."""

    _value = 0

    def __init__(self, dtype: Any = float32) -> None:
        self.dtype = as_dtype(dtype)

    def __call__(self, shape: Any, dtype: Any = None, partition_info: Any = None, *, as_tensor: bool = False) -> Any:
        """A NumPy array of ``_value`` (``as_tensor=True``: a ``tf.Tensor``)."""
        import numpy as np

        out = np.full(_dims(shape), self._value, dtype=_numpy_dtype(self.dtype if dtype is None else as_dtype(dtype)))
        return to_tf_tensor(out) if as_tensor else out


class Zeros(_Fill):
    """TF1's ``zeros_initializer(dtype=float32)``: every element 0.

    Example:
        >>> from varscale.compat import tf1
        >>> tf1.zeros_initializer()([2, 2], dtype="int32").tolist()
        [[0, 0], [0, 0]]
    """

    _value = 0


class Ones(_Fill):
    """TF1's ``ones_initializer(dtype=float32)``: every element 1.

    Example:
        >>> from varscale.compat import tf1
        >>> tf1.ones_initializer()([3]).tolist()
        [1.0, 1.0, 1.0]
    """

    _value = 1


class Constant(_Exact):
    """TF1's ``constant_initializer(value=0, dtype=float32, verify_shape=False)`` (``constant_v1``'s rules).

    ``value`` is a Python scalar, a list/tuple or a NumPy array. A single value fills the shape; as many
    values as elements are reshaped; fewer values are padded with the last one (TF1's ``constant``); more
    raise ``ValueError``. With ``verify_shape=True`` the value's shape must equal ``shape`` (``TypeError``).

    Raises:
        TypeError: ``value`` of another type (TF's message).

    Example:
        >>> from varscale.compat import tf1
        >>> tf1.constant_initializer([1, 2, 3])([2, 3]).tolist()
        [[1.0, 2.0, 3.0], [3.0, 3.0, 3.0]]
    """

    def __init__(self, value: Any = 0, dtype: Any = float32, verify_shape: bool = False) -> None:
        import numpy as np

        if not (np.isscalar(value) or isinstance(value, (list, tuple, np.ndarray))):
            raise TypeError(
                f"Invalid type for initial value={value} of type: {type(value).__name__}. Expected Python "
                "scalar, list or tuple of values, or numpy.ndarray."
            )
        self.value = value
        self.dtype = as_dtype(dtype)
        self._verify_shape = verify_shape

    def __call__(
        self,
        shape: Any,
        dtype: Any = None,
        partition_info: Any = None,
        verify_shape: bool | None = None,
        *,
        as_tensor: bool = False,
    ) -> Any:
        """A NumPy array (``as_tensor=True``: a ``tf.Tensor``) holding ``value`` in ``shape``."""
        import numpy as np

        dtype = self.dtype if dtype is None else as_dtype(dtype)
        if verify_shape is None:
            verify_shape = self._verify_shape
        dims = _dims(shape)
        raw = np.asarray(self.value)
        np_dtype = _numpy_dtype(dtype)
        if np_dtype.kind in "iub" and raw.dtype.kind in "fc":
            bad = raw.reshape(-1)[raw.reshape(-1) != np.round(raw.reshape(-1))]
            if bad.size:
                raise TypeError(f"Expected {dtype.name}, but got {bad[0].item()} of type '{type(bad[0].item()).__name__}'.")
        values = raw.astype(np_dtype)
        if verify_shape and values.shape != dims:
            raise TypeError(f"Expected Tensor's shape: {dims}, but got {values.shape}.")
        size = math.prod(dims)
        flat = values.reshape(-1)
        if flat.size > size:
            raise ValueError(f"Too many elements provided. Takes at most {size:d}, but got {flat.size:d}.")
        if flat.size == 0:
            if size:
                raise ValueError(f"Cannot fill shape={list(dims)} from an empty `value`.")
            out = np.zeros(dims, dtype=values.dtype)
        elif flat.size < size:
            out = np.concatenate([flat, np.repeat(flat[-1:], size - flat.size)]).reshape(dims)
        else:
            out = flat.reshape(dims).copy()
        return to_tf_tensor(out) if as_tensor else out

    def get_config(self) -> dict[str, Any]:
        """TF's config: ``value``, ``dtype`` (a name)."""
        return {"value": self.value, "dtype": self.dtype.name}


class Identity(_Exact):
    """TF1's ``identity_initializer(gain=1.0, dtype=float32)``: ``gain · eye`` for 2-D shapes.

    With ``partition_info`` the eye has ``full_shape`` and the partition is its slice at ``var_offset``.

    Raises:
        ValueError: a non-floating ``dtype``; a shape of rank other than 2 (TF's message).

    Example:
        >>> from varscale.compat import tf1
        >>> tf1.identity_initializer(gain=0.5)([2, 3]).tolist()
        [[0.5, 0.0, 0.0], [0.0, 0.5, 0.0]]
    """

    def __init__(self, gain: Any = 1.0, dtype: Any = float32) -> None:
        self.gain = gain
        self.dtype = _assert_float_dtype(as_dtype(dtype))

    def __call__(self, shape: Any, dtype: Any = None, partition_info: Any = None, *, as_tensor: bool = False) -> Any:
        """A NumPy array (``as_tensor=True``: a ``tf.Tensor``): ``gain · eye(*shape)``."""
        import numpy as np

        full_shape = shape if partition_info is None else partition_info.full_shape
        if len(full_shape) != 2:
            raise ValueError("The tensor to initialize, specified by argument `shape` must be at least "
                             f"two-dimensional. Received shape={shape}")
        dtype = self.dtype if dtype is None else as_dtype(dtype)
        np_dtype = _numpy_dtype(dtype)
        rows, cols = _dims(full_shape)
        eye = np.eye(rows, cols, dtype=np_dtype)
        if partition_info is not None:
            _, region = _region(_dims(shape), partition_info)
            eye = eye[region]
        out = (eye * np.asarray(self.gain).astype(np_dtype)).astype(np_dtype)
        return to_tf_tensor(out) if as_tensor else out

    def get_config(self) -> dict[str, Any]:
        """TF's config: ``gain``, ``dtype`` (a name)."""
        return {"gain": self.gain, "dtype": self.dtype.name}


zeros_initializer = Zeros
ones_initializer = Ones
constant_initializer = Constant
random_uniform_initializer = RandomUniform
random_normal_initializer = RandomNormal
truncated_normal_initializer = TruncatedNormal
orthogonal_initializer = Orthogonal
identity_initializer = Identity


# -- init_ops' convolution-orthogonal family (Xiao et al. 2018): every Gaussian matrix and sign mask drawn
# -- from varscale's stream (draw k of a call uses stream id base + k), the linear algebra in float64 -------


class _ConvDraws:
    """The sequence of Gaussian draws of one call: draw ``k`` uses ``Stream(seed, base_stream + k)``."""

    def __init__(self, stream: Stream) -> None:
        self._stream = stream
        self._count = 0

    def normal(self, shape: tuple[int, ...]) -> Any:
        stream = Stream(self._stream.seed, (self._stream.stream + self._count) % 2**64)
        self._count += 1
        return draw(shape, "float64", normal_sampler(0.0, 1.0), stream)

    def orthogonal(self, n: int) -> Any:
        """TF's ``_orthogonal_matrix(n)``: ``Q·sign(diag R)`` of an n×n standard normal matrix."""
        import numpy as np

        q, r = np.linalg.qr(self.normal((n, n)))
        return q * np.sign(np.diagonal(r))

    def symmetric_projection(self, n: int) -> Any:
        """TF's ``_symmetric_projection(n)``: ``C·Cᵀ`` with ``C`` an orthogonal matrix's columns masked at random."""
        q = self.orthogonal(n)
        mask = (self.normal((n,)) > 0).astype(float)
        c = q * mask
        return c @ c.T


class _ConvBase(_Random):
    def __init__(self, gain: Any = 1.0, seed: int | None = None, dtype: Any = float32) -> None:
        self.gain = gain
        self.dtype = _assert_float_dtype(as_dtype(dtype))
        self.seed = seed
        self._stream = tf_seed_stream(seed)

    def _kernel(self, dims: tuple[int, ...], draws: _ConvDraws) -> Any:
        raise NotImplementedError

    def _draw(self, dims: tuple[int, ...], dtype: DType, partition_info: Any) -> Any:
        from .._basic import round_float64

        name = storage_name(dtype)
        stream = stream_or_fresh(self._stream)
        kernel = self._kernel(dims, _ConvDraws(stream))
        return round_float64(kernel * _scalar(self.gain, "gain", type(self).__name__), name)

    def get_config(self) -> dict[str, Any]:
        """TF's config: ``gain``, ``seed``, ``dtype`` (a name)."""
        return {"gain": self.gain, "seed": self.seed, "dtype": self.dtype.name}


def _in_out_check(dims: tuple[int, ...]) -> None:
    if dims[-2] > dims[-1]:
        raise ValueError(f"In_filters, specified by shape[-2]={dims[-2]} cannot be greater than out_filters, "
                         f"specified by shape[-1]={dims[-1]}.")


class ConvolutionDeltaOrthogonal(_ConvBase):
    """TF1's ``convolutional_delta_orthogonal(gain=1.0, seed=None, dtype=float32)``.

    For 3-D to 5-D shapes ``(*spatial, in, out)`` with ``in <= out``: zeros except the spatial center
    ``[(k-1)//2, ...]``, which holds the first ``in`` rows of an ``out × out`` orthogonal matrix times gain.

    Example:
        >>> import numpy as np
        >>> from varscale.compat import tf1
        >>> w = tf1.convolutional_delta_orthogonal(seed=0)([3, 3, 4, 8], dtype="float64")
        >>> bool(np.allclose(w[1, 1] @ w[1, 1].T, np.eye(4))), float(abs(w[0]).max())
        (True, 0.0)
    """

    def _kernel(self, dims: tuple[int, ...], draws: _ConvDraws) -> Any:
        import numpy as np

        if len(dims) < 3 or len(dims) > 5:
            raise ValueError("The tensor to initialize, specified by argument `shape` must be at least "
                             f"three-dimensional and at most five-dimensional. Received shape={list(dims)}")
        _in_out_check(dims)
        q = draws.orthogonal(dims[-1])[: dims[-2], :]
        out = np.zeros(dims)
        out[tuple((k - 1) // 2 for k in dims[:-2])] = q
        return out


def _matrix_conv(m1: dict[tuple[int, ...], Any], m2: dict[tuple[int, ...], Any], k: int, length: int,
                 ndim: int) -> dict[tuple[int, ...], Any]:
    """TF's ``_matrix_conv`` in ``ndim`` dimensions: the convolution of two kernels of matrices."""
    import itertools

    import numpy as np

    n = next(iter(m1.values())).shape[0]
    size = k + length - 1
    result: dict[tuple[int, ...], Any] = {}
    for idx in itertools.product(range(size), repeat=ndim):
        acc = np.zeros((n, n))
        for off in itertools.product(*(range(min(k, i + 1)) for i in idx)):
            rest = tuple(i - o for i, o in zip(idx, off, strict=True))
            if all(r < length for r in rest):
                acc = acc + m1[off] @ m2[rest]
        result[idx] = acc
    return result


#: TF's rank error of the 1-, 2- and 3-D orthogonal convolutions: the rank in words, and how it prints the shape.
_CONV_RANK = {1: ("three", "Received shape="), 2: ("four", "Received: "), 3: ("five", "Received shape=")}


class _ConvolutionOrthogonal(_ConvBase):
    _ndim = 2

    def _check_kernel(self, dims: tuple[int, ...]) -> None:
        """TF's check that the kernel is square / cubic (none in 1-D)."""

    def _kernel(self, dims: tuple[int, ...], draws: _ConvDraws) -> Any:
        words, received = _CONV_RANK[self._ndim]
        if len(dims) != self._ndim + 2:
            raise ValueError(f"The tensor to initialize, specified by argument `shape` must be {words}-dimensional. "
                             f"{received}{list(dims)}")
        _in_out_check(dims)
        self._check_kernel(dims)
        return self._orthogonal_kernel(dims[0], dims[-2], dims[-1], draws)

    def _block_orth(self, projections: list[Any]) -> dict[tuple[int, ...], Any]:
        import itertools

        import numpy as np

        n = projections[0].shape[0]
        eye = np.eye(n)
        out = {}
        for idx in itertools.product((0, 1), repeat=self._ndim):
            if self._ndim == 3:  # TF's 3-D cast(i, p) = i·p + (1 - i)·(I - p)
                factors = [p if i else eye - p for i, p in zip(idx, projections, strict=True)]
            else:  # 1-D and 2-D: index 0 is p, index 1 is I - p
                factors = [eye - p if i else p for i, p in zip(idx, projections, strict=True)]
            m = factors[0]
            for f in factors[1:]:
                m = m @ f
            out[idx] = m
        return out

    def _orthogonal_kernel(self, ksize: int, cin: int, cout: int, draws: _ConvDraws) -> Any:
        import itertools

        import numpy as np

        if cin > cout:
            raise ValueError(f"The number of input channels (cin={cin}) cannot exceed the number of output "
                             f"channels (cout={cout}).")
        orth = draws.orthogonal(cout)[0:cin, :]
        if ksize == 1:
            return orth.reshape((1,) * self._ndim + orth.shape)
        p = self._block_orth([draws.symmetric_projection(cout) for _ in range(self._ndim)])
        for _ in range(ksize - 2):
            temp = self._block_orth([draws.symmetric_projection(cout) for _ in range(self._ndim)])
            p = _matrix_conv(p, temp, round(len(p) ** (1 / self._ndim)), 2, self._ndim)
        out = np.zeros((ksize,) * self._ndim + (cin, cout))
        for idx in itertools.product(range(ksize), repeat=self._ndim):
            out[idx] = orth @ p[idx]
        return out


class ConvolutionOrthogonal1D(_ConvolutionOrthogonal):
    """TF1's ``convolutional_orthogonal_1d(gain=1.0, seed=None, dtype=float32)``: an orthogonal 1-D convolution
    kernel ``(k, in, out)``, ``in <= out`` (TF's construction from random symmetric projections).

    Example:
        >>> from varscale.compat import tf1
        >>> tf1.convolutional_orthogonal_1d(seed=0)([3, 4, 4]).shape
        (3, 4, 4)
    """

    _ndim = 1


class ConvolutionOrthogonal2D(_ConvolutionOrthogonal):
    """TF1's ``convolutional_orthogonal_2d(gain=1.0, seed=None, dtype=float32)``: an orthogonal 2-D convolution
    kernel ``(k, k, in, out)``, ``in <= out``.

    Example:
        >>> from varscale.compat import tf1
        >>> tf1.convolutional_orthogonal_2d(seed=0)([3, 3, 2, 4]).shape
        (3, 3, 2, 4)
    """

    _ndim = 2

    def _check_kernel(self, dims: tuple[int, ...]) -> None:
        if dims[0] != dims[1]:
            raise ValueError(f"Kernel sizes, specified by shape[0]={dims[0]} and shape[1]={dims[1]} must be equal.")


class ConvolutionOrthogonal3D(_ConvolutionOrthogonal):
    """TF1's ``convolutional_orthogonal_3d(gain=1.0, seed=None, dtype=float32)``: an orthogonal 3-D convolution
    kernel ``(k, k, k, in, out)``, ``in <= out``.

    Example:
        >>> from varscale.compat import tf1
        >>> tf1.convolutional_orthogonal_3d(seed=0)([2, 2, 2, 3, 3]).shape
        (2, 2, 2, 3, 3)
    """

    _ndim = 3

    def _check_kernel(self, dims: tuple[int, ...]) -> None:
        if dims[0] != dims[1] or dims[0] != dims[2]:
            raise ValueError(f"Kernel sizes, specified by shape[0]={dims[0]},  shape[1]={dims[1]} and "
                             f"shape[2]={dims[2]} must be equal.")


convolutional_delta_orthogonal = ConvolutionDeltaOrthogonal
convolutional_orthogonal_1d = ConvolutionOrthogonal1D
convolutional_orthogonal_2d = ConvolutionOrthogonal2D
convolutional_orthogonal_3d = ConvolutionOrthogonal3D
