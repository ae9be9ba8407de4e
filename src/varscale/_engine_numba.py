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
* one compiled signature serves every dtype and distribution (the output
  format and the distribution are runtime arguments, tested outside the
  element loops), so the kernel compiles once per machine, not once per
  dtype; float16/bfloat16 rounding is a branch-free integer/float twin of
  the reference's rounding;
* no Numba threading layer: ``_tasks`` (``nogil``) runs one slab of tasks per
  plain Python thread (see ``_run_slabs``). Measured against the former
  ``parallel=True``/``prange`` kernel: the same throughput, 3 s less compile,
  and no threading-layer hazards: GNU OpenMP (the ``omp`` layer) kills
  ``fork()``ed children of a process that used it, ``workqueue`` aborts on
  concurrent launches, ``tbb`` needs the ``tbb`` package.

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
from numba import types
from numba.extending import intrinsic

from . import _math as m
from ._codes import Format, Kind
from ._plan import Plan, Sampler
from .stream import (
    PHILOX_M0,
    PHILOX_M1,
    PHILOX_ROUNDS,
    PHILOX_W0,
    PHILOX_W1,
    Stream,
    key_words,
)

__all__ = ["compile_kernel", "fill", "is_cached", "is_compiled"]

CHUNK = 1024
# the codes as plain ints, frozen into the kernel as constants (the kernel's arguments are int(kind), int(fmt))
_UNIFORM = int(Kind.UNIFORM)
_NATIVE = int(Format.NATIVE)
_F16 = int(Format.F16)
MIN_TASKS_PER_THREAD = 128  # measured: below 128 tasks (131 072 elements) a new thread costs more than it saves

_jit = numba.njit(cache=True, inline="always", error_model="numpy")
_central = _jit(m.central)
_tail_near = _jit(m.tail_near)
_tail_far = _jit(m.tail_far)
_log_reduced = _jit(m.log_reduced)
_log_split = _jit(m.log_split)


def _bitcast(src: Any, dst: Any) -> Any:
    """A Numba intrinsic reinterpreting a ``src`` scalar's bits as ``dst`` (float64 <-> int64)."""

    def typer(typingctx: Any, x: Any) -> Any:
        if x != src:
            return None

        def codegen(context: Any, builder: Any, sig: Any, args: Any) -> Any:
            return builder.bitcast(args[0], context.get_value_type(dst))

        return dst(src), codegen

    typer.__name__ = f"_bitcast_{src}_{dst}"  # a name of its own per intrinsic
    return intrinsic(typer)


_f64_bits = _bitcast(types.float64, types.int64)
_bits_f64 = _bitcast(types.int64, types.float64)


@numba.njit(cache=True, inline="always", error_model="numpy")
def _log_fd(t: float) -> float:
    mb, k = _log_split(_f64_bits(t))
    return _log_reduced(_bits_f64(mb) - 1.0, np.float64(k))


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
    for rnd in range(PHILOX_ROUNDS):
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
    t: int, tpr: int, out64: Any, out32: Any, out16: Any, starts: Any, run_len: int, stride: int,
    wide: bool, fmt: int, k0: np.uint64, k1: np.uint64, s0: np.uint64, s1: np.uint64,
    kind: int, loc: float, limit: float, std: float, a: float, b: float, P: float, W: float, Q: float,
    wbuf: Any, zbuf: Any, qbuf: Any, tidx: Any, tw: Any, zt: Any,
) -> None:
    """Task ``t``: at most CHUNK consecutive elements of one run, written to their slice of the output.

    The output is ``out64`` (float64), ``out32`` (float32) or ``out16`` (float16/bfloat16 bits),
    whichever ``fmt``/``wide`` select; the other two are empty. One compiled signature serves
    every dtype: the choice is a runtime branch outside the element loops.
    """
    r = t // tpr
    c = t - r * tpr
    j0 = c * CHUNK
    n = min(CHUNK, run_len - j0)
    idx0 = starts[r] + j0 * stride
    o0 = r * run_len + j0
    off = _words_task(wbuf, idx0, n, stride, wide, k0, k1, s0, s1)
    if kind == _UNIFORM:
        if fmt == _NATIVE:
            if wide:
                for j in range(n):
                    out64[o0 + j] = loc + limit * (2.0 * _u(wbuf[off + j], True) - 1.0)
            else:
                for j in range(n):
                    out32[o0 + j] = loc + limit * (2.0 * _u(wbuf[off + j], False) - 1.0)
        elif fmt == _F16:
            for j in range(n):
                out16[o0 + j] = _round16v(loc + limit * (2.0 * _u(wbuf[off + j], wide) - 1.0), 5, 10)
        else:
            for j in range(n):
                out16[o0 + j] = _round16v(loc + limit * (2.0 * _u(wbuf[off + j], wide) - 1.0), 8, 7)
    else:
        _normal_task(wbuf, off, n, wide, zbuf, qbuf, tidx, tw, zt, P, W, Q)
        if fmt == _NATIVE:
            if wide:
                for j in range(n):
                    out64[o0 + j] = loc + std * min(max(zbuf[j], a), b)
            else:
                for j in range(n):
                    out32[o0 + j] = loc + std * min(max(zbuf[j], a), b)
        elif fmt == _F16:
            for j in range(n):
                out16[o0 + j] = _round16v(loc + std * min(max(zbuf[j], a), b), 5, 10)
        else:
            for j in range(n):
                out16[o0 + j] = _round16v(loc + std * min(max(zbuf[j], a), b), 8, 7)


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _tasks(
    t0: int, t1: int, tpr: int, out64: Any, out32: Any, out16: Any, starts: Any, run_len: int, stride: int,
    wide: bool, fmt: int, k0: np.uint64, k1: np.uint64, s0: np.uint64, s1: np.uint64,
    kind: int, loc: float, limit: float, std: float, a: float, b: float, P: float, W: float, Q: float,
) -> None:
    """Tasks ``t0 .. t1-1`` in order on the calling thread, with scratch buffers allocated once.

    The serial kernel (used as is after ``fork()``) and the body of each parallel slab.
    """
    wbuf = np.empty(CHUNK + 8, dtype=np.uint64)
    zbuf = np.empty(CHUNK, dtype=np.float64)
    qbuf = np.empty(CHUNK, dtype=np.float64)
    tidx = np.empty(CHUNK, dtype=np.int64)
    tw = np.empty(CHUNK, dtype=np.uint64)
    zt = np.empty(CHUNK, dtype=np.float64)
    for t in range(t0, t1):
        _task(t, tpr, out64, out32, out16, starts, run_len, stride, wide, fmt, k0, k1, s0, s1,
              kind, loc, limit, std, a, b, P, W, Q, wbuf, zbuf, qbuf, tidx, tw, zt)


def _run_slabs(nslabs: int, per: int, ntasks: int, args: tuple[Any, ...]) -> None:
    """One slab of consecutive tasks per thread: ``nslabs - 1`` new threads and the caller's.

    ``_tasks`` releases the GIL, so the slabs run in parallel on plain Python
    threads: no Numba threading layer is involved, nothing outlives the call,
    and a ``fork()``ed child (or any number of concurrent callers) is as safe
    as the parent. Which thread draws a task never changes its bits.
    """

    def slab(sl: int) -> None:
        _tasks(sl * per, min(ntasks, (sl + 1) * per), *args)

    workers = [threading.Thread(target=slab, args=(sl,), daemon=True) for sl in range(1, nslabs)]
    for w in workers:
        w.start()
    try:
        slab(0)
    finally:
        for w in workers:
            w.join()


def _args(out: np.ndarray[Any, Any], plan: Plan, stream: Stream, sp: Sampler, fmt: Format) -> tuple[Any, ...]:
    """The kernel's arguments after ``(t0, t1)`` / ``(nslabs, per, ntasks)``: one type signature for every dtype."""
    empty64, empty32, empty16 = _EMPTY
    starts = plan.starts
    if starts.dtype != np.int64 or not starts.flags.c_contiguous or not starts.flags.writeable:
        starts = np.array(starts, dtype=np.int64)  # keep the one compiled signature
    k0, k1, s0, s1 = (np.uint64(v) for v in key_words(stream))
    tpr = (plan.run_len + CHUNK - 1) // CHUNK
    return (
        int(tpr),
        out if out.dtype == np.float64 else empty64,
        out if out.dtype == np.float32 else empty32,
        out if out.dtype == np.uint16 else empty16,
        starts, int(plan.run_len), int(plan.stride), bool(out.dtype == np.float64), int(fmt), k0, k1, s0, s1,
        int(sp.kind), float(sp.loc), float(sp.limit), float(sp.std), float(sp.a), float(sp.b),
        float(sp.P), float(sp.W), float(sp.Q),
    )


_EMPTY = (np.empty(0, np.float64), np.empty(0, np.float32), np.empty(0, np.uint16))


def _signature() -> tuple[Any, ...]:
    """The Numba type signature of ``_tasks`` (the same for every dtype and distribution)."""
    from ._plan import normal_sampler, plan_region
    from .stream import derive_stream

    rest = tuple(numba.typeof(v) for v in _args(_EMPTY[1], plan_region((1,), None), derive_stream(0, "w"),
                                                 normal_sampler(0.0, 1.0), Format.NATIVE))
    return (types.int64, types.int64, *rest)


def is_compiled() -> bool:
    """True when the kernel is compiled or loaded in this process (no compile left)."""
    return _signature() in _tasks.overloads


def is_cached() -> bool:
    """True when Numba's on-disk cache holds the kernel for this machine (loading it takes no compile).

    Reads the cache's index the way Numba does (its stamp check included); any
    surprise in Numba's internals reads as "not cached".
    """
    try:
        index = _tasks._cache._cache_file._load_index()
        magic = _tasks.targetctx.codegen().magic_tuple()
        sig = _signature()
        return any(key[0] == sig and key[1] == magic for key in index)
    except Exception:  # an internal layout we do not know: assume a compile
        return False


def compile_kernel() -> None:
    """Compile the kernel for its one signature (or load it from Numba's cache) without running it."""
    _tasks.compile(_signature())


def fill(out: np.ndarray[Any, Any], plan: Plan, stream: Stream, sp: Sampler, fmt: Format) -> None:
    """Fill the flat ``out`` with the plan's elements (see ``_engine_numpy.fill``).

    On ``numba.get_num_threads()`` threads (see :func:`_run_slabs`); safe to call
    from many threads at once and in ``fork()`` children.
    """
    if plan.size == 0:
        return
    args = _args(out, plan, stream, sp, fmt)
    ntasks = len(plan.starts) * args[0]
    nslabs = max(1, min(ntasks // MIN_TASKS_PER_THREAD, numba.get_num_threads()))
    if nslabs == 1:
        _tasks(0, ntasks, *args)
    else:
        _run_slabs(nslabs, (ntasks + nslabs - 1) // nslabs, ntasks, args)
