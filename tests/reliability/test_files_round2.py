"""Files, round 2 (issue 10, items 2, 3, 15, 16, 19): no data loss under ``--force`` or races.

* ``--force`` (CLI) / ``force=True`` (``varscale.io``) replaces only a file or,
  for Zarr, a Zarr store (a folder with ``zarr.json``, ``.zarray`` or
  ``.zgroup`` at its top); any other folder is refused and nothing is deleted,
  also when it is named as ``"dir/."`` or appears just before publishing;
* without force the publish step itself fails if the target appeared while
  the output was written (two overlapping writers: one wins, the other fails
  and its output is discarded; a target that appeared as an empty folder is
  not replaced either);
* a replaced target keeps its permission bits (0600 files, 0700 stores);
* output names of 238–255 bytes work (the temporary's name is shortened to
  fit) and errors name the user's path, never the temporary;
* SIGTERM during a CLI write removes the temporary and exits 143 with one
  line on stderr; SIGINT exits 130 with one line, no traceback; importing
  varscale installs no signal handler.
"""

from __future__ import annotations

import errno
import importlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import varscale as vs
from _support import need
from varscale.cli import main

SEED = 7
FORMATS = [".npy", ".safetensors", ".zarr"]


def _io() -> Any:
    return importlib.import_module("varscale.io")


def _need_format(suffix: str) -> None:
    if suffix == ".safetensors":
        need("safetensors")
    if suffix == ".zarr":
        need("zarr")
        need("dask")


def _expected(shape: tuple[int, ...], seed: int = SEED) -> np.ndarray[Any, Any]:
    return vs.HeUniform(seed=seed)(shape, engine="numpy")


def _load(path: Path) -> np.ndarray[Any, Any]:
    if path.suffix == ".npy":
        return np.load(path, allow_pickle=False)
    if path.suffix == ".safetensors":
        return need("safetensors.numpy").load_file(str(path))["weight"]
    return np.asarray(need("zarr").open_array(str(path), mode="r")[...])


def _write(suffix: str, target: Path | str, shape: tuple[int, ...], force: bool = False, seed: int = SEED,
           progress: Callable[[int, int], None] | None = None) -> Path:
    """Write ``HeUniform(seed)`` with the ``varscale.io`` writer of ``suffix`` (as the CLI does)."""
    io = _io()
    init = vs.HeUniform(seed=seed)
    kw: dict[str, Any] = {"force": force, "progress": progress}
    if suffix == ".npy":
        return io.write_npy(target, init, shape, "float32", chunk_elems=64, **kw)
    if suffix == ".safetensors":
        return io.write_safetensors(target, {"weight": (init, shape, "float32")}, chunk_elems=64,
                                    **kw)
    return io.write_zarr(target, init, shape, "float32", chunks=(4, shape[1]), **kw)


def _argv(out: Path | str, shape: tuple[int, ...], force: bool = False, seed: int = SEED) -> list[str]:
    argv = ["sample", "he_uniform", "--shape", ",".join(map(str, shape)), "--seed", str(seed), "--out", str(out)]
    return [*argv, "--force"] if force else argv


def _tree(path: Path) -> dict[str, bytes]:
    return {str(p.relative_to(path)): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()}


def _user_folder(path: Path) -> dict[str, bytes]:
    """A folder of unrelated user files (no Zarr metadata at its top)."""
    (path / "notes").mkdir(parents=True)
    (path / "thesis.tex").write_bytes(b"\\documentclass{article} years of work")
    (path / "notes" / "zarr.json").write_bytes(b"{}")  # metadata deeper down does not make a store
    return _tree(path)


def _entries(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


# --- 2: --force replaces only a file or a Zarr store ----------------------------------------------


@pytest.mark.parametrize("spelling", ["plain", "dot"], ids=["dir", "dir/."])
def test_write_zarr_force_refuses_a_folder_that_is_not_a_store(spelling: str, tmp_path: Path) -> None:
    _need_format(".zarr")
    folder = tmp_path / "w.zarr"
    before = _user_folder(folder)
    path = str(folder) if spelling == "plain" else f"{folder}/."
    with pytest.raises(vs.InvalidArgumentError, match="not a Zarr store") as info:
        _write(".zarr", path, (8, 4), force=True)
    assert path in str(info.value) and "nothing was deleted" in str(info.value)
    assert _tree(folder) == before
    assert _entries(tmp_path) == ["w.zarr"]


def test_write_zarr_force_refuses_any_folder_named_with_dot(tmp_path: Path) -> None:
    """``"/some/dir/."`` names the folder itself: a folder of user files is never removed."""
    _need_format(".zarr")
    folder = tmp_path / "project"
    before = _user_folder(folder)
    with pytest.raises(vs.InvalidArgumentError, match="not a Zarr store"):
        _write(".zarr", f"{folder}/.", (8, 4), force=True)
    assert _tree(folder) == before


def test_cli_force_refuses_a_folder_that_is_not_a_store(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _need_format(".zarr")
    folder = tmp_path / "w.zarr"
    before = _user_folder(folder)
    assert main(_argv(folder, (8, 4), force=True)) == 1
    err = capsys.readouterr().err
    assert "not a Zarr store" in err and str(folder) in err and "Traceback" not in err
    assert _tree(folder) == before
    assert _entries(tmp_path) == ["w.zarr"]


@pytest.mark.parametrize("suffix", [".npy", ".safetensors"])
def test_file_writers_force_refuse_a_folder(suffix: str, tmp_path: Path) -> None:
    """A file format never replaces a folder, not even a Zarr store."""
    _need_format(suffix)
    folder = tmp_path / f"w{suffix}"
    folder.mkdir()
    (folder / "zarr.json").write_bytes(b"{}")
    before = _tree(folder)
    with pytest.raises(vs.InvalidArgumentError, match="a folder, not a file"):
        _write(suffix, folder, (8, 4), force=True)
    assert _tree(folder) == before
    assert _entries(tmp_path) == [folder.name]


@pytest.mark.parametrize("meta", ["zarr.json", ".zarray", ".zgroup"])
def test_force_replaces_a_zarr_store(meta: str, tmp_path: Path) -> None:
    _need_format(".zarr")
    target = tmp_path / "w.zarr"
    (target / "old").mkdir(parents=True)
    (target / meta).write_bytes(b"{}")
    (target / "old" / "0").write_bytes(b"old chunk")
    _write(".zarr", target, (8, 4), force=True)
    np.testing.assert_array_equal(_load(target), _expected((8, 4)))
    assert not (target / "old").exists()
    assert _entries(tmp_path) == ["w.zarr"]


def test_force_replaces_a_link_not_what_it_points_to(tmp_path: Path) -> None:
    _need_format(".zarr")
    folder = tmp_path / "elsewhere"
    before = _user_folder(folder)
    target = tmp_path / "w.zarr"
    target.symlink_to(folder, target_is_directory=True)
    _write(".zarr", target, (8, 4), force=True)
    assert not target.is_symlink()
    np.testing.assert_array_equal(_load(target), _expected((8, 4)))
    assert _tree(folder) == before


def test_force_refuses_a_folder_that_appears_before_publishing(tmp_path: Path) -> None:
    """The check is made again where the old target is replaced: a user folder put there meanwhile stays."""
    _need_format(".zarr")
    target = tmp_path / "w.zarr"
    made: dict[str, bytes] = {}

    def appear(done: int, total: int) -> None:
        if done == total:
            made.update(_user_folder(target))

    with pytest.raises(vs.InvalidArgumentError, match="not a Zarr store"):
        _write(".zarr", target, (8, 4), force=True, progress=appear)
    assert made and _tree(target) == made
    assert _entries(tmp_path) == ["w.zarr"]


@pytest.mark.parametrize("exchange", [True, False], ids=["renameat2", "move-aside"])
def test_force_puts_back_a_folder_swapped_in_at_the_last_moment(
    exchange: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A store checked, then swapped for a user folder just before the exchange: the folder is put back whole."""
    _need_format(".zarr")
    _io()  # skips where varscale.io is missing
    files = importlib.import_module("varscale._files")
    target = tmp_path / "w.zarr"
    target.mkdir()
    (target / "zarr.json").write_bytes(b"{}")
    made: dict[str, bytes] = {}
    folders = importlib.import_module("varscale._folders")  # where the Zarr store is published
    real_exchange = folders.exchange
    real_refusal = files.replace_refusal
    calls = {"n": 0}

    def swap_after_check(path: Path, kind: str) -> str | None:
        why = real_refusal(path, kind)
        calls["n"] += 1
        if calls["n"] == 2:  # 1: check_target; 2: the check at publishing, then the store is swapped
            (target / "zarr.json").unlink()
            target.rmdir()
            made.update(_user_folder(target))
        return why

    monkeypatch.setattr(files, "replace_refusal", swap_after_check)
    if not exchange:
        monkeypatch.setattr(folders, "exchange", lambda a, b: False)
    else:
        monkeypatch.setattr(folders, "exchange", real_exchange)
    with pytest.raises(vs.InvalidArgumentError, match="not a Zarr store"):
        _write(".zarr", target, (8, 4), force=True)
    assert _tree(target) == made
    assert _entries(tmp_path) == ["w.zarr"]


# --- 3: without force, publishing fails if the target appeared ------------------------------------

APPEARS = [
    (".npy", "file"), (".safetensors", "file"), (".zarr", "file"), (".zarr", "empty folder"), (".zarr", "store"),
]


def _appear(target: Path, what: str) -> Any:
    if what == "file":
        target.write_bytes(b"the other writer's output")
    elif what == "empty folder":
        target.mkdir()
    else:
        target.mkdir()
        (target / "zarr.json").write_bytes(b'{"other": true}')
    return _tree(target) if target.is_dir() else target.read_bytes()


@pytest.mark.parametrize(("suffix", "what"), APPEARS, ids=[f"{s}-{w}" for s, w in APPEARS])
def test_publish_fails_if_the_target_appeared_while_writing(suffix: str, what: str, tmp_path: Path) -> None:
    _need_format(suffix)
    target = tmp_path / f"w{suffix}"
    other: list[Any] = []

    def appear(done: int, total: int) -> None:  # after the last region: between the check and the publish
        if done == total:
            other.append(_appear(target, what))

    with pytest.raises(FileExistsError, match="appeared while") as info:
        _write(suffix, target, (8, 4), progress=appear)
    assert isinstance(info.value, vs.InvalidArgumentError)
    assert str(target) in str(info.value) and ".partial" not in str(info.value)
    assert other and (_tree(target) if target.is_dir() else target.read_bytes()) == other[0]
    assert _entries(tmp_path) == [target.name]


@pytest.mark.parametrize("suffix", FORMATS)
def test_two_overlapping_writers_one_wins(suffix: str, tmp_path: Path) -> None:
    """Two threads write the same target and publish together: one output survives whole, the other fails."""
    _need_format(suffix)
    target = tmp_path / f"w{suffix}"
    shape = (16, 8)
    both_done = threading.Barrier(2, timeout=60)
    outcome: dict[int, BaseException | None] = {}

    def writer(seed: int) -> None:
        def wait_for_the_other(done: int, total: int) -> None:
            if done == total:
                both_done.wait()

        try:
            _write(suffix, target, shape, seed=seed, progress=wait_for_the_other)
            outcome[seed] = None
        except BaseException as err:
            outcome[seed] = err

    threads = [threading.Thread(target=writer, args=(seed,)) for seed in (1, 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    winners = [s for s, e in outcome.items() if e is None]
    losers = [e for e in outcome.values() if e is not None]
    assert len(winners) == 1 and len(losers) == 1, outcome
    assert isinstance(losers[0], FileExistsError) and "appeared while" in str(losers[0]), losers
    np.testing.assert_array_equal(_load(target), _expected(shape, winners[0]))
    assert _entries(tmp_path) == [target.name]


def test_cli_overlapping_sample_to_the_same_zarr(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``varscale sample --out w.zarr`` twice, the second finishing while the first is still writing."""
    _need_format(".zarr")
    _io()  # skips where varscale.io is missing
    target = tmp_path / "w.zarr"
    folders = importlib.import_module("varscale._folders")  # where the Zarr store is synced before publishing
    real_fsync_tree = folders.fsync_tree
    inner: list[int] = []
    started: list[bool] = []

    def second_writer_finishes_first(root: Path) -> None:
        real_fsync_tree(root)
        if not started:  # the first writer's store is complete, not yet published: the second one runs
            started.append(True)
            inner.append(main(_argv(target, (8, 4), seed=2)))

    monkeypatch.setattr(folders, "fsync_tree", second_writer_finishes_first)
    code = main(_argv(target, (8, 4), seed=1))
    err = capsys.readouterr().err
    assert inner == [0]
    assert code == 1, err
    assert "appeared while" in err and str(target) in err and "Traceback" not in err
    np.testing.assert_array_equal(_load(target), _expected((8, 4), seed=2))
    assert _entries(tmp_path) == ["w.zarr"]


@pytest.mark.parametrize("kind", ["file", "folder"])
def test_rename_noreplace_fallbacks(kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without renameat2 (other systems, old kernels): link() for files, mkdir()+rename for folders."""
    files = importlib.import_module("varscale._files")
    monkeypatch.setattr(files, "renameat2", lambda a, b, flags: False)
    src, dst = tmp_path / "src", tmp_path / "dst"

    def make_src() -> None:
        if kind == "file":
            src.write_bytes(b"new")
        else:
            src.mkdir()
            (src / "zarr.json").write_bytes(b"new")

    make_src()
    if kind == "folder":  # taken: a folder by an empty folder (which a plain rename would replace)
        dst.mkdir()
    else:
        dst.write_bytes(b"old")
    with pytest.raises(FileExistsError):
        files.rename_noreplace(src, dst)
    assert src.exists() and (dst.is_dir() and not any(dst.iterdir()) if kind == "folder" else dst.read_bytes() == b"old")
    if kind == "folder":
        dst.rmdir()
    else:
        dst.unlink()
    files.rename_noreplace(src, dst)
    assert not src.exists()
    assert (dst / "zarr.json").read_bytes() == b"new" if kind == "folder" else dst.read_bytes() == b"new"
    if kind == "file":  # a file system without hard links: an exclusive create claims the name
        def no_links(*args: Any, **kwargs: Any) -> None:
            raise OSError(errno.EPERM, "Operation not permitted")

        monkeypatch.setattr(os, "link", no_links)
        make_src()
        with pytest.raises(FileExistsError):
            files.rename_noreplace(src, dst)
        dst.unlink()
        files.rename_noreplace(src, dst)
        assert dst.read_bytes() == b"new" and not src.exists()


# --- 15: --force keeps the replaced target's permission bits --------------------------------------


def _make_private(target: Path, mode: int) -> None:
    if target.suffix == ".zarr":
        target.mkdir()
        (target / "zarr.json").write_bytes(b"{}")
    else:
        target.write_bytes(b"old")
    os.chmod(target, mode)


@pytest.mark.parametrize("via", ["api", "cli"])
@pytest.mark.parametrize("suffix", FORMATS)
def test_force_keeps_the_replaced_targets_mode(suffix: str, via: str, tmp_path: Path) -> None:
    _need_format(suffix)
    target = tmp_path / f"w{suffix}"
    mode = 0o700 if suffix == ".zarr" else 0o600
    old_umask = os.umask(0o022)
    try:
        _make_private(target, mode)
        if via == "api":
            _write(suffix, target, (8, 4), force=True)
        else:
            assert main(_argv(target, (8, 4), force=True)) == 0
        assert target.stat().st_mode & 0o777 == mode
        np.testing.assert_array_equal(_load(target), _expected((8, 4)))
        os.chmod(target, 0o640 if suffix != ".zarr" else 0o750)  # any bits, not one value
        _write(suffix, target, (8, 4), force=True)
        assert target.stat().st_mode & 0o777 == (0o640 if suffix != ".zarr" else 0o750)
    finally:
        os.umask(old_umask)


def test_cli_engine_path_keeps_the_mode(tmp_path: Path) -> None:
    target = tmp_path / "w.npy"
    _make_private(target, 0o600)
    assert main([*_argv(target, (8, 4), force=True), "--engine", "numpy"]) == 0
    assert target.stat().st_mode & 0o777 == 0o600
    np.testing.assert_array_equal(np.load(target), _expected((8, 4)))


# --- 16: names of 238-255 bytes; errors name the user's path --------------------------------------


@pytest.mark.parametrize("nbytes", [238, 247, 255])
@pytest.mark.parametrize("suffix", FORMATS)
def test_long_output_names(suffix: str, nbytes: int, tmp_path: Path) -> None:
    _need_format(suffix)
    target = tmp_path / ("a" * (nbytes - len(suffix)) + suffix)
    assert len(os.fsencode(target.name)) == nbytes
    _write(suffix, target, (8, 4))
    np.testing.assert_array_equal(_load(target), _expected((8, 4)))
    _write(suffix, target, (8, 4), force=True, seed=3)  # replacing one too
    np.testing.assert_array_equal(_load(target), _expected((8, 4), seed=3))
    assert _entries(tmp_path) == [target.name]


def test_long_multibyte_name_through_the_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / ("é" * 125 + ".npy")  # 254 bytes, 129 characters
    assert len(os.fsencode(target.name)) == 254
    assert main(_argv(target, (8, 4))) == 0, capsys.readouterr().err
    np.testing.assert_array_equal(np.load(target), _expected((8, 4)))
    assert _entries(tmp_path) == [target.name]


def test_long_names_get_distinct_temporaries(tmp_path: Path) -> None:
    files = importlib.import_module("varscale._files")
    a = files.temp_prefix(tmp_path / ("x" * 250 + "1.npy"))
    b = files.temp_prefix(tmp_path / ("x" * 250 + "2.npy"))
    assert a != b and a.startswith(".xxx")
    assert len(os.fsencode(a)) + 8 + len(".partial") <= 255


@pytest.mark.parametrize("suffix", FORMATS)
def test_a_name_too_long_for_the_file_system_names_the_users_path(suffix: str, tmp_path: Path) -> None:
    _need_format(suffix)
    target = tmp_path / ("a" * (256 - len(suffix)) + suffix)
    with pytest.raises(vs.InvalidArgumentError, match="256 bytes") as info:
        _write(suffix, target, (8, 4))
    assert str(target) in str(info.value) and ".partial" not in str(info.value)
    assert _entries(tmp_path) == []


@pytest.mark.parametrize("suffix", FORMATS)
def test_write_errors_name_the_target_not_the_temporary(
    suffix: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An error that carries the temporary's name (here: from fsync) is reported for the user's path."""
    _need_format(suffix)
    target = tmp_path / f"w{suffix}"
    files = importlib.import_module("varscale._files")

    def failing_publish(src: Path, dst: Path) -> None:
        raise OSError(errno.EIO, "Input/output error", str(src))

    monkeypatch.setattr(files, "rename_noreplace", failing_publish)
    with pytest.raises(OSError, match="Input/output error") as info:
        _write(suffix, target, (8, 4))
    message = str(info.value)
    assert repr(str(target)) in message and ".partial" not in message, message
    assert info.value.errno == errno.EIO
    assert _entries(tmp_path) == []



# --- 19: SIGTERM and SIGINT during a CLI write ----------------------------------------------------

BIG = (16384, 8192)  # 512 MiB of float32: the write takes long enough to be interrupted


def _size(path: Path) -> int:
    try:
        if path.is_dir():
            return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
        return path.stat().st_size
    except FileNotFoundError:
        return 0


_LAUNCHER = (
    "import os, signal, sys; "
    "signal.signal(signal.SIGINT, signal.SIG_DFL); signal.signal(signal.SIGTERM, signal.SIG_DFL); "
    "os.execv(sys.argv[1], sys.argv[1:])"
)


def _default_signals(argv: list[str]) -> list[str]:
    """``argv`` with SIGINT and SIGTERM at their defaults (a background test run may inherit them ignored)."""
    return [sys.executable, "-c", _LAUNCHER, *argv]


def _interrupt_mid_write(argv: list[str], folder: Path, target: Path, sig: int) -> tuple[int, str]:
    """Run the CLI, send ``sig`` once a temporary has grown past 8 MiB; returns (exit code, stderr)."""
    env = dict(os.environ)
    env.setdefault("NUMBA_CACHE_DIR", "/tmp/nbcache-rel")
    proc = subprocess.Popen(_default_signals([sys.executable, "-m", "varscale", *argv]), env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    full = BIG[0] * BIG[1] * 4
    sent = False
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            temps = [p for p in folder.iterdir() if p != target]
            if any(8 * 2**20 <= _size(p) < full for p in temps):
                proc.send_signal(sig)
                sent = True
                break
            time.sleep(0.001)
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert sent, f"the writer finished (rc={proc.returncode}) before it could be interrupted: {err}"
    return proc.returncode, err


@pytest.mark.parametrize("existing", [False, True], ids=["new", "overwrite"])
@pytest.mark.parametrize("suffix", FORMATS)
def test_sigterm_mid_write_removes_the_temporary(suffix: str, existing: bool, tmp_path: Path) -> None:
    _need_format(suffix)
    target = tmp_path / f"big{suffix}"
    if existing:
        _make_private(target, 0o644)
    before = _tree(target) if target.is_dir() else (target.read_bytes() if target.exists() else None)
    code, err = _interrupt_mid_write([*_argv(target, BIG, force=existing), "--no-progress"], tmp_path, target,
                                     signal.SIGTERM)
    assert code == 143, err
    lines = err.strip().splitlines()
    assert lines == ["varscale sample: interrupted by SIGTERM; no unfinished output was left"], err
    assert _entries(tmp_path) == ([target.name] if existing else []), "a temporary was left behind"
    after = _tree(target) if target.is_dir() else (target.read_bytes() if target.exists() else None)
    assert after == before


def test_sigint_mid_write_one_line_no_traceback(tmp_path: Path) -> None:
    target = tmp_path / "big.npy"
    code, err = _interrupt_mid_write(_argv(target, BIG), tmp_path, target, signal.SIGINT)
    assert code == 130, err
    assert "Traceback" not in err
    assert err.strip().splitlines()[-1] == "varscale sample: interrupted by SIGINT; no unfinished output was left"
    assert _entries(tmp_path) == []


def test_zarr_interrupted_no_write_lands_after_the_removal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An interruption while Dask's workers write chunks: the temporary store is removed only after their
    writes in flight are done, and no write starts after (it would recreate the removed folder)."""
    zarr = need("zarr")
    need("dask")
    real = zarr.Array.__setitem__
    writing = threading.Event()

    def slow_write(self: Any, key: Any, value: Any) -> None:
        writing.set()
        time.sleep(0.3)
        real(self, key, value)

    def interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(zarr.Array, "__setitem__", slow_write)
    main_thread = threading.main_thread().ident
    assert main_thread == threading.get_ident()

    def interrupter() -> None:
        if writing.wait(60):
            signal.pthread_kill(main_thread, signal.SIGUSR1)  # type: ignore[arg-type]

    previous = signal.signal(signal.SIGUSR1, interrupt)
    helper = threading.Thread(target=interrupter)
    helper.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            _write(".zarr", tmp_path / "w.zarr", (64, 4))  # 16 chunks of (4, 4)
    finally:
        helper.join()
        signal.signal(signal.SIGUSR1, previous)
    time.sleep(1.0)  # any write still running would have landed by now
    assert _entries(tmp_path) == []


def test_the_library_installs_no_signal_handler(tmp_path: Path) -> None:
    """Importing varscale (and its writers) leaves SIGTERM/SIGINT to the program; main() restores SIGTERM."""
    code = ("import signal, varscale, varscale.io, varscale.cli; "
            "assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL; "
            "assert signal.getsignal(signal.SIGINT) is signal.default_int_handler; print('ok')")
    proc = subprocess.run(_default_signals([sys.executable, "-c", code]), capture_output=True, text=True,
                          timeout=120, check=False)
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr
    before = signal.getsignal(signal.SIGTERM)
    assert main(_argv(tmp_path / "w.npy", (4, 4))) == 0
    assert signal.getsignal(signal.SIGTERM) is before
