"""``varscale.compat.jax.nn``: holds :mod:`.initializers`, the ``jax.nn.initializers`` mirror.

Example:
    >>> from varscale.compat.jax.nn import initializers
    >>> initializers.glorot_uniform()(1, (2, 3)).dtype.name
    'float32'
"""

from __future__ import annotations

from . import initializers

__all__ = ["initializers"]
