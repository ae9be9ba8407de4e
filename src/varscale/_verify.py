"""verify: re-draw sampled regions of a file from the file's own varscale record and compare the bytes.

Also the comparison a resumed write uses to keep a finished file: each
tensor's first and last C-order runs of about 4096 elements and some others
at random, re-drawn and compared byte for byte.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import struct
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import IO, Any

import numpy as np

from . import _files
from ._dtypes import resolve_dtype
from ._errors import InvalidArgumentError
from ._provenance import PROVENANCE_KEY, load_record, redraw
from ._regions import le_bytes, regions, run_layout
from ._safetensors import INDEX_NAME, ST_DTYPES
from ._sources import short

__all__ = ["RUN", "VerifyReport", "compare", "compare_with", "sampled", "verify"]

ST_NAMES = {v: k for k, v in ST_DTYPES.items()}
RUN = 4096  # elements per sampled region


def sampled(shape: tuple[int, ...], sample: int | None) -> Iterator[tuple[tuple[slice, ...], int, int]]:
    """``(region, flat start, elements)``: the first and last C-order runs of :func:`regions` (about 4096
    elements) and ``sample`` others at random; every element when ``sample`` is None or the runs would cover
    the tensor."""
    size = math.prod(shape)
    if size == 0:
        return
    if sample is None or not shape or size <= (sample + 2) * RUN:
        start = 0
        for region, n in regions(shape, 1 << 22):
            yield region, start, n
            start += n
        return
    k, inner, step = run_layout(shape, RUN)
    per_lead = -(-shape[k] // step)  # runs under one index of the leading axes
    count = math.prod(shape[:k]) * per_lead
    picks = {0, count - 1, *(int(x) for x in np.random.default_rng().integers(0, count, sample))}
    for i in sorted(picks):
        lead, j = divmod(i, per_lead)
        idx = np.unravel_index(lead, shape[:k]) if k else ()
        a, b = j * step, min((j + 1) * step, shape[k])
        region = (*(slice(int(x), int(x) + 1) for x in idx), slice(a, b), *(slice(None) for _ in shape[k + 1:]))
        yield region, lead * shape[k] * inner + a * inner, (b - a) * inner


def _bytes_of(block: np.ndarray[Any, Any]) -> bytes:
    return le_bytes(block).tobytes()


def compare_with(read: Callable[[tuple[slice, ...], int, int], bytes], shape: tuple[int, ...],
                  dtype: np.dtype[Any], block: Callable[[tuple[slice, ...]], np.ndarray[Any, Any]],
                  sample: int | None) -> Iterator[str]:
    """Each sampled region whose stored bytes differ from the re-drawn ones, described."""
    size = dtype.itemsize
    for region, start, n in sampled(shape, sample):
        want = _bytes_of(block(region))
        got = read(region, start, n)
        if got != want:
            k = next((i for i in range(0, min(len(got), len(want)), size) if got[i:i + size] != want[i:i + size]),
                     min(len(got), len(want)))
            yield f"flat element {start + k // size} differs from the re-drawn value" if len(got) == len(want) \
                else f"the data ends at flat element {start + len(got) // size} (truncated)"


def compare(fh: IO[bytes], offset: int, shape: tuple[int, ...], dtype: np.dtype[Any],
             block: Callable[[tuple[slice, ...]], np.ndarray[Any, Any]], sample: int | None) -> Iterator[str]:
    def read(region: tuple[slice, ...], start: int, n: int) -> bytes:
        fh.seek(offset + start * dtype.itemsize)
        return fh.read(n * dtype.itemsize)

    return compare_with(read, shape, dtype, block, sample)


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


def verify_safetensors(path: Path, report: VerifyReport, sample: int | None,
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
            rec = load_record(meta.get(PROVENANCE_KEY) if isinstance(meta, dict) else None, shown)
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
                    dtype = resolve_dtype(ST_NAMES[info["dtype"]])[0]
                    shape = tuple(int(d) for d in info["shape"])
                    a, b = (int(x) for x in info["data_offsets"])
                except (KeyError, TypeError, ValueError):
                    report.mismatches.append((shown, name, f"a header entry varscale does not read: {short(info)}"))
                    continue
                if b - a != math.prod(shape) * dtype.itemsize or end + b > size:
                    report.mismatches.append((shown, name, "its data offsets do not match its shape or the file size"))
                    continue
                how = redraw(name, rec["tensors"].get(name), rec, shape, dtype)
                if isinstance(how, str):
                    report.skipped.append((shown, name, how))
                    continue
                bad = next(compare(fh, end + a, shape, dtype, how, sample), None)
                if bad is not None:
                    report.mismatches.append((shown, name, bad))
                else:
                    report.checked.append((shown, name))
            return header
    except OSError as err:
        report.mismatches.append((shown, "-", f"cannot be read: {err}"))
        return {}


def verify_zarr(path: Path | str, report: VerifyReport, sample: int | None) -> None:
    import zarr

    report.files.append(str(path))
    shown = str(path).rstrip("/").rpartition("/")[2]
    z = zarr.open_array(str(path), mode="r")
    rec = load_record(z.attrs.get(PROVENANCE_KEY), shown)
    if isinstance(rec, str):
        report.mismatches.append((shown, "-", rec))
        return
    report.records.append(rec)
    dtype = resolve_dtype(np.dtype(z.dtype).name)[0]
    shape = tuple(z.shape)
    name = next(iter(rec["tensors"]), "array")
    how = redraw(name, rec["tensors"].get(name), rec, shape, dtype)
    if isinstance(how, str):
        report.skipped.append((shown, name, how))
        return

    def read(region: tuple[slice, ...], start: int, n: int) -> bytes:
        return _bytes_of(np.asarray(z[region] if region else z[...], dtype=dtype))

    bad = next(compare_with(read, shape, dtype, how, sample), None)
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
    if _files.is_url(path):  # a Zarr store behind an fsspec URL
        verify_zarr(str(path), report, sample)
        return report
    p = Path(path)
    if p.is_file():
        verify_safetensors(p, report, sample)
        return report
    if not p.is_dir():
        raise InvalidArgumentError(f"`path` must be a safetensors file, a checkpoint folder or a Zarr store; "
                                   f"received path={os.fspath(path)!r}, which does not exist.")
    if _files.is_zarr_store(p):
        verify_zarr(p, report, sample)
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
        rec = load_record(meta.get(PROVENANCE_KEY), INDEX_NAME)
        fallback = None if isinstance(rec, str) else rec
        total = 0
        for fname in sorted(set(weight_map.values())):
            f = p / str(fname)
            if not f.is_file():
                report.mismatches.append((str(fname), "-", "listed in the index but missing"))
                continue
            header = verify_safetensors(f, report, sample, fallback)
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
        verify_safetensors(p / "model.safetensors", report, sample)
        return report
    raise InvalidArgumentError(
        f"`path` names a folder with neither {INDEX_NAME}, model.safetensors nor Zarr metadata; received "
        f"path={os.fspath(path)!r}."
    )
