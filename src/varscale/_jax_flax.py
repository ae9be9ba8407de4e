"""JAX keys and traces: a key's varscale seed, draws inside ``jax.jit``, and Flax's ``kernel_init=``.

:func:`key_seed` reads a JAX PRNG key as a varscale seed; under a trace the
key's words are read inside it and the values come from varscale's JAX engine
(:mod:`varscale._engine_jax`), with the host engines' bits. :func:`flax_init`
hands any initializer a rule accepts to Flax. Public through :mod:`varscale.jax`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

import jax
import numpy as np

from ._dtypes import resolve_dtype
from ._errors import InvalidArgumentError
from ._rules import FanError, ParamPlan, plan_param, resolve
from ._validation import check_shape
from .stream import Stream, derive_stream

__all__ = ["flax_init", "is_tracer", "key_seed", "traced_draw"]


def is_tracer(x: Any) -> bool:
    return isinstance(x, jax.core.Tracer)


def traced_error(what: str) -> InvalidArgumentError:
    return InvalidArgumentError(
        f"{what} is a JAX tracer (under jax.jit, vmap or eval_shape) and the initializer is orthogonal: its QR "
        f"step runs on the host (NumPy's LAPACK), which a trace cannot call, and the JAX engine draws per-element "
        f"laws only. Call it eagerly: outside jit, e.g. model.init(key, x) rather than jax.jit(model.init)(key, x)."
    )


def traced_draw(plan: ParamPlan, shape: tuple[int, ...], dtype: Any, key: Any, stream: int, what: str) -> Any:
    """``plan``'s values as a traced ``jax.Array`` by the JAX engine (the same bits as the host engines)."""
    import jax.numpy as jnp

    from ._engine_jax import draw as draw_jax

    if plan.constant is not None:
        return jnp.full(shape, plan.draw((), dtype, Stream(0, 0)), dtype=dtype)
    if plan.sampler is None:
        raise traced_error(what)
    return draw_jax(shape, dtype, plan.sampler, key, stream=stream)


# -- Flax's kernel_init= ---------------------------------------------------------------------------------------
def key_seed(key: Any) -> int:
    """The 64-bit varscale seed of a JAX PRNG key: its two threefry words ``(hi << 32) | lo``.

    A key with other than two words (``rbg``, ``unsafe_rbg``) is hashed: the
    first 8 bytes (little endian) of SHA-256 over its words.

    Example:
        >>> import jax
        >>> from varscale.jax import key_seed
        >>> key_seed(jax.random.key(3)), key_seed(jax.random.PRNGKey(3))
        (3, 3)
    """
    if is_tracer(key):
        raise InvalidArgumentError(
            "key_seed needs a concrete key; received a JAX tracer (under jax.jit, vmap or eval_shape). A traced "
            "key's words are read inside the trace by varscale's JAX engine (flax_init does so)."
        )
    try:
        data = jax.random.key_data(key)
    except (TypeError, ValueError):
        data = key
    words = np.asarray(data).astype(np.uint32).reshape(-1)
    if words.size == 2:
        return (int(words[0]) << 32) | int(words[1])
    return int.from_bytes(hashlib.sha256(words.astype("<u4").tobytes()).digest()[:8], "little")


def flax_init(init: Any, *, layout: Any = "tf") -> Callable[..., jax.Array]:
    """``init`` (any initializer a rule accepts) as a JAX/Flax initializer ``(key, shape, dtype) -> jax.Array``.

    Pass it as ``kernel_init=`` (or any ``*_init=``) of a Flax layer. The
    key's bits become the varscale seed: the values are those of
    ``vs.<Init>(seed=vs.derive_stream(key_seed(key), f"flax_init{shape}"))(shape,
    dtype)`` — the shape is folded in, and Flax passes each parameter a key of
    its own, so different parameters differ. The same key and shape give the
    same values on every device and backend.

    Eagerly the values are drawn on the host; under ``jax.jit``/``eval_shape``
    (a traced threefry key) by varscale's JAX engine, with the same bits, so
    ``jax.jit(model.init, out_shardings=...)`` works. Orthogonal (a host QR)
    and rbg keys are refused under a trace. Fans are the TF/Flax layout's
    unless ``init`` or ``layout`` says otherwise; Flax's DenseGeneral passes
    flat ``(in, out)`` shapes.

    Example:
        >>> import jax, jax.numpy as jnp, numpy as np
        >>> import flax.linen as nn
        >>> import varscale as vs
        >>> from varscale.jax import flax_init
        >>> layer = nn.Dense(8, kernel_init=flax_init(vs.HeNormal()), bias_init=flax_init(0.5))
        >>> params = layer.init(jax.random.key(0), jnp.ones((1, 16)))["params"]
        >>> params["kernel"].shape, float(params["bias"][0])
        ((16, 8), 0.5)
        >>> bool(jnp.all(flax_init("he_normal")(jax.random.key(1), (16, 8)) ==
        ...               flax_init("he_normal")(jax.random.key(1), (16, 8))))
        True
    """
    if getattr(init, "_stream", None) is not None:
        raise InvalidArgumentError(
            f"`init` {init!r} has its own seed; in flax_init the JAX key Flax passes decides the values. Drop "
            f"seed= from the initializer."
        )
    resolved = resolve(init, layout=layout, where="`init`")
    if resolved is None:
        raise TypeError("`init` must be an initializer; received init=None.")

    def initializer(key: Any, shape: Any, dtype: Any = None) -> jax.Array:
        dims = check_shape(tuple(shape) if isinstance(shape, (list, tuple)) else shape)
        out_dtype = resolve_dtype("float32" if dtype is None else dtype)[0]
        try:
            pp = plan_param(resolved, dims, layout)
        except FanError as err:
            raise InvalidArgumentError(f"flax_init: {err}; received shape={dims!r}.") from None
        name = f"flax_init{dims}"
        if is_tracer(key):
            words = jax.random.key_data(key) if jax.dtypes.issubdtype(key.dtype, jax.dtypes.prng_key) else key
            if words.shape[-1] != 2:
                raise InvalidArgumentError(
                    f"flax_init under jax.jit needs a threefry key (2 words); received a key of {words.shape[-1]} "
                    f"words (an rbg key): call it eagerly, or use the default key implementation."
                )
            # the JAX engine: seed = the key's words, stream id = derive_stream's for the name (the eager bits)
            return traced_draw(pp, dims, out_dtype, key, derive_stream(0, name).stream, "the key")
        return jax.numpy.asarray(pp.draw(dims, out_dtype, derive_stream(key_seed(key), name)))

    initializer.__qualname__ = initializer.__name__ = f"flax_init({getattr(resolved, '_label', None) or resolved!r})"
    return initializer
