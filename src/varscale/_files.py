"""Safe file output: write a hidden temporary beside the target, then publish it in one step.

The rules every writer (``varscale.io``, the CLI) follows; docs/reproducibility.md
("Files") and docs/scale-out.md ("Atomic output") state them for users:

* the output is written to a hidden temporary beside the target,
  ``.<name>.<random>.partial`` (for a name too long to take that suffix, its
  start plus a hash of the whole name: the temporary fits wherever the target
  does), and is published only once complete and synced;
* without ``force`` the temporary is published only if the target still does
  not exist, and that test is part of the publishing system call itself
  (Linux ``renameat2(RENAME_NOREPLACE)``; elsewhere ``link()`` for a file, and
  for a folder ``mkdir()`` of the target then a rename onto that empty folder):
  a target that appeared while the output was written (another writer) is left
  as it is and the error says so;
* with ``force`` only a file (a symbolic link is replaced itself, never
  followed) or, for Zarr, a Zarr store (a folder with ``zarr.json``,
  ``.zarray`` or ``.zgroup`` at its top) is replaced: any other folder is
  refused and nothing is deleted. The replaced target's permission bits are
  kept; a new target gets what ``open()``/``mkdir()`` give under the umask;
* on any exception, ``KeyboardInterrupt`` included, the temporary is removed
  and errors name the user's path, never the temporary.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import functools
import hashlib
import os
import re
import shutil
import stat
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any, Literal

from ._errors import InvalidArgumentError, VarscaleError

__all__ = [
    "OutputExistsError",
    "atomic_output",
    "check_space",
    "check_target",
    "default_mode",
    "is_url",
    "is_zarr_store",
    "kept_mode",
    "publish_file",
    "rename_noreplace",
    "renameat2",
    "replace_refusal",
    "temp_prefix",
    "write_error",
]

Kind = Literal["file", "zarr"]

#: the metadata files one of which sits at the top of every Zarr store (v3; v2 array; v2 group)
ZARR_METADATA = ("zarr.json", ".zarray", ".zgroup")

RENAME_NOREPLACE = 1
RENAME_EXCHANGE = 2
_AT_FDCWD = -100


class OutputExistsError(InvalidArgumentError, FileExistsError):
    """The target exists and ``force`` was not given: found before writing, or when publishing.

    Both an :class:`~varscale.InvalidArgumentError` (as every refused argument) and a
    :class:`FileExistsError` (what ``open(path, "x")`` raises).
    """


def _name_max(folder: Path) -> int:
    try:
        return int(os.pathconf(folder, "PC_NAME_MAX"))
    except (OSError, ValueError):
        return 255


def temp_prefix(target: Path, suffix: str = ".partial") -> str:
    """The prefix of the hidden temporary for ``target``, so that prefix + 8 random characters + ``suffix`` fits.

    ``.<name>.`` where that fits in the file system's longest name; else the
    start of the name, ``~`` and 12 hex digits of the name's SHA-256: two long
    names that share their start still get different prefixes.

    Example:
        >>> from pathlib import Path
        >>> temp_prefix(Path("/tmp/w.npy"))
        '.w.npy.'
        >>> p = temp_prefix(Path("/tmp/" + "a" * 250 + ".npy"))
        >>> len(p) + 8 + len(".partial") <= 255, p.endswith("~ba62bd56e334.")
        (True, True)
    """
    name = target.name
    room = _name_max(target.parent) - len(os.fsencode(suffix)) - 8 - 2  # the two dots; mkstemp's 8 characters
    if len(os.fsencode(name)) <= room:
        return f".{name}."
    digest = hashlib.sha256(os.fsencode(name)).hexdigest()[:12]
    keep = name
    while keep and len(os.fsencode(keep)) > room - len(digest) - 1:  # cut whole characters, never a UTF-8 sequence
        keep = keep[:-1]
    return f".{keep}~{digest}."


_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*://")


def is_url(path: Any) -> bool:
    """True for an fsspec URL (``s3://…``, ``memory://…``, ``file://…``), not for a local path."""
    return isinstance(path, str) and bool(_URL.match(path))


def is_zarr_store(path: Path) -> bool:
    """True for a folder (not a link to one) with Zarr metadata (zarr.json, .zarray, .zgroup) at its top."""
    try:
        if not stat.S_ISDIR(os.lstat(path).st_mode):
            return False
    except OSError:
        return False
    for meta in ZARR_METADATA:
        with contextlib.suppress(OSError):
            if stat.S_ISREG(os.lstat(path / meta).st_mode):
                return True
    return False


def replace_refusal(path: Path, kind: Kind) -> str | None:
    """Why ``force`` may not replace what is at ``path`` (None: it may, or nothing is there).

    A file or a symbolic link (replaced itself, never followed) may be
    replaced; a folder only by a Zarr output and only if it is a Zarr store.
    """
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return None
    if stat.S_ISREG(mode) or stat.S_ISLNK(mode):
        return None
    if stat.S_ISDIR(mode):
        if kind == "zarr":
            if is_zarr_store(path):
                return None
            return "a folder that is not a Zarr store (it has no zarr.json, .zarray or .zgroup at its top)"
        return "a folder, not a file"
    return "a special file (not a regular file, link or folder)"


def _refuse_replacing(argument: str, shown: str, why: str, kind: Kind) -> InvalidArgumentError:
    allowed = "a file or a Zarr store (a folder with zarr.json, .zarray or .zgroup at its top)" if kind == "zarr" \
        else "a file"
    return InvalidArgumentError(
        f"`{argument}` names {why}; received {argument}={shown!r}. force=True (--force) replaces only {allowed}; "
        f"nothing was deleted. Remove it yourself or choose another name."
    )


def check_target(path: str | os.PathLike[str], force: bool, argument: str = "out", kind: Kind = "file") -> Path:
    """Check an output path before anything is written; returns it as a :class:`~pathlib.Path`.

    Refused: a path naming no entry of its own (``""``, ``"."``, ``"dir/.."``),
    one that cannot be encoded as a file name, a name longer than the file
    system allows, a folder that does not exist, and an existing target unless
    ``force`` (then one that ``force`` may not replace, see
    :func:`replace_refusal`). ``kind`` is ``"zarr"`` for a Zarr store (a folder).
    """
    shown = os.fspath(path)
    p = Path(path)
    if p.name in ("", ".", ".."):
        raise InvalidArgumentError(
            f"`{argument}` must name a file or folder to write, inside an existing folder; received "
            f"{argument}={shown!r}."
        )
    try:
        name_bytes = len(os.fsencode(p.name))
    except UnicodeEncodeError as err:
        raise InvalidArgumentError(
            f"`{argument}` cannot be a file name here: {err.reason} at character {err.start}; "
            f"received {argument}={shown!r}."
        ) from None
    if not p.parent.is_dir():
        raise InvalidArgumentError(
            f"`{argument}` must be in an existing folder; received {argument}={shown!r} "
            f"but {str(p.parent)!r} is not a folder."
        )
    limit = _name_max(p.parent)
    if name_bytes > limit:
        raise InvalidArgumentError(
            f"`{argument}` has a file name of {name_bytes} bytes; the file system allows at most {limit}; "
            f"received {argument}={shown!r}."
        )
    try:
        mode = os.lstat(p).st_mode
    except FileNotFoundError:
        return p
    except OSError:
        return p  # unreadable: the writer's own error (naming the path) says why
    if not force:
        what = "folder" if stat.S_ISDIR(mode) else "file"
        raise OutputExistsError(
            f"`{argument}` names an existing {what}; received {argument}={shown!r}. "
            f"Pass force=True (--force) to overwrite it."
        )
    why = replace_refusal(p, kind)
    if why is not None:
        raise _refuse_replacing(argument, shown, why, kind)
    return p


def _umask() -> int:
    try:  # Linux ≥ 4.7 reports it without changing it
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)  # elsewhere: read by setting it (briefly) and restoring it
    os.umask(mask)
    return mask


def default_mode(directory: bool = False) -> int:
    """The permissions a plain ``open()`` / ``mkdir()`` would give under the process' umask.

    Temporary files and folders are created private (0600/0700); a new output
    gets these instead, so it is readable as any other file the user writes.
    """
    return (0o777 if directory else 0o666) & ~_umask()


def kept_mode(target: Path, directory: bool = False) -> int | None:
    """The permission bits of the target about to be replaced, if it is of the same kind (a file or a folder)."""
    try:
        st = os.lstat(target)
    except OSError:
        return None
    same = stat.S_ISDIR(st.st_mode) if directory else stat.S_ISREG(st.st_mode)
    return stat.S_IMODE(st.st_mode) & 0o777 if same else None


@functools.lru_cache(maxsize=1)
def _renameat2_fn() -> Callable[..., int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        fn = libc.renameat2
    except (OSError, AttributeError):  # glibc < 2.28, musl without it
        return None
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    fn.restype = ctypes.c_int
    return fn


def renameat2(src: Path, dst: Path, flags: int) -> bool:
    """Linux ``renameat2(src, dst, flags)``; False where the call or the flag is not supported.

    Raises the call's :class:`OSError` otherwise (``FileExistsError`` for
    ``RENAME_NOREPLACE`` onto an existing ``dst``).
    """
    fn = _renameat2_fn()
    if fn is None:
        return False
    if fn(_AT_FDCWD, os.fsencode(src), _AT_FDCWD, os.fsencode(dst), flags) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP, errno.ENOTSUP):
        return False
    raise OSError(err, os.strerror(err), os.fspath(dst))


_NO_HARD_LINKS = (errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EMLINK, errno.ENOSYS, errno.EXDEV)


def rename_noreplace(src: Path, dst: Path) -> None:
    """Rename ``src`` (a file or a folder) to ``dst`` only if nothing is at ``dst``; else ``FileExistsError``.

    The test and the rename are one step: ``renameat2(RENAME_NOREPLACE)`` on
    Linux. Elsewhere a file is hard-linked to ``dst`` (``link()`` fails on an
    existing name) and its temporary name unlinked; on a file system without
    hard links ``dst`` is claimed by an exclusive create and the file renamed
    over that empty claim. A folder claims ``dst`` with ``mkdir()`` and is
    renamed onto that empty folder (a rename replaces an empty folder).
    """
    if renameat2(src, dst, RENAME_NOREPLACE):
        return
    if not (os.path.isdir(src) and not os.path.islink(src)):
        try:
            os.link(src, dst, follow_symlinks=False)
        except FileExistsError:
            raise
        except OSError as err:
            if err.errno not in _NO_HARD_LINKS:
                raise
            os.close(os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
            _onto_claim(src, dst, os.replace, os.unlink)
            return
        os.unlink(src)
        return
    os.mkdir(dst, 0o700)
    _onto_claim(src, dst, os.rename, os.rmdir)


def _onto_claim(src: Path, dst: Path, move: Callable[[Path, Path], None], unclaim: Callable[[Path], None]) -> None:
    """Move ``src`` onto the empty ``dst`` this process just claimed; on failure give the claim up."""
    try:
        move(src, dst)
    except BaseException:
        with contextlib.suppress(OSError):
            unclaim(dst)
        raise


def appeared(target: Path) -> OutputExistsError:
    """The error of a publish without ``force`` that found the target taken meanwhile."""
    return OutputExistsError(
        f"could not write {str(target)!r}: it appeared while this output was being written (another writer?); "
        f"it was left as it is and this output was discarded. Pass force=True (--force) to overwrite it."
    )


def publish_file(tmp: Path, target: Path, force: bool) -> None:
    """Move the complete file ``tmp`` to ``target``: over what is there only with ``force``, else only if absent."""
    if force:
        os.replace(tmp, target)
        return
    try:
        rename_noreplace(tmp, target)
    except FileExistsError:
        raise appeared(target) from None


def write_error(target: Path, err: OSError, tmp: str | os.PathLike[str] | None = None) -> OSError:
    """An :class:`OSError` naming the user's ``target`` (never the temporary), with ``err``'s errno."""
    if err.errno:
        detail = f"[Errno {err.errno}] {err.strerror}"
        other = err.filename
        if other is not None and os.fspath(other) not in (os.fspath(target), os.fspath(tmp) if tmp else None):
            detail += f": {os.fspath(other)!r}"
    elif "requested and" in str(err):  # NumPy's short write carries no errno
        detail = f"{err} (a short write: the disk is full or a file size limit was hit)"
    else:
        detail = str(err)
    out = OSError(f"could not write {str(target)!r}: {detail}; the target is unchanged")
    out.errno = err.errno
    return out


@contextlib.contextmanager
def atomic_output(path: str | os.PathLike[str], force: bool = False) -> Iterator[IO[bytes]]:
    """Yield a binary file; on success it is flushed, synced and published at ``path``.

    Without ``force`` it is published only if nothing is at ``path`` then
    (:class:`OutputExistsError` otherwise: another writer got there first);
    with ``force`` it replaces what is there and keeps its permission bits.
    Check the target with :func:`check_target` first. On any error (including
    KeyboardInterrupt) the temporary file is removed and an existing ``path``
    is left untouched.

    Example:
        >>> import tempfile, pathlib
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "out.bin"
        >>> with atomic_output(p) as fh:
        ...     _ = fh.write(b"complete")
        >>> p.read_bytes()
        b'complete'
    """
    target = Path(path)
    try:
        fd, tmp = tempfile.mkstemp(prefix=temp_prefix(target), suffix=".partial", dir=target.parent)
    except OSError as err:
        raise write_error(target, err) from err
    try:
        with os.fdopen(fd, "wb") as fh:
            yield fh
            fh.flush()
            mode = kept_mode(target) if force else None
            os.fchmod(fh.fileno(), default_mode() if mode is None else mode)
            os.fsync(fh.fileno())
        publish_file(Path(tmp), target, force)
    except BaseException as err:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        if isinstance(err, OSError) and not isinstance(err, VarscaleError):
            raise write_error(target, err, tmp) from err
        raise


def check_space(target: Path, nbytes: int, what: str) -> int:
    """Refuse, before writing anything, an output of ``nbytes`` larger than the free space beside ``target``.

    ``what`` describes the output in the message (its shapes and dtypes). Returns ``nbytes``.
    """
    try:
        free = shutil.disk_usage(os.fspath(target.parent) or ".").free
    except OSError:
        return nbytes
    if nbytes > free:
        raise InvalidArgumentError(
            f"the output needs {nbytes} bytes ({nbytes / 2**30:.1f} GiB) for {what}, more than the "
            f"{free / 2**30:.1f} GiB free in {str(target.parent)!r}; received out={str(target)!r}."
        )
    return nbytes
