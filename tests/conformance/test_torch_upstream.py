"""PyTorch's own initializer tests, run against ``varscale.compat.torch.nn.init``.

Source: https://github.com/pytorch/pytorch/blob/0202320fe821c01380b7749199c8024f54081217/test/nn/test_init.py
(classes ``TestNNInit`` and ``TestNNInitDeviceType``, device ``cpu``). Each
test below is a port of the upstream test of the same name: the same inputs
(sizes and parameters from Python's ``random`` seeded with 123 before every
test, as upstream's ``setUp`` does, drawn in the same order), the same checks
with the same thresholds (one-sample scipy ``kstest`` p-value > 0.0001,
``atol=1e-6, rtol=0`` for orthogonality, exact zero counts, the same unique-value
floors) and ``init`` swapped for the facade. No assertion is weakened; where
upstream compares with ``TestCase.assertEqual`` the port uses
``torch.testing.assert_close`` with its default tolerances (exact fills compare
exactly anyway). The only harness change: torch's default generator is seeded
before every test (upstream leaves it to chance), which makes the facade's
draws, seeded from that generator, deterministic. Upstream's
``@slowTest`` (``test_xavier_uniform``) runs here too; ``skipIfNoLapack`` does
not apply (the facade's QR is NumPy's LAPACK).

Every upstream test passes. None needs to be excluded: no upstream
initializer test pins torch's own random bits or mocks its internals
(``test_trunc_normal_generator`` compares a ``generator=`` draw with a
``torch.manual_seed`` draw, which the facade reproduces because it seeds
itself from that generator). See docs/compat-torch.md.
"""

from __future__ import annotations

import math
import random
import string
from collections.abc import Iterator
from functools import reduce
from operator import mul
from typing import Any

import pytest
from scipy import stats

from _support import need
from varscale.compat.torch.nn import init

P_MIN = 0.0001  # upstream's p-value floor


@pytest.fixture(scope="module")
def torch() -> Any:
    return need("torch")


@pytest.fixture(autouse=True)
def _upstream_setup(torch: Any) -> Iterator[None]:
    """Upstream's ``setUp``: ``random.seed(123)``; plus a fixed torch seed (see the module docstring)."""
    state = random.getstate()
    random.seed(123)
    torch.manual_seed(20240613)
    yield
    random.setstate(state)


def _is_normal(tensor: Any, mean: float, std: float) -> bool:
    samples = tensor.view(-1).tolist()
    return bool(stats.kstest(samples, "norm", args=(mean, std))[1] > P_MIN)


def _is_trunc_normal(tensor: Any, mean: float, std: float, a: float, b: float) -> bool:
    z = ((tensor.view(-1) - mean) / std).tolist()
    return bool(stats.kstest(z, "truncnorm", args=((a - mean) / std, (b - mean) / std))[1] > P_MIN)


def _is_uniform(tensor: Any, a: float, b: float) -> bool:
    samples = tensor.view(-1).tolist()
    return bool(stats.kstest(samples, "uniform", args=(a, (b - a)))[1] > P_MIN)


def _random_tensor(torch: Any, dims: int, size_min: int, size_max: int) -> Any:
    return torch.zeros([random.randint(size_min, size_max) for _ in range(dims)])


def _random_float(a: float, b: float) -> float:
    return (b - a) * random.random() + a


def _fans(t: Any) -> tuple[int, int]:
    fan_in, fan_out = t.size(1), t.size(0)
    if t.dim() > 2:
        fan_in *= t[0, 0].numel()
        fan_out *= t[0, 0].numel()
    return fan_in, fan_out


# ---------------------------------------------------------------------------- TestNNInit
def test_calculate_gain_linear() -> None:
    for fn in ["linear", "conv1d", "conv2d", "conv3d", "conv_transpose2d", "conv_transpose2d", "conv_transpose3d"]:
        assert init.calculate_gain(fn) == 1


def test_calculate_gain_nonlinear() -> None:
    expected = {"sigmoid": 1, "tanh": 1.6666666666666667, "relu": 1.4142135623730951, "leaky_relu": 1.4141428569978354}
    for fn, value in expected.items():
        assert init.calculate_gain(fn) == value


def test_calculate_gain_leaky_relu() -> None:
    expected = {None: 1.4141428569978354, 0: 1.4142135623730951, 0.01: 1.4141428569978354, 10: 0.14071950894605836}
    for param, value in expected.items():
        assert init.calculate_gain("leaky_relu", param) == value


def test_calculate_gain_leaky_relu_only_accepts_numbers() -> None:
    for param in [True, [1], {"a": "b"}]:
        with pytest.raises(ValueError):
            init.calculate_gain("leaky_relu", param)  # type: ignore[arg-type]


def test_calculate_gain_only_accepts_valid_nonlinearities() -> None:
    for n in [2, 5, 25]:
        name = "".join([random.choice(string.ascii_lowercase) for _ in range(n)])
        with pytest.raises(ValueError):
            init.calculate_gain(name)


def test_uniform(torch: Any) -> None:
    for dims in [1, 2, 4]:
        t = _random_tensor(torch, dims, size_min=30, size_max=50)
        a = _random_float(-3, 3)
        b = a + _random_float(1, 5)
        init.uniform_(t, a=a, b=b)
        assert _is_uniform(t, a, b), "Expected uniform distribution"


def test_normal(torch: Any) -> None:
    for dims in [1, 2, 4]:
        t = _random_tensor(torch, dims, size_min=30, size_max=50)
        mean = _random_float(-3, 3)
        std = _random_float(1, 5)
        init.normal_(t, mean=mean, std=std)
        assert _is_normal(t, mean, std), "Expected normal distribution"


def test_trunc_normal_generator(torch: Any) -> None:
    gen = torch.Generator()
    gen.manual_seed(42)
    t = torch.empty(5)
    init.trunc_normal_(t, generator=gen)
    ref = torch.empty(5)
    torch.manual_seed(42)
    init.trunc_normal_(ref)
    torch.testing.assert_close(t, ref)
    assert _is_trunc_normal(t, mean=0, std=1, a=0, b=1), "Expected truncated normal distribution"


def test_constant(torch: Any) -> None:
    for dims in [1, 2, 4]:
        t = _random_tensor(torch, dims, size_min=1, size_max=5)
        val = _random_float(1, 10)
        init.constant_(t, val)
        torch.testing.assert_close(t, t.clone().fill_(val))


def test_ones_and_zeros(torch: Any) -> None:
    for fill, val in ((init.ones_, 1), (init.zeros_, 0)):
        for dims in [1, 2, 4]:
            t = _random_tensor(torch, dims, size_min=1, size_max=5)
            fill(t)
            torch.testing.assert_close(t, t.clone().fill_(val))


def test_eye(torch: Any) -> None:
    t = _random_tensor(torch, 2, size_min=1, size_max=5)
    init.eye_(t)
    for i in range(t.size(0)):
        for j in range(t.size(1)):
            assert t[i][j] == (1 if i == j else 0), f"unexpected {t[i][j]} at [{i}][{j}]"


def test_eye_only_works_on_2d_inputs(torch: Any) -> None:
    for dims in [1, 3]:
        with pytest.raises(ValueError):
            init.eye_(_random_tensor(torch, dims, size_min=1, size_max=3))


def test_dirac_properties(torch: Any) -> None:
    for dims in [3, 4, 5]:
        for groups in [1, 2, 3]:
            a, c, d, e = (random.randint(1, 5) for _ in range(4))
            b = random.randint(1, 5 * groups)
            t = torch.randn((a * groups, b, c, d, e)[:dims])
            init.dirac_(t, groups)
            c_out, c_in = t.size(0) // groups, t.size(1)
            min_d = min(c_out, c_in)
            assert torch.nonzero(t).size(0) == min_d * groups
            torch.testing.assert_close(t.sum(), torch.tensor(float(min_d * groups)))


def test_dirac_identity(torch: Any) -> None:
    functional = torch.nn.functional
    for groups in [1, 3]:
        batch, in_c, out_c, size, kernel_size = 8, 3, 9, 5, 3
        eff_out_c = out_c // groups
        for spatial, conv in [(1, functional.conv1d), (2, functional.conv2d), (3, functional.conv3d)]:
            x = torch.randn(batch, in_c, *([size] * spatial))
            w = torch.cat([torch.zeros(eff_out_c, in_c, *([kernel_size] * spatial))] * groups)
            init.dirac_(w, groups)
            y = conv(x, w)
            inner = (slice(None), slice(None), *([slice(1, -1)] * spatial))
            for g in range(groups):
                torch.testing.assert_close(x[inner], y[:, eff_out_c * g : eff_out_c * g + in_c])
                assert torch.nonzero(y[:, eff_out_c * g + in_c : eff_out_c * (g + 1)]).numel() == 0


def test_dirac_only_works_on_3_4_5d_inputs(torch: Any) -> None:
    for dims in [1, 2, 6]:
        with pytest.raises(ValueError):
            init.dirac_(_random_tensor(torch, dims, size_min=1, size_max=3))


@pytest.mark.parametrize("fn", ["xavier_uniform_", "xavier_normal_", "kaiming_uniform_", "kaiming_normal_"])
def test_errors_on_inputs_smaller_than_2d(torch: Any, fn: str) -> None:
    """Upstream's four ``test_{xavier,kaiming}_{uniform,normal}_errors_on_inputs_smaller_than_2d``."""
    for dims in [0, 1]:
        t = _random_tensor(torch, dims, size_min=1, size_max=1)
        with pytest.raises(ValueError):
            getattr(init, fn)(t)


def test_xavier_uniform(torch: Any) -> None:
    for use_gain in [True, False]:
        for dims in [2, 4]:
            t = _random_tensor(torch, dims, size_min=20, size_max=25)
            gain = 1.0
            if use_gain:
                gain = _random_float(0.1, 2)
                init.xavier_uniform_(t, gain=gain)
            else:
                init.xavier_uniform_(t)
            fan_in, fan_out = _fans(t)
            bounds = gain * math.sqrt(2.0 / (fan_in + fan_out)) * math.sqrt(3)
            assert _is_uniform(t, -bounds, bounds), "Expected uniform distribution"


def test_xavier_normal(torch: Any) -> None:
    for use_gain in [True, False]:
        for dims in [2, 4]:
            t = _random_tensor(torch, dims, size_min=20, size_max=25)
            gain = 1.0
            if use_gain:
                gain = _random_float(0.1, 2)
                init.xavier_normal_(t, gain=gain)
            else:
                init.xavier_normal_(t)
            fan_in, fan_out = _fans(t)
            assert _is_normal(t, 0, gain * math.sqrt(2.0 / (fan_in + fan_out))), "Expected normal distribution"


@pytest.mark.parametrize("fn", ["kaiming_uniform_", "kaiming_normal_"])
def test_kaiming_warning_on_0element_tensor(torch: Any, fn: str) -> None:
    """Upstream's ``test_kaiming_{uniform,normal}_warning_on_0element_tensor``."""
    with pytest.warns(UserWarning, match="Initializing zero-element tensors is a no-op"):
        getattr(init, fn)(torch.empty(0, 1))


@pytest.mark.parametrize("fn", ["kaiming_uniform_", "kaiming_normal_"])
def test_kaiming(torch: Any, fn: str) -> None:
    """Upstream's ``test_kaiming_uniform`` and ``test_kaiming_normal``."""
    for use_a in [True, False]:
        for dims in [2, 4]:
            for mode in ["fan_in", "fan_out"]:
                t = _random_tensor(torch, dims, size_min=20, size_max=25)
                if use_a:
                    a = _random_float(0.1, 2)
                    getattr(init, fn)(t, a=a, mode=mode)
                else:
                    a = 0
                    getattr(init, fn)(t, mode=mode)
                fan_in, fan_out = _fans(t)
                n = fan_in if mode == "fan_in" else fan_out
                expected_std = math.sqrt(2.0 / ((1 + a**2) * n))
                if fn == "kaiming_uniform_":
                    bounds = expected_std * math.sqrt(3.0)
                    assert _is_uniform(t, -bounds, bounds), "Expected uniform distribution"
                else:
                    assert _is_normal(t, 0, expected_std), "Expected normal distribution"


def test_sparse_only_works_on_2d_inputs(torch: Any) -> None:
    for dims in [1, 3]:
        with pytest.raises(ValueError):
            sparsity = _random_float(0.1, 0.9)
            init.sparse_(_random_tensor(torch, dims, size_min=1, size_max=3), sparsity)


def test_sparse_default_std(torch: Any) -> None:
    for use_random_std in [True, False]:
        t = _random_tensor(torch, 2, size_min=30, size_max=35)
        rows = t.size(0)
        sparsity = _random_float(0.1, 0.2)
        std = 0.01
        if use_random_std:
            std = _random_float(0.01, 0.2)
            init.sparse_(t, sparsity=sparsity, std=std)
        else:
            init.sparse_(t, sparsity=sparsity)
        for col_idx in range(t.size(1)):
            column = t[:, col_idx]
            assert column[column == 0].nelement() >= math.ceil(sparsity * rows), "Expected more zero elements"
        assert _is_normal(t[t != 0], 0, std), "Expected normal distribution for non-zero elements"


def test_orthogonal(torch: Any) -> None:
    for use_gain in [True, False]:
        for tensor_size in [[3, 4], [4, 3], [20, 2, 3, 4], [2, 3, 4, 5]]:
            t = torch.zeros(tensor_size)
            gain = 1.0
            if use_gain:
                gain = _random_float(0.1, 2)
                init.orthogonal_(t, gain=gain)
            else:
                init.orthogonal_(t)
            rows, cols = tensor_size[0], reduce(mul, tensor_size[1:])
            flat = t.view(rows, cols)
            if rows > cols:
                torch.testing.assert_close(torch.mm(flat.t(), flat), torch.eye(cols) * gain**2, atol=1e-6, rtol=0)
            else:
                torch.testing.assert_close(torch.mm(flat, flat.t()), torch.eye(rows) * gain**2, atol=1e-6, rtol=0)


def test_deprecation(torch: Any) -> None:
    x = torch.randn(3, 3)
    with pytest.warns(FutureWarning, match="deprecated"):
        init.normal(x)


# ---------------------------------------------------------------------------- TestNNInitDeviceType (cpu)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("dims", [1, 2, 4])
def test_trunc_normal_all_dtypes(torch: Any, dims: int, dtype: str) -> None:
    tdt = getattr(torch, dtype)
    size = [random.randint(30, 50) for _ in range(dims)]
    t = torch.zeros(size, dtype=tdt)
    mean = random.uniform(-3, 3)
    std = random.uniform(0.01, 1)
    a = random.uniform(mean - 2 * std, mean)
    b = random.uniform(mean, mean + 2 * std)
    init.trunc_normal_(t, mean=mean, std=std, a=a, b=b)
    lo = torch.tensor(a, dtype=tdt).item()
    hi = torch.tensor(b, dtype=tdt).item()
    assert t.min().item() >= lo, f"{dtype}: values below lower bound a={a}"
    assert t.max().item() <= hi, f"{dtype}: values above upper bound b={b}"
    assert _is_trunc_normal(t.float().cpu(), mean, std, a, b), f"{dtype}: failed KS test against truncated normal"


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_trunc_normal_low_precision(torch: Any, dtype: str) -> None:
    mean, std, a, b = 0.0, 1.0, -2.0, 2.0
    t = torch.empty(10000, dtype=getattr(torch, dtype))
    init.trunc_normal_(t, mean=mean, std=std, a=a, b=b)
    assert t.min().item() >= a and t.max().item() <= b
    assert _is_trunc_normal(t.float().cpu(), mean, std, a, b), f"{dtype}: failed KS test against truncated normal"


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16"])
def test_trunc_normal_narrow_interval(torch: Any, dtype: str) -> None:
    mean, std, a, b = 0.0, 1.0, 2.0, 3.0
    t = torch.empty(10000, dtype=getattr(torch, dtype))
    init.trunc_normal_(t, mean=mean, std=std, a=a, b=b)
    assert t.min().item() >= a and t.max().item() <= b
    assert _is_trunc_normal(t.float().cpu(), mean, std, a, b), f"{dtype}: failed KS test against truncated normal"


@pytest.mark.parametrize(("dtype", "min_unique"), [("float32", 5000), ("float64", 5000), ("float16", 3000), ("bfloat16", 1000)])
def test_trunc_normal_unique_values(torch: Any, dtype: str, min_unique: int) -> None:
    t = torch.empty(10000, dtype=getattr(torch, dtype))
    init.trunc_normal_(t, mean=0.0, std=1.0, a=-2.0, b=2.0)
    assert t.min().item() >= -2.0 and t.max().item() <= 2.0
    assert t.unique().numel() > min_unique
    assert not t.isinf().any().item() and not t.isnan().any().item()


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "bfloat16"])
def test_trunc_normal_no_boundary_values_small_std(torch: Any, dtype: str) -> None:
    t = torch.empty(10000, dtype=getattr(torch, dtype))
    init.trunc_normal_(t, mean=0.0, std=0.1, a=-2.0, b=2.0)
    assert (t == -2.0).sum().item() == 0
    assert (t == 2.0).sum().item() == 0


def test_the_port_can_fail(torch: Any) -> None:
    """The ported checks reject a wrong law: torch's uniform_ is not normal, a 1.5× std is not this std."""
    t = torch.empty(2000).uniform_(-1, 1)
    assert not _is_normal(t, 0, 0.577)
    t = torch.empty(2000).normal_(0, 1.5)
    assert not _is_normal(t, 0, 1.0)
    assert not _is_uniform(torch.empty(2000).uniform_(0, 1.2), 0, 1)
