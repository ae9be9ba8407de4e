"""Golden values pin stream v1: any change of the bits fails here, loudly.

Regenerate only with ``python scripts/gen_golden.py`` together with a new
stream version (DESIGN.md: a change of the stream is never a silent edit).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
import scipy.special

import varscale as vs
from varscale.stream import element_words, element_words64

GOLDEN = json.loads((Path(__file__).parent / "golden" / "stream_v1.json").read_text())


def test_golden_file_is_for_this_stream_version() -> None:
    assert GOLDEN["stream_version"] == vs.STREAM_VERSION == 1


@pytest.mark.stream
@pytest.mark.parametrize("engine", ["numpy", "numba"])
@pytest.mark.parametrize("case", GOLDEN["cases"], ids=lambda c: f"{c['distribution']}-{c['dtype']}-{c['seed']}")
def test_golden(case: dict, engine: str) -> None:
    init = vs.VarianceScaling(case["scale"], case["mode"], case["distribution"], seed=case["seed"])
    arr = init(tuple(case["shape"]), case["dtype"], engine=engine)
    bits = arr.reshape(-1)[:6].view({2: np.uint16, 4: np.uint32, 8: np.uint64}[arr.itemsize])
    assert [hex(int(b)) for b in bits] == case["head_bits"], "stream v1 changed: this needs a new stream version"
    assert hashlib.sha256(arr.tobytes()).hexdigest() == case["sha256"]


@pytest.mark.parametrize("case", GOLDEN["cases"], ids=lambda c: f"{c['distribution']}-{c['dtype']}-{c['seed']}")
def test_golden_values_follow_the_specification(case: dict) -> None:
    """Recompute the head values independently (scipy's ndtri, the spec's formulas)."""
    init = vs.VarianceScaling(case["scale"], case["mode"], case["distribution"], seed=case["seed"])
    d = init.describe(tuple(case["shape"]))
    idx = np.arange(6)
    if case["dtype"] == "float64":
        k = element_words64(case["seed"], idx) >> np.uint64(11)
        u = (k.astype(np.float64) + 0.5) * 2.0**-53
    else:
        u = (element_words(case["seed"], idx).astype(np.float64) + 0.5) * 2.0**-32
    if case["distribution"] == "uniform":
        expect = d.limit * (2 * u - 1)
    elif case["distribution"] == "untruncated_normal":
        expect = d.std * scipy.special.ndtri(u)
    else:
        lo = scipy.special.ndtr(-2.0)
        expect = d.param_std * scipy.special.ndtri(lo + u * (1 - 2 * lo))
    dtype = vs.VarianceScaling(seed=0)((1,), case["dtype"]).dtype
    got = np.array(case["head_values"])
    # one rounding to the output dtype: within one ulp of that dtype; in float64 the
    # quantile itself is AS 241's, a few float64 ulp from the exact value (tests/test_accuracy.py
    # bounds it by 8), and scipy's ndtri adds its own error of about the same size
    ulps = 16.0 if case["dtype"] == "float64" else 1.0
    ulp = np.abs(expect.astype(dtype).astype(np.float64)) * float(np.finfo(dtype).eps)
    assert np.all(np.abs(got - expect) <= ulps * ulp + 1e-300)
