"""Region plans: the one way a tensor is split into exact slices, and the one stream it is drawn from.

Every writer (``varscale.io``), ``varscale.dask`` and the framework helpers
(``varscale.torch``, ``varscale.jax``) draw a tensor as C-order regions of
about ``chunk_elems`` elements (:func:`regions`), each an exact slice of the
full tensor drawn from one fixed stream (:func:`fixed_stream`). This module
imports no writer and no framework, so any of them may import it.

Example:
    >>> list(regions((2, 3), 3))
    [((slice(0, 1, None), slice(None, None, None)), 3), ((slice(1, 2, None), slice(None, None, None)), 3)]
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from ._basic import BasicInitializer, Orthogonal
from ._errors import InvalidArgumentError
from ._initializer import VarianceScaling, seed_from_config
from .stream import Stream, fresh_stream, resolve_seed

__all__ = [
    "Progress",
    "check_chunk_elems",
    "check_initializer",
    "check_progress",
    "fixed_stream",
    "le_bytes",
    "regions",
    "run_layout",
]

#: ``progress(done, total)`` in elements
Progress = Callable[[int, int], None]


def fixed_stream(init: Any, seed: Any = None, argument: str = "init") -> Stream:
    """The one stream a whole tensor is drawn from, whichever part is drawn where.

    ``seed`` (an int or a :class:`~varscale.Stream`) overrides the
    initializer's; an initializer built with ``seed=None`` gets one fresh
    stream here, drawn once, so that every region is a slice of the same
    tensor. The initializer's own stream is read from its public ``seed``
    attribute (what ``get_config()`` records), never from a private one.

    Example:
        >>> import varscale as vs
        >>> fixed_stream(vs.HeNormal(seed=vs.Stream(3, 4)))
        Stream(seed=3, stream=4)
        >>> fixed_stream(vs.HeNormal(seed=3), seed=5)
        Stream(seed=5, stream=0)
    """
    check_initializer(init, argument)
    stream = resolve_seed(seed)
    if stream is not None:
        return stream
    own = resolve_seed(seed_from_config(init.seed), f"{argument}.seed")
    return own if own is not None else fresh_stream()


def check_initializer(init: Any, argument: str = "init") -> VarianceScaling | BasicInitializer:
    """Refuse anything but an initializer of a per-element law: a :class:`~varscale.VarianceScaling` (presets
    included) or a standard one (:class:`~varscale.Normal`, :class:`~varscale.TruncatedNormal`,
    :class:`~varscale.Uniform`, :class:`~varscale.Constant`); :class:`~varscale.Orthogonal` needs the whole matrix."""
    if not isinstance(init, (VarianceScaling, BasicInitializer)) or isinstance(init, Orthogonal):
        raise TypeError(
            f"`{argument}` must be a varscale.VarianceScaling (or a preset such as vs.HeNormal) or a standard "
            f"initializer of a per-element law (vs.Normal, vs.TruncatedNormal, vs.Uniform, vs.Constant); "
            f"received {argument}={init!r} of type {type(init).__name__}."
        )
    return init


def check_chunk_elems(chunk_elems: Any) -> int:
    """A positive int (elements per region), else :class:`~varscale.InvalidArgumentError`."""
    if isinstance(chunk_elems, bool) or not isinstance(chunk_elems, int) or chunk_elems < 1:
        raise InvalidArgumentError(
            f"`chunk_elems` must be a positive int (elements per region written); received chunk_elems={chunk_elems!r}."
        )
    return chunk_elems


def check_progress(progress: Any) -> Progress | None:
    """None or a callable ``progress(done, total)``, else :class:`TypeError`."""
    if progress is not None and not callable(progress):
        raise TypeError(f"`progress` must be None or a callable(done, total); received progress={progress!r}.")
    return progress  # type: ignore[no-any-return]


def run_layout(shape: tuple[int, ...], chunk_elems: int) -> tuple[int, int, int]:
    """``(k, inner, step)`` of :func:`regions`: the axis the runs go along, the elements under one of its
    indices, and its indices per run."""
    k = len(shape) - 1
    while k > 0 and math.prod(shape[k:]) <= chunk_elems:
        k -= 1
    inner = math.prod(shape[k + 1:])
    return k, inner, max(1, chunk_elems // inner)


def regions(shape: tuple[int, ...], chunk_elems: int) -> Iterator[tuple[tuple[slice, ...], int]]:
    """Split ``shape`` into C-order-contiguous regions of about ``chunk_elems`` elements, in C order.

    Yields ``(region, number of elements)``. A region holds at most
    ``chunk_elems`` elements unless one run of the innermost axes alone is
    larger (then it is that run: at least one element of one axis).

    Each region fixes the leading axes to one index each, takes a run along
    one axis and all of the trailing axes, so written one after the other the
    regions give the tensor's bytes in C order.

    Example:
        >>> [n for _, n in regions((5, 4), 8)]
        [8, 8, 4]
    """
    if math.prod(shape) == 0:
        return
    if not shape:
        yield (), 1
        return
    k, inner, step = run_layout(shape, chunk_elems)
    tail = tuple(slice(None) for _ in shape[k + 1:])
    for lead in np.ndindex(*shape[:k]):
        head = tuple(slice(int(i), int(i) + 1) for i in lead)
        for a in range(0, shape[k], step):
            b = min(a + step, shape[k])
            yield (*head, slice(a, b), *tail), (b - a) * inner


def le_bytes(block: np.ndarray[Any, Any]) -> memoryview:
    """The little-endian C-order bytes of ``block`` (a view where it is already contiguous)."""
    arr = np.ascontiguousarray(block)
    if sys.byteorder == "big":  # pragma: no cover - every supported platform is little endian
        arr = arr.byteswap()
    return arr.reshape(-1).view(np.uint8).data
