"""What a resumable Zarr store is written for, and the checks that keep its finished chunks on resume.

A :class:`ZarrPlan` holds the plan text of :mod:`varscale._resume` for one
``write_zarr`` call (shape, dtype, chunks, compressor, the initializer's
config and stream, the record), checks a store's ``zarr.json`` against it and
tells which chunks are still to draw: a stored chunk is kept if whole (its
size, for an uncompressed store) and its first and last lines equal the
re-drawn ones.

Example:
    >>> chunk_region((1, 2), (10, 10), (4, 4))
    (slice(4, 8, None), slice(8, 10, None))
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from ._errors import InvalidArgumentError
from ._provenance import PROVENANCE_KEY, dumps, entry_of
from ._sources import Source

__all__ = ["ZarrPlan", "chunk_region", "stored_bytes", "stored_chunks"]


def chunk_region(idx: tuple[int, ...], dims: tuple[int, ...], zchunks: tuple[int, ...]) -> tuple[slice, ...]:
    return tuple(slice(i * c, min((i + 1) * c, d)) for i, c, d in zip(idx, zchunks, dims, strict=True))


def _stored(tmp: Path) -> list[Path]:
    """The chunk files stored below ``tmp`` (Zarr v3's default keys: ``c/i/j/...``, ``c`` for 0-d)."""
    root = tmp / "c"
    if root.is_file():
        return [root]
    return [p for p in root.rglob("*") if p.is_file() and not p.name.endswith(".partial")]


def stored_chunks(tmp: Path) -> int:
    return len(_stored(tmp)) if tmp.is_dir() else 0


def stored_bytes(tmp: Path) -> int:
    return sum(p.stat().st_size for p in _stored(tmp))


class ZarrPlan:
    """What a resumable store is written for, and the checks that keep its finished chunks."""

    def __init__(self, src: Source, zchunks: tuple[int, ...], codecs: Any, compressor: Any,
                 record: dict[str, Any] | None) -> None:
        self.src, self.zchunks, self.codecs, self.record = src, zchunks, codecs, record
        self.attributes = {PROVENANCE_KEY: record} if record is not None else None
        self.grid = tuple(-(-d // c) for d, c in zip(src.shape, zchunks, strict=True))
        self.nchunks = math.prod(self.grid)
        self.nbytes = src.size * src.dtype.itemsize
        self.text = dumps({"kind": "varscale zarr", "version": 1, "shape": list(src.shape), "chunks": list(zchunks),
                           "dtype": src.dtype.name, "compressor": str(compressor), "source": entry_of(src),
                           "record": record})

    def metadata_ok(self, z: Any) -> bool:
        """The store's own metadata (``zarr.json``) says it is this array: shape, chunks, dtype, the record."""
        want = None if self.record is None else json.loads(dumps(self.record))
        return (tuple(z.shape) == self.src.shape and tuple(z.chunks) == (self.zchunks if self.src.shape else ())
                and np.dtype(z.dtype) == self.src.dtype and z.attrs.get(PROVENANCE_KEY) == want
                and (self.codecs is None) == (not z.compressors))

    def open(self, tmp: Path, target: Path) -> Any:
        import zarr

        try:
            z = zarr.open_array(str(tmp), mode="r+")
            ok = self.metadata_ok(z)
        except (OSError, ValueError, KeyError, TypeError) as err:
            ok, why = False, f": {err}"
        else:
            why = ""
        if not ok:
            raise InvalidArgumentError(
                f"cannot resume {str(target)!r}: the unfinished store {tmp.name!r} has no zarr.json for these "
                f"arguments{why}. Delete that folder and run again."
            )
        return z

    def chunk_ok(self, z: Any, tmp: Path, idx: tuple[int, ...]) -> bool:
        """A stored chunk is kept if whole (its size, uncompressed) and its first and last lines are the re-drawn ones."""
        shape = self.src.shape
        f = tmp / z.metadata.encode_chunk_key(idx)
        try:
            if not f.is_file():
                return False
            if self.codecs is None and f.stat().st_size != math.prod(self.zchunks) * self.src.dtype.itemsize:
                return False
            region = chunk_region(idx, shape, self.zchunks)
            got = np.asarray(z[region] if shape else z[...])
        except (OSError, ValueError, RuntimeError):
            return False
        if not shape:
            return bool(got.tobytes() == self.src.block(()).tobytes())
        for end in (0, -1):
            line = tuple(slice(r.start, r.start + 1) if end == 0 else slice(r.stop - 1, r.stop) for r in region[:-1])
            local = (*(slice(0, 1) if end == 0 else slice(-1, None) for _ in region[:-1]), slice(None))
            if got[local].tobytes() != self.src.block((*line, region[-1])).tobytes():
                return False
        return True

    def missing(self, z: Any, tmp: Path) -> set[tuple[int, ...]]:
        """The chunks still to draw (each finished one is checked)."""
        return {idx for idx in np.ndindex(*self.grid) if not self.chunk_ok(z, tmp, tuple(int(i) for i in idx))}

    def finished(self, target: Path) -> bool:
        """``target`` is the complete store these arguments make (its metadata and every chunk)."""
        import zarr

        try:
            z = zarr.open_array(str(target), mode="r")
            if not self.metadata_ok(z):
                return False
        except (OSError, ValueError, KeyError, TypeError):
            return False
        return not self.missing(z, target)
