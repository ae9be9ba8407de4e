"""Initialize whole torch modules, and shards of parameters, from varscale's stream.

:func:`init_module` walks a module's parameters, picks an initializer for
each by rules (globs on parameter names and/or module types) or by a
framework's defaults (``default="torch"``, ``"keras"``, ``"flax"``), and
fills the parameter in place from its own stream ``vs.derive_stream(seed,
name)``. The values therefore depend on the seed, the parameter's name, full
shape and dtype only: not on construction order, device, parallelism layout.

**Layouts follow torch.** Inside this module an initializer built without
``layout=`` (``vs.HeNormal()``, ``"he_normal"``, ``vs.get(...)``) reads torch
weights in the torch layout: Linear ``(out, in)``, ConvNd
``(out, in/groups, *k)``, ConvTransposeNd as torch computes its fans. An
explicit ``layout=`` is honored. The report shows the layout per parameter.

**Rules** accept every form of :mod:`varscale._rules`: varscale initializers,
names (``"he_normal"``, ``"kaiming_normal"``, ``"xavier_uniform"``), numbers,
``"zeros"``/``"ones"``, ``"normal(std=0.02)"``, ``"trunc_normal(std=0.02,
a=-0.04, b=0.04)"``, ``"uniform(a, b)"``, ``"orthogonal(gain)"``, framework
expressions (``"keras.initializers.HeNormal()"``), a ``vs.Spec``, and
``torch.nn.init`` functions or ``functools.partial`` of them.

**Values and dtypes.** Each parameter is drawn in its own dtype (float16,
bfloat16, float32, float64): the same bits ``varscale init --dtype`` and
``vs.<Init>(seed=vs.derive_stream(seed, name))(shape, dtype)`` give. CPU
parameters are written in place (no extra copy); parameters on an accelerator
are drawn on the host into pinned buffers and copied asynchronously.

**Buffers.** Built-in layers' buffers are reset as torch's reset does
(BatchNorm/InstanceNorm running statistics and ``num_batches_tracked``), so a
module built on the meta device and materialized with ``to_empty`` is whole.
After initialization, a non-finite value anywhere in a parameter or a buffer is
an error naming it.

:func:`fill_shard` fills one local shard (as FSDP or DTensor hold it) with
exactly its slice of the full parameter, given the full shape and the shard's
offsets.

Importing this module imports torch (``pip install torch``); ``import
varscale`` does not.

Example:
    >>> import torch
    >>> import varscale as vs
    >>> from varscale.torch import init_module
    >>> net = torch.nn.Sequential(torch.nn.Linear(8, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
    >>> report = init_module(net, [("*.weight", "he_normal"), ("*.bias", 0.0)], seed=0)
    >>> [(r.name, r.fan_in) for r in report]
    [('0.weight', 8), ('0.bias', None), ('2.weight', 4), ('2.bias', None)]
    >>> w = vs.HeNormal(layout="torch", seed=vs.derive_stream(0, "0.weight"))((4, 8))
    >>> bool((net[0].weight.detach().numpy() == w).all())
    True
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Sequence
from typing import Any, SupportsIndex

import torch

from . import _rules
from ._errors import InvalidArgumentError
from ._fans import compute_fans
from ._initializer import VarianceScaling
from ._plan import uniform_sampler
from ._report import InitReport, ParamRow, listing
from ._rules import FanError, ParamPlan, Rules, plan_param
from ._torch_fill import (
    check_engine,
    check_gen_dtype,
    check_target,
    fill_param,
    local_part,
)
from ._torch_finite import check_finite, finite_by_construction
from ._torch_recipes import RECIPES, recipe_for, reset_buffers
from ._validation import ShapeLike, check_shape
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


def _resolve_torch(init: Any, where: str) -> Any:
    return init if isinstance(init, FanInBias) else _rules.resolve(init, layout="torch", where=where)


_PATTERN_HELP = ("a glob on parameter names (str), a module type or tuple of types, or (module type(s), glob on "
                 "the local parameter name)")


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


_DEFAULTS = ("error", "skip", *RECIPES)


def _fan_in_bias(init: FanInBias, owner: torch.nn.Module, name: str, shape: tuple[int, ...], rule: str) -> ParamPlan:
    weight = dict(owner.named_parameters(recurse=False)).get(init.weight)
    if weight is None:
        raise InvalidArgumentError(
            f"parameter {name!r} matched FanInBias(weight={init.weight!r}) (rule {rule!r}) but its "
            f"module has no parameter {init.weight!r}."
        )
    fan_in = compute_fans(tuple(int(s) for s in weight.shape), "torch")[0] if weight.dim() >= 2 else 0
    bound = 1.0 / math.sqrt(fan_in) if fan_in > 0 else 0.0
    return ParamPlan(f"FanInBias(fan_in={fan_in})", "torch", fan_in, None, bound / math.sqrt(3.0),
                     sampler=uniform_sampler(-bound, bound))


def init_module(
    module: torch.nn.Module,
    rules: Rules = (),
    seed: int | None = None,
    *,
    default: str = "error",
    skip: Collection[str] | Callable[[str], object] | None = None,
    prefix: str = "",
    strict: bool = True,
    gen_dtype: str | None = None,
    chunk_elems: int = 1 << 24,
    engine: str | None = None,
) -> InitReport:
    """Initialize every parameter of ``module`` in place by ``rules`` and ``default``, each from its own stream.

    Args:
        module: a ``torch.nn.Module`` (materialized: a meta-device module
            needs ``module.to_empty(device=...)`` first).
        rules: ``(pattern, initializer)`` pairs (or a mapping); the first
            matching rule wins. A pattern is a glob on the full parameter
            name (``"encoder.*.weight"``), a module type or tuple of types
            (every parameter such a module owns directly), or ``(type(s),
            glob on the local name)`` such as ``(torch.nn.Linear, "weight")``.
            An initializer is anything :mod:`varscale._rules` reads (see the
            module docstring), :class:`FanInBias`, or None (leave the
            parameter as it is). Layouts are torch's unless given.
        seed: an int in ``[0, 2**64)``; parameter ``name`` is drawn from
            ``vs.derive_stream(seed, name)``. An initializer with its own seed
            is refused.
        default: what a parameter no rule matches gets: ``"error"`` (raise,
            naming them all), ``"skip"`` (leave it), or a framework's own
            defaults for built-in layers: ``"torch"`` (what
            ``reset_parameters()`` draws), ``"keras"`` (the Keras 3 default of
            the equivalent layer), ``"flax"`` (Flax Linen's defaults). See
            :mod:`varscale._torch_recipes`.
        skip: parameters (or buffers) to leave alone — loaded from a
            checkpoint, say: a collection of names or a predicate ``name ->
            bool``. A norm layer with a skipped parameter keeps its running
            statistics.
        prefix: the module's name inside a larger model (``"encoder"``):
            names, patterns and streams use ``prefix + "." + name``, so a
            submodule gets exactly the values it would get inside the whole
            model.
        strict: a rule that matches no parameter is an error (True) or a
            warning (False).
        gen_dtype: None (default: each parameter drawn in its own dtype), or
            ``"float32"``/``"float64"`` to draw in that dtype and let torch
            cast (the behaviour of varscale ≤ 0.1).
        chunk_elems: elements drawn at a time when a copy is needed
            (accelerator parameters, ``gen_dtype``, non-contiguous tensors).
        engine: None (default: the compiled CPU kernel for CPU parameters,
            the torch engine — the stream in torch ops on the parameter's own
            device — for parameters on an accelerator), ``"torch"`` (the torch
            engine for every parameter), ``"numba"`` or ``"numpy"`` (host
            engines). Every engine gives the same bits.

    Returns:
        An :class:`InitReport` (name, shape, initializer, layout, fan_in,
        fan_out, std, rule per parameter; the buffers reset); ``print(report)``
        prints a table.

    Raises:
        InvalidArgumentError: a parameter no rule matches (``default="error"``),
            a built-in default with no recipe for a layer, a fan-based
            initializer on a parameter with fewer than 2 dimensions, a rule
            that matches nothing (``strict``), a meta-device parameter, or a
            non-finite value left in a parameter or buffer. Nothing is
            written when a rule or a parameter is refused before filling.

    Example:
        >>> import torch
        >>> from varscale.torch import init_module
        >>> with torch.device("meta"):
        ...     net = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3), torch.nn.BatchNorm2d(8), torch.nn.Flatten(),
        ...                               torch.nn.LazyLinear(2) if False else torch.nn.Linear(8, 2))
        >>> net = net.to_empty(device="cpu")
        >>> rules = [(((torch.nn.Conv2d, torch.nn.Linear), "weight"), "he_normal")]  # "*.weight" would reach the 1-D norm
        >>> report = init_module(net, rules, seed=0, default="torch")
        >>> print(report)  # doctest: +NORMALIZE_WHITESPACE
        name      shape         initializer     layout  fan_in  fan_out  std       rule
        0.weight  (8, 3, 3, 3)  he_normal       torch   27      72       0.272166  Conv2d|Linear.weight
        0.bias    (8,)          uniform_(±1/√27)  torch   27      -        0.111111  default=torch
        1.weight  (8,)          ones_           -       -       -        0         default=torch
        1.bias    (8,)          zeros_          -       -       -        0         default=torch
        3.weight  (2, 8)        he_normal       torch   8       2        0.5       Conv2d|Linear.weight
        3.bias    (2,)          uniform_(±1/√8)  torch   8       -        0.204124  default=torch
        buffers reset: 3 (1.running_mean, 1.running_var, 1.num_batches_tracked)
    """
    if not isinstance(module, torch.nn.Module):
        raise TypeError(f"`module` must be a torch.nn.Module; received module={module!r}.")
    checked = _rules.check_rules(rules, _resolve_torch, by_type=True, help=_PATTERN_HELP)
    key = _rules.model_seed(seed)
    is_skipped = _skip_fn(skip)
    _rules.check_default(default, _DEFAULTS)
    if not isinstance(prefix, str):
        raise TypeError(f"`prefix` must be a str (the module's name in the whole model); received prefix={prefix!r}.")
    gen = check_gen_dtype(gen_dtype)
    if isinstance(chunk_elems, bool) or not isinstance(chunk_elems, int) or chunk_elems < 1:
        raise InvalidArgumentError(f"`chunk_elems` must be a positive int; received chunk_elems={chunk_elems!r}.")
    eng = check_engine(engine)
    lead = prefix.rstrip(".") + "." if prefix.strip(".") else ""

    # plan every parameter before touching any, so that a bad rule changes nothing
    seen: set[int] = set()
    plan: list[tuple[str, torch.Tensor, ParamRow, ParamPlan | None, Any]] = []
    unmatched: list[str] = []
    no_recipe: list[str] = []
    fan_errors: list[str] = []
    keep_stats: set[int] = set()
    parents_of: dict[str, list[torch.nn.Module]] = {"": []}
    for mod_name, owner in module.named_modules(remove_duplicate=False):
        parents = parents_of.get(mod_name, [])
        for child_name, _child in owner.named_children():
            parents_of[f"{mod_name}.{child_name}" if mod_name else child_name] = [*parents, owner]
        for local, param in owner.named_parameters(recurse=False):
            if id(param) in seen:
                continue  # a shared (tied) parameter is initialized once, under its first name
            seen.add(id(param))
            name = lead + (f"{mod_name}.{local}" if mod_name else local)
            if isinstance(param, torch.nn.parameter.UninitializedParameter):
                raise InvalidArgumentError(
                    f"parameter {lead + (f'{mod_name}.{local}' if mod_name else local)!r} of "
                    f"{type(owner).__name__} is not materialized yet (a lazy module): run one forward pass "
                    f"(or call the module on a dummy input) before init_module."
                )
            shape = tuple(int(s) for s in param.shape)
            dtype_text = str(param.dtype).replace("torch.", "")
            rule = next((r for r in checked if _rules.matches(r.pattern, name, local, (owner,))), None)
            if rule is not None:
                rule.used += 1  # a rule that matches only skipped parameters is not unused
            if is_skipped(name):
                keep_stats.add(id(owner))
                plan.append((name, param, ParamRow.left(name, shape, "skip", dtype_text), None, None))
                continue
            post = None
            if rule is not None:
                rule_text = rule.text
                if rule.init is None:
                    plan.append((name, param, ParamRow.left(name, shape, rule_text, dtype_text), None, None))
                    continue
                if isinstance(rule.init, FanInBias):
                    pp = _fan_in_bias(rule.init, owner, name, shape, rule_text)
                else:
                    try:
                        pp = plan_param(rule.init, shape, "torch")
                    except FanError as err:
                        fan_errors.append(
                            f"{name} {shape} matched rule {rule_text!r}: {err} (torch's own kaiming_*_/xavier_*_ "
                            f"raise on such tensors)"
                        )
                        continue
            elif default in ("error", "skip"):
                if default == "error":
                    unmatched.append(name)
                else:
                    plan.append((name, param, ParamRow.left(name, shape, "default=skip", dtype_text), None, None))
                continue
            else:
                rule_text = f"default={default}"
                recipe = recipe_for(default, owner, local, param, parents)
                if recipe is None:
                    no_recipe.append(f"{name} ({type(owner).__name__}.{local})")
                    continue
                pp, post = recipe.plan, recipe.post
            check_target(param, f"parameter {name!r}", "module")
            row = pp.row(name, shape, rule_text, dtype_text)
            plan.append((name, param, row, pp, post))
    problems = []
    if unmatched:
        problems.append(
            f"{len(unmatched)} parameter(s) match no rule: {listing(unmatched)}; add rules for them, or pass "
            f"default='torch' (torch's own init), 'keras', 'flax', or 'skip' to leave them as they are."
        )
    if no_recipe:
        problems.append(
            f"default={default!r} has no recipe for {len(no_recipe)} parameter(s) of layers it does not know: "
            f"{listing(no_recipe)}; add rules for them (rules come before the default)."
        )
    if fan_errors:
        problems.append(
            f"{len(fan_errors)} parameter(s) with fewer than 2 dimensions matched a fan-based initializer: "
            f"{listing(fan_errors)}. Restrict the rule (e.g. '*.weight' → (torch.nn.Linear, 'weight')) or put a "
            f"rule for biases/norms before it ('*.bias' → 0.0)."
        )
    _rules.report_unused(checked, "parameter", f"full names{' (with prefix ' + repr(lead.rstrip('.')) + ')' if lead else ''}",
                  [lead + n for n, _ in module.named_parameters()], strict, problems)
    if problems:
        raise InvalidArgumentError(" ".join(problems))

    buffers: list[str] = []
    finite: set[int] = set()  # parameters finite by construction: no need to read them again
    with torch.no_grad():
        for name, param, row, todo, post in plan:
            if row.skipped or todo is None:
                continue
            local, offsets = local_part(param, name)
            fill_param(local, tuple(local.shape), todo, derive_stream(key.seed, name), gen, chunk_elems,
                  full_shape=row.shape, offsets=offsets, engine=eng)
            if post is not None:
                post(local, offsets)
            if finite_by_construction(todo, param.dtype):
                finite.add(id(param))
        for mod_name, owner in module.named_modules():
            full = lead + mod_name
            if id(owner) in keep_stats or is_skipped(f"{full}.running_mean" if mod_name else f"{lead}running_mean"):
                continue
            buffers.extend(f"{full}.{b}" if mod_name else f"{lead}{b}" for b in reset_buffers(owner))
    check_finite(module, lead, finite)
    return InitReport([row for _, _, row, _, _ in plan], buffers)


def fill_shard(
    tensor: torch.Tensor,
    init: Any,
    full_shape: ShapeLike,
    offsets: Sequence[SupportsIndex],
    seed: int | Stream | None = None,
    *,
    gen_dtype: str | None = None,
    chunk_elems: int = 1 << 24,
    engine: str | None = None,
) -> torch.Tensor:
    """Fill ``tensor``, the local shard at ``offsets`` of a parameter of ``full_shape``, with exactly its slice.

    The shard is ``full[offsets[0]:offsets[0]+tensor.shape[0], ...]`` of the
    tensor ``init`` draws for ``full_shape`` (fans from the full shape), as
    FSDP (a dim-0 chunk) or a DTensor (``Shard(d)`` placements; torch's
    ``compute_local_shape_and_global_offset``) hold it. Gathering every
    rank's shard gives the single-process tensor bit for bit.

    Args:
        tensor: the local shard (any floating dtype and device), filled in place.
        init: any initializer a rule accepts (see :func:`init_module`); torch layout unless given.
        full_shape: the full parameter's shape.
        offsets: the shard's start index along each axis (trailing axes may
            be left out: offset 0).
        seed: an int or :class:`varscale.Stream` overriding the
            initializer's; pass ``vs.derive_stream(seed, name)`` to get the
            values :func:`init_module` gives parameter ``name``.
        gen_dtype: None (the shard's own dtype), ``"float32"`` or ``"float64"`` (as :func:`init_module`).
        chunk_elems: elements drawn and copied at a time.
        engine: as :func:`init_module` (the torch engine for shards on an accelerator).

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
    t = check_target(tensor, "`tensor`", "tensor")
    own = getattr(init, "_stream", None)
    if isinstance(init, str) or own is None:
        resolved = _rules.resolve(init, layout="torch", where="`init`")
    else:  # an initializer with its own seed: the seed is used (unless `seed` overrides it)
        resolved = _rules.resolve(type(init).from_config({**init.get_config(), "seed": None}), layout="torch",
                           where="`init`")
    if resolved is None:
        raise TypeError("`init` must be an initializer; received init=None.")
    stream = resolve_seed(seed, "seed") or own
    if stream is None:
        raise InvalidArgumentError(
            "fill_shard needs a seed that every rank shares: pass seed= (vs.derive_stream(seed, name) gives the "
            "values init_module gives that parameter) or an initializer built with seed=."
        )
    full = check_shape(full_shape, "full_shape")
    if isinstance(offsets, (str, bytes)) or not isinstance(offsets, Sequence):
        raise TypeError(f"`offsets` must be a sequence of non-negative ints; received offsets={offsets!r}.")
    offs = list(check_shape(tuple(offsets), "offsets")) + [0] * (len(full) - len(offsets))
    local = tuple(int(s) for s in t.shape)
    if len(offs) != len(full) or len(local) != len(full) or any(
        o < 0 or o + s > f for o, s, f in zip(offs, local, full, strict=True)
    ):
        raise InvalidArgumentError(
            f"the shard of shape {local} at offsets={tuple(offsets)!r} does not lie inside "
            f"full_shape={full!r}."
        )
    gen = check_gen_dtype(gen_dtype)
    try:
        pp = plan_param(resolved, full, "torch")
    except FanError as err:
        raise InvalidArgumentError(f"`init` {err}; received full_shape={full!r}.") from None
    with torch.no_grad():
        fill_param(t.data, local, pp, stream, gen, chunk_elems, full_shape=full, offsets=tuple(offs),
              engine=check_engine(engine))
    return tensor
