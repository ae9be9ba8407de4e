"""``varscale sample --engine``: the same streaming writers, the same bits, region by region."""

from __future__ import annotations

import functools
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

import varscale as vs
import varscale.io
from _support import need
from varscale._generate import ENGINES
from varscale.cli import main

SHAPE = (300, 170)


def _load(path: Path) -> np.ndarray:
    if path.suffix == ".npy":
        return np.load(path)
    if path.suffix == ".safetensors":
        from safetensors.numpy import load_file

        return load_file(str(path))["weight"]
    import zarr

    return np.asarray(zarr.open_array(str(path), mode="r")[...])


def _sample(out: Path, *extra: str, spec: str = "he_normal") -> None:
    argv = ["sample", spec, "--shape", ",".join(map(str, SHAPE)), "--seed", "8", "--out", str(out), "--no-progress"]
    assert main([*argv, *extra]) == 0


@pytest.mark.parametrize("ext", ["npy", "safetensors", "zarr"])
@pytest.mark.parametrize("engine", ENGINES)
def test_engine_gives_the_default_bits(engine: str, ext: str, tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    if ext != "npy":
        need(ext)
    plain, chosen = tmp_path / f"plain.{ext}", tmp_path / f"{engine}.{ext}"
    _sample(plain)
    _sample(chosen, "--engine", engine)
    capsys.readouterr()
    np.testing.assert_array_equal(_load(chosen), _load(plain))
    np.testing.assert_array_equal(_load(chosen), vs.HeNormal(seed=8)(SHAPE))


@pytest.mark.parametrize("engine", ENGINES)
def test_engine_reaches_every_region(engine: str, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    import varscale._generate as gen

    seen: list[str | None] = []
    real = gen._fill

    def fill(flat: np.ndarray, plan: object, stream: object, sampler: object, fmt: int, name: str) -> None:
        seen.append(name)
        real(flat, plan, stream, sampler, fmt, name)

    monkeypatch.setattr(gen, "_fill", fill)
    monkeypatch.setattr(varscale.io, "write_npy", functools.partial(varscale.io.write_npy, chunk_elems=4096))
    _sample(tmp_path / "w.npy", "--engine", engine)
    capsys.readouterr()
    assert len(seen) >= 12 and set(seen) == {engine}  # one fill per 4096-element region, each on the engine given


def test_engine_keeps_memory_streaming(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    # `--engine` used to draw the whole tensor in memory and np.save it (the writer was bypassed)
    shape = (2048, 2048)  # 16 MiB of float32
    monkeypatch.setattr(varscale.io, "write_npy", functools.partial(varscale.io.write_npy, chunk_elems=1 << 16))
    out = tmp_path / "w.npy"
    main(["sample", "glorot_uniform", "--shape", "64,64", "--seed", "1", "--out", str(tmp_path / "warm.npy"),
          "--engine", "numpy"])  # imports and caches outside the measurement
    tracemalloc.start()
    try:
        code = main(["sample", "glorot_uniform", "--shape", "2048,2048", "--seed", "1", "--out", str(out),
                     "--engine", "numpy", "--no-progress"])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    capsys.readouterr()
    assert code == 0
    assert peak < (16 << 20) // 4, f"peak {peak} bytes: the tensor was held whole"
    np.testing.assert_array_equal(np.load(out), vs.GlorotUniform(seed=1)(shape))


def test_unknown_engine_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["sample", "he_normal", "--shape", "3,3", "--seed", "0", "--engine", "cuda",
                 "--out", str(tmp_path / "w.npy")])
    _, err = capsys.readouterr()
    assert code == 2 and "cuda" in err and all(e in err for e in ENGINES)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("out", ["ckpt.safetensors", "ckpt"])
@pytest.mark.parametrize("engine", ENGINES)
def test_init_engine_gives_the_default_bits(engine: str, out: str, tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    need("safetensors")
    from safetensors.numpy import load_file

    import varscale._generate as gen

    shapes = tmp_path / "shapes.json"
    shapes.write_text('{"fc.weight": [300, 70], "fc.bias": [300], "emb.weight": [500, 64]}')
    argv = ["init", "--shapes", str(shapes), "--rule", "*.bias=uniform(-0.1, 0.1)", "--rule", "emb.*=normal(std=0.02)",
            "--rule", "*=he_uniform", "--seed", "5", "--no-progress"]
    seen: list[str] = []
    real = gen._fill

    def fill(flat: np.ndarray, plan: object, stream: object, sampler: object, fmt: int, name: str) -> None:
        seen.append(name)
        real(flat, plan, stream, sampler, fmt, name)

    (tmp_path / "plain").mkdir()
    assert main([*argv, "--out", str(tmp_path / "plain" / out)]) == 0
    monkeypatch.setattr(gen, "_fill", fill)
    (tmp_path / "chosen").mkdir()
    assert main([*argv, "--engine", engine, "--out", str(tmp_path / "chosen" / out)]) == 0
    capsys.readouterr()
    assert seen and set(seen) == {engine}

    def tensors(root: Path) -> dict[str, np.ndarray]:
        files = [root] if root.suffix == ".safetensors" else sorted(root.glob("*.safetensors"))
        return {k: v for f in files for k, v in load_file(str(f)).items()}

    a, b = tensors(tmp_path / "plain" / out), tensors(tmp_path / "chosen" / out)
    assert a.keys() == b.keys() == {"fc.weight", "fc.bias", "emb.weight"}
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])
