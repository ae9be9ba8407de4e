"""The varscale random stream, version 1: how a seed becomes bits.

Every random value varscale produces is a pure function of
``(seed, stream id, flat element index)``, so any element of any tensor can be
produced alone, by any thread, on any machine, and any shard of a tensor is an
exact slice of the whole.

**Stream version 1** (``STREAM_VERSION = 1``):

Generator
    Philox4x32-10 (Salmon et al., SC'11), as in Random123: the multipliers
    ``0xD2511F53`` and ``0xCD9E8D57``, the Weyl key increments ``0x9E3779B9``
    and ``0xBB67AE85``, ten rounds, the first round using the unbumped key.
Key
    The 64-bit seed split into two 32-bit words, low word first.
Counter
    ``c0, c1`` = block index (low, high); ``c2, c3`` = stream id (low, high).
    The stream id is 0 unless derived with :func:`derive_stream`, which takes
    the first 8 bytes (little endian) of
    ``SHA-256(b"varscale-stream-v1\\x00" + name.encode("utf-8"))``.
Element → bits
    The full tensor is numbered in C order. For outputs of 32 bits or fewer,
    element ``i`` takes word ``i mod 4`` of block ``i div 4``. For float64,
    element ``i`` takes words ``2j`` (low) and ``2j+1`` (high), ``j = i mod 2``,
    of block ``i div 2`` as one 64-bit value.
Uniform variate
    32-bit word ``w``: ``u = (w + 0.5)·2⁻³²`` and ``ū = 1 − u =
    (2³² − 1 − w + 0.5)·2⁻³²``, both exact. 64-bit value ``v``: ``k = v >> 11``,
    ``u = fl(k + 0.5)·2⁻⁵³`` and ``ū = fl(2⁵³ − 1 − k + 0.5)·2⁻⁵³`` (``fl`` =
    rounding to float64; ``ū`` is exact when ``u ≥ 1/2`` and ``u`` when
    ``u < 1/2``).
Transforms (float64, rounded once to the output dtype)
    * uniform: ``x = loc + limit·(2u − 1)`` (``loc = 0`` for every
      variance-scaling draw; ``U(lo, hi)`` has ``loc = (lo + hi)/2``,
      ``limit = (hi − lo)/2``);
    * normal truncated to ``[a, b]`` (in std units; untruncated is ``a = −∞,
      b = +∞``): with ``P = Φ(a)``, ``W = Φ(b) − Φ(a)``, ``Q = 1 − Φ(b)``
      (each correctly rounded, computed in Python with ``decimal``),
      ``p = P + u·W`` and ``q = p − 0.5``. If ``|q| ≤ 0.425``,
      ``z = central(q)``; otherwise the tail probability is ``t = p`` when
      ``q < 0`` and ``t = Q + ū·W`` when ``q ≥ 0`` (so the upper tail keeps
      full precision), ``r = sqrt(−log t)``, ``z = ∓tail(r)``. Then
      ``z = min(max(z, a), b)`` and ``x = loc + std·z`` (``loc`` the mean, 0
      for every variance-scaling draw).
Φ⁻¹
    Wichura's AS 241 (PPND16) with its three regions, evaluated by Horner's
    rule in the order written in ``varscale._math``, no fused multiply-add.
    ``log`` is fdlibm's reduction ``t = 2ᵏ·(1 + f)`` (``f`` in
    ``[√2/2 − 1, √2 − 1)``, found with bit operations) and its degree-14
    polynomial.
Rounding
    float32: IEEE round-to-nearest-even from float64. float16 and bfloat16:
    round-to-nearest-even *directly* from float64 (no double rounding through
    float32), subnormals and overflow to infinity included.

Implementations: the vectorised NumPy reference (``engine="numpy"``, the
definition of the bits) and the compiled multi-core Numba kernel
(``engine="numba"``). The test suite holds them equal bit for bit and pins
golden values; any change of the bits is a new stream version.

Example:
    >>> import varscale as vs
    >>> from varscale.stream import philox4x32, element_words
    >>> [hex(w) for w in philox4x32((0, 0, 0, 0), (0, 0))]
    ['0x6627e8d5', '0xe169c58d', '0xbc57ac4c', '0x9b00dbd8']
    >>> int(element_words(0, [1])[0])
    3781805453
"""

from __future__ import annotations

import hashlib
import numbers
import secrets
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from ._errors import InvalidArgumentError

__all__ = [
    "STREAM_VERSION",
    "Stream",
    "derive_stream",
    "element_words",
    "element_words64",
    "philox4x32",
    "resolve_seed",
]

STREAM_VERSION = 1

PHILOX_M0 = 0xD2511F53
PHILOX_M1 = 0xCD9E8D57
PHILOX_W0 = 0x9E3779B9
PHILOX_W1 = 0xBB67AE85
PHILOX_ROUNDS = 10

_MASK32 = np.uint64(0xFFFFFFFF)
_SEED_LIMIT = 2**64


class Stream(NamedTuple):
    """A (seed, stream id) pair: the key and the upper counter words of a stream.

    Use it wherever a seed is accepted. ``derive_stream(seed, name)`` builds
    one per tensor name.
    """

    seed: int
    stream: int


def _check_u64(value: Any, argument: str) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(
            f"`{argument}` must be None or an int in [0, 2**64); received {argument}={value!r} "
            f"of type {type(value).__name__}."
        )
    v = int(value)
    if not 0 <= v < _SEED_LIMIT:
        raise InvalidArgumentError(
            f"`{argument}` must be None or an int in [0, 2**64); received {argument}={value!r}."
        )
    return v


def resolve_seed(seed: Any, argument: str = "seed") -> Stream | None:
    """Validate a seed: None, an int in [0, 2**64), or a :class:`Stream`.

    Returns None for ``None`` (fresh entropy per call), else a ``Stream``.
    """
    if seed is None:
        return None
    if isinstance(seed, Stream):
        return Stream(_check_u64(seed.seed, argument), _check_u64(seed.stream, f"{argument}.stream"))
    return Stream(_check_u64(seed, argument), 0)


def fresh_stream() -> Stream:
    """A stream keyed by 64 bits of fresh OS entropy."""
    return Stream(secrets.randbits(64), 0)


def derive_stream(seed: int, name: str) -> Stream:
    """Return the per-tensor stream for ``name`` under ``seed``.

    The stream id is the first 8 bytes (little endian) of
    ``SHA-256(b"varscale-stream-v1\\x00" + name.encode())``; values therefore
    depend on the name only, not on construction order or device.

    Example:
        >>> import varscale as vs
        >>> s = vs.derive_stream(0, "encoder.layer0.weight")
        >>> s.seed, hex(s.stream)
        (0, '0xe3cf95fcfddc1482')
    """
    key = _check_u64(seed, "seed")
    if not isinstance(name, str):
        raise TypeError(f"`name` must be a string; received name={name!r} of type {type(name).__name__}.")
    try:
        data = name.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate ("\ud800") has no UTF-8 form, so no stream id
        raise InvalidArgumentError(
            f"`name` must be valid Unicode text that UTF-8 can encode (no lone surrogates); received name={name!r}."
        ) from None
    digest = hashlib.sha256(b"varscale-stream-v1\x00" + data).digest()
    return Stream(key, int.from_bytes(digest[:8], "little"))


def key_words(stream: Stream) -> tuple[int, int, int, int]:
    """(k0, k1, s0, s1): key words and stream-id words, low word first."""
    return (
        stream.seed & 0xFFFFFFFF,
        stream.seed >> 32,
        stream.stream & 0xFFFFFFFF,
        stream.stream >> 32,
    )


def philox_blocks(
    blocks: npt.NDArray[np.uint64], k0: int, k1: int, s0: int, s1: int
) -> tuple[npt.NDArray[np.uint64], ...]:
    """Philox4x32-10 on counters (block low, block high, s0, s1); four uint64 arrays of 32-bit words."""
    c0 = blocks & _MASK32
    c1 = blocks >> np.uint64(32)
    c2 = np.full_like(blocks, s0)
    c3 = np.full_like(blocks, s1)
    m0 = np.uint64(PHILOX_M0)
    m1 = np.uint64(PHILOX_M1)
    key0, key1 = k0, k1
    for rnd in range(PHILOX_ROUNDS):
        if rnd:
            key0 = (key0 + PHILOX_W0) & 0xFFFFFFFF
            key1 = (key1 + PHILOX_W1) & 0xFFFFFFFF
        p0 = m0 * c0
        p1 = m1 * c2
        c0, c1, c2, c3 = (
            (p1 >> np.uint64(32)) ^ c1 ^ np.uint64(key0),
            p1 & _MASK32,
            (p0 >> np.uint64(32)) ^ c3 ^ np.uint64(key1),
            p0 & _MASK32,
        )
    return c0, c1, c2, c3


def philox4x32(counter: Sequence[int], key: Sequence[int]) -> tuple[int, int, int, int]:
    """Raw Philox4x32-10 of one counter (4 words) under one key (2 words)."""
    c0, c1, c2, c3 = (int(c) & 0xFFFFFFFF for c in counter)
    k0, k1 = (int(k) & 0xFFFFFFFF for k in key)
    block = np.array([c0 | (c1 << 32)], dtype=np.uint64)
    out = philox_blocks(block, k0, k1, c2, c3)
    return int(out[0][0]), int(out[1][0]), int(out[2][0]), int(out[3][0])


def element_words(seed: int | Stream, indices: Any) -> npt.NDArray[np.uint32]:
    """The 32-bit word each flat element index takes (outputs of ≤ 32 bits)."""
    st = resolve_seed(seed)
    assert st is not None
    idx = np.asarray(indices, dtype=np.uint64)
    words = philox_blocks(idx >> np.uint64(2), *key_words(st))
    lane = idx & np.uint64(3)
    out = np.choose(lane.astype(np.intp), words)
    return np.asarray(out, dtype=np.uint32)


def element_words64(seed: int | Stream, indices: Any) -> npt.NDArray[np.uint64]:
    """The 64-bit value each flat element index takes (float64 outputs)."""
    st = resolve_seed(seed)
    assert st is not None
    idx = np.asarray(indices, dtype=np.uint64)
    w0, w1, w2, w3 = philox_blocks(idx >> np.uint64(1), *key_words(st))
    odd = (idx & np.uint64(1)).astype(bool)
    lo = np.where(odd, w2, w0)
    hi = np.where(odd, w3, w1)
    return np.asarray(lo | (hi << np.uint64(32)), dtype=np.uint64)
