"""Zarr v3 stores written chunk by chunk through Dask, published whole, resumable.

The chunks are drawn by :func:`varscale.dask.array` on the current Dask
scheduler and stored with ``dask.array.store`` a band of chunk rows at a time
into a store under a hidden temporary name beside the target (or under a
hidden sibling prefix for an fsspec URL), which is renamed onto the target
once complete.
"""

from __future__ import annotations

import contextlib
import importlib
import math
import os
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from . import _files, _folders, _resume
from ._dtypes import resolve_dtype
from ._errors import BackendUnavailableError, InvalidArgumentError, VarscaleError
from ._files import check_space, check_target
from ._provenance import make_record
from ._regions import Progress, check_initializer, check_progress
from ._sources import Source
from ._validation import check_shape
from ._zarr_plan import ZarrPlan, chunk_region, stored_bytes, stored_chunks

__all__ = ["StoreTarget", "compressors", "write_zarr"]


def _same(x: Any) -> Any:
    return x


class StoreTarget:
    """The Zarr array ``dask.array.store`` writes to, whose writes stop once :meth:`cancel` is called.

    An exception in the main thread (Ctrl-C, the CLI's SIGTERM) ends
    ``dask.array.store``'s wait, but the threaded scheduler's workers still
    run the chunks they hold and those already submitted: their writes would
    land in the temporary folder while it is removed (and recreate it). After
    :meth:`cancel` no write starts, and it returns once those in flight are
    done. Pickled (a process pool, a ``dask.distributed`` cluster) it is the
    plain Zarr array.
    """

    def __init__(self, array: Any) -> None:
        self.array = array
        self._cond = threading.Condition()
        self._active = 0
        self._cancelled = False

    def __setitem__(self, index: Any, value: Any) -> None:
        with self._cond:
            if self._cancelled:
                return
            self._active += 1
        try:
            self.array[index] = value
        finally:
            with self._cond:
                self._active -= 1
                self._cond.notify_all()

    def cancel(self, timeout: float = 120.0) -> None:
        with self._cond:
            self._cancelled = True
            self._cond.wait_for(lambda: self._active == 0, timeout)

    def __reduce__(self) -> tuple[Any, ...]:
        return (_same, (self.array,))

    def __dask_tokenize__(self) -> Any:
        return ("varscale.io._StoreTarget", id(self))


def compressors(compressor: Any) -> Any:
    """Zarr v3 compressors for a ``compressor`` name: None for ``"none"``."""
    if compressor is None or compressor == "none":
        return None
    if isinstance(compressor, str):
        name, _, level = compressor.partition(":")
        try:
            lvl = int(level) if level else None
        except ValueError:
            lvl = -1
        if name in ("zstd", "gzip", "blosc") and (lvl is None or 0 <= lvl <= 22):
            from zarr import codecs

            if name == "zstd":
                return codecs.ZstdCodec(level=3 if lvl is None else lvl)
            if name == "gzip":
                return codecs.GzipCodec(level=5 if lvl is None else min(lvl, 9))
            return codecs.BloscCodec(clevel=5 if lvl is None else min(lvl, 9))
    raise InvalidArgumentError(
        f"`compressor` must be 'none', 'zstd', 'zstd:LEVEL' (0-22), 'gzip', 'gzip:LEVEL' (0-9) or 'blosc'; "
        f"received compressor={compressor!r}."
    )


def zarr_chunks(shape: tuple[int, ...], dtype: np.dtype[Any], chunks: Any) -> tuple[int, ...]:
    if chunks is None:
        import dask.array as da

        normal = da.core.normalize_chunks("auto", shape, limit=16 * 2**20, dtype=dtype)
        return tuple(max(1, c[0]) if c else 1 for c in normal)
    if isinstance(chunks, int) and not isinstance(chunks, bool):
        chunks = (chunks,) * len(shape)
    if (
        not isinstance(chunks, (tuple, list))
        or len(chunks) != len(shape)
        or not all(isinstance(c, int) and not isinstance(c, bool) and c >= 1 for c in chunks)
    ):
        raise InvalidArgumentError(
            f"`chunks` must be None, a positive int or a tuple of {len(shape)} positive ints (one per axis of "
            f"shape={shape!r}); received chunks={chunks!r}."
        )
    return tuple(chunks)


def write_zarr(
    path: str | os.PathLike[str],
    init: Any,
    shape: Any,
    dtype: Any = None,
    *,
    chunks: Any = None,
    force: bool = False,
    progress: Progress | None = None,
    compressor: str | None = "none",
    provenance: bool | Mapping[str, Any] | None = True,
    storage_options: Mapping[str, Any] | None = None,
    engine: str | None = None,
    resume: bool = False,
) -> Path | str:
    """Write ``init(shape, dtype)`` as a Zarr v3 array, chunk by chunk through Dask.

    The chunks are generated by :func:`varscale.dask.array` (on the current
    Dask scheduler: threads by default, a ``dask.distributed`` cluster when a
    client is active) and stored with ``dask.array.store``, a band of chunk
    rows at a time (on a multi-machine cluster ``path`` must be on a file
    system every worker shares). The store is a folder written under a hidden temporary
    name beside the target and renamed when complete; an old target (with
    ``force=True``) is replaced only then, atomically on Linux. An
    interruption (an exception in the main thread, such as Ctrl-C) removes the
    temporary folder once the chunk writes Dask's workers have in flight are
    done.

    Args:
        path: the target folder (its parent must exist).
        init: a :class:`varscale.VarianceScaling` (or preset) or a standard
            initializer of a per-element law (:class:`varscale.Normal`,
            ``TruncatedNormal``, ``Uniform``, ``Constant``).
        shape: the full tensor's shape.
        dtype: ``"float32"`` (None), ``"float64"`` or ``"float16"`` (Zarr v3
            has no bfloat16 data type).
        chunks: Zarr chunk shape: None (about 16 MiB chunks), an int for every
            axis, or a tuple of ints.
        force: replace an existing Zarr store (a folder with ``zarr.json``,
            ``.zarray`` or ``.zgroup`` at its top) or file, keeping its
            permission bits; any other folder is refused and nothing deleted.
            Without it an existing target, or one that appears while writing,
            raises :class:`FileExistsError` (an
            :class:`~varscale.InvalidArgumentError` too).
        progress: ``progress(done, total)`` in elements, after each band.
        compressor: ``"none"`` (None, the default: random floats barely
            compress, zstd saves about 7 % and costs a third more time),
            ``"zstd"`` or ``"zstd:LEVEL"``, ``"gzip"`` or ``"gzip:LEVEL"``, ``"blosc"``.
        provenance: True (the default) stores varscale's record (versions, the
            initializer's config and stream) as the Zarr attribute ``"varscale"``,
            which :func:`verify` re-draws from; a mapping adds fields; None stores none.
        storage_options: for a URL ``path``, the fsspec file system's options
            (credentials, endpoint).
        resume: make the write resumable and continue an interrupted one (a
            local ``path`` only). The hidden folder then holds a plan file
            (what it is written for: shape, dtype, chunks, compressor, the
            initializer's config and stream, the record); an interruption
            (``KeyboardInterrupt``, the CLI's SIGTERM) or a killed process
            keeps it with its finished chunks. A later call with the same
            arguments and ``resume=True`` finds it, checks its ``zarr.json``
            against these arguments, keeps each chunk file that is whole (its
            size, for an uncompressed store) and whose first and last lines
            equal the re-drawn ones, and draws the others: the store is byte
            for byte that of an uninterrupted write. A finished store already
            at ``path`` made with these arguments is left as it is (a requeued
            job succeeds); an unfinished folder made with other arguments is
            refused. Without ``resume`` an interruption removes the folder.
        engine: ``"numba"`` or ``"numpy"`` draws every chunk (None: the
            default engine); the bits are the same on every engine.

    ``path`` may also be an fsspec URL (``s3://bucket/w.zarr``,
    ``gs://…``, ``memory://…``, ``file://…``; needs ``fsspec`` and the
    file system's package). The store is then written under a hidden
    sibling prefix (``.<name>.<random>.partial``) and moved onto the target
    once complete (``fs.mv``: a rename on a local file system, a copy on an
    object store, so readers never see a half-written array at the target
    but may see a half-copied one for the time of the copy); ``force=True``
    replaces only a Zarr store there. No free-space check is made.

    Returns:
        The target path (the URL as given for a URL).

    Example:
        >>> import tempfile, pathlib, numpy as np, zarr
        >>> import varscale as vs
        >>> from varscale.io import write_zarr
        >>> p = write_zarr(pathlib.Path(tempfile.mkdtemp()) / "w.zarr", vs.HeNormal(seed=1), (300, 200), chunks=(64, 64))
        >>> bool((zarr.open_array(str(p), mode="r")[...] == vs.HeNormal(seed=1)((300, 200))).all())
        True
    """
    url = _files.is_url(path)
    if resume and url:
        raise InvalidArgumentError(f"`resume` needs a local path (an unfinished store is kept beside it); "
                                   f"received path={str(path)!r} with resume=True.")
    done_already = False
    try:
        target = Path("-") if url else check_target(path, force, "path", kind="zarr")
    except _files.OutputExistsError:
        if not resume:
            raise
        target, done_already = Path(path), True
    fs_root = url_target(str(path), force, storage_options) if url else None
    check_initializer(init)
    dims = check_shape(shape)
    out_dtype = resolve_dtype(dtype)[0]
    if out_dtype.name == "bfloat16":
        raise InvalidArgumentError(
            "`dtype` must be float16, float32 or float64 for Zarr (the Zarr v3 specification and zarr-python have "
            "no bfloat16 data type); received dtype='bfloat16'. Write bfloat16 with write_safetensors or write_npy."
        )
    codecs = compressors(compressor)
    src = Source("array", init, dims, out_dtype, engine)  # its one stream: the record's and every chunk's
    record = None if provenance is None or provenance is False else make_record(
        [src], {} if provenance is True else provenance)
    what = f"shape={dims!r} and dtype={out_dtype.name!r}"
    if fs_root is None and not done_already and not (resume and _resume.unfinished(target)):
        # the whole output, before the chunks are planned (Dask's "auto" on a huge shape is slow)
        check_space(target, src.size * out_dtype.itemsize, what)
    zchunks = zarr_chunks(dims, out_dtype, chunks)
    report = check_progress(progress)
    plan = ZarrPlan(src, zchunks, codecs, compressor, record)
    if done_already:  # resume=True after a run that finished: the same store is there, nothing to do
        if not plan.finished(target):
            raise _files.OutputExistsError(
                f"`path` names an existing entry that is not the store these arguments make (nothing to resume); "
                f"received path={os.fspath(path)!r}. Pass force=True (--force) to overwrite it."
            )
        if report is not None:
            report(src.size, src.size)
        return target
    tmp = _resume.find(target, plan.text, "shape, dtype, chunks, compressor, initializer or seed") if resume \
        else None
    if fs_root is None and resume:  # what is left to write, before Dask plans a graph
        check_space(target, plan.nbytes - (stored_bytes(tmp) if tmp is not None else 0), what)
    import zarr

    from . import dask as vdask

    arr = vdask.array(init, dims, out_dtype, chunks=zchunks, seed=src.stream, engine=engine)
    if fs_root is not None:
        return write_zarr_url(str(path), fs_root, force, storage_options, arr, dims, zchunks, out_dtype, codecs,
                               plan.attributes, report)
    fresh = tmp is None
    if tmp is None:
        tmp = _resume.start(target, plan.text) if resume else _folders.temp_dir(target)
    sink: StoreTarget | None = None
    try:
        with _resume.locked(tmp / _resume.PLAN) if resume else contextlib.nullcontext():
            if fresh:
                z = zarr.create_array(store=str(tmp), shape=dims, chunks=zchunks if dims else (), dtype=out_dtype,
                                      zarr_format=3, overwrite=False, compressors=codecs, attributes=plan.attributes)
                todo = None
            else:
                _resume.sweep(tmp)  # a killed writer's half-written chunk temporaries
                z = plan.open(tmp, target)
                todo = plan.missing(z, tmp)
            sink = StoreTarget(z)
            fill_zarr(z, sink, arr, dims, zchunks, report, todo)
            _folders.fsync_tree(tmp)
            if resume:
                os.unlink(tmp / _resume.PLAN)  # from here on the folder is no longer resumable: it is being published
            _folders.install_dir(tmp, target, force)
    except BaseException as err:
        if sink is not None:
            sink.cancel()  # Dask's workers may still hold chunks: no write lands after the removal
        if isinstance(err, _resume.BusyError) or _resume.keep(err, tmp, stored_chunks(tmp), plan.nchunks,
                                                               "chunk(s)"):
            raise
        _folders.remove(tmp)
        if isinstance(err, OSError) and not isinstance(err, VarscaleError):
            raise _files.write_error(target, err, tmp) from err
        raise
    return target


def fill_zarr(z: Any, sink: StoreTarget, arr: Any, dims: tuple[int, ...], zchunks: tuple[int, ...],
              report: Progress | None, todo: set[tuple[int, ...]] | None = None) -> None:
    """Store the Dask array ``arr`` into ``z`` (through ``sink``) a band of chunk rows at a time.

    ``todo``: the chunks to store (None: all); a band with some chunks finished stores only its others.
    """
    import dask.array as da

    total = math.prod(dims)
    if dims and total:
        rows = dims[0]
        per_row = total // rows
        band = zchunks[0] * max(1, (4 << 24) // max(1, zchunks[0] * per_row))
        per_chunk_row = math.prod(-(-d // c) for d, c in zip(dims[1:], zchunks[1:], strict=True))
        by_row: dict[int, list[tuple[int, ...]]] = {}
        for idx in sorted(todo or ()):
            by_row.setdefault(idx[0], []).append(idx)
        for a in range(0, rows, band):
            b = min(rows, a + band)
            region = (slice(a, b), *(slice(None) for _ in dims[1:]))
            mine = [i for r in range(a // zchunks[0], -(-b // zchunks[0])) for i in by_row.get(r, [])]
            if todo is None or len(mine) == per_chunk_row * -(-(b - a) // zchunks[0]):
                da.store(arr[region], sink, regions=region, lock=False)
            elif mine:
                da.store([arr.blocks[i] for i in mine], [sink] * len(mine),
                         regions=[chunk_region(i, dims, zchunks) for i in mine], lock=False)
            if report is not None:
                report(b * per_row, total)
    elif not dims:
        if todo is None or todo:
            z[...] = arr.compute()
        if report is not None:
            report(1, 1)


def url_target(url: str, force: bool, storage_options: Mapping[str, Any] | None) -> tuple[Any, str]:
    """The fsspec file system and the store's root for ``url``, after the same checks as a local target."""
    try:
        fsspec: Any = importlib.import_module("fsspec")
    except ImportError:
        raise BackendUnavailableError(
            f"writing Zarr to a URL needs fsspec (and the file system's package, e.g. s3fs); received path={url!r}; "
            f"install it with: pip install fsspec"
        ) from None
    try:
        fs, root = fsspec.core.url_to_fs(url, **dict(storage_options or {}))
    except (ValueError, ImportError) as err:
        raise InvalidArgumentError(f"`path` is a URL fsspec cannot open: {err}; received path={url!r}.") from None
    root = str(root).rstrip("/")
    if "/" not in root or not root.rpartition("/")[2]:
        raise InvalidArgumentError(f"`path` must name a store inside a folder or bucket; received path={url!r}.")
    if fs.exists(root):
        if not force:
            raise _files.OutputExistsError(
                f"`path` names an existing entry; received path={url!r}. Pass force=True (--force) to overwrite it."
            )
        if not any(fs.exists(f"{root}/{m}") for m in _files.ZARR_METADATA):
            raise InvalidArgumentError(
                f"`path` names something that is not a Zarr store (no zarr.json, .zarray or .zgroup at its top); "
                f"received path={url!r}. force=True (--force) replaces only a Zarr store; nothing was deleted."
            )
    return fs, root


def write_zarr_url(url: str, fs_root: tuple[Any, str], force: bool, storage_options: Mapping[str, Any] | None,
                    arr: Any, dims: tuple[int, ...], zchunks: tuple[int, ...], dtype: np.dtype[Any], codecs: Any,
                    attributes: Any, report: Progress | None) -> str:
    import secrets

    import zarr

    fs, root = fs_root
    parent, _, name = root.rpartition("/")
    tmp_root = f"{parent}/.{name}.{secrets.token_hex(4)}.partial"
    sink: StoreTarget | None = None
    try:
        options = dict(storage_options or {})
        protocols = (fs.protocol,) if isinstance(fs.protocol, str) else tuple(fs.protocol)
        if {"file", "local"} & set(protocols):
            options.setdefault("auto_mkdir", True)  # fsspec's local file system creates no folder by itself
        z = zarr.create_array(store=fs.unstrip_protocol(tmp_root), shape=dims, chunks=zchunks if dims else (),
                              dtype=dtype, zarr_format=3, compressors=codecs, attributes=attributes,
                              storage_options=options or None)
        sink = StoreTarget(z)
        fill_zarr(z, sink, arr, dims, zchunks, report)
        if fs.exists(root):
            if not force:
                raise _files.OutputExistsError(
                    f"could not write {url!r}: it appeared while this output was being written (another writer?); "
                    f"it was left as it is and this output was discarded. Pass force=True (--force) to overwrite it."
                )
            fs.rm(root, recursive=True)
        fs.mv(tmp_root, root, recursive=True)
    except BaseException:
        if sink is not None:
            sink.cancel()
        with contextlib.suppress(Exception):
            if fs.exists(tmp_root):
                fs.rm(tmp_root, recursive=True)
        raise
    return url


# -- provenance: what made a file, so that it can be re-drawn and verified --------------------------------------
