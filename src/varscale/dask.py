"""Dask arrays whose chunks are generated where they are computed.

``varscale.dask.array(init, shape)`` builds a Dask array with one task per
chunk; each task draws exactly its region of the full tensor from the
initializer's stream (``draw(..., region=chunk)``, docs/stream.md), on
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

import math
from typing import Any

import dask.array as da
import numpy as np
from dask.base import tokenize

from ._dtypes import resolve_dtype
from ._errors import InvalidArgumentError
from ._generate import draw, resolve_engine
from ._plan import Sampler
from ._regions import check_initializer, fixed_stream
from ._validation import check_shape
from ._workers import worker_threads
from .stream import Stream

__all__ = ["array"]


def _chunk(
    shape: tuple[int, ...],
    dtype: str,
    sampler: Sampler,
    stream: Stream,
    engine: str | None = None,
    block_info: dict[Any, Any] | None = None,
) -> np.ndarray[Any, Any]:
    """One chunk: the region ``block_info[None]['array-location']`` of the full tensor."""
    if block_info is None:  # Dask passes it to every function with a block_info parameter
        raise RuntimeError("varscale.dask: a chunk task ran without Dask's block_info")
    location = block_info[None]["array-location"]
    region = tuple(slice(int(a), int(b)) for a, b in location)
    with worker_threads(engine):  # on a dask.distributed worker: its share of the worker's threads
        return draw(shape, dtype, sampler, stream, region=region, engine=engine)


def array(
    init: Any,
    shape: Any,
    dtype: Any = None,
    chunks: Any = "auto",
    seed: int | Stream | None = None,
    engine: str | None = None,
) -> da.Array:
    """A Dask array equal to ``init(shape, dtype)``, each chunk drawn where it is computed.

    Args:
        init: a :class:`varscale.VarianceScaling` (or preset; fans come from
            the full ``shape``) or a standard initializer of a per-element law
            (:class:`varscale.Normal`, ``TruncatedNormal``, ``Uniform``, ``Constant``).
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
        engine: ``"numba"`` or ``"numpy"`` draws every chunk (None: the
            default engine); the bits are the same on every engine.

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
        engine if engine is None else resolve_engine(engine),
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
    _check_chunk_count(chunks, dims, dtype)
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



#: Most chunks :func:`array` builds a graph for. Dask holds about 1.3 KiB per chunk of this graph
#: (100 000 chunks: ~130 MiB and ~5 s to build), so a million chunks is already ~1.3 GiB.
MAX_CHUNKS = 1_000_000


def _planned_blocks(chunks: Any, dims: tuple[int, ...], dtype: np.dtype[Any]) -> tuple[list[int], int]:
    """Blocks per axis that ``chunks`` asks for, and a lower bound on the total, before Dask builds them.

    Ints, ``-1``/``None`` and explicit tuples are counted exactly; ``"auto"``
    and byte sizes (``"16MiB"``) give at least ``nbytes / chunk-size`` chunks.
    Anything else counts 1 here and is left to Dask's own checks.
    """
    n = len(dims)
    if isinstance(chunks, dict):
        per_axis = [chunks.get(i, chunks.get(i - n, -1)) for i in range(n)]
    elif isinstance(chunks, (tuple, list)) and len(chunks) == n:
        per_axis = list(chunks)
    else:
        per_axis = [chunks] * n
    blocks: list[int] = []
    strings = []
    for dim, c in zip(dims, per_axis, strict=True):
        if isinstance(c, (int, np.integer)) and not isinstance(c, (bool, np.bool_)) and c > 0:
            blocks.append(-(-dim // int(c)) if dim else 1)
        elif isinstance(c, (tuple, list)):
            blocks.append(max(1, len(c)))
        else:
            blocks.append(1)
            if isinstance(c, str):
                strings.append(c)
    bound = math.prod(blocks)
    if strings and len(strings) == n:  # every axis sized by bytes: each chunk holds at most the limit
        from dask import config
        from dask.utils import parse_bytes

        try:
            limit = min(parse_bytes(config.get("array.chunk-size") if s == "auto" else s) for s in strings)
        except (ValueError, TypeError, KeyError):
            return blocks, bound  # Dask says what is wrong with the string
        if limit > 0:
            bound = max(bound, -(-math.prod(dims) * dtype.itemsize // limit))
    return blocks, bound


def _check_chunk_count(chunks: Any, dims: tuple[int, ...], dtype: np.dtype[Any]) -> None:
    """Refuse, before Dask builds anything, a chunking of more than :data:`MAX_CHUNKS` chunks."""
    blocks, bound = _planned_blocks(chunks, dims, dtype)
    if bound > MAX_CHUNKS or max(blocks, default=1) > MAX_CHUNKS:
        exact = bound == math.prod(blocks)
        what = f"{bound} chunks ({' x '.join(map(str, blocks))} blocks per axis)" if exact else (
            f"at least {bound} chunks of at most the chunk size")
        raise InvalidArgumentError(
            f"`chunks` gives {what} for shape={dims!r}, "
            f"more than the {MAX_CHUNKS} varscale.dask builds a task graph for (about 1.3 KiB of memory each); "
            f"received chunks={chunks!r}: use larger chunks."
        )
