"""JAX ``jax.nn.initializers`` on varscale's stream.

Besides variance scaling (below), the module mirrors ``uniform(scale)``,
``normal(stddev)``, ``truncated_normal(stddev, dtype, lower, upper)``,
``orthogonal(scale, column_axis)`` and ``delta_orthogonal(scale,
column_axis)`` (drawn from varscale's stream, concrete or traced keys), and
the exact ``constant(value)``, ``zeros`` and ``ones``: JAX's signatures
``init(key, shape, dtype, out_sharding=None)``, JAX's dtype errors.

Mirrors ``jax/_src/nn/initializers.py`` of jax 0.10 (the code, not its
docstrings):

* ``variance_scaling(scale, mode, distribution, in_axis=-2, out_axis=-1,
  batch_axis=(), dtype=None)`` returns ``init(key, shape, dtype=dtype,
  out_sharding=None)``. Nothing is validated when it is built; at call time
  ``ValueError("invalid mode for variance scaling initializer: …")`` and
  ``ValueError("invalid distribution for variance scaling initializer: …")``,
  both case-sensitive.
* Modes ``"fan_in"``, ``"fan_out"``, ``"fan_avg"`` and ``"fan_geo_avg"``
  (``sqrt(fan_in·fan_out)``).
* Fans ``_compute_fans``: products over the named axes, ``rf =
  prod(shape)/in_size/out_size/batch_size`` in float division, so fans are
  floats, zero-size dimensions raise ``ZeroDivisionError`` (no ``max(1, n)``),
  overlapping axes are not rejected ((5,) with ``in_axis=out_axis=0`` has fans
  (1.0, 1.0)), and rank < 2 with the default ``in_axis=-2`` raises
  ``ValueError("Can't compute input and output sizes of a 1-dimensional
  weights tensor with default in_axis. …")``.
* The variance is rounded to the **target dtype** before the square root
  (``variance = jnp.array(scale/denominator, dtype)``), and the stddev /
  limit is computed in that dtype: in bfloat16, ``2/576`` becomes
  ``0.00347900`` (+0.195 %), exactly as JAX.
* ``"truncated_normal"``: ``σ' = sqrt(variance)/0.87962566103423978`` (in the
  dtype), cut at ``±2σ'``; ``"normal"`` is the **untruncated** ``N(0,
  variance)``; ``"uniform"`` is ``U(±sqrt(3·variance))``.
* Complex dtypes as JAX defines them: ``"uniform"`` is uniform on the disk of
  radius ``sqrt(2·variance)``; ``"normal"`` has real and imaginary parts each
  ``N(0, variance/2)``; ``"truncated_normal"`` has ``|z|² ~ Exp(1)``
  truncated to ``|z| ≤ 2`` with a uniform angle, divided by JAX's constant
  ``0.95311164380491208`` (the true std of that distribution is 0.9619618),
  so ``E|z|² = 1.0187 × variance``, reproduced on purpose. The radius and
  angle variates come from two varscale streams (the call's stream and one
  with a derived stream id).
* Integer dtypes raise JAX's ``ValueError("dtype argument to `uniform` must be
  a float dtype, got int32")`` (``normal``: "a float or complex dtype").
* ``scale`` is not checked: a negative scale gives NaN, as in JAX.
* Presets (``in_axis=-2, out_axis=-1, batch_axis=(), dtype=None``):
  ``glorot_uniform``/``xavier_uniform`` (1, fan_avg, uniform),
  ``glorot_normal``/``xavier_normal`` (1, fan_avg, truncated_normal),
  ``lecun_uniform``/``lecun_normal`` (1, fan_in, …), ``he_uniform``/
  ``kaiming_uniform`` and ``he_normal``/``kaiming_normal`` (2, fan_in, …).

**Keys.** ``key`` may be a JAX PRNG key (a typed key from ``jax.random.key`` or
a raw ``uint32`` key from ``jax.random.PRNGKey``), a ``uint32`` NumPy array of
2 or 4 words, or an int in ``[0, 2**64)``. The varscale seed is
``(w0 << 32) | w1`` from the key data words ``w``, and the stream id
``(w2 << 32) | w3`` for 4-word (``rbg``) keys, else 0. For threefry keys
``jax.random.PRNGKey(s)`` has data ``[s >> 32, s & 0xFFFFFFFF]``, so
``init(jax.random.PRNGKey(s), …)`` and ``init(s, …)`` give the same values
(for 0 ≤ s < 2**32, or any 64-bit s with ``jax_enable_x64``), and split keys
give unrelated streams. A traced key (inside ``jax.jit``, ``jax.eval_shape``,
``vmap``, Flax's ``init``/``apply``/``tabulate``, ``nnx.jit``) is handled by the
JAX engine (:mod:`varscale._engine_jax`): the same words, the same bits, a
``jax.Array`` (with ``out_sharding`` applied as a sharding constraint, so
``jax.jit(model.init, out_shardings=...)`` draws each shard on its device).

**Outputs.** NumPy arrays by default (importing this module does not import
jax). Pass ``as_jax=True`` to ``variance_scaling`` / a preset (or to one
``init`` call) to get a ``jax.Array``; ``out_sharding`` (a ``jax.sharding``)
places it with ``jax.device_put`` and implies ``as_jax``. The default dtype is
float32, or float64 when jax is imported with ``jax_enable_x64`` on. NumPy
has float64 even when JAX's x64 mode is off: ``dtype=float64`` then gives a
float64 NumPy array (JAX would truncate to float32 with a warning;
``as_jax=True`` hands the array to ``jnp.asarray``, which does).

The bits differ from JAX's (another generator; every value is rounded once
from float64); the formulas, fans, dtype rounding and errors are JAX's.

**One module, on purpose** (~850 lines): it is all of
``jax.nn.initializers`` (21 names), one file as JAX's is, so each function
reads side by side with JAX's; the conformance suite records the samplers
it builds through this module's names. What it shares with the other
facades is in :mod:`varscale.compat._kit`.

Example:
    >>> from varscale.compat.jax.nn import initializers
    >>> init = initializers.he_normal()
    >>> w = init(0, (3, 3, 64, 128))
    >>> w.shape, w.dtype.name
    ((3, 3, 64, 128), 'float32')
    >>> initializers._compute_fans((3, 3, 64, 128))
    (576.0, 1152.0)
"""

from __future__ import annotations

import math
import numbers
import operator
import sys
from collections.abc import Callable, Sequence
from typing import Any

import ml_dtypes
import numpy as np

from ...._dtypes import BFLOAT16
from ...._generate import draw
from ...._plan import Sampler, normal_sampler, uniform_sampler
from ....stream import Stream, derive_stream, resolve_seed
from ..._kit import PRESETS, TRUNC_STD_2, select_n

__all__ = [
    "Initializer",
    "NegativeDimensionError",
    "constant",
    "delta_orthogonal",
    "glorot_normal",
    "glorot_uniform",
    "he_normal",
    "he_uniform",
    "kaiming_normal",
    "kaiming_uniform",
    "lecun_normal",
    "lecun_uniform",
    "normal",
    "ones",
    "orthogonal",
    "truncated_normal",
    "uniform",
    "variance_scaling",
    "xavier_normal",
    "xavier_uniform",
    "zeros",
]

Initializer = Callable[..., Any]

#: JAX's constants: the std of N(0,1) truncated to ±2, and its (wrong) complex counterpart.
_TRUNC_STD = TRUNC_STD_2  # the one definition: varscale._math
_COMPLEX_TRUNC_STD = 0.95311164380491208
_NATIVE = {"float16", "bfloat16", "float32", "float64"}
_MODES = ("fan_in", "fan_out", "fan_avg", "fan_geo_avg")
#: Stream id offset of the second variate (angle / imaginary part) of complex samples.
_SECOND_ID = derive_stream(0, "varscale.compat.jax:complex").stream


class NegativeDimensionError(TypeError, ValueError):
    """A negative dimension in ``shape``.

    JAX raises ``TypeError`` ("Only non-negative indices are allowed when
    broadcasting static shapes, …") on its uniform path and an XLA error on
    others; this error is both a ``TypeError`` (JAX's type) and a
    ``ValueError`` (what shape validation raises elsewhere in varscale).
    """


def _compute_fans(
    shape: Sequence[int],
    in_axis: int | Sequence[int] = -2,
    out_axis: int | Sequence[int] = -1,
    batch_axis: int | Sequence[int] = (),
) -> tuple[float, float]:
    """Effective (fan_in, fan_out), as JAX's ``_compute_fans`` (floats, no clamp).

    Example:
        >>> from varscale.compat.jax.nn.initializers import _compute_fans
        >>> _compute_fans((8, 3, 4), batch_axis=0)
        (3.0, 4.0)
    """
    if isinstance(in_axis, int) and in_axis == -2 and len(shape) <= 1:
        raise ValueError(
            f"Can't compute input and output sizes of a {len(shape)}-dimensional"
            " weights tensor with default in_axis. Must be at least 2D or specify"
            " in_axis explicitly."
        )
    if isinstance(in_axis, int):
        in_size = shape[in_axis]
    else:
        in_size = math.prod([shape[i] for i in in_axis])
    if isinstance(out_axis, int):
        out_size = shape[out_axis]
    else:
        out_size = math.prod([shape[i] for i in out_axis])
    if isinstance(batch_axis, int):
        batch_size = shape[batch_axis]
    else:
        batch_size = math.prod([shape[i] for i in batch_axis])
    receptive_field_size = math.prod(shape) / in_size / out_size / batch_size
    fan_in = in_size * receptive_field_size
    fan_out = out_size * receptive_field_size
    return fan_in, fan_out


def _canonicalize_shape(shape: Any) -> tuple[int, ...]:
    try:
        if isinstance(shape, numbers.Integral):
            return (operator.index(shape),)
        dims = tuple(operator.index(d) for d in shape)
    except TypeError:
        raise TypeError(
            f"Shapes must be 1D sequences of concrete values of integer type, got {shape}."
        ) from None
    return dims


def _default_float() -> np.dtype[Any]:
    jax = sys.modules.get("jax")
    if jax is not None:
        try:
            if bool(jax.config.jax_enable_x64):
                return np.dtype(np.float64)
        except AttributeError:  # pragma: no cover - a partially imported jax
            pass
    return np.dtype(np.float32)


def _as_dtype(dtype: Any) -> np.dtype[Any]:
    if dtype is None:
        return _default_float()
    dt: np.dtype[Any] = BFLOAT16 if isinstance(dtype, str) and dtype == "bfloat16" else np.dtype(dtype)
    return dt


def _is_floating(dt: np.dtype[Any]) -> bool:
    if dt.kind == "f":
        return True
    if dt.kind == "V":
        try:
            ml_dtypes.finfo(dt)
        except (TypeError, ValueError):
            return False
        return True
    return False


def _key_stream(key: Any) -> Stream:
    """The varscale stream of a JAX key, raw key data or int (see the module docstring)."""
    if isinstance(key, (bool, np.bool_)):
        raise TypeError(f"`key` must be a JAX PRNG key or an int seed; received key={key!r}.")
    if isinstance(key, numbers.Integral):
        stream = resolve_seed(int(key), "key")
        assert stream is not None
        return stream
    data: Any = key
    if type(key).__module__.split(".")[0] in ("jax", "jaxlib"):
        import jax

        if jax.dtypes.issubdtype(key.dtype, jax.dtypes.prng_key):
            data = jax.random.key_data(key)
        try:
            data = np.asarray(data)
        except Exception as err:  # a tracer: JAX raises its own error types
            raise TypeError(
                "`key` must be a concrete JAX PRNG key; a traced key (inside jax.jit / vmap) "
                "cannot seed varscale, which generates on the host. Pass the key or an int "
                f"seed from outside the transformation. ({type(err).__name__}: {err})"
            ) from None
    elif isinstance(key, np.ndarray):
        data = key
    else:
        raise TypeError(
            f"`key` must be a JAX PRNG key, a uint32 key-data array or an int seed; "
            f"received an object of type {type(key).__name__}."
        )
    if data.dtype != np.uint32 or data.ndim != 1 or data.shape[0] not in (2, 4):
        raise TypeError(
            f"`key` must be a single PRNG key (2 or 4 uint32 words); received key data of "
            f"shape {tuple(data.shape)} and dtype {data.dtype}."
        )
    w = [int(v) for v in data]
    seed = (w[0] << 32) | w[1]
    stream_id = (w[2] << 32) | w[3] if len(w) == 4 else 0
    return Stream(seed, stream_id)


def _real_dtype(dt: np.dtype[Any]) -> np.dtype[Any]:
    return np.array(0, dt).real.dtype


class _Traced:
    """The stream of a traced key (inside ``jax.jit``/``eval_shape``/``vmap``): drawn by the JAX engine."""

    def __init__(self, key: Any) -> None:
        from ...._engine_jax import KeyWords, key_words

        self.key = KeyWords(key_words(key))


def _is_traced(key: Any) -> bool:
    if type(key).__module__.split(".")[0] not in ("jax", "jaxlib"):
        return False
    import jax

    return isinstance(key, jax.core.Tracer)


def _draw_real(shape: tuple[int, ...], dt: np.dtype[Any], sampler: Sampler, stream: Any) -> Any:
    name = "bfloat16" if dt == BFLOAT16 else dt.name
    if isinstance(stream, _Traced):
        from ...._engine_jax import draw as draw_jax

        if name not in _NATIVE:
            raise TypeError(f"under a JAX transformation varscale draws float16, bfloat16, float32 or float64; "
                            f"received dtype {name}.")
        return draw_jax(shape, name, sampler, stream.key)
    if name in _NATIVE:
        return draw(shape, name, sampler, stream)
    return draw(shape, "float32", sampler, stream).astype(dt)


def _unit_uniforms(shape: tuple[int, ...], stream: Any) -> tuple[np.ndarray, np.ndarray]:
    """Two float64 arrays of U(0, 1) variates: from the call's stream and a derived one."""
    if isinstance(stream, _Traced):
        raise TypeError("complex dtypes are not drawn under a JAX transformation (jit, eval_shape, vmap); "
                        "call the initializer with a concrete key.")
    unit = uniform_sampler(0.0, 1.0)
    u1 = draw(shape, "float64", unit, stream)
    u2 = draw(shape, "float64", unit, Stream(stream.seed, stream.stream ^ _SECOND_ID))
    return u1, u2


def _dtype_error(op: str, dt: np.dtype[Any]) -> ValueError:
    kinds = "a float dtype" if op == "uniform" else "a float or complex dtype"
    return ValueError(f"dtype argument to `{op}` must be {kinds}, got {dt.name}")


def _normal_or_nan(
    shape: tuple[int, ...], dt: np.dtype[Any], s: float, truncated: bool, stream: Any
) -> Any:
    if not math.isfinite(s):  # a negative scale: NaN, as JAX
        return np.full(shape, s, dtype=dt)
    sampler = normal_sampler(0.0, s, -2.0 * s, 2.0 * s) if truncated and s > 0 else normal_sampler(0.0, s)
    return _draw_real(shape, dt, sampler, stream)


def _sample(ratio: Any, distribution: Any, shape: tuple[int, ...], dt: np.dtype[Any], stream: Any) -> Any:
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        variance = np.array(ratio, dtype=dt)
        floating = _is_floating(dt)
        is_complex = dt.kind == "c"
        if distribution == "truncated_normal":
            if floating:
                stddev = np.sqrt(variance) / np.array(_TRUNC_STD, dt)
                return _normal_or_nan(shape, dt, float(stddev), True, stream)
            real = _real_dtype(dt)
            if not _is_floating(real):
                raise _dtype_error("uniform", real)
            cstd = complex(np.sqrt(variance) / np.array(_COMPLEX_TRUNC_STD, dt))
            u1, u2 = _unit_uniforms(shape, stream)
            t = (1.0 - math.exp(-4.0)) * u1
            z = np.sqrt(-np.log1p(-t)) * np.exp(1j * (2 * np.pi * u2))
            out: np.ndarray = (z * cstd).astype(dt)
            return out
        if distribution == "normal":
            if floating:
                return _normal_or_nan(shape, dt, float(np.sqrt(variance)), False, stream)
            if not is_complex:
                raise _dtype_error("normal", dt)
            cstd = complex(np.sqrt(variance))
            if isinstance(stream, _Traced):
                _unit_uniforms(shape, stream)  # raises: complex dtypes need a concrete key
            half = normal_sampler(0.0, math.sqrt(0.5))
            re = draw(shape, "float64", half, stream)
            im = draw(shape, "float64", half, Stream(stream.seed, stream.stream ^ _SECOND_ID))
            out = ((re + 1j * im) * cstd).astype(dt)
            return out
        if distribution == "uniform":
            if floating:
                limit = float(np.sqrt(3 * variance))
                if not math.isfinite(limit):
                    return np.full(shape, limit, dtype=dt)
                return _draw_real(shape, dt, uniform_sampler(-limit, limit), stream)
            real = _real_dtype(dt)
            if not _is_floating(real):
                raise _dtype_error("uniform", real)
            cstd = complex(np.sqrt(variance))
            u1, u2 = _unit_uniforms(shape, stream)
            z = np.sqrt(2 * u1) * np.exp(1j * (2 * np.pi * u2))
            disk: np.ndarray = (z * cstd).astype(dt)
            return disk
    raise ValueError(f"invalid distribution for variance scaling initializer: {distribution}")


def _finish(values: Any, as_jax: bool, out_sharding: Any, traced: bool = False) -> Any:
    if traced:
        import jax
        import jax.numpy as jnp

        arr = jnp.asarray(values)
        return arr if out_sharding is None else jax.lax.with_sharding_constraint(arr, out_sharding)
    if not as_jax and out_sharding is None:
        return values
    import jax
    import jax.numpy as jnp

    arr = jnp.asarray(values)
    if out_sharding is not None:
        arr = jax.device_put(arr, out_sharding)
    return arr


def variance_scaling(
    scale: Any,
    mode: str,
    distribution: str,
    in_axis: int | Sequence[int] = -2,
    out_axis: int | Sequence[int] = -1,
    batch_axis: int | Sequence[int] = (),
    dtype: Any = None,
    *,
    as_jax: bool = False,
) -> Initializer:
    """Build JAX's variance-scaling initializer, drawing from varscale's stream.

    Args:
        scale: scaling factor (not checked, as in JAX).
        mode: ``"fan_in"``, ``"fan_out"``, ``"fan_avg"`` or ``"fan_geo_avg"``.
        distribution: ``"truncated_normal"``, ``"normal"`` (untruncated) or
            ``"uniform"``.
        in_axis: axis or axes of the input dimension.
        out_axis: axis or axes of the output dimension.
        batch_axis: axes that count in neither fan.
        dtype: default dtype of the weights (float32 unless x64 is on).
        as_jax: varscale extension (keyword only): return ``jax.Array``
            instead of NumPy arrays.

    Returns:
        ``init(key, shape, dtype=dtype, out_sharding=None, *, as_jax=as_jax)``.

    Example:
        >>> from varscale.compat.jax.nn.initializers import variance_scaling
        >>> init = variance_scaling(1.0, "fan_geo_avg", "normal", in_axis=0, out_axis=1)
        >>> init(7, (100, 400)).shape
        (100, 400)
    """
    default_as_jax = as_jax

    def init(
        key: Any,
        shape: Any,
        dtype: Any = dtype,
        out_sharding: Any = None,
        *,
        as_jax: bool = default_as_jax,
    ) -> Any:
        dims = _canonicalize_shape(shape)
        dt = _as_dtype(dtype)
        fan_in, fan_out = _compute_fans(dims, in_axis, out_axis, batch_axis)
        if mode not in _MODES:  # case-sensitive, as JAX
            raise ValueError(f"invalid mode for variance scaling initializer: {mode}")
        ratio = scale / select_n(mode, fan_in, fan_out)  # JAX's ZeroDivisionError comes before any key check
        if any(d < 0 for d in dims):
            raise NegativeDimensionError(
                f"Only non-negative indices are allowed when broadcasting static shapes, but got shape {dims}."
            )
        if _is_traced(key):
            # inside jax.jit / eval_shape / vmap (Flax's init and apply): the stream in JAX ops, same bits
            return _finish(_sample(ratio, distribution, dims, dt, _Traced(key)), True, out_sharding, traced=True)
        stream = _key_stream(key)
        return _finish(_sample(ratio, distribution, dims, dt, stream), as_jax, out_sharding)

    return init


def _preset(name: str, doc_line: str) -> Callable[..., Initializer]:
    scale, mode, distribution = PRESETS[name]

    def preset(in_axis: int | Sequence[int] = -2, out_axis: int | Sequence[int] = -1,
               batch_axis: int | Sequence[int] = (), dtype: Any = None, *, as_jax: bool = False) -> Initializer:
        return variance_scaling(scale, mode, distribution, in_axis, out_axis, batch_axis, dtype, as_jax=as_jax)

    preset.__name__ = preset.__qualname__ = name
    preset.__doc__ = f"""{doc_line}

    ``variance_scaling({scale!r}, {mode!r}, {distribution!r}, in_axis, out_axis,
    batch_axis, dtype)``, as ``jax.nn.initializers.{name}``.

    Args:
        in_axis: axis or axes of the input dimension.
        out_axis: axis or axes of the output dimension.
        batch_axis: axes that count in neither fan.
        dtype: default dtype of the weights.
        as_jax: varscale extension (keyword only): return ``jax.Array``.

    Returns:
        ``init(key, shape, dtype=dtype, out_sharding=None)``.

    Example:
        >>> from varscale.compat.jax.nn import initializers
        >>> initializers.{name}()(0, (4, 5)).shape
        (4, 5)
    """
    return preset


glorot_uniform = _preset("glorot_uniform", "Glorot (Xavier) uniform.")
glorot_normal = _preset("glorot_normal", "Glorot (Xavier) truncated normal.")
lecun_uniform = _preset("lecun_uniform", "LeCun uniform.")
lecun_normal = _preset("lecun_normal", "LeCun truncated normal.")
he_uniform = _preset("he_uniform", "He (Kaiming) uniform.")
he_normal = _preset("he_normal", "He (Kaiming) truncated normal.")
xavier_uniform = glorot_uniform
xavier_normal = glorot_normal
kaiming_uniform = he_uniform
kaiming_normal = he_normal


# -- the rest of jax.nn.initializers: uniform / normal / truncated_normal / orthogonal / delta_orthogonal
# -- (varscale's stream, concrete or traced keys) and the exact constant / zeros / ones -------------------


def _float_only(op: str, dt: np.dtype[Any]) -> None:
    if not _is_floating(dt):
        raise ValueError(f"dtype argument to `{op}` must be a float dtype, got {dt.name}")


def _check_dims(dims: tuple[int, ...]) -> None:
    if any(d < 0 for d in dims):
        raise NegativeDimensionError(
            f"Only non-negative indices are allowed when broadcasting static shapes, but got shape {dims}."
        )


def _param(value: Any, dt: np.dtype[Any]) -> Any:
    """``jnp.array(value, dtype)`` as a Python number: the parameter rounded to the target dtype, as JAX."""
    with np.errstate(invalid="ignore", over="ignore"):
        arr = np.array(np.asarray(value), dtype=dt)
    return complex(arr) if dt.kind == "c" else float(arr)


def _stream_of(key: Any) -> Any:
    return _Traced(key) if _is_traced(key) else _key_stream(key)


#: ``prepare(dims, dt)`` of a drawing initializer: checks its parameters in the target dtype and returns
#: ``make(stream)``, the values.
_Prepare = Callable[[tuple[int, ...], np.dtype[Any]], Callable[[Any], Any]]


def _drawing(op: str, dtype: Any, as_jax: bool, prepare: _Prepare) -> Initializer:
    """``init(key, shape, dtype=dtype, out_sharding=None)`` of JAX's ``uniform`` / ``normal`` /
    ``truncated_normal``: JAX's dtype check (``normal`` takes complex dtypes too), the shape check, then the
    parameters (``prepare``), then the key, then the values."""
    default_as_jax = as_jax

    def init(key: Any, shape: Any, dtype: Any = dtype, out_sharding: Any = None, *,
             as_jax: bool = default_as_jax) -> Any:
        dims = _canonicalize_shape(shape)
        dt = _as_dtype(dtype)
        if op != "normal":
            _float_only(op, dt)
        elif not _is_floating(dt) and dt.kind != "c":
            raise _dtype_error("normal", dt)
        _check_dims(dims)
        make = prepare(dims, dt)
        stream = _stream_of(key)
        return _finish(make(stream), as_jax, out_sharding, traced=isinstance(stream, _Traced))

    return init


def uniform(scale: Any = 1e-2, dtype: Any = None, *, as_jax: bool = False) -> Initializer:
    """``jax.nn.initializers.uniform``: ``U[0, scale)`` (``random.uniform(key, shape, dtype) * scale``).

    ``scale`` is rounded to the target dtype first, as JAX's ``jnp.array(scale, dtype)``.

    Args:
        scale: the upper bound (a negative scale gives ``U(scale, 0]``, as JAX).
        dtype: default dtype (float32 unless x64 is on); floating only (JAX's ``ValueError``).
        as_jax: varscale extension (keyword only): return ``jax.Array``.

    Returns:
        ``init(key, shape, dtype=dtype, out_sharding=None)``.

    Example:
        >>> from varscale.compat.jax.nn import initializers
        >>> w = initializers.uniform(scale=0.5)(0, (1000,))
        >>> bool(w.min() >= 0.0 and w.max() <= 0.5)
        True
    """
    def prepare(dims: tuple[int, ...], dt: np.dtype[Any]) -> Callable[[Any], Any]:
        s = _param(scale, dt)
        sampler = uniform_sampler(min(0.0, s), max(0.0, s))
        return lambda stream: _draw_real(dims, dt, sampler, stream)

    return _drawing("uniform", dtype, as_jax, prepare)


def _complex_normal(dims: tuple[int, ...], stream: Any) -> np.ndarray[Any, Any]:
    """Standard complex normal in complex128: real and imaginary parts each ``N(0, 1/2)``, as JAX."""
    if isinstance(stream, _Traced):
        raise TypeError("complex dtypes are not drawn under a JAX transformation (jit, eval_shape, vmap); "
                        "call the initializer with a concrete key.")
    half = normal_sampler(0.0, math.sqrt(0.5))
    re = draw(dims, "float64", half, stream)
    im = draw(dims, "float64", half, Stream(stream.seed, stream.stream ^ _SECOND_ID))
    out: np.ndarray[Any, Any] = re + 1j * im
    return out


def normal(stddev: Any = 1e-2, dtype: Any = None, *, as_jax: bool = False) -> Initializer:
    """``jax.nn.initializers.normal``: ``N(0, stddev²)`` (``random.normal(key, shape, dtype) * stddev``).

    Complex dtypes as JAX: real and imaginary parts each ``N(0, stddev²/2)`` (from two varscale streams;
    concrete keys only).

    Args:
        stddev: the standard deviation (rounded to the dtype first, as JAX).
        dtype: default dtype; floating or complex (JAX's ``ValueError`` otherwise).
        as_jax: varscale extension (keyword only): return ``jax.Array``.

    Returns:
        ``init(key, shape, dtype=dtype, out_sharding=None)``.

    Example:
        >>> from varscale.compat.jax.nn import initializers
        >>> w = initializers.normal(stddev=0.02)(0, (512, 512))
        >>> round(float(w.std()), 3)
        0.02
    """
    def prepare(dims: tuple[int, ...], dt: np.dtype[Any]) -> Callable[[Any], Any]:
        s = _param(stddev, dt)
        if dt.kind == "c":
            return lambda stream: (_complex_normal(dims, stream) * s).astype(dt)
        return lambda stream: _draw_real(dims, dt, normal_sampler(0.0, abs(s)), stream)

    return _drawing("normal", dtype, as_jax, prepare)


def truncated_normal(
    stddev: Any = 1e-2, dtype: Any = None, lower: Any = -2.0, upper: Any = 2.0, *, as_jax: bool = False
) -> Initializer:
    """``jax.nn.initializers.truncated_normal``: ``stddev · z``, ``z`` a standard normal truncated to
    ``[lower, upper]``.

    As JAX, ``stddev`` scales the truncated variate (the realized std is ``0.88·stddev`` for the default
    ±2 cut). Drawn by exact inverse-CDF truncation.

    Args:
        stddev: the scale (rounded to the dtype first, as JAX).
        dtype: default dtype; floating only (JAX's ``ValueError``).
        lower: lower bound of ``z``, in standard deviations.
        upper: upper bound of ``z``, in standard deviations.
        as_jax: varscale extension (keyword only): return ``jax.Array``.

    Returns:
        ``init(key, shape, dtype=dtype, out_sharding=None)``.

    Example:
        >>> from varscale.compat.jax.nn import initializers
        >>> w = initializers.truncated_normal(stddev=1.0, lower=-1.0, upper=0.5)(0, (1000,))
        >>> bool(w.min() >= -1.0 and w.max() <= 0.5)
        True
    """
    def prepare(dims: tuple[int, ...], dt: np.dtype[Any]) -> Callable[[Any], Any]:
        s = _param(stddev, dt)
        lo, hi = float(lower), float(upper)
        if s < 0:  # stddev · z with z in [lo, hi] is |stddev| · z' with z' in [-hi, -lo]
            lo, hi = -hi, -lo
        a = abs(s)
        sampler = normal_sampler(0.0, 0.0) if a == 0.0 else normal_sampler(0.0, a, lo * a, hi * a)
        return lambda stream: _draw_real(dims, dt, sampler, stream)

    return _drawing("truncated_normal", dtype, as_jax, prepare)


def _orthogonal_values(key: Any, dims: tuple[int, ...], dt: np.dtype[Any], scale: Any, column_axis: int) -> Any:
    """JAX's orthogonal initializer body: ``(values, traced)``."""
    if not _is_floating(dt) and dt.kind != "c":
        raise _dtype_error("normal", dt)
    if len(dims) < 2:
        raise ValueError("orthogonal initializer requires at least a 2D shape")
    _check_dims(dims)
    traced = _is_traced(key)
    if any(d == 0 for d in dims):
        return np.zeros(dims, dtype=dt), traced
    n_cols = dims[column_axis]
    n_rows = math.prod(dims) // n_cols
    rest = (*(int(d) for d in np.delete(np.array(dims), column_axis)), n_cols)
    s = _param(scale, dt)
    big, small = max(n_rows, n_cols), min(n_rows, n_cols)
    if traced:
        import jax.numpy as jnp

        from ...._engine_jax import draw as draw_jax

        name = "bfloat16" if dt == BFLOAT16 else dt.name
        if name not in _NATIVE:
            raise TypeError(f"under a JAX transformation varscale draws float16, bfloat16, float32 or float64; "
                            f"received dtype {name}.")
        # the Gaussian matrix from the engine (the stream's bits, in the target dtype); QR by jnp.linalg.qr
        z = draw_jax((big, small), name, normal_sampler(0.0, 1.0), _Traced(key).key)
        q, r = jnp.linalg.qr(z)
        q = q * jnp.expand_dims(jnp.sign(jnp.diagonal(r)), -2)
        if n_rows < n_cols:
            q = q.T
        q = jnp.moveaxis(jnp.reshape(q, tuple(int(d) for d in rest)), -1, column_axis)
        return jnp.array(s, q.dtype) * q, True
    stream = _key_stream(key)
    if dt.kind == "c":
        z = _complex_normal((big, small), stream)
        q, r = np.linalg.qr(z)
        d = np.diagonal(r)
        with np.errstate(invalid="ignore", divide="ignore"):
            phase = np.where(d == 0, 0, d / np.abs(d))
        q = q * phase[None, :]
        if n_rows < n_cols:
            q = q.T
        q = np.moveaxis(q.reshape(rest), -1, column_axis)
        return (s * q).astype(dt), False
    from ...._basic import round_float64

    # the Gaussian matrix in the target dtype (the same values a traced key draws), QR in float64
    z = np.asarray(_draw_real((big, small), dt, normal_sampler(0.0, 1.0), stream), dtype=np.float64)
    q, r = np.linalg.qr(z)
    q = q * np.sign(np.diagonal(r))[None, :]
    if n_rows < n_cols:
        q = q.T
    q = np.moveaxis(q.reshape(rest), -1, column_axis)
    name = "bfloat16" if dt == BFLOAT16 else dt.name
    if name in _NATIVE:
        return round_float64(s * q, name), False
    return (s * q).astype(dt), False


def orthogonal(scale: Any = 1.0, column_axis: int = -1, dtype: Any = None, *, as_jax: bool = False) -> Initializer:
    """``jax.nn.initializers.orthogonal``: ``scale`` times a (semi-)orthogonal matrix.

    As JAX: the shape is ``(n_rows, n_cols)`` with ``n_cols = shape[column_axis]``; a standard normal matrix
    of shape ``(max, min)`` is factorized by QR, ``Q`` takes the signs of ``diag(R)`` (the phases, for
    complex dtypes) and is transposed when ``n_rows < n_cols``, then reshaped with the column axis moved
    back to ``column_axis``. As JAX, the Gaussian matrix is drawn in ``dtype`` (from varscale's stream: the
    same bits for a concrete key and, under ``jax.jit``, a traced one). With a concrete key it is
    factorized by ``numpy.linalg.qr`` in float64 and rounded once to ``dtype``; with a traced key by
    ``jnp.linalg.qr`` in ``dtype`` (Q agrees to the dtype's precision). ``out_sharding`` raises
    ``NotImplementedError``, as in JAX.

    Args:
        scale: the gain.
        column_axis: the axis holding the columns.
        dtype: default dtype; floating or complex (complex with a concrete key only).
        as_jax: varscale extension (keyword only): return ``jax.Array``.

    Returns:
        ``init(key, shape, dtype=dtype, out_sharding=None)``.

    Example:
        >>> import numpy as np
        >>> from varscale.compat.jax.nn import initializers
        >>> q = initializers.orthogonal()(0, (8, 4), "float64")
        >>> bool(np.allclose(q.T @ q, np.eye(4)))
        True
    """
    return _matrix_init(dtype, as_jax, lambda key, dims, dt: _orthogonal_values(key, dims, dt, scale, column_axis))


def delta_orthogonal(scale: Any = 1.0, column_axis: int = -1, dtype: Any = None, *,
                     as_jax: bool = False) -> Initializer:
    """``jax.nn.initializers.delta_orthogonal``: an orthogonal matrix at the kernel's spatial center.

    For 3-D, 4-D and 5-D shapes ``(*spatial, in, out)`` with ``in <= out``: zeros everywhere except
    ``W[(k-1)//2, ...]`` (each spatial axis), which is :func:`orthogonal` ``(scale, column_axis)`` of
    ``shape[-2:]`` drawn with the same key (Xiao et al., 2018).

    Raises:
        ValueError: JAX's messages for the rank and for ``in > out``.

    Example:
        >>> import numpy as np
        >>> from varscale.compat.jax.nn import initializers
        >>> w = initializers.delta_orthogonal()(0, (3, 3, 4, 4), "float64")
        >>> bool(np.allclose(w[1, 1].T @ w[1, 1], np.eye(4))), float(abs(w[0]).max())
        (True, 0.0)
    """
    def build(key: Any, dims: tuple[int, ...], dt: np.dtype[Any]) -> tuple[Any, bool]:
        if len(dims) not in (3, 4, 5):
            raise ValueError("Delta orthogonal initializer requires a 3D, 4D or 5D shape.")
        if dims[-1] < dims[-2]:
            raise ValueError("`fan_in` must be less or equal than `fan_out`. ")
        ortho, traced = _orthogonal_values(key, dims[-2:], dt, scale, column_axis)
        center = tuple((k - 1) // 2 for k in dims[:-2])
        if traced:
            import jax.numpy as jnp

            return jnp.zeros(dims, dtype=ortho.dtype).at[center].set(ortho), True
        w = np.zeros(dims, dtype=dt)
        w[center] = ortho
        return w, False

    return _matrix_init(dtype, as_jax, build)


def _matrix_init(dtype: Any, as_jax: bool,
                 build: Callable[[Any, tuple[int, ...], np.dtype[Any]], tuple[Any, bool]]) -> Initializer:
    """``init(key, shape, dtype=dtype, out_sharding=None)`` of JAX's ``orthogonal`` / ``delta_orthogonal``:
    ``out_sharding`` raises ``NotImplementedError`` (as JAX); ``build(key, dims, dt)`` gives
    ``(values, traced)``."""
    default_as_jax = as_jax

    def init(key: Any, shape: Any, dtype: Any = dtype, out_sharding: Any = None, *,
             as_jax: bool = default_as_jax) -> Any:
        if out_sharding is not None:
            raise NotImplementedError
        values, traced = build(key, _canonicalize_shape(shape), _as_dtype(dtype))
        return _finish(values, as_jax, None, traced=traced)

    return init


def _exact(key: Any, dims: tuple[int, ...], values: np.ndarray[Any, Any], as_jax: bool, out_sharding: Any) -> Any:
    return _finish(values, as_jax, out_sharding, traced=_is_traced(key))


def constant(value: Any, dtype: Any = None, *, as_jax: bool = False) -> Initializer:
    """``jax.nn.initializers.constant``: ``jnp.full(shape, value, dtype)`` (exact; the key is unused).

    Args:
        value: a scalar or an array broadcastable to the shape.
        dtype: default dtype (float32 unless x64 is on); any dtype.
        as_jax: varscale extension (keyword only): return ``jax.Array``.

    Returns:
        ``init(key, shape, dtype=dtype, out_sharding=None)``.

    Example:
        >>> from varscale.compat.jax.nn import initializers
        >>> initializers.constant(-7)(0, (2, 3)).tolist()
        [[-7.0, -7.0, -7.0], [-7.0, -7.0, -7.0]]
    """
    default_as_jax = as_jax

    def init(key: Any, shape: Any, dtype: Any = dtype, out_sharding: Any = None, *,
             as_jax: bool = default_as_jax) -> Any:
        dims = _canonicalize_shape(shape)
        _check_dims(dims)
        dt = _as_dtype(dtype)
        return _exact(key, dims, np.full(dims, np.asarray(value), dtype=dt), as_jax, out_sharding)

    return init


def zeros(key: Any, shape: Any, dtype: Any = None, out_sharding: Any = None, *, as_jax: bool = False) -> Any:
    """``jax.nn.initializers.zeros``: an array of zeros (the key is unused).

    Example:
        >>> from varscale.compat.jax.nn import initializers
        >>> initializers.zeros(0, (2,)).tolist()
        [0.0, 0.0]
    """
    dims = _canonicalize_shape(shape)
    _check_dims(dims)
    return _exact(key, dims, np.zeros(dims, dtype=_as_dtype(dtype)), as_jax, out_sharding)


def ones(key: Any, shape: Any, dtype: Any = None, out_sharding: Any = None, *, as_jax: bool = False) -> Any:
    """``jax.nn.initializers.ones``: an array of ones (the key is unused).

    Example:
        >>> from varscale.compat.jax.nn import initializers
        >>> initializers.ones(0, (2,), "int32").tolist()
        [1, 1]
    """
    dims = _canonicalize_shape(shape)
    _check_dims(dims)
    return _exact(key, dims, np.ones(dims, dtype=_as_dtype(dtype)), as_jax, out_sharding)
