"""Default recipes for torch's built-in layers: ``default="torch"``, ``"keras"`` and ``"flax"``.

Each recipe answers, for one parameter of a built-in layer, what its
framework would draw for the equivalent layer:

* ``"torch"`` — exactly what the layer's own ``reset_parameters()`` draws in
  torch 2.x (the law and the constants; the values come from varscale's
  stream): Linear/Conv ``kaiming_uniform_(a=√5)`` and ``U(±1/√fan_in)`` biases,
  Bilinear ``U(±1/√in1)``, Embedding ``N(0, 1)`` with the ``padding_idx`` row
  zeroed, norms ones/zeros, MultiheadAttention ``xavier_uniform_`` in-proj and
  zero biases, RNN/LSTM/GRU ``U(±1/√hidden)``, PReLU its ``init`` constant,
  and ``nn.Transformer``'s ``xavier_uniform_`` on every matrix.
* ``"keras"`` — the Keras 3 default of the equivalent layer: kernels
  ``glorot_uniform`` (per q/k/v block for attention, with EinsumDense's fans),
  biases zeros, Embedding ``U(-0.05, 0.05)``, norms ones/zeros, LSTM/GRU/RNN
  ``glorot_uniform`` input kernels, ``orthogonal`` recurrent kernels and zero
  biases, LSTM's unit forget-gate bias (put in ``bias_ih``; ``bias_hh`` is
  zero, torch adds the two), PReLU zeros.
* ``"flax"`` — Flax Linen's defaults: kernels ``lecun_normal`` (ConvTranspose
  with Flax's fan_in = in_features·kernel), biases zeros, ``Embed``'s
  ``variance_scaling(1, 'fan_in', 'normal', out_axis=0)`` = ``N(0, 1/features)``,
  norms ones/zeros, LSTM/GRU cells ``lecun_normal`` input kernels and one
  ``orthogonal`` block per gate for the recurrent kernels, PReLU 0.01.

A torch ``Embedding``'s ``padding_idx`` row is zero under every recipe (torch's
contract for that row). A parameter with no equivalent (``Bilinear``, LSTM's
``weight_hr`` of ``proj_size``, attention's ``bias_k``/``bias_v`` under
``"keras"``/``"flax"``) raises, naming it. A grouped ``ConvTranspose`` has no
Keras/Flax counterpart: ``"keras"`` and ``"flax"`` take the fans of its
per-group kernel ``(*k, out/groups, in/groups)``, as they read a grouped
``Conv`` kernel. ``MultiheadAttention.out_proj``'s bias
is zero also when the ``out_proj`` is initialized alone (``prefix=``); a layer
inside an ``nn.Transformer`` initialized without the Transformer gets its own
defaults, not the Transformer's ``xavier_uniform_``.

Every statement here is checked against real torch (and, where cheap, real
Keras and Flax) in ``tests/scaleout/test_torch_recipes.py``.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from ._basic import Constant, Normal, Orthogonal, Uniform
from ._fans import Layout, compute_fans
from ._initializer import VarianceScaling
from ._plan import normal_sampler, uniform_sampler
from ._rules import ParamPlan, plan_param
from .stream import Stream

__all__ = ["RECIPES", "Recipe", "StackedOrthogonal", "recipe_for"]

RECIPES = ("torch", "keras", "flax")

nn = torch.nn
_CONV = (nn.Conv1d, nn.Conv2d, nn.Conv3d)
_CONVT = (nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d)
_LINEAR = (nn.Linear,)
_NORM_BASE = nn.modules.batchnorm._NormBase
_AFFINE_NORMS: tuple[type, ...] = (_NORM_BASE, nn.LayerNorm, nn.GroupNorm) + (
    (nn.RMSNorm,) if hasattr(nn, "RMSNorm") else ()
)
#: the class of MultiheadAttention's out_proj, used by nothing else in torch: its bias is zeroed by the
#: attention's reset, also when the out_proj is initialized alone (init_module(attn.out_proj, prefix=...))
_MHA_OUT: Any = getattr(nn.modules.linear, "NonDynamicallyQuantizableLinear", ())
_RNN = (nn.RNN, nn.LSTM, nn.GRU)
_CELLS = (nn.RNNCell, nn.LSTMCell, nn.GRUCell)


@dataclass(frozen=True)
class Recipe:
    """A recipe's answer for one parameter: its plan and an optional fix-up after the fill."""

    plan: ParamPlan
    #: ``post(local, offsets)``: a fix-up on the filled tensor (or the local shard at ``offsets`` of it)
    post: Callable[[torch.Tensor, tuple[int, ...]], None] | None = None


class StackedOrthogonal:
    """``blocks`` independent orthogonal ``(rows/blocks, cols)`` blocks stacked along axis 0 (Flax's per-gate
    recurrent kernels). One standard-normal draw of the whole matrix from the stream; one QR per block."""

    def __init__(self, blocks: int, gain: float = 1.0) -> None:
        self.blocks = blocks
        self.gain = gain
        self.layout = "torch"

    def matrix(self, shape: tuple[int, ...], stream: Stream) -> np.ndarray[Any, Any]:
        from ._generate import draw

        rows, cols = shape[0], math.prod(shape[1:])
        g = draw((rows, cols), "float64", normal_sampler(0.0, 1.0), stream)
        out = np.empty((rows, cols))
        step = rows // self.blocks
        for k in range(self.blocks):
            block = g[k * step:(k + 1) * step]
            flip = block.shape[0] < cols
            a = block.T if flip else block
            q, r = np.linalg.qr(a)
            q = q * np.sign(np.diagonal(r))
            out[k * step:(k + 1) * step] = q.T if flip else q
        return (self.gain * out).reshape(shape)

    def describe_std(self, shape: tuple[int, ...]) -> float:
        rows, cols = shape[0] // self.blocks, math.prod(shape[1:])
        return abs(self.gain) / math.sqrt(max(rows, cols, 1))


def _plan(init: Any, shape: tuple[int, ...], label: str) -> ParamPlan:
    return plan_param(init, shape, "torch", label)


def _uniform(bound: float, shape: tuple[int, ...], label: str, fan_in: int | None = None) -> ParamPlan:
    return ParamPlan(label, "torch", fan_in, None, bound / math.sqrt(3.0), sampler=uniform_sampler(-bound, bound))


def _const(value: float, label: str) -> ParamPlan:
    return ParamPlan(label, "-", None, None, 0.0, constant=Constant(value).value)


def _fan_in(weight: torch.Tensor) -> int:
    return compute_fans(tuple(int(s) for s in weight.shape), "torch")[0] if weight.dim() >= 2 else 0


def _rows(t: torch.Tensor, offsets: tuple[int, ...], start: int, stop: int) -> torch.Tensor | None:
    """Rows ``[start, stop)`` of the full tensor that lie in the local shard ``t`` at ``offsets`` (or None)."""
    lo = max(start, offsets[0])
    hi = min(stop, offsets[0] + t.shape[0])
    return t[lo - offsets[0]:hi - offsets[0]] if lo < hi else None


def _pad_post(module: Any) -> Callable[[torch.Tensor, tuple[int, ...]], None] | None:
    idx = getattr(module, "padding_idx", None)
    if idx is None:
        return None

    def post(t: torch.Tensor, offsets: tuple[int, ...]) -> None:
        rows = _rows(t, offsets, idx, idx + 1)
        if rows is not None:
            rows.fill_(0)

    return post


def _pad_label(label: str, module: Any) -> str:
    idx = getattr(module, "padding_idx", None)
    return label if idx is None else f"{label}, row {idx} zero"


def _kernel_or_zeros(local: str, kernel: Callable[[], ParamPlan]) -> Recipe | None:
    """A dense or conv layer under Keras and Flax: ``weight`` by ``kernel``, ``bias`` zeros."""
    if local == "weight":
        return Recipe(kernel())
    if local == "bias":
        return Recipe(_const(0.0, "zeros"))
    return None


def _norm(local: str, suffix: str = "") -> Recipe | None:
    """An affine norm under every recipe: ``weight`` ones, ``bias`` zeros (torch's labels end in ``_``)."""
    if local == "weight":
        return Recipe(_const(1.0, "ones" + suffix))
    if local == "bias":
        return Recipe(_const(0.0, "zeros" + suffix))
    return None


def _recurrent(local: str, kernel: Callable[[], ParamPlan], recurrent: Callable[[], ParamPlan],
               bias_ih: Recipe | None = None) -> Recipe | None:
    """A recurrent layer under Keras and Flax: input kernels ``kernel``, recurrent kernels ``recurrent``,
    biases zeros (``bias_ih``, when given, is the input bias: Keras' unit forget bias)."""
    if local.startswith("weight_ih"):
        return Recipe(kernel())
    if local.startswith("weight_hh"):
        return Recipe(recurrent())
    if local.startswith("bias_ih") and bias_ih is not None:
        return bias_ih
    if local.startswith(("bias_ih", "bias_hh")):
        return Recipe(_const(0.0, "zeros"))
    return None


def _in_transformer(parents: list[Any]) -> bool:
    return any(isinstance(p, nn.Transformer) for p in parents)


# -- torch --------------------------------------------------------------------------------------------------------
def _torch(owner: Any, local: str, param: torch.Tensor, parents: list[Any]) -> Recipe | None:
    shape = tuple(int(s) for s in param.shape)
    if _in_transformer(parents) and param.dim() > 1:
        # nn.Transformer._reset_parameters: xavier_uniform_ on every parameter with more than one dimension
        return Recipe(_plan(VarianceScaling(1.0, "fan_avg", "uniform", layout="torch"), shape,
                            "xavier_uniform_ (nn.Transformer)"))
    kaiming = VarianceScaling(1.0 / 3.0, "fan_in", "uniform", layout="torch")
    if isinstance(owner, nn.MultiheadAttention) or (local == "bias" and (
        isinstance(owner, _MHA_OUT) or (parents and isinstance(parents[-1], nn.MultiheadAttention))
    )):
        if local in ("in_proj_weight", "q_proj_weight", "k_proj_weight", "v_proj_weight"):
            return Recipe(_plan(VarianceScaling(1.0, "fan_avg", "uniform", layout="torch"), shape, "xavier_uniform_"))
        if local in ("in_proj_bias", "bias"):
            return Recipe(_const(0.0, "zeros_"))
        if local in ("bias_k", "bias_v"):
            return Recipe(_plan(VarianceScaling(1.0, "fan_avg", "untruncated_normal", layout="torch"), shape,
                                "xavier_normal_"))
        return None
    if isinstance(owner, _LINEAR + _CONV + _CONVT):
        if local == "weight":
            return Recipe(_plan(kaiming, shape, "kaiming_uniform_(a=√5)"))
        if local == "bias":
            fan_in = _fan_in(owner.weight)
            bound = 1.0 / math.sqrt(fan_in) if fan_in > 0 else 0.0
            return Recipe(_uniform(bound, shape, f"uniform_(±1/√{fan_in})", fan_in))
        return None
    if isinstance(owner, nn.Bilinear):
        bound = 1.0 / math.sqrt(owner.weight.size(1)) if owner.weight.size(1) > 0 else 0.0
        return Recipe(_uniform(bound, shape, f"uniform_(±1/√{owner.weight.size(1)})"))
    if isinstance(owner, (nn.Embedding, nn.EmbeddingBag)) and local == "weight":
        return Recipe(_plan(Normal(0.0, 1.0), shape, _pad_label("normal_", owner)), _pad_post(owner))
    if isinstance(owner, _AFFINE_NORMS):
        return _norm(local, "_")
    if isinstance(owner, _RNN + _CELLS):
        h = owner.hidden_size
        bound = 1.0 / math.sqrt(h) if h > 0 else 0.0
        return Recipe(_uniform(bound, shape, f"uniform_(±1/√{h})"))
    if isinstance(owner, nn.PReLU) and local == "weight":
        return Recipe(_const(float(owner.init), f"constant_({owner.init:g})"))
    return None


# -- keras --------------------------------------------------------------------------------------------------------
def _glorot(shape: tuple[int, ...], label: str = "glorot_uniform") -> ParamPlan:
    return _plan(VarianceScaling(1.0, "fan_avg", "uniform", layout="torch"), shape, label)


def _rnn_gates(owner: Any) -> int:
    if isinstance(owner, (nn.LSTM, nn.LSTMCell)):
        return 4
    if isinstance(owner, (nn.GRU, nn.GRUCell)):
        return 3
    return 1


def _keras(owner: Any, local: str, param: torch.Tensor, parents: list[Any]) -> Recipe | None:
    shape = tuple(int(s) for s in param.shape)
    if isinstance(owner, nn.MultiheadAttention):
        if local == "in_proj_weight":
            # three (E, E) blocks, each glorot_uniform with EinsumDense's fans (E in, heads·head_dim = E out)
            e = shape[1]
            bound = math.sqrt(6.0 / (e + shape[0] // 3))
            return Recipe(ParamPlan("glorot_uniform per q/k/v block", "torch", e, shape[0] // 3,
                                    bound / math.sqrt(3.0), sampler=uniform_sampler(-bound, bound)))
        if local in ("q_proj_weight", "k_proj_weight", "v_proj_weight"):
            return Recipe(_glorot(shape))
        if local == "in_proj_bias":
            return Recipe(_const(0.0, "zeros"))
        return None
    if parents and isinstance(parents[-1], nn.MultiheadAttention) and isinstance(owner, nn.Linear):
        return _kernel_or_zeros(local, lambda: _glorot(shape))
    if isinstance(owner, _CONVT) and local == "weight" and owner.groups > 1:
        # no Keras counterpart: the per-group kernel (*k, out/groups, in/groups), read as Keras reads a grouped
        # Conv kernel (*k, in/groups, out); torch's own fans of (in, out/groups, *k) would not divide `in`
        k = math.prod(shape[2:])
        fan_in, fan_out = shape[1] * k, shape[0] // owner.groups * k
        bound = math.sqrt(6.0 / (fan_in + fan_out))
        return Recipe(ParamPlan("glorot_uniform (per group)", "torch", fan_in, fan_out, bound / math.sqrt(3.0),
                                sampler=uniform_sampler(-bound, bound)))
    if isinstance(owner, _LINEAR + _CONV + _CONVT):
        return _kernel_or_zeros(local, lambda: _glorot(shape))
    if isinstance(owner, (nn.Embedding, nn.EmbeddingBag)) and local == "weight":
        return Recipe(_plan(Uniform(-0.05, 0.05), shape, _pad_label("uniform(-0.05, 0.05)", owner)), _pad_post(owner))
    if isinstance(owner, _AFFINE_NORMS):
        return _norm(local)
    if isinstance(owner, _RNN + _CELLS):
        forget_bias = None
        if isinstance(owner, (nn.LSTM, nn.LSTMCell)):
            units = shape[0] // 4

            def forget(t: torch.Tensor, offsets: tuple[int, ...]) -> None:
                rows = _rows(t, offsets, units, 2 * units)
                if rows is not None:
                    rows.fill_(1.0)

            # std "-" in the report: not one law (zeros, ones on the forget gate's quarter), as varscale.keras says
            forget_bias = Recipe(ParamPlan("zeros + unit_forget_bias", "-", None, None, None, constant=0.0), forget)
        return _recurrent(local, lambda: _glorot(shape),
                          lambda: _plan(Orthogonal(1.0, layout="torch"), shape, "orthogonal"), forget_bias)
    if isinstance(owner, nn.PReLU) and local == "weight":
        return Recipe(_const(0.0, "zeros"))
    return None


# -- flax ---------------------------------------------------------------------------------------------------------
_LECUN = "lecun_normal"


def _lecun(shape: tuple[int, ...], layout: Any = "torch") -> ParamPlan:
    return plan_param(VarianceScaling(1.0, "fan_in", "truncated_normal", layout=layout), shape, layout, _LECUN)


def _flax(owner: Any, local: str, param: torch.Tensor, parents: list[Any]) -> Recipe | None:
    shape = tuple(int(s) for s in param.shape)
    if isinstance(owner, nn.MultiheadAttention):
        if local in ("in_proj_weight", "q_proj_weight", "k_proj_weight", "v_proj_weight"):
            return Recipe(_lecun(shape))  # fan_in = the input features, per block as in DenseGeneral
        if local == "in_proj_bias":
            return Recipe(_const(0.0, "zeros"))
        return None
    if isinstance(owner, _CONVT):
        if local == "weight":
            # Flax ConvTranspose kernel (*k, in_features, features): fan_in = in_features·k = axis 0 here;
            # grouped (no Flax counterpart): the per-group kernel's, (in_features/groups)·k, as Flax's grouped Conv
            g = owner.groups
            pp = plan_param(VarianceScaling(float(g), "fan_in", "truncated_normal", layout=Layout(in_axis=0, out_axis=1)),
                            shape, "torch", _LECUN if g == 1 else f"{_LECUN} (per group)")
            return Recipe(dataclasses.replace(pp, fan_in=(pp.fan_in or 0) // g))  # fan_out (out/groups)·k already
        return Recipe(_const(0.0, "zeros")) if local == "bias" else None
    if isinstance(owner, _LINEAR + _CONV):
        return _kernel_or_zeros(local, lambda: _lecun(shape))
    if isinstance(owner, (nn.Embedding, nn.EmbeddingBag)) and local == "weight":
        std = 1.0 / math.sqrt(max(1, shape[1]))
        return Recipe(_plan(Normal(0.0, std), shape, _pad_label("variance_scaling(1, fan_in, normal, out_axis=0)", owner)),
                      _pad_post(owner))
    if isinstance(owner, _AFFINE_NORMS):
        return _norm(local)
    if isinstance(owner, _RNN + _CELLS):
        gates = _rnn_gates(owner)
        so = StackedOrthogonal(gates)
        return _recurrent(local, lambda: _lecun(shape), lambda: ParamPlan(
            f"orthogonal per gate ({gates} blocks)", "torch", None, None, so.describe_std(shape), matrix=so))
    if isinstance(owner, nn.PReLU) and local == "weight":
        return Recipe(_const(0.01, "constant(0.01)"))
    return None


_TABLE = {"torch": _torch, "keras": _keras, "flax": _flax}


def recipe_for(kind: str, owner: Any, local: str, param: torch.Tensor, parents: list[Any]) -> Recipe | None:
    """The recipe ``kind``'s plan for ``owner.<local>`` (``parents``: the enclosing modules, outermost first)."""
    return _TABLE[kind](owner, local, param, parents)


def reset_buffers(module: Any) -> list[str]:
    """Reset a built-in layer's buffers as torch does (BatchNorm/InstanceNorm running statistics).

    Returns the local names of the buffers reset.
    """
    if isinstance(module, _NORM_BASE) and module.track_running_stats and module.running_mean is not None:
        module.reset_running_stats()
        return [n for n in ("running_mean", "running_var", "num_batches_tracked") if getattr(module, n, None)
                is not None]
    return []

