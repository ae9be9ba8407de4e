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
