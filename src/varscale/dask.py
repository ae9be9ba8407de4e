"""Dask arrays whose chunks are generated where they are computed.

``varscale.dask.array(init, shape)`` builds a Dask array with one task per
chunk; each task draws exactly its region of the full tensor from the
initializer's stream (``draw(..., region=chunk)``, DESIGN.md "The stream"), on
whichever thread, process or machine computes it. Nothing is drawn when the
graph is built, no chunk depends on another, and the values equal the
in-memory ``init(shape)`` bit for bit for every chunking, scheduler and
worker count.

Importing this module imports Dask (``pip install "dask[array]"``);
``import varscale`` does not.

Example:
    >>> import numpy as np
    >>> import varscale as vs
    >>> import varscale.dask as vsd
    >>> x = vsd.array(vs.HeNormal(seed=0), (1000, 300), chunks=(128, 100))
    >>> x.numblocks
    (8, 3)
    >>> bool((x.compute() == vs.HeNormal(seed=0)((1000, 300))).all())
    True
"""

from __future__ import annotations

from typing import Any

import dask.array as da
import numpy as np
from dask.base import tokenize

from ._dtypes import resolve_dtype
from ._errors import InvalidArgumentError
from ._generate import draw
from ._plan import Sampler
from ._validation import check_shape
from .io import check_initializer, fixed_stream
from .stream import Stream

__all__ = ["array"]


def _chunk(
    shape: tuple[int, ...],
    dtype: str,
    sampler: Sampler,
    stream: Stream,
    block_info: dict[Any, Any] | None = None,
) -> np.ndarray[Any, Any]:
    """One chunk: the region ``block_info[None]['array-location']`` of the full tensor."""
    if block_info is None:  # Dask passes it to every function with a block_info parameter
        raise RuntimeError("varscale.dask: a chunk task ran without Dask's block_info")
    location = block_info[None]["array-location"]
    region = tuple(slice(int(a), int(b)) for a, b in location)
    return draw(shape, dtype, sampler, stream, region=region)


def array(
    init: Any,
    shape: Any,
    dtype: Any = None,
    chunks: Any = "auto",
    seed: int | Stream | None = None,
) -> da.Array:
    """A Dask array equal to ``init(shape, dtype)``, each chunk drawn where it is computed.

    Args:
        init: a :class:`varscale.VarianceScaling` (or preset). Fans come from
            the full ``shape``.
        shape: the full tensor's shape.
        dtype: ``"float32"`` (None), ``"float64"``, ``"float16"`` or
            ``"bfloat16"``.
        chunks: any chunk specification Dask accepts (``"auto"``, an int, a
            tuple of ints or of tuples of block sizes).
        seed: an int or :class:`varscale.Stream` overriding the
            initializer's seed. When both are None, one fresh stream is drawn
            here for the whole array, so its chunks are slices of one tensor
            (computing the array twice gives the same values; building it
            twice does not).

    Returns:
        A ``dask.array.Array`` whose name is a deterministic token of the
        initializer's config, shape, dtype, chunks and stream.

    Example:
        >>> import varscale as vs
        >>> import varscale.dask as vsd
        >>> x = vsd.array(vs.GlorotUniform(), (64, 64), chunks=16, seed=vs.derive_stream(7, "w"))
        >>> y = vsd.array(vs.GlorotUniform(), (64, 64), chunks=32, seed=vs.derive_stream(7, "w"))
        >>> bool((x.compute() == y.compute()).all())
        True
    """
    check_initializer(init)
    dims = check_shape(shape)
    out_dtype = resolve_dtype(dtype)[0]
    stream = fixed_stream(init, seed)
    normal = _normalize_chunks(chunks, dims, out_dtype)
    sampler = init.sampler(dims)
    token = tokenize(type(init).__name__, init.get_config(), dims, out_dtype.name, normal, tuple(stream))
    name = f"varscale-{type(init).__name__.lower()}-{token}"
    return da.map_blocks(
        _chunk,
        dims,
        out_dtype.name,
        sampler,
        stream,
        name=name,
        chunks=normal,
        dtype=out_dtype,
        meta=np.empty((0,) * len(dims), dtype=out_dtype),
    )


def _normalize_chunks(chunks: Any, dims: tuple[int, ...], dtype: np.dtype[Any]) -> tuple[tuple[int, ...], ...]:
    """Dask's chunk normalisation, with a clear error for what Dask refuses or divides by."""
    allowed = (
        "allowed: 'auto', an int > 0 or -1, a byte-size string, or per axis an int > 0, -1, None or a tuple "
        "of chunk sizes summing to the axis"
    )
    try:
        normal = da.core.normalize_chunks(chunks, dims, dtype=dtype)
    except (ZeroDivisionError, ValueError, TypeError, AttributeError) as err:
        raise InvalidArgumentError(
            f"`chunks` is not a valid chunking of shape={dims!r}; received chunks={chunks!r} ({allowed})."
        ) from err
    if any(c <= 0 for axis, size in zip(normal, dims, strict=True) if size for c in axis):
        raise InvalidArgumentError(
            f"`chunks` must not contain empty chunks along a non-empty axis of shape={dims!r}; "
            f"received chunks={chunks!r} ({allowed})."
        )
    return tuple(tuple(int(c) for c in axis) for axis in normal)

