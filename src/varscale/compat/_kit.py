"""The plumbing every framework facade shares, written once.

Each facade (:mod:`varscale.compat.tf1`, ``tf_contrib.layers``,
``keras.initializers``, ``torch.nn.init``, ``jax.nn.initializers``,
``mindspore.common.initializer``) mirrors one framework's names, signatures,
messages and quirks; what they have in common lives here:

* **the law** of a variance-scaling initializer, computed the core's way
  (:class:`varscale.VarianceScaling`): ``variance = scale / n`` (``n``
  clamped by ``max(1, n)`` where the framework clamps), ``std =
  sqrt(variance)``, ``σ' = std / TRUNC_STD_2`` for the corrected truncated
  normal and ``limit = sqrt(3·variance)`` for the uniform
  (:func:`variance_law`, :func:`law_sampler`). A facade and the core drawing
  the same law from the same stream therefore give the same bits
  (``tests/conformance/test_facade_one_law.py``);
* **mode → n** (:func:`select_n`), the fan rules of the ``(*kernel, in,
  out)`` and ``(out, in, *kernel)`` layouts (:func:`tf_fans`,
  :func:`torch_fans`), the six presets (:data:`PRESETS`, from
  :data:`varscale._presets.PRESETS`);
* **gains** (:func:`gain`, :func:`gain_scale`): the values of
  :func:`varscale.calculate_gain`'s table, with torch's or MindSpore's
  checks and messages (MindSpore's table is torch's without ``'selu'``);
* **seeds → streams** (:func:`int_stream`, :func:`tf_seed_stream`,
  :func:`stream_or_fresh`), **dtypes → storage** (:data:`FLOATING`,
  :func:`np_dtype`), **tensor conversion** (:func:`as_tensor`) and argument
  coercion (:func:`scalar`).

Nothing here imports a framework until a function that needs it runs.

Example:
    >>> from varscale.compat import _kit
    >>> law = _kit.variance_law(2.0, _kit.select_n("fan_in", 576, 1152), "uniform")
    >>> round(law["limit"], 6), _kit.PRESETS["he_normal"]
    (0.102062, (2.0, 'fan_in', 'truncated_normal'))
"""

from __future__ import annotations

import importlib
import math
import numbers
from collections.abc import Callable, Sequence
from typing import Any, Literal

import numpy as np

from .. import _dtypes
from .._errors import missing_extra
from .._gain import NONLINEARITIES
from .._gain import calculate_gain as _core_gain
from .._math import TRUNC_STD_2
from .._plan import Sampler, normal_sampler, uniform_sampler
from .._presets import PRESETS as _CORE_PRESETS
from ..frameworks.mindspore import GAINS as MINDSPORE_GAINS
from ..stream import Stream, fresh_stream

__all__ = [
    "FLOATING",
    "GAIN_TABLES",
    "PRESETS",
    "TRUNC_STD_2",
    "GainTable",
    "Twins",
    "as_tensor",
    "gain",
    "gain_scale",
    "int_stream",
    "kaiming_param",
    "law_sampler",
    "mean_sampler",
    "np_dtype",
    "scalar",
    "select_n",
    "stream_or_fresh",
    "tf_fans",
    "tf_seed_stream",
    "torch_fans",
    "torch_mode_fan",
    "torch_orthogonal",
    "variance_law",
    "xavier_param",
]

#: The floating dtypes varscale draws, by name.
FLOATING = ("float16", "bfloat16", "float32", "float64")

#: The six presets: name → (scale, mode, distribution), as the core's preset classes declare them.
PRESETS: dict[str, tuple[float, str, str]] = {
    name: (cls._scale, cls._mode, cls._distribution) for name, cls in _CORE_PRESETS.items()
}

# -- seeds → streams -----------------------------------------------------------------------------------


def int_stream(seed: int) -> Stream:
    """The stream of a framework's int seed: ``Stream(seed mod 2**64, 0)`` (any sign, any size)."""
    return Stream(int(seed) % 2**64, 0)


def tf_seed_stream(seed: Any) -> Stream | None:
    """A TF op seed (None or a Python int of any sign) as a stream; None stays None (fresh per call)."""
    if seed is None:
        return None
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise TypeError(f"`seed` must be None or a Python integer; received seed={seed!r}.")
    return int_stream(int(seed))


def stream_or_fresh(stream: Stream | None) -> Stream:
    """``stream``, or 64 bits of fresh OS entropy when it is None (an unseeded initializer's call)."""
    return stream if stream is not None else fresh_stream()


# -- dtypes → storage, tensors --------------------------------------------------------------------------


def np_dtype(name: str) -> np.dtype[Any]:
    """The NumPy dtype of a framework dtype name (``bfloat16`` and ``float8_*`` from ml_dtypes)."""
    if name == "bfloat16":
        return np.dtype(_dtypes.BFLOAT16)
    if name in ("float8_e4m3fn", "float8_e5m2"):
        import ml_dtypes

        float8: np.dtype[Any] = np.dtype(getattr(ml_dtypes, name))
        return float8
    return np.dtype(name)


def as_tensor(array: np.ndarray[Any, Any], framework: Literal["tensorflow", "keras"], dtype: str | None = None) -> Any:
    """``array`` as a ``tf.Tensor`` or a tensor of Keras' backend, importing the framework only now."""
    try:
        module = importlib.import_module(framework)
    except ImportError as err:
        raise missing_extra(framework, framework, "as_tensor=True") from err
    if framework == "keras":
        return module.ops.convert_to_tensor(array, dtype=dtype)
    return module.convert_to_tensor(array)


def scalar(value: Any, argument: str, cls: str) -> float:
    """A Python scalar, NumPy scalar or 0-d tensor as a finite float (TF's and Keras' scalar arguments)."""
    try:
        out = float(value)
    except (TypeError, ValueError):
        raise TypeError(
            f"`{argument}` of {cls} must be a scalar; received {argument}={value!r} of type {type(value).__name__}."
        ) from None
    if not math.isfinite(out):
        raise ValueError(f"`{argument}` of {cls} must be finite; received {argument}={value!r}.")
    return out


# -- fans, mode → n, the law ------------------------------------------------------------------------------


def tf_fans(shape: Sequence[int]) -> tuple[int, int]:
    """Keras' and TF's ``compute_fans`` of a ``(*kernel, in, out)`` shape, unvalidated, as ints.

    Rank 0 gives (1, 1), rank 1 ``(k,)`` gives (k, k), rank 2 ``(s0, s1)``; rank ≥ 3 multiplies both by the
    receptive field ``prod(shape[:-2])``.
    """
    if len(shape) < 1:
        return 1, 1
    if len(shape) == 1:
        return int(shape[0]), int(shape[0])
    receptive = 1
    for dim in shape[:-2]:
        receptive *= dim
    return int(shape[-2] * receptive), int(shape[-1] * receptive)


def torch_fans(shape: Sequence[int], error: str) -> tuple[int, int]:
    """torch's and MindSpore's fans of an ``(out, in, *kernel)`` shape; ``ValueError(error)`` below rank 2."""
    if len(shape) < 2:
        raise ValueError(error)
    receptive = 1
    for dim in shape[2:]:
        receptive *= dim
    return shape[1] * receptive, shape[0] * receptive


def torch_mode_fan(mode: str, fans: Callable[[], tuple[int, int]], message: str) -> int:
    """torch's and MindSpore's ``_calculate_correct_fan``: ``mode`` lowercased and checked first
    (``ValueError(message.format(mode=mode, valid=["fan_in", "fan_out"]))``), then ``fans()``."""
    mode = mode.lower()
    valid = ["fan_in", "fan_out"]
    if mode not in valid:
        raise ValueError(message.format(mode=mode, valid=valid))
    fan_in, fan_out = fans()
    return fan_in if mode == "fan_in" else fan_out


def torch_orthogonal(flat: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """torch's (and MindSpore's) orthogonal matrix from a ``rows × cols`` Gaussian ``flat``: transposed when
    ``rows < cols``, QR (NumPy's, in ``flat``'s precision), ``Q·sign(diag R)`` (uniform on the orthogonal
    group: https://arxiv.org/pdf/math-ph/0609050.pdf), transposed back."""
    rows, cols = flat.shape
    q, r = np.linalg.qr(flat.T if rows < cols else flat)
    q = q * np.sign(np.diagonal(r))
    out: np.ndarray[Any, Any] = q.T if rows < cols else q
    return out


def select_n(mode: str, fan_in: Any, fan_out: Any) -> Any:
    """``n`` of a (lower-case) mode: ``fan_in``, ``fan_out``, their mean (``fan_avg``) or geometric mean
    (``fan_geo_avg``, JAX's). Callers check the mode first, with their framework's message."""
    if mode == "fan_in":
        return fan_in
    if mode == "fan_out":
        return fan_out
    if mode == "fan_avg":
        return (fan_in + fan_out) / 2.0
    if mode == "fan_geo_avg":
        return (fan_in * fan_out) ** 0.5
    raise ValueError(f"`mode` must be 'fan_in', 'fan_out', 'fan_avg' or 'fan_geo_avg'; received mode={mode!r}.")


def variance_law(
    scale: float, n: float, distribution: str, *, clamp: bool = True, corrected: bool = True
) -> dict[str, Any]:
    """The law of variance scaling with ``scale`` over ``n``, computed as :class:`varscale.VarianceScaling` does.

    ``variance = scale / max(1., n)`` (``scale / n`` with ``clamp=False``: a zero ``n`` raises Python's
    ``ZeroDivisionError``), then ``"uniform"``: ``limit = sqrt(3·variance)``; ``"untruncated_normal"``:
    ``stddev = sqrt(variance)``; ``"truncated_normal"`` (or ``"normal"``, its alias): ``stddev =
    sqrt(variance)/TRUNC_STD_2`` cut at ±2·stddev (``corrected=False``: ``sqrt(variance)``, TF ≤ 1.9's and
    contrib's uncorrected normal). Negative variances raise Python's ``ValueError("math domain error")``.

    Returns:
        ``{"distribution", "stddev", "limit", "bounds"}``: the normal's parameter (None for the uniform),
        the uniform's limit (None for normals) and the bounds of the values.
    """
    variance = scale / (max(1.0, n) if clamp else n)
    if distribution == "uniform":
        limit = math.sqrt(3.0 * variance)
        return {"distribution": "uniform", "stddev": None, "limit": limit, "bounds": (-limit, limit)}
    if distribution == "untruncated_normal":
        stddev = math.sqrt(variance)
        return {"distribution": distribution, "stddev": stddev, "limit": None, "bounds": (-math.inf, math.inf)}
    stddev = math.sqrt(variance) / TRUNC_STD_2 if corrected else math.sqrt(variance)
    return {"distribution": "truncated_normal", "stddev": stddev, "limit": None,
            "bounds": (-2.0 * stddev, 2.0 * stddev)}


def law_sampler(law: dict[str, Any]) -> Sampler:
    """The sampler of a :func:`variance_law` (the same :class:`~varscale._plan.Sampler` the core builds)."""
    if law["limit"] is not None:
        return uniform_sampler(-law["limit"], law["limit"])
    s = law["stddev"]
    if law["distribution"] == "untruncated_normal":
        return normal_sampler(0.0, s)
    return normal_sampler(0.0, s, -2.0 * s, 2.0 * s)


def mean_sampler(mean: float, stddev: float, *, truncated: bool) -> Sampler:
    """TF's and Keras' ``RandomNormal`` / ``TruncatedNormal`` law: ``N(mean, stddev²)`` (a negative ``stddev``
    draws with ``|stddev|``, as their ``mean + stddev·z``), cut at ``mean ± 2·|stddev|`` when ``truncated``."""
    s = abs(stddev)
    if not truncated or s == 0.0:
        return normal_sampler(mean, s)
    return normal_sampler(mean, s, mean - 2.0 * s, mean + 2.0 * s)


# -- gains ------------------------------------------------------------------------------------------------

#: Whose gain table and messages: torch's, or MindSpore's (torch's without ``'selu'``).
GainTable = Literal["torch", "mindspore"]

_LINEAR = tuple(n for n in NONLINEARITIES if n not in ("tanh", "relu", "leaky_relu", "selu"))
#: Each gain table's names: MindSpore's is its framework module's (:data:`varscale.frameworks.mindspore.GAINS`).
GAIN_TABLES: dict[str, tuple[str, ...]] = {
    "torch": NONLINEARITIES,
    "mindspore": MINDSPORE_GAINS,
}


def _unknown(nonlinearity: Any, framework: GainTable) -> ValueError:
    if framework == "torch":
        return ValueError(f"Unsupported nonlinearity {nonlinearity}")
    return ValueError(
        "For 'HeUniform', the argument 'nonlinearity' should be one of "
        f"['sigmoid', 'tanh', 'relu' or 'leaky_relu'], but got {nonlinearity}."
    )


def _bad_slope(param: Any, framework: GainTable) -> ValueError:
    if framework == "torch":
        return ValueError(f"negative_slope {param} not a valid number")
    return ValueError(
        f"For 'HeUniform', 'negative_slope' {param} is not a valid number."
        "When 'nonlinearity' has been set to "
        f"'leaky_relu', 'negative_slope' should be int or float type, but got {type(param)}."
    )


def _slope(nonlinearity: Any, param: Any, framework: GainTable) -> float | None:
    """The checked negative slope of ``leaky_relu`` (torch's rule: an int or a float, not a bool); else None."""
    if nonlinearity not in GAIN_TABLES[framework]:
        raise _unknown(nonlinearity, framework)
    if nonlinearity != "leaky_relu":
        return None
    if param is None:
        return 0.01
    if (not isinstance(param, bool) and isinstance(param, int)) or isinstance(param, float):
        return float(param)
    raise _bad_slope(param, framework)


def gain(nonlinearity: Any, param: Any = None, *, framework: GainTable) -> float:
    """``calculate_gain`` with ``framework``'s table, checks and messages; the values are
    :func:`varscale.calculate_gain`'s (``1`` is an int for the linear names, as torch returns it).

    Example:
        >>> from varscale.compat._kit import gain
        >>> gain("selu", framework="torch"), gain("leaky_relu", 0.2, framework="mindspore") ** 2
        (0.75, 1.923076923076923)
    """
    slope = _slope(nonlinearity, param, framework)
    if nonlinearity in _LINEAR:
        return 1
    if slope is not None and not math.isfinite(slope):
        # torch's sqrt(2/(1 + slope²)) at an infinite (0.0) or NaN slope, which varscale.calculate_gain refuses
        return 0.0 if math.isinf(slope) else math.nan
    return _core_gain(nonlinearity, slope)


def gain_scale(nonlinearity: Any, param: Any = None, *, framework: GainTable) -> float:
    """The variance-scaling ``scale`` equivalent to a gain, ``gain²``; for the rectifiers it is He's
    ``2/(1 + slope²)`` computed directly (``2.0`` for ``relu``, not ``sqrt(2)**2``), so that
    ``kaiming_normal_(w, nonlinearity="relu")`` and ``VarianceScaling(2.0, …)`` are one computation.

    Example:
        >>> from varscale.compat._kit import gain_scale
        >>> gain_scale("relu", framework="torch"), gain_scale("leaky_relu", 0, framework="mindspore")
        (2.0, 2.0)
    """
    g = gain(nonlinearity, param, framework=framework)
    if nonlinearity == "relu":
        return 2.0
    if nonlinearity == "leaky_relu" and math.isfinite(g):
        slope = _slope(nonlinearity, param, framework)
        assert slope is not None
        return 2.0 / (1 + slope**2)
    return float(g) ** 2


def _param(law: dict[str, Any]) -> float:
    return float(law["limit"] if law["distribution"] == "uniform" else law["stddev"])


def xavier_param(fan_in: int, fan_out: int, gain: Any, distribution: str) -> float:
    """torch's and MindSpore's Xavier std ``gain·sqrt(2/(fan_in + fan_out))`` (``"untruncated_normal"``) or
    bound ``sqrt(3)·std`` (``"uniform"``), computed as :class:`varscale.VarianceScaling` ``(gain², "fan_avg",
    distribution)`` computes it, with the sign of ``gain`` (so a negative gain meets the framework's own error)
    and no clamp (both fans 0: Python's ``ZeroDivisionError``, as the frameworks)."""
    g = float(gain)
    law = variance_law(g * g, select_n("fan_avg", fan_in, fan_out), distribution, clamp=False)
    return math.copysign(_param(law), g)


def kaiming_param(fan: int, nonlinearity: Any, param: Any, distribution: str, *, framework: GainTable) -> float:
    """torch's and MindSpore's Kaiming std ``gain/sqrt(fan)`` or bound ``sqrt(3)·std``, computed as
    :class:`varscale.VarianceScaling` ``(gain_scale, mode, distribution)`` computes it (:func:`gain_scale`:
    ``2.0`` for relu, so the default is He's law bit for bit)."""
    scale = gain_scale(nonlinearity, param, framework=framework)
    return _param(variance_law(scale, fan, distribution, clamp=False))


class Twins:
    """Facade class → the class a framework treats as its own: a subclass of both the facade class and the
    framework's ``base(cls)``, named as the facade class, built once and only while the framework is
    imported (``base`` returns None otherwise). ``finish`` (e.g. Keras' serializable registration) is applied
    to each new twin; ``extra`` are class attributes of every twin.
    """

    def __init__(self, marker: str, base: Callable[[type], type | None],
                 finish: Callable[[type], type] | None = None, **extra: Any) -> None:
        self._marker = marker
        self._base = base
        self._finish = finish
        self._extra = extra
        self._built: dict[type, type] = {}

    def __call__(self, cls: type) -> type | None:
        if getattr(cls, self._marker, False):
            return cls
        twin = self._built.get(cls)
        if twin is not None:
            return twin
        base = self._base(cls)
        if base is None:
            return None
        twin = type(cls.__name__, (cls, base), {
            "__module__": cls.__module__,
            "__qualname__": cls.__qualname__,
            "__doc__": cls.__doc__,
            self._marker: True,
            **self._extra,
        })
        if self._finish is not None:
            twin = self._finish(twin)
        self._built[cls] = twin
        return twin
