"""PyTorch's recommended gains (``torch.nn.init.calculate_gain``)."""

from __future__ import annotations

import math
import numbers

from ._errors import InvalidArgumentError, unknown_name

__all__ = ["NONLINEARITIES", "calculate_gain"]

_LINEAR = (
    "linear",
    "conv1d",
    "conv2d",
    "conv3d",
    "conv_transpose1d",
    "conv_transpose2d",
    "conv_transpose3d",
    "sigmoid",
)
NONLINEARITIES = (*_LINEAR, "tanh", "relu", "leaky_relu", "selu")


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """Return the recommended gain for a nonlinearity, as PyTorch defines it.

    ========================= ==============================
    nonlinearity              gain
    ========================= ==============================
    linear, conv*, sigmoid    1
    tanh                      5/3
    relu                      sqrt(2)
    leaky_relu                sqrt(2 / (1 + slope**2)), slope = param or 0.01
    selu                      3/4
    ========================= ==============================

    The variance-scaling ``scale`` equivalent to a PyTorch gain is ``gain**2``.

    Example:
        >>> import varscale as vs
        >>> round(vs.calculate_gain("leaky_relu", 0.2), 6)
        1.38675
    """
    if not isinstance(nonlinearity, str):
        raise TypeError(
            f"`nonlinearity` must be a string; received nonlinearity={nonlinearity!r} "
            f"of type {type(nonlinearity).__name__}."
        )
    if nonlinearity in _LINEAR:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        value: object = param  # callers pass anything; checked here
        if value is None:
            slope = 0.01
        elif isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise InvalidArgumentError(
                f"`param` must be a finite number (the negative slope) for leaky_relu; received param={param!r}."
            )
        else:
            slope = float(value)
        if not math.isfinite(slope):
            raise InvalidArgumentError(
                f"`param` must be a finite number (the negative slope) for leaky_relu; received param={param!r}."
            )
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise unknown_name("nonlinearity", nonlinearity, NONLINEARITIES)
