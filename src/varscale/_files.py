"""Atomic file output: write to a temporary name beside the target, then rename."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from ._errors import InvalidArgumentError

__all__ = ["atomic_output", "check_space", "check_target", "default_mode"]


def check_target(path: str | os.PathLike[str], force: bool, argument: str = "out") -> Path:
    """Refuse to overwrite an existing file unless ``force``; check the folder exists."""
    p = Path(path)
    if p.exists() and not force:
        raise InvalidArgumentError(
            f"`{argument}` names an existing file; received {argument}={str(p)!r}. "
            f"Pass force=True (--force) to overwrite it."
        )
    if not p.parent.is_dir():
        raise InvalidArgumentError(
            f"`{argument}` must be in an existing folder; received {argument}={str(p)!r} "
            f"but {str(p.parent)!r} is not a folder."
        )
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

    Temporary files and folders are created private (0600/0700); the finished output gets
    these instead, so it is readable as any other file the user writes.
    """
    return (0o777 if directory else 0o666) & ~_umask()


@contextlib.contextmanager
def atomic_output(path: str | os.PathLike[str]) -> Iterator[IO[bytes]]:
    """Yield a binary file; on success it is flushed, synced and renamed to ``path``.

    On any error (including KeyboardInterrupt) the temporary file is removed and
    an existing ``path`` is left untouched.
    """
    target = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".partial", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            yield fh
            fh.flush()
            os.fchmod(fh.fileno(), default_mode())
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException as err:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        if isinstance(err, OSError) and err.filename is None:
            # a failed write (disk full, file too large) names no file: name the target
            if err.errno:
                detail = f"[Errno {err.errno}] {err.strerror}"
            elif "requested and" in str(err):  # NumPy's short write carries no errno
                detail = f"{err} (a short write: the disk is full or a file size limit was hit)"
            else:
                detail = str(err)
            raise OSError(f"could not write {str(target)!r}: {detail}; the target is unchanged") from err
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
