"""The stream in JAX: jit-able, vmappable, shardable, with a traced key; the same bits as the NumPy reference.

:func:`draw` computes ``full[region]`` of a tensor with ``jax.numpy``/``lax``
operations only, so it can run inside ``jax.jit`` (a traced key becomes the
stream key), under ``out_shardings`` (each device computes only the
elements of its shard: the counter is the element index, nothing is
communicated) and on any backend with 64-bit types.

**64-bit types without touching the user's setting.** The transform is
defined in float64 and Philox's products in 64 bits. :func:`draw` enters
``jax.enable_x64(True)`` (a context manager: thread-local, restored on exit)
for its own trace only and returns the requested dtype, so a program running
with ``jax_enable_x64`` off keeps it off. A backend without float64 (TPU) is
refused with a clear error rather than giving other bits.

**No rewrites that change bits.** The arithmetic is :mod:`varscale._math`'s,
written as plain ``+ - * /`` (no division by a constant, which XLA may turn
into a multiplication; powers of two only as multipliers) and IEEE ``sqrt``.
XLA's CPU compiler always allows LLVM to contract ``a*b + c`` into a fused
multiply-add (``AllowFPOpFusion = Fast``, measured here: half of the Φ⁻¹
evaluations differed in the last bit under ``jit``), and no XLA flag turns it
off; ``lax.optimization_barrier`` and ``reduce_precision`` do not stop it
(measured). :class:`_F` gives every product a second use, which LLVM does
not contract (see its docstring). Fast math (``--xla_cpu_enable_fast_math=true``,
off by default) reassociates and is not supported. The test suite runs the
engine jitted under several ``XLA_FLAGS`` settings and holds it bit-equal to
the reference. On GPU, LLVM's NVPTX backend fuses aggressively; the device
check script reports whether the bits hold there.

**Keys.** :func:`key_words` maps a JAX PRNG key (``jax.random.key(s)`` or a
raw ``uint32[2]`` key) to the stream's (key, stream id) words: the key's two
32-bit words are the 64-bit seed (low word second, as JAX's threefry key
data ``[hi, lo]`` is laid out, so ``jax.random.key(s)`` for ``s < 2**32``
gives varscale seed ``s``), and the stream id is 0 unless given.

**Why parts mirror the NumPy reference line by line.** Philox's rounds, the
uniform variates and the tails of Φ⁻¹ are the reference's algorithm
(:mod:`varscale._engine_numpy`) written again in ``jax.numpy``/``lax``
(traceable, with :class:`_F` guarding every product): the same steps in the
same order are what keeps the bits equal. What needs only operators (and a
``where``) is shared: the polynomials, the logarithm's reduction and the
rounding to 16-bit formats (:mod:`varscale._math`), the Philox constants
(:mod:`varscale.stream`).

Example:
    >>> import jax, numpy as np
    >>> import varscale as vs
    >>> from varscale._engine_jax import draw
    >>> init = vs.HeNormal(seed=3)
    >>> f = jax.jit(lambda k: draw((64, 32), "float32", init.sampler((64, 32)), k))
    >>> out = f(jax.random.key(3))
    >>> bool((np.asarray(out) == init((64, 32))).all())
    True
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from . import _math as m
from ._codes import Kind
from ._errors import InvalidArgumentError
from ._plan import Sampler, plan_region
from .stream import PHILOX_M0, PHILOX_M1, PHILOX_ROUNDS, PHILOX_W0, PHILOX_W1, Stream

__all__ = ["KeyWords", "draw", "key_words"]

_M32 = 0xFFFFFFFF
_SENTINEL = 0x7FF4D3AD5EED0001  # a signalling-NaN payload; IEEE arithmetic never returns it


class KeyWords:
    """Precomputed stream words (``uint32[4]``, maybe traced), accepted wherever a key is."""

    __slots__ = ("words",)

    def __init__(self, words: Any) -> None:
        self.words = words


def key_words(key: Any, stream: int = 0) -> Any:
    """The stream words ``uint32[4]`` = (k0, k1, s0, s1) for a :class:`varscale.Stream`, an int seed (a Python int
    or a traced integer scalar), or a JAX key.

    A JAX key (typed ``jax.random.key`` or raw ``uint32[2]``) may be traced. Its data ``[hi, lo]`` is the
    64-bit seed ``hi·2**32 + lo``: ``jax.random.key(s)`` maps to varscale seed ``s``.
    """
    import jax
    import jax.numpy as jnp

    if isinstance(key, KeyWords):
        return key.words
    if isinstance(key, Stream) or (isinstance(key, (int, np.integer)) and not isinstance(key, bool)):
        st = key if isinstance(key, Stream) else Stream(int(key), stream)
        return jnp.asarray([st.seed & _M32, st.seed >> 32, st.stream & _M32, st.stream >> 32], dtype=jnp.uint32)
    data = key
    if hasattr(key, "dtype") and jax.dtypes.issubdtype(key.dtype, jax.dtypes.prng_key):
        data = jax.random.key_data(key)
    data = jnp.asarray(data)
    if data.ndim == 0 and jnp.issubdtype(data.dtype, jnp.integer):
        # a (possibly traced) integer seed, e.g. an int passed through jax.jit
        v = data.astype(jnp.uint64)
        lo = (v & jnp.uint64(_M32)).astype(jnp.uint32)
        hi = (v >> jnp.uint64(32)).astype(jnp.uint32)
        s = jnp.asarray([stream & _M32, stream >> 32], dtype=jnp.uint32)
        return jnp.concatenate([lo[None], hi[None], s])
    if data.dtype != jnp.uint32 or data.ndim != 1 or data.shape[0] not in (2, 4):
        raise InvalidArgumentError(
            f"`key` must be a JAX PRNG key (jax.random.key or a uint32[2] raw key), an int seed or a "
            f"varscale.Stream; received a {data.dtype} array of shape {data.shape}."
        )
    if data.shape[0] == 4:  # an rbg key: words 2 and 3 are the stream id, as the JAX facade reads them
        return jnp.concatenate([data[1:2], data[0:1], data[3:4], data[2:3]])
    s = jnp.asarray([stream & _M32, stream >> 32], dtype=jnp.uint32)
    return jnp.concatenate([data[1:2], data[0:1], s])


def _check_backend() -> None:
    import os

    import jax

    flags = os.environ.get("XLA_FLAGS", "")
    if "xla_cpu_enable_fast_math=true" in flags.replace(" ", "").lower():
        raise InvalidArgumentError(
            "XLA_FLAGS enables --xla_cpu_enable_fast_math, which lets XLA reassociate float arithmetic: the "
            "JAX engine would not give the stream's bits. Unset it, or use the host engines."
        )
    backend = jax.default_backend()
    if backend == "tpu":
        raise InvalidArgumentError(
            "the JAX engine needs float64 and 64-bit integer arithmetic, which TPUs emulate or lack; draw on "
            "the CPU (jax.default_device(jax.devices('cpu')[0])) and transfer, or use the host engines. "
            "varscale never gives different bits silently."
        )


def _philox(blocks: Any, kw: Any) -> tuple[Any, Any, Any, Any]:
    import jax.numpy as jnp

    u64 = jnp.uint64
    c0 = blocks & u64(_M32)
    c1 = blocks >> u64(32)
    c2 = jnp.broadcast_to(kw[2].astype(u64), blocks.shape)
    c3 = jnp.broadcast_to(kw[3].astype(u64), blocks.shape)
    key0, key1 = kw[0].astype(u64), kw[1].astype(u64)
    m0, m1 = u64(PHILOX_M0), u64(PHILOX_M1)
    for rnd in range(PHILOX_ROUNDS):
        if rnd:
            key0 = (key0 + u64(PHILOX_W0)) & u64(_M32)
            key1 = (key1 + u64(PHILOX_W1)) & u64(_M32)
        p0 = m0 * c0
        p1 = m1 * c2
        c0, c1, c2, c3 = (p1 >> u64(32)) ^ c1 ^ key0, p1 & u64(_M32), (p0 >> u64(32)) ^ c3 ^ key1, p0 & u64(_M32)
    return c0, c1, c2, c3


def _uniforms(idx: Any, wide: bool, kw: Any) -> tuple[Any, Any]:
    import jax.numpy as jnp

    u64 = jnp.uint64
    if wide:
        w0, w1, w2, w3 = _philox(idx >> u64(1), kw)
        odd = (idx & u64(1)) == u64(1)
        lo = jnp.where(odd, w2, w0)
        hi = jnp.where(odd, w3, w1)
        k = ((hi << u64(32)) | lo) >> u64(11)
        u = (k.astype(jnp.float64) + 0.5) * 2.0**-53
        ub = ((u64(2**53 - 1) - k).astype(jnp.float64) + 0.5) * 2.0**-53
        return u, ub
    w0, w1, w2, w3 = _philox(idx >> u64(2), kw)
    lane = idx & u64(3)
    w = jnp.where(lane == 0, w0, jnp.where(lane == 1, w1, jnp.where(lane == 2, w2, w3)))
    u = (w.astype(jnp.float64) + 0.5) * 2.0**-32
    ub = ((u64(_M32) - w).astype(jnp.float64) + 0.5) * 2.0**-32
    return u, ub


class _F:
    """A JAX float64 array whose products are never contracted into a following add (no FMA).

    XLA's CPU compiler lets LLVM fuse ``a*b + c`` into one fused multiply-add ("it increases precision"),
    which changes the last bit against the reference. LLVM contracts only a product with a single use (on
    x86 and ARM), so each product that meets an add or a subtraction gets a second use:
    ``where(bits(p) == SENTINEL, p, p + c)`` with a NaN payload that arithmetic never produces — the same
    value for every input, but no longer contractible. The
    arithmetic stays :mod:`varscale._math`'s own source, run on these wrappers.
    """

    __slots__ = ("prod", "v")

    def __init__(self, v: Any, prod: bool = False) -> None:
        self.v = v
        self.prod = prod

    @staticmethod
    def _val(x: Any) -> tuple[Any, bool]:
        return (x.v, x.prod) if isinstance(x, _F) else (x, False)

    def _combine(self, other: Any, op: Any, reverse: bool) -> _F:
        import jax.numpy as jnp
        from jax import lax

        a, pa = self.v, self.prod
        b, pb = self._val(other)
        out = op(b, a) if reverse else op(a, b)
        for p, is_prod in ((a, pa), (b, pb)):
            if is_prod:
                # a second use of the product that no compiler can see through: its bits compared with one
                # NaN payload no arithmetic produces (LLVM folds isnan(x*c) into isnan(x): not enough)
                out = jnp.where(lax.bitcast_convert_type(p, jnp.int64) == _SENTINEL, p, out)
        return _F(out)

    def __add__(self, o: Any) -> _F:
        return self._combine(o, lambda x, y: x + y, False)

    def __radd__(self, o: Any) -> _F:
        return self._combine(o, lambda x, y: x + y, True)

    def __sub__(self, o: Any) -> _F:
        return self._combine(o, lambda x, y: x - y, False)

    def __rsub__(self, o: Any) -> _F:
        return self._combine(o, lambda x, y: x - y, True)

    def __mul__(self, o: Any) -> _F:
        return _F(self.v * self._val(o)[0], True)

    def __rmul__(self, o: Any) -> _F:
        return _F(self._val(o)[0] * self.v, True)

    def __truediv__(self, o: Any) -> _F:
        return _F(self.v / self._val(o)[0])

    def __rtruediv__(self, o: Any) -> _F:
        return _F(self._val(o)[0] / self.v)

    def __neg__(self) -> _F:
        return _F(-self.v, self.prod)


def _log_fd(t: Any) -> Any:
    import jax.numpy as jnp
    from jax import lax

    mbits, k = m.log_split(lax.bitcast_convert_type(t, jnp.int64))
    f = lax.bitcast_convert_type(mbits, jnp.float64) - 1.0
    return m.log_reduced(_F(f), _F(k.astype(jnp.float64))).v


def _normal_z(u: Any, ub: Any, sp: Sampler) -> Any:
    import jax.numpy as jnp

    p = (sp.P + _F(u) * sp.W).v
    q = p - 0.5
    z = m.central(_F(q)).v
    low = q < 0.0
    tail = jnp.abs(q) > m.SPLIT1
    # every element computes the tail branch too (no gather in a jitted program); the reference's
    # choice between the branches is reproduced by the same comparisons
    t = jnp.where(low, p, (sp.Q + _F(ub) * sp.W).v)
    t = jnp.where(tail, t, 0.5)  # keep the log's argument in range off the tail
    r = jnp.sqrt(-_log_fd(t))
    val = jnp.where(r <= m.SPLIT2, m.tail_near(_F(r - m.CONST2)).v, m.tail_far(_F(r - m.SPLIT2)).v)
    z = jnp.where(tail, jnp.where(low, -val, val), z)
    return jnp.minimum(jnp.maximum(z, sp.a), sp.b)


def _round16(x: Any, ebits: int, mbits: int) -> Any:
    import jax.numpy as jnp
    from jax import lax

    bits = lax.bitcast_convert_type(x, jnp.int64)
    return m.round16_bits(bits, ebits, mbits, jnp.where).astype(jnp.uint16)


def _indices(shape: tuple[int, ...], region: Any) -> tuple[Any, tuple[int, ...]]:
    """Flat C-order indices (uint64) of ``full[region]``, built from iotas (no host array of the region's size)."""
    import jax.numpy as jnp
    from jax import lax

    plan = plan_region(shape, region)
    out_shape = plan.out_shape
    if plan.size == 0:
        return jnp.zeros(out_shape, jnp.uint64), out_shape
    if region is None:
        return lax.iota(jnp.uint64, math.prod(shape)).reshape(shape), out_shape
    items = region if isinstance(region, tuple) else (region,)
    if any(it is Ellipsis for it in items):
        pos = next(i for i, it in enumerate(items) if it is Ellipsis)
        items = items[:pos] + (slice(None),) * (len(shape) - len(items) + 1) + items[pos + 1:]
    items = items + (slice(None),) * (len(shape) - len(items))
    strides = [math.prod(shape[i + 1:]) for i in range(len(shape))]
    idx: Any = jnp.zeros((), jnp.uint64)
    kept: list[int] = []
    for it, dim, stride in zip(items, shape, strides, strict=True):
        if isinstance(it, slice):
            start, stop, step = it.indices(dim)
            count = len(range(start, stop, step))
            axis = jnp.uint64(start) + lax.iota(jnp.int64, count).astype(jnp.uint64) * jnp.uint64(step % 2**64) \
                if step > 0 else jnp.uint64(start) - lax.iota(jnp.uint64, count) * jnp.uint64(-step)
            idx = idx[..., None] + axis * jnp.uint64(stride)
            kept.append(count)
        else:
            i = int(it) % dim
            idx = idx + jnp.uint64(i * stride)
    return idx.reshape(tuple(kept)), out_shape


def draw(shape: tuple[int, ...], dtype: Any, sampler: Sampler, key: Any, region: Any = None,
         stream: int = 0) -> Any:
    """``full[region]`` of the tensor of ``shape`` drawn with ``sampler`` from ``key``, as a ``jax.Array``.

    ``key``: a :class:`varscale.Stream`, an int seed, or a JAX key (may be traced: usable under ``jax.jit``,
    ``vmap`` and with ``out_shardings``). ``dtype``: float16, bfloat16, float32 or float64 (a float64 result
    needs ``jax_enable_x64`` on in the caller, as every float64 JAX array does).
    """
    import jax
    import jax.numpy as jnp

    from ._dtypes import resolve_dtype

    name = str(resolve_dtype(dtype)[0].name)
    _check_backend()
    with jax.enable_x64(True):
        kw = key_words(key, stream)
        idx, out_shape = _indices(shape, region)
        wide = name == "float64"
        u, ub = _uniforms(idx, wide, kw)
        if sampler.kind == Kind.UNIFORM:
            x = (sampler.loc + sampler.limit * (2.0 * _F(u) - 1.0)).v
        else:
            x = (sampler.loc + sampler.std * _F(_normal_z(u, ub, sampler))).v
        if name == "float16":
            out = jax.lax.bitcast_convert_type(_round16(x, 5, 10), jnp.float16)
        elif name == "bfloat16":
            out = jax.lax.bitcast_convert_type(_round16(x, 8, 7), jnp.bfloat16)
        elif name == "float32":
            out = x.astype(jnp.float32)
        else:
            out = x
        return out.reshape(out_shape)
