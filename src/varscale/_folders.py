"""Publishing a complete folder (a Zarr store, a sharded checkpoint) at its target in one step.

The folder rules of varscale._files: the folder is completed and synced under
a hidden temporary name beside the target, then renamed onto it; an old
target (``force``) stays whole until that moment and is replaced only if it
is a file, a link or the kind of folder the caller allows.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from . import _files
from ._errors import InvalidArgumentError

__all__ = [
    "exchange",
    "fsync_tree",
    "install_dir",
    "refused_at_publish",
    "remove",
    "temp_dir",
    "zarr_refusal",
]


def temp_dir(target: Path) -> Path:
    """A new hidden folder beside ``target`` (``.<name>.<random>.partial``) with a new folder's permission bits."""
    try:
        tmp = Path(tempfile.mkdtemp(prefix=_files.temp_prefix(target), suffix=".partial", dir=target.parent))
    except OSError as err:
        raise _files.write_error(target, err) from err
    try:
        os.chmod(tmp, _files.default_mode(directory=True))  # mkdtemp's folder is private (0700)
    except OSError as err:
        remove(tmp)
        raise _files.write_error(target, err) from err
    return tmp


def _fsync(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_tree(root: Path) -> None:
    """Sync every file below ``root`` and each folder's entries (where the file system allows a folder's sync)."""
    for dirpath, _, files in os.walk(root):
        for f in files:
            _fsync(os.path.join(dirpath, f))
        with contextlib.suppress(OSError):
            _fsync(dirpath)


def exchange(a: Path, b: Path) -> bool:
    """Atomically swap two paths (Linux ``renameat2(RENAME_EXCHANGE)``); False where unsupported."""
    return _files.renameat2(a, b, _files.RENAME_EXCHANGE)


def remove(path: Path) -> None:
    """Delete a file, a link or a whole folder; nothing there is no error."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def zarr_refusal(path: Path) -> str | None:
    """Why ``force`` may not replace ``path`` by a Zarr store (None: it may)."""
    return _files.replace_refusal(path, "zarr")


def install_dir(tmp: Path, target: Path, force: bool = False,
                 refusal: Callable[[Path], str | None] = zarr_refusal) -> None:
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
        raise refused_at_publish(target, why)
    mode = _files.kept_mode(target, directory=True)
    if mode is not None:
        os.chmod(tmp, mode)
    if exchange(tmp, target):
        why = refusal(tmp)  # tmp now holds what was at the target
        if why is not None:
            exchange(tmp, target)
            raise refused_at_publish(target, why)
        remove(tmp)
        return
    aside = Path(tempfile.mktemp(prefix=_files.temp_prefix(target, ".old"), suffix=".old", dir=target.parent))
    os.replace(target, aside)
    why = refusal(aside)
    if why is not None:
        _files.rename_noreplace(aside, target)
        raise refused_at_publish(target, why)
    try:
        _files.rename_noreplace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            _files.rename_noreplace(aside, target)
        raise
    remove(aside)


def refused_at_publish(target: Path, why: str) -> InvalidArgumentError:
    """The error of a publish that found at the target something ``force`` may not replace."""
    allowed = "a safetensors checkpoint folder" if "safetensors" in why else "a Zarr store"
    return InvalidArgumentError(
        f"could not write {str(target)!r}: it is now {why}; force=True (--force) replaces only a file or "
        f"{allowed}. Nothing was deleted and this output was discarded."
    )


