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
import hashlib
import importlib
import json
import math
import os
import re
import shutil
import struct
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

import numpy as np

from . import _files
from ._dtypes import resolve_dtype
from ._errors import BackendUnavailableError, InvalidArgumentError, VarscaleError
from ._files import atomic_output, check_space, check_target, default_mode
from ._generate import draw, draw_into
from ._initializer import VarianceScaling
from ._validation import check_shape
from .stream import Stream, fresh_stream, resolve_seed

__all__ = [
    "INDEX_NAME",
    "MAX_SHARD_SIZE",
    "PROVENANCE_KEY",
    "parse_size",
    "shard_names",
    "unfinished",
    "verify",
    "write_npy",
    "write_safetensors",
    "write_safetensors_sharded",
    "write_zarr",
]

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

    def law(self) -> tuple[Any, Stream] | None:
        """``(sampler, stream)`` when the values are a per-element law on a stream (drawn into a reused buffer)."""
        if self.init is not None:
            return self.sampler, self.stream
        if self.bound is not None and getattr(self.bound.plan, "sampler", None) is not None:
            return self.bound.plan.sampler, self.bound.stream
        return None

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


def _check_tensors(tensors: Any) -> list[_Source]:
    if not isinstance(tensors, Mapping):
        raise TypeError(
            f"`tensors` must be a mapping name -> (initializer, shape, dtype); received tensors={_short(tensors)}."
        )
    sources: list[_Source] = []
    for name, entry in tensors.items():
        if not isinstance(name, str) or not name or name == "__metadata__":
            raise InvalidArgumentError(
                f"`tensors` keys must be non-empty strings other than '__metadata__'; received key {name!r}."
            )
        if not isinstance(entry, tuple) or len(entry) != 3:
            raise TypeError(
                f"`tensors[{name!r}]` must be a tuple (initializer, shape, dtype); received {_short(entry)}."
            )
        source, shape, dtype = entry
        src = _Source(name, source, shape, dtype)
        if src.dtype.name not in _ST_DTYPES:  # pragma: no cover - resolve_dtype admits only these
            raise InvalidArgumentError(f"tensor {name!r}: dtype {src.dtype.name!r} has no safetensors name.")
        sources.append(src)
    return sources


def _short(value: Any, limit: int = 200) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _check_metadata(metadata: Any) -> dict[str, str] | None:
    if metadata is None:
        return None
    if not isinstance(metadata, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()
    ):
        raise TypeError(f"`metadata` must be None or a mapping str -> str; received metadata={_short(metadata)}.")
    if PROVENANCE_KEY in metadata:
        raise InvalidArgumentError(
            f"`metadata` must not use the key {PROVENANCE_KEY!r}: varscale writes its own record there "
            f"(pass provenance=... instead)."
        )
    return dict(metadata)


def _describe(sources: Sequence[_Source]) -> str:
    """A short description of the tensors for messages: the first few, then a count."""
    shown = ", ".join(f"{s.name} {s.shape!r} {s.dtype.name}" for s in sources[:4])
    return shown + (f" and {len(sources) - 4} more tensors" if len(sources) > 4 else "")


def write_safetensors(
    path: str | os.PathLike[str],
    tensors: Mapping[str, tuple[Any, Any, Any]],
    *,
    force: bool = False,
    progress: Progress | None = None,
    metadata: Mapping[str, str] | None = None,
    chunk_elems: int = 1 << 24,
    provenance: bool | Mapping[str, Any] | None = None,
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
    sources = _check_tensors(tensors)
    meta = _check_metadata(metadata)
    record = None if provenance is None or provenance is False else _record(
        sources, {} if provenance is True else provenance)
    if record is not None:
        meta = {**(meta or {}), PROVENANCE_KEY: _dumps(record)}
    step = _check_chunk_elems(chunk_elems)
    report = _check_progress(progress)
    sources.sort(key=lambda s: (-_ST_RANK[s.dtype.name], s.name))
    check_space(target, sum(s.size * s.dtype.itemsize for s in sources), _describe(sources))
    total = sum(s.size for s in sources)
    counter = _Counter(total, report)
    with atomic_output(target, force) as fh:
        fh.write(_safetensors_header(sources, meta))
        _write_sources(fh, sources, step, counter)
    return target


class _Counter:
    """Elements written so far, reported to ``progress``."""

    def __init__(self, total: int, report: Progress | None, done: int = 0) -> None:
        self.total, self.report, self.done = total, report, done

    def add(self, n: int) -> None:
        self.done += n
        if self.report is not None:
            self.report(self.done, self.total)


_SYNC_EVERY = 256 << 20  # bytes written between two background fdatasync calls


def _write_sources(fh: IO[bytes], sources: Sequence[_Source], step: int, counter: _Counter) -> None:
    """Draw each tensor region by region and append its bytes; drawing the next region overlaps writing this one.

    One background thread writes while the main thread draws (NumPy's writes and the kernel release the GIL),
    with at most two regions in flight, and syncs every 256 MiB so that the disk writes back during the drawing.
    """
    pending: list[tuple[threading.Thread, list[BaseException]]] = []

    def finish() -> None:
        while pending:
            t, errs = pending.pop(0)
            t.join()
            if errs:
                raise errs[0]

    unsynced = [0]

    def write(block: np.ndarray[Any, Any], errs: list[BaseException]) -> None:
        try:
            _write_block(fh, block)
            unsynced[0] += block.nbytes
            if unsynced[0] >= _SYNC_EVERY:  # write back while the next region is drawn: the final fsync is short
                unsynced[0] = 0
                fh.flush()
                with contextlib.suppress(OSError, AttributeError, ValueError):
                    os.fdatasync(fh.fileno())
        except BaseException as err:  # re-raised in the main thread
            errs.append(err)

    buffers: list[np.ndarray[Any, Any] | None] = [None, None]  # drawn into in turn: one is written meanwhile
    turn = 0
    try:
        for s in sources:
            law = s.law()
            storage = resolve_dtype(s.dtype)[1]
            for region, n in regions(s.shape, step):
                if law is not None and n >= 4096:
                    buf = buffers[turn]
                    if buf is None or buf.dtype != storage or buf.size < n:
                        buf = buffers[turn] = np.empty(max(n, min(step, s.size)), storage)
                    block = buf[:n]
                    draw_into(block, s.shape, s.dtype, law[0], law[1], region)
                    turn ^= 1
                else:
                    block = s.block(region)
                finish()  # the previous region is on its way to the file
                if n * s.dtype.itemsize < (1 << 20):
                    _write_block(fh, block)
                else:
                    errs: list[BaseException] = []
                    t = threading.Thread(target=write, args=(block, errs), daemon=True)
                    t.start()
                    pending.append((t, errs))
                counter.add(n)
        finish()
    finally:
        for t, _ in pending:  # an exception in the main thread: no write may land after the file is removed
            t.join()


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


def _zarr_refusal(path: Path) -> str | None:
    return _files.replace_refusal(path, "zarr")


def _install_dir(tmp: Path, target: Path, force: bool = False,
                 refusal: Callable[[Path], str | None] = _zarr_refusal) -> None:
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
    why = refusal(target)
    if why is not None:
        raise _refused_at_publish(target, why)
    mode = _files.kept_mode(target, directory=True)
    if mode is not None:
        os.chmod(tmp, mode)
    if _exchange(tmp, target):
        why = refusal(tmp)  # tmp now holds what was at the target
        if why is not None:
            _exchange(tmp, target)
            raise _refused_at_publish(target, why)
        _remove(tmp)
        return
    aside = Path(tempfile.mktemp(prefix=_files.temp_prefix(target, ".old"), suffix=".old", dir=target.parent))
    os.replace(target, aside)
    why = refusal(aside)
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
    allowed = "a safetensors checkpoint folder" if "safetensors" in why else "a Zarr store"
    return InvalidArgumentError(
        f"could not write {str(target)!r}: it is now {why}; force=True (--force) replaces only a file or "
        f"{allowed}. Nothing was deleted and this output was discarded."
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


def _compressors(compressor: Any) -> Any:
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
    compressor: str | None = "none",
    provenance: bool | Mapping[str, Any] | None = True,
    storage_options: Mapping[str, Any] | None = None,
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
        compressor: ``"none"`` (None, the default: random floats barely
            compress, zstd saves about 7 % and costs a third more time),
            ``"zstd"`` or ``"zstd:LEVEL"``, ``"gzip"`` or ``"gzip:LEVEL"``, ``"blosc"``.
        provenance: True (the default) stores varscale's record (versions, the
            initializer's config and stream) as the Zarr attribute ``"varscale"``,
            which :func:`verify` re-draws from; a mapping adds fields; None stores none.
        storage_options: for a URL ``path``, the fsspec file system's options
            (credentials, endpoint).

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
    url = _is_url(path)
    target = Path("-") if url else check_target(path, force, "path", kind="zarr")
    fs_root = _url_target(str(path), force, storage_options) if url else None
    check_initializer(init)
    dims = check_shape(shape)
    out_dtype = resolve_dtype(dtype)[0]
    if out_dtype.name == "bfloat16":
        raise InvalidArgumentError(
            "`dtype` must be float16, float32 or float64 for Zarr (the Zarr v3 specification and zarr-python have "
            "no bfloat16 data type); received dtype='bfloat16'. Write bfloat16 with write_safetensors or write_npy."
        )
    codecs = _compressors(compressor)
    src = _Source("array", init, dims, out_dtype)  # its one stream: the record's and every chunk's
    record = None if provenance is None or provenance is False else _record(
        [src], {} if provenance is True else provenance)
    if fs_root is None:
        check_space(target, math.prod(dims) * out_dtype.itemsize,  # before Dask plans chunks or a graph
                    f"shape={dims!r} and dtype={out_dtype.name!r}")
    zchunks = _zarr_chunks(dims, out_dtype, chunks)
    report = _check_progress(progress)
    import zarr

    from . import dask as vdask

    arr = vdask.array(init, dims, out_dtype, chunks=zchunks, seed=src.stream)
    attributes = {PROVENANCE_KEY: record} if record is not None else None
    if fs_root is not None:
        return _write_zarr_url(str(path), fs_root, force, storage_options, arr, dims, zchunks, out_dtype, codecs,
                               attributes, report)
    try:
        tmp = Path(tempfile.mkdtemp(prefix=_files.temp_prefix(target), suffix=".partial", dir=target.parent))
    except OSError as err:
        raise _files.write_error(target, err) from err
    sink: _StoreTarget | None = None
    try:
        os.chmod(tmp, default_mode(directory=True))  # mkdtemp's folder is private (0700)
        z = zarr.create_array(store=str(tmp), shape=dims, chunks=zchunks if dims else (), dtype=out_dtype,
                              zarr_format=3, overwrite=True, compressors=codecs, attributes=attributes)
        sink = _StoreTarget(z)
        _fill_zarr(z, sink, arr, dims, zchunks, report)
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


def _fill_zarr(z: Any, sink: _StoreTarget, arr: Any, dims: tuple[int, ...], zchunks: tuple[int, ...],
               report: Progress | None) -> None:
    """Store the Dask array ``arr`` into ``z`` (through ``sink``) a band of chunk rows at a time."""
    import dask.array as da

    total = math.prod(dims)
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


_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*://")


def _is_url(path: Any) -> bool:
    """True for an fsspec URL (``s3://…``, ``memory://…``, ``file://…``), not for a local path."""
    return isinstance(path, str) and bool(_URL.match(path))


def _url_target(url: str, force: bool, storage_options: Mapping[str, Any] | None) -> tuple[Any, str]:
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


def _write_zarr_url(url: str, fs_root: tuple[Any, str], force: bool, storage_options: Mapping[str, Any] | None,
                    arr: Any, dims: tuple[int, ...], zchunks: tuple[int, ...], dtype: np.dtype[Any], codecs: Any,
                    attributes: Any, report: Progress | None) -> str:
    import secrets

    import zarr

    fs, root = fs_root
    parent, _, name = root.rpartition("/")
    tmp_root = f"{parent}/.{name}.{secrets.token_hex(4)}.partial"
    sink: _StoreTarget | None = None
    try:
        options = dict(storage_options or {})
        protocols = (fs.protocol,) if isinstance(fs.protocol, str) else tuple(fs.protocol)
        if {"file", "local"} & set(protocols):
            options.setdefault("auto_mkdir", True)  # fsspec's local file system creates no folder by itself
        z = zarr.create_array(store=fs.unstrip_protocol(tmp_root), shape=dims, chunks=zchunks if dims else (),
                              dtype=dtype, zarr_format=3, compressors=codecs, attributes=attributes,
                              storage_options=options or None)
        sink = _StoreTarget(z)
        _fill_zarr(z, sink, arr, dims, zchunks, report)
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

#: the ``__metadata__`` key (safetensors), index ``metadata`` key and Zarr attribute holding varscale's record
PROVENANCE_KEY = "varscale"


def _dumps(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"), sort_keys=True, ensure_ascii=False, allow_nan=False)


def _entry(src: _Source) -> dict[str, Any]:
    """What :func:`verify` needs to re-draw one tensor, as far as the source itself says."""
    if src.init is not None:
        from ._registry import serialize

        cfg = serialize(src.init)
        cfg["config"] = dict(cfg["config"], seed=None)
        return {"initializer": cfg, "stream": [src.stream.seed, src.stream.stream]}
    if src.bound is not None:
        return {"label": str(src.bound.plan.label)}  # a plan without its rule text cannot be re-drawn
    return {"source": "array"}


def _record(sources: Sequence[_Source], given: Mapping[str, Any]) -> dict[str, Any]:
    """The provenance record of ``sources``: varscale's and the stream's versions, ``given``'s fields, each tensor's entry."""
    from . import __version__
    from .stream import STREAM_VERSION

    if not isinstance(given, Mapping):
        raise TypeError(f"`provenance` must be None, True or a mapping; received provenance={_short(given)}.")
    own = given.get("tensors", {})
    if not isinstance(own, Mapping):
        raise TypeError(f"`provenance['tensors']` must be a mapping name -> entry; received {_short(own)}.")
    record: dict[str, Any] = {k: v for k, v in given.items() if k != "tensors"}
    record.update(varscale_version=__version__, stream_version=STREAM_VERSION)
    record["tensors"] = {s.name: dict(own[s.name]) if s.name in own else _entry(s) for s in sources}
    try:
        _dumps(record)
    except (TypeError, ValueError) as err:
        raise TypeError(f"`provenance` must be JSON-serializable (str keys, finite numbers): {err}.") from None
    return record


def _for_file(record: Mapping[str, Any], names: Sequence[str]) -> dict[str, Any]:
    out = dict(record)
    out["tensors"] = {n: record["tensors"][n] for n in sorted(names)}
    return out


# -- sharded safetensors, as Hugging Face writes them ----------------------------------------------------------

#: Hugging Face's default shard size (``huggingface_hub`` / ``transformers``: decimal gigabytes)
MAX_SHARD_SIZE = "5GB"
INDEX_NAME = "model.safetensors.index.json"
_SIZE_UNITS = {"KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12,
               "KIB": 2**10, "MIB": 2**20, "GIB": 2**30, "TIB": 2**40, "B": 1}
_PLAN = ".varscale-resume.json"  # inside the unfinished folder only; never published


def parse_size(value: Any, argument: str = "max_shard_size") -> int:
    """Bytes from an int or a size string: ``"5GB"`` (10⁹, as Hugging Face reads it), ``"2GiB"``, ``"500MB"``, ``"1024"``.

    Example:
        >>> parse_size("5GB"), parse_size("1.5GiB"), parse_size(4096)
        (5000000000, 1610612736, 4096)
    """
    if isinstance(value, int) and not isinstance(value, bool):
        n = value
    elif isinstance(value, str):
        text = value.strip().upper().replace(" ", "")
        unit = next((u for u in sorted(_SIZE_UNITS, key=len, reverse=True) if text.endswith(u)), "")
        number = text[: len(text) - len(unit)] if unit else text
        try:
            n = int(float(number) * _SIZE_UNITS.get(unit, 1))
        except (ValueError, OverflowError):
            n = 0
            if not unit or not number:
                raise InvalidArgumentError(
                    f"`{argument}` must be a positive number of bytes, or a size such as '5GB' (KB, MB, GB, TB: "
                    f"powers of 10 as Hugging Face reads them; KiB, MiB, GiB, TiB: powers of 2); received "
                    f"{argument}={value!r}."
                ) from None
    else:
        raise TypeError(f"`{argument}` must be an int or a size string such as '5GB'; received {argument}={value!r}.")
    if n < 1:
        raise InvalidArgumentError(
            f"`{argument}` must be a positive number of bytes, or a size such as '5GB' (KB, MB, GB, TB: powers of "
            f"10 as Hugging Face reads them; KiB, MiB, GiB, TiB: powers of 2); received {argument}={value!r}."
        )
    return n


def shard_names(sizes: Sequence[tuple[str, int]], max_shard_size: Any = MAX_SHARD_SIZE) -> dict[str, list[str]]:
    """Group tensors into files exactly as Hugging Face does (``split_state_dict_into_shards_factory``).

    ``sizes`` is ``[(name, bytes)]`` in the state dict's order. Tensors are
    taken in that order; a tensor larger than ``max_shard_size`` gets a file
    of its own; otherwise a new file starts when the next tensor would make the
    current one exceed the limit. One file is ``model.safetensors``; several
    are ``model-0000k-of-0000n.safetensors``. Returns ``{file name: [tensor names]}``.

    Example:
        >>> shard_names([("a", 6), ("b", 6), ("c", 2), ("d", 6), ("e", 2), ("f", 2)], 10)
        {'model-00001-of-00003.safetensors': ['a'], 'model-00002-of-00003.safetensors': ['b', 'c'], \
'model-00003-of-00003.safetensors': ['d', 'e', 'f']}
    """
    limit = parse_size(max_shard_size)
    shards: list[list[str]] = []
    current: list[str] = []
    size = 0
    for name, nbytes in sizes:
        if nbytes > limit:
            shards.append([name])
            continue
        if size + nbytes > limit:
            shards.append(current)
            current, size = [], 0
        current.append(name)
        size += nbytes
    if current:
        shards.append(current)
    if len(shards) <= 1:
        return {"model.safetensors": shards[0] if shards else []}
    n = len(shards)
    return {f"model-{i + 1:05d}-of-{n:05d}.safetensors": names for i, names in enumerate(shards)}


def _index_bytes(files: Mapping[str, Sequence[_Source]], record: Mapping[str, Any]) -> bytes:
    """``model.safetensors.index.json`` as ``transformers``' ``save_pretrained`` writes it (sorted keys, indent 2)."""
    weight_map = {s.name: fname for fname, group in files.items() for s in group}
    total_size = sum(s.size * s.dtype.itemsize for group in files.values() for s in group)
    total_parameters = sum(s.size for group in files.values() for s in group)
    index = {"metadata": {"total_parameters": total_parameters, "total_size": total_size, PROVENANCE_KEY: record},
             "weight_map": weight_map}
    return (json.dumps(index, indent=2, sort_keys=True, allow_nan=False) + "\n").encode("utf-8")


def _is_checkpoint_dir(path: Path) -> bool:
    """A folder (not a link) holding only safetensors files and their index at its top: what ``force`` may replace."""
    try:
        if not path.is_dir() or path.is_symlink():
            return False
        names = os.listdir(path)
    except OSError:
        return False
    has = not names or any(n == INDEX_NAME or n == "model.safetensors" for n in names)  # or empty
    return has and all(
        (n.endswith(".safetensors") or n == INDEX_NAME) and (path / n).is_file() and not (path / n).is_symlink()
        for n in names
    )


def _checkpoint_refusal(path: Path) -> str | None:
    why = _files.replace_refusal(path, "file")
    if why is None or _is_checkpoint_dir(path):
        return None
    if path.is_dir():
        return (f"a folder that is not a safetensors checkpoint (it must hold only *.safetensors files and "
                f"{INDEX_NAME} or model.safetensors)")
    return why


def _check_dir_target(path: Any, force: bool, argument: str = "directory") -> Path:
    try:
        return check_target(path, False, argument)
    except _files.OutputExistsError:
        if not force:
            raise
    target = Path(path)
    why = _checkpoint_refusal(target)
    if why is not None:
        raise InvalidArgumentError(
            f"`{argument}` names {why}; received {argument}={os.fspath(path)!r}. force=True (--force) replaces "
            f"only a file or a safetensors checkpoint folder; nothing was deleted."
        )
    return target


class _Shard:
    def __init__(self, name: str, sources: list[_Source], meta: dict[str, str]) -> None:
        self.name = name
        self.sources = sorted(sources, key=lambda s: (-_ST_RANK[s.dtype.name], s.name))
        self.header = _safetensors_header(self.sources, meta)
        self.nbytes = len(self.header) + sum(s.size * s.dtype.itemsize for s in self.sources)
        self.elems = sum(s.size for s in self.sources)


def _plan_text(shards: Sequence[_Shard], index: bytes | None) -> str:
    return _dumps({"kind": "varscale sharded safetensors", "version": 1,
                   "files": {s.name: hashlib.sha256(s.header).hexdigest() for s in shards},
                   "index": None if index is None else hashlib.sha256(index).hexdigest()})


def unfinished(path: str | os.PathLike[str]) -> list[Path]:
    """The hidden unfinished folders (``.<name>.<random>.partial``) an interrupted sharded write left for ``path``."""
    target = Path(path)
    prefix = _files.temp_prefix(target)
    try:
        entries = list(target.parent.iterdir())
    except OSError:
        return []
    return sorted(p for p in entries if p.name.startswith(prefix) and p.name.endswith(".partial")
                  and p.is_dir() and not p.is_symlink() and (p / _PLAN).is_file())


@contextlib.contextmanager
def _locked(plan: Path) -> Iterator[None]:
    """Hold an exclusive lock on the unfinished folder's plan file (one writer per folder)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX: no lock
        yield
        return
    fd = os.open(plan, os.O_RDONLY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise _BusyError(
                f"another process is writing {str(plan.parent)!r} (its lock is held); wait for it or stop it "
                f"before resuming."
            ) from None
        yield
    finally:
        os.close(fd)


class _BusyError(InvalidArgumentError):
    """Another process holds the unfinished folder's lock."""


def _shard_ok(path: Path, shard: _Shard, sample: int) -> bool:
    """A finished shard file is kept on resume if its size and header are the expected ones and sampled regions match."""
    try:
        if path.stat().st_size != shard.nbytes:
            return False
        with open(path, "rb") as fh:
            if fh.read(len(shard.header)) != shard.header:
                return False
            offset = len(shard.header)
            for s in shard.sources:
                if next(_compare(fh, offset, s.shape, s.dtype, s.block, sample), None) is not None:
                    return False
                offset += s.size * s.dtype.itemsize
    except OSError:
        return False
    return True


def write_safetensors_sharded(
    directory: str | os.PathLike[str],
    tensors: Mapping[str, tuple[Any, Any, Any]],
    *,
    max_shard_size: int | str = MAX_SHARD_SIZE,
    force: bool = False,
    resume: bool = False,
    progress: Progress | None = None,
    metadata: Mapping[str, str] | None = None,
    provenance: Mapping[str, Any] | None = None,
    chunk_elems: int = 1 << 24,
    client: Any = None,
) -> Path:
    """Write a sharded safetensors checkpoint folder as Hugging Face writes it: shard files and their index.

    Tensors are grouped into files exactly as ``huggingface_hub``'s
    ``split_torch_state_dict_into_shards`` (and so ``transformers``'
    ``save_pretrained``) groups them: in ``tensors``' order, a new file when
    the next tensor would pass ``max_shard_size`` bytes, a tensor larger than
    that alone in its file. Several files are named
    ``model-0000k-of-0000n.safetensors`` and listed in
    ``model.safetensors.index.json`` (``{"metadata": {"total_parameters",
    "total_size", "varscale"}, "weight_map": {tensor: file}}``, sorted keys,
    indent 2, as ``save_pretrained`` writes it); one file is
    ``model.safetensors`` without an index. Inside each file tensors are laid
    out as the safetensors library lays them out, and its ``__metadata__``
    holds ``{"format": "pt", "varscale": <JSON record>}``: varscale's and the
    stream's versions, ``provenance``'s fields (the CLI records the seed,
    layout and each tensor's rule) and each tensor's entry, what
    :func:`verify` re-draws from.

    The folder is written under a hidden name beside the target
    (``.<name>.<random>.partial``), each shard file atomically inside it, and
    renamed onto ``directory`` once every file is complete and synced (an
    existing target is refused unless ``force=True``, which replaces only a
    file or a safetensors checkpoint folder). An interruption
    (``KeyboardInterrupt``, the CLI's SIGTERM) or a killed process keeps the
    finished shard files in that hidden folder; ``resume=True`` finds it,
    checks each finished file (size, header, sampled regions re-drawn) and
    writes only the others: the result is byte for byte that of an
    uninterrupted run. Any other error removes the hidden folder.

    Args:
        directory: the target folder (its parent must exist).
        tensors: ``name -> (source, shape, dtype)`` as for :func:`write_safetensors`.
        max_shard_size: bytes per file, an int or ``"5GB"``-style text
            (KB/MB/GB/TB are powers of 10 as in Hugging Face; KiB/MiB/GiB/TiB powers of 2).
        force: replace an existing file or safetensors checkpoint folder.
        resume: continue an interrupted write of the same tensors (no unfinished folder: start afresh;
            the finished checkpoint already at ``directory``: nothing to do, so a requeued job succeeds).
        progress: ``progress(done, total)`` in elements over all tensors.
        metadata: extra ``str -> str`` pairs for every file's ``__metadata__``.
        provenance: fields for the record (``seed``, ``layout``, ``tensors: {name: entry}``).
        chunk_elems: elements per region drawn.
        client: a ``dask.distributed.Client``: each shard file is drawn and
            written by one task on the cluster's workers, in parallel (the
            folder must be on a file system every worker shares; sources
            must be initializers or plans, not arrays). Each task draws on as
            many threads as its worker has. None: this process writes the files.

    Returns:
        The target folder.

    Example:
        >>> import json, tempfile, pathlib
        >>> import varscale as vs
        >>> from varscale.io import write_safetensors_sharded
        >>> tensors = {f"layer{i}.weight": (vs.HeNormal(seed=vs.derive_stream(0, f"layer{i}.weight")), (64, 64), None)
        ...            for i in range(3)}
        >>> d = write_safetensors_sharded(pathlib.Path(tempfile.mkdtemp()) / "ckpt", tensors, max_shard_size="40KB")
        >>> sorted(p.name for p in d.iterdir())
        ['model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors', 'model.safetensors.index.json']
        >>> json.loads((d / "model.safetensors.index.json").read_text())["weight_map"]["layer2.weight"]
        'model-00002-of-00002.safetensors'
    """
    done_already = False
    try:
        target = _check_dir_target(directory, force)
    except _files.OutputExistsError:
        if not resume:
            raise
        target, done_already = Path(directory), True
    sources = _check_tensors(tensors)
    meta = _check_metadata(metadata)
    limit = parse_size(max_shard_size)
    step = _check_chunk_elems(chunk_elems)
    report = _check_progress(progress)
    record = _record(sources, {} if provenance is None else provenance)
    by_name = {s.name: s for s in sources}
    groups = shard_names([(s.name, s.size * s.dtype.itemsize) for s in sources], limit)
    shards = []
    for fname, names in groups.items():
        file_meta = {"format": "pt", **(meta or {}), PROVENANCE_KEY: _dumps(_for_file(record, names))}
        shards.append(_Shard(fname, [by_name[n] for n in names], file_meta))
    index = _index_bytes({s.name: s.sources for s in shards}, record) if len(shards) > 1 else None
    plan_text = _plan_text(shards, index)
    if done_already:  # resume=True after a run that finished: the same checkpoint is there, nothing to do
        if not _is_complete(target, shards, index):
            raise _files.OutputExistsError(
                f"`directory` names an existing folder that is not the checkpoint these arguments make (nothing to "
                f"resume); received directory={os.fspath(directory)!r}. Pass force=True (--force) to overwrite it."
            )
        if report is not None:
            total = sum(s.elems for s in shards)
            report(total, total)
        return target
    tmp: Path | None = None
    if resume:
        found = unfinished(target)
        same = [p for p in found if _read_text(p / _PLAN) == plan_text]
        if found and not same:
            raise InvalidArgumentError(
                f"cannot resume {str(target)!r}: {len(found)} unfinished folder(s) for it were made with other "
                f"arguments (tensors, shapes, dtypes, rules, seed or max_shard_size differ): "
                f"{', '.join(repr(p.name) for p in found[:3])}. Run with the same arguments, or without resume "
                f"(and delete those folders)."
            )
        tmp = same[-1] if same else None
    needed = sum(s.nbytes for s in shards) + (len(index) if index is not None else 0)
    if tmp is not None:
        needed -= sum(s.nbytes for s in shards if (tmp / s.name).is_file())
    check_space(target, max(0, needed), _describe(sources))
    fresh = tmp is None
    if tmp is None:
        try:
            tmp = Path(tempfile.mkdtemp(prefix=_files.temp_prefix(target), suffix=".partial", dir=target.parent))
            os.chmod(tmp, default_mode(directory=True))
            (tmp / _PLAN).write_text(plan_text)
        except OSError as err:
            if tmp is not None:
                _remove(tmp)
            raise _files.write_error(target, err) from err
    try:
        with _locked(tmp / _PLAN):
            for leftover in tmp.iterdir():  # a killed writer's half-written shard
                if leftover.name.endswith(".partial"):
                    _remove(leftover)
            total = sum(s.elems for s in shards)
            counter = _Counter(total, report)
            todo = []
            for s in shards:
                if not fresh and (tmp / s.name).is_file() and _shard_ok(tmp / s.name, s, 4):
                    counter.done += s.elems
                else:
                    _remove(tmp / s.name)
                    todo.append(s)
            if counter.done and report is not None:
                report(counter.done, total)
            if client is not None:
                _write_on_cluster(client, tmp, todo, step, counter)
            for s in todo if client is None else []:
                with atomic_output(tmp / s.name) as fh:
                    fh.write(s.header)
                    _write_sources(fh, s.sources, step, counter)
            if index is not None:
                with atomic_output(tmp / INDEX_NAME, force=True) as fh:
                    fh.write(index)
            _fsync_tree(tmp)
            os.unlink(tmp / _PLAN)  # from here on the folder is no longer resumable: it is being published
            _install_dir(tmp, target, force, _checkpoint_refusal)
    except KeyboardInterrupt as err:
        if tmp.is_dir() and (tmp / _PLAN).exists():
            err.varscale_partial = str(tmp)  # type: ignore[attr-defined]
            err.varscale_finished = sum((tmp / s.name).is_file() for s in shards)  # type: ignore[attr-defined]
            err.varscale_files = len(shards)  # type: ignore[attr-defined]
        else:
            _remove(tmp)
        raise
    except BaseException as err:
        if not isinstance(err, _BusyError):
            _remove(tmp)
        if isinstance(err, OSError) and not isinstance(err, VarscaleError):
            raise _files.write_error(target, err, tmp) from err
        raise
    return target


def _shard_task(path: str, header: bytes, sources: list[_Source], step: int) -> int:
    """One shard file written on a Dask worker (drawing on as many threads as the worker has)."""
    with contextlib.suppress(ImportError, ValueError):
        import numba
        from distributed import get_worker

        numba.set_num_threads(max(1, min(numba.config.NUMBA_NUM_THREADS, get_worker().state.nthreads)))
    with atomic_output(Path(path)) as fh:
        fh.write(header)
        _write_sources(fh, sources, step, _Counter(0, None))
    return sum(s.size for s in sources)


def _write_on_cluster(client: Any, tmp: Path, todo: Sequence[_Shard], step: int, counter: _Counter) -> int:
    """Submit one task per shard file, largest first; returns the number written. Interrupted: cancels the rest."""
    from distributed import as_completed

    for s in todo:
        for src in s.sources:
            if src.array is not None:
                raise InvalidArgumentError(
                    f"tensor {src.name!r}: with a Dask client every tensor must come from an initializer or a "
                    f"rule (drawn on the workers); received an array."
                )
    futures = [client.submit(_shard_task, str(tmp / s.name), s.header, s.sources, step, pure=False,
                             key=f"varscale-shard-{s.name}-{os.getpid()}-{id(s)}")
               for s in sorted(todo, key=lambda s: -s.nbytes)]
    written = 0
    try:
        for fut in as_completed(futures):
            counter.add(fut.result())
            written += 1
    except BaseException:
        client.cancel(futures)
        raise
    return written


def _is_complete(target: Path, shards: Sequence[_Shard], index: bytes | None) -> bool:
    """``target`` holds exactly these shard files (size and header) and this index: a finished run's output."""
    try:
        names = set(os.listdir(target))
        want = {s.name for s in shards} | ({INDEX_NAME} if index is not None else set())
        if names != want or (index is not None and (target / INDEX_NAME).read_bytes() != index):
            return False
        for s in shards:
            if (target / s.name).stat().st_size != s.nbytes:
                return False
            with open(target / s.name, "rb") as fh:
                if fh.read(len(s.header)) != s.header:
                    return False
    except OSError:
        return False
    return True


def _read_text(path: Path) -> str | None:
    try:
        return path.read_text()
    except (OSError, UnicodeDecodeError):
        return None


# -- verify: re-draw sampled regions from a file's own record ---------------------------------------------------

_ST_NAMES = {v: k for k, v in _ST_DTYPES.items()}
_RUN = 4096  # elements per sampled region


def _run_layout(shape: tuple[int, ...], chunk_elems: int) -> tuple[int, int, int]:
    """``(k, inner, step)`` of :func:`regions`: the axis the runs go along, elements under one of its indices, its
    indices per run."""
    k = len(shape) - 1
    while k > 0 and math.prod(shape[k:]) <= chunk_elems:
        k -= 1
    inner = math.prod(shape[k + 1:])
    return k, inner, max(1, chunk_elems // inner)


def _sampled(shape: tuple[int, ...], sample: int | None) -> Iterator[tuple[tuple[slice, ...], int, int]]:
    """``(region, flat start, elements)``: the first and last C-order runs of :func:`regions` (about 4096
    elements) and ``sample`` others at random; every element when ``sample`` is None or the runs would cover
    the tensor."""
    size = math.prod(shape)
    if size == 0:
        return
    if sample is None or not shape or size <= (sample + 2) * _RUN:
        start = 0
        for region, n in regions(shape, 1 << 22):
            yield region, start, n
            start += n
        return
    k, inner, step = _run_layout(shape, _RUN)
    per_lead = -(-shape[k] // step)  # runs under one index of the leading axes
    count = math.prod(shape[:k]) * per_lead
    picks = {0, count - 1, *(int(x) for x in np.random.default_rng().integers(0, count, sample))}
    for i in sorted(picks):
        lead, j = divmod(i, per_lead)
        idx = np.unravel_index(lead, shape[:k]) if k else ()
        a, b = j * step, min((j + 1) * step, shape[k])
        region = (*(slice(int(x), int(x) + 1) for x in idx), slice(a, b), *(slice(None) for _ in shape[k + 1:]))
        yield region, lead * shape[k] * inner + a * inner, (b - a) * inner


def _as_bytes(block: np.ndarray[Any, Any]) -> bytes:
    arr = np.ascontiguousarray(block)
    if sys.byteorder == "big":  # pragma: no cover - every supported platform is little endian
        arr = arr.byteswap()
    return arr.reshape(-1).view(np.uint8).tobytes()


def _compare_with(read: Callable[[tuple[slice, ...], int, int], bytes], shape: tuple[int, ...],
                  dtype: np.dtype[Any], block: Callable[[tuple[slice, ...]], np.ndarray[Any, Any]],
                  sample: int | None) -> Iterator[str]:
    """Each sampled region whose stored bytes differ from the re-drawn ones, described."""
    size = dtype.itemsize
    for region, start, n in _sampled(shape, sample):
        want = _as_bytes(block(region))
        got = read(region, start, n)
        if got != want:
            k = next((i for i in range(0, min(len(got), len(want)), size) if got[i:i + size] != want[i:i + size]),
                     min(len(got), len(want)))
            yield f"flat element {start + k // size} differs from the re-drawn value" if len(got) == len(want) \
                else f"the data ends at flat element {start + len(got) // size} (truncated)"


def _compare(fh: IO[bytes], offset: int, shape: tuple[int, ...], dtype: np.dtype[Any],
             block: Callable[[tuple[slice, ...]], np.ndarray[Any, Any]], sample: int | None) -> Iterator[str]:
    def read(region: tuple[slice, ...], start: int, n: int) -> bytes:
        fh.seek(offset + start * dtype.itemsize)
        return fh.read(n * dtype.itemsize)

    return _compare_with(read, shape, dtype, block, sample)


def _redraw(name: str, entry: Any, record: Mapping[str, Any], shape: tuple[int, ...],
            dtype: np.dtype[Any]) -> Callable[[tuple[slice, ...]], np.ndarray[Any, Any]] | str:
    """A function drawing regions of tensor ``name`` from its record entry, or why it cannot be re-drawn."""
    from .stream import Stream, derive_stream

    if not isinstance(entry, Mapping):
        return "no record for this tensor"
    if "rule" in entry and isinstance(entry["rule"], str):
        from ._rules import BoundPlan, plan_param, resolve
        from .cli import _cli_rule

        seed = record.get("seed")
        if isinstance(seed, bool) or not isinstance(seed, int):
            return "the record has no integer seed"
        init = resolve(_cli_rule(entry["rule"]), layout=str(entry.get("layout") or "tf"),
                       where=f"recorded rule {entry['rule']!r}")
        bound = BoundPlan(plan_param(init, shape, str(entry.get("fans") or "tf")), derive_stream(seed, name))
        return lambda region: bound.block(shape, dtype, region)
    if "initializer" in entry and "stream" in entry:
        from ._registry import deserialize

        init = deserialize(entry["initializer"])
        stream = Stream(*(int(x) for x in entry["stream"]))
        if not isinstance(init, VarianceScaling):
            return f"recorded initializer {type(init).__name__} is not re-drawn by verify"
        sampler = init.sampler(shape)
        return lambda region: draw(shape, dtype, sampler, stream, region=region)
    if entry.get("source") == "array":
        return "written from an array (nothing to re-draw)"
    return "the record does not say how to re-draw it"


class VerifyReport:
    """What :func:`verify` found: ``checked`` tensors, ``mismatches`` and ``skipped`` as ``(file, tensor, why)``."""

    def __init__(self) -> None:
        self.files: list[str] = []
        self.checked: list[tuple[str, str]] = []
        self.mismatches: list[tuple[str, str, str]] = []
        self.skipped: list[tuple[str, str, str]] = []
        self.records: list[Mapping[str, Any]] = []

    @property
    def ok(self) -> bool:
        """True when no region differed and every file had a record."""
        return not self.mismatches

    def __repr__(self) -> str:
        return (f"VerifyReport(files={len(self.files)}, checked={len(self.checked)}, "
                f"mismatches={len(self.mismatches)}, skipped={len(self.skipped)})")


def _load_record(raw: Any, where: str) -> Mapping[str, Any] | str:
    if raw is None:
        return f"{where} has no varscale record (it was not written by varscale with provenance)"
    try:
        rec = json.loads(raw) if isinstance(raw, str) else raw
    except (ValueError, RecursionError):
        return f"{where} has a varscale record that is not JSON"
    if not isinstance(rec, Mapping) or not isinstance(rec.get("tensors"), Mapping):
        return f"{where} has a varscale record without tensors"
    from .stream import STREAM_VERSION

    if rec.get("stream_version") != STREAM_VERSION:
        return (f"{where} was drawn with stream version {rec.get('stream_version')!r}; this varscale draws "
                f"version {STREAM_VERSION}")
    return rec


def _verify_safetensors(path: Path, report: VerifyReport, sample: int | None,
                        fallback: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Check one safetensors file; returns its header (tensor entries)."""
    shown = path.name
    report.files.append(str(path))
    try:
        with open(path, "rb") as fh:
            head = fh.read(8)
            if len(head) < 8:
                report.mismatches.append((shown, "-", "not a safetensors file (shorter than 8 bytes)"))
                return {}
            (n,) = struct.unpack("<Q", head)
            if n > 100_000_000:
                report.mismatches.append((shown, "-", f"not a safetensors file (header length {n})"))
                return {}
            try:
                header = json.loads(fh.read(n))
            except (ValueError, UnicodeDecodeError, RecursionError):
                report.mismatches.append((shown, "-", "the safetensors header is not JSON"))
                return {}
            if not isinstance(header, dict):
                report.mismatches.append((shown, "-", "the safetensors header is not a JSON object"))
                return {}
            meta = header.get("__metadata__") or {}
            rec = _load_record(meta.get(PROVENANCE_KEY) if isinstance(meta, dict) else None, shown)
            if isinstance(rec, str) and fallback is not None:
                rec = fallback
            if isinstance(rec, str):
                report.mismatches.append((shown, "-", rec))
                return header
            report.records.append(rec)
            end = 8 + n
            size = os.fstat(fh.fileno()).st_size
            for name, info in header.items():
                if name == "__metadata__":
                    continue
                try:
                    dtype = resolve_dtype(_ST_NAMES[info["dtype"]])[0]
                    shape = tuple(int(d) for d in info["shape"])
                    a, b = (int(x) for x in info["data_offsets"])
                except (KeyError, TypeError, ValueError):
                    report.mismatches.append((shown, name, f"a header entry varscale does not read: {_short(info)}"))
                    continue
                if b - a != math.prod(shape) * dtype.itemsize or end + b > size:
                    report.mismatches.append((shown, name, "its data offsets do not match its shape or the file size"))
                    continue
                how = _redraw(name, rec["tensors"].get(name), rec, shape, dtype)
                if isinstance(how, str):
                    report.skipped.append((shown, name, how))
                    continue
                bad = next(_compare(fh, end + a, shape, dtype, how, sample), None)
                if bad is not None:
                    report.mismatches.append((shown, name, bad))
                else:
                    report.checked.append((shown, name))
            return header
    except OSError as err:
        report.mismatches.append((shown, "-", f"cannot be read: {err}"))
        return {}


def _verify_zarr(path: Path | str, report: VerifyReport, sample: int | None) -> None:
    import zarr

    report.files.append(str(path))
    shown = str(path).rstrip("/").rpartition("/")[2]
    z = zarr.open_array(str(path), mode="r")
    rec = _load_record(z.attrs.get(PROVENANCE_KEY), shown)
    if isinstance(rec, str):
        report.mismatches.append((shown, "-", rec))
        return
    report.records.append(rec)
    dtype = resolve_dtype(np.dtype(z.dtype).name)[0]
    shape = tuple(z.shape)
    name = next(iter(rec["tensors"]), "array")
    how = _redraw(name, rec["tensors"].get(name), rec, shape, dtype)
    if isinstance(how, str):
        report.skipped.append((shown, name, how))
        return

    def read(region: tuple[slice, ...], start: int, n: int) -> bytes:
        return _as_bytes(np.asarray(z[region] if region else z[...], dtype=dtype))

    bad = next(_compare_with(read, shape, dtype, how, sample), None)
    if bad is not None:
        report.mismatches.append((shown, name, bad))
    else:
        report.checked.append((shown, name))


def verify(path: str | os.PathLike[str], sample: int | None = 8) -> VerifyReport:
    """Re-draw sampled regions of every tensor in a file from the file's own varscale record and compare.

    ``path`` is a safetensors file, a sharded checkpoint folder (its
    ``model.safetensors.index.json`` is checked too: every listed file and
    tensor present, ``total_size`` right) or a Zarr store written by varscale
    with provenance (the CLI always records it). For each tensor, its first and
    last C-order runs of about 4096 elements and ``sample`` others at random
    are re-drawn (a tensor that small is checked whole); ``sample=None``
    checks every element. A tensor written from an array is skipped (listed
    in ``skipped``).

    Example:
        >>> import tempfile, pathlib
        >>> import varscale as vs
        >>> from varscale.io import verify, write_safetensors
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "m.safetensors"
        >>> _ = write_safetensors(p, {"w": (vs.HeNormal(seed=1), (300, 200), None)}, provenance=True)
        >>> verify(p).ok
        True
    """
    if sample is not None and (isinstance(sample, bool) or not isinstance(sample, int) or sample < 0):
        raise InvalidArgumentError(
            f"`sample` must be None (every element) or a non-negative int (regions per tensor); received "
            f"sample={sample!r}."
        )
    report = VerifyReport()
    if _is_url(path):  # a Zarr store behind an fsspec URL
        _verify_zarr(str(path), report, sample)
        return report
    p = Path(path)
    if p.is_file():
        _verify_safetensors(p, report, sample)
        return report
    if not p.is_dir():
        raise InvalidArgumentError(f"`path` must be a safetensors file, a checkpoint folder or a Zarr store; "
                                   f"received path={os.fspath(path)!r}, which does not exist.")
    if _files.is_zarr_store(p):
        _verify_zarr(p, report, sample)
        return report
    if (p / INDEX_NAME).is_file():
        try:
            index = json.loads((p / INDEX_NAME).read_text(encoding="utf-8"))
            weight_map = index["weight_map"]
            meta = index.get("metadata") or {}
            assert isinstance(weight_map, dict) and isinstance(meta, dict)
        except (OSError, ValueError, KeyError, TypeError, AssertionError, RecursionError):
            report.mismatches.append((INDEX_NAME, "-", "not a safetensors index (no weight_map)"))
            return report
        rec = _load_record(meta.get(PROVENANCE_KEY), INDEX_NAME)
        fallback = None if isinstance(rec, str) else rec
        total = 0
        for fname in sorted(set(weight_map.values())):
            f = p / str(fname)
            if not f.is_file():
                report.mismatches.append((str(fname), "-", "listed in the index but missing"))
                continue
            header = _verify_safetensors(f, report, sample, fallback)
            listed = {k for k, v in weight_map.items() if v == fname}
            present = {k for k in header if k != "__metadata__"}
            for k in sorted(listed - present):
                report.mismatches.append((str(fname), k, "listed in the index but not in this file"))
            for k in sorted(present - listed):
                report.mismatches.append((str(fname), k, "in this file but not listed in the index"))
            for k in present:
                with contextlib.suppress(KeyError, TypeError, ValueError):
                    a, b = header[k]["data_offsets"]
                    total += int(b) - int(a)
        size = meta.get("total_size")
        if size is not None and size != total and not any(m[2].endswith("missing") for m in report.mismatches):
            report.mismatches.append((INDEX_NAME, "-", f"metadata.total_size is {size}, the files hold {total} bytes"))
        return report
    if (p / "model.safetensors").is_file():
        _verify_safetensors(p / "model.safetensors", report, sample)
        return report
    raise InvalidArgumentError(
        f"`path` names a folder with neither {INDEX_NAME}, model.safetensors nor Zarr metadata; received "
        f"path={os.fspath(path)!r}."
    )
