"""The integer codes the engines share: a sampler's kind and an output's rounding format.

Both are :class:`enum.IntEnum` so that the compiled kernel receives plain ints
(``int(kind)``, ``int(fmt)``: one Numba signature for every law and dtype)
while the Python side is typed. They live here, below :mod:`varscale._plan`
and :mod:`varscale._dtypes`, so that neither imports the other for them.
"""

from __future__ import annotations

import enum

__all__ = ["Format", "Kind"]


class Kind(enum.IntEnum):
    """The per-element transform of a :class:`varscale._plan.Sampler`."""

    UNIFORM = 0  #: ``loc + limit·(2u − 1)``
    NORMAL = 1  #: ``loc + std·z``, ``z`` the (truncated) standard normal quantile of ``u``


class Format(enum.IntEnum):
    """How a float64 value is stored in the output: directly or rounded to 16-bit bits.

    Example:
        >>> from varscale._codes import Format
        >>> int(Format.BF16), Format(1).name
        (2, 'F16')
    """

    NATIVE = 0  #: float32 / float64 written directly
    F16 = 1  #: IEEE half, stored as uint16 bits
    BF16 = 2  #: bfloat16, stored as uint16 bits
