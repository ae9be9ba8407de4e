"""``varscale.compat.torch.nn.init`` against real torch 2.13 on edge cases, and the functions of issue 15.

Issue 10 item 14: a sweep of every function × dtypes {float16, bfloat16,
float32, float64, int64, bool, complex64} × shapes {(), (0,), (5,), (0, 3),
(3, 4), (2, 3, 4)} (plus the ranks ``dirac_``/``orthogonal_`` need) × odd
arguments (NaN, ±inf, reversed or equal bounds, zero, negative, huge), on a
torch tensor, on a NumPy array while torch is imported, and on a NumPy array
with the facade's own torch-free checks. Every outcome is compared with
torch's: the exception type and message, the warnings, and what the fill
holds (NaN / ±inf / finite values, the constant when it is one; the exact
values for the non-random functions). The differences that remain by design
are pinned in their own tests and listed in docs/compat-torch.md.

Issue 15: ``constant_``, ``ones_``, ``zeros_``, ``eye_``, ``dirac_``,
``orthogonal_``, ``sparse_`` and the deprecated aliases: torch's signatures,
errors and constants, and the laws of the random ones (two-sample KS against
torch's own samples with fixed seeds and a check that a wrong law fails).
"""

from __future__ import annotations

import contextlib
import inspect
import itertools
import math
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest
from scipy import stats

from _stats import KS_ALPHA, KS_SHAPE, ks_check, ks_power
from _support import need
from varscale._errors import InvalidArgumentError
from varscale.compat.torch.nn import init as ours

inf, nan = math.inf, math.nan

DTYPES = ("float16", "bfloat16", "float32", "float64", "int64", "bool", "complex64")
SHAPES: list[tuple[int, ...]] = [(), (0,), (5,), (0, 3), (3, 4), (2, 3, 4)]
EXTRA_SHAPES: dict[str, list[tuple[int, ...]]] = {
    "dirac_": [(4, 2, 3), (6, 2, 3, 3), (2, 2, 3, 3, 3), (2, 0, 3), (1, 1, 1, 1, 1, 1)],
    "orthogonal_": [(4, 3), (4, 2, 3), (3, 0)],
    "eye_": [(4, 3), (3, 0)],
    "sparse_": [(4, 3), (3, 0), (20, 7)],
}
EXACT = {"constant_", "ones_", "zeros_", "eye_", "dirac_"}

#: (function, odd keyword arguments). Excluded here, pinned in the "documented
#: differences" tests below: truncation intervals holding < 1e-200 of the
#: normal, and finite parameters whose draws overflow the dtype. Excluded as
#: random in kind (inf or NaN by the sign of z; tested on 400 elements below):
#: ``normal_(mean=inf, std=inf)``.
SWEEP: list[tuple[str, dict[str, Any]]] = [
    *(
        ("uniform_", kw)
        for kw in [
            {},
            {"a": 1.0, "b": -1.0},
            {"a": nan, "b": 1.0},
            {"a": 0.0, "b": nan},
            {"a": -inf, "b": 1.0},
            {"a": 0.0, "b": inf},
            {"a": 1.0, "b": 1.0},
            {"a": -0.0, "b": 0.0},
            {"a": 1e300, "b": 1e301},
            {"a": -1e5, "b": 1.0},
            {"a": -1e308, "b": 1.5e308},
            {"a": -60000.0, "b": 60000.0},
        ]
    ),
    *(
        ("normal_", kw)
        for kw in [
            {},
            {"std": inf},
            {"std": -inf},
            {"std": nan},
            {"mean": nan},
            {"mean": inf},
            {"mean": -inf},
            {"std": 0.0},
            {"std": -1.0},
            {"mean": 1e5},
        ]
    ),
    *(
        ("trunc_normal_", kw)
        for kw in [
            {},
            {"std": nan},
            {"std": inf},
            {"std": -inf},
            {"mean": nan},
            {"mean": inf},
            {"mean": -inf},
            {"a": nan},
            {"b": nan},
            {"a": 1.0, "b": -1.0},
            {"a": 0.5, "b": 0.5},
            {"std": 0.0},
            {"std": -1.0, "a": -1.0, "b": 1.0},
            {"std": -1.0},
            {"a": -inf, "b": inf},
            {"a": -inf, "b": 0.0},
            {"a": 5.0, "b": 6.0},
            {"mean": 1e300},
            {"std": 1e-30},
            {"std": 1e300},
            {"a": -1e10, "b": 1e10},
            {"a": 0.5, "b": 3.0},
            {"mean": 0.3, "std": 2.0, "a": -1.0, "b": 0.5},
        ]
    ),
    *((fn, kw) for fn in ("xavier_uniform_", "xavier_normal_") for kw in [{}, {"gain": inf}, {"gain": nan}, {"gain": 0.0}, {"gain": -1.0}]),
    *(
        (fn, kw)
        for fn in ("kaiming_uniform_", "kaiming_normal_")
        for kw in [{}, {"a": nan}, {"a": inf}, {"mode": "fan_avg"}, {"nonlinearity": "gelu"}, {"a": 1e200}]
    ),
    *(
        ("constant_", {"val": v})
        for v in [0.5, -0.0, 1e300, inf, -inf, nan, -1, True, 1 + 2j, 1 + 0j, 2**70, 2**63, 300, -2.7, 70000.0]
    ),
    ("ones_", {}),
    ("zeros_", {}),
    ("eye_", {}),
    *(("dirac_", {"groups": g}) for g in (1, 2, 3, 0)),
    *(("orthogonal_", kw) for kw in [{}, {"gain": 2.5}, {"gain": nan}, {"gain": 0}]),
    *(
        ("sparse_", kw)
        for kw in [
            {"sparsity": 0.5},
            {"sparsity": -0.5},
            {"sparsity": nan},
            {"sparsity": inf},
            {"sparsity": 2.0},
            {"sparsity": 0.5, "std": -1.0},
            {"sparsity": 0.1, "std": inf},
            {"sparsity": 0.0, "std": 0.0},
        ]
    ),
]
MODES = ("torch", "numpy", "numpy-no-torch")


@pytest.fixture(scope="module")
def torch() -> Any:
    return need("torch")


def _np_dtype(name: str) -> np.dtype[Any]:
    if name == "bfloat16":
        import ml_dtypes

        return np.dtype(ml_dtypes.bfloat16)
    return np.dtype(name)


def _as_numpy(torch: Any, t: Any) -> np.ndarray:
    if t.dtype == torch.bfloat16:
        return np.asarray(t.float().numpy())
    return np.asarray(t.numpy())


@contextlib.contextmanager
def _no_torch_checks() -> Iterator[None]:
    """Make the facade treat NumPy arrays as when torch is not imported (its own rules and texts)."""
    saved = ours._torch_dtype, ours._torch_view
    ours._torch_dtype = lambda tensor: None  # type: ignore[assignment]
    ours._torch_view = lambda array: None  # type: ignore[assignment]
    try:
        yield
    finally:
        ours._torch_dtype, ours._torch_view = saved  # type: ignore[assignment]


def _run(fn: Callable[[], Any]) -> tuple[Any, BaseException | None, tuple[str, ...]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result, err = fn(), None
        except Exception as e:
            result, err = None, e
    return result, err, tuple(f"{w.category.__name__}: {w.message}" for w in caught)


def _parts(v: np.ndarray) -> np.ndarray:
    v = np.asarray(v)
    if np.iscomplexobj(v):
        v = np.stack([v.real, v.imag])
    return v.astype(np.float64).ravel()


def _kind(v: np.ndarray) -> Any:
    """What a random fill holds: (NaN?, ±inf?, finite values?, the constant if all finite ones are equal)."""
    x = _parts(v)
    if x.size == 0:
        return "empty"
    f = x[np.isfinite(x)]
    const = float(f[0]) if f.size >= 2 and bool((f == f[0]).all()) else None
    return (bool(np.isnan(x).any()), bool(np.isinf(x).any()), bool(f.size), const)


def _exact(v: np.ndarray) -> Any:
    """The values themselves (sign of zero included) for the non-random functions."""
    x = _parts(v)
    return (x.shape, tuple(np.nan_to_num(x, nan=1234.5).tolist()), tuple(np.signbit(x).tolist()))


def _outcome(fn: str, target: Any, values: Callable[[], np.ndarray], call: Callable[[], Any]) -> tuple[Any, ...]:
    result, err, warns = _run(call)
    if err is not None:
        return ("raises", type(err).__name__, str(err), warns)
    summary = _exact(values()) if fn in EXACT else _kind(values())
    return ("fills", result is target, summary, warns)


def _ours_call(fn: str, target: Any, kwargs: dict[str, Any]) -> Callable[[], Any]:
    if fn in EXACT:
        return lambda: getattr(ours, fn)(target, **kwargs)
    return lambda: getattr(ours, fn)(target, **kwargs, seed=7)


def _sweep_mismatches(torch: Any, fn: str, kwargs: dict[str, Any], mode: str) -> list[str]:
    out = []
    torch.manual_seed(0)  # torch's own fills draw from its default generator: fixed, so the run is deterministic
    for dtype, shape in itertools.product(DTYPES, SHAPES + EXTRA_SHAPES.get(fn, [])):
        tdt = getattr(torch, dtype)
        theirs_t = torch.zeros(shape, dtype=tdt)
        theirs = _outcome(fn, theirs_t, lambda t=theirs_t: _as_numpy(torch, t), lambda t=theirs_t: getattr(torch.nn.init, fn)(t, **kwargs))
        if mode == "torch":
            mine_t = torch.zeros(shape, dtype=tdt)
            mine = _outcome(fn, mine_t, lambda t=mine_t: _as_numpy(torch, t), _ours_call(fn, mine_t, kwargs))
        else:
            arr = np.zeros(shape, dtype=_np_dtype(dtype))
            with _no_torch_checks() if mode == "numpy-no-torch" else contextlib.nullcontext():
                mine = _outcome(fn, arr, lambda a=arr: a, _ours_call(fn, arr, kwargs))
        if mine != theirs:
            out.append(f"{dtype}{shape}: torch {theirs} / varscale {mine}")
    return out


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("fn", "kwargs"), SWEEP, ids=[f"{f}-{kw}" for f, kw in SWEEP])
def test_edge_sweep_matches_torch(torch: Any, fn: str, kwargs: dict[str, Any], mode: str) -> None:
    """Same exception (type and text), same warnings, same kind of fill as torch, for every dtype and shape."""
    mismatches = _sweep_mismatches(torch, fn, kwargs, mode)
    assert not mismatches, "\n".join(mismatches)


def test_sweep_sees_a_difference(torch: Any) -> None:
    """The sweep's comparison can fail: a facade raising where torch fills is reported."""
    saved = ours.normal_

    def broken(tensor: Any, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("boom")

    ours.normal_ = broken  # type: ignore[assignment]
    try:
        assert _sweep_mismatches(torch, "normal_", {}, "torch")
    finally:
        ours.normal_ = saved  # type: ignore[assignment]


# ---------------------------------------------------------------------------- issue 10 item 14, one by one
FLOATS = ("float16", "bfloat16", "float32", "float64")


@pytest.mark.parametrize("dtype", [*FLOATS, "complex64"])
def test_normal_nonfinite_parameters_fill_like_torch(torch: Any, dtype: str) -> None:
    """``normal_(std=inf)`` fills ±inf, ``mean=nan`` NaN, ``mean=±inf`` ±inf: torch's ``mean + std·z``."""
    cases = [({"std": inf}, "±inf"), ({"mean": nan}, "nan"), ({"mean": inf}, "+inf"), ({"mean": -inf}, "-inf"),
             ({"mean": inf, "std": inf}, "+inf/nan")]
    for kwargs, expect in cases:
        for fill in (
            lambda t, kw=kwargs: torch.nn.init.normal_(t, **kw, generator=torch.Generator().manual_seed(3)),
            lambda t, kw=kwargs: ours.normal_(t, **kw, seed=3),
        ):
            x = _parts(_as_numpy(torch, fill(torch.empty(400, dtype=getattr(torch, dtype)))))
            if expect == "±inf":
                assert np.isinf(x).all() and (x > 0).any() and (x < 0).any()
            elif expect == "nan":
                assert np.isnan(x).all()
            elif expect == "+inf/nan":
                assert (np.isposinf(x) | np.isnan(x)).all() and np.isposinf(x).any() and np.isnan(x).any()
            else:
                assert (x == (inf if expect == "+inf" else -inf)).all()


DEGENERATE_TRUNC = [{"std": nan}, {"std": inf}, {"std": -inf}, {"mean": nan}, {"mean": inf}, {"mean": -inf}, {"std": 1e300}]


@pytest.mark.parametrize("kwargs", DEGENERATE_TRUNC, ids=[str(k) for k in DEGENERATE_TRUNC])
def test_trunc_normal_degenerate_parameters_fill_uniform_like_torch(torch: Any, kwargs: dict[str, Any]) -> None:
    """Where torch's rejection sampler accepts every proposal the values are U(a, b): KS against torch's."""
    a, b = -0.5, 1.5
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # mean=±inf warns "more than 2 std" in both
        theirs = torch.nn.init.trunc_normal_(torch.empty(KS_SHAPE, dtype=torch.float64), a=a, b=b, **kwargs,
                                             generator=torch.Generator().manual_seed(11)).numpy()
        mine = ours.trunc_normal_(np.empty(KS_SHAPE), a=a, b=b, **kwargs, seed=11)
    assert mine.min() >= a and mine.max() <= b
    ks_check(mine, theirs)
    ks_power(mine, theirs)
    assert stats.kstest(mine.ravel(), "uniform", args=(a, b - a)).pvalue >= KS_ALPHA


@pytest.mark.parametrize("dtype", ["int64", "bool", "complex64"])
def test_zero_element_int_bool_complex_are_no_ops_like_torch(torch: Any, dtype: str) -> None:
    """Empty int/bool/complex tensors: torch's ``normal_`` returns before its dtype check, complex ``uniform_`` before its bounds."""
    calls = [("normal_", {}), ("normal_", {"std": inf}), ("trunc_normal_", {}), ("xavier_normal_", {}),
             ("uniform_", {"a": 1.0, "b": -1.0}), ("uniform_", {"a": nan}), ("sparse_", {"sparsity": 0.5})]
    for fn, kwargs in calls:
        for shape in [(0,), (0, 3), (3, 0)] if fn in ("xavier_normal_", "sparse_") else [(0,), (0, 3)]:
            ref_t = torch.empty(shape, dtype=getattr(torch, dtype))
            _, ref_err, _ = _run(lambda f=fn, r=ref_t, kw=kwargs: getattr(torch.nn.init, f)(r, **kw))
            state = torch.get_rng_state()
            t = torch.empty(shape, dtype=getattr(torch, dtype))
            result, err, _ = _run(lambda f=fn, t=t, kw=kwargs: getattr(ours, f)(t, **kw))
            assert (type(err), str(err)) == (type(ref_err), str(ref_err)), (fn, kwargs, shape)
            if ref_err is None:
                assert result is t
            assert torch.equal(state, torch.get_rng_state())
    # the ones torch does refuse on empty tensors still raise: uniform_ dispatches on int/bool before returning
    if dtype != "complex64":
        with pytest.raises(NotImplementedError, match="check_uniform_bounds"):
            ours.uniform_(torch.empty(0, dtype=getattr(torch, dtype)))


def test_complex_trunc_normal_raises_what_torch_raises(torch: Any) -> None:
    """Complex ``trunc_normal_``: ``a > b`` is uniform_'s RuntimeError, else "lt_cpu" or "gt_cpu" by branch."""
    for kwargs, kind, text in [
        ({"a": 1.0, "b": -1.0}, RuntimeError, "uniform_ expects to return a [from, to) range, but found from=1 > to=-1"),
        ({}, NotImplementedError, "\"lt_cpu\" not implemented for 'ComplexFloat'"),
        ({"std": nan}, NotImplementedError, "\"gt_cpu\" not implemented for 'ComplexFloat'"),
    ]:
        for target in (torch.empty(3, 4, dtype=torch.complex64), np.empty((3, 4), np.complex64)):
            with pytest.raises(kind) as caught:
                torch.nn.init.trunc_normal_(torch.empty(3, 4, dtype=torch.complex64), **kwargs)
            assert str(caught.value) == text
            with pytest.raises(kind) as caught:
                ours.trunc_normal_(target, **kwargs)
            assert str(caught.value) == text
        with _no_torch_checks(), pytest.raises(kind) as caught:
            ours.trunc_normal_(np.empty((3, 4), np.complex64), **kwargs, seed=0)
        assert str(caught.value) == text


def test_trunc_normal_branch_errors(torch: Any) -> None:
    """NaN bounds, an int64 tensor with infinite bounds, a mean whose square overflows: torch's errors."""
    cases: list[tuple[Any, dict[str, Any], type[BaseException], str]] = [
        ("float32", {"a": nan}, RuntimeError, "from is out of bounds for float"),
        ("float16", {"b": nan}, RuntimeError, "to is out of bounds for c10::Half"),
        ("int64", {"a": -inf, "b": inf}, RuntimeError, "value cannot be converted to type int64 without overflow"),
        ("float64", {"mean": 1e300}, OverflowError, "(34, 'Numerical result out of range')"),
        ("int64", {"std": nan}, NotImplementedError, "\"check_uniform_bounds\" not implemented for 'Long'"),
    ]
    for dtype, kwargs, kind, text in cases:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with pytest.raises(kind) as ref:
                torch.nn.init.trunc_normal_(torch.empty(3, dtype=getattr(torch, dtype)), **kwargs)
            assert str(ref.value) == text
            with pytest.raises(kind) as caught:
                ours.trunc_normal_(torch.empty(3, dtype=getattr(torch, dtype)), **kwargs)
            assert str(caught.value) == text
            with _no_torch_checks(), pytest.raises(kind) as caught:
                ours.trunc_normal_(np.empty(3, _np_dtype(dtype)), **kwargs, seed=0)
            assert str(caught.value) == text


def test_equal_bounds_fill_the_bound_exactly(torch: Any) -> None:
    """``uniform_(a, a)`` is ``a`` in every element (``-0.0`` included; both parts of a complex), as torch."""
    for dtype in (*FLOATS, "complex64"):
        for a in (-0.0, 0.0, 1.5):
            ref = torch.nn.init.uniform_(torch.empty(6, dtype=getattr(torch, dtype)), a, a)
            mine = ours.uniform_(torch.empty(6, dtype=getattr(torch, dtype)), a, a, seed=0)
            assert _exact(_as_numpy(torch, mine)) == _exact(_as_numpy(torch, ref))
    # kaiming with an infinite slope: gain 0, bound 0, uniform_(-0.0, 0.0) → -0.0 everywhere
    w = ours.kaiming_uniform_(torch.empty(3, 4), a=inf, seed=0)
    assert bool((w == 0).all()) and bool(torch.signbit(w).all())


def test_failed_call_leaves_the_generator_alone(torch: Any) -> None:
    """A call that fails (a refused truncation interval) consumes no generator state."""
    g = torch.Generator().manual_seed(5)
    state = g.get_state()
    with pytest.warns(UserWarning, match="more than 2 std"), pytest.raises(InvalidArgumentError):
        ours.trunc_normal_(torch.empty(4), a=100.0, b=101.0, generator=g)
    assert torch.equal(state, g.get_state())


# ---------------------------------------------------------------------------- documented differences (docs/compat-torch.md)
def test_documented_far_tail_interval_is_refused(torch: Any) -> None:
    """Documented: an interval holding < 1e-200 of the normal raises InvalidArgumentError; torch samples it."""
    with pytest.warns(UserWarning, match="more than 2 std"):
        ref = torch.nn.init.trunc_normal_(torch.empty(100, dtype=torch.float64), a=100.0, b=101.0)
    assert bool(((ref >= 100) & (ref <= 101)).all())
    with pytest.warns(UserWarning, match="more than 2 std"), pytest.raises(InvalidArgumentError, match=r"\[100.0, 101.0\]"):
        ours.trunc_normal_(torch.empty(100, dtype=torch.float64), a=100.0, b=101.0, seed=0)


def test_documented_overflowing_parameters(torch: Any) -> None:
    """Documented: finite parameters whose draws overflow the dtype; torch rounds them to the dtype first
    (16 or more contiguous elements: ``inf + inf·z`` is NaN for z < 0), varscale computes in float64 and
    rounds once (±inf)."""
    ref = torch.nn.init.normal_(torch.empty(64), mean=1e300, std=1e300, generator=torch.Generator().manual_seed(1))
    assert bool(ref.isnan().any()) and bool(ref.isposinf().any())
    mine = ours.normal_(torch.empty(64), mean=1e300, std=1e300, seed=1)
    assert bool(mine.isinf().all()) and not bool(mine.isnan().any())


# ---------------------------------------------------------------------------- issue 15: the whole module
def test_public_names_are_torchs(torch: Any) -> None:
    """``__all__`` is torch's, every name exists, and each deprecated alias warns torch's FutureWarning."""
    assert sorted(ours.__all__) == sorted(torch.nn.init.__all__)
    for name in torch.nn.init.__all__:
        assert callable(getattr(ours, name)), name
    for old in [n for n in torch.nn.init.__all__ if not n.endswith("_") and n != "calculate_gain"]:
        args: tuple[Any, ...] = {"constant": (0.5,), "sparse": (0.5,)}.get(old, ())
        shape = (4, 3, 3) if old == "dirac" else (4, 3)
        _, ref_err, ref_warns = _run(lambda o=old, s=shape, a=args: getattr(torch.nn.init, o)(torch.empty(s), *a))
        t = torch.zeros(shape)
        result, err, warns = _run(lambda o=old, t=t, a=args: getattr(ours, o)(t, *a))
        assert ref_err is None and err is None, (old, ref_err, err)
        assert warns == ref_warns and len(warns) == 1 and result is t


PUBLIC = ("uniform_", "normal_", "trunc_normal_", "constant_", "ones_", "zeros_", "eye_", "dirac_", "xavier_uniform_",
          "xavier_normal_", "kaiming_uniform_", "kaiming_normal_", "orthogonal_", "sparse_", "calculate_gain")


@pytest.mark.parametrize("name", PUBLIC)
def test_signatures_are_torchs(torch: Any, name: str) -> None:
    """Parameter names, order, kinds and defaults are torch's; random functions add only keyword-only ``seed``."""
    theirs = list(inspect.signature(getattr(torch.nn.init, name)).parameters.values())
    mine = list(inspect.signature(getattr(ours, name)).parameters.values())
    if mine and mine[-1].name == "seed":
        assert mine[-1].kind is inspect.Parameter.KEYWORD_ONLY and mine[-1].default is None
        mine = mine[:-1]
        assert any(p.name == "generator" for p in theirs)
    assert [(p.name, p.kind, p.default) for p in mine] == [(p.name, p.kind, p.default) for p in theirs]


def test_exact_fills_on_parameters_and_views(torch: Any) -> None:
    """The non-random functions work where torch's do: ``nn.Parameter`` (grad kept), strided views, bfloat16 arrays."""
    for fn, args in [("constant_", (0.25,)), ("ones_", ()), ("zeros_", ()), ("eye_", ()), ("dirac_", (2,))]:
        shape = (4, 3, 3) if fn == "dirac_" else (4, 3)
        p_ref = torch.nn.Parameter(torch.randn(shape))
        p = torch.nn.Parameter(torch.randn(shape))
        getattr(torch.nn.init, fn)(p_ref, *args)
        assert getattr(ours, fn)(p, *args) is p
        assert p.requires_grad and p.is_leaf and torch.equal(p.detach(), p_ref.detach())
        base = torch.randn(shape[::-1]) if len(shape) == 2 else torch.randn(shape)
        view = base.t() if len(shape) == 2 else base
        ref = torch.randn(view.shape)
        getattr(torch.nn.init, fn)(ref, *args)
        getattr(ours, fn)(view, *args)
        assert torch.equal(view, ref)
        arr = np.full(shape, 7, _np_dtype("bfloat16"))
        getattr(ours, fn)(arr, *args)
        assert np.array_equal(arr.astype(np.float32), ref.numpy())
    ro = np.zeros((3, 3))
    ro.setflags(write=False)
    for fn in ("ones_", "eye_", "orthogonal_", "sparse_"):
        with pytest.raises(ValueError, match="read-only"):
            getattr(ours, fn)(ro, *((0.5,) if fn == "sparse_" else ()))


# ---------------------------------------------------------------------------- orthogonal_
ORTHO_SHAPES = [(3, 4), (4, 3), (20, 2, 3, 4), (2, 3, 4, 5), (64, 64), (10, 50), (1, 1), (7, 1)]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape", ORTHO_SHAPES, ids=[str(s) for s in ORTHO_SHAPES])
def test_orthogonal_is_semi_orthogonal_with_gain(torch: Any, shape: tuple[int, ...], dtype: str) -> None:
    """``flat·flatᵀ = gain²·I`` (rows ≤ cols) or ``flatᵀ·flat = gain²·I``, to the dtype's precision."""
    gain = 1.7
    w = ours.orthogonal_(np.empty(shape, dtype), gain=gain, seed=3)
    assert w.dtype == np.dtype(dtype)
    rows = shape[0]
    flat = w.reshape(rows, -1).astype(np.float64)
    gram = flat @ flat.T if rows <= flat.shape[1] else flat.T @ flat
    tol = 1e-5 if dtype == "float32" else 1e-12
    assert np.abs(gram - gain**2 * np.eye(gram.shape[0])).max() <= tol * max(shape)


def test_orthogonal_law_matches_torch(torch: Any) -> None:
    """Entries of a 200×100 semi-orthogonal matrix: two-sample KS against torch's, and a 20 % scale error is seen."""
    theirs = torch.nn.init.orthogonal_(torch.empty(KS_SHAPE), gain=1.3, generator=torch.Generator().manual_seed(2)).numpy()
    mine = ours.orthogonal_(torch.empty(KS_SHAPE), gain=1.3, seed=2).numpy()
    ks_check(mine, theirs)
    ks_power(mine, theirs)


def _sign_balance_ok(first: np.ndarray) -> bool:
    """Haar measure: ``q[0, 0]`` is positive with probability 1/2 (6-sigma binomial band)."""
    n = first.size
    return abs(float((first > 0).mean()) - 0.5) <= 6 * math.sqrt(0.25 / n)


def test_orthogonal_sign_correction_like_torch(torch: Any) -> None:
    """``q *= sign(diag(r))`` makes the law Haar: ``q[0,0]`` is symmetric, as torch's (without it LAPACK's is ≤ 0)."""
    mine = np.array([ours.orthogonal_(np.empty((3, 3)), seed=s)[0, 0] for s in range(600)])
    g = torch.Generator().manual_seed(0)
    theirs = np.array([float(torch.nn.init.orthogonal_(torch.empty(3, 3, dtype=torch.float64), generator=g)[0, 0]) for _ in range(600)])
    assert _sign_balance_ok(mine) and _sign_balance_ok(theirs)
    assert not _sign_balance_ok(-np.abs(mine))  # the check sees a missing sign correction


@pytest.mark.parametrize("shape", [(5, 3), (3, 5), (4, 2, 3)])
def test_orthogonal_draws_the_streams_gaussian_matrix(torch: Any, shape: tuple[int, ...]) -> None:
    """The Gaussian matrix is the stream's ``normal_`` draw (bit-exact); QR with sign fix as torch's algorithm."""
    rows = shape[0]
    cols = math.prod(shape) // rows
    gauss = ours.normal_(np.empty((rows, cols), np.float32), seed=9).astype(np.float64)
    flat = gauss.T if rows < cols else gauss
    q, r = np.linalg.qr(flat)
    q = q * np.sign(np.diagonal(r))
    expect = (q.T if rows < cols else q).reshape(shape).astype(np.float32)
    w = ours.orthogonal_(np.empty(shape, np.float32), seed=9)
    assert np.array_equal(w, expect)
    t = ours.orthogonal_(torch.empty(shape), seed=9)
    assert np.array_equal(t.numpy(), w)  # torch tensor and NumPy array: same bits
    g1, g2 = torch.Generator().manual_seed(4), torch.Generator().manual_seed(4)
    assert torch.equal(ours.orthogonal_(torch.empty(shape), generator=g1), ours.orthogonal_(torch.empty(shape), generator=g2))


# ---------------------------------------------------------------------------- sparse_
@pytest.mark.parametrize("sparsity", [0.0, 0.1, 0.5, 0.99, 1.0, 2.0, -0.3])
def test_sparse_zero_counts_are_torchs(torch: Any, sparsity: float) -> None:
    """Each column has exactly torch's number of zeros (``ceil(sparsity·rows)`` rows of a permutation, Python slicing)."""
    shape = (10, 40)
    ref = torch.nn.init.sparse_(torch.empty(shape), sparsity, generator=torch.Generator().manual_seed(1))
    mine = ours.sparse_(torch.empty(shape), sparsity, seed=1)
    assert torch.equal((ref == 0).sum(0), (mine == 0).sum(0))


def test_sparse_values_law_matches_torch(torch: Any) -> None:
    """The non-zero values: two-sample KS against torch's (n = 20 000 each), and a 20 % scale error is seen."""
    shape = (200, 200)
    ref = torch.nn.init.sparse_(torch.empty(shape, dtype=torch.float64), 0.5, std=0.3, generator=torch.Generator().manual_seed(8))
    mine = ours.sparse_(torch.empty(shape, dtype=torch.float64), 0.5, std=0.3, seed=8)
    theirs_nz, mine_nz = ref[ref != 0].numpy(), mine[mine != 0].numpy()
    ks_check(mine_nz, theirs_nz)
    ks_power(mine_nz, theirs_nz)


def _rows_uniform(zero_mask: np.ndarray) -> float:
    """Chi-square p-value of the per-row counts of zeros against equal counts."""
    counts = zero_mask.sum(axis=1).astype(np.float64)
    return float(stats.chisquare(counts).pvalue)


def test_sparse_zero_positions_are_uniform_like_torch(torch: Any) -> None:
    """Zeros fall on every row equally often (chi-square, p ≥ 1e-6), as torch's; a biased choice fails the check."""
    shape = (10, 4000)
    mine = ours.sparse_(np.empty(shape), 0.3, seed=12)
    torch.manual_seed(12)  # torch's sparse_ draws its permutations from the default generator
    ref = torch.nn.init.sparse_(torch.empty(shape), 0.3).numpy()
    assert _rows_uniform(mine == 0) >= KS_ALPHA
    assert _rows_uniform(ref == 0) >= KS_ALPHA
    biased = np.zeros(shape, bool)
    biased[:3] = True  # "always the first rows"
    assert _rows_uniform(biased) < KS_ALPHA


def test_sparse_is_drawn_from_the_stream(torch: Any) -> None:
    """The values are ``normal_(std)`` of the same seed where not zeroed; ``generator=`` leaves the default alone."""
    mine = ours.sparse_(np.empty((30, 20)), 0.4, std=0.05, seed=21)
    dense = ours.normal_(np.empty((30, 20)), std=0.05, seed=21)
    keep = mine != 0
    assert np.array_equal(mine[keep], dense[keep]) and int((~keep).sum()) == 20 * 12
    state = torch.get_rng_state()
    g = torch.Generator().manual_seed(3)
    a = ours.sparse_(torch.empty(30, 20), 0.4, generator=g)
    assert torch.equal(state, torch.get_rng_state())  # torch's own sparse_ draws its permutations from the default generator
    assert torch.equal(a, ours.sparse_(torch.empty(30, 20), 0.4, generator=torch.Generator().manual_seed(3)))


@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float32", "complex64"])
def test_sparse_dtypes_match_torch(torch: Any, dtype: str) -> None:
    """Reduced precision and complex: same zero counts; values KS-equal to torch's (complex: each part)."""
    shape = (200, 200)
    ref = torch.nn.init.sparse_(torch.empty(shape, dtype=getattr(torch, dtype)), 0.5, std=1.0, generator=torch.Generator().manual_seed(2))
    mine = ours.sparse_(torch.empty(shape, dtype=getattr(torch, dtype)), 0.5, std=1.0, seed=2)
    assert mine.dtype == ref.dtype
    r, m = _as_numpy(torch, ref), _as_numpy(torch, mine)
    assert np.array_equal((r == 0).sum(0), (m == 0).sum(0))
    if dtype == "complex64":
        ks_check(m[m != 0].real, r[r != 0].real)
        ks_check(m[m != 0].imag, r[r != 0].imag)
    else:
        ks_check(m[m != 0], r[r != 0])


def test_new_functions_import_no_framework() -> None:
    """The new functions fill NumPy arrays with ``seed=`` without importing torch."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "import numpy as np\n"
        "from varscale.compat.torch.nn import init\n"
        "init.orthogonal_(np.empty((4, 3)), seed=1)\n"
        "init.sparse_(np.empty((4, 3)), 0.5, seed=1)\n"
        "init.constant_(np.empty(3, np.int8), -2.5)\n"
        "init.eye_(np.empty((2, 2)))\n"
        "init.dirac_(np.empty((2, 2, 3)))\n"
        "init.normal_(np.empty(3), std=float('inf'), seed=1)\n"
        "init.trunc_normal_(np.empty(3), std=float('nan'), seed=1)\n"
        "assert 'torch' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
