"""varscale: variance-scaling weight initialization on a counter-based stream.

Glorot/Xavier, He/Kaiming, LeCun and every ``scale``/``mode``/``distribution``
mix, with each framework's semantics, the same bits on any number of threads
and any sharding, and a compiled multi-core kernel.

Example:
    >>> import varscale as vs
    >>> w = vs.HeNormal(seed=0)((3, 3, 64, 128))
    >>> w.shape, str(w.dtype)
    ((3, 3, 64, 128), 'float32')
"""

from __future__ import annotations

from ._basic import Constant, Normal, Ones, Orthogonal, TruncatedNormal, Uniform, Zeros
from ._errors import (
    BackendUnavailableError,
    InvalidArgumentError,
    UnknownNameError,
    VarscaleError,
)
from ._fans import Layout, compute_fans
from ._gain import calculate_gain
from ._initializer import Description, VarianceScaling
from ._parse import ParseError, Spec, parse
from ._presets import (
    GlorotNormal,
    GlorotUniform,
    HeNormal,
    HeUniform,
    LecunNormal,
    LecunUniform,
)
from ._registry import deserialize, get, serialize
from ._translate import Translation, translate
from .stream import STREAM_VERSION, Stream, derive_stream

__version__ = "0.1.0"

__all__ = [
    "STREAM_VERSION",
    "BackendUnavailableError",
    "Constant",
    "Description",
    "GlorotNormal",
    "GlorotUniform",
    "HeNormal",
    "HeUniform",
    "InvalidArgumentError",
    "Layout",
    "LecunNormal",
    "LecunUniform",
    "Normal",
    "Ones",
    "Orthogonal",
    "ParseError",
    "Spec",
    "Stream",
    "Translation",
    "TruncatedNormal",
    "Uniform",
    "UnknownNameError",
    "VarianceScaling",
    "VarscaleError",
    "Zeros",
    "__version__",
    "calculate_gain",
    "compute_fans",
    "derive_stream",
    "deserialize",
    "get",
    "parse",
    "serialize",
    "translate",
]


def __dir__() -> list[str]:
    return list(__all__)
