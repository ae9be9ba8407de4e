"""Keras 3 facade: :mod:`varscale.compat.keras.initializers`.

Port ``keras.initializers.HeNormal(seed=1)`` and friends by importing
``initializers`` from here. Importing it does not import Keras.

Example:
    >>> from varscale.compat.keras import initializers
    >>> initializers.get("he_normal").get_config()
    {'seed': None, 'input_axes': None, 'output_axes': None}
"""

from __future__ import annotations

from . import initializers

__all__ = ["initializers"]
