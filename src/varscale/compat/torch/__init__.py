"""PyTorch facade: ``varscale.compat.torch.nn.init`` mirrors ``torch.nn.init``.

Porting means changing the import line::

    from varscale.compat.torch.nn import init   # was: from torch.nn import init

Importing this package does not import torch.

Example:
    >>> import numpy as np
    >>> from varscale.compat.torch.nn import init
    >>> init.xavier_uniform_(np.empty((3, 5)), seed=0).shape
    (3, 5)
"""

from __future__ import annotations

from . import nn

__all__ = ["nn"]
