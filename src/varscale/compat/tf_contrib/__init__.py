"""``tf.contrib`` facade: :mod:`varscale.compat.tf_contrib.layers`.

Port ``tf.contrib.layers.variance_scaling_initializer(...)`` and
``tf.contrib.layers.xavier_initializer(...)`` by importing them from here.

Example:
    >>> from varscale.compat.tf_contrib import layers
    >>> layers.xavier_initializer(seed=0)([4, 5]).shape
    (4, 5)
"""

from __future__ import annotations

from . import layers

__all__ = ["layers"]
