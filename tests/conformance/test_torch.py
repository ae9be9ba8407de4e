"""Conformance of ``varscale.compat.torch.nn.init`` with real PyTorch (2.13).

Every number comes from torch itself: fans from
``torch.nn.init._calculate_fan_in_and_fan_out``, bounds / stddevs recorded
from the ``Tensor.uniform_`` / ``Tensor.normal_`` calls torch's own
initializers make (the calls still run), exception types, messages and
warnings from running torch's function on the same input. Samples are
KS-tested against torch's own samples.
"""

from __future__ import annotations

import contextlib
import math
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from _stats import KS_SHAPE, assert_close, ks_check, ks_power
from _support import need
from conformance.cases_tf import SHAPES, recording, shape_id
from varscale.compat.torch.nn import init as ours

DTYPES = ("float16", "bfloat16", "float32", "float64")


@pytest.fixture(scope="module")
def torch() -> Any:
    return need("torch")


def _tdtype(torch: Any, name: str) -> Any:
    return getattr(torch, name)


def _np_dtype(name: str) -> Any:
    if name == "bfloat16":
        import ml_dtypes

        return np.dtype(ml_dtypes.bfloat16)
    return np.dtype(name)


def _outcome(fn: Callable[[], Any]) -> tuple[Any, BaseException | None, list[str]]:
    """Run ``fn``: (result, exception or None, warning messages)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result, err = fn(), None
        except Exception as e:
            result, err = None, e
    return result, err, [f"{w.category.__name__}: {w.message}" for w in caught]


def _same_failure(theirs: BaseException | None, mine: BaseException | None) -> None:
    if theirs is None:
        assert mine is None, f"torch succeeded, we raised {type(mine).__name__}: {mine}"
        return
    assert mine is not None, f"torch raised {type(theirs).__name__}: {theirs}; we did not"
    assert type(mine) is type(theirs), (type(mine), type(theirs), str(mine), str(theirs))
    assert str(mine) == str(theirs)


def _to_numpy(torch: Any, t: Any) -> np.ndarray:
    if t.dtype == torch.bfloat16:
        return t.float().numpy()
    if t.dtype.is_complex:
        return t.numpy()
    return t.double().numpy()


# ---------------------------------------------------------------------------- case table
FAN_FUNCS = ("xavier_uniform_", "xavier_normal_", "kaiming_uniform_", "kaiming_normal_")
GAINS = (1.0, 0.5, 2.3, 5.0 / 3, -1.0)
KAIMING_ARGS: list[dict[str, Any]] = [
    {},
    {"a": math.sqrt(5)},
    {"mode": "fan_out", "nonlinearity": "relu"},
    {"mode": "FAN_IN", "nonlinearity": "tanh"},
    {"a": 0.2, "mode": "Fan_Out"},
    {"nonlinearity": "selu"},
    {"nonlinearity": "linear", "mode": "fan_out"},
]
NUMBER_CASES: list[tuple[str, tuple[int, ...], dict[str, Any], str]] = []
for _fi, _fn in enumerate(FAN_FUNCS):
    for _si, _shape in enumerate(SHAPES):
        _k = _fi * len(SHAPES) + _si
        _kw = {"gain": GAINS[_k % len(GAINS)]} if _fn.startswith("xavier") else KAIMING_ARGS[_k % len(KAIMING_ARGS)]
        NUMBER_CASES.append((_fn, _shape, _kw, ("torch", "numpy")[_k % 2]))
for _i, _kw in enumerate(
    [
        {"mean": 0.0, "std": 1.0},
        {"std": 0.02},
        {"mean": 0.3, "std": 2.0, "a": -1.0, "b": 0.5},
        {"mean": 0.0, "std": 1.0, "a": 0.5, "b": 3.0},
        {"mean": 5.0, "std": 1.0, "a": -1.0, "b": 1.0},  # warns: mean > 2 std from [a, b]
        {"mean": 0.0, "std": -1.0, "a": -1.0, "b": 1.0},  # negative std: |std|
        {"std": 0.0},  # ZeroDivisionError
        {"a": 2.0, "b": -2.0},  # RuntimeError from uniform_
    ]
):
    NUMBER_CASES.append(("trunc_normal_", SHAPES[(_i * 3) % len(SHAPES)], _kw, ("torch", "numpy")[_i % 2]))
for _i, (_fn, _kw) in enumerate(
    [
        ("uniform_", {"a": -0.3, "b": 0.7}),
        ("uniform_", {}),
        ("uniform_", {"a": 1.0, "b": -1.0}),
        ("normal_", {"mean": 0.5, "std": 2.0}),
        ("normal_", {}),
        ("normal_", {"std": -1.0}),
    ]
):
    NUMBER_CASES.append((_fn, SHAPES[(_i * 5) % len(SHAPES)], _kw, ("torch", "numpy")[_i % 2]))


def _call_torch(torch: Any, fn: str, shape: tuple[int, ...], kwargs: dict[str, Any]) -> tuple[Any, Any, Any, list[str]]:
    t = torch.empty(shape, dtype=torch.float64)
    with recording(torch.Tensor, ("uniform_", "normal_")) as rec:
        result, err, warns = _outcome(lambda: getattr(torch.nn.init, fn)(t, **kwargs))
    return rec, result, err, warns


@pytest.mark.parametrize(
    ("fn", "shape", "kwargs", "container"),
    NUMBER_CASES,
    ids=[f"{f}-{shape_id(s)}-{'-'.join(f'{k}={v:g}' if isinstance(v, float) else f'{k}={v}' for k, v in kw.items()) or 'default'}-{c}" for f, s, kw, c in NUMBER_CASES],
)
def test_numbers_errors_warnings(torch: Any, fn: str, shape: tuple[int, ...], kwargs: dict[str, Any], container: str) -> None:
    """Bounds/std equal torch's; same exception type and message; same warnings."""
    rec, _ref, ref_err, ref_warns = _call_torch(torch, fn, shape, kwargs)
    target = torch.empty(shape, dtype=torch.float64) if container == "torch" else np.zeros(shape)
    with recording(ours, ("uniform_sampler", "normal_sampler")) as mine:
        result, err, warns = _outcome(lambda: getattr(ours, fn)(target, **kwargs))
    _same_failure(ref_err, err)
    assert warns == ref_warns
    if ref_err is not None:
        return
    assert result is target
    if fn == "trunc_normal_":
        mean, std, a, b = (float(kwargs.get(k, d)) for k, d in (("mean", 0.0), ("std", 1.0), ("a", -2.0), ("b", 2.0)))
        _, args, _ = mine.last()
        assert args == (mean, abs(std), a, b)
        vals = np.asarray(_to_numpy(torch, result) if container == "torch" else result)
        assert vals.size == 0 or (vals.min() >= a and vals.max() <= b)
        return
    ref_calls = rec.calls
    if not ref_calls:  # kaiming on a zero-element tensor: no draw, unchanged
        assert not mine.calls
        return
    name, args, _ = ref_calls[-1]
    p, q = float(args[1]), float(args[2])
    my_name, my_args, _ = mine.last()
    assert my_name == ("uniform_sampler" if name == "uniform_" else "normal_sampler")
    assert_close(float(my_args[0]), p, "low/mean")
    assert_close(float(my_args[1]), q, "high/std")
    vals = np.asarray(_to_numpy(torch, result) if container == "torch" else result)
    assert vals.shape == shape
    if name == "uniform_" and vals.size:
        assert vals.min() >= p and vals.max() <= q


FAN_SHAPES = [*SHAPES, (128, 64, 3, 3), (64, 128, 3, 3), (3, 5, 1, 1, 7, 2)]


@pytest.mark.parametrize("shape", FAN_SHAPES, ids=[shape_id(s) for s in FAN_SHAPES])
def test_fans(torch: Any, shape: tuple[int, ...]) -> None:
    """``_calculate_fan_in_and_fan_out`` equals torch's (values or error)."""
    ref, ref_err, _ = _outcome(lambda: torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape)))
    mine, err, _ = _outcome(lambda: ours._calculate_fan_in_and_fan_out(np.empty(shape)))
    _same_failure(ref_err, err)
    assert mine == ref


GAIN_CASES: list[tuple[Any, Any]] = [
    (n, None)
    for n in ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
              "conv_transpose3d", "sigmoid", "tanh", "relu", "leaky_relu", "selu")
] + [("leaky_relu", 0.2), ("leaky_relu", 3), ("leaky_relu", True), ("leaky_relu", "x"), ("ReLU", None),
     ("gelu", None), ("relu", 7)]


@pytest.mark.parametrize(("nonlinearity", "param"), GAIN_CASES, ids=[f"{n}-{p}" for n, p in GAIN_CASES])
def test_calculate_gain(torch: Any, nonlinearity: Any, param: Any) -> None:
    """``calculate_gain`` equals torch's, bit for bit, errors included."""
    ref, ref_err, _ = _outcome(lambda: torch.nn.init.calculate_gain(nonlinearity, param))
    mine, err, _ = _outcome(lambda: ours.calculate_gain(nonlinearity, param))
    _same_failure(ref_err, err)
    assert mine == ref and type(mine) is type(ref)


@pytest.mark.parametrize("old", ["uniform", "normal", "xavier_uniform", "xavier_normal", "kaiming_uniform", "kaiming_normal"])
def test_deprecated_aliases(torch: Any, old: str) -> None:
    """torch's deprecated non-underscore names: same FutureWarning, same fill."""
    _, ref_err, ref_warns = _outcome(lambda: getattr(torch.nn.init, old)(torch.empty(5, 4)))
    t = torch.zeros(5, 4)
    result, err, warns = _outcome(lambda: getattr(ours, old)(t, seed=2))
    _same_failure(ref_err, err)
    assert warns == ref_warns and len(warns) == 1
    assert result is t and torch.equal(t, getattr(ours, old + "_")(torch.zeros(5, 4), seed=2))


# ---------------------------------------------------------------------------- dtypes
BAD_DTYPE_CASES = [
    (fn, dt) for fn in ("xavier_uniform_", "kaiming_normal_", "trunc_normal_", "uniform_", "normal_")
    for dt in ("int32", "int64", "bool", "complex64")
]


@pytest.mark.parametrize(("fn", "dtype"), BAD_DTYPE_CASES, ids=[f"{f}-{d}" for f, d in BAD_DTYPE_CASES])
def test_unsupported_dtype_errors(torch: Any, fn: str, dtype: str) -> None:
    """Integer/bool (and complex for trunc_normal_) tensors fail as in torch; complex works elsewhere."""
    _ref, ref_err, _ = _outcome(lambda: getattr(torch.nn.init, fn)(torch.empty(6, 5, dtype=getattr(torch, dtype))))
    t = torch.empty(6, 5, dtype=getattr(torch, dtype))
    _mine, err, _ = _outcome(lambda: getattr(ours, fn)(t))
    _same_failure(ref_err, err)
    arr = np.zeros((6, 5), dtype=dtype)
    _, err_np, _ = _outcome(lambda: getattr(ours, fn)(arr))
    _same_failure(ref_err, err_np)
    with _no_torch_probe():
        _, err_np, _ = _outcome(lambda: getattr(ours, fn)(arr, seed=0))
    _same_failure(ref_err, err_np)


@contextlib.contextmanager
def _no_torch_probe() -> Iterator[None]:
    """Run the facade's checks for NumPy arrays as when torch is not imported."""
    saved = ours._torch_dtype
    ours._torch_dtype = lambda tensor: None
    try:
        yield
    finally:
        ours._torch_dtype = saved


BOUND_CASES: list[tuple[str, dict[str, Any]]] = [
    ("uniform_", {"a": 1.0, "b": -1.0}),
    ("uniform_", {"a": 0.5, "b": 0.2}),
    ("uniform_", {"a": -math.inf, "b": 1.0}),
    ("uniform_", {"a": 0.0, "b": math.inf}),
    ("uniform_", {"a": 1e300, "b": 1e301}),
    ("uniform_", {"a": -1e5, "b": 1.0}),
    ("normal_", {"std": -1.0}),
    ("normal_", {"std": -0.25}),
    ("trunc_normal_", {"a": 2.0, "b": -2.0}),
]


@pytest.mark.parametrize(("fn", "kwargs"), BOUND_CASES, ids=[f"{f}-{kw}" for f, kw in BOUND_CASES])
def test_bound_errors_with_and_without_torch_probe(torch: Any, fn: str, kwargs: dict[str, Any]) -> None:
    """Bad bounds raise torch's RuntimeError in every dtype, also from the probe-free NumPy path."""
    for dt in DTYPES:
        _, ref_err, _ = _outcome(lambda d=dt: getattr(torch.nn.init, fn)(torch.empty(4, 3, dtype=getattr(torch, d)), **kwargs))
        _, err, _ = _outcome(lambda d=dt: getattr(ours, fn)(torch.empty(4, 3, dtype=getattr(torch, d)), **kwargs))
        _same_failure(ref_err, err)
        with _no_torch_probe():
            _, err, _ = _outcome(lambda d=dt: getattr(ours, fn)(np.empty((4, 3), _np_dtype(d)), seed=0, **kwargs))
        _same_failure(ref_err, err)


KS_CASES: list[tuple[str, dict[str, Any], str]] = [
    (fn, kw, dt)
    for fn, kw in [
        ("xavier_uniform_", {"gain": 1.7}),
        ("xavier_normal_", {}),
        ("kaiming_uniform_", {"a": math.sqrt(5)}),
        ("kaiming_normal_", {"mode": "fan_out", "nonlinearity": "relu"}),
        ("trunc_normal_", {"std": 0.02}),
        ("trunc_normal_", {"mean": 0.1, "std": 1.0, "a": -0.5, "b": 1.5}),
        ("trunc_normal_", {"mean": 0.0, "std": 1.0, "a": 0.5, "b": 3.0}),
        ("uniform_", {"a": -0.3, "b": 0.7}),
        ("normal_", {"mean": 0.5, "std": 2.0}),
    ]
    for dt in DTYPES
]


@pytest.fixture(scope="module")
def torch_samples(torch: Any) -> dict[tuple[str, str, str], np.ndarray]:
    """Torch's own samples, one per KS case, from fixed seeds (built once)."""
    out = {}
    for i, (fn, kw, dt) in enumerate(KS_CASES):
        g = torch.Generator().manual_seed(1000 + i)
        t = torch.empty(KS_SHAPE, dtype=getattr(torch, dt))
        getattr(torch.nn.init, fn)(t, generator=g, **kw)
        out[(fn, repr(kw), dt)] = _to_numpy(torch, t)
    return out


@pytest.mark.parametrize(
    ("fn", "kwargs", "dtype"), KS_CASES, ids=[f"{f}-{i // len(DTYPES)}-{d}" for i, (f, _, d) in enumerate(KS_CASES)]
)
def test_ks_against_torch(torch: Any, torch_samples: Any, fn: str, kwargs: dict[str, Any], dtype: str) -> None:
    """Two-sample KS (n = 20 000 each) of our samples against torch's, per dtype; the dtype is kept."""
    theirs = torch_samples[(fn, repr(kwargs), dtype)]
    t = torch.empty(KS_SHAPE, dtype=getattr(torch, dtype))
    out = getattr(ours, fn)(t, seed=77, **kwargs)
    assert out is t and t.dtype == getattr(torch, dtype)
    mine = _to_numpy(torch, t)
    ks_check(mine, theirs)
    if dtype == "float32":
        ks_power(mine, theirs)


@pytest.mark.parametrize("fn", ["xavier_uniform_", "kaiming_uniform_", "xavier_normal_", "kaiming_normal_"])
def test_complex_semantics(torch: Any, fn: str) -> None:
    """Complex tensors: real and imaginary parts KS-equal to torch's (uniform_: E|z|² twice the target)."""
    g = torch.Generator().manual_seed(5)
    ref = getattr(torch.nn.init, fn)(torch.empty(KS_SHAPE, dtype=torch.complex64), generator=g).numpy()
    mine = getattr(ours, fn)(np.empty(KS_SHAPE, dtype=np.complex64), seed=5)
    ks_check(mine.real, ref.real)
    ks_check(mine.imag, ref.imag)
    assert abs(float(np.corrcoef(mine.real.ravel(), mine.imag.ravel())[0, 1])) < 0.05


# ---------------------------------------------------------------------------- seeds and containers
def test_manual_seed_reproducible(torch: Any) -> None:
    """``torch.manual_seed`` fixes the facade's values; consecutive calls differ."""
    torch.manual_seed(1234)
    a = ours.kaiming_normal_(torch.empty(64, 32)).clone()
    b = ours.kaiming_normal_(torch.empty(64, 32)).clone()
    torch.manual_seed(1234)
    c = ours.kaiming_normal_(torch.empty(64, 32))
    d = ours.kaiming_normal_(torch.empty(64, 32))
    assert torch.equal(a, c) and torch.equal(b, d)
    assert not torch.equal(a, b)
    torch.manual_seed(1235)
    assert not torch.equal(a, ours.kaiming_normal_(torch.empty(64, 32)))
    torch.manual_seed(1234)  # numpy arrays are seeded from the same generator
    e = ours.kaiming_normal_(np.empty((64, 32), np.float32))
    assert np.array_equal(e, a.numpy())


def test_generator_reproducible_and_default_untouched(torch: Any) -> None:
    """``generator=`` fixes the values and leaves the default generator alone."""
    state = torch.get_rng_state()
    a = ours.xavier_uniform_(torch.empty(10, 20), generator=torch.Generator().manual_seed(9))
    b = ours.xavier_uniform_(torch.empty(10, 20), generator=torch.Generator().manual_seed(9))
    c = ours.xavier_uniform_(torch.empty(10, 20), generator=torch.Generator().manual_seed(10))
    assert torch.equal(a, b) and not torch.equal(a, c)
    assert torch.equal(state, torch.get_rng_state())
    g = torch.Generator().manual_seed(9)
    first = ours.xavier_uniform_(torch.empty(10, 20), generator=g)
    second = ours.xavier_uniform_(torch.empty(10, 20), generator=g)
    assert torch.equal(first, a) and not torch.equal(second, a)


def test_fill_in_place_numpy_and_torch(torch: Any) -> None:
    """NumPy arrays and torch tensors (views, parameters, bf16) are filled in place, same bits."""
    arr = np.zeros((30, 40), np.float32)
    assert ours.kaiming_uniform_(arr, seed=3) is arr and np.count_nonzero(arr) == arr.size
    t = torch.zeros(30, 40)
    assert ours.kaiming_uniform_(t, seed=3) is t
    assert np.array_equal(t.numpy(), arr)
    base = torch.zeros(40, 30)
    view = base.t()  # non-contiguous (30, 40) view
    ours.kaiming_uniform_(view, seed=3)
    assert np.array_equal(base.t().contiguous().numpy(), arr)
    p = torch.nn.Parameter(torch.zeros(30, 40))
    ours.kaiming_uniform_(p, seed=3)
    assert p.requires_grad and p.is_leaf and np.array_equal(p.detach().numpy(), arr)
    for dt in ("bfloat16", "float16", "float64"):
        tt = torch.zeros(30, 40, dtype=getattr(torch, dt))
        aa = np.zeros((30, 40), dtype=_np_dtype(dt))
        ours.xavier_normal_(tt, seed=11)
        ours.xavier_normal_(aa, seed=11)
        if dt == "bfloat16":
            assert np.array_equal(tt.view(torch.int16).numpy(), aa.view(np.int16))
        else:
            assert np.array_equal(tt.numpy(), aa)
    ro = np.zeros((3, 4))
    ro.setflags(write=False)
    with pytest.raises(ValueError, match="read-only"):
        ours.xavier_uniform_(ro, seed=0)
    meta = torch.empty(3, 4, device="meta")
    assert ours.trunc_normal_(meta) is meta and ours.xavier_uniform_(meta) is meta


def test_default_conv_init_matches_torch_module(torch: Any) -> None:
    """``kaiming_uniform_(w, a=sqrt(5))`` (torch's Conv2d default) has Conv2d's bound 1/sqrt(fan_in)."""
    conv = torch.nn.Conv2d(64, 128, 3)
    w = conv.weight.detach().clone()
    ours.kaiming_uniform_(w, a=math.sqrt(5), seed=1)
    bound = 1 / math.sqrt(576)
    assert float(w.abs().max()) <= bound
    ks_check(w.numpy(), conv.weight.detach().numpy())


def test_facade_imports_no_framework() -> None:
    """Importing the facade and drawing with it imports no framework."""
    import subprocess
    import sys

    code = (
        "from varscale.compat.torch.nn import init\n"
        "import numpy as np\n"
        "init.kaiming_uniform_(np.empty((4, 3)), seed=1)\n"
        "init.trunc_normal_(np.empty((4, 3)), seed=1)\n"
        "bad = sorted(m for m in ('torch', 'jax', 'mindspore', 'tensorflow', 'keras') if m in sys.modules)\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", "import sys\n" + code], check=True, timeout=120)


@pytest.mark.parametrize("name", ["varscale.compat.torch", "varscale.compat.torch.nn", "varscale.compat.torch.nn.init"])
def test_doctests(name: str) -> None:
    """The facade's docstring examples run and print what they show."""
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0


@given(
    shape=st.lists(st.integers(0, 7), min_size=0, max_size=6).map(tuple),
    fn=st.sampled_from(FAN_FUNCS),
    gain=st.floats(0.01, 10.0),
    kw=st.sampled_from(KAIMING_ARGS),
)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_numbers_match_torch_random_shapes(torch: Any, shape: tuple[int, ...], fn: str, gain: float, kw: dict[str, Any]) -> None:
    """Property: for any shape of rank 0-6 (zero dims included), our bounds/std, errors and warnings are torch's."""
    kwargs = {"gain": gain} if fn.startswith("xavier") else kw
    test_numbers_errors_warnings(torch, fn, shape, kwargs, "numpy")
