"""The torch engine (the stream in torch ops) equals the NumPy reference bit for bit on the CPU."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import varscale as vs
from _support import need

torch = need("torch")

from varscale._engine_torch import fill_tensor, philox_words  # noqa: E402
from varscale.stream import philox_blocks  # noqa: E402

DTYPES = ["float16", "bfloat16", "float32", "float64"]
LAWS: list[Any] = [
    vs.VarianceScaling(2.0, "fan_avg", "uniform", seed=20261202),
    vs.VarianceScaling(2.0, "fan_avg", "untruncated_normal", seed=20261202),
    vs.VarianceScaling(2.0, "fan_avg", "truncated_normal", seed=20261202),
    vs.TruncatedNormal(0.1, 0.02, -0.05, 0.13, seed=vs.Stream(7, 2**63 + 5)),
    vs.Uniform(-3.0, 0.5, seed=2**64 - 1),
    vs.Normal(1.0, 1e-3, seed=0),
]


def _bits(a: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    return a.view({2: np.uint16, 4: np.uint32, 8: np.uint64}[a.itemsize])


def _torch_bits(t: Any) -> np.ndarray[Any, Any]:
    if t.dtype in (torch.float16, torch.bfloat16):
        return t.view(torch.int16).numpy().view(np.uint16)
    return _bits(t.numpy())


def test_philox_equals_reference_and_random123() -> None:
    rng = np.random.default_rng(1)
    blocks = rng.integers(0, 2**63, size=4096, dtype=np.int64)
    for kw in [(0, 0, 0, 0), (0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF), (0x243F6A88, 0x85A308D3, 5, 9)]:
        ref = philox_blocks(blocks.astype(np.uint64), *kw)
        got = philox_words(torch.from_numpy(blocks), *kw)
        for r, g in zip(ref, got, strict=True):
            np.testing.assert_array_equal(r.astype(np.int64), g.numpy())
    # the Random123 known answer: counter 0xffffffff×4 (block index 2**64 - 1, as int64 -1), key 0xffffffff×2
    w = philox_words(torch.tensor([-1], dtype=torch.int64), 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF)
    assert [int(x[0]) for x in w] == [0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("law", range(len(LAWS)))
def test_torch_engine_equals_numpy_reference(law: int, dtype: str) -> None:
    init = LAWS[law]
    shape = (389, 1001)  # 389 389 elements: the central region and the near tails (far tail: test below)
    ref = init(shape, dtype, engine="numpy")
    t = torch.empty(shape, dtype=getattr(torch, dtype))
    fill_tensor(t, shape, init.sampler(shape), init._stream)
    mismatch = np.flatnonzero(_bits(ref).ravel() != _torch_bits(t).ravel())
    assert mismatch.size == 0, f"{mismatch.size} elements differ, first at {mismatch[:5]}"


@pytest.mark.parametrize("dtype", ["float32", "float64", "bfloat16"])
def test_torch_engine_regions(dtype: str) -> None:
    rng = np.random.default_rng(2026)
    init = vs.HeNormal(seed=3)
    for _ in range(20):
        shape = tuple(int(d) for d in rng.integers(1, 30, size=int(rng.integers(1, 4))))
        region = tuple(slice(int(rng.integers(0, d)), None, int(rng.choice([1, 2, 3]))) for d in shape)
        expect = init(shape, dtype, region=region, engine="numpy")
        t = torch.empty(expect.shape, dtype=getattr(torch, dtype))
        fill_tensor(t, shape, init.sampler(shape), init._stream, region=region)
        np.testing.assert_array_equal(_torch_bits(t), _bits(np.ascontiguousarray(expect)))


def test_golden_values_through_the_torch_engine() -> None:
    # the pinned sha256 of every whole-tensor golden case, recomputed from the torch engine's bytes
    golden = json.loads((Path(__file__).parent / "golden" / "stream_v1.json").read_text())
    checked = 0
    for case in golden["cases"]:
        if "region" in case or not {"scale", "mode", "distribution"} <= set(case):
            continue
        init = vs.VarianceScaling(case["scale"], case["mode"], case["distribution"], seed=case["seed"],
                                  layout=case.get("layout", "tf"))
        shape = tuple(case["shape"])
        t = torch.empty(shape, dtype=getattr(torch, case["dtype"]))
        fill_tensor(t, shape, init.sampler(shape), init._stream)
        assert hashlib.sha256(_torch_bits(t).tobytes()).hexdigest() == case["sha256"], case
        checked += 1
    assert checked >= 3


def test_init_module_through_the_torch_engine() -> None:
    net = torch.nn.Sequential(torch.nn.Linear(64, 32), torch.nn.LayerNorm(32), torch.nn.Linear(32, 8))
    ref = torch.nn.Sequential(torch.nn.Linear(64, 32), torch.nn.LayerNorm(32), torch.nn.Linear(32, 8))
    from varscale.torch import fill_shard, init_module

    init_module(net, [("0.weight", "normal(std=0.02)")], seed=5, default="torch", engine="torch")
    init_module(ref, [("0.weight", "normal(std=0.02)")], seed=5, default="torch")
    for (k, a), (_, b) in zip(net.named_parameters(), ref.named_parameters(), strict=True):
        assert torch.equal(a, b), k
    shard = torch.empty(3, 64, dtype=torch.bfloat16)
    fill_shard(shard, "he_normal", (32, 64), (4, 0), vs.derive_stream(5, "w"), engine="torch")
    want = vs.HeNormal(layout="torch", seed=vs.derive_stream(5, "w"))((32, 64), "bfloat16")[4:7]
    np.testing.assert_array_equal(_torch_bits(shard), _bits(want))
    with pytest.raises(vs.InvalidArgumentError, match="engine"):
        init_module(net, (), seed=5, default="torch", engine="jax")


def test_far_tail_and_extreme_variates_equal_the_reference() -> None:
    # the far tail (p < e**-25) needs 53-bit variates near 0 and 1: feed the smallest and largest words directly
    from varscale import _engine_numpy as ref
    from varscale._engine_torch import _normal_z
    from varscale._plan import normal_sampler

    k = np.concatenate([np.arange(0, 2000, dtype=np.uint64), (2**53 - 1) - np.arange(0, 2000, dtype=np.uint64),
                        np.uint64(2**40) * np.arange(1, 2000, dtype=np.uint64)])
    u = (k.astype(np.float64) + 0.5) * 2.0**-53
    ub = ((np.uint64(2**53 - 1) - k).astype(np.float64) + 0.5) * 2.0**-53
    for sp in (normal_sampler(0.0, 1.0), normal_sampler(0.0, 1.0, -7.0, 9.0), normal_sampler(0.0, 1.0, -2.0, 2.0)):
        want = ref.normal_z(u.copy(), ub.copy(), sp)
        got = _normal_z(torch.from_numpy(u.copy()), torch.from_numpy(ub.copy()), sp).numpy()
        np.testing.assert_array_equal(_bits(got), _bits(want))
    assert np.abs(ref.normal_z(u[:5].copy(), ub[:5].copy(), normal_sampler(0.0, 1.0))).max() > 8  # far tail reached


def test_meta_built_module_through_the_torch_engine() -> None:
    from varscale.torch import init_module

    def build() -> Any:
        return torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3), torch.nn.BatchNorm2d(8), torch.nn.Flatten(),
                                   torch.nn.Linear(8, 4)).to(torch.bfloat16)

    with torch.device("meta"):
        meta = build()
    on_device = meta.to_empty(device="cpu")  # on a GPU machine: device="cuda" takes this engine automatically
    report = init_module(on_device, (), seed=11, default="torch", engine="torch")
    ref = build()
    init_module(ref, (), seed=11, default="torch")
    for (k, a), (_, b) in zip(on_device.state_dict().items(), ref.state_dict().items(), strict=True):
        assert torch.equal(a, b), k
    assert "1.running_var" in report.buffers


@pytest.mark.parametrize(("ebits", "mbits"), [(5, 10), (8, 7)], ids=["float16", "bfloat16"])
def test_16_bit_rounding_equals_the_reference_on_every_value(ebits: int, mbits: int) -> None:
    # the shared _math.round16_bits through torch.where: every 16-bit value, tie, neighbour, NaN and subnormal
    from test_engines import _round16_inputs
    from varscale import _engine_numpy as ref
    from varscale._engine_torch import round_to_16

    for x in _round16_inputs():
        got = (round_to_16(torch.from_numpy(x.copy()), ebits, mbits) & 0xFFFF).numpy().astype(np.uint16)
        expect = ref.round_to_16(x, ebits, mbits)
        bad = np.flatnonzero(got != expect)
        assert bad.size == 0, f"{bad.size} differ, e.g. x={x[bad[:3]]!r}: {got[bad[:3]]} != {expect[bad[:3]]}"
