"""MindSpore facade: ``varscale.compat.mindspore.common.initializer`` mirrors
``mindspore.common.initializer``.

Porting means changing the import line::

    from varscale.compat.mindspore.common.initializer import initializer, HeUniform
    # was: from mindspore.common.initializer import initializer, HeUniform

Importing this package does not import mindspore.

Example:
    >>> from varscale.compat.mindspore.common.initializer import initializer
    >>> initializer("he_uniform", (4, 3), seed=0, as_numpy=True).shape
    (4, 3)
"""

from __future__ import annotations

from . import common

__all__ = ["common"]
