"""A parsed initializer's law as a core initializer, and its density.

:func:`initializer_for` turns a :class:`varscale.Spec` (any framework's
expression, read by :func:`varscale.parse`) and a shape into the core
initializer that draws the same law from varscale's stream:

* a fan-based law varscale's :class:`~varscale.VarianceScaling` has
  (``fan_in``/``fan_out``/``fan_avg`` on the default axes, a truncated normal
  cut at ±2σ') is that :class:`~varscale.VarianceScaling`, for every shape:
  Keras' ``HeNormal()`` draws the bits of :class:`varscale.HeNormal`;
* any other law is fixed by the shape's fans (JAX's ``fan_geo_avg`` or named
  axes) or by its own numbers, and is drawn by the standard initializer of
  that law: :class:`~varscale.Uniform`, :class:`~varscale.Normal` or
  :class:`~varscale.TruncatedNormal` (any cut, with the law's mean),
  :class:`~varscale.Constant` or :class:`~varscale.Orthogonal`.

:func:`density` is the probability density of a Spec's law for a shape, and
:func:`sampler_density` that of any per-element law (a
:class:`varscale._plan.Sampler`): both are computed from the sampler that
draws the values, so a plotted density is the one of the values drawn.

Example:
    >>> import varscale as vs
    >>> from varscale._law import density, initializer_for
    >>> init = initializer_for(vs.parse("keras.initializers.HeNormal()"), (64, 32), seed=0)
    >>> bool((init((64, 32)) == vs.HeNormal(seed=0)((64, 32))).all())  # the same law, the same bits
    True
    >>> initializer_for(vs.parse("nn.init.normal_(w, mean=1.0, std=0.02)"), (4, 4))
    Normal(mean=1.0, std=0.02, seed=None)
    >>> float(density(vs.parse("nn.init.uniform_(w, -0.5, 0.5)"), (4, 4), 0.25))
    1.0
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from ._basic import (
    BasicInitializer,
    Constant,
    Normal,
    Orthogonal,
    TruncatedNormal,
    Uniform,
)
from ._errors import InvalidArgumentError
from ._initializer import MODES, VarianceScaling
from ._math import TRUNC_STD_2
from ._plan import KIND_UNIFORM, Sampler
from .stream import Stream

if TYPE_CHECKING:
    from ._parse import Spec

__all__ = ["density", "initializer_for", "sampler_density"]

_SQRT_2PI = math.sqrt(2.0 * math.pi)


def initializer_for(spec: Spec, shape: Any, seed: int | Stream | None = None) -> VarianceScaling | BasicInitializer:
    """The core initializer drawing ``spec``'s law for ``shape`` from ``seed``'s stream.

    ``shape`` is read in the spec's own layout. A shape the source framework
    refuses raises :class:`~varscale.InvalidArgumentError` quoting its error
    (:meth:`varscale.Spec.check_shape`); a zero-element tensor torch leaves
    unchanged is accepted (there is nothing to draw).

    Args:
        spec: a parsed initializer (:func:`varscale.parse`).
        shape: the weight's shape.
        seed: an int or :class:`varscale.Stream` (None: a fresh stream per call).

    Returns:
        A :class:`~varscale.VarianceScaling` (for every shape, when varscale
        has the law) or a standard initializer holding this shape's numbers.

    Raises:
        InvalidArgumentError: the shape is refused, or the law is an identity
            matrix (varscale draws none).

    Example:
        >>> import varscale as vs
        >>> spec = vs.parse("jax.nn.initializers.variance_scaling(1.0, 'fan_geo_avg', 'uniform')")
        >>> initializer_for(spec, (16, 4), seed=1)  # sqrt(3/sqrt(16·4)) = sqrt(3/8)
        Uniform(a=-0.6123724356957945, b=0.6123724356957945, seed=1)
        >>> initializer_for(vs.parse("tf.contrib.layers.variance_scaling_initializer()"), (8, 8)).distribution
        'truncated_normal'
    """
    dims = spec.check_shape(shape, drawing=True)  # the source's own refusals: fewer than 2 axes, a zero fan
    family = spec.family
    if family == "identity":
        raise InvalidArgumentError(
            f"`spec` draws an identity matrix ({spec.call or spec.source}), which varscale does not draw; "
            f"received spec={spec.source or spec.call!r}. Allowed: uniform, normal, truncated normal, constant "
            f"and orthogonal laws."
        )
    if family == "constant":
        return Constant(spec.fixed or 0.0)
    if family == "orthogonal":
        return Orthogonal(spec.fixed if spec.fixed is not None else 1.0, seed=seed, layout=spec.layout)
    if spec.fan_based and spec.mode in MODES and spec.jax_axes is None and (
            family != "truncated_normal" or spec.cut == 2.0):
        scale = spec.scale_value
        if family == "truncated_normal" and spec.param_factor * TRUNC_STD_2 != 1.0:
            # TF contrib's sqrt(1.3) and TF <= 1.9's uncorrected factor: σ' = param_factor·sqrt(scale/n) is
            # VarianceScaling's sqrt(scale'/n)/0.8796… for this scale' (Keras' corrected σ' keeps its scale)
            scale = spec.param_factor**2 * TRUNC_STD_2**2 * scale
        return VarianceScaling(scale, spec.mode, family, seed=seed, layout=spec.layout)
    fan_in, fan_out = spec.fans(dims)
    p = spec.param(fan_in, fan_out)  # L (uniform) or σ' (normals) for these fans
    m = spec.mean
    if family == "uniform":
        return Uniform(m - p, m + p, seed=seed)
    if family == "untruncated_normal" or math.isinf(spec.cut):
        return Normal(m, p, seed=seed)
    return TruncatedNormal(m, p, m - spec.cut * p, m + spec.cut * p, seed=seed)


def sampler_density(sampler: Sampler, x: Any) -> np.ndarray[Any, Any]:
    """The probability density, at ``x``, of the values ``sampler`` draws (float64, the shape of ``x``).

    A uniform on ``loc ± limit``, or a normal ``loc + std·z`` with ``z``
    truncated to ``[a, b]`` (its mass ``W`` already computed in the sampler).

    Raises:
        InvalidArgumentError: the law is a constant (a point mass has no density).

    Example:
        >>> from varscale._plan import normal_sampler
        >>> d = sampler_density(normal_sampler(0.0, 1.0, -2.0, 2.0), [0.0, 2.5])
        >>> round(float(d[0]), 6), float(d[1])  # φ(0)/(Φ(2) − Φ(−2)), 0 outside the cut
        (0.41796, 0.0)
    """
    xs = np.asarray(x, dtype=np.float64)
    if sampler.kind == KIND_UNIFORM:
        if sampler.limit == 0.0:
            raise InvalidArgumentError(
                f"a constant law (every value {sampler.loc!r}) has no density; received a sampler with "
                f"limit={sampler.limit!r}."
            )
        return np.where(np.abs(xs - sampler.loc) <= sampler.limit, 0.5 / sampler.limit, 0.0)
    z = (xs - sampler.loc) / sampler.std
    pdf = np.exp(-0.5 * z * z) / (sampler.std * _SQRT_2PI * sampler.W)
    return np.where((z >= sampler.a) & (z <= sampler.b), pdf, 0.0)


def density(spec: Spec, shape: Any, x: Any) -> np.ndarray[Any, Any]:
    """The probability density of ``spec``'s law for ``shape`` at ``x`` (float64, the shape of ``x``).

    The law is the one :func:`initializer_for` draws.

    Raises:
        InvalidArgumentError: the law has no per-element density (a constant;
            an orthogonal matrix, whose elements are not independent), or the
            shape is refused.

    Example:
        >>> import varscale as vs
        >>> spec = vs.parse("nn.init.kaiming_uniform_(w, a=math.sqrt(5))")
        >>> density(spec, (128, 64), [0.0, 0.2]).tolist()  # U(-1/8, 1/8) for fan_in = 64
        [4.0, 0.0]
    """
    dims = spec.check_shape(shape, drawing=True)
    init = initializer_for(spec, dims)
    if isinstance(init, Orthogonal):
        raise InvalidArgumentError(
            f"`spec` draws an orthogonal matrix, whose elements are not independent draws of one law: it has no "
            f"per-element density; received spec={spec.source or spec.call!r}."
        )
    return sampler_density(init.sampler(dims), x)
