"""Stream v1 against the known-answer vectors (DESIGN.md, stream-v1-vectors.json)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import varscale as vs
from varscale import _engine_numpy
from varscale.stream import element_words, element_words64, philox4x32

DATA = Path(__file__).parent / "data" / "stream-v1-vectors.json"
SHARED = Path(__file__).resolve().parents[2] / "shared" / "design" / "stream-v1-vectors.json"
VECTORS = json.loads(DATA.read_text())


def test_vectors_copy_matches_shared_design() -> None:
    if not SHARED.exists():
        pytest.skip("../shared/design is not beside the checkout")
    assert json.loads(SHARED.read_text()) == VECTORS


@pytest.mark.parametrize("row", VECTORS["philox"], ids=lambda r: "-".join(r["counter"]))
def test_philox_known_answers(row: dict) -> None:
    got = philox4x32([int(c, 16) for c in row["counter"]], [int(k, 16) for k in row["key"]])
    assert [hex(w) for w in got] == row["words"]


@pytest.mark.parametrize("row", VECTORS["elements32"], ids=lambda r: f"{r['seed']}@{r['index']}")
def test_element_words32(row: dict) -> None:
    word = element_words(row["seed"], [row["index"]])
    assert int(word[0]) == row["word"]
    u, ub = _engine_numpy.uniforms(word.astype(np.uint64), wide=False)
    assert repr(float(u[0])) == row["u"]
    assert float(u[0]) + float(ub[0]) == 1.0


@pytest.mark.parametrize("row", VECTORS["elements64"], ids=lambda r: f"{r['seed']}@{r['index']}")
def test_element_words64(row: dict) -> None:
    value = element_words64(row["seed"], [row["index"]])
    assert int(value[0]) == row["word64"]
    u, _ = _engine_numpy.uniforms(value, wide=True)
    assert repr(float(u[0])) == row["u"]


@pytest.mark.parametrize("engine", ["numpy", "numba"])
def test_uniform_draw_uses_the_element_words(engine: str) -> None:
    """A U(-1, 1) draw of float32 is exactly fl32(2u - 1) for each element's word."""
    init = vs.VarianceScaling(1.0, "fan_in", "uniform", seed=123456789012345)
    n = 3  # limit sqrt(3*1/3) = 1 for a rank-1 shape (3,): fans (3, 3)
    x = init((n,), "float32", engine=engine)
    rows = [r for r in VECTORS["elements32"] if r["seed"] == 123456789012345 and r["index"] < n]
    for r in rows:
        u = float(r["u"])
        assert x[r["index"]] == np.float32(1.0 * (2.0 * u - 1.0))


def test_derive_stream_is_a_documented_hash() -> None:
    import hashlib

    s = vs.derive_stream(5, "layer.weight")
    digest = hashlib.sha256(b"varscale-stream-v1\x00layer.weight").digest()
    assert s == vs.Stream(5, int.from_bytes(digest[:8], "little"))
    assert vs.derive_stream(5, "layer.bias").stream != s.stream


def test_derived_streams_differ_and_are_reproducible() -> None:
    a = vs.HeNormal(seed=vs.derive_stream(0, "a"))((64, 64))
    b = vs.HeNormal(seed=vs.derive_stream(0, "b"))((64, 64))
    a2 = vs.HeNormal(seed=vs.derive_stream(0, "a"))((64, 64))
    assert not np.array_equal(a, b)
    assert np.array_equal(a, a2)
