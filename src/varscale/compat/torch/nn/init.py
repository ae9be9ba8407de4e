"""PyTorch ``torch.nn.init`` on varscale's stream, filling tensors in place.

Mirrors ``torch/nn/init.py`` of torch 2.13 (the code, not its docstrings):

* ``calculate_gain(nonlinearity, param=None)``: torch's table, case-sensitive;
  ``leaky_relu`` with ``param=None`` uses slope 0.01; ``selu`` is 3/4; an
  unknown name raises ``ValueError("Unsupported nonlinearity …")`` and a bool
  or non-number slope ``ValueError("negative_slope … not a valid number")``.
* Fans ``_calculate_fan_in_and_fan_out``: layout ``(out, in, *kernel)``,
  ``fan_in = size(1)·rf``, ``fan_out = size(0)·rf``; fewer than 2 dimensions
  raise ``ValueError("Fan in and fan out can not be computed for tensor with
  fewer than 2 dimensions")``; no clamp.
* ``xavier_uniform_`` / ``xavier_normal_``: ``std = gain·sqrt(2/(fan_in +
  fan_out))``, ``U(±sqrt(3)·std)`` or an **untruncated** ``N(0, std²)``. No
  zero-size guard: ``fan_in + fan_out == 0`` raises ``ZeroDivisionError``
  (e.g. shape ``(0, 0)``), a shape like ``(0, 5)`` fills nothing.
* ``kaiming_uniform_`` / ``kaiming_normal_``: any zero dimension warns
  ``UserWarning("Initializing zero-element tensors is a no-op")`` and returns
  the tensor unchanged (checked *before* the fans, so ``(0,)`` warns rather
  than raising); ``mode`` is lowercased and only ``fan_in``/``fan_out`` exist
  (``ValueError("Mode fan_avg not supported, please use one of ['fan_in',
  'fan_out']")``); the gain is ``calculate_gain(nonlinearity, a)``, so the
  default ``a=0, 'leaky_relu'`` is sqrt(2); ``std = gain/sqrt(fan)``.
* ``trunc_normal_(tensor, mean=0., std=1., a=-2., b=2.)``: ``a`` and ``b`` are
  **absolute** values, not std units, so ``trunc_normal_(w, std=0.02)`` is in
  effect untruncated. It warns ``"mean is more than 2 std from [a, b] in
  nn.init.trunc_normal_. The distribution of values may be incorrect."`` as
  torch does, raises ``ZeroDivisionError`` for ``std=0`` and ``RuntimeError``
  when ``a > b``; a negative ``std`` samples with ``|std|`` (what torch's
  rejection sampler does); ``a == b`` fills the constant ``a``; meta tensors
  are left alone. varscale samples the truncated normal exactly (inverse CDF
  on ``[a, b]``), torch 2.13 by rejection: same distribution.
* ``uniform_(tensor, a=0., b=1.)`` and ``normal_(tensor, mean=0., std=1.)``,
  with torch's ``RuntimeError`` for ``a > b`` and ``std < 0``.
* The deprecated aliases ``uniform``, ``normal``, ``xavier_uniform``,
  ``xavier_normal``, ``kaiming_uniform`` and ``kaiming_normal`` warn torch's
  ``FutureWarning("`nn.init.xavier_uniform` is now deprecated in favor of
  `nn.init.xavier_uniform_`.")`` and call the new function.
* Dtypes: float16, bfloat16, float32, float64, complex64 and complex128.
  Complex tensors follow torch: ``uniform_(a, b)`` draws the real and
  imaginary parts each from ``U(a, b)`` (so ``xavier_uniform_`` /
  ``kaiming_uniform_`` on a complex tensor give E|z|² = 2·bound²/3, twice the
  intended variance, exactly as torch), ``normal_(mean, std)`` draws each part
  from ``N(mean, std²/2)``; ``trunc_normal_`` rejects complex tensors. Integer
  and bool tensors raise torch's own ``NotImplementedError`` (for example
  ``'"check_uniform_bounds" not implemented for \\'Int\\''``).

Every function fills ``tensor`` in place and returns it. ``tensor`` may be a
``torch.Tensor`` (any device, any strides; the values are generated on the
CPU with varscale in the tensor's dtype and copied in with
``tensor.copy_(torch.from_numpy(...))`` under ``torch.no_grad()``) or a
writable NumPy array (torch is then not needed).

**Seeds.** Values come from varscale's stream, keyed by a 64-bit seed drawn
from a torch generator: ``generator=`` if given, else torch's default
generator. The seed is two 32-bit words ``torch.randint(0, 2**32, (2,),
dtype=torch.int64, generator=g)`` (low word first), so ``torch.manual_seed(s)``
(or ``g.manual_seed(s)``) makes every call reproducible and consecutive calls
draw different values, as in torch; each call advances the generator by that
one small draw. For NumPy arrays with torch not installed and no generator,
the seed is fresh OS entropy. Empty and meta tensors draw nothing. Complex
tensors take their imaginary parts from a second stream id. The keyword-only ``seed=`` (an int in
``[0, 2**64)`` or a :class:`varscale.Stream`) is a varscale extension that
overrides both and consumes no generator state. The bits differ from torch's
(another generator, another algorithm); the distributions are the same.

Example:
    >>> import numpy as np
    >>> from varscale.compat.torch.nn import init
    >>> w = np.empty((128, 64, 3, 3), dtype=np.float32)
    >>> _ = init.kaiming_uniform_(w, a=5 ** 0.5, seed=0)  # torch's Conv2d default
    >>> bool(np.abs(w).max() <= 1 / 576 ** 0.5)
    True
    >>> init._calculate_fan_in_and_fan_out(w)
    (576, 1152)
"""

from __future__ import annotations

import math
import sys
import warnings
from collections.abc import Callable
from typing import Any

import ml_dtypes
import numpy as np

from ...._dtypes import BFLOAT16
from ...._generate import draw
from ...._plan import Sampler, normal_sampler, uniform_sampler
from ....stream import Stream, derive_stream, fresh_stream, resolve_seed

__all__ = [
    "calculate_gain",
    "kaiming_normal_",
    "kaiming_uniform_",
    "normal_",
    "trunc_normal_",
    "uniform_",
    "xavier_normal_",
    "xavier_uniform_",
]

_REAL = {"float16", "bfloat16", "float32", "float64"}
_COMPLEX = {"complex64": "float32", "complex128": "float64"}
_TORCH_NAMES = {  # numpy dtype name → torch's ScalarType name, for messages without torch
    "bool": "Bool",
    "uint8": "Byte",
    "int8": "Char",
    "int16": "Short",
    "int32": "Int",
    "int64": "Long",
    "uint16": "UInt16",
    "uint32": "UInt32",
    "uint64": "UInt64",
}
#: Stream id offset of the imaginary parts of complex tensors (real parts use the call's stream).
_IMAG_ID = derive_stream(0, "varscale.compat.torch:imag").stream


def calculate_gain(nonlinearity: str, param: int | float | None = None) -> float:
    """Return the recommended gain for a nonlinearity, as ``torch.nn.init.calculate_gain``.

    Args:
        nonlinearity: ``'linear'``, ``'conv1d'``…``'conv_transpose3d'``,
            ``'sigmoid'``, ``'tanh'``, ``'relu'``, ``'leaky_relu'`` or
            ``'selu'`` (case-sensitive).
        param: the negative slope of ``'leaky_relu'`` (default 0.01).

    Raises:
        ValueError: for an unknown nonlinearity or a slope that is not an int
            or float (bools included), with torch's messages.

    Example:
        >>> from varscale.compat.torch.nn.init import calculate_gain
        >>> calculate_gain("leaky_relu"), calculate_gain("selu")
        (1.4141428569978354, 0.75)
    """
    linear_fns = [
        "linear",
        "conv1d",
        "conv2d",
        "conv3d",
        "conv_transpose1d",
        "conv_transpose2d",
        "conv_transpose3d",
    ]
    if nonlinearity in linear_fns or nonlinearity == "sigmoid":
        return 1
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            negative_slope: float = 0.01
        elif (not isinstance(param, bool) and isinstance(param, int)) or isinstance(param, float):
            negative_slope = param
        else:
            raise ValueError(f"negative_slope {param} not a valid number")
        return math.sqrt(2.0 / (1 + negative_slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"Unsupported nonlinearity {nonlinearity}")


# --------------------------------------------------------------------------- tensors


def _is_torch(tensor: Any) -> bool:
    mod = type(tensor).__module__
    if not (mod.startswith("torch") or hasattr(tensor, "__torch_function__")):
        return False
    try:
        import torch
    except ImportError:  # pragma: no cover - a torch-looking object without torch
        return False
    return isinstance(tensor, torch.Tensor)


def _shape(tensor: Any) -> tuple[int, ...]:
    if _is_torch(tensor):
        return tuple(int(d) for d in tensor.shape)
    if isinstance(tensor, np.ndarray):
        return tuple(int(d) for d in tensor.shape)
    raise TypeError(
        f"`tensor` must be a torch.Tensor or a NumPy array; received an object of type "
        f"{type(tensor).__name__}."
    )


def _dtype_name(tensor: Any) -> str:
    """numpy-style dtype name of a torch tensor or array (``'bfloat16'`` included)."""
    if _is_torch(tensor):
        return str(tensor.dtype).rsplit(".", 1)[-1]
    dt = np.dtype(tensor.dtype)
    return "bfloat16" if dt == BFLOAT16 else dt.name


def _torch_dtype(tensor: Any) -> Any:
    """The torch dtype of ``tensor``; None for NumPy arrays while torch is not imported."""
    if _is_torch(tensor):
        return tensor.dtype
    if "torch" not in sys.modules:
        return None
    import torch

    if np.dtype(tensor.dtype) == BFLOAT16:
        return torch.bfloat16
    try:
        return torch.from_numpy(np.empty(0, dtype=tensor.dtype)).dtype
    except TypeError:
        return None


def _probe(tensor: Any, op: str, *args: float) -> None:
    """Raise what torch raises for ``op`` on a tensor of this dtype with these arguments.

    The op runs on a one-element scratch tensor with a private generator, so
    neither ``tensor`` nor any generator state is touched. For NumPy arrays
    while torch is not imported, the same checks are made here with torch's
    messages (filling an array with ``seed=`` never imports torch).
    """
    tdt = _torch_dtype(tensor)
    if tdt is not None:
        import torch

        scratch = torch.empty(1, dtype=tdt)
        gen = torch.Generator().manual_seed(0)
        if op == "uniform":
            scratch.uniform_(args[0], args[1], generator=gen)
        elif op == "normal":
            scratch.normal_(args[0], args[1], generator=gen)
        else:
            torch.nn.init.trunc_normal_(scratch, generator=gen)
        return
    name = _dtype_name(tensor)
    kernel = {"uniform": "check_uniform_bounds", "normal": "normal_kernel_cpu", "trunc": "normal_kernel_cpu"}[op]
    if name not in _REAL and name not in _COMPLEX:
        raise NotImplementedError(f'"{kernel}" not implemented for {_TORCH_NAMES.get(name, name)!r}')
    if op == "trunc" and name in _COMPLEX:
        label = "ComplexFloat" if name == "complex64" else "ComplexDouble"
        raise NotImplementedError(f'"lt_cpu" not implemented for {label!r}')
    if op == "uniform":
        a, b = args
        real = _COMPLEX.get(name, name)
        cname = {"float16": "c10::Half", "bfloat16": "c10::BFloat16", "float32": "float", "float64": "double"}[real]
        finfo = ml_dtypes.finfo(BFLOAT16) if real == "bfloat16" else np.finfo(np.dtype(real))
        top = float(finfo.max)
        for label, v in (("from", a), ("to", b)):
            if not -top <= v <= top:
                raise RuntimeError(f"{label} is out of bounds for {cname}")
        if a > b:
            raise RuntimeError(f"uniform_ expects to return a [from, to) range, but found from={a:g} > to={b:g}")
    elif op == "normal" and args[1] < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {args[1]:g}")


def _stream(tensor: Any, generator: Any, seed: Any) -> Stream:
    """The varscale stream of one call (see the module docstring)."""
    chosen = resolve_seed(seed)
    if chosen is not None:
        return chosen
    if generator is None:
        try:
            import torch
        except ImportError:
            return fresh_stream()
        device: Any = "cpu"
    else:
        import torch

        device = generator.device
    words = torch.randint(0, 2**32, (2,), dtype=torch.int64, generator=generator, device=device).tolist()
    return Stream(int(words[0]) | (int(words[1]) << 32), 0)


def _generate(tensor: Any, sampler: Sampler, stream: Stream, complex_sampler: Sampler | None) -> np.ndarray:
    shape = _shape(tensor)
    name = _dtype_name(tensor)
    if name in _COMPLEX:
        real = _COMPLEX[name]
        csampler = complex_sampler if complex_sampler is not None else sampler
        re = draw(shape, real, csampler, stream)
        im = draw(shape, real, csampler, Stream(stream.seed, stream.stream ^ _IMAG_ID))
        out = np.empty(shape, dtype=name)
        out.real = re
        out.imag = im
        return out
    return draw(shape, name, sampler, stream)


def _write(tensor: Any, values: np.ndarray) -> Any:
    if _is_torch(tensor):
        import torch

        if values.dtype == BFLOAT16:
            src = torch.from_numpy(values.view(np.int16)).view(torch.bfloat16)
        else:
            src = torch.from_numpy(values)
        with torch.no_grad():
            tensor.copy_(src)
        return tensor
    if not tensor.flags.writeable:
        raise ValueError("assignment destination is read-only")
    tensor[...] = values
    return tensor


def _is_meta(tensor: Any) -> bool:
    return _is_torch(tensor) and bool(tensor.is_meta)


def _fill(
    tensor: Any,
    sampler: Sampler,
    generator: Any,
    seed: Any,
    complex_sampler: Sampler | None = None,
) -> Any:
    if _is_meta(tensor) or math.prod(_shape(tensor)) == 0:
        resolve_seed(seed)
        return tensor
    stream = _stream(tensor, generator, seed)
    return _write(tensor, _generate(tensor, sampler, stream, complex_sampler))


def _uniform(tensor: Any, a: float, b: float, generator: Any, seed: Any) -> Any:
    a, b = float(a), float(b)
    _shape(tensor)
    _probe(tensor, "uniform", a, b)
    return _fill(tensor, uniform_sampler(a, b), generator, seed)


def _normal(tensor: Any, mean: float, std: float, generator: Any, seed: Any) -> Any:
    mean, std = float(mean), float(std)
    _shape(tensor)
    _probe(tensor, "normal", mean, std)
    sampler = normal_sampler(mean, std)
    if _dtype_name(tensor) in _COMPLEX:  # torch: each part N(mean, std²/2)
        return _fill(tensor, sampler, generator, seed, normal_sampler(mean, std / math.sqrt(2.0)))
    return _fill(tensor, sampler, generator, seed)


def uniform_(
    tensor: Any, a: float = 0.0, b: float = 1.0, generator: Any = None, *, seed: Any = None
) -> Any:
    """Fill ``tensor`` with ``U(a, b)``, as ``torch.nn.init.uniform_``.

    Args:
        tensor: a ``torch.Tensor`` or a writable NumPy array, filled in place.
        a: lower bound.
        b: upper bound.
        generator: the torch generator that seeds the draw (default: torch's
            default generator).
        seed: varscale extension (keyword only): an int seed or ``Stream``
            that replaces the generator.

    Returns:
        ``tensor``.

    Example:
        >>> import numpy as np
        >>> from varscale.compat.torch.nn.init import uniform_
        >>> w = uniform_(np.empty((2, 3)), -1.0, 1.0, seed=1)
        >>> bool(((-1 <= w) & (w <= 1)).all())
        True
    """
    return _uniform(tensor, a, b, generator, seed)


def normal_(
    tensor: Any, mean: float = 0.0, std: float = 1.0, generator: Any = None, *, seed: Any = None
) -> Any:
    """Fill ``tensor`` with ``N(mean, std²)``, as ``torch.nn.init.normal_``.

    Args:
        tensor: a ``torch.Tensor`` or a writable NumPy array, filled in place.
        mean: the mean.
        std: the standard deviation (``RuntimeError`` if negative, as torch).
        generator: the torch generator that seeds the draw.
        seed: varscale extension (keyword only), replaces the generator.

    Returns:
        ``tensor``.

    Example:
        >>> import numpy as np
        >>> from varscale.compat.torch.nn.init import normal_
        >>> normal_(np.empty((2, 2), np.float32), std=0.02, seed=3).dtype
        dtype('float32')
    """
    return _normal(tensor, mean, std, generator, seed)


def trunc_normal_(
    tensor: Any,
    mean: float = 0.0,
    std: float = 1.0,
    a: float = -2.0,
    b: float = 2.0,
    generator: Any = None,
    *,
    seed: Any = None,
) -> Any:
    """Fill ``tensor`` with ``N(mean, std²)`` truncated to the **absolute** interval ``[a, b]``.

    As ``torch.nn.init.trunc_normal_`` (torch 2.13): ``a`` and ``b`` are values,
    not multiples of ``std``. A Keras-style ±2σ truncated normal with realized
    std ``s`` is ``trunc_normal_(w, std=s/0.8796256610342398, a=-2*s/0.8796…,
    b=2*s/0.8796…)``.

    Args:
        tensor: a ``torch.Tensor`` or a writable NumPy array, filled in place.
        mean: the mean of the untruncated normal.
        std: its standard deviation.
        a: the minimum value.
        b: the maximum value.
        generator: the torch generator that seeds the draw.
        seed: varscale extension (keyword only), replaces the generator.

    Returns:
        ``tensor``.

    Raises:
        ZeroDivisionError: ``std == 0`` (as torch).
        RuntimeError: ``a > b`` (torch's ``uniform_`` message).
        NotImplementedError: complex or integer tensors (torch's message).

    Example:
        >>> import numpy as np
        >>> from varscale.compat.torch.nn.init import trunc_normal_
        >>> w = trunc_normal_(np.empty(10_000), std=1.0, a=-0.5, b=0.5, seed=0)
        >>> float(w.min()) >= -0.5 and float(w.max()) <= 0.5
        True
    """
    mean, std, a, b = float(mean), float(std), float(a), float(b)
    _shape(tensor)
    if _is_meta(tensor):
        return tensor
    if (mean < a - 2 * std) or (mean > b + 2 * std):
        warnings.warn(
            "mean is more than 2 std from [a, b] in nn.init.trunc_normal_. "
            "The distribution of values may be incorrect.",
            stacklevel=2,
        )

    def norm_cdf(x: float) -> float:
        return (1.0 + math.erf(x / math.sqrt(2.0))) / 2.0

    p = norm_cdf((b - mean) / std) - norm_cdf((a - mean) / std)  # ZeroDivisionError for std == 0
    _probe(tensor, "trunc")
    if p <= 0.3:
        _probe(tensor, "uniform", a, b)  # torch's proposal: RuntimeError when a > b
    if a == b:
        return _fill(tensor, uniform_sampler(a, a), generator, seed)
    return _fill(tensor, normal_sampler(mean, abs(std), a, b), generator, seed)


# --------------------------------------------------------------------------- fans


def _calculate_fan_in_and_fan_out(tensor: Any) -> tuple[int, int]:
    """(fan_in, fan_out) of an ``(out, in, *kernel)`` tensor, as torch computes them.

    Example:
        >>> import numpy as np
        >>> from varscale.compat.torch.nn.init import _calculate_fan_in_and_fan_out
        >>> _calculate_fan_in_and_fan_out(np.empty((128, 64)))
        (64, 128)
    """
    shape = _shape(tensor)
    if len(shape) < 2:
        raise ValueError("Fan in and fan out can not be computed for tensor with fewer than 2 dimensions")
    receptive_field_size = 1
    for s in shape[2:]:
        receptive_field_size *= s
    return shape[1] * receptive_field_size, shape[0] * receptive_field_size


def _calculate_correct_fan(tensor: Any, mode: str) -> int:
    mode = mode.lower()
    valid_modes = ["fan_in", "fan_out"]
    if mode not in valid_modes:
        raise ValueError(f"Mode {mode} not supported, please use one of {valid_modes}")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def xavier_uniform_(tensor: Any, gain: float = 1.0, generator: Any = None, *, seed: Any = None) -> Any:
    """Glorot/Xavier uniform ``U(±gain·sqrt(6/(fan_in + fan_out)))``, as torch.

    Args:
        tensor: a ``torch.Tensor`` or a writable NumPy array, ``(out, in, *k)``.
        gain: scaling factor (see :func:`calculate_gain`).
        generator: the torch generator that seeds the draw.
        seed: varscale extension (keyword only), replaces the generator.

    Returns:
        ``tensor``, filled in place.

    Raises:
        ValueError: fewer than 2 dimensions.
        ZeroDivisionError: ``fan_in + fan_out == 0``.

    Example:
        >>> import numpy as np
        >>> from varscale.compat.torch.nn.init import xavier_uniform_
        >>> w = xavier_uniform_(np.empty((300, 300), np.float32), seed=0)
        >>> bool(np.abs(w).max() <= 0.1)
        True
    """
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    bound = math.sqrt(3.0) * std
    return _uniform(tensor, -bound, bound, generator, seed)


def xavier_normal_(tensor: Any, gain: float = 1.0, generator: Any = None, *, seed: Any = None) -> Any:
    """Glorot/Xavier normal: an **untruncated** ``N(0, gain²·2/(fan_in + fan_out))``, as torch.

    Args:
        tensor: a ``torch.Tensor`` or a writable NumPy array, ``(out, in, *k)``.
        gain: scaling factor.
        generator: the torch generator that seeds the draw.
        seed: varscale extension (keyword only), replaces the generator.

    Returns:
        ``tensor``, filled in place.

    Example:
        >>> import numpy as np
        >>> from varscale.compat.torch.nn.init import xavier_normal_
        >>> xavier_normal_(np.empty((4, 6)), seed=0).shape
        (4, 6)
    """
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    return _normal(tensor, 0.0, std, generator, seed)


def _kaiming_std(tensor: Any, a: float, mode: str, nonlinearity: str) -> float | None:
    if 0 in _shape(tensor):
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=3)
        return None
    fan = _calculate_correct_fan(tensor, mode)
    gain = calculate_gain(nonlinearity, a)
    return gain / math.sqrt(fan)


def kaiming_uniform_(
    tensor: Any,
    a: float = 0,
    mode: str = "fan_in",
    nonlinearity: str = "leaky_relu",
    generator: Any = None,
    *,
    seed: Any = None,
) -> Any:
    """He/Kaiming uniform ``U(±sqrt(3)·gain/sqrt(fan))``, as torch.

    Args:
        tensor: a ``torch.Tensor`` or a writable NumPy array, ``(out, in, *k)``.
        a: negative slope of the rectifier (used with ``'leaky_relu'``).
        mode: ``'fan_in'`` or ``'fan_out'``, any case.
        nonlinearity: a :func:`calculate_gain` name.
        generator: the torch generator that seeds the draw.
        seed: varscale extension (keyword only), replaces the generator.

    Returns:
        ``tensor``, filled in place (unchanged, with a warning, if it has a
        zero dimension).

    Example:
        >>> import numpy as np
        >>> from varscale.compat.torch.nn.init import kaiming_uniform_
        >>> w = kaiming_uniform_(np.empty((64, 32)), nonlinearity="relu", seed=0)
        >>> bool(np.abs(w).max() <= (6 / 32) ** 0.5)
        True
    """
    std = _kaiming_std(tensor, a, mode, nonlinearity)
    if std is None:
        return tensor
    bound = math.sqrt(3.0) * std
    return _uniform(tensor, -bound, bound, generator, seed)


def kaiming_normal_(
    tensor: Any,
    a: float = 0,
    mode: str = "fan_in",
    nonlinearity: str = "leaky_relu",
    generator: Any = None,
    *,
    seed: Any = None,
) -> Any:
    """He/Kaiming normal: an **untruncated** ``N(0, gain²/fan)``, as torch.

    Args:
        tensor: a ``torch.Tensor`` or a writable NumPy array, ``(out, in, *k)``.
        a: negative slope of the rectifier (used with ``'leaky_relu'``).
        mode: ``'fan_in'`` or ``'fan_out'``, any case.
        nonlinearity: a :func:`calculate_gain` name.
        generator: the torch generator that seeds the draw.
        seed: varscale extension (keyword only), replaces the generator.

    Returns:
        ``tensor``, filled in place (unchanged, with a warning, if it has a
        zero dimension).

    Example:
        >>> import numpy as np
        >>> from varscale.compat.torch.nn.init import kaiming_normal_
        >>> kaiming_normal_(np.empty((8, 4, 3, 3)), mode="fan_out", seed=0).shape
        (8, 4, 3, 3)
    """
    std = _kaiming_std(tensor, a, mode, nonlinearity)
    if std is None:
        return tensor
    return _normal(tensor, 0.0, std, generator, seed)


def _make_deprecate(meth: Callable[..., Any]) -> Callable[..., Any]:
    """torch's deprecated non-underscore alias: warns a ``FutureWarning`` and calls ``meth``."""
    new_name = meth.__name__
    old_name = new_name[:-1]

    def deprecated_init(*args: Any, **kwargs: Any) -> Any:
        warnings.warn(
            f"`nn.init.{old_name}` is now deprecated in favor of `nn.init.{new_name}`.",
            FutureWarning,
            stacklevel=2,
        )
        return meth(*args, **kwargs)

    deprecated_init.__doc__ = f"""{old_name}(...): deprecated in favor of :func:`{new_name}`, as in torch."""
    deprecated_init.__name__ = deprecated_init.__qualname__ = old_name
    return deprecated_init


uniform = _make_deprecate(uniform_)
normal = _make_deprecate(normal_)
xavier_uniform = _make_deprecate(xavier_uniform_)
xavier_normal = _make_deprecate(xavier_normal_)
kaiming_uniform = _make_deprecate(kaiming_uniform_)
kaiming_normal = _make_deprecate(kaiming_normal_)
