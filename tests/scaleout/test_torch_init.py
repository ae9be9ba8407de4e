"""varscale.torch.init_module: per-name streams, rules, meta device, skip, report."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

import varscale as vs
from _support import need

torch = need("torch")
nn = torch.nn

from varscale._generate import draw  # noqa: E402
from varscale._plan import uniform_sampler  # noqa: E402
from varscale.torch import PYTORCH_DEFAULTS, FanInBias, init_module  # noqa: E402

SEED = 1234


class Net(nn.Module):
    def __init__(self, order: str = "ab") -> None:
        super().__init__()
        # construction order (and so torch's own RNG consumption) depends on ``order``
        for which in order:
            if which == "a":
                self.conv = nn.Conv2d(3, 8, 3, groups=1)
                self.deconv = nn.ConvTranspose2d(8, 4, 2, groups=2)
            else:
                self.head = nn.Sequential(nn.Linear(16, 32), nn.LayerNorm(32), nn.Linear(32, 10))


def _expected(init: vs.VarianceScaling, name: str, shape: tuple[int, ...], dtype: str = "float32") -> Any:
    cfg = init.get_config()
    cfg["seed"] = vs.derive_stream(SEED, name)
    return type(init).from_config(cfg)(shape, dtype)


RULES: list[Any] = [
    ("*.bias", 0.0),
    ("head.1.weight", 1.0),
    (nn.Conv2d, vs.HeNormal(layout="torch")),
    ((nn.Linear, nn.ConvTranspose2d), vs.GlorotUniform(layout="torch")),
]


def _values(net: Any) -> dict[str, np.ndarray[Any, Any]]:
    return {k: v.detach().to(torch.float64).cpu().numpy() for k, v in net.named_parameters()}


def test_values_follow_names_not_construction_order() -> None:
    a, b = Net("ab"), Net("ba")
    init_module(a, RULES, SEED)
    init_module(b, RULES, SEED)
    va, vb = _values(a), _values(b)
    assert va.keys() == vb.keys()
    for k in va:
        np.testing.assert_array_equal(va[k], vb[k])
    np.testing.assert_array_equal(a.conv.weight.detach().numpy(),
                                  _expected(vs.HeNormal(layout="torch"), "conv.weight", (8, 3, 3, 3)))
    np.testing.assert_array_equal(a.head[2].weight.detach().numpy(),
                                  _expected(vs.GlorotUniform(layout="torch"), "head.2.weight", (10, 32)))
    assert (a.head[1].weight == 1).all() and (a.conv.bias == 0).all()


def test_meta_device_module_to_empty() -> None:
    with torch.device("meta"):
        meta = Net()
    assert meta.conv.weight.device.type == "meta"
    with pytest.raises(vs.InvalidArgumentError, match="to_empty"):
        init_module(meta, RULES, SEED)
    net = meta.to_empty(device="cpu")
    report = init_module(net, RULES, SEED)
    ref = Net()
    init_module(ref, RULES, SEED)
    for k, v in _values(ref).items():
        np.testing.assert_array_equal(_values(net)[k], v)
    assert len(report) == len(list(ref.parameters()))


@pytest.mark.parametrize("dtype", ["float64", "float16", "bfloat16"])
def test_module_dtype_gets_the_stream_bits_of_its_dtype(dtype: str) -> None:
    # each parameter is drawn in its own dtype: the bits `varscale init --dtype` and the core give
    net = Net().to(getattr(torch, dtype))
    init_module(net, RULES, SEED)
    conv = net.conv.weight.detach()
    assert conv.dtype == getattr(torch, dtype)
    want = _expected(vs.HeNormal(layout="torch"), "conv.weight", (8, 3, 3, 3), dtype)
    got = conv.view(torch.int16).numpy().view(np.uint16) if dtype == "bfloat16" else conv.numpy()
    np.testing.assert_array_equal(got, want.view(np.uint16) if dtype == "bfloat16" else want)
    # the old behaviour stays available: float32 draws cast by torch
    old = Net().to(getattr(torch, dtype))
    init_module(old, RULES, SEED, gen_dtype="float32")
    ref = Net()
    init_module(ref, RULES, SEED)
    assert torch.equal(old.conv.weight, ref.conv.weight.detach().to(getattr(torch, dtype)))


def test_float64_generation() -> None:
    net = Net().double()
    init_module(net, RULES, SEED, gen_dtype="float64")
    np.testing.assert_array_equal(net.conv.weight.detach().numpy(),
                                  _expected(vs.HeNormal(layout="torch"), "conv.weight", (8, 3, 3, 3), "float64"))


def test_small_regions_give_the_same_values() -> None:
    a, b = Net(), Net()
    init_module(a, RULES, SEED)
    init_module(b, RULES, SEED, chunk_elems=5)
    for k, v in _values(a).items():
        np.testing.assert_array_equal(_values(b)[k], v)


def test_fills_in_place() -> None:
    net = Net()
    ptrs = {k: v.data_ptr() for k, v in net.named_parameters()}
    init_module(net, RULES, SEED)
    assert {k: v.data_ptr() for k, v in net.named_parameters()} == ptrs


def test_pytorch_defaults_are_torch_s_bounds() -> None:
    net = Net()
    report = init_module(net, [*PYTORCH_DEFAULTS, (nn.LayerNorm, None)], SEED)
    rows = {r.name: r for r in report}
    for name, param in net.named_parameters():
        owner = net.get_submodule(name.rsplit(".", 1)[0])
        if isinstance(owner, nn.LayerNorm):
            assert rows[name].skipped
            continue
        fan_in, _ = torch.nn.init._calculate_fan_in_and_fan_out(owner.weight)
        bound = 1.0 / math.sqrt(fan_in)  # torch: kaiming_uniform_(a=sqrt(5)) and the bias bound
        assert param.abs().max().item() <= bound * (1 + 1e-6), name
        if name.endswith(".weight"):
            assert param.abs().max().item() > 0.9 * bound, name
        else:  # the bias: U(±bound) from the bias' own stream
            expect = draw(tuple(param.shape), "float32", uniform_sampler(-bound, bound),
                          vs.derive_stream(SEED, name))
            np.testing.assert_array_equal(param.detach().numpy(), expect)
        assert rows[name].fan_in == fan_in
        assert math.isclose(rows[name].std, bound / math.sqrt(3), rel_tol=1e-12)
    # ConvTranspose2d(8, 4, 2, groups=2): weight (8, 2, 2, 2), torch's fan_in = size(1) * 4 = 8
    assert rows["deconv.weight"].fan_in == 8
    w = vs.VarianceScaling(1 / 3, "fan_in", "uniform", layout="torch")
    np.testing.assert_array_equal(net.deconv.weight.detach().numpy(), _expected(w, "deconv.weight", (8, 2, 2, 2)))


def test_skip_loaded_parameters() -> None:
    net = Net()
    before = {k: v.detach().clone() for k, v in net.named_parameters()}
    report = init_module(net, RULES, SEED, skip={"conv.weight", "head.0.bias"})
    assert torch.equal(net.conv.weight, before["conv.weight"])
    assert torch.equal(net.head[0].bias, before["head.0.bias"])
    assert not torch.equal(net.head[0].weight, before["head.0.weight"])
    assert {r.name for r in report if r.skipped} == {"conv.weight", "head.0.bias"}
    net2 = Net()
    keep = net2.deconv.weight.detach().clone()
    init_module(net2, RULES, SEED, skip=lambda n: n.startswith("deconv.w"))
    assert torch.equal(net2.deconv.weight, keep)


def test_unmatched_parameters() -> None:
    net = Net()
    before = {k: v.detach().clone() for k, v in net.named_parameters()}
    with pytest.raises(vs.InvalidArgumentError, match=r"match no rule: head\.1\.weight, head\.1\.bias"):
        init_module(net, PYTORCH_DEFAULTS, SEED)
    for k, v in net.named_parameters():  # a refused plan changes nothing
        assert torch.equal(v, before[k])
    report = init_module(net, PYTORCH_DEFAULTS, SEED, default="skip")
    assert [r.name for r in report if r.skipped] == ["head.1.weight", "head.1.bias"]


def test_report_table() -> None:
    report = init_module(Net(), RULES, SEED)
    text = str(report)
    lines = text.splitlines()
    assert lines[0].split() == ["name", "shape", "initializer", "layout", "fan_in", "fan_out", "std", "rule"]
    assert len(lines) == 1 + len(report)
    conv = next(r for r in report if r.name == "conv.weight")
    d = vs.HeNormal(layout="torch").describe((8, 3, 3, 3))
    assert (conv.fan_in, conv.fan_out, conv.std, conv.shape) == (27, 72, d.std, (8, 3, 3, 3))
    row = next(line for line in lines if line.startswith("conv.weight"))
    assert "27" in row and "72" in row and f"{d.std:.6g}" in row and "he_normal" in row and "torch" in row


def test_shared_parameters_once_and_string_rules() -> None:
    lin = nn.Linear(4, 4)
    net = nn.Sequential(lin, nn.ReLU(), lin)
    report = init_module(net, {"*.weight": "he_uniform", "*.bias": FanInBias()}, SEED)
    assert [r.name for r in report] == ["0.weight", "0.bias"]
    np.testing.assert_array_equal(lin.weight.detach().numpy(), _expected(vs.HeUniform(layout="torch"), "0.weight", (4, 4)))


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"rules": "he_normal"}, TypeError, "rules"),
        ({"rules": [("*", vs.HeNormal(), 1)]}, TypeError, "pair"),
        ({"rules": [(3, vs.HeNormal())]}, TypeError, "pattern"),
        ({"rules": [("*", object())]}, TypeError, "initializer"),
        ({"rules": [("*", "no_such_init")]}, vs.VarscaleError, "no_such_init"),
        ({"seed": -1}, vs.InvalidArgumentError, "seed"),
        ({"seed": vs.Stream(1, 2)}, TypeError, "seed"),
        ({"default": "zeros"}, vs.InvalidArgumentError, "default"),
        ({"skip": 3}, TypeError, "skip"),
        ({"gen_dtype": "float16"}, vs.InvalidArgumentError, "gen_dtype"),
        ({"rules": [("*.bias", FanInBias("kernel")), ("*", 0.0)]}, vs.InvalidArgumentError, "kernel"),
    ],
)
def test_bad_arguments(kwargs: dict[str, Any], error: type[Exception], match: str) -> None:
    args: dict[str, Any] = {"module": Net(), "rules": RULES, "seed": SEED} | kwargs
    with pytest.raises(error, match=match):
        init_module(**args)


def test_lazy_module_and_unused_rule_messages() -> None:
    lazy = nn.Sequential(nn.LazyLinear(4))
    with pytest.raises(vs.InvalidArgumentError, match=r"'0\.weight'.*not materialized.*forward pass"):
        init_module(lazy, (), seed=0, default="torch")
    net = nn.Sequential(nn.Linear(3, 2))
    with pytest.raises(vs.InvalidArgumentError, match=r"match no parameter: nothing\*.*such as 0\.weight, 0\.bias"):
        init_module(net, [("nothing*", 0.0), ("*", 0.0)], seed=0)


def test_overflowing_draw_is_caught_and_finite_draws_are_not_reread() -> None:
    # a law that overflows float16 gives ±inf: the finiteness check still reads such a parameter
    net = nn.Linear(64, 64).half()
    with pytest.raises(vs.InvalidArgumentError, match=r"non-finite values: parameter weight"):
        init_module(net, [("weight", "normal(std=1e5)"), ("bias", 0.0)], seed=0)
    from varscale._rules import plan_param, resolve
    from varscale._torch_finite import finite_by_construction as _finite_by_construction

    big = plan_param(resolve("normal(std=1e5)", layout="torch", where="t"), (64, 64), "torch")
    small = plan_param(resolve("he_normal", layout="torch", where="t"), (64, 64), "torch")
    assert not _finite_by_construction(big, torch.float16) and _finite_by_construction(big, torch.float32)
    assert _finite_by_construction(small, torch.bfloat16)
