"""Sharded JAX arrays whose shards are generated on (and for) each device.

``varscale.jax.sharded(init, shape, sharding)`` calls
``jax.make_array_from_callback``: for each addressable device JAX asks for
the index (a tuple of slices) of that device's shard, and varscale draws
exactly that region of the full tensor (DESIGN.md "The stream"). No device
and no host ever holds the whole tensor, and the result equals the unsharded
``init(shape)`` bit for bit for every mesh and partition spec (replicated
axes draw the same values on each replica). Multi-host: each process draws
its own addressable shards only.

Importing this module imports JAX (``pip install jax``); ``import varscale``
does not.

Example:
    >>> import jax, numpy as np
    >>> from jax.sharding import Mesh, NamedSharding, PartitionSpec as P
    >>> import varscale as vs
    >>> from varscale.jax import sharded
    >>> mesh = Mesh(np.array(jax.devices()[:1]), ("x",))
    >>> w = sharded(vs.HeNormal(seed=0), (64, 32), NamedSharding(mesh, P("x", None)))
    >>> bool((np.asarray(w) == vs.HeNormal(seed=0)((64, 32))).all())
    True
"""

from __future__ import annotations

from typing import Any

import jax
import numpy as np

from ._dtypes import resolve_dtype
from ._errors import InvalidArgumentError
from ._generate import draw
from ._validation import check_shape
from .io import check_initializer, fixed_stream
from .stream import Stream

__all__ = ["sharded"]


def _region(index: Any, shape: tuple[int, ...]) -> tuple[slice, ...]:
    """JAX's shard index (slices, possibly open, possibly fewer than the axes) as explicit slices."""
    out = []
    for axis, n in enumerate(shape):
        s = index[axis] if axis < len(index) else slice(None)
        start, stop, step = s.indices(n)
        if step != 1:  # pragma: no cover - JAX shards are contiguous
            raise InvalidArgumentError(f"varscale.jax: a shard index with step {step} is not supported: {index!r}.")
        out.append(slice(start, stop))
    return tuple(out)


def sharded(
    init: Any,
    shape: Any,
    sharding: jax.sharding.Sharding,
    dtype: Any = None,
    seed: int | Stream | None = None,
) -> jax.Array:
    """A ``jax.Array`` equal to ``init(shape, dtype)``, laid out by ``sharding``, each shard drawn for its device.

    Args:
        init: a :class:`varscale.VarianceScaling` (or preset); fans come from
            the full ``shape`` (``layout="tf"`` matches JAX/Flax kernels).
        shape: the full (global) shape.
        sharding: any ``jax.sharding.Sharding`` (``NamedSharding``,
            ``SingleDeviceSharding``, ``PositionalSharding``…).
        dtype: ``"float32"`` (None), ``"float64"`` (needs
            ``jax_enable_x64``), ``"float16"`` or ``"bfloat16"``.
        seed: an int or :class:`varscale.Stream` overriding the
            initializer's; with both None one fresh stream is drawn for the
            whole array.

    Returns:
        The global ``jax.Array``.

    Example:
        >>> import jax, numpy as np
        >>> from jax.sharding import Mesh, NamedSharding, PartitionSpec as P
        >>> import varscale as vs
        >>> from varscale.jax import sharded
        >>> mesh = Mesh(np.array(jax.devices()[:1]).reshape(1, 1), ("data", "model"))
        >>> w = sharded(vs.GlorotUniform(), (16, 8), NamedSharding(mesh, P(None, "model")), seed=3)
        >>> w.shape, str(w.dtype)
        ((16, 8), 'float32')
    """
    check_initializer(init)
    dims = check_shape(shape)
    out_dtype = resolve_dtype(dtype)[0]
    if not isinstance(sharding, jax.sharding.Sharding):
        raise TypeError(
            f"`sharding` must be a jax.sharding.Sharding (NamedSharding, SingleDeviceSharding, ...); "
            f"received sharding={sharding!r}."
        )
    stream = fixed_stream(init, seed)
    sampler = init.sampler(dims)

    def shard(index: Any) -> np.ndarray[Any, Any]:
        return draw(dims, out_dtype, sampler, stream, region=_region(index, dims))

    return jax.make_array_from_callback(dims, sharding, shard, dtype=out_dtype)
