"""Initialize whole torch modules, and shards of parameters, from varscale's stream.

:func:`init_module` walks a module's parameters, picks an initializer for
each by rules (globs on parameter names and/or module types), and fills the
parameter in place from its own stream ``vs.derive_stream(seed, name)``. The
values therefore depend on the seed, the parameter's name and full shape
only: not on construction order, device, parallelism layout or the module's
dtype.

**Values and dtypes.** Values are drawn in float32 (``gen_dtype="float32"``,
the default) and copied into the parameter by torch: a float64 module gets
the float32 values exactly, a float16/bfloat16 module gets them rounded by
torch's cast. ``gen_dtype="float64"`` draws float64 values instead (a
different, full-precision draw; the same for every module dtype).

**Memory.** A parameter is filled region by region (``chunk_elems``
elements at a time, through ``param.data[region].copy_``), so no full-size
copy is made beyond the parameter itself. Modules built on the meta device
work once materialized with ``module.to_empty(device=...)``.

:func:`fill_shard` fills one local shard (as FSDP or DTensor hold it) with
exactly its slice of the full parameter, given the full shape and the shard's
offsets.

Importing this module imports torch (``pip install torch``); ``import
varscale`` does not.

Example:
    >>> import torch
    >>> import varscale as vs
    >>> from varscale.torch import init_module, PYTORCH_DEFAULTS
    >>> net = torch.nn.Sequential(torch.nn.Linear(8, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
    >>> report = init_module(net, [("*.weight", vs.HeNormal(layout="torch")), ("*.bias", 0.0)], seed=0)
    >>> [r.name for r in report]
    ['0.weight', '0.bias', '2.weight', '2.bias']
    >>> w = vs.HeNormal(layout="torch", seed=vs.derive_stream(0, "0.weight"))((4, 8))
    >>> bool((net[0].weight.detach().numpy() == w).all())
    True
"""

from __future__ import annotations

import fnmatch
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from ._dtypes import resolve_dtype
from ._errors import InvalidArgumentError
from ._fans import compute_fans
from ._generate import draw
from ._initializer import VarianceScaling
from ._plan import KIND_UNIFORM, Sampler
from ._registry import get as _get_initializer
from ._validation import check_shape
from .io import fixed_stream, regions
from .stream import Stream, derive_stream, resolve_seed

__all__ = ["PYTORCH_DEFAULTS", "FanInBias", "InitReport", "ParamRow", "fill_shard", "init_module"]


class FanInBias:
    """PyTorch's default bias: ``U(±1/sqrt(fan_in))`` with ``fan_in`` of the sibling weight.

    ``fan_in`` comes from the weight parameter named ``weight`` in the same
    module (torch layout: ``size(1)`` times the receptive field, as
    ``torch.nn.init._calculate_fan_in_and_fan_out``); a fan_in of 0 gives zeros.

    Example:
        >>> import torch
        >>> from varscale.torch import FanInBias, init_module
        >>> lin = torch.nn.Linear(16, 3)
        >>> r = init_module(lin, [("bias", FanInBias()), ("weight", None)], seed=1)
        >>> bool(lin.bias.abs().max() <= 0.25)
        True
    """

    def __init__(self, weight: str = "weight") -> None:
        if not isinstance(weight, str) or not weight:
            raise TypeError(f"`weight` must be a parameter name; received weight={weight!r}.")
        self.weight = weight

    def __repr__(self) -> str:
        return f"FanInBias(weight={self.weight!r})"


RuleInit = VarianceScaling | str | float | FanInBias | None
Pattern = str | type | tuple[Any, ...]

_TORCH_DEFAULT_TYPES = (
    torch.nn.Linear,
    torch.nn.Conv1d,
    torch.nn.Conv2d,
    torch.nn.Conv3d,
    torch.nn.ConvTranspose1d,
    torch.nn.ConvTranspose2d,
    torch.nn.ConvTranspose3d,
)

#: PyTorch's own default init for Linear and Conv/ConvTranspose layers:
#: ``kaiming_uniform_(a=√5)`` on the weight, i.e. ``U(±1/sqrt(fan_in))`` =
#: ``VarianceScaling(1/3, "fan_in", "uniform", layout="torch")``, and the bias
#: ``U(±1/sqrt(fan_in))`` with the weight's fan_in. Other parameters match no
#: rule here: add rules for them (``[*my_rules, *PYTORCH_DEFAULTS]``).
PYTORCH_DEFAULTS: list[tuple[Pattern, RuleInit]] = [
    ((_TORCH_DEFAULT_TYPES, "weight"), VarianceScaling(1.0 / 3.0, "fan_in", "uniform", layout="torch")),
    ((_TORCH_DEFAULT_TYPES, "bias"), FanInBias()),
]


@dataclass(frozen=True)
class ParamRow:
    """One parameter of :class:`InitReport`."""

    name: str
    shape: tuple[int, ...]
    initializer: str
    fan_in: int | None
    fan_out: int | None
    std: float | None
    rule: str
    skipped: bool = False


class InitReport(Sequence[ParamRow]):
    """What :func:`init_module` did, one :class:`ParamRow` per parameter; ``str()`` is a table."""

    def __init__(self, rows: list[ParamRow]) -> None:
        self.rows = rows

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, i: Any) -> Any:
        return self.rows[i]

    def __iter__(self) -> Iterator[ParamRow]:
        return iter(self.rows)

    def __str__(self) -> str:
        head = ("name", "shape", "initializer", "fan_in", "fan_out", "std")
        body = [
            (
                r.name,
                str(r.shape),
                "(skipped)" if r.skipped else r.initializer,
                "-" if r.fan_in is None else str(r.fan_in),
                "-" if r.fan_out is None else str(r.fan_out),
                "-" if r.std is None else f"{r.std:.6g}",
            )
            for r in self.rows
        ]
        widths = [max(len(row[i]) for row in [head, *body]) for i in range(len(head))]
        lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in [head, *body]]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"InitReport({len(self.rows)} parameters)"


def _pattern_text(pattern: Pattern) -> str:
    if isinstance(pattern, str):
        return pattern
    if isinstance(pattern, type):
        return pattern.__name__
    if _is_types(pattern):
        return "|".join(t.__name__ for t in pattern)
    types, glob = pattern
    names = "|".join(t.__name__ for t in (types if isinstance(types, tuple) else (types,)))
    return f"{names}.{glob}"


def _check_rules(rules: Any) -> list[tuple[Pattern, RuleInit]]:
    if isinstance(rules, Mapping):
        rules = list(rules.items())
    if isinstance(rules, (str, bytes)) or not isinstance(rules, Sequence):
        raise TypeError(
            f"`rules` must be a sequence of (pattern, initializer) pairs or a mapping pattern -> initializer; "
            f"received rules={rules!r}."
        )
    out: list[tuple[Pattern, RuleInit]] = []
    for rule in rules:
        if not isinstance(rule, tuple) or len(rule) != 2:
            raise TypeError(f"each rule must be a (pattern, initializer) pair; received {rule!r} in `rules`.")
        pattern, init = rule
        ok = isinstance(pattern, (str, type)) or _is_types(pattern) or (
            isinstance(pattern, tuple)
            and len(pattern) == 2
            and isinstance(pattern[1], str)
            and (isinstance(pattern[0], type) or _is_types(pattern[0]))
        )
        if not ok:
            raise TypeError(
                "a rule's pattern must be a glob on parameter names (str), a module type or tuple of types, or "
                f"(module type(s), glob on the local parameter name); received pattern {pattern!r} in `rules`."
            )
        if isinstance(init, str):
            resolved = _get_initializer(init)
            if resolved is None:
                raise InvalidArgumentError(f"rule {pattern!r}: initializer name {init!r} names no initializer.")
            init = resolved
        elif isinstance(init, bool) or not (init is None or isinstance(init, (VarianceScaling, FanInBias, int, float))):
            raise TypeError(
                f"rule {pattern!r}: the initializer must be a varscale.VarianceScaling, an initializer name, a "
                f"number (a constant), FanInBias() or None (leave the parameter as it is); received {init!r}."
            )
        out.append((pattern, init))
    return out


def _is_types(value: Any) -> bool:
    return isinstance(value, tuple) and len(value) > 0 and all(isinstance(t, type) for t in value)


def _matches(pattern: Pattern, name: str, local: str, owner: torch.nn.Module) -> bool:
    if isinstance(pattern, str):
        return fnmatch.fnmatchcase(name, pattern)
    if isinstance(pattern, type):
        return isinstance(owner, pattern)
    if _is_types(pattern):
        return isinstance(owner, tuple(pattern))
    types, glob = pattern
    return isinstance(owner, types) and fnmatch.fnmatchcase(local, glob)


def _skip_fn(skip: Any) -> Callable[[str], bool]:
    if skip is None:
        return lambda _name: False
    if callable(skip):
        return lambda name: bool(skip(name))
    if isinstance(skip, (str, bytes)) or not hasattr(skip, "__contains__"):
        raise TypeError(
            f"`skip` must be None, a collection of parameter names or a predicate name -> bool; received skip={skip!r}."
        )
    names = set(skip)
    return lambda name: name in names


def _fill(
    param: torch.Tensor,
    shape: tuple[int, ...],
    sampler: Sampler,
    stream: Stream,
    gen_dtype: str,
    chunk_elems: int,
    full_shape: tuple[int, ...] | None = None,
    offsets: tuple[int, ...] | None = None,
) -> None:
    """Fill ``param`` (of ``shape``) region by region; it is the block at ``offsets`` of ``full_shape``."""
    full = shape if full_shape is None else full_shape
    offs = offsets if offsets is not None else (0,) * len(shape)
    if not shape:
        param.copy_(torch.from_numpy(np.asarray(draw(full, gen_dtype, sampler, stream))).reshape(()))
        return
    for region, _ in regions(shape, chunk_elems):
        where = tuple(
            slice((r.start or 0) + o, (n if r.stop is None else r.stop) + o)
            for r, o, n in zip(region, offs, shape, strict=True)
        )
        block = draw(full, gen_dtype, sampler, stream, region=where)
        param[region].copy_(torch.from_numpy(block))


def _check_target(tensor: Any, name: str, argument: str) -> torch.Tensor:
    if not isinstance(tensor, torch.Tensor):
        raise TypeError(f"`{argument}` must be a torch.Tensor; received {argument}={tensor!r}.")
    if tensor.device.type == "meta":
        raise InvalidArgumentError(
            f"{name} is on the meta device and has no storage to fill; materialize the module first "
            f"(module.to_empty(device='cpu'))."
        )
    if not tensor.is_floating_point():
        raise InvalidArgumentError(f"{name} has dtype {tensor.dtype}; only floating tensors can be initialized.")
    return tensor


def _gen_dtype(gen_dtype: Any) -> str:
    name = str(resolve_dtype(gen_dtype, "gen_dtype")[0].name)
    if name not in ("float32", "float64"):
        raise InvalidArgumentError(f"`gen_dtype` must be 'float32' or 'float64'; received gen_dtype={gen_dtype!r}.")
    return name


def init_module(
    module: torch.nn.Module,
    rules: Any,
    seed: int,
    *,
    skip: Any = None,
    default: str = "error",
    gen_dtype: str = "float32",
    chunk_elems: int = 1 << 24,
) -> InitReport:
    """Initialize every parameter of ``module`` in place by ``rules``, each from its own stream.

    Args:
        module: a ``torch.nn.Module`` (materialized: a meta-device module
            needs ``module.to_empty(device=...)`` first).
        rules: ``(pattern, initializer)`` pairs (or a mapping), the first
            matching rule wins. A pattern is a glob on the full parameter
            name (``"encoder.*.weight"``), a module type or tuple of types
            (every parameter such a module owns directly), or ``(type(s),
            glob on the local name)`` such as ``(torch.nn.Linear, "weight")``. An
            initializer is a :class:`varscale.VarianceScaling` (use
            ``layout="torch"`` for torch weights: Linear ``(out, in)``, ConvNd
            ``(out, in/groups, *kernel)``), a name for ``vs.get``
            (``"he_normal"``, torch layout is not implied), a number (a
            constant fill), :class:`FanInBias` or None (leave the parameter
            as it is). :data:`PYTORCH_DEFAULTS` is PyTorch's own default.
        seed: an int in ``[0, 2**64)``; parameter ``name`` is drawn from
            ``vs.derive_stream(seed, name)`` (an initializer's own seed is
            ignored).
        skip: parameters to leave alone (loaded from a checkpoint, say): a
            collection of names or a predicate ``name -> bool``.
        default: what to do with a parameter that matches no rule:
            ``"error"`` (raise, naming them all) or ``"skip"``.
        gen_dtype: ``"float32"`` (default) or ``"float64"``: the dtype values
            are drawn in before torch copies them into the parameter.
        chunk_elems: elements drawn and copied at a time.

    Returns:
        An :class:`InitReport` (name, shape, initializer, fan_in, fan_out,
        std per parameter); ``print(report)`` prints a table.

    Example:
        >>> import torch
        >>> from varscale.torch import init_module, PYTORCH_DEFAULTS
        >>> with torch.device("meta"):
        ...     net = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3), torch.nn.Flatten(), torch.nn.Linear(8, 2))
        >>> net = net.to_empty(device="cpu")
        >>> print(init_module(net, PYTORCH_DEFAULTS, seed=0))  # doctest: +NORMALIZE_WHITESPACE
        name      shape         initializer                 fan_in  fan_out  std
        0.weight  (8, 3, 3, 3)  VarianceScaling(scale=1/3)  27      72       0.111111
        0.bias    (8,)          FanInBias(fan_in=27)        27      -        0.111111
        2.weight  (2, 8)        VarianceScaling(scale=1/3)  8       2        0.204124
        2.bias    (2,)          FanInBias(fan_in=8)         8       -        0.204124
    """
    if not isinstance(module, torch.nn.Module):
        raise TypeError(f"`module` must be a torch.nn.Module; received module={module!r}.")
    checked = _check_rules(rules)
    key = resolve_seed(seed)
    if key is None or key.stream != 0:
        raise TypeError(f"`seed` must be an int in [0, 2**64); received seed={seed!r}.")
    is_skipped = _skip_fn(skip)
    if default not in ("error", "skip"):
        raise InvalidArgumentError(f"`default` must be 'error' or 'skip'; received default={default!r}.")
    gen = _gen_dtype(gen_dtype)
    if isinstance(chunk_elems, bool) or not isinstance(chunk_elems, int) or chunk_elems < 1:
        raise InvalidArgumentError(f"`chunk_elems` must be a positive int; received chunk_elems={chunk_elems!r}.")

    # plan every parameter before touching any, so that a bad rule changes nothing
    seen: set[int] = set()
    plan: list[tuple[str, torch.Tensor, ParamRow, Sampler | float | None]] = []
    unmatched: list[str] = []
    for prefix, owner in module.named_modules(remove_duplicate=False):
        for local, param in owner.named_parameters(recurse=False):
            if id(param) in seen:
                continue  # a shared (tied) parameter is initialized once, under its first name
            seen.add(id(param))
            name = f"{prefix}.{local}" if prefix else local
            shape = tuple(int(s) for s in param.shape)
            if is_skipped(name):
                plan.append((name, param, ParamRow(name, shape, "-", None, None, None, "skip", True), None))
                continue
            rule = next(((p, i) for p, i in checked if _matches(p, name, local, owner)), None)
            if rule is None:
                if default == "error":
                    unmatched.append(name)
                else:
                    plan.append((name, param, ParamRow(name, shape, "-", None, None, None, "default", True), None))
                continue
            pattern, init = rule
            rule_text = _pattern_text(pattern)
            if init is None:
                plan.append((name, param, ParamRow(name, shape, "-", None, None, None, rule_text, True), None))
                continue
            _check_target(param, f"parameter {name!r}", "module")
            if isinstance(init, VarianceScaling):
                d = init.describe(shape)
                label = _label(init)
                row = ParamRow(name, shape, label, d.fan_in, d.fan_out, d.std, rule_text)
                plan.append((name, param, row, init.sampler(shape)))
            elif isinstance(init, FanInBias):
                weight = dict(owner.named_parameters(recurse=False)).get(init.weight)
                if weight is None:
                    raise InvalidArgumentError(
                        f"parameter {name!r} matched FanInBias(weight={init.weight!r}) (rule {rule_text!r}) but its "
                        f"module has no parameter {init.weight!r}."
                    )
                fan_in = compute_fans(tuple(int(s) for s in weight.shape), "torch")[0] if weight.dim() >= 2 else 0
                bound = 1.0 / math.sqrt(fan_in) if fan_in > 0 else 0.0
                row = ParamRow(name, shape, f"FanInBias(fan_in={fan_in})", fan_in, None, bound / math.sqrt(3.0),
                               rule_text)
                plan.append((name, param, row, Sampler(KIND_UNIFORM, limit=bound)))
            else:
                row = ParamRow(name, shape, f"constant({float(init):g})", None, None, 0.0, rule_text)
                plan.append((name, param, row, float(init)))
    if unmatched:
        raise InvalidArgumentError(
            f"{len(unmatched)} parameter(s) match no rule: {', '.join(unmatched)}; add rules for them, or pass "
            f"default='skip' to leave them as they are."
        )
    with torch.no_grad():
        for name, param, row, how in plan:
            if row.skipped or how is None:
                continue
            if isinstance(how, float):
                param.fill_(how)
            else:
                _fill(param.data, row.shape, how, derive_stream(key.seed, name), gen, chunk_elems)
    return InitReport([row for _, _, row, _ in plan])


def _label(init: VarianceScaling) -> str:
    cfg = init.get_config()
    if "scale" not in cfg:
        return type(init).__name__
    scale = cfg["scale"]
    text = "1/3" if math.isclose(scale, 1.0 / 3.0, rel_tol=0, abs_tol=1e-15) else f"{scale:g}"
    extra = []
    if cfg["mode"] != "fan_in":
        extra.append(f"mode={cfg['mode']}")
    if cfg["distribution"] != "uniform" or text != "1/3":
        extra.append(cfg["distribution"])
    return f"VarianceScaling(scale={text}{''.join(', ' + e for e in extra)})"


def fill_shard(
    tensor: torch.Tensor,
    init: Any,
    full_shape: Any,
    offsets: Any,
    seed: int | Stream | None = None,
    *,
    gen_dtype: str = "float32",
    chunk_elems: int = 1 << 24,
) -> torch.Tensor:
    """Fill ``tensor``, the local shard at ``offsets`` of a parameter of ``full_shape``, with exactly its slice.

    The shard is ``full[offsets[0]:offsets[0]+tensor.shape[0], ...]`` of the
    tensor ``init`` draws for ``full_shape`` (fans from the full shape), as
    FSDP (a dim-0 chunk) or a DTensor (``Shard(d)`` placements; torch's
    ``compute_local_shape_and_global_offset``) hold it. Gathering every
    rank's shard gives the single-process tensor bit for bit.

    Args:
        tensor: the local shard (any floating dtype and device), filled in place.
        init: a :class:`varscale.VarianceScaling` or an initializer name.
        full_shape: the full parameter's shape.
        offsets: the shard's start index along each axis (trailing axes may
            be left out: offset 0).
        seed: an int or :class:`varscale.Stream` overriding the
            initializer's; pass ``vs.derive_stream(seed, name)`` to get the
            values :func:`init_module` gives parameter ``name``.
        gen_dtype: ``"float32"`` or ``"float64"`` (as :func:`init_module`).
        chunk_elems: elements drawn and copied at a time.

    Returns:
        ``tensor``.

    Example:
        >>> import torch
        >>> import varscale as vs
        >>> from varscale.torch import fill_shard
        >>> init = vs.HeNormal(layout="torch")
        >>> shard = torch.empty(3, 8)
        >>> _ = fill_shard(shard, init, (10, 8), (6, 0), vs.derive_stream(0, "fc.weight"))
        >>> full = vs.HeNormal(layout="torch", seed=vs.derive_stream(0, "fc.weight"))((10, 8))
        >>> bool((shard.numpy() == full[6:9]).all())
        True
    """
    t = _check_target(tensor, "`tensor`", "tensor")
    if isinstance(init, str):
        init = _get_initializer(init)
    stream = fixed_stream(init, seed)
    full = check_shape(full_shape)
    if isinstance(offsets, (str, bytes)) or not isinstance(offsets, Sequence):
        raise TypeError(f"`offsets` must be a sequence of ints; received offsets={offsets!r}.")
    offs = [int(o) for o in offsets] + [0] * (len(full) - len(offsets))
    local = tuple(int(s) for s in t.shape)
    if len(offs) != len(full) or len(local) != len(full) or any(
        o < 0 or o + s > f for o, s, f in zip(offs, local, full, strict=True)
    ):
        raise InvalidArgumentError(
            f"the shard of shape {local} at offsets={tuple(offsets)!r} does not lie inside "
            f"full_shape={full!r}."
        )
    gen = _gen_dtype(gen_dtype)
    with torch.no_grad():
        _fill(t.data, local, init.sampler(full), stream, gen, chunk_elems, full_shape=full, offsets=tuple(offs))
    return tensor
