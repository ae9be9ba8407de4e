"""Resumable unfinished folders: what an interrupted sharded or Zarr write keeps, and how a resume finds it.

A resumable write completes its output in a hidden folder beside the target
(``.<name>.<random>.partial``, see :mod:`varscale._files`) holding a plan file,
:data:`PLAN`: the canonical text of what the folder is being written for
(shapes, dtypes, chunking, the provenance record with each tensor's rule and
stream). A resume with the same arguments makes the same plan text and finds
the folder; one with other arguments finds none of its own and is refused.
The writer holds an exclusive lock on the plan file (one writer per folder),
and removes the plan file just before publishing (a folder being published
is no longer resumable).

Example:
    >>> import tempfile, pathlib
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "w.zarr"
    >>> tmp = start(target, "plan")
    >>> find(target, "plan", "arguments") == tmp, unfinished(target) == [tmp]
    (True, True)
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

from . import _files, _folders
from ._errors import InvalidArgumentError

__all__ = ["PLAN", "BusyError", "find", "keep", "locked", "read_text", "start", "sweep", "unfinished"]

PLAN = ".varscale-resume.json"  # inside the unfinished folder only; never published


class BusyError(InvalidArgumentError):
    """Another process holds the unfinished folder's lock."""


def read_text(path: Path) -> str | None:
    """The text of ``path``, or None where it cannot be read."""
    try:
        return path.read_text()
    except (OSError, UnicodeDecodeError):
        return None


def unfinished(path: str | os.PathLike[str]) -> list[Path]:
    """The hidden unfinished folders (``.<name>.<random>.partial``) interrupted resumable writes left for ``path``."""
    target = Path(path)
    prefix = _files.temp_prefix(target)
    try:
        entries = list(target.parent.iterdir())
    except OSError:
        return []
    return sorted(p for p in entries if p.name.startswith(prefix) and p.name.endswith(".partial")
                  and p.is_dir() and not p.is_symlink() and (p / PLAN).is_file())


def find(target: Path, plan_text: str, differs: str) -> Path | None:
    """The unfinished folder for ``target`` made with this plan (None: there is none, start afresh).

    Unfinished folders for ``target`` made with another plan are refused, naming what may differ (``differs``).
    """
    found = unfinished(target)
    same = [p for p in found if read_text(p / PLAN) == plan_text]
    if found and not same:
        raise InvalidArgumentError(
            f"cannot resume {str(target)!r}: {len(found)} unfinished folder(s) for it were made with other "
            f"arguments ({differs} differ): {', '.join(repr(p.name) for p in found[:3])}. Run with the same "
            f"arguments, or without resume (and delete those folders)."
        )
    return same[-1] if same else None


def start(target: Path, plan_text: str) -> Path:
    """A new unfinished folder for ``target`` holding the plan file."""
    tmp = _folders.temp_dir(target)
    try:
        (tmp / PLAN).write_text(plan_text)
    except OSError as err:
        _folders.remove(tmp)
        raise _files.write_error(target, err) from err
    return tmp


def sweep(tmp: Path) -> None:
    """Remove what a killed writer left half-written inside ``tmp``: its ``*.partial`` temporaries, at any depth."""
    for dirpath, dirs, files in os.walk(tmp):
        for name in [*files, *dirs]:
            if name.endswith(".partial"):
                _folders.remove(Path(dirpath) / name)


@contextlib.contextmanager
def locked(plan: Path) -> Iterator[None]:
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
            raise BusyError(
                f"another process is writing {str(plan.parent)!r} (its lock is held); wait for it or stop it "
                f"before resuming."
            ) from None
        yield
    finally:
        os.close(fd)


def keep(err: BaseException, tmp: Path, finished: int, parts: int, unit: str) -> bool:
    """On an interruption: mark ``err`` with the kept unfinished folder (True), or say it is not resumable (False).

    The marks (``varscale_partial``, ``varscale_finished`` of ``varscale_files``) and ``varscale_note``, the
    sentence saying how to resume that the CLI prints after "interrupted by SIGTERM;".
    """
    if not (isinstance(err, KeyboardInterrupt) and tmp.is_dir() and (tmp / PLAN).exists()):
        return False
    err.varscale_partial = str(tmp)  # type: ignore[attr-defined]
    err.varscale_finished = finished  # type: ignore[attr-defined]
    err.varscale_files = parts  # type: ignore[attr-defined]
    err.varscale_note = (  # type: ignore[attr-defined]
        f"{finished} of {parts} {unit} are finished and kept in {str(tmp)!r}; run the same command with --resume "
        f"(resume=True) to finish (or delete that folder)")
    return True
