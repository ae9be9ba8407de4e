"""The compiled kernel equals the NumPy reference bit for bit; threads and regions don't matter."""

from __future__ import annotations

import numba
import numpy as np
import pytest

import varscale as vs

DISTRIBUTIONS = ["uniform", "untruncated_normal", "truncated_normal"]
DTYPES = ["float16", "bfloat16", "float32", "float64"]


def _bits(a: np.ndarray) -> np.ndarray:
    return a.view({2: np.uint16, 4: np.uint32, 8: np.uint64}[a.itemsize])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("distribution", DISTRIBUTIONS)
def test_numba_equals_numpy_on_ten_million(distribution: str, dtype: str) -> None:
    init = vs.VarianceScaling(2.0, "fan_avg", distribution, seed=20261124)
    shape = (2500, 4001)  # 10 002 500 elements, not a multiple of the block or chunk sizes
    ref = init(shape, dtype, engine="numpy")
    fast = init(shape, dtype, engine="numba")
    assert ref.dtype == fast.dtype
    mismatch = np.flatnonzero(_bits(ref) != _bits(fast))
    assert mismatch.size == 0, f"{mismatch.size} elements differ, first at {mismatch[:5]}"


@pytest.mark.parametrize("distribution", DISTRIBUTIONS)
def test_threads_do_not_change_bits(distribution: str) -> None:
    init = vs.VarianceScaling(1.0, "fan_in", distribution, seed=99)
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = init((1024, 1000))
        numba.set_num_threads(max(2, before))
        two = init((1024, 1000))
    finally:
        numba.set_num_threads(before)
    assert np.array_equal(_bits(one), _bits(two))


def _random_region(rng: np.random.Generator, shape: tuple[int, ...]) -> tuple:
    region = []
    for dim in shape:
        kind = rng.integers(0, 4)
        if kind == 0:
            region.append(slice(None))
        elif kind == 1:
            region.append(int(rng.integers(-dim, dim)))
        else:
            a, b = sorted(rng.integers(-dim - 2, dim + 2, size=2).tolist())
            step = int(rng.choice([1, 1, 2, 3, -1, -2]))
            region.append(slice(a, b, step) if step > 0 else slice(b, a, step))
    return tuple(region)


@pytest.mark.parametrize("engine", ["numpy", "numba"])
@pytest.mark.parametrize("dtype", ["float32", "float64", "bfloat16"])
def test_random_regions_equal_slices(engine: str, dtype: str) -> None:
    rng = np.random.default_rng(2026)
    for trial in range(40):
        rank = int(rng.integers(1, 5))
        shape = tuple(int(d) for d in rng.integers(1, 23, size=rank))
        init = vs.VarianceScaling(1.0, "fan_avg", ["uniform", "truncated_normal", "untruncated_normal"][trial % 3], seed=trial)
        full = init(shape, dtype, engine=engine)
        region = _random_region(rng, shape)
        part = init(shape, dtype, region=region, engine=engine)
        expect = full[region]
        assert part.shape == expect.shape, (shape, region)
        assert np.array_equal(_bits(np.ascontiguousarray(part)), _bits(np.ascontiguousarray(expect))), (shape, region)


def test_column_shard_of_a_large_matrix() -> None:
    init = vs.HeUniform(seed=5)
    shape = (8192, 8192)
    part = init(shape, region=(slice(None), slice(1024, 2048)))
    rows = init(shape, region=(slice(0, 64), slice(None)))
    assert part.shape == (8192, 1024)
    assert np.array_equal(part[:64], rows[:, 1024:2048])
    # a row block is a single contiguous run; the column shard is one run per row
    from varscale._plan import plan_region

    assert len(plan_region(shape, (slice(None), slice(1024, 2048))).starts) == 8192
    assert plan_region(shape, (slice(0, 64), slice(None))).run_len == 64 * 8192


def test_region_ellipsis_and_ints() -> None:
    init = vs.GlorotNormal(seed=1)
    shape = (4, 5, 6)
    full = init(shape)
    assert np.array_equal(init(shape, region=(..., 2)), full[..., 2])
    assert np.array_equal(init(shape, region=(1, ...)), full[1, ...])
    assert np.array_equal(init(shape, region=2), full[2])
    assert init(shape, region=(slice(3, 3),)).shape == (0, 5, 6)


def test_region_errors() -> None:
    init = vs.GlorotNormal(seed=1)
    with pytest.raises(vs.InvalidArgumentError, match="out of bounds"):
        init((4, 5), region=(7,))
    with pytest.raises(vs.InvalidArgumentError, match="has 3 entries"):
        init((4, 5), region=(1, 2, 3))
    with pytest.raises(TypeError, match="`region` must be"):
        init((4, 5), region=("a",))


def _round16_inputs() -> list[np.ndarray]:
    """Every finite 16-bit value of both formats, the midpoints between neighbours (ties),
    their float64 neighbours, random magnitudes over the whole range, random bit patterns
    (NaN, infinities, float64 subnormals) and the special values."""
    import ml_dtypes

    rng = np.random.default_rng(20261202)
    out = [
        rng.standard_normal(200_000) * 10.0 ** rng.uniform(-45, 40, 200_000),
        rng.integers(0, 2**64, 200_000, dtype=np.uint64).view(np.float64),
        np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 1e300, 5e-324, 65504.0, 65520.0, 6e-8, 3e-8]),
    ]
    grid = np.arange(0, 0x7C00, dtype=np.uint16)
    for vals in (grid.view(np.float16).astype(np.float64),
                 np.arange(0, 0x7F80, dtype=np.uint16).view(ml_dtypes.bfloat16).astype(np.float64)):
        mid = (vals[:-1] + vals[1:]) / 2
        both = np.concatenate([vals, mid, np.nextafter(mid, 0.0), np.nextafter(mid, np.inf)])
        out.append(np.concatenate([both, -both]))
    return out


@pytest.mark.parametrize(("ebits", "mbits"), [(5, 10), (8, 7)], ids=["float16", "bfloat16"])
def test_branch_free_16_bit_rounding_equals_the_reference(ebits: int, mbits: int) -> None:
    from varscale import _engine_numba as en
    from varscale import _engine_numpy as ref

    @numba.njit(error_model="numpy")
    def round_all(x: np.ndarray, out: np.ndarray) -> None:
        for i in range(x.size):
            out[i] = en._round16v(x[i], ebits, mbits)

    for x in _round16_inputs():
        got = np.empty(x.size, np.uint16)
        round_all(x, got)
        expect = ref.round_to_16(x, ebits, mbits)
        bad = np.flatnonzero(got != expect)
        assert bad.size == 0, f"{bad.size} differ, e.g. x={x[bad[:3]]!r}: {got[bad[:3]]} != {expect[bad[:3]]}"


@pytest.mark.parametrize(("ebits", "mbits"), [(5, 10), (8, 7)], ids=["float16", "bfloat16"])
def test_fast_16_bit_rounding_path_equals_the_general_one(ebits: int, mbits: int) -> None:
    # the NumPy engine's short integer path (normal results) against its general algorithm, on every 16-bit
    # value, tie and neighbour, the specials, and wide random float64s (issue 12: a 2x faster rounding)
    from varscale import _engine_numpy as ref

    rng = np.random.default_rng(12)
    scales = rng.choice([1e-30, 1e-8, 1e-5, 1e-3, 1.0, 1e3, 6e4, 1e5, 1e38, 1e300], 200_000)
    for x in [*_round16_inputs(), rng.standard_normal(200_000) * scales]:
        fast = ref.round_to_16(x, ebits, mbits)
        general = ref._round_to_16_general(x, ebits, mbits)
        bad = np.flatnonzero(fast != general)
        assert bad.size == 0, f"{bad.size} differ, e.g. x={x[bad[:3]]!r}"
