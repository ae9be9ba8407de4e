"""``varscale.compat.torch.nn``: holds :mod:`.init`, the ``torch.nn.init`` mirror.

Example:
    >>> from varscale.compat.torch.nn import init
    >>> init.calculate_gain("tanh")
    1.6666666666666667
"""

from __future__ import annotations

from . import init

__all__ = ["init"]
