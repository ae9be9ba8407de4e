"""Keras 3 initializers (``keras.initializers``), as Keras 3.15 runs them.

Mirrors ``keras/src/initializers/random_initializers.py`` and
``keras/src/initializers/__init__.py`` of Keras 3.15:

* ``VarianceScaling(scale=1.0, mode="fan_in", distribution="truncated_normal",
  seed=None, input_axes=None, output_axes=None)`` and the presets
  ``GlorotUniform``/``GlorotNormal`` (1.0, fan_avg), ``LecunUniform``/
  ``LecunNormal`` (1.0, fan_in), ``HeUniform``/``HeNormal`` (2.0, fan_in),
  each ``(seed=None, input_axes=None, output_axes=None)``; ``__call__(shape,
  dtype=None)``.
* ``RandomNormal(mean=0.0, stddev=0.05, seed=None)``, ``TruncatedNormal(mean=0.0,
  stddev=0.05, seed=None)`` (cut at ``mean ± 2·stddev``), ``RandomUniform(minval=-0.05,
  maxval=0.05, seed=None)``, ``Orthogonal(gain=1.0, seed=None)``: drawn from varscale's stream
  with the seed semantics below; ``Zeros()``, ``Ones()``, ``Constant(value=0.0)``,
  ``Identity(gain=1.0)``: exact, in any Keras dtype.
* :func:`compute_fans`: rank 0 → (1, 1); rank 1 ``(k,)`` → (k, k); rank 2 →
  (s0, s1); rank ≥ 3 is ``(*kernel, in, out)``. ``input_axes``/
  ``output_axes`` (new in 3.15) are used **only if both are given** (one
  alone is silently ignored), as products of those axes. ``n`` is clamped by
  ``max(1.0, n)``.
* ``"truncated_normal"``: ``σ' = sqrt(scale/n)/0.87962566103423978`` cut at
  ±2σ' (realized std ``sqrt(scale/n)``); ``"untruncated_normal"``:
  ``N(0, scale/n)``; ``"uniform"``: ``U(±sqrt(3·scale/n))``.
  ``distribution`` is lowercased and ``"normal"`` is rewritten to
  ``"truncated_normal"`` (in the config too); ``mode`` is case-sensitive.
* Seeds: an int seed, or None, is a fixed seed: **every call of the same
  instance returns the same values**. ``seed=None`` draws
  ``random.randint(1, 10**9)`` from Python's global :mod:`random` at
  construction (so ``random.seed(...)`` or ``keras.utils.set_random_seed``
  make unseeded initializers reproducible) and keeps ``"seed": None`` in the
  config; two unseeded instances differ. A :class:`SeedGenerator` (this
  module's, or a ``keras.random.SeedGenerator``, converted by its config)
  advances on each call, so each call differs.
* Configs, :func:`serialize`, :func:`deserialize` and :func:`get` give and
  take the dicts real Keras does (``{"module": "keras.initializers",
  "class_name": ..., "config": ..., "registered_name": None}``), so a config
  from a model saved by Keras loads here and ours load in Keras.
* Error types and messages are Keras' (see each class).

Differences from Keras, on purpose: values come from varscale's stream and
are returned as NumPy arrays (pass them to ``keras.Variable`` or use the
initializer in a layer: Keras converts them), or as backend tensors with
``init(shape, as_tensor=True)``. Integer seeds key varscale's
stream modulo 2**64. Keras leaves non-floating dtypes to its backend (the TF
backend returns integers for a uniform draw and raises TypeError or
InvalidArgumentError for normals); here any dtype Keras knows that is not
float16, bfloat16, float32 or float64 raises ``TypeError``, and a name Keras
does not know raises Keras' ``ValueError("Invalid dtype: ...")``.
:func:`deserialize` and :func:`get` know every class above, their snake-case
names and Keras' aliases (``"normal"``, ``"uniform"``, ``"zero"``, ``"one"``…),
and ``STFT`` (the deterministic kernel of ``STFTSpectrogram``); the abstract
``"Initializer"`` raises ``ValueError``.

**One module, on purpose** (~1 100 lines): it is all of
``keras.initializers`` (26 names, serialization and ``get`` included), and
its path is part of the contract: Keras' saved configs record each class's
module (``"module": "varscale.compat.keras.initializers"``), so the classes
cannot move to other modules without changing saved models. What it shares
with the other facades is in :mod:`varscale.compat._kit`.

Example:
    >>> from varscale.compat.keras import initializers
    >>> init = initializers.HeNormal(seed=1)
    >>> w = init((3, 3, 64, 128))
    >>> bool((w == init((3, 3, 64, 128))).all())
    True
    >>> initializers.serialize(init)
    {'module': 'keras.initializers', 'class_name': 'HeNormal', 'config': {'seed': 1, 'input_axes': None, 'output_axes': None}, 'registered_name': None}
"""

from __future__ import annotations

import inspect
import numbers
import random as python_random
import re
import sys
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

from ..._generate import draw
from ..._plan import Sampler, uniform_sampler
from ...stream import Stream
from .._kit import (
    FLOATING,
    PRESETS,
    TRUNC_STD_2,
    Twins,
    int_stream,
    law_sampler,
    mean_sampler,
    np_dtype,
    scalar,
    select_n,
    tf_fans,
    variance_law,
)
from .._kit import as_tensor as as_tensor_

__all__ = [
    "STFT",
    "Constant",
    "GlorotNormal",
    "GlorotUniform",
    "HeNormal",
    "HeUniform",
    "Identity",
    "IdentityInitializer",
    "Initializer",
    "LecunNormal",
    "LecunUniform",
    "Ones",
    "Orthogonal",
    "OrthogonalInitializer",
    "RandomNormal",
    "RandomUniform",
    "STFTInitializer",
    "SeedGenerator",
    "TruncatedNormal",
    "VarianceScaling",
    "Zeros",
    "compute_fans",
    "deserialize",
    "get",
    "register_with_keras",
    "serialize",
]

#: std of a standard normal truncated to [-2, 2], the constant Keras divides by.
TRUNCATED_STD = TRUNC_STD_2  # the one definition: varscale._math

# keras.src.backend.common.dtypes (3.15)
_ALLOWED_DTYPES = (
    "float16", "float32", "float64", "uint8", "uint16", "uint32", "uint64", "int8", "int16",
    "int32", "int64", "bfloat16", "bool", "string", "float8_e4m3fn", "float8_e5m2",
    "complex64", "complex128",
)
_PYTHON_DTYPES_MAP: dict[Any, str] = {
    bool: "bool", int: "int64", float: "float32", str: "string", "int": "int64", complex: "complex128",
}
_FLOATING = FLOATING


def _floatx() -> str:
    keras = sys.modules.get("keras")
    if keras is not None:
        try:
            return str(keras.config.floatx())
        except AttributeError:
            pass
    return "float32"


def standardize_dtype(dtype: Any) -> str:
    """``keras.backend.standardize_dtype``: None → floatx, objects → their name."""
    if dtype is None:
        return _floatx()
    try:
        dtype = _PYTHON_DTYPES_MAP.get(dtype, dtype)
    except TypeError:  # unhashable
        pass
    if hasattr(dtype, "name"):
        dtype = dtype.name
    elif hasattr(dtype, "__name__"):
        dtype = dtype.__name__
    elif hasattr(dtype, "__str__") and ("torch" in str(dtype) or "jax.numpy" in str(dtype)):
        dtype = str(dtype).split(".")[-1]
    if dtype not in _ALLOWED_DTYPES:
        raise ValueError(f"Invalid dtype: {dtype}")
    return str(dtype)


def compute_fans(
    shape: Sequence[int], input_axes: Sequence[int] | None = None, output_axes: Sequence[int] | None = None
) -> tuple[int, int]:
    """Keras 3.15's ``compute_fans``: ``(fan_in, fan_out)`` as ints.

    Example:
        >>> from varscale.compat.keras.initializers import compute_fans
        >>> compute_fans((3, 3, 64, 128)), compute_fans((3, 3, 64, 128), input_axes=[2])
        ((576, 1152), (576, 1152))
        >>> compute_fans((8, 4, 16), input_axes=[0, 1], output_axes=[2])
        (32, 16)
    """
    shape = tuple(shape)
    if input_axes is not None and output_axes is not None:
        fan_in = 1
        for axis in input_axes:
            fan_in *= shape[axis]
        fan_out = 1
        for axis in output_axes:
            fan_out *= shape[axis]
        return int(fan_in), int(fan_out)
    return tf_fans(shape)


def make_default_seed() -> int:
    """Keras' ``make_default_seed``: ``random.randint(1, int(1e9))`` from Python's global RNG."""
    return python_random.randint(1, int(1e9))


_name_counts: dict[str, int] = {}


def _auto_name(base: str) -> str:
    snake = re.sub(r"(?<!^)(?=[A-Z])", "_", base).lower()
    count = _name_counts.get(snake, 0)
    _name_counts[snake] = count + 1
    return snake if count == 0 else f"{snake}_{count}"


class SeedGenerator:
    """A seed whose state advances on every draw (``keras.random.SeedGenerator``).

    An initializer given a ``SeedGenerator`` returns different values on each
    call, reproducibly: call ``k`` (from 0) of a generator seeded ``s`` uses
    varscale stream ``(s mod 2**64, k)``.

    Args:
        seed: an int, or None for :func:`make_default_seed`.
        name: config name; None gives ``"seed_generator"``, ``"seed_generator_1"``…

    Example:
        >>> from varscale.compat.keras.initializers import HeUniform, SeedGenerator
        >>> init = HeUniform(seed=SeedGenerator(42, name="sg"))
        >>> bool((init((4, 4)) == init((4, 4))).all())
        False
        >>> init.get_config()["seed"]["config"]
        {'seed': 42, 'name': 'sg'}
    """

    def __init__(self, seed: int | None = None, name: str | None = None, **kwargs: Any) -> None:
        if name is None:
            name = _auto_name(type(self).__name__)
        self.name = name
        kwargs.pop("backend", None)
        if kwargs:
            raise ValueError(f"Unrecognized keyword arguments: {kwargs}")
        self._initial_seed = seed
        if seed is None:
            seed = make_default_seed()
        if not isinstance(seed, int):
            raise ValueError(f"Argument `seed` must be an integer. Received: seed={seed}")
        self._seed = seed
        self._count = 0

    def next(self) -> Stream:
        """The stream of the next draw; advances the state."""
        stream = Stream(int_stream(self._seed).seed, self._count % 2**64)
        self._count += 1
        return stream

    def get_config(self) -> dict[str, Any]:
        return {"seed": self._initial_seed, "name": self.name}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> SeedGenerator:
        return cls(**config)


def _serialize_object(obj: Any) -> Any:
    if isinstance(obj, SeedGenerator):
        return {
            "module": "keras.random",
            "class_name": "SeedGenerator",
            "config": obj.get_config(),
            "registered_name": None,
        }
    return obj


def _is_keras_seed_generator(obj: Any) -> bool:
    return type(obj).__name__ == "SeedGenerator" and callable(getattr(obj, "get_config", None))


def _keras_class(cls: type) -> type | None:
    """Keras' class of the facade class's name, if Keras is imported (this module never imports it)."""
    keras = sys.modules.get("keras")
    try:
        return None if keras is None else getattr(keras.initializers, cls.__name__)
    except AttributeError:
        return None


def _register(twin: type) -> type:
    registered: type = sys.modules["keras"].saving.register_keras_serializable(package="varscale", name=twin.__name__)(twin)
    return registered


#: The class Keras treats as its own for a facade class: a subclass of both it and the Keras class of the same
#: name, registered as serializable under the package ``"varscale"``; None while Keras is not imported.
_keras_twin = Twins("_varscale_keras_twin", _keras_class, _register)


def register_with_keras() -> dict[str, type]:
    """Make every facade class one Keras treats as its own (call after ``import keras``).

    Done automatically when this module is imported after Keras, and on first use of a class while Keras is
    imported. Returns ``{name: class}`` of the Keras-facing classes: each subclasses the facade class and
    Keras' class of the same name (so ``EinsumDense``/``MultiHeadAttention`` pass their einsum axes to it),
    and is registered with ``keras.saving`` as ``"varscale>Name"`` (so a saved model reloads drawing from
    varscale's stream).

    Example:
        >>> import keras
        >>> from varscale.compat.keras import initializers
        >>> init = initializers.HeNormal(seed=0)
        >>> isinstance(init, keras.initializers.VarianceScaling), isinstance(init, initializers.HeNormal)
        (True, True)
        >>> keras.saving.serialize_keras_object(init)["registered_name"]
        'varscale>HeNormal'
    """
    out = {}
    for name in ("VarianceScaling", "GlorotUniform", "GlorotNormal", "LecunUniform", "LecunNormal", "HeUniform",
                 "HeNormal", "RandomNormal", "RandomUniform", "TruncatedNormal", "Orthogonal", "Zeros", "Ones",
                 "Constant", "Identity", "STFT"):
        twin = _keras_twin(globals()[name])
        if twin is not None:
            out[name] = twin
    return out


class Initializer:
    """Base class (``keras.initializers.Initializer``): config, ``from_config``, ``clone``.

    When Keras is imported, instances are created as the Keras-facing twin of their class (see
    :func:`register_with_keras`).
    """

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        twin = _keras_twin(cls) if cls.__name__ in _TWINNED else None
        return object.__new__(twin if twin is not None else cls)

    def __call__(self, shape: Sequence[int], dtype: Any = None) -> Any:
        raise NotImplementedError("Initializer subclasses must implement the `__call__()` method.")

    def get_config(self) -> dict[str, Any]:
        return {}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Initializer:
        """``cls(**config)``, as Keras does (a TF1 config with ``dtype`` raises TypeError)."""
        out: Initializer = cls(**config)
        return out

    def clone(self) -> Initializer:
        return self.__class__.from_config(self.get_config())


class RandomInitializer(Initializer):
    """Keras' seed handling: an int, None (drawn now) or a SeedGenerator (or its config)."""

    def __init__(self, seed: Any = None) -> None:
        self._init_seed = seed
        if seed is None:
            seed = make_default_seed()
        elif isinstance(seed, dict):
            seed = _deserialize_seed(seed)
        elif _is_keras_seed_generator(seed) and not isinstance(seed, SeedGenerator):
            seed = SeedGenerator(**seed.get_config())
            self._init_seed = seed
        elif not isinstance(seed, (int, SeedGenerator)):
            raise ValueError(
                "`seed` argument should be an instance of `keras.random.SeedGenerator()` or an integer. "
                f"Received: seed={seed}"
            )
        self.seed: int | SeedGenerator = seed

    def _stream(self) -> Stream:
        if isinstance(self.seed, SeedGenerator):
            return self.seed.next()
        return int_stream(self.seed)

    def get_config(self) -> dict[str, Any]:
        return {"seed": _serialize_object(self._init_seed)}


def _deserialize_seed(config: dict[str, Any]) -> SeedGenerator:
    if config.get("class_name") != "SeedGenerator" or not isinstance(config.get("config"), dict):
        raise ValueError(
            "`seed` argument should be an instance of `keras.random.SeedGenerator()` or an integer. "
            f"Received: seed={config}"
        )
    return SeedGenerator.from_config(config["config"])


def _numpy_dtype(name: str) -> Any:
    """The NumPy dtype of a Keras dtype name (ml_dtypes for bfloat16 and float8)."""
    if name == "string":
        raise TypeError("`dtype` 'string' cannot hold an initializer's values; received dtype='string'.")
    return np_dtype(name)


def _to_backend(out: Any, name: str, as_tensor: bool) -> Any:
    return as_tensor_(out, "keras", name) if as_tensor else out


#: A Python scalar, NumPy scalar or 0-d tensor as a float (Keras takes "a python scalar or a scalar keras tensor").
_scalar = scalar


def _floating(dtype: Any, owner: Any) -> str:
    """Keras' name of ``dtype`` (None: floatx), which must be one varscale draws."""
    name = standardize_dtype(dtype)
    if name not in _FLOATING:
        raise TypeError(
            f"`dtype` must be a floating dtype ({', '.join(_FLOATING)}) for {type(owner).__name__}; "
            f"received dtype={name!r}."
        )
    return name


class _RandomDraw(RandomInitializer):
    """A random Keras initializer whose values are one varscale sampler's draw."""

    def sampler(self, shape: Sequence[int]) -> Sampler:
        raise NotImplementedError

    def __call__(self, shape: Sequence[int], dtype: Any = None, *, as_tensor: bool = False) -> Any:
        """Return a NumPy array of ``shape`` and ``dtype`` (None: Keras' floatx); ``as_tensor=True`` gives a
        tensor of Keras' backend (``keras.ops.convert_to_tensor``)."""
        name = _floating(dtype, self)
        dims = tuple(operator_index(d) for d in shape)
        out = draw(dims, name, self.sampler(dims), self._stream())
        return _to_backend(out, name, as_tensor)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class VarianceScaling(_RandomDraw):
    """Builds Keras 3's ``VarianceScaling`` initializer.

    Args:
        scale: positive float.
        mode: ``"fan_in"``, ``"fan_out"`` or ``"fan_avg"`` (case-sensitive).
        distribution: ``"truncated_normal"``, ``"untruncated_normal"``,
            ``"uniform"`` (any case), or ``"normal"`` (stored as ``"truncated_normal"``).
        seed: int, None or :class:`SeedGenerator` (see the module docstring).
        input_axes: axes whose product is fan_in; used only with ``output_axes``.
        output_axes: axes whose product is fan_out; used only with ``input_axes``.

    Raises:
        ValueError: Keras' messages, e.g. ``"Argument `scale` must be positive
            float. Received: scale=0.0"``.

    Example:
        >>> from varscale.compat.keras.initializers import VarianceScaling
        >>> init = VarianceScaling(0.1, "fan_in", "uniform", seed=0)
        >>> init((2, 2)).shape
        (2, 2)
        >>> VarianceScaling(distribution="Normal").get_config()["distribution"]
        'truncated_normal'
    """

    def __init__(
        self,
        scale: float = 1.0,
        mode: str = "fan_in",
        distribution: str = "truncated_normal",
        seed: Any = None,
        input_axes: Sequence[int] | None = None,
        output_axes: Sequence[int] | None = None,
    ) -> None:
        if scale <= 0.0:
            raise ValueError(f"Argument `scale` must be positive float. Received: scale={scale}")
        allowed_modes = {"fan_in", "fan_out", "fan_avg"}
        if mode not in allowed_modes:
            raise ValueError(f"Invalid `mode` argument: {mode}. Please use one of {allowed_modes}")
        distribution = distribution.lower()
        if distribution == "normal":
            distribution = "truncated_normal"
        allowed_distributions = {"uniform", "truncated_normal", "untruncated_normal"}
        if distribution not in allowed_distributions:
            raise ValueError(
                f"Invalid `distribution` argument: {distribution}.Please use one of {allowed_distributions}"
            )
        self.scale = scale
        self.mode = mode
        self.distribution = distribution
        self.input_axes = input_axes
        self.output_axes = output_axes
        super().__init__(seed=seed)

    def describe(self, shape: Sequence[int]) -> dict[str, Any]:
        """Fans, the clamped ``n`` and the draw's ``stddev`` (parameter), ``limit`` and ``bounds``.

        Example:
            >>> from varscale.compat.keras.initializers import HeNormal
            >>> d = HeNormal().describe((3, 3, 64, 128))
            >>> d["fan_in"], round(d["stddev"], 6)
            (576, 0.066989)
        """
        fan_in, fan_out = compute_fans(shape, input_axes=self.input_axes, output_axes=self.output_axes)
        n = max(1.0, select_n(self.mode, fan_in, fan_out))
        return {"fan_in": fan_in, "fan_out": fan_out, "n": n} | variance_law(float(self.scale), n, self.distribution)

    def sampler(self, shape: Sequence[int]) -> Sampler:
        """The varscale sampler for ``shape``."""
        return law_sampler(self.describe(shape))

    def get_config(self) -> dict[str, Any]:
        base_config = super().get_config()
        config = {
            "scale": self.scale,
            "mode": self.mode,
            "distribution": self.distribution,
            "input_axes": self.input_axes,
            "output_axes": self.output_axes,
        }
        return {**base_config, **config}


def operator_index(value: Any) -> int:
    """A shape entry as an int (NumPy and framework integers included)."""
    if isinstance(value, bool):
        raise TypeError(f"`shape` must contain integers; received the boolean {value!r}.")
    if isinstance(value, numbers.Integral):
        return int(value)
    raise TypeError(f"`shape` must contain integers; received {value!r} of type {type(value).__name__}.")


def _snake(name: str) -> str:
    # keras.src.utils.naming.to_snake_case
    intermediate = re.sub("(.)([A-Z][a-z0-9]+)", r"\1_\2", name)
    insecure = re.sub("([a-z])([A-Z])", r"\1_\2", intermediate).lower()
    if insecure[0] != "_":
        return insecure
    return "private" + insecure


class _Preset(VarianceScaling):
    """A named preset: its class name in snake case (``HeNormal``: ``he_normal``) is its key in the six-preset
    table (``varscale.compat._kit.PRESETS``), which gives ``_scale``, ``_mode`` and ``_distribution``."""

    _scale: ClassVar[float] = 1.0
    _mode: ClassVar[str] = "fan_in"
    _distribution: ClassVar[str] = "truncated_normal"

    def __init__(
        self, seed: Any = None, input_axes: Sequence[int] | None = None, output_axes: Sequence[int] | None = None
    ) -> None:
        super().__init__(
            scale=self._scale,
            mode=self._mode,
            distribution=self._distribution,
            seed=seed,
            input_axes=input_axes,
            output_axes=output_axes,
        )

    def __init_subclass__(cls, **kwargs: Any) -> None:
        # Give each preset an ``__init__`` of its own name, so that argument errors
        # read "HeNormal.__init__() got an unexpected keyword argument ..." as in Keras.
        super().__init_subclass__(**kwargs)
        cls._scale, cls._mode, cls._distribution = PRESETS[_snake(cls.__name__)]

        def __init__(
            self: _Preset,
            seed: Any = None,
            input_axes: Sequence[int] | None = None,
            output_axes: Sequence[int] | None = None,
        ) -> None:
            _Preset.__init__(self, seed=seed, input_axes=input_axes, output_axes=output_axes)

        __init__.__qualname__ = f"{cls.__name__}.__init__"
        cls.__init__ = __init__  # type: ignore[method-assign]

    def get_config(self) -> dict[str, Any]:
        return {
            "seed": _serialize_object(self._init_seed),
            "input_axes": self.input_axes,
            "output_axes": self.output_axes,
        }


class GlorotUniform(_Preset):
    """Glorot uniform: ``U(±sqrt(6/(fan_in + fan_out)))`` (``VarianceScaling(1.0, "fan_avg", "uniform")``).

    Example:
        >>> from varscale.compat.keras.initializers import GlorotUniform
        >>> GlorotUniform(seed=3).get_config()
        {'seed': 3, 'input_axes': None, 'output_axes': None}
    """


class GlorotNormal(_Preset):
    """Glorot normal: ``VarianceScaling(1.0, "fan_avg", "truncated_normal")``."""


class LecunUniform(_Preset):
    """LeCun uniform: ``VarianceScaling(1.0, "fan_in", "uniform")``."""


class LecunNormal(_Preset):
    """LeCun normal: ``VarianceScaling(1.0, "fan_in", "truncated_normal")``."""


class HeUniform(_Preset):
    """He uniform: ``VarianceScaling(2.0, "fan_in", "uniform")``."""


class HeNormal(_Preset):
    """He normal: ``VarianceScaling(2.0, "fan_in", "truncated_normal")``."""


# -- the rest of keras.initializers: random (RandomNormal, TruncatedNormal, RandomUniform, Orthogonal) and
# -- constant (Zeros, Ones, Constant, Identity) initializers ---------------------------------------------


class _MeanStddev(_RandomDraw):
    """Keras' ``(mean=0.0, stddev=0.05, seed=None)`` normals: ``N(mean, stddev²)``, cut at ``mean ± 2·stddev``
    when ``_truncated``."""

    _truncated: ClassVar[bool] = False

    def __init__(self, mean: float = 0.0, stddev: float = 0.05, seed: Any = None) -> None:
        self.mean = mean
        self.stddev = stddev
        super().__init__(seed=seed)

    def sampler(self, shape: Sequence[int]) -> Sampler:
        """``N(mean, stddev²)``, truncated to ``[mean - 2·stddev, mean + 2·stddev]`` for ``TruncatedNormal``."""
        name = type(self).__name__
        mean, stddev = _scalar(self.mean, "mean", name), _scalar(self.stddev, "stddev", name)
        return mean_sampler(mean, stddev, truncated=self._truncated)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "mean": self.mean, "stddev": self.stddev}


class RandomNormal(_MeanStddev):
    """Keras' ``RandomNormal(mean=0.0, stddev=0.05, seed=None)``: ``N(mean, stddev²)``, untruncated.

    Seeds as :class:`VarianceScaling` (an int or None: the same values on every call; a
    :class:`SeedGenerator`: new values on each call). A negative ``stddev`` draws the same law as
    ``abs(stddev)`` (as Keras' ``mean + stddev·z``).

    Example:
        >>> from varscale.compat.keras.initializers import RandomNormal
        >>> w = RandomNormal(stddev=0.02, seed=0)((256, 256))
        >>> round(float(w.std()), 3), RandomNormal(seed=1).get_config()
        (0.02, {'seed': 1, 'mean': 0.0, 'stddev': 0.05})
    """


class TruncatedNormal(_MeanStddev):
    """Keras' ``TruncatedNormal(mean=0.0, stddev=0.05, seed=None)``: ``N(mean, stddev²)`` cut at ``mean ± 2·stddev``.

    As Keras (values beyond two standard deviations are re-drawn), ``stddev`` is the parameter of the normal
    before the cut: the realized std is ``0.87962566·stddev``. Drawn by exact inverse-CDF truncation.

    Example:
        >>> from varscale.compat.keras.initializers import TruncatedNormal
        >>> w = TruncatedNormal(mean=1.0, stddev=0.1, seed=0)((1000,))
        >>> bool(abs(w - 1.0).max() <= 0.2)
        True
    """

    _truncated = True


class RandomUniform(_RandomDraw):
    """Keras' ``RandomUniform(minval=-0.05, maxval=0.05, seed=None)``: ``U(minval, maxval)``.

    ``minval > maxval`` draws the same law as the swapped bounds (as Keras' ``minval + (maxval - minval)·u``).

    Example:
        >>> from varscale.compat.keras.initializers import RandomUniform
        >>> w = RandomUniform(0.0, 1.0, seed=0)((1000,))
        >>> bool(w.min() >= 0.0 and w.max() <= 1.0)
        True
    """

    def __init__(self, minval: float = -0.05, maxval: float = 0.05, seed: Any = None) -> None:
        self.minval = minval
        self.maxval = maxval
        super().__init__(seed=seed)

    def sampler(self, shape: Sequence[int]) -> Sampler:
        """``U(minval, maxval)``."""
        name = type(self).__name__
        lo = _scalar(self.minval, "minval", name)
        hi = _scalar(self.maxval, "maxval", name)
        return uniform_sampler(min(lo, hi), max(lo, hi))

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "minval": self.minval, "maxval": self.maxval}


class Orthogonal(RandomInitializer):
    """Keras' ``Orthogonal(gain=1.0, seed=None)``: ``gain`` times a (semi-)orthogonal matrix.

    As Keras: the shape is flattened to ``(prod(shape[:-1]), shape[-1])``, a standard normal matrix of shape
    ``(max, min)`` is factorized by QR, ``Q`` takes the signs of ``diag(R)`` and is transposed when there are
    fewer rows than columns. The Gaussian matrix is varscale's stream (bit-reproducible); the QR is NumPy's
    in float64, rounded once to ``dtype`` (see :class:`varscale.Orthogonal` for what is reproducible).

    Raises:
        ValueError: a shape of rank < 2 (Keras' message).

    Example:
        >>> import numpy as np
        >>> from varscale.compat.keras.initializers import Orthogonal
        >>> q = Orthogonal(gain=2.0, seed=0)((6, 4), dtype="float64")
        >>> bool(np.allclose(q.T @ q, 4.0 * np.eye(4)))
        True
    """

    def __init__(self, gain: float = 1.0, seed: Any = None) -> None:
        self.gain = gain
        super().__init__(seed=seed)

    def __call__(self, shape: Sequence[int], dtype: Any = None, *, as_tensor: bool = False) -> Any:
        """Return a NumPy array (``as_tensor=True``: a backend tensor) of ``shape`` and ``dtype``."""
        from ..._basic import Orthogonal as _Orthogonal
        from ..._basic import round_float64

        if len(shape) < 2:
            raise ValueError(
                "The tensor to initialize must be at least two-dimensional. Received: "
                f"shape={shape} of rank {len(shape)}."
            )
        name = _floating(dtype, self)
        dims = tuple(operator_index(d) for d in shape)
        gain = _scalar(self.gain, "gain", type(self).__name__)
        full = _Orthogonal(gain=gain, layout="tf").matrix(dims, self._stream())
        return _to_backend(round_float64(full, name), name, as_tensor)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "gain": self.gain}

    def __repr__(self) -> str:
        return f"Orthogonal(seed={self._init_seed!r}, gain={self.gain!r})"


class Zeros(Initializer):
    """Keras' ``Zeros()``: every element 0, in any Keras dtype (None: floatx).

    Example:
        >>> from varscale.compat.keras.initializers import Zeros
        >>> Zeros()((2, 2), dtype="int32").tolist()
        [[0, 0], [0, 0]]
    """

    def __call__(self, shape: Sequence[int], dtype: Any = None, *, as_tensor: bool = False) -> Any:
        import numpy as np

        name = standardize_dtype(dtype)
        dims = tuple(operator_index(d) for d in shape)
        return _to_backend(np.zeros(dims, dtype=_numpy_dtype(name)), name, as_tensor)


class Ones(Initializer):
    """Keras' ``Ones()``: every element 1, in any Keras dtype (None: floatx).

    Example:
        >>> from varscale.compat.keras.initializers import Ones
        >>> Ones()((3,)).tolist()
        [1.0, 1.0, 1.0]
    """

    def __call__(self, shape: Sequence[int], dtype: Any = None, *, as_tensor: bool = False) -> Any:
        import numpy as np

        name = standardize_dtype(dtype)
        dims = tuple(operator_index(d) for d in shape)
        return _to_backend(np.ones(dims, dtype=_numpy_dtype(name)), name, as_tensor)


def _serialize_value(value: Any) -> Any:
    """``keras.saving.serialize_keras_object`` for a constant: scalars as they are, arrays as ``__numpy__``."""
    import numpy as np

    if type(value).__module__ == np.__name__:
        if isinstance(value, np.ndarray) and value.ndim > 0:
            return {"class_name": "__numpy__",
                    "config": {"value": value.tolist(), "dtype": standardize_dtype(value.dtype)}}
        return value.item()
    if hasattr(value, "numpy") and hasattr(value, "dtype") and hasattr(value, "shape"):  # a backend tensor
        return {"class_name": "__tensor__",
                "config": {"value": np.asarray(value).tolist(), "dtype": standardize_dtype(value.dtype)}}
    return value


def _deserialize_value(value: Any) -> Any:
    import numpy as np

    if isinstance(value, dict) and value.get("class_name") in ("__numpy__", "__tensor__"):
        inner = value["config"]
        return np.array(inner["value"], dtype=_numpy_dtype(standardize_dtype(inner["dtype"])))
    return value


class Constant(Initializer):
    """Keras' ``Constant(value=0.0)``: ``value`` cast to ``dtype``, broadcast to ``shape`` (exact).

    ``value`` is a scalar, an array or a tensor broadcastable to the shape. The config keeps it as Keras
    serializes it (arrays as ``{"class_name": "__numpy__", ...}``).

    Example:
        >>> from varscale.compat.keras.initializers import Constant
        >>> Constant(0.25)((2, 2)).tolist()
        [[0.25, 0.25], [0.25, 0.25]]
        >>> Constant([1.0, 2.0])((2, 2)).tolist()
        [[1.0, 2.0], [1.0, 2.0]]
    """

    def __init__(self, value: Any = 0.0) -> None:
        self.value = value

    def __call__(self, shape: Sequence[int], dtype: Any = None, *, as_tensor: bool = False) -> Any:
        import numpy as np

        name = standardize_dtype(dtype)
        np_dtype = _numpy_dtype(name)
        dims = tuple(operator_index(d) for d in shape)
        value = np.asarray(self.value).astype(np_dtype)
        try:
            out = np.broadcast_to(value, dims).copy()
        except ValueError:
            raise ValueError(
                f"`value` of Constant (shape {value.shape}) cannot be broadcast to the requested "
                f"shape={dims}."
            ) from None
        return _to_backend(out, name, as_tensor)

    def get_config(self) -> dict[str, Any]:
        return {"value": _serialize_value(self.value)}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Constant:
        """``Constant(deserialize(config["value"]))``, as Keras (an empty config: the default value)."""
        if "value" not in config:
            return cls(**config)
        return cls(_deserialize_value(config["value"]))

    def __repr__(self) -> str:
        return f"Constant(value={self.value!r})"


class Identity(Initializer):
    """Keras' ``Identity(gain=1.0)``: ``gain · eye(rows, cols)`` for 2-D shapes (exact).

    Raises:
        ValueError: a shape of rank other than 2 (Keras' message).

    Example:
        >>> from varscale.compat.keras.initializers import Identity
        >>> Identity(gain=2.0)((2, 3)).tolist()
        [[2.0, 0.0, 0.0], [0.0, 2.0, 0.0]]
    """

    def __init__(self, gain: float = 1.0) -> None:
        self.gain = gain

    def __call__(self, shape: Sequence[int], dtype: Any = None, *, as_tensor: bool = False) -> Any:
        import numpy as np

        if len(shape) != 2:
            raise ValueError(
                "Identity matrix initializer can only be used for 2D matrices. "
                f"Received: shape={shape} of rank {len(shape)}."
            )
        name = standardize_dtype(dtype)
        np_dtype = _numpy_dtype(name)
        if np_dtype.kind in "iub" and isinstance(self.gain, (float, np.floating)):
            # Keras computes gain · eye(dtype): a float gain cannot multiply an integer tensor (TF backend)
            raise TypeError(f"Cannot convert {self.gain} to EagerTensor of dtype {name}")
        rows, cols = (operator_index(d) for d in shape)
        out = np.eye(rows, cols, dtype=np_dtype) * np.asarray(self.gain).astype(np_dtype)
        return _to_backend(out.astype(np_dtype), name, as_tensor)

    def get_config(self) -> dict[str, Any]:
        """``{"gain": gain}`` (Keras 3.15's Identity returns ``{}`` and so loses ``gain`` on saving)."""
        return {"gain": self.gain}

    def __repr__(self) -> str:
        return f"Identity(gain={self.gain!r})"


class STFT(Initializer):
    """Keras' ``STFT(side="real", window="hann", scaling="density", periodic=False)`` (alias ``STFTInitializer``).

    The deterministic kernel of Keras' ``STFTSpectrogram`` for a shape ``(frame_length, input_channels,
    fft_length)``, of shape ``(frame_length, 1, fft_length)`` as in Keras: ``cos`` (``side="real"``) or ``sin`` (``"imag"``) of ``-2π·t·f/((fft_length - 1)·2)``, times a
    window (a ``scipy.signal.get_window`` name, an array, or None) divided by its L2 (``"density"``) or L1
    (``"spectrum"``) norm. Computed in float64 and rounded once to ``dtype`` (Keras computes in ``dtype``).

    Raises:
        ValueError: Keras' messages for ``side``, ``scaling``, an unknown window name and a window of
            another length.

    Example:
        >>> from varscale.compat.keras.initializers import STFT
        >>> STFT("real", None)((4, 2, 3)).shape
        (4, 1, 3)
    """

    def __init__(self, side: str = "real", window: Any = "hann", scaling: str | None = "density",
                 periodic: bool = False) -> None:
        if side not in ["real", "imag"]:
            raise ValueError(f"side should be 'real' or 'imag', not {side}")
        if isinstance(window, str):
            import scipy.signal

            scipy.signal.get_window(window, 1)  # raises for an unknown window, as Keras
        if scaling is not None and scaling not in ["density", "spectrum"]:
            raise ValueError(
                f"Scaling is invalid, it must be `None`, 'density' or 'spectrum'. Received scaling={scaling}"
            )
        self.side = side
        self.window = window
        self.scaling = scaling
        self.periodic = periodic

    def __call__(self, shape: Sequence[int], dtype: Any = None, *, as_tensor: bool = False) -> Any:
        """A NumPy array (``as_tensor=True``: a backend tensor) of ``shape`` and ``dtype``."""
        import numpy as np

        name = standardize_dtype(dtype)
        frame_length, _input_channels, fft_length = (operator_index(d) for d in shape)
        win = None
        scaling: Any = 1.0
        if self.window is not None:
            win = self.window
            if isinstance(win, str):
                import scipy.signal

                win = scipy.signal.get_window(win, frame_length, self.periodic)
            win = np.asarray(win, dtype=np.float64)
            if win.ndim != 1 or win.shape[-1] != frame_length:
                raise ValueError(
                    f"The shape of `window` must be equal to [frame_length].Received: window shape={win.shape}"
                )
            win = win.reshape(frame_length, 1, 1)
            if self.scaling == "density":
                scaling = np.sqrt(np.sum(np.square(win)))
            elif self.scaling == "spectrum":
                scaling = np.sum(np.abs(win))
        fft_full = (fft_length - 1) * 2
        freq = np.arange(fft_length, dtype=np.float64).reshape(1, 1, fft_length) / fft_full
        time = np.arange(frame_length, dtype=np.float64).reshape(frame_length, 1, 1)
        args = -2.0 * time * freq * np.pi
        kernel = np.cos(args) if self.side == "real" else np.sin(args)
        if win is not None:
            kernel = kernel * win / scaling
        return _to_backend(kernel.astype(_numpy_dtype(name)), name, as_tensor)

    def get_config(self) -> dict[str, Any]:
        return {"side": self.side, "window": self.window, "periodic": self.periodic, "scaling": self.scaling}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"STFT({args})"


#: Keras' other names of the same classes (``keras.initializers.OrthogonalInitializer``, ...).
OrthogonalInitializer = Orthogonal
IdentityInitializer = Identity
STFTInitializer = STFT

_CLASSES: tuple[type[VarianceScaling], ...] = (
    VarianceScaling, GlorotNormal, GlorotUniform, HeNormal, HeUniform, LecunNormal, LecunUniform,
)


_OTHER_CLASSES: tuple[type[Initializer], ...] = (
    Constant, Identity, Ones, Zeros, Orthogonal, RandomNormal, RandomUniform, TruncatedNormal, STFT,
)

ALL_OBJECTS_DICT: dict[str, type[Initializer]] = {cls.__name__: cls for cls in (*_CLASSES, *_OTHER_CLASSES)}
ALL_OBJECTS_DICT.update({_snake(cls.__name__): cls for cls in (*_CLASSES, *_OTHER_CLASSES)})
# Keras' aliases
ALL_OBJECTS_DICT.update(
    {
        "IdentityInitializer": Identity,
        "normal": RandomNormal,
        "one": Ones,
        "OrthogonalInitializer": Orthogonal,
        "STFTInitializer": STFT,
        "uniform": RandomUniform,
        "zero": Zeros,
    }
)

# Keras initializer identifiers varscale does not resolve: the abstract base (whose instances cannot draw).
_OTHER_KERAS_NAMES = frozenset({"Initializer", "initializer"})


def serialize(initializer: Any) -> Any:
    """Keras' ``serialize``: ``{"module", "class_name", "config", "registered_name"}``.

    None, ints, floats, strings and lists pass through as in Keras.

    Example:
        >>> from varscale.compat.keras.initializers import VarianceScaling, serialize
        >>> serialize(VarianceScaling(2.0, seed=4))["config"]
        {'seed': 4, 'scale': 2.0, 'mode': 'fan_in', 'distribution': 'truncated_normal', 'input_axes': None, 'output_axes': None}
    """
    if initializer is None or isinstance(initializer, (bool, int, float, str)):
        return initializer
    if isinstance(initializer, Initializer):
        return {
            "module": "keras.initializers",
            "class_name": type(initializer).__name__,
            "config": initializer.get_config(),
            "registered_name": None,
        }
    if isinstance(initializer, SeedGenerator):
        return _serialize_object(initializer)
    raise TypeError(
        f"`initializer` must be one of varscale.compat.keras's initializers to serialize; received "
        f"initializer={initializer!r} of type {type(initializer).__name__}."
    )


def _lookup(name: str, custom_objects: dict[str, Any] | None) -> Any:
    if custom_objects and name in custom_objects:
        return custom_objects[name]
    if name in ALL_OBJECTS_DICT:
        return ALL_OBJECTS_DICT[name]
    if name in _OTHER_KERAS_NAMES:
        raise ValueError(
            f"Keras initializer {name!r} is not part of varscale.compat.keras, which mirrors: "
            f"{', '.join(sorted(c.__name__ for c in (*_CLASSES, *_OTHER_CLASSES)))}."
        )
    return None


def deserialize(config: Any, custom_objects: dict[str, Any] | None = None) -> Any:
    """Keras' ``deserialize``: build an initializer from a name or a config dict.

    Accepts a class name or its snake_case (``"HeNormal"``, ``"he_normal"``,
    ``"variance_scaling"``) and the dicts Keras writes, with or without
    ``"module"``/``"registered_name"``. As in Keras, an unknown name is
    returned unchanged (``get`` then raises), a dict without ``"class_name"``
    raises ``ValueError`` and a config the class does not take raises
    ``TypeError``.

    Example:
        >>> from varscale.compat.keras.initializers import deserialize
        >>> deserialize({"module": "keras.initializers", "class_name": "HeNormal",
        ...              "config": {"seed": 1, "input_axes": None, "output_axes": None},
        ...              "registered_name": None}).get_config()
        {'seed': 1, 'input_axes': None, 'output_axes': None}
    """
    if config is None:
        return None
    if isinstance(config, str):
        cls = _lookup(config, custom_objects)
        return config if cls is None else cls()
    if isinstance(config, (list, tuple, bool, int, float)):
        return config
    if not isinstance(config, dict):
        return config
    if "class_name" not in config or "config" not in config:
        if "class_name" in config:
            config = {**config, "config": {}}
        else:
            raise ValueError(f"Unknown `config` as a `dict`, config={config}")
    class_name = config["class_name"]
    inner = config["config"]
    cls = _lookup(class_name, custom_objects)
    if cls is None:
        return class_name
    if not isinstance(inner, dict):
        inner = {}
    try:
        return cls.from_config(inner)
    except TypeError as err:
        full = {
            "module": config.get("module", "keras.initializers"),
            "class_name": class_name,
            "config": inner,
            "registered_name": config.get("registered_name"),
        }
        raise TypeError(
            f"{cls} could not be deserialized properly. Please ensure that components that are Python "
            "object instances (layers, models, etc.) returned by `get_config()` are explicitly "
            "deserialized in the model's `from_config()` method.\n\n"
            f"config={full}.\n\nException encountered: {err}"
        ) from err


def _is_array(obj: Any) -> bool:
    import numpy as np

    if isinstance(obj, (np.generic, np.ndarray)):
        return True
    keras = sys.modules.get("keras")
    if keras is not None:
        try:
            return bool(keras.ops.is_tensor(obj))
        except AttributeError:
            return False
    return False


def _array_initializer(identifier: Any) -> Callable[..., Any]:
    import numpy as np

    def initialize_fn(shape: Sequence[int], dtype: Any = None) -> Any:
        name = standardize_dtype(dtype)
        if tuple(operator_index(d) for d in shape) != tuple(int(d) for d in identifier.shape):
            raise ValueError(
                f"Expected `shape` to be {identifier.shape} for direct tensor as initializer. Received shape={shape}"
            )
        return np.asarray(identifier).astype(_numpy_dtype(name))

    return initialize_fn


def get(identifier: Any) -> Any:
    """Keras' ``get``: None, a name, a config dict, a class or a callable.

    An array or tensor gives, as in Keras, ``initialize_fn(shape, dtype=None)`` returning it cast to
    ``dtype`` (``ValueError`` if ``shape`` is not the array's shape).

    Names are case-sensitive as in Keras: ``"he_normal"`` and ``"HeNormal"``
    work, ``"He_Normal"`` raises ``ValueError: Could not interpret
    initializer identifier: He_Normal``.

    Example:
        >>> from varscale.compat.keras.initializers import get
        >>> type(get("glorot_uniform")).__name__
        'GlorotUniform'
        >>> get("He_Normal")
        Traceback (most recent call last):
        ...
        ValueError: Could not interpret initializer identifier: He_Normal
    """
    if identifier is None:
        return None
    if isinstance(identifier, dict):
        obj = deserialize(identifier)
    elif isinstance(identifier, str):
        obj = deserialize({"class_name": str(identifier), "config": {}})
    elif _is_array(identifier):
        obj = _array_initializer(identifier)
    else:
        obj = identifier
    if callable(obj):
        if inspect.isclass(obj):
            obj = obj()
        return obj
    raise ValueError(f"Could not interpret initializer identifier: {identifier}")


_TWINNED = {"VarianceScaling", "GlorotUniform", "GlorotNormal", "LecunUniform", "LecunNormal", "HeUniform",
            "HeNormal", "RandomNormal", "RandomUniform", "TruncatedNormal", "Orthogonal", "Zeros", "Ones",
            "Constant", "Identity", "STFT"}
register_with_keras()  # a no-op unless Keras is already imported
