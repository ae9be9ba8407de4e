"""The parallel writer (issue 17, item 3): one thread per core draws its own regions and writes them at their
offsets; the bytes are the single writer's, an error stops every thread, and no file is left behind."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import varscale as vs
from varscale import _sources
from varscale.io import write_safetensors

TENSORS: dict[str, tuple[Any, tuple[int, ...], str | None]] = {
    "a": (vs.HeNormal(seed=1), (300, 70), "float32"),
    "b": (vs.GlorotUniform(seed=2), (64, 3, 5, 5), "bfloat16"),
    "c": (vs.Normal(0.5, 0.02, seed=3), (1001,), "float64"),
    "d": (vs.LecunNormal(seed=4), (17, 33), "float16"),
}


def _write(path: Path, monkeypatch: pytest.MonkeyPatch, nthreads: int) -> bytes:
    monkeypatch.setattr(_sources, "_parallel_threads", lambda fh, sources, step: nthreads)
    write_safetensors(path, TENSORS, chunk_elems=997)  # regions that split rows, odd sizes
    return path.read_bytes()


@pytest.mark.parametrize("nthreads", [2, 3, 5])
def test_parallel_bytes_equal_the_single_writer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                nthreads: int) -> None:
    single = _write(tmp_path / "one.safetensors", monkeypatch, 1)
    many = _write(tmp_path / "many.safetensors", monkeypatch, nthreads)
    assert many == single


def test_the_default_is_parallel_on_a_real_file(tmp_path: Path) -> None:
    import io

    src = [_sources.Source(n, *TENSORS[n]) for n in TENSORS]
    numba = pytest.importorskip("numba")
    array = [_sources.Source("x", np.zeros((4, 4), np.float32), (4, 4), "float32")]
    with open(tmp_path / "f", "wb") as fh:
        assert _sources._parallel_threads(fh, src, 997) == numba.get_num_threads()
        assert _sources._parallel_threads(fh, src, 10**6) == 1  # under four regions: nothing to share out
        assert _sources._parallel_threads(fh, array, 4) == 1  # an array: the single writer
    assert _sources._parallel_threads(io.BytesIO(), src, 997) == 1  # no file descriptor: the single writer


def test_an_error_in_one_thread_stops_all_and_leaves_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_sources, "_parallel_threads", lambda fh, sources, step: 3)
    real = _sources.draw_into
    calls = [0]
    lock = threading.Lock()

    def failing(*args: Any, **kwargs: Any) -> None:
        with lock:
            calls[0] += 1
            n = calls[0]
        if n == 4:
            raise MemoryError("injected")
        real(*args, **kwargs)

    monkeypatch.setattr(_sources, "draw_into", failing)
    before = threading.active_count()
    with pytest.raises(MemoryError, match="injected"):
        write_safetensors(tmp_path / "x.safetensors", TENSORS, chunk_elems=997)
    assert threading.active_count() == before  # every writer thread joined
    assert list(tmp_path.iterdir()) == []  # nothing published, no temporary left
    assert calls[0] < 40  # the others stopped after their current region, not at the end
