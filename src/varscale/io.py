"""Write initialized tensors to files without holding them whole: ``.npy``, safetensors, Zarr v3.

Every writer draws the tensor region by region (each region is an exact slice
of the full tensor, see DESIGN.md "The stream"), writes it, and drops it, so
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

import contextlib
import json
import math
import os
import shutil
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import IO, Any

import numpy as np

from . import _files
from ._dtypes import resolve_dtype
from ._errors import InvalidArgumentError, VarscaleError
from ._files import atomic_output, check_space, check_target, default_mode
from ._generate import draw
from ._initializer import VarianceScaling
from ._validation import check_shape
from .stream import Stream, fresh_stream, resolve_seed

__all__ = ["write_npy", "write_safetensors", "write_zarr"]

Progress = Callable[[int, int], None]

#: safetensors' dtype names, ordered as safetensors orders tensors (larger first).
_ST_DTYPES = {"float64": "F64", "float32": "F32", "bfloat16": "BF16", "float16": "F16"}
_ST_RANK = {"float16": 0, "bfloat16": 1, "float32": 2, "float64": 3}


def fixed_stream(init: Any, seed: Any = None, argument: str = "init") -> Stream:
    """The one stream a whole tensor is drawn from, whichever part is drawn where.

    ``seed`` (an int or a :class:`~varscale.Stream`) overrides the
    initializer's; an initializer built with ``seed=None`` gets one fresh
    stream here, drawn once, so that every region is a slice of the same
    tensor.
    """
    check_initializer(init, argument)
    stream = resolve_seed(seed)
    if stream is not None:
        return stream
    own: Stream | None = init._stream
    return own if own is not None else fresh_stream()


def check_initializer(init: Any, argument: str = "init") -> VarianceScaling:
    """Refuse anything but a :class:`~varscale.VarianceScaling` (presets included)."""
    if not isinstance(init, VarianceScaling):
        raise TypeError(
            f"`{argument}` must be a varscale.VarianceScaling (or a preset such as vs.HeNormal); "
            f"received {argument}={init!r} of type {type(init).__name__}."
        )
    return init


def _check_chunk_elems(chunk_elems: Any) -> int:
    if isinstance(chunk_elems, bool) or not isinstance(chunk_elems, int) or chunk_elems < 1:
        raise InvalidArgumentError(
            f"`chunk_elems` must be a positive int (elements per region written); received chunk_elems={chunk_elems!r}."
        )
    return chunk_elems


def _check_progress(progress: Any) -> Progress | None:
    if progress is not None and not callable(progress):
        raise TypeError(f"`progress` must be None or a callable(done, total); received progress={progress!r}.")
    return progress  # type: ignore[no-any-return]


def regions(shape: tuple[int, ...], chunk_elems: int) -> Iterator[tuple[tuple[slice, ...], int]]:
    """Split ``shape`` into C-order-contiguous regions of about ``chunk_elems`` elements, in C order.

    Yields ``(region, number of elements)``. A region holds at most
    ``chunk_elems`` elements unless one run of the innermost axes alone is
    larger (then it is that run: at least one element of one axis).

    Each region fixes the leading axes to one index each, takes a run along
    one axis and all of the trailing axes, so written one after the other the
    regions give the tensor's bytes in C order.
    """
    total = math.prod(shape)
    if total == 0:
        return
    if not shape:
        yield (), 1
        return
    # k: the outermost axis whose trailing block fits in chunk_elems
    k = len(shape) - 1
    while k > 0 and math.prod(shape[k:]) <= chunk_elems:
        k -= 1
    inner = math.prod(shape[k + 1:])
    step = max(1, chunk_elems // inner)
    tail = tuple(slice(None) for _ in shape[k + 1:])
    for lead in np.ndindex(*shape[:k]):
        head = tuple(slice(int(i), int(i) + 1) for i in lead)
        for a in range(0, shape[k], step):
            b = min(a + step, shape[k])
            yield (*head, slice(a, b), *tail), (b - a) * inner


def _write_block(fh: IO[bytes], block: np.ndarray[Any, Any]) -> None:
    arr = np.ascontiguousarray(block)
    if sys.byteorder == "big":  # pragma: no cover - every supported platform is little endian
        arr = arr.byteswap()
    fh.write(arr.reshape(-1).view(np.uint8).data)


class _Source:
    """One tensor to write: an initializer (drawn by regions) or an array-like (sliced by regions)."""

    def __init__(self, name: str, source: Any, shape: Any, dtype: Any) -> None:
        self.name = name
        self.shape = check_shape(shape)
        self.dtype = resolve_dtype(dtype)[0]
        self.bound: Any = None
        if isinstance(source, VarianceScaling):
            self.init: VarianceScaling | None = source
            self.stream = fixed_stream(source)
            self.sampler = source.sampler(self.shape)
            self.array: Any = None
        elif type(source).__name__ == "BoundPlan" and hasattr(source, "block"):
            # a model-level rule's plan with its stream (varscale._rules.BoundPlan): any law, orthogonal too
            self.init = None
            self.array = None
            self.bound = source
        elif hasattr(source, "shape") and hasattr(source, "dtype") and hasattr(source, "__getitem__"):
            self.init = None
            self.array = source
            if tuple(source.shape) != self.shape:
                raise InvalidArgumentError(
                    f"tensor {name!r}: the array's shape {tuple(source.shape)} differs from the shape given; "
                    f"received shape={self.shape!r}."
                )
            if np.dtype(source.dtype) != self.dtype:
                raise InvalidArgumentError(
                    f"tensor {name!r}: the array's dtype {np.dtype(source.dtype).name} differs from the dtype given; "
                    f"received dtype={self.dtype.name!r}."
                )
        else:
            raise TypeError(
                f"tensor {name!r} must come from a varscale.VarianceScaling or an array (NumPy, Dask) with shape, "
                f"dtype and slicing; received {source!r} of type {type(source).__name__}."
            )

    @property
    def size(self) -> int:
        return math.prod(self.shape)

    def block(self, region: tuple[slice, ...]) -> np.ndarray[Any, Any]:
        if self.bound is not None:
            out: np.ndarray[Any, Any] = self.bound.block(self.shape, self.dtype, region)
            return out
        if self.init is not None:
            return draw(self.shape, self.dtype, self.sampler, self.stream, region=region)
        part = self.array[region]
        if hasattr(part, "compute"):  # a Dask array: compute this region only
            part = part.compute()
        return np.asarray(part, dtype=self.dtype)


def write_npy(
    path: str | os.PathLike[str],
    init: Any,
    shape: Any,
    dtype: Any = None,
    *,
    force: bool = False,
    progress: Progress | None = None,
    chunk_elems: int = 1 << 24,
) -> Path:
    """Write ``init(shape, dtype)`` to a ``.npy`` file, region by region.

    Args:
        path: the target file (its folder must exist).
        init: a :class:`varscale.VarianceScaling` (or preset); an initializer
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
    src = _Source("array", check_initializer(init), shape, dtype)
    step = _check_chunk_elems(chunk_elems)
    report = _check_progress(progress)
    check_space(target, src.size * src.dtype.itemsize, f"shape={src.shape!r} and dtype={src.dtype.name!r}")
    header = {"descr": np.lib.format.dtype_to_descr(src.dtype), "fortran_order": False, "shape": src.shape}
    done = 0
    with atomic_output(target, force) as fh:
        np.lib.format.write_array_header_2_0(fh, header)
        for region, n in regions(src.shape, step):
            _write_block(fh, src.block(region))
            done += n
            if report is not None:
                report(done, src.size)
    return target


def _safetensors_header(sources: list[_Source], metadata: dict[str, str] | None) -> bytes:
    header: dict[str, Any] = {}
    if metadata is not None:
        header["__metadata__"] = metadata
    offset = 0
    for s in sources:
        nbytes = s.size * s.dtype.itemsize
        header[s.name] = {"dtype": _ST_DTYPES[s.dtype.name], "shape": list(s.shape),
                          "data_offsets": [offset, offset + nbytes]}
        offset += nbytes
    raw = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    raw += b" " * (-len(raw) % 8)
    return len(raw).to_bytes(8, "little") + raw


def write_safetensors(
    path: str | os.PathLike[str],
    tensors: Mapping[str, tuple[Any, Any, Any]],
    *,
    force: bool = False,
    progress: Progress | None = None,
    metadata: Mapping[str, str] | None = None,
    chunk_elems: int = 1 << 24,
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
    if not isinstance(tensors, Mapping):
        raise TypeError(
            f"`tensors` must be a mapping name -> (initializer, shape, dtype); received tensors={tensors!r}."
        )
    sources: list[_Source] = []
    for name, entry in tensors.items():
        if not isinstance(name, str) or not name or name == "__metadata__":
            raise InvalidArgumentError(
                f"`tensors` keys must be non-empty strings other than '__metadata__'; received key {name!r}."
            )
        if not isinstance(entry, tuple) or len(entry) != 3:
            raise TypeError(
                f"`tensors[{name!r}]` must be a tuple (initializer, shape, dtype); received {entry!r}."
            )
        source, shape, dtype = entry
        src = _Source(name, source, shape, dtype)
        if src.dtype.name not in _ST_DTYPES:  # pragma: no cover - resolve_dtype admits only these
            raise InvalidArgumentError(f"tensor {name!r}: dtype {src.dtype.name!r} has no safetensors name.")
        sources.append(src)
    meta: dict[str, str] | None = None
    if metadata is not None:
        if not isinstance(metadata, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()
        ):
            raise TypeError(f"`metadata` must be None or a mapping str -> str; received metadata={metadata!r}.")
        meta = dict(metadata)
    step = _check_chunk_elems(chunk_elems)
    report = _check_progress(progress)
    sources.sort(key=lambda s: (-_ST_RANK[s.dtype.name], s.name))
    check_space(target, sum(s.size * s.dtype.itemsize for s in sources),
                ", ".join(f"{s.name} {s.shape!r} {s.dtype.name}" for s in sources[:8])
                + (f" and {len(sources) - 8} more tensors" if len(sources) > 8 else ""))
    total = sum(s.size for s in sources)
    done = 0
    with atomic_output(target, force) as fh:
        fh.write(_safetensors_header(sources, meta))
        for s in sources:
            for region, n in regions(s.shape, step):
                _write_block(fh, s.block(region))
                done += n
                if report is not None:
                    report(done, total)
    return target


# -- Zarr: a directory, completed under a temporary name -------------------------------------------


def _fsync_tree(root: Path) -> None:
    for dirpath, _, files in os.walk(root):
        for f in files:
            fd = os.open(os.path.join(dirpath, f), os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        with contextlib.suppress(OSError):
            fd = os.open(dirpath, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two paths (Linux ``renameat2(RENAME_EXCHANGE)``); False where unsupported."""
    return _files.renameat2(a, b, _files.RENAME_EXCHANGE)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def _install_dir(tmp: Path, target: Path, force: bool = False) -> None:
    """Put the complete folder ``tmp`` at ``target``; an old target stays whole until that moment.

    With no target the folder is renamed there in one step that fails if the
    target appeared meanwhile (:func:`varscale._files.rename_noreplace`; a
    rename alone would replace an empty folder): without ``force`` that is an
    :class:`~varscale._files.OutputExistsError`. With ``force`` the target must
    be a file, a link or a Zarr store (anything else is refused, nothing
    deleted); it keeps its folder's permission bits and is swapped atomically
    with ``renameat2(RENAME_EXCHANGE)``, checked again under its new name (a
    folder swapped in at the last moment is put back and refused) and
    removed. Where that call is missing the old target is moved aside first (a
    short window with no target at all).
    """
    try:
        _files.rename_noreplace(tmp, target)
        return
    except FileExistsError:
        if not force:
            raise _files.appeared(target) from None
    why = _files.replace_refusal(target, "zarr")
    if why is not None:
        raise _refused_at_publish(target, why)
    mode = _files.kept_mode(target, directory=True)
    if mode is not None:
        os.chmod(tmp, mode)
    if _exchange(tmp, target):
        why = _files.replace_refusal(tmp, "zarr")  # tmp now holds what was at the target
        if why is not None:
            _exchange(tmp, target)
            raise _refused_at_publish(target, why)
        _remove(tmp)
        return
    aside = Path(tempfile.mktemp(prefix=_files.temp_prefix(target, ".old"), suffix=".old", dir=target.parent))
    os.replace(target, aside)
    why = _files.replace_refusal(aside, "zarr")
    if why is not None:
        _files.rename_noreplace(aside, target)
        raise _refused_at_publish(target, why)
    try:
        _files.rename_noreplace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            _files.rename_noreplace(aside, target)
        raise
    _remove(aside)


def _refused_at_publish(target: Path, why: str) -> InvalidArgumentError:
    return InvalidArgumentError(
        f"could not write {str(target)!r}: it is now {why}; force=True (--force) replaces only a file or a Zarr "
        f"store. Nothing was deleted and this output was discarded."
    )


def _same(x: Any) -> Any:
    return x


class _StoreTarget:
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


def _zarr_chunks(shape: tuple[int, ...], dtype: np.dtype[Any], chunks: Any) -> tuple[int, ...]:
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
) -> Path:
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
        init: a :class:`varscale.VarianceScaling` (or preset).
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

    Returns:
        The target path.

    Example:
        >>> import tempfile, pathlib, numpy as np, zarr
        >>> import varscale as vs
        >>> from varscale.io import write_zarr
        >>> p = write_zarr(pathlib.Path(tempfile.mkdtemp()) / "w.zarr", vs.HeNormal(seed=1), (300, 200), chunks=(64, 64))
        >>> bool((zarr.open_array(str(p), mode="r")[...] == vs.HeNormal(seed=1)((300, 200))).all())
        True
    """
    target = check_target(path, force, "path", kind="zarr")
    check_initializer(init)
    dims = check_shape(shape)
    out_dtype = resolve_dtype(dtype)[0]
    if out_dtype.name == "bfloat16":
        raise InvalidArgumentError(
            "`dtype` must be float16, float32 or float64 for Zarr (Zarr v3 has no bfloat16 data type); "
            "received dtype='bfloat16'. Write bfloat16 with write_safetensors or write_npy."
        )
    check_space(target, math.prod(dims) * out_dtype.itemsize,  # before Dask plans chunks or a graph
                f"shape={dims!r} and dtype={out_dtype.name!r}")
    zchunks = _zarr_chunks(dims, out_dtype, chunks)
    report = _check_progress(progress)
    import dask.array as da
    import zarr

    from . import dask as vdask

    arr = vdask.array(init, dims, out_dtype, chunks=zchunks)
    total = math.prod(dims)
    try:
        tmp = Path(tempfile.mkdtemp(prefix=_files.temp_prefix(target), suffix=".partial", dir=target.parent))
    except OSError as err:
        raise _files.write_error(target, err) from err
    sink: _StoreTarget | None = None
    try:
        os.chmod(tmp, default_mode(directory=True))  # mkdtemp's folder is private (0700)
        z = zarr.create_array(store=str(tmp), shape=dims, chunks=zchunks if dims else (), dtype=out_dtype,
                              zarr_format=3, overwrite=True)
        sink = _StoreTarget(z)
        if dims and total:
            rows = dims[0]
            per_row = total // rows
            band = zchunks[0] * max(1, (4 << 24) // max(1, zchunks[0] * per_row))
            for a in range(0, rows, band):
                b = min(rows, a + band)
                region = (slice(a, b), *(slice(None) for _ in dims[1:]))
                da.store(arr[region], sink, regions=region, lock=False)
                if report is not None:
                    report(b * per_row, total)
        elif not dims:
            z[...] = arr.compute()
            if report is not None:
                report(1, 1)
        _fsync_tree(tmp)
        _install_dir(tmp, target, force)
    except BaseException as err:
        if sink is not None:
            sink.cancel()  # Dask's workers may still hold chunks: no write lands after the removal
        _remove(tmp)
        if isinstance(err, OSError) and not isinstance(err, VarscaleError):
            raise _files.write_error(target, err, tmp) from err
        raise
    return target
