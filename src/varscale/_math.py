"""Arithmetic shared by both engines of the stream: Φ⁻¹ and its logarithm.

Every function here uses only ``+ - * /`` (and, in the callers, ``sqrt`` and
bit operations) in a fixed order, written as plain expressions so that the
same source works on NumPy arrays (the reference engine) and, compiled with
``numba.njit``, on scalars (the fast engine). No fused multiply-add: NumPy
never fuses, and Numba does not contract without ``fastmath``; the test
suite holds the two engines equal bit for bit.

Φ⁻¹ is Wichura's algorithm AS 241 (PPND16), accurate to about 1e-16
relative in float64. Its logarithm is the fdlibm ``__ieee754_log`` reduction
and polynomial (the general branch, without fdlibm's small-argument special
cases, which our inputs p ≤ 0.075 never reach).

The constants Φ(a) of the truncation bounds are computed once in Python with
``decimal`` at a precision that makes the float64 result correctly rounded,
so they are the same on every machine (``math.erfc`` comes from the C
library and may differ in the last bit).
"""

from __future__ import annotations

import decimal
import functools
import math
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")

# AS 241 PPND16, region |q| <= 0.425: x = q * A(r) / B(r), r = 0.180625 - q*q
A0, A1, A2, A3 = 3.3871328727963666080e0, 1.3314166789178437745e2, 1.9715909503065514427e3, 1.3731693765509461125e4
A4, A5, A6, A7 = 4.5921953931549871457e4, 6.7265770927008700853e4, 3.3430575583588128105e4, 2.5090809287301226727e3
B1, B2, B3, B4 = 4.2313330701600911252e1, 6.8718700749205790830e2, 5.3941960214247511077e3, 2.1213794301586595867e4
B5, B6, B7 = 3.9307895800092710610e4, 2.8729085735721942674e4, 5.2264952788528545610e3
# r = sqrt(-log p) <= 5: x = C(r - 1.6) / D(r - 1.6)
C0, C1, C2, C3 = 1.42343711074968357734e0, 4.63033784615654529590e0, 5.76949722146069140550e0, 3.64784832476320460504e0
C4, C5, C6, C7 = 1.27045825245236838258e0, 2.41780725177450611770e-1, 2.27238449892691845833e-2, 7.74545014278341407640e-4
D1, D2, D3, D4 = 2.05319162663775882187e0, 1.67638483018380384940e0, 6.89767334985100004550e-1, 1.48103976427480074590e-1
D5, D6, D7 = 1.51986665636164571966e-2, 5.47593808499534494600e-4, 1.05075007164441684324e-9
# r > 5: x = E(r - 5) / F(r - 5)
E0, E1, E2, E3 = 6.65790464350110377720e0, 5.46378491116411436990e0, 1.78482653991729133580e0, 2.96560571828504891230e-1
E4, E5, E6, E7 = 2.65321895265761230930e-2, 1.24266094738807843860e-3, 2.71155556874348757815e-5, 2.01033439929228813265e-7
F1, F2, F3, F4 = 5.99832206555887937690e-1, 1.36929880922735805310e-1, 1.48753612908506148525e-2, 7.86869131145613259100e-4
F5, F6, F7 = 1.84631831751005468180e-5, 1.42151175831644588870e-7, 2.04426310338993978564e-15

SPLIT1 = 0.425
SPLIT2 = 5.0
CONST1 = 0.180625
CONST2 = 1.6

# fdlibm e_log.c
LN2_HI = 6.93147180369123816490e-01
LN2_LO = 1.90821492927058770002e-10
LG1, LG2, LG3, LG4 = 6.666666666666735130e-01, 3.999999999940941908e-01, 2.857142874366239149e-01, 2.222219843214978396e-01
LG5, LG6, LG7 = 1.818357216161805012e-01, 1.531383769920937332e-01, 1.479819860511658591e-01

#: Standard deviation of a standard normal truncated to [-2, 2] (Keras, TF).
TRUNC_STD_2 = 0.87962566103423978


def central(q: T) -> T:
    """Φ⁻¹(0.5 + q) for |q| <= 0.425 (AS 241 region 1)."""
    r: Any = CONST1 - q * q  # type: ignore[operator]
    num = (((((((A7 * r + A6) * r + A5) * r + A4) * r + A3) * r + A2) * r + A1) * r + A0)
    den = (((((((B7 * r + B6) * r + B5) * r + B4) * r + B3) * r + B2) * r + B1) * r + 1.0)
    return q * num / den  # type: ignore[no-any-return]


def tail_near(r: T) -> T:
    """-Φ⁻¹(p) for sqrt(-log p) = r + 1.6 <= 5 (AS 241 region 2); ``r`` already shifted."""
    s: Any = r
    num = (((((((C7 * s + C6) * s + C5) * s + C4) * s + C3) * s + C2) * s + C1) * s + C0)
    den = (((((((D7 * s + D6) * s + D5) * s + D4) * s + D3) * s + D2) * s + D1) * s + 1.0)
    return num / den  # type: ignore[no-any-return]


def tail_far(r: T) -> T:
    """-Φ⁻¹(p) for sqrt(-log p) = r + 5 > 5 (AS 241 region 3); ``r`` already shifted."""
    s: Any = r
    num = (((((((E7 * s + E6) * s + E5) * s + E4) * s + E3) * s + E2) * s + E1) * s + E0)
    den = (((((((F7 * s + F6) * s + F5) * s + F4) * s + F3) * s + F2) * s + F1) * s + 1.0)
    return num / den  # type: ignore[no-any-return]


def log_split(bits: T) -> tuple[T, T]:
    """fdlibm's argument reduction of a positive normal float64 ``x = 2**k * (1 + f)`` given as its int64 bits:
    the int64 bits of ``1 + f`` (in [sqrt(2)/2, sqrt(2))) and ``k``, for :func:`log_reduced`.

    Only shifts, masks and integer ``+ -``: the same source runs on NumPy and JAX int64 arrays, torch int64
    tensors and (compiled) Numba int64 scalars; each engine reinterprets the bits as float64 its own way.
    """
    b: Any = bits
    hx = b >> 32
    k = (hx >> 20) - 1023
    hx = hx & 0x000FFFFF
    i = (hx + 0x95F64) & 0x100000
    k = k + (i >> 20)
    return ((hx | (i ^ 0x3FF00000)) << 32) | (b & 0xFFFFFFFF), k


def round16_bits(bits: T, ebits: int, mbits: int, where: Callable[[Any, Any, Any], Any]) -> T:
    """The 16-bit float encoding (sign, ``ebits``, ``mbits``; as int64) of float64 values given as their int64
    bits, rounded once to nearest even: every float64 (zeros, subnormal results, overflow to inf, NaN).

    Only operators on int64 arrays and ``where(cond, x, y)`` (``np.where``, ``torch.where``, ``jnp.where``,
    taking Python ints too): the same source runs in the NumPy, torch and JAX engines; each casts the result
    to its 16-bit storage.
    """
    b: Any = bits
    sign = (b >> 63) & 1
    a = b & 0x7FFFFFFFFFFFFFFF
    bias = (1 << (ebits - 1)) - 1
    inf_enc = ((1 << ebits) - 1) << mbits
    ef = a >> 52
    mant = a & ((1 << 52) - 1)
    e = where(ef == 0, -1022, ef - 1023)
    sig = where(ef == 0, mant, mant | (1 << 52))
    emin = 1 - bias
    s = (52 - mbits) + where(e < emin, emin - e, 0)
    zero = s >= 55
    s = where(zero, 55, s)
    q = sig >> s
    one = a * 0 + 1  # int64 ones: 1 << s elementwise
    rem = sig & ((one << s) - 1)
    half = one << (s - 1)
    up = (rem > half) | ((rem == half) & ((q & 1) == 1))
    q = where(up, q + 1, q)
    enc = where(e >= emin, ((e + bias - 1) << mbits) + q, q)
    enc = where(zero, 0, enc)
    enc = where(enc > inf_enc, inf_enc, enc)
    nan = a > 0x7FF0000000000000
    enc = where(a >= 0x7FF0000000000000, inf_enc | where(nan, 1 << (mbits - 1), 0), enc)
    enc = where(a == 0, 0, enc)
    return (sign << 15) | enc  # type: ignore[no-any-return]


def log_reduced(f: T, dk: T) -> T:
    """log(2**k * (1 + f)) for f in [sqrt(2)/2 - 1, sqrt(2) - 1] (fdlibm general branch)."""
    ff: Any = f
    s = ff / (2.0 + ff)
    z = s * s
    w = z * z
    t1 = w * (LG2 + w * (LG4 + w * LG6))
    t2 = z * (LG1 + w * (LG3 + w * (LG5 + w * LG7)))
    big_r = t2 + t1
    hfsq = 0.5 * ff * ff
    return dk * LN2_HI - ((hfsq - (s * (hfsq + big_r) + dk * LN2_LO)) - ff)  # type: ignore[no-any-return,operator]


# ---------------------------------------------------------------------------
# Exact normal CDF constants (machine independent), for the truncation bounds.

_CTX_EXTRA = 40


@functools.cache
def _pi(prec: int) -> decimal.Decimal:
    with decimal.localcontext() as ctx:
        ctx.prec = prec + 5
        # Machin-free recipe from the decimal documentation.
        three = decimal.Decimal(3)
        lasts, t, s, n, na, d, da = decimal.Decimal(0), three, three, 1, 0, 0, 24
        while s != lasts:
            lasts = s
            n, na = n + na, na + 8
            d, da = d + da, da + 32
            t = (t * n) / d
            s += t
        return +s


def _erfc_decimal(z: decimal.Decimal, prec: int) -> decimal.Decimal:
    """erfc(z) for z >= 0 by the Taylor series of erf at a precision covering the cancellation."""
    if z == 0:
        return decimal.Decimal(1)
    with decimal.localcontext() as ctx:
        ctx.prec = prec
        z2 = z * z
        term = z
        total = z
        n = 0
        eps = decimal.Decimal(10) ** (-(prec - 5))
        while True:
            n += 1
            term = -term * z2 / n
            add = term / (2 * n + 1)
            total += add
            if abs(add) < eps * abs(total) and n > 2:
                break
        erf = 2 * total / _pi(prec).sqrt()
        return 1 - erf


def _phi_decimal(x: float) -> decimal.Decimal:
    """Φ(x) as a Decimal with at least 30 correct significant digits."""
    if x <= -40.0:
        return decimal.Decimal(0)
    if x >= 40.0:
        return decimal.Decimal(1)
    # The series of erf(z), z = |x|/sqrt(2), cancels about 0.434·x² digits and
    # erfc(z) ~ exp(-x²/2) needs another 0.217·x² to keep 30 significant ones.
    prec = _CTX_EXTRA + 30 + int(0.66 * x * x + 1)
    with decimal.localcontext() as ctx:
        ctx.prec = prec
        z = abs(decimal.Decimal(x)) / decimal.Decimal(2).sqrt()
        tail = _erfc_decimal(z, prec) / 2  # Φ(-|x|)
        return tail if x < 0 else 1 - tail


@functools.lru_cache(maxsize=256)
def normal_cdf(x: float) -> float:
    """Φ(x) correctly rounded to float64 (Φ(-inf) = 0, Φ(inf) = 1).

    Computed with ``decimal`` so every machine gets the same bits.
    """
    if math.isnan(x):
        raise ValueError("normal_cdf of NaN")
    return float(_phi_decimal(x))


@functools.lru_cache(maxsize=256)
def truncation_constants(a: float, b: float) -> tuple[float, float, float]:
    """Return (Φ(a), Φ(b) − Φ(a), 1 − Φ(b)) for a < b, each correctly rounded."""
    if not a < b:
        raise ValueError(f"truncation bounds must satisfy a < b; received a={a!r}, b={b!r}")
    pa = _phi_decimal(a)
    pb = _phi_decimal(b)
    with decimal.localcontext() as ctx:
        ctx.prec = 1000
        return float(pa), float(pb - pa), float(1 - pb)


# ---------------------------------------------------------------------------
# The standard deviation of a truncated standard normal, accurate for every cut.
#
# The textbook ``1 + (aφ(a) − bφ(b))/Z − ((φ(a) − φ(b))/Z)²`` cancels: for a
# narrow cut [−c, c] it is 1 − (1 − c²/3 + …), which loses every digit once c
# is below ~1e-8 (the std of ``trunc_normal_(w, std=1e8)``, a = −2, b = 2).
# Here the variance is the variance about the *mode* m (0 when the interval
# holds 0, else the nearer bound), Var = E[(X−m)²] − E[X−m]². The law is
# unimodal about m, so X − m = U·V with U uniform on [0, 1] (Khinchine) and
# E[X−m]² ≤ 3·Var: the subtraction loses at most two bits. Each moment is a
# sum of positive terms, computed relative to the interval's scale so that
# nothing underflows for tiny widths (the width²/12 limit comes out exactly).

_SQRT_HALF_PI = math.sqrt(math.pi / 2.0)
_SERIES_MAX = 3.0  # below: the positive series; above: erf, which no longer cancels
_TAIL_EXPONENT = 50.0  # the tail quadrature stops where the density is e^-50 of its top
_GL_NODES, _GL_WEIGHTS = (tuple(float(v) for v in arr) for arr in __import__("numpy").polynomial.legendre.leggauss(24))


def _series(c: float, first: float, k: int) -> float:
    """e^{−c²/2}·Σ tᵢ for the positive terms t₀ = ``first``, tᵢ = tᵢ₋₁·c²/(2(k+i)+1), summed to 1e-17."""
    c2 = c * c
    term = total = first
    while term > 1e-17 * total:
        k += 1
        term *= c2 / (2 * k + 1)
        total += term
    return math.exp(-c2 / 2.0) * total


def _g0_rel(c: float) -> float:
    """(∫₀^c e^{−x²/2} dx) / c for 0 < c < inf; 1 at c = 0."""
    if c < _SERIES_MAX:
        # e^{−c²/2} Σ_{k≥0} c^{2k}/(2k+1)!!  (positive terms; Abramowitz & Stegun 7.1.6)
        return _series(c, 1.0, 0)
    return _SQRT_HALF_PI * math.erf(c / math.sqrt(2.0)) / c


def _g2_rel(c: float) -> float:
    """(∫₀^c x² e^{−x²/2} dx) / c³ for 0 < c < inf; 1/3 at c = 0."""
    if c < _SERIES_MAX:
        # integrating by parts: e^{−c²/2} Σ_{k≥1} c^{2k−2}/(2k+1)!!
        return _series(c, 1.0 / 3.0, 1)
    return (_SQRT_HALF_PI * math.erf(c / math.sqrt(2.0)) - c * math.exp(-c * c / 2.0)) / (c * c * c)


def _one_minus_exp_rel(d: float) -> float:
    """(1 − e^{−d})/d for d >= 0 (1 at d = 0)."""
    return 1.0 if d == 0.0 else -math.expm1(-d) / d


def _straddling_std(lo: float, hi: float) -> float:
    """Std of N(0, 1) cut to [lo, hi] with lo <= 0 <= hi, lo < hi (bounds may be infinite)."""
    c1, c2 = -lo, hi
    if math.isinf(c1) or math.isinf(c2):
        # M_k = ∫ x^k e^{−x²/2} over [lo, hi], no scaling needed (one side is a whole half)
        def half(c: float) -> tuple[float, float]:  # (∫₀^c e^{−x²/2}, ∫₀^c x² e^{−x²/2})
            if math.isinf(c):
                return _SQRT_HALF_PI, _SQRT_HALF_PI
            return (c * _g0_rel(c), c * c * c * _g2_rel(c)) if c > 0 else (0.0, 0.0)

        (a0, a2), (b0, b2) = half(c1), half(c2)
        m0, m2 = a0 + b0, a2 + b2
        m1 = math.exp(-c1 * c1 / 2.0) - math.exp(-c2 * c2 / 2.0)
        var = m2 / m0 - (m1 / m0) ** 2
        return math.sqrt(max(var, 0.0))
    h = max(c1, c2)
    r1, r2 = c1 / h, c2 / h
    # the moments over h^(k+1): M0/h, M1/h², M2/h³
    m0 = (r1 * _g0_rel(c1) if c1 > 0 else 0.0) + (r2 * _g0_rel(c2) if c2 > 0 else 0.0)
    m2 = (r1**3 * _g2_rel(c1) if c1 > 0 else 0.0) + (r2**3 * _g2_rel(c2) if c2 > 0 else 0.0)
    # M1 = e^{−c1²/2} − e^{−c2²/2} = e^{−c_small²/2}·(1 − e^{−d}), d = (c_big − c_small)(c_big + c_small)/2
    small, big, sign = (c1, c2, 1.0) if c1 <= c2 else (c2, c1, -1.0)
    rs, rb = small / h, big / h
    d = (big - small) * (big + small) / 2.0
    m1 = sign * math.exp(-small * small / 2.0) * (rb - rs) * (rb + rs) / 2.0 * _one_minus_exp_rel(d)
    var_rel = m2 / m0 - (m1 / m0) ** 2
    return h * math.sqrt(max(var_rel, 0.0))


def _tail_std(lo: float, hi: float) -> float:
    """Std of N(0, 1) cut to [lo, hi] with 0 < lo < hi (hi may be infinite).

    With u = x − lo the density is ∝ e^{−lo·u − u²/2} on [0, hi − lo], decreasing;
    it is integrated where it exceeds e^{−50} of its top, [0, L], by composite
    Gauss–Legendre in t = u/L (each panel spans at most 6 in the exponent).
    """
    width = hi - lo
    reach = 2.0 * _TAIL_EXPONENT / (lo + math.sqrt(lo * lo + 2.0 * _TAIL_EXPONENT))  # lo·L + L²/2 = 50
    length = min(width, reach)
    a = lo * length  # exponent: a·t + b·t², t in [0, 1]
    b = length * length / 2.0
    panels = max(1, math.ceil((a + 2.0 * b) / 6.0))
    k0 = k1 = k2 = 0.0
    for p in range(panels):
        t0, t1 = p / panels, (p + 1) / panels
        half, mid = (t1 - t0) / 2.0, (t1 + t0) / 2.0
        for x, w in zip(_GL_NODES, _GL_WEIGHTS, strict=True):
            t = mid + half * x
            f = w * half * math.exp(-(a * t + b * t * t))
            k0 += f
            k1 += f * t
            k2 += f * t * t
    var_rel = k2 / k0 - (k1 / k0) ** 2
    return length * math.sqrt(max(var_rel, 0.0))


def truncated_normal_std(alpha: float, beta: float) -> float:
    """Standard deviation of a standard normal truncated to ``[alpha, beta]``.

    ``alpha < beta`` are the bounds in std units (±inf allowed). Accurate to a
    few ulps for every interval: narrow ones (the std tends to
    ``(beta − alpha)/sqrt(12)``, never 0), far tails, one-sided and two-sided.

    Example:
        >>> round(truncated_normal_std(-2.0, 2.0), 15)
        0.87962566103424
        >>> round(truncated_normal_std(-1e-8, 1e-8) * 3 ** 0.5 / 1e-8, 12)  # the uniform limit: half-width/sqrt(3)
        1.0
    """
    alpha, beta = float(alpha), float(beta)
    if math.isnan(alpha) or math.isnan(beta) or not alpha < beta:
        raise ValueError(f"truncation bounds must satisfy alpha < beta; received alpha={alpha!r}, beta={beta!r}")
    if alpha >= 0.0 or beta <= 0.0:
        lo, hi = (alpha, beta) if alpha >= 0.0 else (-beta, -alpha)  # the law of −X has the same std
        if lo == 0.0:
            return _straddling_std(0.0, hi)
        return _tail_std(lo, hi)
    return _straddling_std(alpha, beta)
