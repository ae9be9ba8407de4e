"""Framework facades: each framework's initializer API on varscale's stream.

Each submodule mirrors one framework's import path, names, signatures,
defaults, accepted spellings, fan rules, bounds and exception types, so that
porting code means changing the import line. Their random values come from
varscale's counter-based stream (not from the framework's generator) and are
returned as NumPy arrays.

Submodules are imported explicitly and never import one another: what they
share (seeds → streams, dtypes, fan rules, mode → n, the variance-scaling law
computed as the core computes it, presets, gains, tensor conversion) is the
private kit :mod:`varscale.compat._kit`, and the two TensorFlow facades share
``_tfdtype``. Importing this package, or any facade, imports no framework.

Example:
    >>> from varscale.compat.keras import initializers
    >>> initializers.HeNormal(seed=0)((3, 3)).shape
    (3, 3)
"""

from __future__ import annotations
