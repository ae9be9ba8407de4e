"""Files: every writer writes to a temporary name and renames; faults leave
nothing half-written at the target.

* the CLI (``varscale sample --out``: ``.npy`` now, ``.safetensors`` and
  ``.zarr`` once the CLI takes them) and the ``varscale.io`` writers (once
  they land) rename a complete temporary file onto the target, and an old
  target is untouched until that rename;
* a writer process killed with SIGKILL in the middle of a large write leaves
  either nothing (or the old file, byte for byte) at the target, never a
  partial file; the only possible leftover is the hidden
  ``.<name>.*.partial`` temporary beside it (documented in
  ``docs/reproducibility.md``);
* a full disk (a 1 MiB tmpfs, where mounting is permitted) and a file size
  limit (``RLIMIT_FSIZE``, which makes writes fail with EFBIG) give exit code
  1, an error naming the target, and no file at all.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import varscale as vs
from _support import need, with_file_size_limit
from varscale.cli import main

SPEC = "he_uniform"
SEED = 7


def _expected(shape: tuple[int, ...]) -> np.ndarray[Any, Any]:
    return vs.HeUniform(seed=SEED)(shape, engine="numpy")


def _load(path: Path, suffix: str | None = None) -> np.ndarray[Any, Any]:
    """Read back a written tensor with the format's own library."""
    suffix = suffix or path.suffix
    if suffix == ".npy":
        return np.load(path, allow_pickle=False)
    if suffix == ".safetensors":
        st = need("safetensors.numpy")
        tensors = st.load_file(str(path))
        assert len(tensors) == 1, sorted(tensors)
        return next(iter(tensors.values()))
    zarr = need("zarr")
    node = zarr.open(str(path), mode="r")
    if hasattr(node, "shape"):
        return np.asarray(node[...])
    arrays = list(node.arrays())
    assert len(arrays) == 1, arrays
    return np.asarray(arrays[0][1][...])


def _sample_argv(out: Path, shape: tuple[int, ...], force: bool = False) -> list[str]:
    argv = ["sample", SPEC, "--shape", ",".join(map(str, shape)), "--seed", str(SEED), "--out", str(out)]
    return [*argv, "--force"] if force else argv


def _cli_takes(suffix: str) -> None:
    """Skip a format the CLI cannot write yet (.safetensors and .zarr need varscale.io)."""
    if suffix != ".npy" and importlib.util.find_spec("varscale.io") is None:
        pytest.skip(f"the CLI cannot write {suffix} files yet: varscale.io has not landed")


def _snapshot(path: Path) -> Any:
    """The bytes at ``path``: a file's, a folder's (by relative name), or None."""
    if path.is_dir():
        return {str(p.relative_to(path)): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()}
    return path.read_bytes() if path.exists() else None


def _size(path: Path) -> int:
    try:
        if path.is_dir():
            return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def _make_old(target: Path) -> None:
    if target.suffix == ".zarr":
        target.mkdir()
        (target / "zarr.json").write_bytes(b'{"old": true}')
    else:
        target.write_bytes(b"old contents")


@contextlib.contextmanager
def _spy_renames(monkeypatch: pytest.MonkeyPatch, check: Callable[[str, str], None]) -> Iterator[list[tuple[str, str]]]:
    calls: list[tuple[str, str]] = []
    real_replace, real_rename = os.replace, os.rename

    def spy(real: Callable[..., None]) -> Callable[..., None]:
        def wrapper(src: Any, dst: Any, *args: Any, **kwargs: Any) -> None:
            calls.append((os.fspath(src), os.fspath(dst)))
            check(os.fspath(src), os.fspath(dst))
            real(src, dst, *args, **kwargs)

        return wrapper

    monkeypatch.setattr(os, "replace", spy(real_replace))
    monkeypatch.setattr(os, "rename", spy(real_rename))
    # a new target is published with renameat2(RENAME_NOREPLACE) (or link()), through this one function
    files = importlib.import_module("varscale._files")
    monkeypatch.setattr(files, "rename_noreplace", spy(files.rename_noreplace))
    yield calls


FORMATS = [".npy", ".safetensors", ".zarr"]


@pytest.mark.parametrize("suffix", FORMATS)
@pytest.mark.parametrize("existing", [False, True], ids=["new", "overwrite"])
def test_cli_writes_temporary_then_renames(
    suffix: str, existing: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _cli_takes(suffix)
    shape = (64, 48)
    target = tmp_path / f"w{suffix}"
    if existing:
        _make_old(target)
    old = _snapshot(target)

    def at_rename(src: str, dst: str) -> None:
        if os.path.abspath(dst) != str(target):
            return  # a rename inside the writer's own temporary tree
        assert Path(src).parent == target.parent, "the temporary must be beside the target (same file system)"
        assert Path(src).name.startswith("."), f"the temporary {src!r} should be hidden"
        np.testing.assert_array_equal(_load(Path(src), suffix), _expected(shape))  # complete before the rename
        if existing:  # the old target is untouched until the rename
            assert _snapshot(target) == old

    with _spy_renames(monkeypatch, at_rename) as calls:
        code = main(_sample_argv(target, shape, force=existing))
    err = capsys.readouterr().err
    assert code == 0, err
    assert any(os.path.abspath(dst) == str(target) for _, dst in calls), calls
    np.testing.assert_array_equal(_load(target), _expected(shape))
    assert sorted(p.name for p in tmp_path.iterdir()) == [target.name]


def _io_write(name: str, target: Path, shape: tuple[int, ...], force: bool = False) -> None:
    """Call a ``varscale.io`` writer as the CLI does (``cli._sample``)."""
    try:
        io = importlib.import_module("varscale.io")
    except ImportError:
        pytest.skip("varscale.io has not landed yet")
    init = vs.HeUniform(seed=SEED)
    if name == "write_safetensors":
        io.write_safetensors(target, {"weight": (init, shape, "float32")}, force=force)
    else:
        getattr(io, name)(target, init, shape, "float32", force=force)


IO_WRITERS = [("write_npy", ".npy"), ("write_safetensors", ".safetensors"), ("write_zarr", ".zarr")]


@pytest.mark.parametrize(("name", "suffix"), IO_WRITERS, ids=[n for n, _ in IO_WRITERS])
@pytest.mark.parametrize("existing", [False, True], ids=["new", "overwrite"])
def test_io_writer_writes_temporary_then_renames(
    name: str, suffix: str, existing: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / f"w{suffix}"
    shape = (40, 24)
    if existing:
        _make_old(target)
    old = _snapshot(target)

    def at_rename(src: str, dst: str) -> None:
        if os.path.abspath(dst) == str(target):
            assert Path(src).parent == target.parent
            np.testing.assert_array_equal(_load(Path(src), suffix), _expected(shape))
            assert _snapshot(target) == old

    with _spy_renames(monkeypatch, at_rename) as calls:
        _io_write(name, target, shape, force=existing)
    assert any(os.path.abspath(dst) == str(target) for _, dst in calls), (
        f"varscale.io.{name} did not rename a temporary onto the target; renames: {calls}"
    )
    np.testing.assert_array_equal(_load(target), _expected(shape))
    assert sorted(p.name for p in tmp_path.iterdir()) == [target.name]


@pytest.mark.parametrize(("name", "suffix"), IO_WRITERS, ids=[n for n, _ in IO_WRITERS])
def test_io_writer_refuses_existing_target(name: str, suffix: str, tmp_path: Path) -> None:
    target = tmp_path / f"w{suffix}"
    _make_old(target)
    old = _snapshot(target)
    with pytest.raises(vs.InvalidArgumentError, match="force"):
        _io_write(name, target, (4, 4))
    assert _snapshot(target) == old
    assert sorted(p.name for p in tmp_path.iterdir()) == [target.name]


# --- SIGKILL in the middle of a large write ------------------------------------

BIG = (16384, 8192)  # 512 MiB of float32: the write takes long enough to be caught


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("NUMBA_CACHE_DIR", "/tmp/nbcache-rel")
    return env


@pytest.mark.parametrize("suffix", FORMATS)
@pytest.mark.parametrize("existing", [False, True], ids=["new", "overwrite"])
def test_sigkill_mid_write_leaves_no_partial_target(suffix: str, existing: bool, tmp_path: Path) -> None:
    _cli_takes(suffix)
    target = tmp_path / f"big{suffix}"
    if existing:
        _make_old(target)
    old = _snapshot(target)
    argv = [sys.executable, "-m", "varscale", *_sample_argv(target, BIG, force=existing)]
    proc = subprocess.Popen(argv, env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    full = BIG[0] * BIG[1] * 4
    seen = 0
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            temps = [p for p in tmp_path.iterdir() if p != target]
            size = max((_size(p) for p in temps), default=0)
            if 8 * 2**20 <= size < full:  # a temporary has appeared and grown, but is not complete
                seen = size
                proc.send_signal(signal.SIGKILL)
                break
            time.sleep(0.0005)
    finally:
        if proc.poll() is None and not seen:
            proc.kill()
        proc.wait(timeout=60)
        if proc.stderr is not None:
            proc.stderr.close()
    assert seen, f"the writer finished (rc={proc.returncode}) before it could be killed mid-write"
    assert proc.returncode == -signal.SIGKILL
    if existing:
        assert _snapshot(target) == old, "the old file changed"
    else:
        assert not target.exists(), "a partial file was left at the target"
    leftovers = sorted(p.name for p in tmp_path.iterdir() if p != target)
    assert all(n.startswith(f".big{suffix}.") for n in leftovers), leftovers


# --- disk full and file size limit ----------------------------------------------


@pytest.fixture
def small_tmpfs(tmp_path: Path) -> Iterator[Path]:
    mnt = tmp_path / "small"
    mnt.mkdir()
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mnt)],
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        pytest.skip(f"cannot mount a 1 MiB tmpfs here: {proc.stderr.strip() or proc.returncode}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", str(mnt)], check=False)


@pytest.mark.parametrize("suffix", FORMATS)
@pytest.mark.parametrize("existing", [False, True], ids=["new", "overwrite"])
def test_disk_full_tmpfs(
    suffix: str, existing: bool, small_tmpfs: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _cli_takes(suffix)
    target = small_tmpfs / f"w{suffix}"
    if existing:
        _make_old(target)
    before = _snapshot(target)
    code = main(_sample_argv(target, (1024, 1024), force=existing))  # 4 MiB into 1 MiB
    err = capsys.readouterr().err
    assert code == 1, err
    assert str(target) in err or repr(str(target)) in err, err
    assert "Traceback" not in err
    assert sorted(p.name for p in small_tmpfs.iterdir()) == ([target.name] if existing else [])
    assert _snapshot(target) == before


@pytest.mark.parametrize("suffix", [".npy", ".safetensors"])  # Zarr's chunk files are each small
@pytest.mark.parametrize("existing", [False, True], ids=["new", "overwrite"])
def test_file_size_limit(suffix: str, existing: bool, tmp_path: Path) -> None:
    _cli_takes(suffix)
    target = tmp_path / f"w{suffix}"
    if existing:
        _make_old(target)
    before = _snapshot(target)
    argv = [sys.executable, "-m", "varscale", *_sample_argv(target, (1024, 1024), force=existing)]
    proc = subprocess.run(with_file_size_limit(argv, 2**20), env=_env(), capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 1, proc.stderr
    assert str(target) in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ([target.name] if existing else [])
    assert _snapshot(target) == before


@pytest.mark.parametrize("suffix", [".npy", ".safetensors", ".zarr"])
def test_outputs_get_the_umask_permissions_not_the_temporary_ones(suffix: str, tmp_path: Path) -> None:
    """mkstemp/mkdtemp create 0600/0700; the finished output must be what open()/mkdir() give."""
    if suffix == ".safetensors":
        need("safetensors")
    if suffix == ".zarr":
        need("zarr")
        need("dask")
    io = importlib.import_module("varscale.io")
    init = vs.HeNormal(seed=0)
    old = os.umask(0o022)
    try:
        target = tmp_path / f"w{suffix}"
        if suffix == ".npy":
            io.write_npy(target, init, (8, 8))
        elif suffix == ".safetensors":
            io.write_safetensors(target, {"w": (init, (8, 8), None)})
        else:
            io.write_zarr(target, init, (8, 8))
        assert target.stat().st_mode & 0o777 == (0o755 if suffix == ".zarr" else 0o644)
        os.umask(0o077)
        private = tmp_path / f"p{suffix}"
        if suffix == ".npy":
            io.write_npy(private, init, (8, 8))
            assert private.stat().st_mode & 0o777 == 0o600
        assert main(["sample", "he_normal", "--shape", "4,4", "--seed", "0", "--out", str(tmp_path / "c.npy")]) == 0
        assert (tmp_path / "c.npy").stat().st_mode & 0o777 == 0o600
    finally:
        os.umask(old)
