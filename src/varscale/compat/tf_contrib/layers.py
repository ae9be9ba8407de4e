"""``tf.contrib.layers`` initializers, as the TF 1.15 contrib code computes them.

Mirrors ``tensorflow/contrib/layers/python/layers/initializers.py`` (TF 0.12
to 1.15; the code of 1.15.0 is the one reproduced): the *code*, not its
docstring.

* Fans are Python floats: rank 0 gives (1.0, 1.0); rank 1 ``[k]`` gives
  (k, k); rank 2 gives (s0, s1); rank ≥ 3 is HWIO, both fans multiplied by
  ``prod(shape[:-2])``. ``n`` is fan_in, fan_out or ``(fan_in + fan_out)/2.0``
  and is **not** clamped: a zero fan raises ``ZeroDivisionError: float
  division by zero``, as contrib does.
* ``uniform=True``: ``U(-L, L)`` with ``L = sqrt(3·factor/n)``.
* ``uniform=False``: a normal with parameter ``σ = sqrt(1.3·factor/n)``
  truncated at ``±2σ``. There is no 0.8796 correction: the realized std is
  ``sqrt(1.3)·0.87962566·sqrt(factor/n) = 1.0029276·sqrt(factor/n)``
  (+0.293 %). ``xavier_initializer(uniform=False)``'s docstring promises
  ``sqrt(3/(in+out))``; the code gives ``σ = sqrt(2.6/(in+out))``.
* ``mode`` is case-sensitive (``'FAN_IN'``, ``'FAN_OUT'``, ``'FAN_AVG'``); any
  other value raises ``TypeError('Unknown mode %s [FAN_IN, FAN_OUT,
  FAN_AVG]', mode)`` with the arguments *unformatted*, so ``str(err)`` is
  ``"('Unknown mode %s [FAN_IN, FAN_OUT, FAN_AVG]', 'fan_in')"``. (TF ≤ 1.10
  spelled it ``'Unknow mode'``; 1.11–1.15 read ``'Unknown'``, mirrored here.)
* ``dtype`` must be a ``tf.DType``-like object with ``is_floating``; a
  non-floating one raises ``TypeError('Cannot create initializer for
  non-floating point type.')`` at construction and again at call time. A
  string or NumPy dtype is not converted and fails with ``AttributeError``,
  exactly as in contrib. ``tf.float16``/``tf.bfloat16``/``tf.float32``/
  ``tf.float64`` or this module's :data:`float16` … :data:`float64` work.
* ``partition_info`` is ignored: for a partitioned variable the fans come from
  the partition's own shape and each partition is drawn as a tensor of its
  own (unlike TF1 core, see :mod:`varscale.compat.tf1`).
* ``factor`` is not validated: ``factor=0`` gives zeros, a negative factor
  raises ``ValueError: math domain error`` at call time.

Differences from TensorFlow, on purpose: the values come from varscale's
stream and are returned as NumPy arrays (``tf.compat.v1.get_variable(
initializer=...)`` accepts them), or as ``tf.Tensor`` with
``init(shape, as_tensor=True)``. A seeded
initializer returns the same values on every call (TF1 graph-mode
behaviour; TF eager would advance); ``seed=None`` draws fresh entropy on
every call.

Example:
    >>> from varscale.compat.tf_contrib import layers
    >>> init = layers.variance_scaling_initializer(seed=1)
    >>> w = init([3, 3, 64, 128])
    >>> w.shape, str(w.dtype)
    ((3, 3, 64, 128), 'float32')
    >>> d = init.describe([3, 3, 64, 128])
    >>> d["fan_in"], round(d["stddev"], 6), round(d["bounds"][1], 6)
    (576.0, 0.067185, 0.134371)
"""

from __future__ import annotations

from typing import Any

from ..._generate import draw
from ..._plan import Sampler
from .. import _tfdtype
from .._kit import (
    law_sampler,
    select_n,
    stream_or_fresh,
    tf_fans,
    tf_seed_stream,
    variance_law,
)
from .._tfdtype import DType, bfloat16, float16, float32, float64

__all__ = [
    "ContribInitializer",
    "bfloat16",
    "float16",
    "float32",
    "float64",
    "variance_scaling_initializer",
    "xavier_initializer",
    "xavier_initializer_conv2d",
]

_MODES = ["FAN_IN", "FAN_OUT", "FAN_AVG"]
_NON_FLOATING = "Cannot create initializer for non-floating point type."
_SENTINEL: Any = object()


class ContribInitializer:
    """The callable that :func:`variance_scaling_initializer` returns.

    Contrib returns a closure ``_initializer(shape, dtype=dtype,
    partition_info=None)``; this object is called the same way and adds
    :meth:`describe`. Build it with :func:`variance_scaling_initializer` or
    :func:`xavier_initializer`, not directly.
    """

    def __init__(self, factor: Any, mode: str, uniform: Any, seed: Any, dtype: Any) -> None:
        self.factor = factor
        self.mode = mode
        self.uniform = uniform
        self.seed = seed
        self.dtype = dtype
        self._stream = tf_seed_stream(seed)

    def describe(self, shape: Any) -> dict[str, Any]:
        """The fans, ``n`` and distribution parameters contrib computes for ``shape``.

        Returns a dict with ``fan_in``, ``fan_out`` and ``n`` (floats, as in
        contrib), ``distribution`` (``"uniform"`` or ``"truncated_normal"``),
        ``stddev`` (the normal's parameter σ, None for uniform), ``limit``
        (None for the normal) and ``bounds``. Raises ``ZeroDivisionError`` when
        ``n`` is zero, as contrib does.

        Example:
            >>> from varscale.compat.tf_contrib.layers import xavier_initializer
            >>> xavier_initializer().describe([64, 128])["limit"] == (6 / 192) ** 0.5
            True
        """
        # contrib's fans are floats and ``n`` is not clamped (a zero fan: ZeroDivisionError); the law is
        # computed as the core computes it (variance = factor/n, limit = sqrt(3·variance))
        fan_in, fan_out = (float(f) for f in tf_fans(shape))
        n = select_n(self.mode.lower(), fan_in, fan_out)
        if self.uniform:
            law = variance_law(self.factor, n, "uniform", clamp=False)
        else:  # the ×1.3 normal, without the 0.8796 correction
            law = variance_law(1.3 * self.factor, n, "truncated_normal", clamp=False, corrected=False)
        return {"fan_in": fan_in, "fan_out": fan_out, "n": n} | law

    def sampler(self, shape: Any) -> Sampler:
        """The varscale sampler for ``shape`` (see :meth:`describe`)."""
        return law_sampler(self.describe(shape))

    def __call__(
        self, shape: Any, dtype: Any = _SENTINEL, partition_info: Any = None, *, as_tensor: bool = False
    ) -> Any:
        """Draw a tensor of ``shape``; ``partition_info`` is accepted and ignored, as in contrib.

        Returns a NumPy array, or a ``tf.Tensor`` with ``as_tensor=True``.
        """
        del partition_info  # contrib: "pylint: disable=unused-argument"
        if dtype is _SENTINEL:
            dtype = self.dtype
        if not dtype.is_floating:
            raise TypeError(_NON_FLOATING)
        sampler = self.sampler(shape)
        dims = tuple(int(d) for d in shape)
        out = draw(dims, _tfdtype.storage_name(DType(dtype.name)), sampler, stream_or_fresh(self._stream))
        return _tfdtype.to_tf_tensor(out) if as_tensor else out

    def __repr__(self) -> str:
        return (
            f"variance_scaling_initializer(factor={self.factor!r}, mode={self.mode!r}, "
            f"uniform={self.uniform!r}, seed={self.seed!r}, dtype={self.dtype!r})"
        )


def variance_scaling_initializer(
    factor: float = 2.0,
    mode: str = "FAN_IN",
    uniform: bool = False,
    seed: int | None = None,
    dtype: Any = float32,
) -> ContribInitializer:
    """Builds contrib's variance-scaling initializer (He normal ×1.3 by default).

    Args:
        factor: multiplicative factor (not validated, as in contrib).
        mode: ``'FAN_IN'``, ``'FAN_OUT'`` or ``'FAN_AVG'``, upper case only.
        uniform: ``U(±sqrt(3·factor/n))`` if true, else the ×1.3 truncated
            normal ``σ = sqrt(1.3·factor/n)`` cut at ±2σ.
        seed: None (fresh values on every call) or an int (the same values on
            every call; any int, used modulo 2**64).
        dtype: a floating ``tf.DType`` or one of this module's ``float16``,
            ``bfloat16``, ``float32``, ``float64``.

    Returns:
        A callable ``(shape, dtype=dtype, partition_info=None)`` returning a
        NumPy array.

    Raises:
        TypeError: ``'Cannot create initializer for non-floating point
            type.'`` for a non-floating dtype; ``('Unknown mode %s [FAN_IN,
            FAN_OUT, FAN_AVG]', mode)`` (unformatted) for any other mode.
        AttributeError: ``dtype`` is not a DType (a string, a NumPy dtype).

    Example:
        >>> from varscale.compat.tf_contrib.layers import variance_scaling_initializer
        >>> init = variance_scaling_initializer(factor=1.0, mode='FAN_AVG', uniform=True, seed=0)
        >>> w = init([64, 128])
        >>> bool(abs(w).max() <= (3 / 96) ** 0.5)
        True
        >>> try:
        ...     variance_scaling_initializer(mode='fan_in')
        ... except TypeError as err:
        ...     print(err)
        ('Unknown mode %s [FAN_IN, FAN_OUT, FAN_AVG]', 'fan_in')
    """
    if not dtype.is_floating:
        raise TypeError(_NON_FLOATING)
    if mode not in _MODES:
        raise TypeError("Unknown mode %s [FAN_IN, FAN_OUT, FAN_AVG]", mode)
    return ContribInitializer(factor, mode, uniform, seed, dtype)


def xavier_initializer(uniform: bool = True, seed: int | None = None, dtype: Any = float32) -> ContribInitializer:
    """Builds contrib's Xavier initializer: ``variance_scaling_initializer(1.0, 'FAN_AVG', uniform)``.

    With ``uniform=True`` (the default) this is Glorot uniform,
    ``U(±sqrt(6/(fan_in + fan_out)))``. With ``uniform=False`` it is the ×1.3
    truncated normal ``σ = sqrt(2.6/(fan_in + fan_out))`` cut at ±2σ, not the
    ``sqrt(3/(in+out))`` contrib's docstring states.

    Args:
        uniform: uniform (default) or the ×1.3 truncated normal.
        seed: None or an int, as in :func:`variance_scaling_initializer`.
        dtype: a floating ``tf.DType`` or this module's ``float32`` etc.

    Returns:
        A callable ``(shape, dtype=dtype, partition_info=None)``.

    Example:
        >>> from varscale.compat.tf_contrib.layers import xavier_initializer
        >>> d = xavier_initializer(uniform=False).describe([64, 128])
        >>> d["stddev"] == (2.6 / 192) ** 0.5
        True
    """
    return variance_scaling_initializer(factor=1.0, mode="FAN_AVG", uniform=uniform, seed=seed, dtype=dtype)


#: A plain alias, as in contrib.
xavier_initializer_conv2d = xavier_initializer
