"""Zarr ``resume``: an interrupted write keeps its finished chunks (checked from the store's own metadata and
re-drawn lines) and a resume draws only the others, byte for byte an uninterrupted run; SIGTERM/SIGINT/SIGKILL
of ``varscale sample --out w.zarr --resume`` with a real subprocess (issue 17)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import varscale as vs
from _support import need

BIG = ["--shape", "16384,8192"]  # 512 MiB of float32: 32 chunks of 16 MiB, long enough to be interrupted


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _stop_half_way(done: int, total: int) -> None:
    if done * 2 >= total:
        raise KeyboardInterrupt


def test_interrupted_write_keeps_checked_chunks_and_resumes_byte_identical(tmp_path: Path) -> None:
    need("zarr")
    need("dask")
    from varscale.io import unfinished, write_zarr

    init, shape, chunks = vs.HeNormal(seed=5), (4096, 40), (8, 40)
    target = tmp_path / "a.zarr"
    with pytest.raises(KeyboardInterrupt) as info:
        write_zarr(target, init, shape, chunks=chunks, progress=_stop_half_way, resume=True)
    folder = Path(info.value.varscale_partial)  # type: ignore[attr-defined]
    assert unfinished(target) == [folder] and not target.exists()
    assert "--resume" in info.value.varscale_note  # type: ignore[attr-defined]
    assert info.value.varscale_files == 512  # type: ignore[attr-defined]
    (folder / "c" / "3" / "0").unlink()  # a chunk lost
    (folder / "c" / "4" / "0").write_bytes(b"\0" * 8 * 40 * 4)  # a chunk of the right size with other values
    (folder / "c" / "5" / "0").write_bytes(b"\0" * 10)  # a torn chunk
    (folder / "c" / "6" / "0.0123abcd.partial").write_bytes(b"x")  # a killed writer's temporary
    kept = (folder / "c" / "0" / "0").stat().st_ino
    # other arguments do not take the folder over
    with pytest.raises(vs.InvalidArgumentError, match="other arguments"):
        write_zarr(target, vs.HeNormal(seed=6), shape, chunks=chunks, resume=True)
    write_zarr(target, init, shape, chunks=chunks, resume=True)
    assert unfinished(target) == [] and not folder.exists()
    assert (target / "c" / "0" / "0").stat().st_ino == kept  # kept, not drawn again
    write_zarr(tmp_path / "b.zarr", init, shape, chunks=chunks)
    assert _tree(target) == _tree(tmp_path / "b.zarr")
    # a finished store is left as it is; another one at the target is refused
    write_zarr(target, init, shape, chunks=chunks, resume=True)
    with pytest.raises(FileExistsError, match="not the store these arguments make"):
        write_zarr(target, vs.HeNormal(seed=6), shape, chunks=chunks, resume=True)
    assert sorted(os.listdir(tmp_path)) == ["a.zarr", "b.zarr"]


def test_interrupted_write_without_resume_leaves_nothing(tmp_path: Path) -> None:
    need("zarr")
    need("dask")
    from varscale.io import write_zarr

    with pytest.raises(KeyboardInterrupt) as info:
        write_zarr(tmp_path / "a.zarr", vs.HeNormal(seed=5), (4096, 40), chunks=(8, 40), progress=_stop_half_way)
    assert not hasattr(info.value, "varscale_partial")
    assert os.listdir(tmp_path) == []


def test_resume_refuses_a_url_and_other_formats(tmp_path: Path) -> None:
    need("zarr")
    need("dask")
    from varscale.cli import main
    from varscale.io import write_zarr

    with pytest.raises(vs.InvalidArgumentError, match="resume"):
        write_zarr("memory://x/w.zarr", vs.HeNormal(seed=1), (4, 4), resume=True)
    assert main(["sample", "he_normal", "--shape", "4", "4", "--seed", "1", "--out", str(tmp_path / "w.npy"),
                 "--resume"]) == 2
    assert os.listdir(tmp_path) == []


def _finished_chunks(folder: Path) -> list[Path]:
    """Chunk files zarr has renamed into place (not its ``*.partial`` temporaries)."""
    return [p for p in (folder / "c").rglob("*") if p.is_file() and not p.name.endswith(".partial")]


def _argv(out: Path) -> list[str]:
    return ["sample", "he_normal", *BIG, "--seed", "3", "--out", str(out), "--no-progress"]


def _run(argv: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "varscale", *argv], capture_output=True, text=True, timeout=600)


_LAUNCHER = ("import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); "
             "signal.signal(signal.SIGTERM, signal.SIG_DFL); os.execv(sys.argv[1], sys.argv[1:])")


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    need("zarr")
    need("dask")
    out = tmp_path_factory.mktemp("ref") / "w.zarr"
    done = _run(_argv(out))
    assert done.returncode == 0, done.stderr
    return _tree(out)


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGINT, signal.SIGKILL], ids=["SIGTERM", "SIGINT", "SIGKILL"])
def test_cli_signal_then_resume_is_byte_identical(how: int, tmp_path: Path, reference: dict[str, bytes]) -> None:
    from varscale.io import unfinished

    out = tmp_path / "w.zarr"
    argv = [*_argv(out), "--resume"]
    proc = subprocess.Popen([sys.executable, "-c", _LAUNCHER, sys.executable, "-m", "varscale", *argv],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    folder = None
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and proc.poll() is None and folder is None:
            for f in unfinished(out):
                if len(_finished_chunks(f)) >= 2:
                    folder = f
            time.sleep(0.002)
        if folder is None:
            proc.kill()
            raise AssertionError(f"the writer finished (rc={proc.wait()}) before it could be interrupted: "
                                 f"{proc.communicate()[1]}")
        proc.send_signal(how)
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert not out.exists() and folder.is_dir()
    if how == signal.SIGKILL:
        assert proc.returncode == -signal.SIGKILL
    else:
        assert proc.returncode == (143 if how == signal.SIGTERM else 130), err
        last = err.strip().splitlines()[-1]
        name = "SIGTERM" if how == signal.SIGTERM else "SIGINT"
        assert last.startswith(f"varscale sample: interrupted by {name}; ") and "of 32 chunk(s)" in last, err
        assert "run the same command with --resume" in last and folder.name in last and "Traceback" not in err
    kept = {str(p.relative_to(folder)): p.stat().st_ino for p in _finished_chunks(folder)}
    assert kept
    done = _run(argv)
    assert done.returncode == 0, done.stderr
    assert unfinished(out) == [] and sorted(os.listdir(tmp_path)) == ["w.zarr"]
    for rel, ino in kept.items():  # the finished chunks were kept, not drawn again
        assert (out / rel).stat().st_ino == ino, rel
    assert _tree(out) == reference


def test_resume_on_a_distributed_cluster(tmp_path: Path) -> None:
    """Chunks written by dask.distributed workers are kept and resumed the same way (workers write whole files)."""
    need("zarr")
    need("dask")
    distributed = need("distributed")
    from varscale.io import unfinished, write_zarr

    init, shape, chunks = vs.GlorotUniform(seed=9), (2048, 40), (8, 40)
    target = tmp_path / "a.zarr"
    with distributed.LocalCluster(n_workers=2, processes=False, threads_per_worker=1, dashboard_address=":0",
                                  silence_logs=40) as cluster, distributed.Client(cluster):
        with pytest.raises(KeyboardInterrupt):
            write_zarr(target, init, shape, chunks=chunks, progress=_stop_half_way, resume=True)
        (folder,) = unfinished(target)
        for row in (0, 100, 255):  # lost: drawn again by the workers, block by block
            (folder / "c" / str(row) / "0").unlink()
        kept = {p: p.stat().st_ino for p in _finished_chunks(folder)}
        assert len(kept) == 256 - 3
        write_zarr(target, init, shape, chunks=chunks, resume=True)
    assert all((target / p.relative_to(folder)).stat().st_ino == ino for p, ino in kept.items())
    write_zarr(tmp_path / "b.zarr", init, shape, chunks=chunks)
    assert _tree(target) == _tree(tmp_path / "b.zarr")
