"""A Keras initializer as varscale's equivalent, and the fan axes of an ``EinsumDense`` equation.

:func:`from_keras` maps Keras 3's initializers (by their config) to the core
classes; :func:`einsum_axes` reads which kernel axes an ``EinsumDense``
equation contracts and produces, as Keras' ``EinsumDense.build`` does. Public
through :mod:`varscale.keras`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import keras
import numpy as np

from ._basic import Constant, Normal, Ones, Orthogonal, TruncatedNormal, Uniform, Zeros
from ._errors import InvalidArgumentError
from ._fans import Layout
from ._initializer import VarianceScaling

__all__ = ["axes_layout", "einsum_axes", "from_keras"]


# -- Keras initializers → varscale ----------------------------------------------------------------------------
def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def from_keras(init: Any, *, where: str = "`init`", layout: str | Layout = "tf") -> Any:
    """The varscale core initializer equivalent to the Keras 3 initializer ``init`` (seedless).

    ``keras.initializers.VarianceScaling`` and its presets become
    :class:`varscale.VarianceScaling` with the same scale, mode and
    distribution (and, when Keras 3.15's ``input_axes``/``output_axes`` are
    both given, a :class:`varscale.Layout` with those axes; any other axis
    counts in neither fan, as in Keras); ``RandomNormal`` → :class:`varscale.Normal`,
    ``RandomUniform`` → :class:`varscale.Uniform`, ``TruncatedNormal(mean,
    stddev)`` → :class:`varscale.TruncatedNormal` cut at ``mean ± 2·stddev``,
    ``Zeros``/``Ones``/``Constant`` → the constants, ``Orthogonal(gain)`` →
    :class:`varscale.Orthogonal` in the TF layout. The Keras seed is dropped.
    The classes of varscale's Keras facade (``varscale.compat.keras.initializers``,
    subclasses of Keras' own) map as the Keras classes they mirror.

    Raises:
        InvalidArgumentError: any other initializer (``Identity``, ``STFT``, a
            subclass that overrides ``__call__``, a plain callable), naming
            ``where``.

    Example:
        >>> import keras
        >>> from varscale.keras import from_keras
        >>> from_keras(keras.initializers.HeNormal()).get_config()["distribution"]
        'truncated_normal'
        >>> from_keras(keras.initializers.TruncatedNormal(stddev=0.02))
        TruncatedNormal(mean=0.0, std=0.02, a=-0.04, b=0.04, seed=None)
    """
    ki = keras.initializers
    cls = type(init)
    label = _snake(cls.__name__)
    out: Any
    facade = cls.__module__.startswith("varscale.compat.keras")  # varscale's Keras facade: Keras' own classes
    if isinstance(init, ki.VarianceScaling) and (cls.__call__ is ki.VarianceScaling.__call__ or facade):
        in_axes = getattr(init, "input_axes", None)
        out_axes = getattr(init, "output_axes", None)
        lay: str | Layout = layout
        if in_axes is not None and out_axes is not None:
            lay = axes_layout(in_axes, out_axes, where)
        out = VarianceScaling(float(init.scale), str(init.mode), str(init.distribution), layout=lay)
        if cls is not ki.VarianceScaling:
            out._label = label
        return out
    if cls is ki.RandomNormal:
        out = Normal(float(init.mean), float(init.stddev))
    elif cls is ki.RandomUniform:
        out = Uniform(float(init.minval), float(init.maxval))
    elif cls is ki.TruncatedNormal:
        m, s = float(init.mean), float(init.stddev)
        out = TruncatedNormal(m, s, m - 2.0 * s, m + 2.0 * s)
        out._label = f"truncated_normal(mean={m:.6g}, stddev={s:.6g})"
        return out
    elif cls is ki.Zeros:
        return Zeros()
    elif cls is ki.Ones:
        return Ones()
    elif cls is ki.Constant:
        value = np.asarray(init.value)
        if value.ndim != 0:
            raise InvalidArgumentError(
                f"{where}: keras.initializers.Constant with a non-scalar value {init.value!r} has no varscale "
                f"equivalent; add a rule for this weight (None leaves it as Keras built it)."
            )
        return Constant(float(value))
    elif cls is ki.Orthogonal:
        out = Orthogonal(float(init.gain), None, layout if isinstance(layout, str) else "tf")
    else:
        kind = f"{cls.__module__}.{cls.__qualname__}" if isinstance(init, ki.Initializer) else repr(init)
        raise InvalidArgumentError(
            f"{where}: the Keras initializer {kind} has no varscale equivalent (known: VarianceScaling and its "
            f"Glorot/He/Lecun presets, RandomNormal, RandomUniform, TruncatedNormal, Zeros, Ones, Constant, "
            f"Orthogonal); add a rule for this weight, or None to leave it as Keras built it."
        )
    return out


def axes_layout(in_axes: Sequence[int], out_axes: Sequence[int], where: str, rank: int | None = None) -> Layout:
    ins, outs = tuple(int(a) for a in in_axes), tuple(int(a) for a in out_axes)
    if not ins or not outs:
        raise InvalidArgumentError(
            f"{where}: Keras gives this kernel input_axes={list(ins)} and output_axes={list(outs)}; a fan over no "
            f"axis (Keras takes it as 1) has no varscale layout. Add a rule for this weight."
        )
    batch: tuple[int, ...] = ()
    if rank is not None:
        used = {a % rank for a in ins + outs}
        batch = tuple(a for a in range(rank) if a not in used)
    return Layout(in_axis=ins, out_axis=outs, batch_axis=batch)


def einsum_axes(equation: str) -> tuple[list[int], list[int]]:
    """The kernel's (input axes, output axes) of a Keras ``EinsumDense`` equation, as Keras 3 computes them.

    A kernel axis whose letter appears in the output is an output axis;
    otherwise (the contracted letters of the input) an input axis
    (``keras/src/layers/core/einsum_dense.py``, ``_analyze_split_string``).

    Example:
        >>> from varscale.keras import einsum_axes
        >>> einsum_axes("abc,cde->abde")   # MultiHeadAttention's query projection
        ([0], [1, 2])
        >>> einsum_axes("abcd,cde->abe")   # its output projection
        ([0, 1], [2])
    """
    text = re.sub(r"\.\.\.", "0", equation.replace(" ", ""))
    for pattern in ("([a-zA-Z]+),([a-zA-Z]+)->([a-zA-Z]+)", "0([a-zA-Z]+),([a-zA-Z]+)->0([a-zA-Z]+)",
                    "([a-zA-Z]{2,})0,([a-zA-Z]+)->([a-zA-Z]+)0"):
        match = re.match(pattern, text)
        if match:
            break
    else:
        raise InvalidArgumentError(f"not an EinsumDense equation Keras reads: {equation!r}.")
    input_spec, weight_spec, output_spec = match.group(1), match.group(2), match.group(3)
    ins: list[int] = []
    outs: list[int] = []
    for i, dim in enumerate(weight_spec):
        if dim in output_spec:
            outs.append(i)
        elif dim in input_spec:
            ins.append(i)
        else:
            raise InvalidArgumentError(f"EinsumDense equation {equation!r}: weight axis {dim!r} matches nothing.")
    return ins, outs
