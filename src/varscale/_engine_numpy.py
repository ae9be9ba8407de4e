"""The NumPy reference engine: the definition of the stream's bits.

Vectorised over batches of elements (at most ``BATCH`` at a time, so
temporaries stay small); see :mod:`varscale.stream` for the specification
and :mod:`varscale._math` for the shared arithmetic.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from . import _math as m
from ._codes import Format, Kind
from ._plan import Plan, Sampler
from .stream import Stream, key_words, philox_blocks

__all__ = ["fill", "log_fd", "normal_z", "round_to_16", "transform", "uniforms"]

BATCH = 1 << 16

_TWO_M32 = 2.0**-32
_TWO_M53 = 2.0**-53
_U32_MAX = np.uint64(0xFFFFFFFF)
_K53_MAX = np.uint64(2**53 - 1)


def log_fd(t: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Natural log of positive normal float64 values (fdlibm reduction + polynomial)."""
    mbits, k = m.log_split(t.view(np.int64))
    return m.log_reduced(mbits.view(np.float64) - 1.0, k.astype(np.float64))


def round_to_16(x: npt.NDArray[np.float64], ebits: int, mbits: int) -> npt.NDArray[np.uint16]:
    """Round float64 to a 16-bit float format (1 sign, ``ebits``, ``mbits``), nearest-even, directly.

    Values whose result is a normal 16-bit number (or overflows to inf by rounding) take a short integer
    path — add half an ulp minus one plus the round-to-even bit, shift, re-bias — whose result equals the
    general algorithm's (:func:`_round_to_16_general`, used for zeros, subnormal results, overflow and
    NaN); the test suite holds the two equal on every 16-bit value, tie and neighbour.
    """
    bits = np.ascontiguousarray(x).view(np.int64)
    a = bits & 0x7FFFFFFFFFFFFFFF
    shift = 52 - mbits
    bias = (1 << (ebits - 1)) - 1
    lo = (1023 - bias + 1) << 52  # 2**(1 - bias): the smallest normal 16-bit number
    hi = (1023 + bias + 1) << 52  # 2**(bias + 1): beyond the largest finite 16-bit exponent
    r = a + (((1 << (shift - 1)) - 1) + ((a >> shift) & 1))
    enc = (r >> shift) - ((1023 - bias) << mbits)
    out = (enc | (((bits >> 63) & 1) << 15)).astype(np.uint16)
    rare = (a < lo) | (a >= hi)
    if rare.any():
        out[rare] = _round_to_16_general(x[rare], ebits, mbits)
    return out


def _round_to_16_general(x: npt.NDArray[np.float64], ebits: int, mbits: int) -> npt.NDArray[np.uint16]:
    """The general rounding (every float64: zeros, subnormal results, overflow, NaN)."""
    bits = np.ascontiguousarray(x).view(np.int64)
    return m.round16_bits(bits, ebits, mbits, np.where).astype(np.uint16)


def _words(idx0: int, count: int, stride: int, wide: bool, kw: tuple[int, int, int, int]) -> npt.NDArray[np.uint64]:
    """Stream words (32-bit, or 64-bit values when ``wide``) of ``count`` flat indices."""
    per = 2 if wide else 4
    if stride == 1:
        b0 = idx0 // per
        b1 = (idx0 + count - 1) // per
        blocks = np.arange(b0, b1 + 1, dtype=np.uint64)
        w = np.stack(philox_blocks(blocks, *kw), axis=1)
        if wide:
            pairs = w.reshape(-1, 2)
            flat = pairs[:, 0] | (pairs[:, 1] << np.uint64(32))
        else:
            flat = w.reshape(-1)
        off = idx0 - b0 * per
        out: npt.NDArray[np.uint64] = flat[off : off + count]
        return out
    idx = idx0 + np.arange(count, dtype=np.int64) * stride
    uidx = idx.astype(np.uint64)
    w0, w1, w2, w3 = philox_blocks(uidx // np.uint64(per), *kw)
    if wide:
        odd = (uidx & np.uint64(1)).astype(bool)
        lo = np.where(odd, w2, w0)
        hi = np.where(odd, w3, w1)
        pair: npt.NDArray[np.uint64] = lo | (hi << np.uint64(32))
        return pair
    lane = (uidx & np.uint64(3)).astype(np.intp)
    chosen: npt.NDArray[np.uint64] = np.choose(lane, (w0, w1, w2, w3))
    return chosen


def uniforms(words: npt.NDArray[np.uint64], wide: bool) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """(u, 1 − u) from stream words, as the stream specifies."""
    if wide:
        k = words >> np.uint64(11)
        u = (k.astype(np.float64) + 0.5) * _TWO_M53
        ub = ((_K53_MAX - k).astype(np.float64) + 0.5) * _TWO_M53
    else:
        u = (words.astype(np.float64) + 0.5) * _TWO_M32
        ub = ((_U32_MAX - words).astype(np.float64) + 0.5) * _TWO_M32
    return u, ub


def normal_z(u: npt.NDArray[np.float64], ub: npt.NDArray[np.float64], sp: Sampler) -> npt.NDArray[np.float64]:
    """Standard-normal quantile of the truncated law at u (see the stream spec)."""
    p = sp.P + u * sp.W
    q = p - 0.5
    z = m.central(q)
    tail = np.abs(q) > m.SPLIT1
    if tail.any():
        qt = q[tail]
        low = qt < 0.0
        t = np.where(low, p[tail], sp.Q + ub[tail] * sp.W)
        r = np.sqrt(-log_fd(t))
        near = r <= m.SPLIT2
        val = np.where(near, m.tail_near(r - m.CONST2), m.tail_far(r - m.SPLIT2))
        z[tail] = np.where(low, -val, val)
    return np.minimum(np.maximum(z, sp.a), sp.b)


def transform(words: npt.NDArray[np.uint64], wide: bool, sp: Sampler) -> npt.NDArray[np.float64]:
    """float64 values of the sampler for the given stream words."""
    u, ub = uniforms(words, wide)
    if sp.kind == Kind.UNIFORM:
        return sp.loc + sp.limit * (2.0 * u - 1.0)
    return sp.loc + sp.std * normal_z(u, ub, sp)


def fill(out: npt.NDArray[np.generic], plan: Plan, stream: Stream, sp: Sampler, fmt: Format) -> None:
    """Fill the flat ``out`` (float32, float64, or uint16 bits for ``fmt``) with the plan's elements."""
    wide = out.dtype == np.float64
    kw = key_words(stream)
    run_len = plan.run_len
    starts = plan.starts
    for r, start in ((r, int(starts[r])) for r in range(len(starts))):  # no list of every start (the guard's budget)
        for j0 in range(0, run_len, BATCH):
            n = min(BATCH, run_len - j0)
            words = _words(start + j0 * plan.stride, n, plan.stride, wide, kw)
            x = transform(words, wide, sp)
            o = r * run_len + j0
            if fmt == Format.F16:
                out[o : o + n] = round_to_16(x, 5, 10)
            elif fmt == Format.BF16:
                out[o : o + n] = round_to_16(x, 8, 7)
            else:
                out[o : o + n] = x
