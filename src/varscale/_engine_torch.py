"""The stream in torch ops, on the tensor's own device: the same bits as the NumPy reference.

Philox4x32-10 runs on ``int64`` tensors holding 32-bit words (each 32×32-bit
product is taken as two 32×16-bit products, so nothing overflows 63 bits);
the uniform variate, Φ⁻¹ (AS 241) and its fdlibm logarithm run in
``float64`` with exactly the operations of :mod:`varscale._math` (``sqrt``
correctly rounded: see :func:`_sqrt`), one eager
torch op per arithmetic operation (no ``torch.compile``, no fused ops such as
``addcmul``, so no fused multiply-add can change a rounding); the rounding to
float16/bfloat16 is the reference's integer algorithm (torch's own
``to(torch.float16)`` of a float64 rounds twice, through float32).

This engine exists to fill tensors that live on an accelerator without a
trip through host memory. On the CPU it is slower than the Numba kernel; the
test suite holds it bit-equal to the NumPy reference there. On a GPU the
float64 operations used (``+ - * /``, ``sqrt``, comparisons, bit operations)
are IEEE-correctly rounded in CUDA, so the bits are the same; the device check
script ``bench/device_check.py`` verifies it on a machine with a GPU.

**Why parts mirror the NumPy reference line by line.** Philox's rounds, the
uniform variates and the tails of Φ⁻¹ are the reference's algorithm
(:mod:`varscale._engine_numpy`) written again in torch ops (int64 tensors
holding 32-bit words, torch's indexing and bit casts): the same steps in the
same order are what keeps the bits equal. What needs only operators (and a
``where``) is shared: the polynomials, the logarithm's reduction and the
rounding to 16-bit formats (:mod:`varscale._math`), the Philox constants
(:mod:`varscale.stream`).

Example:
    >>> import torch
    >>> import varscale as vs
    >>> from varscale._engine_torch import fill_tensor
    >>> t = torch.empty(4, 5)
    >>> init = vs.HeNormal(seed=0)
    >>> _ = fill_tensor(t, (4, 5), init.sampler((4, 5)), vs.Stream(0, 0))
    >>> bool((t.numpy() == init((4, 5))).all())
    True
"""

from __future__ import annotations

from typing import Any

import torch

from . import _math as m
from ._codes import Kind
from ._plan import Plan, Sampler, plan_region
from .stream import (
    PHILOX_M0,
    PHILOX_M1,
    PHILOX_ROUNDS,
    PHILOX_W0,
    PHILOX_W1,
    Stream,
    key_words,
)

__all__ = ["BATCH", "fill", "fill_tensor", "philox_words", "round_to_16"]

BATCH = 1 << 20
_M32 = 0xFFFFFFFF


def _mulhilo(a: torch.Tensor, mult: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(hi, lo) 32-bit words of ``a * mult`` for 32-bit ``a`` (int64 tensor) and a 32-bit constant."""
    m_lo, m_hi = mult & 0xFFFF, mult >> 16
    p_lo = a * m_lo  # < 2**48
    p_hi = a * m_hi  # < 2**48
    mid = p_lo + ((p_hi & 0xFFFF) << 16)  # < 2**49
    lo = mid & _M32
    hi = (p_hi >> 16) + (mid >> 32)
    return hi, lo


def philox_words(blocks: torch.Tensor, k0: int, k1: int, s0: int, s1: int) -> tuple[torch.Tensor, ...]:
    """Philox4x32-10 of counters (block low, block high, s0, s1): four int64 tensors of 32-bit words."""
    c0 = blocks & _M32
    c1 = (blocks >> 32) & _M32  # an int64 block index of -1 stands for 2**64 - 1
    c2 = torch.full_like(blocks, s0)
    c3 = torch.full_like(blocks, s1)
    key0, key1 = k0, k1
    for rnd in range(PHILOX_ROUNDS):
        if rnd:
            key0 = (key0 + PHILOX_W0) & _M32
            key1 = (key1 + PHILOX_W1) & _M32
        hi0, lo0 = _mulhilo(c0, PHILOX_M0)
        hi1, lo1 = _mulhilo(c2, PHILOX_M1)
        c0, c1, c2, c3 = hi1 ^ c1 ^ key0, lo1, hi0 ^ c3 ^ key1, lo0
    return c0, c1, c2, c3


def _words_run(start: int, n: int, wide: bool, kw: tuple[int, int, int, int], device: Any) -> torch.Tensor:
    """Stream words (32-bit, or the 53-bit k of 64-bit words when ``wide``) of ``n`` consecutive elements.

    One Philox call per block (4 elements, or 2 for 64-bit outputs), not per element.
    """
    per = 2 if wide else 4
    b0, b1 = start // per, (start + n - 1) // per
    w = torch.stack(philox_words(torch.arange(b0, b1 + 1, dtype=torch.int64, device=device), *kw), dim=1)
    if wide:
        pairs = w.reshape(-1, 2)
        flat = (pairs[:, 1] << 21) | (pairs[:, 0] >> 11)
    else:
        flat = w.reshape(-1)
    off = start - b0 * per
    return flat[off:off + n]


def _uniforms_from(w: torch.Tensor, wide: bool) -> tuple[torch.Tensor, torch.Tensor]:
    if wide:
        return (w.to(torch.float64) + 0.5) * 2.0**-53, (((2**53 - 1) - w).to(torch.float64) + 0.5) * 2.0**-53
    return (w.to(torch.float64) + 0.5) * 2.0**-32, ((_M32 - w).to(torch.float64) + 0.5) * 2.0**-32


def _uniforms(idx: torch.Tensor, wide: bool, kw: tuple[int, int, int, int]) -> tuple[torch.Tensor, torch.Tensor]:
    """(u, 1 − u) in float64 for flat element indices ``idx`` (int64), as the stream specifies."""
    if wide:
        w0, w1, w2, w3 = philox_words(idx >> 1, *kw)
        odd = (idx & 1).bool()
        lo = torch.where(odd, w2, w0)
        hi = torch.where(odd, w3, w1)
        k = (hi << 21) | (lo >> 11)  # the top 53 bits of hi·2**32 + lo
        u = (k.to(torch.float64) + 0.5) * 2.0**-53
        ub = (((2**53 - 1) - k).to(torch.float64) + 0.5) * 2.0**-53
        return u, ub
    w0, w1, w2, w3 = philox_words(idx >> 2, *kw)
    lane = idx & 3
    w = torch.where(lane == 0, w0, torch.where(lane == 1, w1, torch.where(lane == 2, w2, w3)))
    u = (w.to(torch.float64) + 0.5) * 2.0**-32
    ub = ((_M32 - w).to(torch.float64) + 0.5) * 2.0**-32
    return u, ub


def _log_fd(t: torch.Tensor) -> torch.Tensor:
    mbits, k = m.log_split(t.view(torch.int64))
    return m.log_reduced(mbits.view(torch.float64) - 1.0, k.to(torch.float64))


def _sqrt(x: torch.Tensor) -> torch.Tensor:
    """IEEE (correctly rounded) square root.

    torch's vectorised CPU ``sqrt`` for float64 (SLEEF, 0.5001 ulp) is not always correctly rounded
    (about 1.5 % of tail arguments differ in the last bit, measured), so on the CPU NumPy's ``sqrt``
    (the hardware instruction) runs on the tensor's memory; CUDA's double ``sqrt`` is IEEE-rounded.
    """
    if x.device.type == "cpu":
        import numpy as np

        return torch.from_numpy(np.sqrt(x.contiguous().numpy()))
    return torch.sqrt(x)


def _normal_z(u: torch.Tensor, ub: torch.Tensor, sp: Sampler) -> torch.Tensor:
    p = sp.P + u * sp.W
    q = p - 0.5
    z = m.central(q)
    tail = q.abs() > m.SPLIT1
    if bool(tail.any()):
        qt = q[tail]
        low = qt < 0.0
        t = torch.where(low, p[tail], sp.Q + ub[tail] * sp.W)
        r = _sqrt(-_log_fd(t))
        near = r <= m.SPLIT2
        val = torch.where(near, m.tail_near(r - m.CONST2), m.tail_far(r - m.SPLIT2))
        z[tail] = torch.where(low, -val, val)
    return torch.minimum(torch.maximum(z, torch.tensor(sp.a, dtype=z.dtype, device=z.device)),
                         torch.tensor(sp.b, dtype=z.dtype, device=z.device))


def round_to_16(x: torch.Tensor, ebits: int, mbits: int) -> torch.Tensor:
    """float64 → 16-bit float bits (int64 tensor), nearest even, as ``_engine_numpy.round_to_16``."""
    return m.round16_bits(x.view(torch.int64), ebits, mbits, torch.where)


def _values(u: torch.Tensor, ub: torch.Tensor, sp: Sampler) -> torch.Tensor:
    if sp.kind == Kind.UNIFORM:
        return sp.loc + sp.limit * (2.0 * u - 1.0)
    return sp.loc + sp.std * _normal_z(u, ub, sp)


_DTYPES = {"float16": torch.float16, "bfloat16": torch.bfloat16, "float32": torch.float32,
           "float64": torch.float64}


def fill(out: torch.Tensor, plan: Plan, stream: Stream, sp: Sampler, dtype: str) -> None:
    """Fill the flat, contiguous tensor ``out`` (of ``dtype``) with the plan's elements, on ``out``'s device."""
    device = out.device
    wide = dtype == "float64"
    kw = key_words(stream)
    starts = plan.starts.tolist()
    run_len = plan.run_len
    for r, start in enumerate(starts):
        for j0 in range(0, run_len, BATCH):
            n = min(BATCH, run_len - j0)
            first = start + j0 * plan.stride
            if plan.stride == 1:
                u, ub = _uniforms_from(_words_run(first, n, wide, kw, device), wide)
            else:
                u, ub = _uniforms(first + torch.arange(n, dtype=torch.int64, device=device) * plan.stride, wide, kw)
            x = _values(u, ub, sp)
            o = r * run_len + j0
            if dtype == "float16":
                out[o:o + n] = round_to_16(x, 5, 10).to(torch.int16).view(torch.float16)
            elif dtype == "bfloat16":
                out[o:o + n] = round_to_16(x, 8, 7).to(torch.int16).view(torch.bfloat16)
            else:
                out[o:o + n] = x.to(out.dtype)


def fill_tensor(
    tensor: torch.Tensor,
    shape: tuple[int, ...],
    sampler: Sampler,
    stream: Stream,
    region: Any = None,
) -> torch.Tensor:
    """Fill ``tensor`` (``full[region]``'s shape, a floating dtype, any device) in place; returns it."""
    name = str(tensor.dtype).replace("torch.", "")
    if name not in _DTYPES:
        raise TypeError(f"`tensor` must be float16, bfloat16, float32 or float64; received dtype {tensor.dtype}.")
    plan = plan_region(shape, region)
    if tuple(tensor.shape) != plan.out_shape:
        raise ValueError(f"`tensor` has shape {tuple(tensor.shape)}, the region {plan.out_shape}.")
    if plan.size == 0:
        return tensor
    if tensor.is_contiguous():
        fill(tensor.view(-1), plan, stream, sampler, name)
    else:
        flat = torch.empty(plan.size, dtype=tensor.dtype, device=tensor.device)
        fill(flat, plan, stream, sampler, name)
        tensor.copy_(flat.view(plan.out_shape))
    return tensor
