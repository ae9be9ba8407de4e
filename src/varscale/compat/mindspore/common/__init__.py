"""``varscale.compat.mindspore.common``: holds :mod:`.initializer`.

Example:
    >>> from varscale.compat.mindspore.common import initializer
    >>> initializer.initializer(1.5, 2, as_numpy=True).tolist()
    [1.5, 1.5]
"""

from __future__ import annotations

from . import initializer

__all__ = ["initializer"]
