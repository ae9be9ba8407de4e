"""JAX facade: ``varscale.compat.jax.nn.initializers`` mirrors ``jax.nn.initializers``.

Porting means changing the import line::

    from varscale.compat.jax.nn import initializers   # was: from jax.nn import initializers

Importing this package does not import jax.

Example:
    >>> from varscale.compat.jax.nn import initializers
    >>> initializers.lecun_normal()(0, (16, 8)).shape
    (16, 8)
"""

from __future__ import annotations

from . import nn

__all__ = ["nn"]
