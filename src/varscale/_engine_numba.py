"""The compiled engine: a multi-core Numba kernel producing the stream's bits.

Same specification as :mod:`varscale.stream`, same arithmetic
(:mod:`varscale._math`, compiled inline), no ``fastmath`` (so no fused
multiply-add and no reassociation): bit-identical to the NumPy reference.

Work is split into tasks of at most ``CHUNK`` consecutive elements of one run;
each task fills its slice of the output directly (no temporaries of the
output's size). Within a task, Philox words are produced block by block into
a small local buffer (L1-resident), then transformed in branch-free loops that
LLVM vectorises (AVX2/AVX-512 where the CPU has them):

* ``error_model="numpy"`` everywhere: Numba's default inserts a zero-division
  check before every ``/``, a branch that stops vectorisation of the rational
  polynomials of Φ⁻¹ (their denominators are never zero);
* normal draws go through Φ⁻¹'s central region first; the tails (|q| > 0.425,
  about 15 %) are compacted *with their words* into contiguous buffers (a
  gather would not vectorise), run through log/sqrt/polynomial as one vector
  loop and scattered back; the far tail (only 64-bit variates reach it) is a
  rare scalar fix-up;
* stores are specialised per output format, and float16/bfloat16 rounding is
  a branch-free integer/float twin of the reference's rounding.

Measured effect on 1 core, 8192² float32: untruncated normal 125 → ~200
Melem/s, uniform 364 → ~650 Melem/s, float16/bfloat16 from 3× the cost of
float32 to no more than float32 (``bench/run.py`` has the record).
"""

from __future__ import annotations

import math
import threading
from typing import Any

import numba
import numpy as np
from numba import prange, types
from numba.extending import intrinsic

from . import _math as m
from ._plan import Plan, Sampler
from .stream import PHILOX_M0, PHILOX_M1, PHILOX_W0, PHILOX_W1, Stream, key_words

__all__ = ["fill", "set_threads"]

CHUNK = 1024

_jit = numba.njit(cache=True, inline="always", error_model="numpy")
_central = _jit(m.central)
_tail_near = _jit(m.tail_near)
_tail_far = _jit(m.tail_far)
_log_reduced = _jit(m.log_reduced)


@intrinsic
def _f64_bits(typingctx: Any, x: Any) -> Any:
    if x != types.float64:
        return None

    def codegen(context: Any, builder: Any, sig: Any, args: Any) -> Any:
        return builder.bitcast(args[0], context.get_value_type(types.int64))

    return types.int64(types.float64), codegen


@intrinsic
def _bits_f64(typingctx: Any, x: Any) -> Any:
    if x != types.int64:
        return None

    def codegen(context: Any, builder: Any, sig: Any, args: Any) -> Any:
        return builder.bitcast(args[0], context.get_value_type(types.float64))

    return types.float64(types.int64), codegen


@numba.njit(cache=True, inline="always", error_model="numpy")
def _log_fd(t: float) -> float:
    bits = _f64_bits(t)
    hx = bits >> 32
    k = (hx >> 20) - 1023
    hx = hx & 0x000FFFFF
    i = (hx + 0x95F64) & 0x100000
    k = k + (i >> 20)
    mb = ((hx | (i ^ 0x3FF00000)) << 32) | (bits & 0xFFFFFFFF)
    f = _bits_f64(mb) - 1.0
    return _log_reduced(f, np.float64(k))


@numba.njit(cache=True, inline="always", error_model="numpy")
def _round16v(x: float, ebits: int, mbits: int) -> np.uint16:
    """Round float64 to a 16-bit float (``ebits``, ``mbits``) as ``_engine_numpy.round_to_16`` does, branch free.

    The same bits for every float64 (NaN, infinities and subnormals included); LLVM vectorises it.

    Normal results: round-to-nearest-even of the float64 bit pattern at the target's
    last mantissa bit, the carry running into the exponent, then the exponent rebiased.
    Subnormal results (|x| < 2**emin): one float64 addition of the magic constant
    2**(emin - mbits + 52), whose ulp is the target's subnormal quantum, rounds |x| to
    a multiple of it (nearest-even); the low bits of the sum are the encoding.
    """
    bits = _f64_bits(x)
    sign = (bits >> 63) & 1
    a = bits & 0x7FFFFFFFFFFFFFFF
    bias = (1 << (ebits - 1)) - 1
    emin = 1 - bias
    s = 52 - mbits
    inf_enc = ((1 << ebits) - 1) << mbits
    norm = ((a + ((1 << (s - 1)) - 1) + ((a >> s) & 1)) >> s) - ((1023 - bias) << mbits)
    magic = _bits_f64(np.int64(emin - mbits + 52 + 1023) << 52)
    sub = _f64_bits(_bits_f64(a) + magic) - _f64_bits(magic)
    enc = sub if a < (np.int64(emin + 1023) << 52) else norm
    enc = min(enc, inf_enc)
    if a > 0x7FF0000000000000:  # NaN (never drawn; kept equal to the reference)
        enc = inf_enc | (1 << (mbits - 1))
    return np.uint16((sign << 15) | enc)


@numba.njit(cache=True, inline="always", error_model="numpy")
def _philox(blk: np.uint64, k0: np.uint64, k1: np.uint64, s0: np.uint64, s1: np.uint64) -> Any:
    mask = np.uint64(0xFFFFFFFF)
    c0 = blk & mask
    c1 = blk >> np.uint64(32)
    c2 = s0
    c3 = s1
    m0 = np.uint64(PHILOX_M0)
    m1 = np.uint64(PHILOX_M1)
    key0 = k0
    key1 = k1
    for rnd in range(10):
        if rnd > 0:
            key0 = (key0 + np.uint64(PHILOX_W0)) & mask
            key1 = (key1 + np.uint64(PHILOX_W1)) & mask
        p0 = m0 * c0
        p1 = m1 * c2
        n0 = (p1 >> np.uint64(32)) ^ c1 ^ key0
        n1 = p1 & mask
        n2 = (p0 >> np.uint64(32)) ^ c3 ^ key1
        n3 = p0 & mask
        c0, c1, c2, c3 = n0, n1, n2, n3
    return c0, c1, c2, c3


@numba.njit(cache=True, inline="always", error_model="numpy")
def _words_task(
    wbuf: Any, idx0: int, n: int, stride: int, wide: bool,
    k0: np.uint64, k1: np.uint64, s0: np.uint64, s1: np.uint64,
) -> int:
    """Fill ``wbuf`` with the words of n indices; return the offset of the first one."""
    if stride == 1:
        if wide:
            b0 = idx0 >> 1
            nb = ((idx0 + n - 1) >> 1) - b0 + 1
            for bi in range(nb):
                w0, w1, w2, w3 = _philox(np.uint64(b0 + bi), k0, k1, s0, s1)
                wbuf[2 * bi] = w0 | (w1 << np.uint64(32))
                wbuf[2 * bi + 1] = w2 | (w3 << np.uint64(32))
            return idx0 - 2 * b0
        b0 = idx0 >> 2
        nb = ((idx0 + n - 1) >> 2) - b0 + 1
        for bi in range(nb):
            w0, w1, w2, w3 = _philox(np.uint64(b0 + bi), k0, k1, s0, s1)
            wbuf[4 * bi] = w0
            wbuf[4 * bi + 1] = w1
            wbuf[4 * bi + 2] = w2
            wbuf[4 * bi + 3] = w3
        return idx0 - 4 * b0
    for j in range(n):
        idx = idx0 + j * stride
        if wide:
            w0, w1, w2, w3 = _philox(np.uint64(idx >> 1), k0, k1, s0, s1)
            if idx & 1:
                wbuf[j] = w2 | (w3 << np.uint64(32))
            else:
                wbuf[j] = w0 | (w1 << np.uint64(32))
        else:
            w0, w1, w2, w3 = _philox(np.uint64(idx >> 2), k0, k1, s0, s1)
            lane = idx & 3
            if lane == 0:
                wbuf[j] = w0
            elif lane == 1:
                wbuf[j] = w1
            elif lane == 2:
                wbuf[j] = w2
            else:
                wbuf[j] = w3
    return 0


@numba.njit(cache=True, inline="always", error_model="numpy")
def _u(w: np.uint64, wide: bool) -> float:
    if wide:
        return (np.float64(w >> np.uint64(11)) + 0.5) * 1.1102230246251565e-16
    return (np.float64(w) + 0.5) * 2.3283064365386963e-10


@numba.njit(cache=True, inline="always", error_model="numpy")
def _ub(w: np.uint64, wide: bool) -> float:
    if wide:
        return (np.float64(np.uint64(9007199254740991) - (w >> np.uint64(11))) + 0.5) * 1.1102230246251565e-16
    return (np.float64(np.uint64(4294967295) - w) + 0.5) * 2.3283064365386963e-10


@numba.njit(cache=True, inline="always", error_model="numpy")
def _tail_r(w: np.uint64, wide: bool, P: float, W: float, Q: float) -> Any:
    """(q, r) of a tail element (|q| > 0.425): r = sqrt(−log t), t its tail probability."""
    u = _u(w, wide)
    p = P + u * W
    q = p - 0.5
    tt = p if q < 0.0 else Q + _ub(w, wide) * W
    return q, math.sqrt(-_log_fd(tt))


@numba.njit(cache=True, inline="always", error_model="numpy")
def _normal_task(wbuf: Any, off: int, n: int, wide: bool, zbuf: Any, qbuf: Any, tidx: Any, tw: Any, zt: Any,
                 P: float, W: float, Q: float) -> None:
    """zbuf[:n] = Φ⁻¹ of the n variates, in branch-free passes LLVM vectorises.

    1. every element through the central region (its q kept);
    2. the tail elements' positions and words compacted (a store on every element,
       the count advanced by the comparison: no branch);
    3. the tails alone through log, sqrt and the near-tail polynomial;
    4. scattered back; the far tail (r > 5, variates below e⁻²⁵: only 64-bit ones
       reach it) recomputed in a scalar pass, as rare as it is.
    """
    for j in range(n):
        u = _u(wbuf[off + j], wide)
        q = (P + u * W) - 0.5
        qbuf[j] = q
        zbuf[j] = _central(q)
    nt = 0
    for j in range(n):
        tidx[nt] = j
        tw[nt] = wbuf[off + j]
        nt += abs(qbuf[j]) > 0.425
    far = False
    for k in range(nt):  # contiguous words: vectorised (a gather here is not)
        q, rr = _tail_r(tw[k], wide, P, W, Q)
        v = _tail_near(rr - 1.6)
        zt[k] = -v if q < 0.0 else v
        far |= rr > 5.0
    for k in range(nt):
        zbuf[tidx[k]] = zt[k]
    if far:
        for k in range(nt):
            q, rr = _tail_r(tw[k], wide, P, W, Q)
            if rr > 5.0:
                v = _tail_far(rr - 5.0)
                zbuf[tidx[k]] = -v if q < 0.0 else v


@numba.njit(cache=True, inline="always", error_model="numpy")
def _task(
    t: int, tpr: int, out: Any, starts: Any, run_len: int, stride: int, wide: bool, fmt: int,
    k0: np.uint64, k1: np.uint64, s0: np.uint64, s1: np.uint64,
    kind: int, loc: float, limit: float, std: float, a: float, b: float, P: float, W: float, Q: float,
    wbuf: Any, zbuf: Any, qbuf: Any, tidx: Any, tw: Any, zt: Any,
) -> None:
    """Task ``t``: at most CHUNK consecutive elements of one run, written to their slice of ``out``."""
    r = t // tpr
    c = t - r * tpr
    j0 = c * CHUNK
    n = min(CHUNK, run_len - j0)
    idx0 = starts[r] + j0 * stride
    o0 = r * run_len + j0
    off = _words_task(wbuf, idx0, n, stride, wide, k0, k1, s0, s1)
    if kind == 0:
        if fmt == 0:
            for j in range(n):
                out[o0 + j] = loc + limit * (2.0 * _u(wbuf[off + j], wide) - 1.0)
        elif fmt == 1:
            for j in range(n):
                out[o0 + j] = _round16v(loc + limit * (2.0 * _u(wbuf[off + j], wide) - 1.0), 5, 10)
        else:
            for j in range(n):
                out[o0 + j] = _round16v(loc + limit * (2.0 * _u(wbuf[off + j], wide) - 1.0), 8, 7)
    else:
        _normal_task(wbuf, off, n, wide, zbuf, qbuf, tidx, tw, zt, P, W, Q)
        if fmt == 0:
            for j in range(n):
                out[o0 + j] = loc + std * min(max(zbuf[j], a), b)
        elif fmt == 1:
            for j in range(n):
                out[o0 + j] = _round16v(loc + std * min(max(zbuf[j], a), b), 5, 10)
        else:
            for j in range(n):
                out[o0 + j] = _round16v(loc + std * min(max(zbuf[j], a), b), 8, 7)


@numba.njit(cache=True, parallel=True, error_model="numpy")
def _fill(
    out: Any, starts: Any, run_len: int, stride: int, wide: bool, fmt: int,
    k0: np.uint64, k1: np.uint64, s0: np.uint64, s1: np.uint64,
    kind: int, loc: float, limit: float, std: float, a: float, b: float, P: float, W: float, Q: float,
    nthreads: int,
) -> None:
    tpr = (run_len + CHUNK - 1) // CHUNK
    ntasks = len(starts) * tpr
    # one slab of consecutive tasks per pool thread, each with its scratch buffers allocated once
    # (L1-sized: CHUNK words); which thread draws a task never changes its bits
    nslabs = max(1, min(ntasks, nthreads))
    per = (ntasks + nslabs - 1) // nslabs
    for sl in prange(nslabs):
        wbuf = np.empty(CHUNK + 8, dtype=np.uint64)
        zbuf = np.empty(CHUNK, dtype=np.float64)
        qbuf = np.empty(CHUNK, dtype=np.float64)
        tidx = np.empty(CHUNK, dtype=np.int64)
        tw = np.empty(CHUNK, dtype=np.uint64)
        zt = np.empty(CHUNK, dtype=np.float64)
        for t in range(sl * per, min(ntasks, (sl + 1) * per)):
            _task(t, tpr, out, starts, run_len, stride, wide, fmt, k0, k1, s0, s1,
                  kind, loc, limit, std, a, b, P, W, Q, wbuf, zbuf, qbuf, tidx, tw, zt)


def set_threads(n: int) -> None:
    """Set the number of threads of Numba's pool used by the kernel."""
    numba.set_num_threads(n)


_launch_lock = threading.Lock()
_serialize: bool | None = None


def _must_serialize() -> bool:
    """True when kernel launches must not overlap.

    Numba's ``workqueue`` threading layer (its fallback when neither TBB nor
    OpenMP is available) aborts the whole process when two Python threads
    launch parallel kernels at once; launches are then serialized. The layer
    is only known after the first launch, which therefore takes the lock.
    """
    global _serialize
    if _serialize is None:
        try:
            _serialize = numba.threading_layer() == "workqueue"
        except ValueError:  # no parallel launch yet
            return True
    return _serialize


def fill(out: np.ndarray[Any, Any], plan: Plan, stream: Stream, sp: Sampler, fmt: int) -> None:
    """Fill the flat ``out`` with the plan's elements (see ``_engine_numpy.fill``).

    Safe to call from many threads at once (see :func:`_must_serialize`).
    """
    if plan.size == 0:
        return
    wide = out.dtype == np.float64
    k0, k1, s0, s1 = (np.uint64(v) for v in key_words(stream))
    args = (
        out, plan.starts, plan.run_len, plan.stride, wide, fmt, k0, k1, s0, s1,
        sp.kind, sp.loc, sp.limit, sp.std, sp.a, sp.b, sp.P, sp.W, sp.Q, numba.get_num_threads(),
    )
    if _must_serialize():
        with _launch_lock:
            _fill(*args)
    else:
        _fill(*args)

