"""Write initialized tensors to files without holding them whole: ``.npy``, safetensors, Zarr v3.

Every writer draws the tensor region by region (each region is an exact slice
of the full tensor, see docs/stream.md), writes it, and drops it, so
peak memory is a few regions (``chunk_elems`` elements each) whatever the
tensor's size. Output goes to a hidden temporary beside the target
(``.<name>.<random>.partial``) that is renamed onto the target only once it is
complete: a failure (bad input, full disk, a killed process) never leaves a
partial file at the target, and an existing target is refused unless
``force=True`` (also one that appeared while writing: the rename itself
refuses it). ``force=True`` replaces a file or, for Zarr, a Zarr store, never
another folder, and keeps the old target's permission bits. Frameworks are imported lazily, inside the writer that needs
them (Zarr and Dask for :func:`write_zarr`); ``.npy`` and safetensors are
written by hand and need nothing beyond NumPy.

``progress``, where given, is called as ``progress(done, total)`` in elements
after each region written.

This module is the public face; the writers live in focused modules, one
concept each: ``_regions`` (region plans, the fixed stream), ``_sources``
(tensors to write, the overlapped region writer), ``_safetensors``,
``_sharded`` (Hugging Face sharded folders), ``_zarr``, ``_resume``
(resumable unfinished folders), ``_folders`` (publishing a folder),
``_provenance`` (the record) and ``_verify``.

Example:
    >>> import tempfile, pathlib, numpy as np
    >>> import varscale as vs
    >>> from varscale.io import write_npy
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> p = write_npy(d / "w.npy", vs.HeNormal(seed=0), (64, 32))
    >>> bool((np.load(p) == vs.HeNormal(seed=0)((64, 32))).all())
    True
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from ._files import atomic_output, check_space, check_target
from ._provenance import PROVENANCE_KEY
from ._regions import Progress, check_chunk_elems, check_progress

# varscale.torch and older callers import these three here (they live in varscale._regions)
from ._regions import check_initializer as check_initializer
from ._regions import fixed_stream as fixed_stream
from ._regions import regions as regions
from ._resume import unfinished
from ._safetensors import INDEX_NAME, write_safetensors
from ._sharded import (
    MAX_SHARD_SIZE,
    parse_size,
    shard_names,
    write_safetensors_sharded,
)
from ._sharded import check_dir_target as _check_dir_target  # noqa: F401 - the CLI's name for it
from ._sources import Source, write_block
from ._verify import VerifyReport, verify
from ._zarr import write_zarr

__all__ = [
    "INDEX_NAME",
    "MAX_SHARD_SIZE",
    "PROVENANCE_KEY",
    "VerifyReport",
    "parse_size",
    "shard_names",
    "unfinished",
    "verify",
    "write_npy",
    "write_safetensors",
    "write_safetensors_sharded",
    "write_zarr",
]


def write_npy(path: str | os.PathLike[str], init: Any, shape: Any, dtype: Any = None, *, force: bool = False,
              progress: Progress | None = None, chunk_elems: int = 1 << 24, engine: str | None = None) -> Path:
    """Write ``init(shape, dtype)`` to a ``.npy`` file, region by region.

    Args:
        path: the target file (its folder must exist).
        init: a :class:`varscale.VarianceScaling` (or preset) or a standard
            initializer of a per-element law (:class:`varscale.Normal`,
            ``TruncatedNormal``, ``Uniform``, ``Constant``); an initializer
            with ``seed=None`` is given one fresh stream for the whole tensor.
        shape: the full tensor's shape.
        dtype: ``"float32"`` (None), ``"float64"``, ``"float16"`` or
            ``"bfloat16"`` (stored as ml_dtypes' bfloat16, a void type that
            ``np.load`` reads back as ``|V2``).
        force: replace an existing file (never a folder), keeping its
            permission bits; without it an existing target, or one that
            appears while writing, raises :class:`FileExistsError` (an
            :class:`~varscale.InvalidArgumentError` too).
        progress: ``progress(done, total)`` in elements, after each region.
        chunk_elems: elements per region drawn (memory is a small multiple).
        engine: ``"numba"`` or ``"numpy"`` draws every region (None: the
            default engine); the bits are the same on every engine.

    Returns:
        The target path.

    Example:
        >>> import tempfile, pathlib, numpy as np
        >>> import varscale as vs
        >>> from varscale.io import write_npy
        >>> p = write_npy(pathlib.Path(tempfile.mkdtemp()) / "w.npy", vs.GlorotUniform(seed=3), (100, 10),
        ...               chunk_elems=64)
        >>> bool((np.load(p) == vs.GlorotUniform(seed=3)((100, 10))).all())
        True
    """
    target = check_target(path, force, "path")
    src = Source("array", check_initializer(init), shape, dtype, engine)
    step = check_chunk_elems(chunk_elems)
    report = check_progress(progress)
    check_space(target, src.size * src.dtype.itemsize, f"shape={src.shape!r} and dtype={src.dtype.name!r}")
    header = {"descr": np.lib.format.dtype_to_descr(src.dtype), "fortran_order": False, "shape": src.shape}
    done = 0
    with atomic_output(target, force) as fh:
        np.lib.format.write_array_header_2_0(fh, header)
        for region, n in regions(src.shape, step):
            write_block(fh, src.block(region))
            done += n
            if report is not None:
                report(done, src.size)
    return target
