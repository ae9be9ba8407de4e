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
import inspect
import os
import resource
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
from _support import need
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


def _cli_takes(suffix: str, tmp_path: Path) -> None:
    """Skip a format the CLI does not write yet (issue 5 adds .safetensors and .zarr)."""
    if suffix == ".npy":
        return
    probe = tmp_path / f"probe-{os.getpid()}"
    probe.mkdir()
    code = main(["sample", SPEC, "--shape", "2", "--seed", "0", "--out", str(probe / f"p{suffix}")])
    for p in probe.iterdir():
        if p.is_dir():
            import shutil

            shutil.rmtree(p)
        else:
            p.unlink()
    probe.rmdir()
    if code == 2:
        pytest.skip(f"the CLI does not write {suffix} files yet")


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
    yield calls


FORMATS = [".npy", ".safetensors", ".zarr"]


@pytest.mark.parametrize("suffix", FORMATS)
@pytest.mark.parametrize("existing", [False, True], ids=["new", "overwrite"])
def test_cli_writes_temporary_then_renames(
    suffix: str, existing: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _cli_takes(suffix, tmp_path)
    shape = (64, 48)
    target = tmp_path / f"w{suffix}"
    old = b"old contents"
    if existing:
        if suffix == ".zarr":
            target.mkdir()
            (target / "marker").write_bytes(old)
        else:
            target.write_bytes(old)

    def at_rename(src: str, dst: str) -> None:
        if os.path.abspath(dst) != str(target):
            return  # a rename inside the writer's own temporary tree
        assert Path(src).parent == target.parent, "the temporary must be beside the target (same file system)"
        assert Path(src).name.startswith("."), f"the temporary {src!r} should be hidden"
        np.testing.assert_array_equal(_load(Path(src), suffix), _expected(shape))  # complete before the rename
        if existing:  # the old target is untouched until the rename
            kept = (target / "marker") if suffix == ".zarr" else target
            assert kept.read_bytes() == old

    with _spy_renames(monkeypatch, at_rename) as calls:
        code = main(_sample_argv(target, shape, force=existing))
    err = capsys.readouterr().err
    assert code == 0, err
    assert any(os.path.abspath(dst) == str(target) for _, dst in calls), calls
    np.testing.assert_array_equal(_load(target), _expected(shape))
    assert sorted(p.name for p in tmp_path.iterdir()) == [target.name]


def _io_writers() -> list[Any]:
    return [pytest.param(name, id=name) for name in ("write_npy", "write_safetensors", "write_zarr")]


@pytest.mark.parametrize("name", _io_writers())
def test_io_writer_writes_temporary_then_renames(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    try:
        io = __import__("varscale.io", fromlist=["io"])
    except ImportError:
        pytest.skip("varscale.io has not landed yet")
    writer = getattr(io, name, None)
    if writer is None:
        pytest.skip(f"varscale.io.{name} does not exist")
    suffix = {"write_npy": ".npy", "write_safetensors": ".safetensors", "write_zarr": ".zarr"}[name]
    target = tmp_path / f"w{suffix}"
    shape = (40, 24)
    init = vs.HeUniform(seed=SEED)
    kwargs: dict[str, Any] = {}
    for p in inspect.signature(writer).parameters.values():
        if p.name in ("path", "out", "target", "file", "filename", "store", "dest"):
            kwargs[p.name] = str(target)
        elif p.name in ("init", "initializer"):
            kwargs[p.name] = init
        elif p.name == "shape":
            kwargs[p.name] = shape
        elif p.name == "dtype":
            kwargs[p.name] = "float32"
        elif p.name == "seed" and p.default is inspect.Parameter.empty:
            kwargs[p.name] = SEED
        elif p.default is inspect.Parameter.empty and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            pytest.skip(f"cannot call varscale.io.{name}{inspect.signature(writer)} generically")

    def at_rename(src: str, dst: str) -> None:
        if os.path.abspath(dst) == str(target):
            assert Path(src).parent == target.parent

    with _spy_renames(monkeypatch, at_rename) as calls:
        writer(**kwargs)
    assert any(os.path.abspath(dst) == str(target) for _, dst in calls), (
        f"varscale.io.{name} did not rename a temporary onto the target; renames: {calls}"
    )
    np.testing.assert_array_equal(_load(target), _expected(shape))


# --- SIGKILL in the middle of a large write ------------------------------------

BIG = (16384, 8192)  # 512 MiB of float32: the write takes long enough to be caught


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("NUMBA_CACHE_DIR", "/tmp/nbcache-rel")
    return env


@pytest.mark.parametrize("existing", [False, True], ids=["new", "overwrite"])
def test_sigkill_mid_write_leaves_no_partial_target(existing: bool, tmp_path: Path) -> None:
    target = tmp_path / "big.npy"
    old = np.arange(1000, dtype=np.float32)
    if existing:
        np.save(target, old)
    old_bytes = target.read_bytes() if existing else b""
    argv = [sys.executable, "-m", "varscale", *_sample_argv(target, BIG, force=existing)]
    proc = subprocess.Popen(argv, env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    full = BIG[0] * BIG[1] * 4
    seen = 0
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            partials = list(tmp_path.glob(".big.npy.*.partial"))
            sizes = [p.stat().st_size for p in partials if p.exists()]
            if sizes and 8 * 2**20 <= max(sizes) < full:
                seen = max(sizes)
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
        assert target.read_bytes() == old_bytes, "the old file changed"
    else:
        assert not target.exists(), "a partial file was left at the target"
    leftovers = sorted(p.name for p in tmp_path.iterdir() if p != target)
    assert all(n.startswith(".big.npy.") and n.endswith(".partial") for n in leftovers), leftovers


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


@pytest.mark.parametrize("existing", [False, True], ids=["new", "overwrite"])
def test_disk_full_tmpfs(existing: bool, small_tmpfs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = small_tmpfs / "w.npy"
    if existing:
        np.save(target, np.arange(10, dtype=np.float32))
    before = target.read_bytes() if existing else None
    code = main(_sample_argv(target, (1024, 1024), force=existing))  # 4 MiB into 1 MiB
    err = capsys.readouterr().err
    assert code == 1, err
    assert "could not write" in err and str(target) in err and "unchanged" in err, err
    assert "Traceback" not in err
    assert sorted(p.name for p in small_tmpfs.iterdir()) == (["w.npy"] if existing else [])
    if existing:
        assert target.read_bytes() == before


def _limit_file_size() -> None:
    resource.setrlimit(resource.RLIMIT_FSIZE, (2**20, 2**20))
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # writes then fail with EFBIG


@pytest.mark.parametrize("existing", [False, True], ids=["new", "overwrite"])
def test_file_size_limit(existing: bool, tmp_path: Path) -> None:
    target = tmp_path / "w.npy"
    if existing:
        np.save(target, np.arange(10, dtype=np.float32))
    before = target.read_bytes() if existing else None
    argv = [sys.executable, "-m", "varscale", *_sample_argv(target, (1024, 1024), force=existing)]
    proc = subprocess.run(argv, env=_env(), capture_output=True, text=True, timeout=300,
                          preexec_fn=_limit_file_size)
    assert proc.returncode == 1, proc.stderr
    assert "could not write" in proc.stderr and str(target) in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == (["w.npy"] if existing else [])
    if existing:
        assert target.read_bytes() == before
