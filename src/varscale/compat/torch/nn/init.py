"""PyTorch ``torch.nn.init`` on varscale's stream, filling tensors in place.

Mirrors ``torch/nn/init.py`` of torch 2.13 (the code, not its docstrings), the
whole public module: ``calculate_gain``, ``uniform_``, ``normal_``,
``trunc_normal_``, ``constant_``, ``ones_``, ``zeros_``, ``eye_``, ``dirac_``,
``xavier_uniform_``, ``xavier_normal_``, ``kaiming_uniform_``,
``kaiming_normal_``, ``orthogonal_``, ``sparse_`` and the deprecated aliases
``uniform``, ``normal``, ``constant``, ``eye``, ``dirac``, ``xavier_uniform``,
``xavier_normal``, ``kaiming_uniform``, ``kaiming_normal``, ``orthogonal``,
``sparse`` (``FutureWarning("`nn.init.xavier_uniform` is now deprecated in
favor of `nn.init.xavier_uniform_`.")``, then the new function).

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
  than raising); ``mode`` is lowercased and only ``fan_in``/``fan_out`` exist;
  the gain is ``calculate_gain(nonlinearity, a)``, so the default ``a=0,
  'leaky_relu'`` is sqrt(2); ``std = gain/sqrt(fan)``.
* ``uniform_(tensor, a=0., b=1.)``: torch's ``RuntimeError`` for ``a > b`` and
  for bounds outside the dtype (``±inf``, NaN); ``a == b`` fills ``a`` exactly.
  ``normal_(tensor, mean=0., std=1.)``: ``RuntimeError`` for ``std < 0`` or
  NaN; a non-finite ``mean`` or ``std`` fills what torch's ``mean + std·z``
  gives (``std=inf``: ±inf; ``mean=nan``: NaN; ``mean=±inf``: ±inf).
* ``trunc_normal_(tensor, mean=0., std=1., a=-2., b=2.)``: ``a`` and ``b`` are
  **absolute** values, not std units, so ``trunc_normal_(w, std=0.02)`` is in
  effect untruncated. It follows torch's two branches: when the interval holds
  more than 30 % of the normal (``p > 0.3``) the law is the truncated normal;
  otherwise torch samples by rejection from ``U(a, b)`` and so does the law
  here, including its limits: a NaN or infinite ``mean``/``std`` fills
  ``U(a, b)`` (torch's acceptance test accepts every proposal), ``a == b``
  fills ``a``. It warns ``"mean is more than 2 std from [a, b] in
  nn.init.trunc_normal_. The distribution of values may be incorrect."`` as
  torch does, raises ``ZeroDivisionError`` for ``std=0`` and, in each branch,
  the error torch's own ops raise (``uniform_``'s ``RuntimeError`` for
  ``a > b`` or NaN bounds, ``"gt_cpu"``/``"lt_cpu"`` for complex tensors…). A
  negative ``std`` samples with ``|std|``; meta tensors are left alone.
  varscale samples the truncated normal exactly (inverse CDF on ``[a, b]``),
  torch 2.13 by rejection: same distribution.
* ``constant_``, ``ones_``, ``zeros_``, ``eye_`` and ``dirac_`` are exact and
  draw nothing: on a torch tensor they run torch's own ops
  (``fill_``, ``zero_``, ``torch.eye(out=)``, indexing); on a NumPy array
  they run the same ops on a torch view of the array when torch is imported,
  else NumPy code with torch's errors.
* ``orthogonal_(tensor, gain=1)``: torch's algorithm on a Gaussian matrix drawn
  from varscale's stream (bit-reproducible): flatten to ``rows × cols``,
  transpose if ``rows < cols``, Householder QR (LAPACK through NumPy, in
  float64), ``q *= sign(diag(r))``, transpose back, times ``gain``. The QR
  step is deterministic for a given LAPACK/BLAS build; its last ulps may
  differ across builds.
* ``sparse_(tensor, sparsity, std=0.01)``: ``N(0, std²)`` from the stream,
  then in each column the first ``ceil(sparsity·rows)`` rows of a random
  permutation are zeroed; the permutation of column ``j`` is the stable
  ``argsort`` of column ``j`` of a ``rows × cols`` matrix of stream uniforms
  (a second stream id), so it is bit-reproducible too.
* Dtypes: float16, bfloat16, float32, float64, complex64 and complex128.
  Complex tensors follow torch: ``uniform_(a, b)`` draws the real and
  imaginary parts each from ``U(a, b)`` (so ``xavier_uniform_`` /
  ``kaiming_uniform_`` on a complex tensor give E|z|² = 2·bound²/3, twice the
  intended variance, exactly as torch), ``normal_(mean, std)`` draws each part
  from ``N(mean, std²/2)``; ``trunc_normal_`` and ``orthogonal_`` reject
  complex tensors. Integer and bool tensors raise torch's own
  ``NotImplementedError`` (for example ``'"check_uniform_bounds" not
  implemented for \\'Int\\''``), except where torch does not: ``normal_`` (and
  so ``xavier_normal_``, ``kaiming_normal_``, ``sparse_``) on a zero-element
  integer tensor is a no-op, and ``uniform_`` on a zero-element complex tensor
  checks nothing.

Every function fills ``tensor`` in place and returns it. ``tensor`` may be a
``torch.Tensor`` (any device, any strides; the values are generated on the
CPU with varscale in the tensor's dtype and copied in with
``tensor.copy_(torch.from_numpy(...))`` under ``torch.no_grad()``) or a
writable NumPy array (torch is then not needed). Errors are checked by torch
itself on a zero- or one-element scratch tensor of the same dtype (so their
types and texts are torch's), or, for NumPy arrays while torch is not
imported, by the same rules here with torch's texts.

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

**One module, on purpose** (~1 200 lines): it is all of ``torch.nn.init``
(torch's 26 public names), one file as torch's is, so each
function reads side by side with torch's; its error probes
(``_torch_dtype``, ``_torch_view``) and samplers are looked up in this
module at call time, where the conformance suite replaces them to run
torch-free paths. What it shares with the other facades is in
:mod:`varscale.compat._kit`.

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

import contextlib
import math
import sys
import warnings
from collections.abc import Callable
from typing import Any

import ml_dtypes
import numpy as np

from ...._dtypes import BFLOAT16
from ...._errors import InvalidArgumentError
from ...._generate import draw
from ...._plan import Sampler, normal_sampler, uniform_sampler
from ....stream import Stream, derive_stream, fresh_stream, resolve_seed
from ..._kit import gain as _gain
from ..._kit import (
    kaiming_param,
    np_dtype,
    torch_fans,
    torch_mode_fan,
    torch_orthogonal,
    xavier_param,
)

__all__ = [
    "calculate_gain",
    "constant",
    "constant_",
    "dirac",
    "dirac_",
    "eye",
    "eye_",
    "kaiming_normal",
    "kaiming_normal_",
    "kaiming_uniform",
    "kaiming_uniform_",
    "normal",
    "normal_",
    "ones_",
    "orthogonal",
    "orthogonal_",
    "sparse",
    "sparse_",
    "trunc_normal_",
    "uniform",
    "uniform_",
    "xavier_normal",
    "xavier_normal_",
    "xavier_uniform",
    "xavier_uniform_",
    "zeros_",
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
    "float16": "Half",
    "bfloat16": "BFloat16",
    "complex64": "ComplexFloat",
    "complex128": "ComplexDouble",
}
#: C++ type names in torch's "value cannot be converted to type … without overflow" (``fill_``).
_FILL_CTYPES = {
    "float16": "c10::Half",
    "bfloat16": "c10::BFloat16",
    "float32": "float",
    "float64": "double",
    "complex64": "c10::complex<float>",
    "complex128": "c10::complex<double>",
    "int8": "int8_t",
    "uint8": "uint8_t",
    "int16": "int16_t",
    "int32": "int",
    "int64": "int64_t",
    "uint16": "uint16_t",
    "uint32": "uint32_t",
    "uint64": "uint64_t",
}
#: Stream id offset of the imaginary parts of complex tensors (real parts use the call's stream).
_IMAG_ID = derive_stream(0, "varscale.compat.torch:imag").stream
#: Stream id offset of ``sparse_``'s permutation keys.
_SPARSE_ID = derive_stream(0, "varscale.compat.torch:sparse").stream


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
    return _gain(nonlinearity, param, framework="torch")


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


_np_dtype = np_dtype


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


def _torch_name(name: str) -> str:
    return _TORCH_NAMES.get(name, name)


def _need_floating(name: str, kernel: str) -> None:
    """torch's dtype dispatch of a random kernel: floating and complex types only."""
    if name not in _REAL and name not in _COMPLEX:
        raise NotImplementedError(f'"{kernel}" not implemented for {_torch_name(name)!r}')


def _probe(tensor: Any, op: str, a: float, b: float, *, empty: bool) -> None:
    """Raise what torch's ``Tensor.uniform_(a, b)`` / ``Tensor.normal_(a, b)`` raises here.

    The op runs on a scratch tensor of the same dtype with as many elements
    as ``tensor`` has, capped at one (torch skips some checks on empty
    tensors), and a private generator, so neither ``tensor`` nor any
    generator state is touched. For NumPy arrays while torch is not imported,
    the same checks are made here with torch's messages (filling an array
    with ``seed=`` never imports torch).
    """
    tdt = _torch_dtype(tensor)
    if tdt is not None:
        import torch

        scratch = torch.empty(0 if empty else 1, dtype=tdt)
        gen = torch.Generator().manual_seed(0)
        if op == "uniform":
            scratch.uniform_(a, b, generator=gen)
        else:
            scratch.normal_(a, b, generator=gen)
        return
    name = _dtype_name(tensor)
    if op == "normal":
        if not b >= 0.0:
            raise RuntimeError(f"normal expects std >= 0.0, but found std {b:g}")
        if not empty:
            _need_floating(name, "normal_kernel_cpu")
        return
    if name in _COMPLEX and empty:  # torch views a complex tensor as real and returns early when empty
        return
    _need_floating(name, "check_uniform_bounds")
    real = _COMPLEX.get(name, name)
    cname = {"float16": "c10::Half", "bfloat16": "c10::BFloat16", "float32": "float", "float64": "double"}[real]
    finfo = ml_dtypes.finfo(BFLOAT16) if real == "bfloat16" else np.finfo(np.dtype(real))
    top = float(finfo.max)
    for label, v in (("from", a), ("to", b)):
        if not -top <= v <= top:
            raise RuntimeError(f"{label} is out of bounds for {cname}")
    if a > b:
        raise RuntimeError(f"uniform_ expects to return a [from, to) range, but found from={a:g} > to={b:g}")
    if b - a > top:
        label = {"float16": "Half", "bfloat16": "BFloat16", "float32": "Float", "float64": "Double"}[real]
        raise RuntimeError(
            f"uniform_ expects to-from <= std::numeric_limits<{label}>::max(), but found to={b:g} and "
            f"from={a:g} which result in to-from to exceed the limit"
        )


def _probe_new_tensor(name: str, v: float) -> None:
    """torch's ``tensor.new_tensor(v).item()`` for integer dtypes (NumPy arrays without torch)."""
    if name == "uint64":
        raise TypeError("an integer is required")
    if name.startswith(("int", "uint")):
        info = np.iinfo(np.dtype(name))
        if not (math.isfinite(v) and info.min <= v <= info.max):
            raise RuntimeError(f"value cannot be converted to type {name} without overflow")


def _probe_trunc(tensor: Any, mean: float, std: float, a: float, b: float, *, wide: bool, empty: bool) -> None:
    """Raise what torch's ``trunc_normal_`` raises in its ``p > 0.3`` (``wide``) or rejection branch."""
    tdt = _torch_dtype(tensor)
    if tdt is not None:
        import torch

        scratch = torch.empty(0 if empty else 1, dtype=tdt)
        gen = torch.Generator().manual_seed(0)
        if wide:
            lo = scratch.new_tensor(a, device="cpu").item()
            hi = scratch.new_tensor(b, device="cpu").item()
            scratch.normal_(mean, std, generator=gen)
            _ = (scratch < lo) | (scratch > hi)
        else:
            scratch.uniform_(a, b, generator=gen)
            _ = torch.empty_like(scratch).uniform_(generator=gen).log_().gt(scratch)
        return
    name = _dtype_name(tensor)
    if wide:
        _probe_new_tensor(name, a)
        _probe_new_tensor(name, b)
        _probe(tensor, "normal", mean, std, empty=empty)
        if name in _COMPLEX:
            raise NotImplementedError(f'"lt_cpu" not implemented for {_torch_name(name)!r}')
    else:
        _probe(tensor, "uniform", a, b, empty=empty)
        if name in _COMPLEX:
            raise NotImplementedError(f'"gt_cpu" not implemented for {_torch_name(name)!r}')


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


def _imag_stream(stream: Stream) -> Stream:
    return Stream(stream.seed, stream.stream ^ _IMAG_ID)


def _generate(tensor: Any, sampler: Sampler, stream: Stream, complex_sampler: Sampler | None) -> np.ndarray:
    shape = _shape(tensor)
    name = _dtype_name(tensor)
    with np.errstate(over="ignore"):  # values beyond the dtype become ±inf silently, as in torch
        if name in _COMPLEX:
            real = _COMPLEX[name]
            csampler = complex_sampler if complex_sampler is not None else sampler
            re = draw(shape, real, csampler, stream)
            im = draw(shape, real, csampler, _imag_stream(stream))
            out = np.empty(shape, dtype=name)
            out.real = re
            out.imag = im
            return out
        return draw(shape, name, sampler, stream)


def _constant_values(tensor: Any, value: float) -> np.ndarray:
    """``value`` in every element (both parts of a complex tensor, as torch's ``uniform_(a, a)``)."""
    name = _dtype_name(tensor)
    fill: complex | float = complex(value, value) if name in _COMPLEX else value
    return np.full(_shape(tensor), fill, dtype=_np_dtype(name))


def _uniform_law(tensor: Any, a: float, b: float) -> Callable[[Stream], np.ndarray]:
    sampler = uniform_sampler(a, b)
    if a == b:  # torch fills ``from`` exactly (the sign of a zero included)
        return lambda s: _constant_values(tensor, a)
    return lambda s: _generate(tensor, sampler, s, None)


def _affine_normal(tensor: Any, mean: float, std: float, stream: Stream) -> np.ndarray:
    """``mean + std·z`` with ``z ~ N(0, 1)`` in float64, rounded to the dtype: torch's arithmetic.

    Used for a non-finite ``mean`` or ``std``, where torch's result is what
    that formula gives: ``std=inf`` → ±inf, ``mean=nan`` → NaN,
    ``mean=±inf`` → ±inf, ``mean=inf, std=inf`` → inf or NaN.
    """
    shape = _shape(tensor)
    name = _dtype_name(tensor)
    unit = normal_sampler(0.0, 1.0)
    with np.errstate(all="ignore"):
        if name in _COMPLEX:
            part = std / math.sqrt(2.0)
            out = np.empty(shape, dtype=name)
            out.real = mean + part * draw(shape, "float64", unit, stream)
            out.imag = mean + part * draw(shape, "float64", unit, _imag_stream(stream))
            return out
        values = np.asarray(mean + std * draw(shape, "float64", unit, stream))
        return values.astype(_np_dtype(name))


def _normal_law(tensor: Any, mean: float, std: float) -> Callable[[Stream], np.ndarray]:
    if not (math.isfinite(mean) and math.isfinite(std)):
        return lambda s: _affine_normal(tensor, mean, std, s)
    sampler = normal_sampler(mean, std)
    if _dtype_name(tensor) in _COMPLEX:  # torch: each part N(mean, std²/2)
        part = normal_sampler(mean, std / math.sqrt(2.0))
        return lambda s: _generate(tensor, sampler, s, part)
    return lambda s: _generate(tensor, sampler, s, None)


def _check_writable(tensor: Any) -> None:
    if isinstance(tensor, np.ndarray) and not tensor.flags.writeable:
        raise ValueError("assignment destination is read-only")


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
    _check_writable(tensor)
    tensor[...] = values
    return tensor


def _is_meta(tensor: Any) -> bool:
    return _is_torch(tensor) and bool(tensor.is_meta)


def _fill(
    tensor: Any,
    prepare: Callable[[], Callable[[Stream], np.ndarray]],
    generator: Any,
    seed: Any,
) -> Any:
    """Fill ``tensor`` with ``prepare()(stream)``; empty and meta tensors draw nothing.

    ``prepare`` builds the samplers and runs before the generator is touched,
    so a call that fails (a sampler that refuses its parameters) consumes no
    generator state. For an empty or meta tensor it still runs (its
    parameters are those a full tensor would get), but it cannot fail there:
    torch draws nothing from such a tensor and so refuses no parameters.
    """
    if _is_meta(tensor) or math.prod(_shape(tensor)) == 0:
        resolve_seed(seed)
        with contextlib.suppress(InvalidArgumentError):
            prepare()
        return tensor
    _check_writable(tensor)
    make = prepare()
    stream = _stream(tensor, generator, seed)
    return _write(tensor, make(stream))


def _uniform(tensor: Any, a: float, b: float, generator: Any, seed: Any) -> Any:
    a, b = float(a), float(b)
    empty = math.prod(_shape(tensor)) == 0
    _probe(tensor, "uniform", a, b, empty=empty)
    return _fill(tensor, lambda: _uniform_law(tensor, a, b), generator, seed)


def _normal(tensor: Any, mean: float, std: float, generator: Any, seed: Any) -> Any:
    mean, std = float(mean), float(std)
    empty = math.prod(_shape(tensor)) == 0
    _probe(tensor, "normal", mean, std, empty=empty)
    return _fill(tensor, lambda: _normal_law(tensor, mean, std), generator, seed)


def uniform_(
    tensor: Any, a: float = 0.0, b: float = 1.0, generator: Any = None, *, seed: Any = None
) -> Any:
    """Fill ``tensor`` with ``U(a, b)``, as ``torch.nn.init.uniform_``.

    Args:
        tensor: a ``torch.Tensor`` or a writable NumPy array, filled in place.
        a: lower bound.
        b: upper bound (``a == b`` fills ``a``).
        generator: the torch generator that seeds the draw (default: torch's
            default generator).
        seed: varscale extension (keyword only): an int seed or ``Stream``
            that replaces the generator.

    Returns:
        ``tensor``.

    Raises:
        RuntimeError: ``a > b`` or a bound outside the dtype's finite range
            (torch's messages).
        NotImplementedError: integer or bool tensors (torch's message).

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

    A non-finite ``mean`` or ``std`` fills what torch's ``mean + std·z``
    gives: ±inf for ``std=inf``, NaN for ``mean=nan``.

    Args:
        tensor: a ``torch.Tensor`` or a writable NumPy array, filled in place.
        mean: the mean.
        std: the standard deviation (``RuntimeError`` if negative or NaN, as torch).
        generator: the torch generator that seeds the draw.
        seed: varscale extension (keyword only), replaces the generator.

    Returns:
        ``tensor``.

    Example:
        >>> import numpy as np
        >>> from varscale.compat.torch.nn.init import normal_
        >>> normal_(np.empty((2, 2), np.float32), std=0.02, seed=3).dtype
        dtype('float32')
        >>> normal_(np.empty(3), mean=float("nan"), seed=3)
        array([nan, nan, nan])
    """
    return _normal(tensor, mean, std, generator, seed)


#: Distance from the mean, in std units, within which a truncated normal is U(a, b) to float64
#: precision: over such an interval the density varies by a factor below exp(2**-55).
_NARROW = 2.0**-27


def _trunc_rejection_law(
    tensor: Any, mean: float, std: float, a: float, b: float, log_peak: float
) -> Callable[[Stream], np.ndarray]:
    """The law torch's rejection branch (``p <= 0.3``) samples: proposals ``U(a, b)``."""
    if a == b or not (math.isfinite(mean) and math.isfinite(std) and math.isfinite(log_peak)):
        # torch compares log(u) with a NaN (or, for an infinite std, with 0): every proposal is accepted
        return _uniform_law(tensor, a, b)
    s_abs = abs(std)
    try:
        sampler = normal_sampler(mean, s_abs, a, b)
    except InvalidArgumentError:
        if max(abs(a - mean), abs(b - mean)) / s_abs <= _NARROW:
            return _uniform_law(tensor, a, b)
        raise
    return lambda s: _generate(tensor, sampler, s, None)


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
    b=2*s/0.8796…)``. Where torch's rejection sampler degenerates (a NaN or
    infinite ``mean``/``std``) the values are ``U(a, b)``, as torch's.

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
        RuntimeError: ``a > b`` or NaN bounds (torch's ``uniform_`` messages).
        NotImplementedError: complex or integer tensors (torch's message).
        InvalidArgumentError: an interval so far in the tail that it holds
            less than 1e-200 of the normal (torch samples it; varscale's
            exact sampler does not).

    Example:
        >>> import numpy as np
        >>> from varscale.compat.torch.nn.init import trunc_normal_
        >>> w = trunc_normal_(np.empty(10_000), std=1.0, a=-0.5, b=0.5, seed=0)
        >>> float(w.min()) >= -0.5 and float(w.max()) <= 0.5
        True
    """
    mean, std, a, b = float(mean), float(std), float(a), float(b)
    shape = _shape(tensor)
    if _is_meta(tensor):
        resolve_seed(seed)
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
    empty = math.prod(shape) == 0
    if p > 0.3:
        _probe_trunc(tensor, mean, std, a, b, wide=True, empty=empty)

        def prepare() -> Callable[[Stream], np.ndarray]:
            sampler = normal_sampler(mean, std, a, b)
            return lambda s: _generate(tensor, sampler, s, None)

        return _fill(tensor, prepare, generator, seed)
    mode = max(a, min(mean, b))
    log_peak = -0.5 * ((mode - mean) / std) ** 2  # OverflowError, as torch, when the square overflows
    _probe_trunc(tensor, mean, std, a, b, wide=False, empty=empty)
    return _fill(tensor, lambda: _trunc_rejection_law(tensor, mean, std, a, b, log_peak), generator, seed)


# --------------------------------------------------------------------------- constants


def _torch_view(array: np.ndarray) -> Any:
    """A torch tensor sharing ``array``'s memory, or None (torch not imported, dtype or strides torch lacks)."""
    if "torch" not in sys.modules:
        return None
    import torch

    try:
        if array.dtype == BFLOAT16:
            return torch.from_numpy(array.view(np.int16)).view(torch.bfloat16)
        return torch.from_numpy(array)
    except (TypeError, ValueError, RuntimeError):
        return None


def _as_tensor(tensor: Any) -> tuple[Any, bool]:
    """(the object to run torch's code on, whether it is a torch tensor) for the exact fills."""
    _shape(tensor)
    if _is_torch(tensor):
        return tensor, True
    _check_writable(tensor)
    view = _torch_view(tensor)
    return (view, True) if view is not None else (tensor, False)


def _fill_value(array: np.ndarray, val: Any) -> Any:
    """``val`` converted to ``array``'s dtype with torch's ``fill_`` rules (used without torch)."""
    name = _dtype_name(array)
    if isinstance(val, np.generic):
        val = val.item()
    if isinstance(val, bool):
        val = int(val)
    if not isinstance(val, (int, float, complex)):
        raise TypeError(
            f"fill_() received an invalid combination of arguments - got ({type(val).__name__}), "
            f"but expected one of: (Tensor value), (Number value)"
        )
    if isinstance(val, int) and not -(2**63) <= val < 2**64:
        raise OverflowError("int too big to convert")
    if name == "bool":
        return bool(val)
    overflow = RuntimeError(f"value cannot be converted to type {_FILL_CTYPES.get(name, name)} without overflow")
    if name in _COMPLEX:
        z = complex(val)
        top = float(np.finfo(np.dtype(_COMPLEX[name])).max)
        for part in (z.real, z.imag):
            if math.isfinite(part) and abs(part) > top:
                raise overflow
        return z
    if name in ("float16", "bfloat16") and array.size == 1:
        # torch fills a one-element tensor through a scalar path that skips the overflow check
        if isinstance(val, complex) and val.imag != 0:
            raise RuntimeError("value cannot be converted to type double without overflow")
        return float(val.real if isinstance(val, complex) else val)
    if isinstance(val, complex):
        if val.imag != 0:
            raise overflow
        val = val.real
    if name in _REAL:
        top = float(ml_dtypes.finfo(BFLOAT16).max if name == "bfloat16" else np.finfo(np.dtype(name)).max)
        if math.isfinite(val) and abs(val) > top:
            raise overflow
        return float(val)
    info = np.iinfo(np.dtype(name))
    if isinstance(val, float):
        if not (math.isfinite(val) and info.min <= val <= info.max):
            raise overflow
        return int(val)  # C++ truncation toward zero
    # torch lets a negative integer wrap around in an unsigned type (two's complement), down to -max
    low = -int(info.max) if info.min == 0 else int(info.min)
    if not low <= val <= info.max:
        raise overflow
    return val % (int(info.max) + 1) if info.min == 0 else val


def constant_(tensor: Any, val: float) -> Any:
    """Fill ``tensor`` with ``val``, exactly as ``torch.nn.init.constant_`` (``fill_``).

    Args:
        tensor: a ``torch.Tensor`` or a writable NumPy array, any dtype.
        val: the value (converted as torch's ``fill_`` converts it: truncated
            for integer tensors, ``RuntimeError`` when it overflows the dtype).

    Returns:
        ``tensor``.

    Example:
        >>> import numpy as np
        >>> from varscale.compat.torch.nn.init import constant_
        >>> constant_(np.empty(3, np.int64), 2.7)
        array([2, 2, 2])
    """
    target, is_torch = _as_tensor(tensor)
    if is_torch:
        import torch

        with torch.no_grad():
            target.fill_(val)
        return tensor
    value = _fill_value(tensor, val)
    with np.errstate(over="ignore"):
        tensor[...] = value
    return tensor


def ones_(tensor: Any) -> Any:
    """Fill ``tensor`` with 1, as ``torch.nn.init.ones_``.

    Args:
        tensor: a ``torch.Tensor`` or a writable NumPy array, any dtype.

    Returns:
        ``tensor``.

    Example:
        >>> import numpy as np
        >>> from varscale.compat.torch.nn.init import ones_
        >>> ones_(np.empty((2, 2), np.float32))
        array([[1., 1.],
               [1., 1.]], dtype=float32)
    """
    return constant_(tensor, 1.0)


def zeros_(tensor: Any) -> Any:
    """Fill ``tensor`` (a ``torch.Tensor`` or a writable NumPy array, any dtype) with 0 and return it, as
    ``torch.nn.init.zeros_`` (``zero_``).

    Example:
        >>> import numpy as np
        >>> from varscale.compat.torch.nn.init import zeros_
        >>> zeros_(np.ones(3, np.int32))
        array([0, 0, 0], dtype=int32)
    """
    target, is_torch = _as_tensor(tensor)
    if is_torch:
        import torch

        with torch.no_grad():
            target.zero_()
        return tensor
    tensor[...] = 0
    return tensor


def eye_(tensor: Any) -> Any:
    """Fill a 2-D ``tensor`` with the identity matrix, as ``torch.nn.init.eye_``.

    Args:
        tensor: a 2-D ``torch.Tensor`` or writable NumPy array, any dtype.

    Returns:
        ``tensor``.

    Raises:
        ValueError: ``"Only tensors with 2 dimensions are supported"``.

    Example:
        >>> import numpy as np
        >>> from varscale.compat.torch.nn.init import eye_
        >>> eye_(np.empty((2, 3)))
        array([[1., 0., 0.],
               [0., 1., 0.]])
    """
    if len(_shape(tensor)) != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    target, is_torch = _as_tensor(tensor)
    if is_torch:
        import torch

        with torch.no_grad():
            torch.eye(*target.shape, out=target, requires_grad=target.requires_grad)
        return tensor
    tensor[...] = 0
    k = min(tensor.shape)
    tensor[np.arange(k), np.arange(k)] = 1
    return tensor


def dirac_(tensor: Any, groups: int = 1) -> Any:
    """Fill a 3-, 4- or 5-D ``tensor`` with the Dirac delta, as ``torch.nn.init.dirac_``.

    Each group of output channels preserves the identity of as many input
    channels as it can: ``w[g·out_per_group + d, d, k//2, ...] = 1``.

    Args:
        tensor: a ``(out, in, *kernel)`` ``torch.Tensor`` or writable NumPy array.
        groups: number of groups of the convolution (``out`` must divide by it).

    Returns:
        ``tensor``.

    Raises:
        ValueError: wrong rank (``"Only tensors with 3, 4, or 5 dimensions are
            supported"``) or ``"dim 0 must be divisible by groups"``.
        ZeroDivisionError: ``groups == 0`` (as torch).

    Example:
        >>> import numpy as np
        >>> from varscale.compat.torch.nn.init import dirac_
        >>> dirac_(np.empty((2, 2, 3)))
        array([[[0., 1., 0.],
                [0., 0., 0.]],
        <BLANKLINE>
               [[0., 0., 0.],
                [0., 1., 0.]]])
    """
    sizes = _shape(tensor)
    dimensions = len(sizes)
    if dimensions not in [3, 4, 5]:
        raise ValueError("Only tensors with 3, 4, or 5 dimensions are supported")
    if sizes[0] % groups != 0:
        raise ValueError("dim 0 must be divisible by groups")
    if _is_meta(tensor):
        return tensor
    target, is_torch = _as_tensor(tensor)
    out_chans_per_grp = sizes[0] // groups
    min_dim = min(out_chans_per_grp, sizes[1])
    centre = tuple(s // 2 for s in sizes[2:])

    def fill() -> None:
        target[...] = 0
        for g in range(groups):
            for d in range(min_dim):
                index = (g * out_chans_per_grp + d, d, *centre)
                target[index] = 1

    if is_torch:
        import torch

        with torch.no_grad():
            fill()
    else:
        fill()
    return tensor


# --------------------------------------------------------------------------- fans


def _calculate_fan_in_and_fan_out(tensor: Any) -> tuple[int, int]:
    """(fan_in, fan_out) of an ``(out, in, *kernel)`` tensor, as torch computes them.

    Example:
        >>> import numpy as np
        >>> from varscale.compat.torch.nn.init import _calculate_fan_in_and_fan_out
        >>> _calculate_fan_in_and_fan_out(np.empty((128, 64)))
        (64, 128)
    """
    return torch_fans(_shape(tensor), "Fan in and fan out can not be computed for tensor with fewer than 2 dimensions")


def _calculate_correct_fan(tensor: Any, mode: str) -> int:
    return torch_mode_fan(mode, lambda: _calculate_fan_in_and_fan_out(tensor),
                          "Mode {mode} not supported, please use one of {valid}")


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
    bound = _xavier(tensor, gain, "uniform")
    return _uniform(tensor, -bound, bound, generator, seed)


def xavier_normal_(tensor: Any, gain: float = 1.0, generator: Any = None, *, seed: Any = None) -> Any:
    """Glorot/Xavier normal: an **untruncated** ``N(0, gain²·2/(fan_in + fan_out))``, as torch.

    The arguments and the return value are :func:`xavier_uniform_`'s; only the law differs.

    Example:
        >>> import numpy as np
        >>> from varscale.compat.torch.nn.init import xavier_normal_
        >>> xavier_normal_(np.empty((4, 6)), seed=0).shape
        (4, 6)
    """
    return _normal(tensor, 0.0, _xavier(tensor, gain, "untruncated_normal"), generator, seed)


def _xavier(tensor: Any, gain: float, distribution: str) -> float:
    """torch's ``gain·sqrt(2/(fan_in + fan_out))`` std (times ``sqrt(3)``: the bound), computed as the core's
    ``VarianceScaling(gain², "fan_avg", distribution)`` computes it, with the sign of ``gain`` (torch's
    errors for a negative gain) and no clamp (torch's ``ZeroDivisionError`` when both fans are 0)."""
    return xavier_param(*_calculate_fan_in_and_fan_out(tensor), gain, distribution)


def _kaiming(tensor: Any, a: float, mode: str, nonlinearity: str, distribution: str) -> float | None:
    """torch's ``gain/sqrt(fan)`` std (times ``sqrt(3)``: the bound), computed as the core's
    ``VarianceScaling(gain², mode, distribution)`` computes it (``gain² = 2.0`` for relu); None, with torch's
    warning, for a tensor with a zero dimension."""
    if 0 in _shape(tensor):
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=3)
        return None
    return kaiming_param(_calculate_correct_fan(tensor, mode), nonlinearity, a, distribution, framework="torch")


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
    bound = _kaiming(tensor, a, mode, nonlinearity, "uniform")
    if bound is None:
        return tensor
    return _uniform(tensor, -bound, bound, generator, seed)


def kaiming_normal_(tensor: Any, a: float = 0, mode: str = "fan_in", nonlinearity: str = "leaky_relu",
                    generator: Any = None, *, seed: Any = None) -> Any:
    """He/Kaiming normal: an **untruncated** ``N(0, gain²/fan)``, as torch.

    The arguments, the return value and the zero-dimension warning are
    :func:`kaiming_uniform_`'s; only the law differs.

    Example:
        >>> import numpy as np
        >>> from varscale.compat.torch.nn.init import kaiming_normal_
        >>> kaiming_normal_(np.empty((8, 4, 3, 3)), mode="fan_out", seed=0).shape
        (8, 4, 3, 3)
    """
    std = _kaiming(tensor, a, mode, nonlinearity, "untruncated_normal")
    if std is None:
        return tensor
    return _normal(tensor, 0.0, std, generator, seed)


def _probe_orthogonal(tensor: Any) -> None:
    """Raise what torch's ``orthogonal_`` raises for this dtype (int/bool, float16/bfloat16, complex)."""
    tdt = _torch_dtype(tensor)
    if tdt is not None:
        import torch

        torch.nn.init.orthogonal_(torch.empty(1, 1, dtype=tdt), generator=torch.Generator().manual_seed(0))
        return
    name = _dtype_name(tensor)
    _need_floating(name, "normal_kernel_cpu")
    if name in ("float16", "bfloat16"):
        raise NotImplementedError(f'"geqrf_cpu" not implemented for {_torch_name(name)!r}')
    if name in _COMPLEX:
        raise NotImplementedError(
            "Unlike NumPy, torch.sign is not intended to support complex numbers. Please use torch.sgn instead."
        )


def _orthogonal_values(shape: tuple[int, ...], name: str, gain: float, stream: Stream) -> np.ndarray:
    rows = shape[0]
    cols = math.prod(shape) // rows
    q = torch_orthogonal(draw((rows, cols), name, normal_sampler(0.0, 1.0), stream).astype(np.float64))
    with np.errstate(all="ignore"):
        out: np.ndarray = (q * gain).reshape(shape).astype(_np_dtype(name))
    return out


def orthogonal_(tensor: Any, gain: float = 1, generator: Any = None, *, seed: Any = None) -> Any:
    """Fill ``tensor`` with a (semi-)orthogonal matrix, as ``torch.nn.init.orthogonal_``.

    torch's algorithm on varscale's stream: a ``rows × cols`` standard normal
    matrix (``rows = size(0)``, the trailing dimensions flattened) drawn from
    the stream in the tensor's dtype, transposed if ``rows < cols``, QR
    factorized (LAPACK Householder QR through NumPy, in float64), ``q`` times
    the signs of ``diag(r)``, transposed back and scaled by ``gain``. The
    Gaussian matrix is bit-reproducible; the QR step is deterministic for a
    given LAPACK/BLAS build and may differ in the last ulps across builds.

    Args:
        tensor: a ``torch.Tensor`` or a writable NumPy array with at least 2
            dimensions (float32 or float64: torch has no QR for float16,
            bfloat16, and no ``sign`` for complex).
        gain: scaling factor.
        generator: the torch generator that seeds the draw.
        seed: varscale extension (keyword only), replaces the generator.

    Returns:
        ``tensor``, filled in place (unchanged if it has no elements).

    Raises:
        ValueError: ``"Only tensors with 2 or more dimensions are supported"``.
        NotImplementedError: integer, bool, float16, bfloat16 or complex tensors
            (torch's messages).

    Example:
        >>> import numpy as np
        >>> from varscale.compat.torch.nn.init import orthogonal_
        >>> w = orthogonal_(np.empty((3, 5)), seed=0)
        >>> bool(np.allclose(w @ w.T, np.eye(3)))
        True
    """
    shape = _shape(tensor)
    if len(shape) < 2:
        raise ValueError("Only tensors with 2 or more dimensions are supported")
    if math.prod(shape) == 0 or _is_meta(tensor):
        resolve_seed(seed)
        return tensor
    _probe_orthogonal(tensor)
    name = _dtype_name(tensor)
    factor = float(gain)
    return _fill(tensor, lambda: lambda s: _orthogonal_values(shape, name, factor, s), generator, seed)


def sparse_(tensor: Any, sparsity: float, std: float = 0.01, generator: Any = None, *, seed: Any = None) -> Any:
    """Fill a 2-D ``tensor`` as a sparse matrix, as ``torch.nn.init.sparse_``.

    The elements are ``N(0, std²)``; then, in each column, the rows given by
    the first ``ceil(sparsity·rows)`` entries of a random permutation are
    zeroed (Python slicing, as torch: a negative count keeps that many rows).
    Everything comes from varscale's stream: the normal values from the
    call's stream, the permutation of column ``j`` as the stable ``argsort``
    of column ``j`` of a ``rows × cols`` matrix of uniforms drawn from a
    second stream id. (torch draws the permutations from its *default*
    generator even when ``generator=`` is given.)

    Args:
        tensor: a 2-D ``torch.Tensor`` or writable NumPy array.
        sparsity: the fraction of elements of each column set to zero.
        std: the standard deviation of the non-zero values.
        generator: the torch generator that seeds the draw.
        seed: varscale extension (keyword only), replaces the generator.

    Returns:
        ``tensor``.

    Raises:
        ValueError: ``"Only tensors with 2 dimensions are supported"``, or a
            NaN ``sparsity`` (from ``math.ceil``, as torch).
        RuntimeError: ``std < 0`` (torch's ``normal_`` message).

    Example:
        >>> import numpy as np
        >>> from varscale.compat.torch.nn.init import sparse_
        >>> w = sparse_(np.empty((10, 4)), sparsity=0.3, seed=0)
        >>> [int((w[:, j] == 0).sum()) for j in range(4)]
        [3, 3, 3, 3]
    """
    shape = _shape(tensor)
    if len(shape) != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    if _is_meta(tensor):
        resolve_seed(seed)
        return tensor
    rows, cols = shape
    num_zeros = math.ceil(sparsity * rows)
    std = float(std)
    _probe(tensor, "normal", 0.0, std, empty=rows * cols == 0)

    def prepare() -> Callable[[Stream], np.ndarray]:
        normal_values = _normal_law(tensor, 0.0, std)
        return lambda stream: make(normal_values(stream), stream)

    def make(values: np.ndarray, stream: Stream) -> np.ndarray:
        keys = draw((rows, cols), "float64", uniform_sampler(0.0, 1.0), Stream(stream.seed, stream.stream ^ _SPARSE_ID))
        zero_rows = np.argsort(keys, axis=0, kind="stable")[:num_zeros]
        values[zero_rows, np.arange(cols)] = 0
        return values

    return _fill(tensor, prepare, generator, seed)


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
constant = _make_deprecate(constant_)
eye = _make_deprecate(eye_)
dirac = _make_deprecate(dirac_)
xavier_uniform = _make_deprecate(xavier_uniform_)
xavier_normal = _make_deprecate(xavier_normal_)
kaiming_uniform = _make_deprecate(kaiming_uniform_)
kaiming_normal = _make_deprecate(kaiming_normal_)
orthogonal = _make_deprecate(orthogonal_)
sparse = _make_deprecate(sparse_)
