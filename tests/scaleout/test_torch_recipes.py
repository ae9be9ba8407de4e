"""``init_module(default="torch" | "keras" | "flax")`` against real torch 2.x layers, and the traps of issue 11.

**How laws are compared.** A tensor's values are compared with a law by the
Kolmogorov–Smirnov distance ``D = sup |F_n - F|``. By the
Dvoretzky–Kiefer–Wolfowitz inequality (Massart's constant),
``P(D > c/√n) ≤ 2·exp(-2c²)`` for *any* ``n``; with ``c = C_KS`` below that is
``ALPHA = 2e-9``, the false-failure rate of ``tests/_stats.py`` (``Z = 6``).
Two samples (ours and torch's own draw) are compared by their two-sample
distance with the band ``C_KS·(1/√n + 1/√m)`` (the triangle inequality
through the common law: again at most ``2·ALPHA``). Seeds are fixed, so every
run is the same run.

**Power.** Every check of a random tensor also feeds the *same* checker a
wrong law — the fan read in the TF layout (the trap of issue 11), or the law
scaled by 0.8 and 1.25 — and asserts that it fails, wherever the wrong law's
exact distance from the right one is more than twice the band (then the
checker rejects it with probability ``≥ 1 - ALPHA``); each layer kind has at
least one tensor large enough for that.

**What torch does** is read from torch's own source (``reset_parameters``,
``MultiheadAttention._reset_parameters``, ``Transformer._reset_parameters``)
into :func:`torch_law`, with torch's own ``_calculate_fan_in_and_fan_out``;
torch's freshly built layer is checked against that law as well, so the law
table is tested too.
"""

from __future__ import annotations

import functools
import math
import re
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import varscale as vs
from _support import need

torch = need("torch")
special = need("scipy.special")
nn = torch.nn

from varscale.torch import init_module  # noqa: E402

SEED = 20261202
ALPHA = 2e-9
C_KS = math.sqrt(math.log(2.0 / ALPHA) / 2.0)  # 2·exp(-2·C²) = ALPHA  → C ≈ 3.28
BIG = 420  # max |w| > 0.9·bound (each side) for n ≥ 420 uniform draws: P(fail) ≤ 2·0.95**420 < 1e-9
TRUNC = 0.87962566103423978  # std of N(0, 1) cut at ±2: the variance-preserving correction


# -- laws and the KS checker ------------------------------------------------------------------------
@dataclass(frozen=True)
class Law:
    """``uniform`` on [lo, hi]; ``normal`` N(0, scale²) cut to [lo, hi] (±inf: uncut); ``sphere``:
    an element of a uniformly random unit vector of R^dim, times ``scale`` (a row/column of an
    orthogonal matrix)."""

    kind: str
    scale: float
    lo: float = -math.inf
    hi: float = math.inf
    dim: int = 0

    @staticmethod
    def uniform(bound: float, hi: float | None = None) -> Law:
        return Law("uniform", bound, -bound, bound) if hi is None else Law("uniform", hi - bound, bound, hi)

    @staticmethod
    def normal(std: float, lo: float = -math.inf, hi: float = math.inf) -> Law:
        return Law("normal", std, lo, hi)

    @staticmethod
    def sphere(dim: int, gain: float = 1.0) -> Law:
        return Law("sphere", gain, -gain, gain, dim)

    def cdf(self, x: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
        if self.kind == "uniform":
            out: np.ndarray[Any, Any] = np.clip((x - self.lo) / (self.hi - self.lo), 0.0, 1.0)
            return out
        if self.kind == "sphere":
            t = np.clip(x / self.scale, -1.0, 1.0)
            return 0.5 + 0.5 * np.sign(t) * special.betainc(0.5, (self.dim - 1) / 2.0, t * t)
        lo, hi = special.ndtr(self.lo / self.scale), special.ndtr(self.hi / self.scale)
        return np.clip((special.ndtr(x / self.scale) - lo) / (hi - lo), 0.0, 1.0)

    def scaled(self, f: float) -> Law:
        return Law(self.kind, self.scale * f, self.lo * f, self.hi * f, self.dim)

    def distance(self, other: Law) -> float:
        """The exact sup-distance between the two CDFs (on a fine grid spanning both)."""
        span = max(abs(v) for v in (self.lo, self.hi, other.lo, other.hi, 8 * self.scale, 8 * other.scale)
                   if math.isfinite(v))
        grid = np.linspace(-span, span, 200_001)
        return float(np.abs(self.cdf(grid) - other.cdf(grid)).max())


def ks_one(x: Any, law: Law) -> float:
    v = np.sort(np.asarray(x, dtype=np.float64).ravel())
    n = v.size
    f = law.cdf(v)
    i = np.arange(1, n + 1)
    return float(max((i / n - f).max(), (f - (i - 1) / n).max()))


def ks_two(x: Any, y: Any) -> float:
    a = np.sort(np.asarray(x, dtype=np.float64).ravel())
    b = np.sort(np.asarray(y, dtype=np.float64).ravel())
    at = np.concatenate([a, b])
    fa = np.searchsorted(a, at, side="right") / a.size
    fb = np.searchsorted(b, at, side="right") / b.size
    return float(np.abs(fa - fb).max())


def band(n: int) -> float:
    return C_KS / math.sqrt(n)


def check_law(x: Any, law: Law, what: str) -> None:
    n = np.asarray(x).size
    d = ks_one(x, law)
    assert d <= band(n), f"{what}: KS distance {d:.4g} from {law} exceeds the band {band(n):.4g} (n={n})"


def check_same(x: Any, y: Any, what: str) -> None:
    n, m = np.asarray(x).size, np.asarray(y).size
    d = ks_two(x, y)
    limit = band(n) + band(m)
    assert d <= limit, f"{what}: two-sample KS distance {d:.4g} from torch's own draw exceeds {limit:.4g}"


def check_power(x: Any, law: Law, wrong: list[Law], what: str) -> int:
    """The checker rejects every wrong law far enough to be told apart at this n; returns how many."""
    n = np.asarray(x).size
    tested = 0
    for bad in wrong:
        if law.distance(bad) > 2 * band(n):
            d = ks_one(x, bad)
            assert d > band(n), f"{what}: the checker accepted the wrong law {bad} (D={d:.4g}, n={n})"
            tested += 1
    return tested


def check_bounds(x: Any, law: Law, what: str) -> None:
    v = np.asarray(x, dtype=np.float64)
    if math.isfinite(law.lo):
        lo32, hi32 = float(np.float32(law.lo)), float(np.float32(law.hi))  # rounding is monotone
        assert v.min() >= lo32 and v.max() <= hi32, f"{what}: values outside [{law.lo}, {law.hi}]"
        if law.kind == "uniform" and v.size >= BIG:
            width = law.hi - law.lo
            assert v.min() < law.lo + 0.05 * width and v.max() > law.hi - 0.05 * width, f"{what}: range too narrow"


def values(t: Any) -> np.ndarray[Any, Any]:
    return np.asarray(t.detach().to(torch.float64).cpu().numpy())


def wrong_laws(law: Law, tf_law: Law | None = None) -> list[Law]:
    out = [law.scaled(0.8), law.scaled(1.25)]
    return out if tf_law is None else [tf_law, *out]


# -- torch's own laws, from its source ---------------------------------------------------------------
_CONV = (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d)
_NORMS = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d, nn.InstanceNorm1d, nn.InstanceNorm2d,
          nn.InstanceNorm3d, nn.LayerNorm, nn.GroupNorm, nn.RMSNorm)
_RNNS = (nn.RNN, nn.LSTM, nn.GRU, nn.RNNCell, nn.LSTMCell, nn.GRUCell)


def torch_fans(t: Any) -> tuple[int, int]:
    fan_in, fan_out = nn.init._calculate_fan_in_and_fan_out(t)
    return int(fan_in), int(fan_out)


def _owner(root: Any, name: str) -> tuple[Any, str, list[Any]]:
    mod_name, _, local = name.rpartition(".")
    parts = mod_name.split(".") if mod_name else []
    chain = [root.get_submodule(".".join(parts[:i])) for i in range(len(parts))]
    return root.get_submodule(mod_name), local, chain


def torch_law(root: Any, name: str) -> tuple[Law | float, Law | None]:
    """What torch's construction-time reset draws for ``name``: a law (and its TF-layout trap) or a constant."""
    owner, local, chain = _owner(root, name)
    p = getattr(owner, local)
    if any(isinstance(m, nn.Transformer) for m in [*chain, owner]) and p.dim() > 1:
        fi, fo = torch_fans(p)  # Transformer._reset_parameters: xavier_uniform_ on every matrix
        tfi, tfo = vs.compute_fans(tuple(p.shape), "tf")
        return Law.uniform(math.sqrt(6.0 / (fi + fo))), Law.uniform(math.sqrt(6.0 / (tfi + tfo)))
    if isinstance(owner, nn.MultiheadAttention):
        fi, fo = torch_fans(p) if p.dim() > 1 else (0, 0)
        if local.endswith("proj_weight"):
            return Law.uniform(math.sqrt(6.0 / (fi + fo))), None
        if local == "in_proj_bias":
            return 0.0, None
        assert local in ("bias_k", "bias_v"), name
        return Law.normal(math.sqrt(2.0 / (fi + fo))), None
    if chain and isinstance(chain[-1], nn.MultiheadAttention) and local == "bias":
        return 0.0, None  # MultiheadAttention._reset_parameters: constant_(out_proj.bias, 0)
    if isinstance(owner, (nn.Linear, *_CONV)):
        fi = torch_fans(owner.weight)[0]
        tf_fi = vs.compute_fans(tuple(owner.weight.shape), "tf")[0]
        # kaiming_uniform_(a=√5): gain √(2/6), bound gain·√(3/fan_in) = 1/√fan_in; the bias: 1/√fan_in
        return Law.uniform(1.0 / math.sqrt(fi)), Law.uniform(1.0 / math.sqrt(tf_fi))
    if isinstance(owner, nn.Bilinear):
        return Law.uniform(1.0 / math.sqrt(owner.weight.size(1))), None
    if isinstance(owner, (nn.Embedding, nn.EmbeddingBag)):
        return Law.normal(1.0), None
    if isinstance(owner, _NORMS):
        return (1.0 if local == "weight" else 0.0), None
    if isinstance(owner, _RNNS):
        return Law.uniform(1.0 / math.sqrt(owner.hidden_size)), None
    if isinstance(owner, nn.PReLU):
        return float(owner.init), None
    raise AssertionError(f"no torch law for {name} ({type(owner).__name__})")


# -- the zoo --------------------------------------------------------------------------------------------
ZOO: dict[str, Callable[[], Any]] = {
    "Linear": lambda: nn.Linear(300, 200),
    "Bilinear": lambda: nn.Bilinear(40, 30, 250),
    "Conv1d_groups": lambda: nn.Conv1d(64, 128, 5, groups=4),
    "Conv2d_stem": lambda: nn.Conv2d(3, 64, 7),
    "Conv2d_groups": lambda: nn.Conv2d(32, 64, 3, groups=8),
    "Conv3d_groups": lambda: nn.Conv3d(16, 32, 3, groups=2),
    "ConvTranspose1d_groups": lambda: nn.ConvTranspose1d(64, 32, 4, groups=2),
    "ConvTranspose2d_groups": lambda: nn.ConvTranspose2d(32, 48, 3, groups=4),
    "ConvTranspose3d": lambda: nn.ConvTranspose3d(16, 8, 3),
    "Embedding_padding": lambda: nn.Embedding(1000, 64, padding_idx=3),
    "EmbeddingBag_padding": lambda: nn.EmbeddingBag(500, 32, padding_idx=0, mode="sum"),
    "BatchNorm": lambda: nn.Sequential(nn.BatchNorm1d(64), nn.BatchNorm2d(32), nn.BatchNorm3d(16)),
    "InstanceNorm": lambda: nn.Sequential(nn.InstanceNorm1d(16, affine=True),
                                          nn.InstanceNorm2d(16, affine=True, track_running_stats=True),
                                          nn.InstanceNorm3d(8, track_running_stats=True)),
    "LayerNorm": lambda: nn.Sequential(nn.LayerNorm(128), nn.LayerNorm((4, 32), bias=False)),
    "GroupNorm_RMSNorm": lambda: nn.Sequential(nn.GroupNorm(4, 64), nn.RMSNorm(64)),
    "MultiheadAttention": lambda: nn.MultiheadAttention(128, 8),
    "MultiheadAttention_kdim_vdim_bias_kv": lambda: nn.MultiheadAttention(
        512, 8, kdim=64, vdim=96, add_bias_kv=True),
    "RNN": lambda: nn.RNN(64, 128, nonlinearity="relu"),
    "LSTM_proj_bidirectional_2layers": lambda: nn.LSTM(32, 64, num_layers=2, proj_size=16, bidirectional=True),
    "GRU": lambda: nn.GRU(32, 64, num_layers=2),
    "cells": lambda: nn.ModuleList([nn.RNNCell(64, 128), nn.LSTMCell(32, 64), nn.GRUCell(32, 64)]),
    "PReLU": lambda: nn.Sequential(nn.PReLU(), nn.PReLU(8, init=0.3)),
    "TransformerEncoderLayer": lambda: nn.TransformerEncoderLayer(128, 8, 256),
    "TransformerDecoderLayer": lambda: nn.TransformerDecoderLayer(128, 8, 256),
    "Transformer": lambda: nn.Transformer(64, 4, num_encoder_layers=2, num_decoder_layers=1,
                                          dim_feedforward=128, batch_first=True),
}
#: layer kinds whose random tensors are all too small for the power check (none: every kind has one)
_NO_POWER: set[str] = set()


def _padding_rows(owner: Any) -> list[int]:
    idx = getattr(owner, "padding_idx", None)
    return [] if idx is None else [int(idx)]


def _random_part(root: Any, name: str, x: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    owner, _, _ = _owner(root, name)
    rows = _padding_rows(owner)
    if rows and isinstance(owner, (nn.Embedding, nn.EmbeddingBag)):
        assert (x[rows] == 0).all(), f"{name}: padding_idx row {rows} is not zero"
        return np.delete(x, rows, axis=0)
    return x


@pytest.mark.parametrize("kind", list(ZOO))
def test_default_torch_is_torch_s_own_reset(kind: str) -> None:
    torch.manual_seed(7)
    theirs = ZOO[kind]()  # construction runs torch's reset_parameters (and _reset_parameters)
    ours = ZOO[kind]()
    before = {k: v.detach().clone() for k, v in ours.named_parameters()}
    report = init_module(ours, seed=SEED, default="torch")
    mine = dict(ours.named_parameters())
    ref = dict(theirs.named_parameters())
    assert list(mine) == list(ref) == [r.name for r in report]
    assert all(r.rule == "default=torch" and not r.skipped for r in report)
    powered = 0
    for name, param in mine.items():
        law, tf_law = torch_law(ours, name)
        x, y = values(param), values(ref[name])
        if isinstance(law, float):
            want = values(torch.full_like(param, law))  # the constant in the parameter's dtype
            assert (x == want).all() and (y == want).all(), f"{name}: expected the constant {law}"
            continue
        assert not torch.equal(param, before[name]), f"{name} was not written"
        x, y = _random_part(ours, name, x), _random_part(theirs, name, y)
        check_law(x, law, f"{kind} {name} (varscale)")
        check_law(y, law, f"{kind} {name} (torch itself)")  # the law table is torch's
        check_same(x, y, f"{kind} {name}")
        check_bounds(x, law, f"{kind} {name}")
        check_bounds(y, law, f"{kind} {name} (torch itself)")
        powered += check_power(x, law, wrong_laws(law, tf_law), f"{kind} {name}")
        row = next(r for r in report if r.name == name)
        assert row.std is not None and math.isclose(row.std, _std(law), rel_tol=1e-9), (name, row.std, law)
    randoms = [n for n in mine if not isinstance(torch_law(ours, n)[0], float)]
    assert powered > 0 or not randoms or kind in _NO_POWER, f"{kind}: no tensor large enough for a power check"
    # buffers: as torch's fresh layer holds them (running statistics reset)
    for name, buf in theirs.named_buffers():
        assert torch.equal(dict(ours.named_buffers())[name], buf), name


def _std(law: Law) -> float:
    if law.kind == "uniform":
        return (law.hi - law.lo) / math.sqrt(12.0)
    return law.scale


def test_tf_layout_trap_fails_the_checker() -> None:
    # the trap of issue 11: he_normal with the TF layout's fans on a torch stem conv is 3x too small
    conv = nn.Conv2d(3, 64, 7, bias=False)
    init_module(conv, [("weight", vs.HeNormal(layout="tf"))], seed=SEED)
    x = values(conv.weight)
    s_torch = math.sqrt(2.0 / 147) / TRUNC  # fan_in = 3·7·7 in torch's layout
    s_tf = math.sqrt(2.0 / 7 / 64 / 3) / TRUNC  # the TF layout reads (64, 3, 7, 7) as (kh, kw, in, out)
    assert vs.compute_fans((64, 3, 7, 7), "tf")[0] == 7 * 3 * 64
    right, wrong = Law.normal(s_torch, -2 * s_torch, 2 * s_torch), Law.normal(s_tf, -2 * s_tf, 2 * s_tf)
    with pytest.raises(AssertionError, match="exceeds the band"):
        check_law(x, right, "stem drawn with the TF layout")
    check_law(x, wrong, "stem drawn with the TF layout")
    init_module(conv, [("weight", "he_normal")], seed=SEED)  # no layout: torch's, inside varscale.torch
    check_law(values(conv.weight), right, "stem, he_normal by name")


# -- "keras" and "flax" recipes: the laws of the _torch_recipes docstring ---------------------------------
def keras_fans(shape: tuple[int, ...]) -> tuple[int, int]:
    """keras.src.initializers.random_initializers.compute_fans."""
    if len(shape) == 2:
        return shape[0], shape[1]
    rf = math.prod(shape[:-2])
    return shape[-2] * rf, shape[-1] * rf


def keras_kernel(owner: Any) -> tuple[int, ...]:
    """The kernel shape of the Keras layer equivalent to a torch Linear/Conv/ConvTranspose."""
    w = tuple(int(s) for s in owner.weight.shape)
    if isinstance(owner, nn.Linear):
        return (w[1], w[0])  # Dense (in, out)
    if isinstance(owner, (nn.Conv1d, nn.Conv2d, nn.Conv3d)):
        return (*w[2:], w[1], w[0])  # ConvND (*k, in/groups, out)
    # ConvNDTranspose (*k, out, in); grouped (torch only): the per-group kernel (*k, out/groups, in/groups),
    # read as Keras reads a grouped ConvND kernel (*k, in/groups, out)
    return (*w[2:], w[1], w[0] // owner.groups)


def glorot(fi: int, fo: int) -> Law:
    return Law.uniform(math.sqrt(6.0 / (fi + fo)))


def lecun(fi: int) -> Law:
    s = 1.0 / math.sqrt(fi) / TRUNC
    return Law.normal(s, -2 * s, 2 * s)


def check_random(x: Any, law: Law, what: str, wrong: list[Law] | None = None) -> int:
    check_law(x, law, what)
    check_bounds(x, law, what)
    return check_power(x, law, wrong if wrong is not None else wrong_laws(law), what)


def check_orthonormal_columns(w: np.ndarray[Any, Any], what: str, gain: float = 1.0) -> None:
    g = w.T @ w
    assert np.allclose(g, gain * gain * np.eye(g.shape[0]), atol=2e-5), f"{what}: W^T W != I"


_KERAS_LAYERS = ["Linear", "Conv1d_groups", "Conv2d_stem", "Conv2d_groups", "Conv3d_groups",
                 "ConvTranspose1d_groups", "ConvTranspose2d_groups", "ConvTranspose3d"]


@pytest.mark.parametrize("kind", _KERAS_LAYERS)
def test_keras_recipe_kernels(kind: str) -> None:
    m = ZOO[kind]()
    init_module(m, seed=SEED, default="keras")
    fi, fo = keras_fans(keras_kernel(m))
    tfi, tfo = vs.compute_fans(tuple(m.weight.shape), "tf")
    law = glorot(fi, fo)
    row = init_module(m, seed=SEED, default="keras")[0]
    assert (row.fan_in, row.fan_out) == (fi, fo), row
    assert check_random(values(m.weight), law, f"keras {kind}", wrong_laws(law, glorot(tfi, tfo))) > 0
    assert (values(m.bias) == 0).all()


def test_keras_recipe_embeddings_norms_prelu() -> None:
    m = nn.ModuleDict({k: ZOO[k]() for k in ("Embedding_padding", "EmbeddingBag_padding", "BatchNorm",
                                             "InstanceNorm", "LayerNorm", "GroupNorm_RMSNorm", "PReLU")})
    init_module(m, seed=SEED, default="keras")
    for key in ("Embedding_padding", "EmbeddingBag_padding"):
        x = _random_part(m, f"{key}.weight", values(m[key].weight))  # padding row zero
        assert check_random(x, Law.uniform(0.05), f"keras {key}") > 0
    for name, p in m.named_parameters():
        if "Embedding" in name:
            continue
        owner, local, _ = _owner(m, name)
        want = 0.0 if isinstance(owner, nn.PReLU) else 1.0 if local == "weight" else 0.0
        assert (values(p) == want).all(), name


def test_keras_recipe_recurrent() -> None:
    lstm, gru, rnn = nn.LSTM(32, 64, num_layers=2, bidirectional=True), nn.GRU(32, 48), nn.RNN(16, 40)
    cells = nn.ModuleList([nn.LSTMCell(32, 64), nn.GRUCell(32, 64), nn.RNNCell(32, 64)])
    m = nn.ModuleList([lstm, gru, rnn, cells])
    init_module(m, seed=SEED, default="keras")
    powered = 0
    for name, p in m.named_parameters():
        owner, local, _ = _owner(m, name)
        x = values(p)
        gates = 4 if isinstance(owner, (nn.LSTM, nn.LSTMCell)) else 3 if isinstance(owner, (nn.GRU, nn.GRUCell)) else 1
        u = owner.hidden_size
        if local.startswith("weight_ih"):
            assert x.shape[0] == gates * u
            powered += check_random(x, glorot(x.shape[1], gates * u), f"keras {name}")  # Keras kernel (in, gates·u)
        elif local.startswith("weight_hh"):
            # Keras' recurrent kernel (u, gates·u) is orthogonal: its transpose has orthonormal columns
            check_orthonormal_columns(x, f"keras {name}")
            check_law(x, Law.sphere(gates * u), f"keras {name}")
        elif local.startswith("bias_ih") and gates == 4:
            want = np.zeros(4 * u)
            want[u:2 * u] = 1.0  # unit_forget_bias=True, the forget gate in torch's order i, f, g, o
            np.testing.assert_array_equal(x, want, err_msg=name)
        else:
            assert (x == 0).all(), name
    assert powered > 0


def test_keras_recipe_attention() -> None:
    m = nn.ModuleList([nn.MultiheadAttention(128, 8), nn.MultiheadAttention(128, 8, kdim=64, vdim=96)])
    init_module(m, seed=SEED, default="keras")
    e = 128
    a, b = m[0], m[1]
    # Keras MultiHeadAttention's EinsumDense kernels: fans (in, heads·head_dim), per q/k/v block
    w = values(a.in_proj_weight)
    for k in range(3):
        assert check_random(w[k * e:(k + 1) * e], glorot(e, e), f"keras in_proj block {k}",
                            wrong_laws(glorot(e, e), glorot(e, 3 * e))) > 0
    check_random(values(b.q_proj_weight), glorot(e, e), "keras q_proj")
    check_random(values(b.k_proj_weight), glorot(64, e), "keras k_proj")
    check_random(values(b.v_proj_weight), glorot(96, e), "keras v_proj")
    for mha in (a, b):
        check_random(values(mha.out_proj.weight), glorot(e, e), "keras out_proj")
        assert (values(mha.in_proj_bias) == 0).all() and (values(mha.out_proj.bias) == 0).all()


@pytest.mark.parametrize("kind", _KERAS_LAYERS)
def test_flax_recipe_kernels(kind: str) -> None:
    m = ZOO[kind]()
    init_module(m, seed=SEED, default="flax")
    w = tuple(int(s) for s in m.weight.shape)
    transposed = isinstance(m, (nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d))
    # Flax kernels (in, out), (*k, in/groups, out), ConvTranspose (*k, in, out): fan_in = in·k (grouped, torch
    # only: the per-group kernel's in/groups·k)
    fi = w[0] // m.groups * math.prod(w[2:]) if transposed else torch_fans(m.weight)[0]
    tf_fi = vs.compute_fans(w, "tf")[0]
    law = lecun(fi)
    row = init_module(m, seed=SEED, default="flax")[0]
    assert (row.fan_in, row.fan_out) == (fi, (w[1] if transposed else w[0]) * math.prod(w[2:])), row
    wrong = wrong_laws(law, lecun(tf_fi) if tf_fi != fi else lecun(torch_fans(m.weight)[0]) if transposed else None)
    assert check_random(values(m.weight), law, f"flax {kind}", wrong) > 0
    assert (values(m.bias) == 0).all()


def test_flax_recipe_embeddings_recurrent_attention() -> None:
    emb, lstm, gru = nn.Embedding(1000, 64, padding_idx=1), nn.LSTM(32, 64), nn.GRUCell(32, 48)
    mha, prelu, ln = nn.MultiheadAttention(128, 8, kdim=64, vdim=96), nn.PReLU(4), nn.LayerNorm(8)
    m = nn.ModuleDict({"emb": emb, "lstm": lstm, "gru": gru, "mha": mha, "prelu": prelu, "ln": ln})
    init_module(m, seed=SEED, default="flax")
    # Embed: variance_scaling(1, 'fan_in', 'normal', out_axis=0) on (num, features) = N(0, 1/features)
    x = _random_part(m, "emb.weight", values(emb.weight))
    assert check_random(x, Law.normal(1 / 8), "flax Embed", wrong_laws(Law.normal(1 / 8), Law.normal(1.0))) > 0
    for cell, gates in ((lstm, 4), (gru, 3)):
        u = cell.hidden_size
        wi = values(cell.weight_ih_l0 if cell is lstm else cell.weight_ih)
        check_random(wi, lecun(32), f"flax {type(cell).__name__} input kernel")
        wh = values(cell.weight_hh_l0 if cell is lstm else cell.weight_hh)
        for k in range(gates):  # one orthogonal (u, u) kernel per gate, as Flax's cells
            block = wh[k * u:(k + 1) * u]
            check_orthonormal_columns(block, f"flax gate {k}")
            check_orthonormal_columns(block.T, f"flax gate {k} (rows)")
        # stacked square orthogonal blocks: W^T W = gates·I (Keras' one orthogonal matrix gives I), blocks differ
        check_orthonormal_columns(wh / math.sqrt(gates), f"flax {type(cell).__name__} stacked")
        assert not np.allclose(wh[:u], wh[u:2 * u])
        for name, p in cell.named_parameters():
            if name.startswith("bias"):
                assert (values(p) == 0).all()
    check_random(values(mha.in_proj_weight) if mha.in_proj_weight is not None else values(mha.q_proj_weight),
                 lecun(128), "flax q_proj")
    check_random(values(mha.k_proj_weight), lecun(64), "flax k_proj")
    check_random(values(mha.v_proj_weight), lecun(96), "flax v_proj")
    check_random(values(mha.out_proj.weight), lecun(128), "flax out")
    assert (values(prelu.weight) == np.float32(0.01)).all()
    assert (values(ln.weight) == 1).all() and (values(ln.bias) == 0).all()


def test_recipes_refuse_layers_without_an_equivalent() -> None:
    for default in ("keras", "flax"):
        m = nn.ModuleDict({"bil": nn.Bilinear(3, 4, 5), "lstm": nn.LSTM(4, 8, proj_size=2),
                           "mha": nn.MultiheadAttention(8, 2, add_bias_kv=True)})
        before = {k: v.detach().clone() for k, v in m.named_parameters()}
        with pytest.raises(vs.InvalidArgumentError, match=r"bil\.weight.*bil\.bias.*mha\.bias_k.*mha\.bias_v") as err:
            init_module(m, seed=SEED, default=default)
        assert "lstm.weight_hr_l0" in str(err.value)
        assert all(torch.equal(v, before[k]) for k, v in m.named_parameters())  # nothing written
        # rules for them come first, the recipe does the rest
        init_module(m, [("bil.*", 0.0), ("*.weight_hr_l0", "xavier_uniform"), ("mha.bias_?", "zeros")],
                    seed=SEED, default=default)


# -- real Keras and Flax, where it is cheap ----------------------------------------------------------------
def _np(x: Any) -> np.ndarray[Any, Any]:
    return np.asarray(x, dtype=np.float64)


@pytest.mark.slow  # 15-32 s on the shared 2-core machine (the framework's import and first jit included)
def test_keras_recipe_matches_real_keras() -> None:
    keras = need("keras")
    keras.utils.set_random_seed(3)
    t = nn.ModuleDict({"dense": nn.Linear(300, 200), "conv": nn.Conv2d(32, 64, 3, groups=8),
                       "convt": nn.ConvTranspose2d(32, 48, 3), "embed": nn.Embedding(1000, 64),
                       "mha": nn.MultiheadAttention(128, 8, kdim=64, vdim=64), "lstm": nn.LSTM(32, 64)})
    init_module(t, seed=SEED, default="keras")
    dense = keras.layers.Dense(200)
    dense.build((None, 300))
    conv = keras.layers.Conv2D(64, 3, groups=8)
    conv.build((None, 9, 9, 32))
    convt = keras.layers.Conv2DTranspose(48, 3)
    convt.build((None, 9, 9, 32))
    embed = keras.layers.Embedding(1000, 64)
    embed.build((None,))
    mha = keras.layers.MultiHeadAttention(num_heads=8, key_dim=16)
    mha(np.zeros((1, 5, 128), "float32"), np.zeros((1, 7, 64), "float32"))
    lstm = keras.layers.LSTM(64)
    lstm(np.zeros((1, 5, 32), "float32"))
    pairs = [("Dense", dense.kernel, t["dense"].weight), ("Conv2D groups", conv.kernel, t["conv"].weight),
             ("Conv2DTranspose", convt.kernel, t["convt"].weight), ("Embedding", embed.embeddings, t["embed"].weight),
             ("MHA query", mha._query_dense.kernel, t["mha"].q_proj_weight),
             ("MHA key", mha._key_dense.kernel, t["mha"].k_proj_weight),
             ("MHA output", mha._output_dense.kernel, t["mha"].out_proj.weight),
             ("LSTM kernel", lstm.cell.kernel, t["lstm"].weight_ih_l0),
             ("LSTM recurrent kernel", lstm.cell.recurrent_kernel, t["lstm"].weight_hh_l0)]
    for label, kw, tw in pairs:
        k, x = _np(kw.numpy()), values(tw)
        assert k.size == x.size, label
        check_same(x, k, f"keras {label}")
        # the same bound (uniform laws): both maxima within 1 % of each other
        assert math.isclose(np.abs(x).max(), np.abs(k).max(), rel_tol=0.01) or label.endswith("recurrent kernel"), (
            label, np.abs(x).max(), np.abs(k).max())
    rk = _np(lstm.cell.recurrent_kernel.numpy())  # (u, 4u), orthonormal rows
    check_orthonormal_columns(rk.T, "real Keras recurrent kernel")
    check_orthonormal_columns(values(t["lstm"].weight_hh_l0), "recipe recurrent kernel")
    bias = _np(lstm.cell.bias.numpy())  # Keras adds no second bias
    np.testing.assert_array_equal(values(t["lstm"].bias_ih_l0) + values(t["lstm"].bias_hh_l0), bias)


@pytest.mark.slow  # 15-32 s on the shared 2-core machine (the framework's import and first jit included)
def test_flax_recipe_matches_real_flax() -> None:
    jax = need("jax")
    linen = need("flax.linen")
    jnp = jax.numpy
    key = jax.random.key(5)
    t = nn.ModuleDict({"dense": nn.Linear(300, 200), "conv": nn.Conv2d(32, 64, 3, groups=8),
                       "convt": nn.ConvTranspose2d(32, 48, 3), "embed": nn.Embedding(1000, 64),
                       "mha": nn.MultiheadAttention(128, 8, kdim=64, vdim=64), "lstm": nn.LSTMCell(32, 64)})
    init_module(t, seed=SEED, default="flax")

    def params(module: Any, *args: Any) -> Any:
        return module.init(key, *args)["params"]

    dense = params(linen.Dense(200), jnp.zeros((1, 300)))
    conv = params(linen.Conv(64, (3, 3), feature_group_count=8), jnp.zeros((1, 9, 9, 32)))
    convt = params(linen.ConvTranspose(48, (3, 3)), jnp.zeros((1, 9, 9, 32)))
    embed = params(linen.Embed(1000, 64), jnp.zeros((1,), jnp.int32))
    mha = params(linen.MultiHeadDotProductAttention(num_heads=8, qkv_features=128, out_features=128),
                 jnp.zeros((1, 5, 128)), jnp.zeros((1, 7, 64)))
    cell = linen.OptimizedLSTMCell(64)
    carry = cell.initialize_carry(key, (1, 32))
    lstm = cell.init(key, carry, jnp.zeros((1, 32)))["params"]
    pairs = [("Dense", dense["kernel"], t["dense"].weight), ("Conv groups", conv["kernel"], t["conv"].weight),
             ("ConvTranspose", convt["kernel"], t["convt"].weight), ("Embed", embed["embedding"], t["embed"].weight),
             ("MHA query", mha["query"]["kernel"], t["mha"].q_proj_weight),
             ("MHA key", mha["key"]["kernel"], t["mha"].k_proj_weight),
             ("MHA out", mha["out"]["kernel"], t["mha"].out_proj.weight),
             ("LSTM input kernel", lstm["ii"]["kernel"], t["lstm"].weight_ih[:64])]
    for label, fw, tw in pairs:
        f, x = _np(fw), values(tw)
        assert f.size == x.size, label
        check_same(x, f, f"flax {label}")
    for gate, k in (("hi", 0), ("hf", 1), ("hg", 2), ("ho", 3)):  # torch's gate order i, f, g, o
        check_orthonormal_columns(_np(lstm[gate]["kernel"]), f"real Flax {gate}")
        check_orthonormal_columns(values(t["lstm"].weight_hh[k * 64:(k + 1) * 64]), f"recipe gate {gate}")
    assert float(linen.PReLU().init(key, jnp.zeros((3,)))["params"]["negative_slope"]) == np.float32(0.01)


# -- the traps of issue 11 on a small model of every kind -------------------------------------------------
class Small(nn.Module):
    """A ResNet-style stem with BatchNorm, an Embedding, a TransformerEncoderLayer, LayerNorm, an LSTM."""

    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU())
        self.embed = nn.Embedding(50, 16, padding_idx=0)
        self.encoder = nn.TransformerEncoderLayer(16, 2, 32, batch_first=True)
        self.norm = nn.LayerNorm(16)
        self.lstm = nn.LSTM(16, 16, batch_first=True)
        self.head = nn.Linear(16 + 8, 4)

    def forward(self, img: Any, tokens: Any) -> Any:
        a = self.stem(img).mean((2, 3))
        h, _ = self.lstm(self.norm(self.encoder(self.embed(tokens))))
        return self.head(torch.cat([a, h[:, -1]], 1))


def _state(m: Any) -> dict[str, Any]:
    return {k: v.detach().clone() for k, v in m.state_dict().items()}


def _same_state(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_meta_to_empty_then_default_torch_is_whole() -> None:
    with torch.device("meta"):
        model = Small()
    model = model.to_empty(device="cpu")
    with torch.no_grad():  # what to_empty may leave: garbage (made deterministic here)
        for b in model.buffers():
            b.fill_(float("nan") if b.is_floating_point() else 12345)
        for p in model.parameters():
            p.fill_(float("nan"))
    report = init_module(model, seed=SEED, default="torch")
    bn = model.stem[1]
    assert (bn.running_mean == 0).all() and (bn.running_var == 1).all() and int(bn.num_batches_tracked) == 0
    assert report.buffers == ["stem.1.running_mean", "stem.1.running_var", "stem.1.num_batches_tracked"]
    assert (model.embed.weight[0] == 0).all()
    assert next(r for r in report if r.name == "embed.weight").initializer == "normal_, row 0 zero"
    model.eval()
    with torch.no_grad():
        out = model(torch.randn(2, 3, 8, 8), torch.randint(0, 50, (2, 5)))
    assert torch.isfinite(out).all()
    # the same values as the model built on the CPU: values depend on names, not on the device history
    ref = Small()
    init_module(ref, seed=SEED, default="torch")
    assert _same_state(_state(model), _state(ref))


class WithBuffer(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.lin = nn.Linear(4, 4)
        self.register_buffer("scale", torch.full((4,), float("nan")))


def test_a_custom_layer_s_garbage_buffer_is_an_error_naming_it() -> None:
    m = nn.Sequential(WithBuffer())
    with pytest.raises(vs.InvalidArgumentError, match=r"buffer 0\.scale"):
        init_module(m, seed=SEED, default="torch")
    with pytest.raises(vs.InvalidArgumentError, match=r"buffer enc\.0\.scale"):
        init_module(m, seed=SEED, default="torch", prefix="enc")
    m[0].scale.fill_(1.0)
    init_module(m, seed=SEED, default="torch")
    # a skipped parameter must already hold values
    with torch.no_grad():
        m[0].lin.weight.fill_(float("inf"))
    with pytest.raises(vs.InvalidArgumentError, match=r"parameter 0\.lin\.weight"):
        init_module(m, seed=SEED, default="torch", skip={"0.lin.weight"})


def test_a_rule_that_matches_nothing() -> None:
    net = Small()
    before = _state(net)
    rules = [("decoder.*.weight", "he_normal"), ("head.weight", "xavier_uniform")]
    with pytest.raises(vs.InvalidArgumentError, match=r"1 rule\(s\) match no parameter: decoder\.\*\.weight.*strict=False"):
        init_module(net, rules, seed=SEED, default="torch")
    assert _same_state(_state(net), before)  # refused before anything is written
    with pytest.warns(UserWarning, match=r"match no parameter: decoder\.\*\.weight"):
        init_module(net, rules, seed=SEED, default="torch", strict=False)
    ref = Small()
    init_module(ref, rules[1:], seed=SEED, default="torch")
    assert _same_state(_state(net), _state(ref))


FAN_BASED: list[Any] = [
    "he_normal",
    nn.init.kaiming_normal_,
    functools.partial(nn.init.xavier_uniform_, gain=2.0),
    "kaiming_uniform_(a=math.sqrt(5))",
    "orthogonal(gain=1.0)",
    vs.GlorotUniform(),
    vs.parse("keras.initializers.HeNormal()"),
]


@pytest.mark.parametrize("init", FAN_BASED, ids=lambda i: getattr(i, "__name__", None) or str(i)[:40])
def test_a_fan_based_rule_on_a_bias_is_an_error_naming_it(init: Any) -> None:
    net = Small()
    before = _state(net)
    with pytest.raises(vs.InvalidArgumentError,
                       match=r"fewer than 2 dimensions matched a fan-based initializer: head\.bias \(4,\) matched "
                             r"rule 'head\.\*'.*Restrict the rule"):
        init_module(net, [("head.*", init)], seed=SEED, default="torch")
    assert _same_state(_state(net), before)
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):  # as torch's own function raises
        nn.init.kaiming_normal_(torch.empty(4))
    # restricted to the weight, it is accepted
    init_module(net, [("head.weight", init)], seed=SEED, default="torch")


@pytest.mark.parametrize(
    "init",
    [vs.HeNormal(seed=1), vs.Normal(std=0.02, seed=2), vs.Orthogonal(seed=3), vs.Uniform(-1, 1, seed=vs.Stream(1, 2))],
    ids=repr,
)
def test_an_initializer_with_its_own_seed_is_refused(init: Any) -> None:
    with pytest.raises(vs.InvalidArgumentError, match=r"has its own seed.*model's seed, which wins"):
        init_module(Small(), [("head.weight", init)], seed=SEED, default="torch")


def test_a_torch_generator_is_refused() -> None:
    g = torch.Generator().manual_seed(0)
    with pytest.raises(vs.InvalidArgumentError, match="generator"):
        init_module(Small(), [("head.weight", functools.partial(nn.init.normal_, std=0.02, generator=g))],
                    seed=SEED, default="torch")


def test_prefix_gives_a_submodule_its_values_in_the_whole_model() -> None:
    rules = [("encoder.linear*.weight", "xavier_uniform"), ("encoder.self_attn.in_proj_weight", "normal(std=0.02)"),
             ((nn.LayerNorm, "weight"), "normal(mean=1.0, std=0.1)")]
    whole = Small()
    init_module(whole, [*rules, ("stem.0.weight", "he_normal")], seed=SEED, default="torch")
    part = Small()
    report = init_module(part.encoder, rules, seed=SEED, default="torch", prefix="encoder")
    assert all(r.name.startswith("encoder.") for r in report)
    assert _same_state(_state(part.encoder), _state(whole.encoder))
    stem = init_module(part.stem, [("stem.0.weight", "he_normal")], seed=SEED, default="torch", prefix="stem.")
    assert stem.buffers == ["stem.1.running_mean", "stem.1.running_var", "stem.1.num_batches_tracked"]
    assert _same_state(_state(part.stem), _state(whole.stem))
    # MultiheadAttention's out_proj alone: its bias is still the zero the attention's reset gives it
    out_proj = Small().encoder.self_attn.out_proj
    init_module(out_proj, seed=SEED, default="torch", prefix="encoder.self_attn.out_proj")
    assert _same_state(_state(out_proj), _state(whole.encoder.self_attn.out_proj))
    assert (out_proj.bias == 0).all()
    # without the prefix the names (so the streams, and the rules) differ
    alone = Small()
    init_module(alone.encoder, [((nn.LayerNorm, "weight"), "normal(mean=1.0, std=0.1)")], seed=SEED, default="torch")
    assert not torch.equal(alone.encoder.linear1.bias, whole.encoder.linear1.bias)


# -- every rule form: the law torch itself gives for that function on the same parameter ----------------------
SHAPE = (128, 64, 3, 3)  # a Conv2d(64, 128, 3) weight
FI, FO = 64 * 9, 128 * 9
TF_FI, TF_FO = vs.compute_fans(SHAPE, "tf")
_S_HE = math.sqrt(2.0 / FI) / TRUNC  # Keras' he_normal: truncated at ±2 std, variance-preserving


def _trunc_like(std: float) -> Any:
    return functools.partial(nn.init.trunc_normal_, std=std, a=-2 * std, b=2 * std)


#: (id, rule form, torch's own function for the same law, the law, the law with TF-layout fans or None)
FORMS: list[tuple[str, Any, Any, Law, Law | None]] = [
    ("fn kaiming_normal_", nn.init.kaiming_normal_, nn.init.kaiming_normal_, Law.normal(math.sqrt(2 / FI)),
     Law.normal(math.sqrt(2 / TF_FI))),
    ("partial kaiming_normal_ fan_out relu", functools.partial(nn.init.kaiming_normal_, mode="fan_out",
                                                               nonlinearity="relu"),
     functools.partial(nn.init.kaiming_normal_, mode="fan_out", nonlinearity="relu"), Law.normal(math.sqrt(2 / FO)),
     Law.normal(math.sqrt(2 / TF_FO))),
    ("str kaiming_normal_(mode='fan_out')", "kaiming_normal_(mode='fan_out')",
     functools.partial(nn.init.kaiming_normal_, mode="fan_out"), Law.normal(math.sqrt(2 / FO)),
     Law.normal(math.sqrt(2 / TF_FO))),
    ("str torch code kaiming_uniform_(a=√5)", "torch.nn.init.kaiming_uniform_(w, a=math.sqrt(5))",
     functools.partial(nn.init.kaiming_uniform_, a=math.sqrt(5)), Law.uniform(1 / math.sqrt(FI)),
     Law.uniform(1 / math.sqrt(TF_FI))),
    ("name kaiming_uniform", "kaiming_uniform", nn.init.kaiming_uniform_, Law.uniform(math.sqrt(6 / FI)),
     Law.uniform(math.sqrt(6 / TF_FI))),
    ("name he_uniform", "he_uniform", functools.partial(nn.init.kaiming_uniform_, nonlinearity="relu"),
     Law.uniform(math.sqrt(6 / FI)), Law.uniform(math.sqrt(6 / TF_FI))),
    ("fn xavier_uniform_", nn.init.xavier_uniform_, nn.init.xavier_uniform_, Law.uniform(math.sqrt(6 / (FI + FO))),
     Law.uniform(math.sqrt(6 / (TF_FI + TF_FO)))),
    ("partial xavier_normal_ gain=2", functools.partial(nn.init.xavier_normal_, gain=2.0),
     functools.partial(nn.init.xavier_normal_, gain=2.0), Law.normal(2 * math.sqrt(2 / (FI + FO))),
     Law.normal(2 * math.sqrt(2 / (TF_FI + TF_FO)))),
    ("name xavier_normal", "xavier_normal", nn.init.xavier_normal_, Law.normal(math.sqrt(2 / (FI + FO))), None),
    ("str normal(std=0.02)", "normal(std=0.02)", functools.partial(nn.init.normal_, std=0.02), Law.normal(0.02), None),
    ("partial normal_", functools.partial(nn.init.normal_, std=0.05), functools.partial(nn.init.normal_, std=0.05),
     Law.normal(0.05), None),
    ("str trunc_normal asymmetric", "trunc_normal(std=0.02, a=-0.03, b=0.05)",
     functools.partial(nn.init.trunc_normal_, std=0.02, a=-0.03, b=0.05), Law.normal(0.02, -0.03, 0.05), None),
    ("partial trunc_normal_", functools.partial(nn.init.trunc_normal_, std=0.02, a=-0.04, b=0.04),
     functools.partial(nn.init.trunc_normal_, std=0.02, a=-0.04, b=0.04), Law.normal(0.02, -0.04, 0.04), None),
    ("str uniform(-0.1, 0.3)", "uniform(-0.1, 0.3)", functools.partial(nn.init.uniform_, a=-0.1, b=0.3),
     Law.uniform(-0.1, 0.3), None),
    ("vs.Spec of torch code", vs.parse("torch.nn.init.kaiming_uniform_(w, mode='fan_out', nonlinearity='relu')"),
     functools.partial(nn.init.kaiming_uniform_, mode="fan_out", nonlinearity="relu"), Law.uniform(math.sqrt(6 / FO)),
     Law.uniform(math.sqrt(6 / TF_FO))),
    ("str keras.initializers.HeNormal()", "keras.initializers.HeNormal()", _trunc_like(_S_HE),
     Law.normal(_S_HE, -2 * _S_HE, 2 * _S_HE), None),
    ("vs.HeNormal()", vs.HeNormal(), _trunc_like(_S_HE), Law.normal(_S_HE, -2 * _S_HE, 2 * _S_HE), None),
    ("vs.VarianceScaling(1/3, uniform)", vs.VarianceScaling(1 / 3, "fan_in", "uniform"),
     functools.partial(nn.init.kaiming_uniform_, a=math.sqrt(5)), Law.uniform(1 / math.sqrt(FI)),
     Law.uniform(1 / math.sqrt(TF_FI))),
    ("vs.Normal(std=0.02)", vs.Normal(std=0.02), functools.partial(nn.init.normal_, std=0.02), Law.normal(0.02), None),
    ("str orthogonal(gain=2.0)", "orthogonal(gain=2.0)", functools.partial(nn.init.orthogonal_, gain=2.0),
     Law.sphere(FI, 2.0), Law.sphere(math.prod(SHAPE[:-1]), 2.0)),
    ("partial orthogonal_", functools.partial(nn.init.orthogonal_, gain=0.5),
     functools.partial(nn.init.orthogonal_, gain=0.5), Law.sphere(FI, 0.5), Law.sphere(math.prod(SHAPE[:-1]), 0.5)),
]


@pytest.mark.parametrize(("form", "torch_fn", "law", "tf_law"), [f[1:] for f in FORMS], ids=[f[0] for f in FORMS])
def test_every_rule_form_gives_torch_s_law(form: Any, torch_fn: Any, law: Law, tf_law: Law | None) -> None:
    conv = nn.Conv2d(64, 128, 3, bias=False)
    report = init_module(conv, [("weight", form)], seed=SEED)
    ref = torch.empty(SHAPE)
    torch.manual_seed(11)
    with torch.no_grad():
        torch_fn(ref)
    x, y = values(conv.weight), values(ref)
    check_law(x, law, f"{form!r} (varscale)")
    check_law(y, law, f"{form!r} (torch itself)")
    check_same(x, y, repr(form))
    check_bounds(x, law, repr(form))
    assert check_power(x, law, wrong_laws(law, tf_law), repr(form)) > 0
    if law.kind == "sphere":  # rows of the (128, 576) flattening orthonormal, as torch's orthogonal_
        flat = x.reshape(SHAPE[0], -1)
        assert np.allclose(flat @ flat.T, law.scale**2 * np.eye(SHAPE[0]), atol=1e-5)
    row = report[0]
    if tf_law is not None and law.kind != "sphere":
        assert (row.fan_in, row.fan_out, row.layout) == (FI, FO, "torch")
    assert row.std is not None and math.isclose(row.std, float(np.std(y)), rel_tol=0.02)


CONSTANT_FORMS: list[tuple[Any, Any]] = [
    (0.5, functools.partial(nn.init.constant_, val=0.5)),
    (3, functools.partial(nn.init.constant_, val=3.0)),
    ("0.02", functools.partial(nn.init.constant_, val=0.02)),
    ("zeros", nn.init.zeros_),
    ("ones", nn.init.ones_),
    ("constant(0.1)", functools.partial(nn.init.constant_, val=0.1)),
    (functools.partial(nn.init.constant_, val=0.25), functools.partial(nn.init.constant_, val=0.25)),
    (nn.init.zeros_, nn.init.zeros_),
    (nn.init.ones_, nn.init.ones_),
    (vs.Constant(-0.3), functools.partial(nn.init.constant_, val=-0.3)),
    (vs.Zeros(), nn.init.zeros_),
]


@pytest.mark.parametrize(("form", "torch_fn"), CONSTANT_FORMS, ids=lambda f: str(getattr(f, "func", f))[:30])
def test_every_constant_form_equals_torch_s(form: Any, torch_fn: Any) -> None:
    for dtype in (torch.float32, torch.bfloat16, torch.float16, torch.float64):
        lin = nn.Linear(8, 6).to(dtype)
        init_module(lin, [("weight", form), ("bias", form)], seed=SEED)
        with torch.no_grad():
            ref = torch.empty(6, 8, dtype=dtype)
            torch_fn(ref)
        assert torch.equal(lin.weight, ref) and torch.equal(lin.bias, ref[0, :6]), (form, dtype)


# -- the finiteness check: every dtype, anywhere in the tensor, without a copy of the model -------------------
@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float32, torch.float64])
@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
def test_a_non_finite_value_anywhere_is_found(dtype: Any, bad: float) -> None:
    m = nn.Sequential(WithBuffer()).to(dtype)
    m[0].scale.fill_(1.0)
    m[0].scale[3] = bad
    with pytest.raises(vs.InvalidArgumentError, match=r"1 tensor\(s\) hold non-finite values: buffer 0\.scale"):
        init_module(m, seed=SEED, default="torch")
    big = nn.Linear(1024, 1031).to(dtype)  # an odd size: the last element is in a reduction's tail
    for where in (0, 517 * 1024 + 3, big.weight.numel() - 1):
        init_module(big, seed=SEED, default="torch")
        with torch.no_grad():
            big.weight.view(-1)[where] = bad
        with pytest.raises(vs.InvalidArgumentError, match=r"parameter weight\b"):
            init_module(big, seed=SEED, default="torch", skip={"weight"})


def test_a_complex_buffer_is_checked() -> None:
    m = WithBuffer()
    m.scale = torch.tensor([1 + 1j, complex(0.0, float("inf"))])
    with pytest.raises(vs.InvalidArgumentError, match="buffer scale"):
        init_module(m, seed=SEED, default="torch")


def test_the_finiteness_check_allocates_no_copy_of_the_model() -> None:
    profiler = need("torch.profiler")
    m = nn.Linear(2048, 2048)  # a 16 MiB weight
    init_module(m, seed=SEED, default="torch")
    with profiler.profile(activities=[profiler.ProfilerActivity.CPU], profile_memory=True) as prof:
        init_module(m, seed=SEED, default="torch")
    biggest = max((e.cpu_memory_usage for e in prof.events()), default=0)
    # torch.isfinite(w).all() allocated |w| (16 MiB) and three bool masks (4 MiB each): 5x the fill's time
    # on a 100M-parameter model; the fill itself writes in place
    assert biggest < 1 << 20, biggest



# -- docs/initialize-a-model.md: every Python block runs as shown ---------------------------------------------
GUIDE = Path(__file__).resolve().parents[2] / "docs" / "initialize-a-model.md"


def _guide_blocks() -> list[str]:
    text = GUIDE.read_text(encoding="utf-8")
    return [textwrap.dedent(body) for _, body in re.findall(r"^( *)```python\n(.*?)^\1```", text, re.S | re.M)]


@pytest.mark.parametrize("index", range(len(_guide_blocks())))
def test_the_guide_s_examples_run(index: int) -> None:
    code = _guide_blocks()[index]
    for module in ("keras", "jax", "flax.linen"):
        if re.search(rf"^(import|from) {re.escape(module)}\b", code, re.M):
            need(module)
    exec(compile(code, f"{GUIDE.name}, Python block {index}", "exec"), {"__name__": "guide"})


@pytest.mark.parametrize("default", ["torch", "keras", "flax"])
@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float64])
def test_recipes_in_every_dtype(default: str, dtype: Any) -> None:
    # each parameter drawn in its own dtype: the stream's bits for that dtype, the recipe's fix-ups after
    m = nn.ModuleDict({"emb": nn.Embedding(300, 16, padding_idx=5), "lstm": nn.LSTM(16, 32),
                       "bn": nn.BatchNorm1d(32), "fc": nn.Linear(32, 64)}).to(dtype)
    report = init_module(m, seed=SEED, default=default)
    assert all(r.dtype == str(dtype).replace("torch.", "") for r in report)
    assert (m["emb"].weight[5] == 0).all() and (m["bn"].weight == 1).all() and (m["bn"].bias == 0).all()
    if default == "keras":
        assert (m["lstm"].bias_ih_l0[32:64] == 1).all() and (m["lstm"].bias_ih_l0[:32] == 0).all()
    if default != "torch":
        w = values(m["lstm"].weight_hh_l0)
        gram = w.T @ w / (4 if default == "flax" else 1)
        assert np.allclose(gram, np.eye(32), atol=2e-2 if dtype != torch.float64 else 1e-12)
    # the Linear weight is the core initializer's draw in this dtype, bit for bit
    row = next(r for r in report if r.name == "fc.weight")
    law = {"torch": vs.VarianceScaling(1 / 3, "fan_in", "uniform", layout="torch"), "keras": vs.GlorotUniform(
        layout="torch"), "flax": vs.LecunNormal(layout="torch")}[default]
    cfg = {**law.get_config(), "seed": vs.derive_stream(SEED, "fc.weight")}
    name = str(dtype).replace("torch.", "")
    want = type(law).from_config(cfg)((64, 32), dtype=name)
    got = m["fc"].weight.detach()
    if dtype == torch.bfloat16:
        assert np.array_equal(got.view(torch.int16).numpy(), want.view(np.int16)), row
    else:
        assert np.array_equal(got.numpy(), want), row
