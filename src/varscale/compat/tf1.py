"""TF1 core ``init_ops.VarianceScaling`` (``tf.compat.v1.variance_scaling_initializer``).

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
from ..stream import Stream, fresh_stream
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
    "GlorotNormal",
    "GlorotUniform",
    "PartitionInfo",
    "VarianceScaling",
    "bfloat16",
    "float16",
    "float32",
    "float64",
    "glorot_normal_initializer",
    "glorot_uniform_initializer",
    "he_normal",
    "he_uniform",
    "lecun_normal",
    "lecun_uniform",
    "variance_scaling_initializer",
]

#: std of a standard normal truncated to [-2, 2] (TF: scipy.stats.truncnorm.std(a=-2, b=2)).
TRUNCATED_STD = 0.87962566103423978


def _seed_stream(seed: Any) -> Stream | None:
    if seed is None:
        return None
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise TypeError(f"`seed` must be None or a Python integer; received seed={seed!r}.")
    return Stream(int(seed) % 2**64, 0)


def _assert_float_dtype(dtype: DType) -> DType:
    if not dtype.is_floating:
        raise ValueError(f"Argument `dtype` is expected to be floating point. Received: {dtype}.")
    return dtype


def _compute_fans(shape: Sequence[int]) -> tuple[int, int]:
    """TF's ``init_ops._compute_fans``: (fan_in, fan_out) as ints."""
    if len(shape) < 1:
        fan_in = fan_out = 1
    elif len(shape) == 1:
        fan_in = fan_out = shape[0]
    elif len(shape) == 2:
        fan_in = shape[0]
        fan_out = shape[1]
    else:
        receptive_field_size = 1
        for dim in shape[:-2]:
            receptive_field_size *= dim
        fan_in = shape[-2] * receptive_field_size
        fan_out = shape[-1] * receptive_field_size
    return int(fan_in), int(fan_out)


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


class VarianceScaling:
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
        self._stream = _seed_stream(seed)

    def describe(self, shape: Sequence[int], partition_info: Any = None) -> dict[str, Any]:
        """Fans (from ``partition_info.full_shape`` when given), ``n`` and the draw's parameters.

        Returns a dict with ``fan_in``, ``fan_out`` (ints), ``n`` (the clamped
        ``max(1., n)``), ``distribution`` (what is drawn), ``stddev`` (the
        normal's parameter; None for uniform), ``limit`` (None for normals)
        and ``bounds``.
        """
        scale_shape = shape if partition_info is None else partition_info.full_shape
        fan_in, fan_out = _compute_fans(scale_shape)
        scale = float(self.scale)
        if self.mode == "fan_in":
            n = max(1.0, fan_in)
        elif self.mode == "fan_out":
            n = max(1.0, fan_out)
        else:
            n = max(1.0, (fan_in + fan_out) / 2.0)
        scale /= n
        base = {"fan_in": fan_in, "fan_out": fan_out, "n": n}
        if self.distribution in ("normal", "truncated_normal"):
            if self.distribution == "normal" and self.legacy_normal:
                stddev = math.sqrt(scale)
            else:
                stddev = math.sqrt(scale) / TRUNCATED_STD
            return base | {
                "distribution": "truncated_normal", "stddev": stddev, "limit": None,
                "bounds": (-2.0 * stddev, 2.0 * stddev),
            }
        if self.distribution == "untruncated_normal":
            stddev = math.sqrt(scale)
            return base | {
                "distribution": "untruncated_normal", "stddev": stddev, "limit": None,
                "bounds": (-math.inf, math.inf),
            }
        limit = math.sqrt(3.0 * scale)
        return base | {"distribution": "uniform", "stddev": None, "limit": limit, "bounds": (-limit, limit)}

    def sampler(self, shape: Sequence[int], partition_info: Any = None) -> Sampler:
        """The varscale sampler (fans from the full shape when partitioned)."""
        d = self.describe(shape, partition_info)
        if d["distribution"] == "uniform":
            return uniform_sampler(-d["limit"], d["limit"])
        if d["distribution"] == "untruncated_normal":
            return normal_sampler(0.0, d["stddev"])
        s = d["stddev"]
        return normal_sampler(0.0, s, -2.0 * s, 2.0 * s)

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
        stream = self._stream if self._stream is not None else fresh_stream()
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

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> VarianceScaling:
        """``cls(**config)``, as TensorFlow does."""
        return cls(**config)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


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
        super().__init__(scale=1.0, mode="fan_avg", distribution="uniform", seed=seed)

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
        super().__init__(scale=1.0, mode="fan_avg", distribution="truncated_normal", seed=seed)

    def get_config(self) -> dict[str, Any]:
        return {"seed": self.seed, "dtype": self.dtype.name}


glorot_uniform_initializer = GlorotUniform
glorot_normal_initializer = GlorotNormal


def lecun_normal(seed: int | None = None) -> VarianceScaling:
    """``tf.compat.v1.initializers.lecun_normal``: ``VarianceScaling(1., "fan_in", "truncated_normal")``."""
    return VarianceScaling(scale=1.0, mode="fan_in", distribution="truncated_normal", seed=seed)


def lecun_uniform(seed: int | None = None) -> VarianceScaling:
    """``tf.compat.v1.initializers.lecun_uniform``: ``VarianceScaling(1., "fan_in", "uniform")``."""
    return VarianceScaling(scale=1.0, mode="fan_in", distribution="uniform", seed=seed)


def he_normal(seed: int | None = None) -> VarianceScaling:
    """``tf.compat.v1.initializers.he_normal``: ``VarianceScaling(2., "fan_in", "truncated_normal")``."""
    return VarianceScaling(scale=2.0, mode="fan_in", distribution="truncated_normal", seed=seed)


def he_uniform(seed: int | None = None) -> VarianceScaling:
    """``tf.compat.v1.initializers.he_uniform``: ``VarianceScaling(2., "fan_in", "uniform")``."""
    return VarianceScaling(scale=2.0, mode="fan_in", distribution="uniform", seed=seed)
