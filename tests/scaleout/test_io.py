"""varscale.io writers: the real safetensors and zarr libraries read back exactly ``init(shape)``.

Regions are drawn a few elements at a time (small ``chunk_elems``) so that every tensor crosses many
region boundaries; the safetensors bytes are compared with the safetensors library's own output.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import varscale as vs
from _support import need
from varscale.io import regions, write_npy, write_safetensors, write_zarr


def _bits(a: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    return np.asarray(a).view(np.dtype(f"u{a.dtype.itemsize}"))


@pytest.mark.parametrize("shape", [(), (0,), (5,), (3, 0, 2), (7, 5), (4, 3, 5, 2), (1, 1, 37)])
@pytest.mark.parametrize("chunk_elems", [1, 4, 7, 30, 1 << 20])
def test_regions_tile_the_tensor_in_c_order(shape: tuple[int, ...], chunk_elems: int) -> None:
    flat = np.arange(int(np.prod(shape)), dtype=np.int64).reshape(shape)
    parts = [(flat[r].reshape(-1), n) for r, n in regions(shape, chunk_elems)]
    got = np.concatenate([p for p, _ in parts]) if parts else np.empty(0, np.int64)
    np.testing.assert_array_equal(got, flat.reshape(-1))
    assert all(p.size == n and (n <= chunk_elems or p.size == shape[-1]) for p, n in parts)


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "bfloat16"])
def test_npy_round_trip(tmp_path: Path, dtype: str) -> None:
    init = vs.GlorotNormal(seed=4)
    calls: list[tuple[int, int]] = []
    p = write_npy(tmp_path / "w.npy", init, (13, 6, 5), dtype, chunk_elems=7, progress=lambda d, t: calls.append((d, t)))
    assert p == tmp_path / "w.npy"
    got = np.load(p, allow_pickle=False)
    expect = init((13, 6, 5), dtype)
    assert got.shape == expect.shape
    np.testing.assert_array_equal(_bits(got), _bits(expect))
    assert calls[-1] == (390, 390) and [d for d, _ in calls] == sorted(d for d, _ in calls)


def test_safetensors_bytes_equal_the_library_s(tmp_path: Path) -> None:
    st = need("safetensors.numpy")
    tensors = {
        "encoder.weight": (vs.HeNormal(seed=vs.derive_stream(1, "encoder.weight")), (33, 17), None),
        "a.bias": (vs.HeUniform(seed=2), (9,), "float16"),
        "z.kernel": (vs.LecunNormal(seed=3), (3, 3, 4, 5), "float64"),
        "b.scalar": (vs.GlorotUniform(seed=4), (), "float32"),
        "empty": (vs.GlorotUniform(seed=5), (0, 3), "float32"),
    }
    meta = {"format": "pt", "note": "ünïcode"}
    p = write_safetensors(tmp_path / "m.safetensors", tensors, metadata=meta, chunk_elems=5)
    arrays = {k: init(shape, dtype) for k, (init, shape, dtype) in tensors.items()}
    ours = p.read_bytes()
    (n,) = struct.unpack("<Q", ours[:8])
    assert n % 8 == 0 and (8 + n) % 8 == 0
    header = json.loads(ours[8:8 + n])
    theirs = st.save(arrays, metadata=meta)
    (m,) = struct.unpack("<Q", theirs[:8])
    assert header == json.loads(theirs[8:8 + m])
    assert ours[8 + n:] == theirs[8 + m:]  # the same data layout and order, byte for byte
    loaded = st.load_file(str(p))
    for k, v in arrays.items():
        assert loaded[k].dtype == v.dtype and loaded[k].shape == v.shape
        np.testing.assert_array_equal(loaded[k], v)


def test_safetensors_bfloat16_read_by_torch_and_safe_open(tmp_path: Path) -> None:
    need("safetensors")
    torch = need("torch")
    from safetensors import safe_open

    init = vs.HeNormal(seed=vs.derive_stream(0, "w"))
    p = write_safetensors(tmp_path / "b.safetensors", {"w": (init, (41, 9), "bfloat16"), "v": (init, (8,), None)},
                          chunk_elems=10)
    expect = init((41, 9), "bfloat16")
    with safe_open(str(p), framework="pt") as f:
        w = f.get_tensor("w")
        assert w.dtype == torch.bfloat16
        np.testing.assert_array_equal(w.view(torch.int16).numpy().view(np.uint16), _bits(expect))
        assert f.get_slice("w")[3:7].shape == (4, 9)


def test_safetensors_from_dask_arrays(tmp_path: Path) -> None:
    st = need("safetensors.numpy")
    need("dask")
    from varscale.dask import array

    init = vs.HeNormal()
    x = array(init, (60, 20), chunks=(11, 7), seed=8)
    p = write_safetensors(tmp_path / "d.safetensors", {"x": (x, (60, 20), "float32")}, chunk_elems=100)
    np.testing.assert_array_equal(st.load_file(str(p))["x"], vs.HeNormal(seed=8)((60, 20)))
    with pytest.raises(vs.InvalidArgumentError, match="dtype"):
        write_safetensors(tmp_path / "e.safetensors", {"x": (x, (60, 20), "float64")})
    with pytest.raises(vs.InvalidArgumentError, match="shape"):
        write_safetensors(tmp_path / "e.safetensors", {"x": (x, (20, 60), "float32")})
    assert sorted(q.name for q in tmp_path.iterdir()) == ["d.safetensors"]


def test_safetensors_progress_counts_all_tensors(tmp_path: Path) -> None:
    need("safetensors")
    calls: list[tuple[int, int]] = []
    init = vs.HeNormal(seed=0)
    write_safetensors(tmp_path / "p.safetensors", {"a": (init, (10, 10), None), "b": (init, (5,), "float64")},
                      chunk_elems=30, progress=lambda d, t: calls.append((d, t)))
    assert calls[-1] == (105, 105)
    assert all(t == 105 for _, t in calls) and len(calls) == 5  # 4 regions of a, 1 of b


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16"])
def test_zarr_round_trip(tmp_path: Path, dtype: str) -> None:
    zarr = need("zarr")
    init = vs.VarianceScaling(0.5, "fan_out", "untruncated_normal", seed=9)
    calls: list[tuple[int, int]] = []
    p = write_zarr(tmp_path / "w.zarr", init, (130, 21, 3), dtype, chunks=(16, 8, 3),
                   progress=lambda d, t: calls.append((d, t)))
    z = zarr.open_array(str(p), mode="r")
    assert z.metadata.zarr_format == 3
    assert z.chunks == (16, 8, 3)
    np.testing.assert_array_equal(_bits(z[...]), _bits(init((130, 21, 3), dtype)))
    assert calls[-1] == (130 * 63, 130 * 63)
    assert sorted(q.name for q in tmp_path.iterdir()) == ["w.zarr"]


def test_zarr_default_chunks_and_overwrite(tmp_path: Path) -> None:
    zarr = need("zarr")
    target = tmp_path / "w.zarr"
    write_zarr(target, vs.HeNormal(seed=1), (40, 30))
    with pytest.raises(vs.InvalidArgumentError, match="force"):
        write_zarr(target, vs.HeNormal(seed=2), (40, 30))
    np.testing.assert_array_equal(zarr.open_array(str(target), mode="r")[...], vs.HeNormal(seed=1)((40, 30)))
    write_zarr(target, vs.HeNormal(seed=2), (20, 10), force=True)
    np.testing.assert_array_equal(zarr.open_array(str(target), mode="r")[...], vs.HeNormal(seed=2)((20, 10)))
    assert sorted(q.name for q in tmp_path.iterdir()) == ["w.zarr"]


def test_zarr_on_a_distributed_cluster(tmp_path: Path) -> None:
    zarr = need("zarr")
    distributed = need("distributed")
    with distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=":0",
                                  silence_logs=40) as cluster, distributed.Client(cluster):
        p = write_zarr(tmp_path / "c.zarr", vs.HeUniform(seed=6), (200, 50), chunks=(25, 25))
    np.testing.assert_array_equal(zarr.open_array(str(p), mode="r")[...], vs.HeUniform(seed=6)((200, 50)))


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda p: write_npy(p / "x.npy", "he_normal", (3, 3)), TypeError, "`init`"),
        (lambda p: write_npy(p / "x.npy", vs.HeNormal(), (3, 3), "int8"), vs.InvalidArgumentError, "dtype"),
        (lambda p: write_npy(p / "x.npy", vs.HeNormal(), (3, 3), chunk_elems=0), vs.InvalidArgumentError,
         "chunk_elems"),
        (lambda p: write_npy(p / "x.npy", vs.HeNormal(), (3, 3), progress=3), TypeError, "progress"),
        (lambda p: write_npy(p / "nope" / "x.npy", vs.HeNormal(), (3, 3)), vs.InvalidArgumentError, "folder"),
        (lambda p: write_safetensors(p / "x.st", [("a", (vs.HeNormal(), (3,), None))]), TypeError, "mapping"),
        (lambda p: write_safetensors(p / "x.st", {"a": (vs.HeNormal(), (3,))}), TypeError, "tuple"),
        (lambda p: write_safetensors(p / "x.st", {"__metadata__": (vs.HeNormal(), (3,), None)}),
         vs.InvalidArgumentError, "__metadata__"),
        (lambda p: write_safetensors(p / "x.st", {"a": (vs.HeNormal(), (3,), None)}, metadata={"a": 1}), TypeError,
         "metadata"),
        (lambda p: write_safetensors(p / "x.st", {"a": (vs.HeNormal(), (3,), None), "b": (None, (3,), None)}),
         TypeError, "'b'"),
        (lambda p: write_zarr(p / "x.zarr", vs.HeNormal(), (3, 3), "bfloat16"), vs.InvalidArgumentError, "bfloat16"),
        (lambda p: write_zarr(p / "x.zarr", vs.HeNormal(), (3, 3), chunks=(2,)), vs.InvalidArgumentError, "chunks"),
    ],
)
def test_bad_input_leaves_nothing(tmp_path: Path, call: Any, error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        call(tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_failure_mid_write_leaves_no_file(tmp_path: Path) -> None:
    """A progress callback that raises half way stops the writer; nothing is left at the target."""
    need("zarr")

    def stop(done: int, total: int) -> None:
        if done * 2 >= total:
            raise KeyboardInterrupt

    for write in (
        lambda: write_npy(tmp_path / "a.npy", vs.HeNormal(seed=0), (40, 40), chunk_elems=100, progress=stop),
        lambda: write_safetensors(tmp_path / "a.st", {"w": (vs.HeNormal(seed=0), (40, 40), None)}, chunk_elems=100,
                                  progress=stop),
        lambda: write_zarr(tmp_path / "a.zarr", vs.HeNormal(seed=0), (4000, 40), chunks=(8, 40), progress=stop),
    ):
        with pytest.raises(KeyboardInterrupt):
            write()
        assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("exchange", [True, False], ids=["renameat2", "move-aside"])
@pytest.mark.parametrize("old", ["file", "folder"])
def test_zarr_replaces_an_old_target(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, exchange: bool,
                                     old: str) -> None:
    zarr = need("zarr")
    import varscale._folders as folders

    if not exchange:  # a platform without renameat2(RENAME_EXCHANGE)
        monkeypatch.setattr(folders, "exchange", lambda a, b: False)
    target = tmp_path / "w.zarr"
    if old == "file":
        target.write_bytes(b"old")
    else:  # an old Zarr store (force replaces no other folder: tests/reliability/test_files_round2.py)
        (target / "old").mkdir(parents=True)
        (target / "old" / "0").write_bytes(b"old chunk")
        (target / "zarr.json").write_bytes(b"{}")
    write_zarr(target, vs.HeNormal(seed=3), (9, 4), force=True)
    np.testing.assert_array_equal(zarr.open_array(str(target), mode="r")[...], vs.HeNormal(seed=3)((9, 4)))
    assert not (target / "old").exists()
    assert sorted(q.name for q in tmp_path.iterdir()) == ["w.zarr"]


def test_memory_benchmark_runs_small(tmp_path: Path) -> None:
    """bench/bench_write_memory.py on a small tensor: it writes, measures and cleans up."""
    need("zarr")
    need("safetensors")
    import subprocess
    import sys

    bench = Path(__file__).parents[2] / "bench" / "bench_write_memory.py"
    proc = subprocess.run([sys.executable, str(bench), "--shape", "512,256", "--formats", "safetensors,zarr,npy",
                           "--dir", str(tmp_path)], capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    summary = json.loads(proc.stdout.strip().splitlines()[-1])
    rows = {r["format"]: r for r in summary["results"]}
    assert set(rows) == {"safetensors", "zarr", "npy"}
    assert rows["npy"]["file_bytes"] == 512 * 256 * 4 + 128  # the .npy 2.0 header is 128 bytes here
    assert all(0 < r["baseline_rss"] <= r["peak_rss"] < 2**30 for r in rows.values())
    assert list(tmp_path.iterdir()) == []
