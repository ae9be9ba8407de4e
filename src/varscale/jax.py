"""Sharded JAX arrays whose shards are generated on (and for) each device.

``varscale.jax.sharded(init, shape, sharding)`` calls
``jax.make_array_from_callback``: for each addressable device JAX asks for
the index (a tuple of slices) of that device's shard, and varscale draws
exactly that region of the full tensor (docs/stream.md). No device
and no host ever holds the whole tensor, and the result equals the unsharded
``init(shape)`` bit for bit for every mesh and partition spec (replicated
axes draw the same values on each replica). Multi-host: each process draws
its own addressable shards only.

Whole pytrees: :func:`init_params` re-initializes every floating array of
any pytree (Flax Linen params, an NNX state, an Equinox module) by rules on
its key path joined with ``"/"`` (``"params/Dense_0/kernel"``) or by Flax's
defaults (``default="flax"``), each from ``vs.derive_stream(seed, name)``,
and returns a new pytree with the same structure, dtypes and shardings.
:func:`flax_init` hands any varscale initializer to Flax as ``kernel_init=``.

Importing this module imports JAX (``pip install jax``); ``import varscale``
does not.

Example:
    >>> import jax, numpy as np
    >>> from jax.sharding import Mesh, NamedSharding, PartitionSpec as P
    >>> import varscale as vs
    >>> from varscale.jax import sharded
    >>> mesh = Mesh(np.array(jax.devices()[:1]), ("x",))
    >>> w = sharded(vs.HeNormal(seed=0), (64, 32), NamedSharding(mesh, P("x", None)))
    >>> bool((np.asarray(w) == vs.HeNormal(seed=0)((64, 32))).all())
    True
"""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence
from typing import Any

import jax
import numpy as np

from . import _rules
from ._basic import Constant, Ones, Orthogonal, Zeros
from ._dtypes import DTypeLike, resolve_dtype
from ._errors import InvalidArgumentError
from ._fans import Layout
from ._initializer import VarianceScaling
from ._jax_flax import flax_init, is_tracer, key_seed, traced_draw
from ._report import InitReport, ParamRow, listing
from ._rules import FanError, ParamPlan, Rules, plan_param
from ._validation import ShapeLike, check_shape
from .stream import Stream, derive_stream, resolve_seed

__all__ = ["InitReport", "ParamRow", "flax_init", "init_params", "key_seed", "sharded"]

for _public in (flax_init, key_seed):
    _public.__module__ = __name__  # public here (its docs and examples too); defined in _jax_flax


def _region(index: Any, shape: tuple[int, ...]) -> tuple[slice, ...]:
    """JAX's shard index (slices, possibly open, possibly fewer than the axes) as explicit slices."""
    out = []
    for axis, n in enumerate(shape):
        s = index[axis] if axis < len(index) else slice(None)
        start, stop, step = s.indices(n)
        if step != 1:  # pragma: no cover - JAX shards are contiguous
            raise InvalidArgumentError(f"varscale.jax: a shard index with step {step} is not supported: {index!r}.")
        out.append(slice(start, stop))
    return tuple(out)


def sharded(
    init: Any,
    shape: ShapeLike,
    sharding: jax.sharding.Sharding | jax.sharding.PartitionSpec,
    dtype: DTypeLike = None,
    seed: int | Stream | jax.Array | None = None,
) -> jax.Array:
    """A ``jax.Array`` equal to ``init(shape, dtype)``, laid out by ``sharding``, each shard drawn for its device.

    Args:
        init: any initializer a model-level rule accepts (a
            :class:`varscale.VarianceScaling` or preset, ``vs.Normal``…, a name
            such as ``"he_normal"``, an expression; layout ``"tf"`` unless
            given: JAX/Flax kernels), or a JAX facade initializer
            (``varscale.compat.jax.nn.initializers.he_normal()``), which then
            runs under ``jax.jit`` with ``out_shardings``.
        shape: the full (global) shape.
        sharding: any ``jax.sharding.Sharding`` (``NamedSharding``,
            ``SingleDeviceSharding``…), or a ``PartitionSpec`` over the
            ambient mesh (``jax.set_mesh(mesh)``).
        dtype: ``"float32"`` (None), ``"float64"`` (needs
            ``jax_enable_x64``), ``"float16"`` or ``"bfloat16"``.
        seed: an int, a :class:`varscale.Stream` or a JAX key
            (``jax.random.key(s)`` is seed ``s``), overriding the
            initializer's; with both None one fresh stream is drawn for the
            whole array. A JAX facade initializer needs a seed or a key.

    Returns:
        The global ``jax.Array``. Gathered, it equals the single-device draw
        bit for bit; no device ever holds another device's shard.

    Example:
        >>> import jax, numpy as np
        >>> from jax.sharding import Mesh, NamedSharding, PartitionSpec as P
        >>> import varscale as vs
        >>> from varscale.jax import sharded
        >>> mesh = Mesh(np.array(jax.devices()[:1]).reshape(1, 1), ("data", "model"))
        >>> w = sharded(vs.GlorotUniform(), (16, 8), NamedSharding(mesh, P(None, "model")), seed=3)
        >>> w.shape, str(w.dtype)
        ((16, 8), 'float32')
        >>> with jax.set_mesh(mesh):
        ...     v = sharded("glorot_uniform", (16, 8), P(None, "model"), seed=jax.random.key(3))
        >>> bool((np.asarray(v) == np.asarray(w)).all())
        True
    """
    dims = check_shape(shape)
    out_dtype = resolve_dtype(dtype)[0]
    sharding = _as_sharding(sharding)
    if _is_facade(init):
        if seed is None:
            raise InvalidArgumentError(
                "a JAX facade initializer needs `seed` (an int or a JAX key) to run under jax.jit with the "
                "sharding; received seed=None."
            )
        key = seed if not isinstance(seed, Stream) else _stream_key(seed)
        return jax.jit(lambda k: init(k, dims, out_dtype), out_shardings=sharding)(key)
    own = getattr(init, "_stream", None)  # an initializer's own seed is used unless `seed` overrides it
    resolved = _rules.resolve(_without_seed(init) if own is not None else init, layout="tf", where="`init`")
    if resolved is None:
        raise TypeError("`init` must be an initializer; received init=None.")
    if seed is not None and not isinstance(seed, (int, Stream, np.integer)) and hasattr(seed, "dtype"):
        seed = Stream(key_seed(seed), 0)  # a JAX key: its bits are the seed, as the JAX facade reads them
    stream = resolve_seed(seed, "seed") or own
    if stream is None:
        from .stream import fresh_stream

        stream = fresh_stream()
    plan = plan_param(resolved, dims, "tf")

    def shard(index: Any) -> np.ndarray[Any, Any]:
        return plan.draw(dims, out_dtype, stream, region=_region(index, dims))

    return jax.make_array_from_callback(dims, sharding, shard, dtype=out_dtype)


def _without_seed(init: Any) -> Any:
    cfg = init.get_config()
    if "seed" in cfg:
        cfg["seed"] = None
    return type(init).from_config(cfg)


def _stream_key(stream: Stream) -> Any:
    if stream.stream:
        return np.array([stream.seed >> 32, stream.seed & 0xFFFFFFFF, stream.stream >> 32,
                         stream.stream & 0xFFFFFFFF], dtype=np.uint32)
    return np.array([stream.seed >> 32, stream.seed & 0xFFFFFFFF], dtype=np.uint32)


def _is_facade(init: Any) -> bool:
    return callable(init) and getattr(init, "__module__", "") == "varscale.compat.jax.nn.initializers" and \
        not isinstance(init, type)


def _as_sharding(sharding: Any) -> Any:
    if isinstance(sharding, jax.sharding.Sharding):
        return sharding
    if isinstance(sharding, jax.sharding.PartitionSpec):
        mesh = jax.sharding.get_mesh()
        if mesh is None or getattr(mesh, "empty", True):
            raise InvalidArgumentError(
                "`sharding` is a PartitionSpec but no mesh is set: wrap the call in `with jax.set_mesh(mesh):` "
                f"or pass a NamedSharding; received sharding={sharding!r}."
            )
        return jax.sharding.NamedSharding(mesh, sharding)
    raise TypeError(
        f"`sharding` must be a jax.sharding.Sharding (NamedSharding, SingleDeviceSharding, ...) or a "
        f"PartitionSpec under jax.set_mesh; received sharding={sharding!r}."
    )


# -- whole pytrees ---------------------------------------------------------------------------------------------
_FLOATS = ("float16", "bfloat16", "float32", "float64")
_DEFAULTS = ("error", "skip", "flax")
#: the recurrent (hidden-to-hidden) Dense submodules of Flax's LSTMCell/OptimizedLSTMCell, GRUCell, MGUCell and
#: SimpleCell (Linen: one per gate; NNX's OptimizedLSTMCell/GRUCell/SimpleCell: ``dense_h``, all gates in one
#: kernel, one orthogonal matrix): their kernels are ``recurrent_kernel_init`` = orthogonal
_FLAX_RECURRENT = frozenset({"hi", "hf", "hg", "ho", "hr", "hz", "hn", "h", "dense_h"})
_QKV = frozenset({"query", "key", "value"})


def _key_text(key: Any) -> str:
    tu = jax.tree_util
    if isinstance(key, tu.DictKey):
        return str(key.key)
    if isinstance(key, tu.GetAttrKey):
        return str(key.name)
    if isinstance(key, tu.SequenceKey):
        return str(key.idx)
    if isinstance(key, tu.FlattenedIndexKey):
        return str(key.key)
    return str(key)  # pragma: no cover - custom key types


def _path_parts(path: Sequence[Any]) -> list[str]:
    parts = [_key_text(k) for k in path]
    if len(path) > 1 and isinstance(path[-1], jax.tree_util.GetAttrKey) and path[-1].name == "value":
        parts = parts[:-1]  # an NNX Variable's .value is the variable itself: "kernel", not "kernel/value"
    return parts


def _flax_default(parts: list[str], shape: tuple[int, ...]) -> Any:
    """Flax's default initializer for a parameter named ``parts`` (None when Flax has no such default)."""
    last = parts[-1] if parts else ""
    parent = parts[-2] if len(parts) > 1 else ""
    if last == "kernel":
        if parent in _FLAX_RECURRENT and len(shape) == 2:
            init: Any = Orthogonal(layout="tf")
            init._label = "orthogonal (recurrent)"
            return init
        if parent in _QKV and len(shape) == 3:
            # DenseGeneral draws its kernel flat, (features, heads·head_dim), then reshapes
            init = VarianceScaling(1.0, "fan_in", "truncated_normal", layout=Layout(in_axis=0, out_axis=(1, 2)))
        elif parent == "out" and len(shape) == 3:
            init = VarianceScaling(1.0, "fan_in", "truncated_normal", layout=Layout(in_axis=(0, 1), out_axis=2))
        else:
            init = VarianceScaling(1.0, "fan_in", "truncated_normal", layout="tf")
        init._label = "lecun_normal"
        return init
    if last == "embedding" and len(shape) == 2:
        init = VarianceScaling(1.0, "fan_in", "untruncated_normal", layout=Layout(in_axis=1, out_axis=0))
        init._label = "embed: N(0, 1/features)"
        return init
    if last in ("bias", "mean"):
        return Zeros()
    if last in ("scale", "var"):
        return Ones()
    if last == "negative_slope":
        return Constant(0.01)
    return None


def _resolve_tf(init: Any, where: str) -> Any:
    return _rules.resolve(init, layout="tf", where=where)


def _new_leaf(leaf: Any, shape: tuple[int, ...], dtype: str, plan: ParamPlan, stream: Stream, name: str) -> Any:
    sharding = None
    if is_tracer(leaf):  # under jax.jit: the JAX engine, the same bits (placement is the caller's out_shardings)
        return traced_draw(plan, shape, leaf.dtype, stream, 0, f"leaf {name!r}")
    if isinstance(leaf, jax.Array):
        sharding = leaf.sharding
    elif isinstance(leaf, jax.ShapeDtypeStruct):  # an abstract tree (jax.eval_shape(model.init, ...))
        sharding = leaf.sharding if leaf.sharding is not None else jax.sharding.SingleDeviceSharding(jax.devices()[0])
    else:
        return plan.draw(shape, dtype, stream)

    def shard(index: Any) -> np.ndarray[Any, Any]:
        return plan.draw(shape, dtype, stream, region=_region(index, shape) if shape else None)

    return jax.make_array_from_callback(shape, sharding, shard, dtype=leaf.dtype)


def init_params(
    params: Any,  # a pytree: any nesting of containers and arrays
    rules: Rules = (),
    *,
    seed: int,
    default: str = "error",
    strict: bool = True,
    return_report: bool = False,
) -> Any:
    """A new pytree like ``params`` with every floating array drawn from ``vs.derive_stream(seed, name)``.

    ``name`` is the leaf's key path joined with ``"/"``: a dict key as is,
    an attribute by its name, a sequence index as its number
    (``"params/Dense_0/kernel"``, ``"layers/0/weight"``); an NNX
    ``Variable``'s trailing ``.value`` is left out (``"linear/kernel"``).
    Each array is drawn in its own dtype (bfloat16 included: the stream's own
    bits, as ``vs.<Init>(seed=vs.derive_stream(seed, name))(shape, dtype)``)
    and placed with its own sharding, each shard drawn for its device (see
    :func:`sharded`). A ``jax.ShapeDtypeStruct`` leaf (the tree
    ``jax.eval_shape(model.init, ...)`` gives) becomes a ``jax.Array`` with
    its sharding (or on the default device), so a model too large for one
    device is never materialized by Flax's own init. NumPy leaves stay NumPy
    arrays; non-floating leaves (integer counters, PRNG keys) and non-array
    leaves are kept as they are. Under ``jax.jit`` (traced leaves) the values
    come from varscale's JAX engine — the same bits — and are placed by the
    jit's ``out_shardings``; only orthogonal initializers (a host QR) are
    refused there.

    Args:
        params: any pytree of arrays.
        rules: ``(glob, initializer)`` pairs (or a mapping); the first
            matching glob on the name wins. An initializer is anything a
            torch rule accepts (varscale initializers, names, numbers,
            ``"normal(std=0.02)"``, framework expressions, a ``vs.Spec``…) or
            None (keep the leaf). Layouts are TF/Flax's (kernels ``(*kernel,
            in, out)``) unless given.
        seed: an int in ``[0, 2**64)``. An initializer with its own seed is
            refused.
        default: what a leaf no rule matches gets: ``"error"`` (raise, naming
            them all), ``"skip"`` (keep it), or ``"flax"``: Flax Linen's layer
            defaults by parameter name — ``kernel`` ``lecun_normal`` (TF
            layout; ``query``/``key``/``value``/``out`` 3-D kernels with
            DenseGeneral's flat fans), ``bias`` zeros, ``embedding``
            ``variance_scaling(1, 'fan_in', 'normal', out_axis=0)`` =
            ``N(0, 1/features)``, ``scale`` ones, the kernels of recurrent
            cells' hidden-to-hidden Dense layers (``hi hf hg ho``, ``hr hz
            hn``, ``h``, NNX's ``dense_h``) orthogonal, BatchNorm's ``mean``/``var`` zeros/ones,
            PReLU's ``negative_slope`` 0.01.
        strict: a rule that matches no leaf is an error (True) or a warning.
        return_report: also return an :class:`InitReport`.

    Returns:
        The new pytree, or ``(pytree, report)`` with ``return_report=True``.

    Raises:
        InvalidArgumentError: a leaf no rule matches (``default="error"``), a
            name ``default="flax"`` has no default for, a fan-based
            initializer on a leaf with fewer than 2 dimensions, a rule that
            matches nothing (``strict``) or only non-floating leaves, or an
            orthogonal initializer on a traced leaf (under ``jax.jit``).

    Example:
        >>> import jax, jax.numpy as jnp, numpy as np
        >>> import flax.linen as nn
        >>> import varscale as vs
        >>> from varscale.jax import init_params
        >>> variables = nn.Dense(4).init(jax.random.key(0), jnp.ones((1, 8)))
        >>> new, report = init_params(variables, seed=0, default="flax", return_report=True)
        >>> print(report)  # doctest: +NORMALIZE_WHITESPACE
        name            shape   initializer   layout  fan_in  fan_out  std       rule
        params/bias     (4,)    zeros         -       -       -        0         default=flax
        params/kernel   (8, 4)  lecun_normal  tf      8       4        0.353553  default=flax
        >>> w = vs.LecunNormal(seed=vs.derive_stream(0, "params/kernel"))((8, 4))
        >>> bool((np.asarray(new["params"]["kernel"]) == w).all())
        True
    """
    checked = _rules.check_rules(rules, _resolve_tf, by_type=False, help="a glob on leaf names (str, key paths joined with '/')")
    key = _rules.model_seed(seed)
    _rules.check_default(default, _DEFAULTS)
    flat, treedef = jax.tree_util.tree_flatten_with_path(params)
    rows: list[ParamRow] = []
    todo: list[tuple[int, str, ParamRow, ParamPlan]] = []
    names: dict[str, int] = {}
    dupes: list[str] = []
    unmatched: list[str] = []
    no_default: list[str] = []
    fan_errors: list[str] = []
    not_float: list[str] = []
    for i, (path, leaf) in enumerate(flat):
        if not (hasattr(leaf, "shape") and hasattr(leaf, "dtype")):
            continue
        parts = _path_parts(path)
        name = "/".join(parts)
        if name in names:
            dupes.append(name)
        names[name] = i
        shape = tuple(int(s) for s in leaf.shape)
        dtype = str(leaf.dtype)
        rule = next((r for r in checked if fnmatch.fnmatchcase(name, r.pattern)), None)
        if rule is not None:
            rule.used += 1
        if dtype not in _FLOATS:
            if rule is not None and rule.init is not None:
                not_float.append(f"{name} ({dtype}, rule {rule.pattern!r})")
            rows.append(ParamRow.left(name, shape, "not floating", dtype))
            continue
        if rule is not None:
            if rule.init is None:
                rows.append(ParamRow.left(name, shape, rule.pattern, dtype))
                continue
            init, rule_text = rule.init, rule.pattern
        elif default == "error":
            unmatched.append(name)
            continue
        elif default == "skip":
            rows.append(ParamRow.left(name, shape, "default=skip", dtype))
            continue
        else:
            init, rule_text = _flax_default(parts, shape), "default=flax"
            if init is None:
                no_default.append(name)
                continue
        try:
            pp = plan_param(init, shape, "tf")
        except FanError as err:
            fan_errors.append(f"{name} {shape} ({rule_text}): {err}")
            continue
        row = pp.row(name, shape, rule_text, dtype)
        rows.append(row)
        todo.append((i, name, row, pp))

    problems = []
    if dupes:
        problems.append(
            f"{len(dupes)} name(s) are shared by several leaves: {listing(dupes)}; each leaf's stream comes from its "
            f"name, so they would get the same values. Rename the keys (a key containing '/' can collide)."
        )
    if unmatched:
        problems.append(
            f"{len(unmatched)} leaf/leaves match no rule: {listing(unmatched)}; add rules for them, or pass "
            f"default='flax' (Flax's defaults by parameter name) or 'skip' to keep them."
        )
    if no_default:
        problems.append(
            f"default='flax' has no default for {len(no_default)} leaf/leaves: {listing(no_default)} (it knows "
            f"kernel, bias, embedding, scale, mean, var, negative_slope); add rules for them."
        )
    if fan_errors:
        problems.append(
            f"{len(fan_errors)} leaf/leaves with fewer than 2 dimensions got a fan-based initializer: "
            f"{listing(fan_errors)}. Restrict the rule (e.g. '*/kernel') or put a rule for biases/scales before it."
        )
    if not_float:
        problems.append(
            f"{len(not_float)} non-floating leaf/leaves matched a rule: {listing(not_float)}; only floating arrays "
            f"can be initialized (restrict the rule, or map them to None)."
        )
    _rules.report_unused(checked, "leaf", "key paths joined with '/'", [r.name for r in rows], strict, problems)
    if problems:
        raise InvalidArgumentError(" ".join(problems))

    leaves = [leaf for _, leaf in flat]
    for i, name, row, pp in todo:
        leaves[i] = _new_leaf(leaves[i], row.shape, row.dtype, pp, derive_stream(key.seed, name), name)
    out = jax.tree_util.tree_unflatten(treedef, leaves)
    return (out, InitReport(rows)) if return_report else out
