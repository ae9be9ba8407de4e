"""safetensors files written by hand, region by region: the header, the tensors' order, one file.

The format: an 8-byte little-endian header length, the JSON header (dtype
``F16``/``BF16``/``F32``/``F64``, shape, data_offsets, optional
``__metadata__``) padded with spaces to 8-byte alignment, then each tensor's
little-endian C-order bytes, larger dtypes first, then by name, as the
safetensors library lays them out. Nothing beyond NumPy is needed.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ._errors import InvalidArgumentError
from ._files import atomic_output, check_space, check_target
from ._provenance import PROVENANCE_KEY, dumps, make_record
from ._regions import Progress, check_chunk_elems, check_progress
from ._sources import Counter, Source, describe, short, write_sources

__all__ = ["INDEX_NAME", "ST_DTYPES", "ST_RANK", "check_metadata", "check_tensors", "safetensors_header", "st_order",
           "write_safetensors"]

#: the index of a sharded checkpoint, as Hugging Face names it
INDEX_NAME = "model.safetensors.index.json"

#: safetensors' dtype names, ordered as safetensors orders tensors (larger first).
ST_DTYPES = {"float64": "F64", "float32": "F32", "bfloat16": "BF16", "float16": "F16"}
ST_RANK = {"float16": 0, "bfloat16": 1, "float32": 2, "float64": 3}


def st_order(sources: list[Source]) -> list[Source]:
    """``sources`` in the order the safetensors library lays tensors out: larger dtypes first, then by name."""
    return sorted(sources, key=lambda s: (-ST_RANK[s.dtype.name], s.name))


def safetensors_header(sources: list[Source], metadata: dict[str, str] | None) -> bytes:
    """The 8-byte length and the padded JSON header of ``sources`` in that order."""
    header: dict[str, Any] = {}
    if metadata is not None:
        header["__metadata__"] = metadata
    offset = 0
    for s in sources:
        nbytes = s.size * s.dtype.itemsize
        header[s.name] = {"dtype": ST_DTYPES[s.dtype.name], "shape": list(s.shape),
                          "data_offsets": [offset, offset + nbytes]}
        offset += nbytes
    raw = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    raw += b" " * (-len(raw) % 8)
    return len(raw).to_bytes(8, "little") + raw


def check_tensors(tensors: Any, engine: str | None = None) -> list[Source]:
    """``tensors`` (``name -> (source, shape, dtype)``) as sources, each checked."""
    if not isinstance(tensors, Mapping):
        raise TypeError(
            f"`tensors` must be a mapping name -> (initializer, shape, dtype); received tensors={short(tensors)}."
        )
    sources: list[Source] = []
    for name, entry in tensors.items():
        if not isinstance(name, str) or not name or name == "__metadata__":
            raise InvalidArgumentError(
                f"`tensors` keys must be non-empty strings other than '__metadata__'; received key {name!r}."
            )
        if not isinstance(entry, tuple) or len(entry) != 3:
            raise TypeError(
                f"`tensors[{name!r}]` must be a tuple (initializer, shape, dtype); received {short(entry)}."
            )
        source, shape, dtype = entry
        src = Source(name, source, shape, dtype, engine)
        if src.dtype.name not in ST_DTYPES:  # pragma: no cover - resolve_dtype admits only these
            raise InvalidArgumentError(f"tensor {name!r}: dtype {src.dtype.name!r} has no safetensors name.")
        sources.append(src)
    return sources



def write_safetensors(
    path: str | os.PathLike[str],
    tensors: Mapping[str, tuple[Any, Any, Any]],
    *,
    force: bool = False,
    progress: Progress | None = None,
    metadata: Mapping[str, str] | None = None,
    chunk_elems: int = 1 << 24,
    provenance: bool | Mapping[str, Any] | None = None,
    engine: str | None = None,
) -> Path:
    """Write several tensors to one safetensors file, tensor by tensor and region by region.

    The file is written by hand in the safetensors format: an 8-byte
    little-endian header length, the JSON header (dtype ``F16``/``BF16``/
    ``F32``/``F64``, shape, data_offsets, optional ``__metadata__``) padded
    with spaces to 8-byte alignment, then each tensor's little-endian C-order
    bytes. Tensors are laid out as the safetensors library lays them out
    (larger dtypes first, then by name).

    Args:
        path: the target file (its folder must exist).
        tensors: ``name -> (source, shape, dtype)``; ``source`` is a
            :class:`varscale.VarianceScaling` (drawn by regions; one with
            ``seed=None`` gets one fresh stream per tensor) or an array with
            that shape and dtype (a Dask array from :func:`varscale.dask.array`
            is computed region by region); ``dtype`` None means float32.
        force: replace an existing file (never a folder), keeping its
            permission bits; without it an existing target, or one that
            appears while writing, raises :class:`FileExistsError` (an
            :class:`~varscale.InvalidArgumentError` too).
        progress: ``progress(done, total)`` in elements over all tensors.
        metadata: optional ``str -> str`` pairs stored as ``__metadata__``.
        chunk_elems: elements per region drawn.
        provenance: None (no record: the header is what ``safetensors``
            itself writes), True (record varscale's version, the stream
            version and each initializer's config and stream under the
            ``__metadata__`` key ``"varscale"``, a JSON string, so that
            :func:`verify` can re-draw the tensors) or a mapping merged into
            that record (``seed``, ``layout``, and ``tensors: {name: entry}``
            for tensors whose rule the caller knows; see docs/scale-out.md).
        engine: ``"numba"`` or ``"numpy"`` draws every region (None: the
            default engine); the bits are the same on every engine.

    Returns:
        The target path.

    Example:
        >>> import tempfile, pathlib
        >>> import varscale as vs
        >>> from varscale.io import write_safetensors
        >>> from safetensors.numpy import load_file
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "m.safetensors"
        >>> _ = write_safetensors(p, {"fc.weight": (vs.HeUniform(seed=vs.derive_stream(0, "fc.weight")), (8, 4), None)})
        >>> load_file(str(p))["fc.weight"].shape
        (8, 4)
    """
    target = check_target(path, force, "path")
    sources = check_tensors(tensors, engine)
    meta = check_metadata(metadata)
    record = None if provenance is None or provenance is False else make_record(
        sources, {} if provenance is True else provenance)
    if record is not None:
        meta = {**(meta or {}), PROVENANCE_KEY: dumps(record)}
    step = check_chunk_elems(chunk_elems)
    report = check_progress(progress)
    sources = st_order(sources)
    check_space(target, sum(s.size * s.dtype.itemsize for s in sources), describe(sources))
    total = sum(s.size for s in sources)
    counter = Counter(total, report)
    with atomic_output(target, force) as fh:
        fh.write(safetensors_header(sources, meta))
        write_sources(fh, sources, step, counter)
    return target


def check_metadata(metadata: Any) -> dict[str, str] | None:
    """``metadata`` as a dict of strings, without varscale's own key."""
    if metadata is None:
        return None
    if not isinstance(metadata, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()
    ):
        raise TypeError(f"`metadata` must be None or a mapping str -> str; received metadata={short(metadata)}.")
    if PROVENANCE_KEY in metadata:
        raise InvalidArgumentError(
            f"`metadata` must not use the key {PROVENANCE_KEY!r}: varscale writes its own record there "
            f"(pass provenance=... instead)."
        )
    return dict(metadata)
