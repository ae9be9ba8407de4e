"""Initialize a whole Keras 3 model from varscale's stream.

:func:`init_model` walks every weight of a built Keras 3 model, picks an
initializer for it by rules (globs on the weight's path ``"dense/kernel"``,
layer types, or ``(layer type, glob on the weight's name)``) or by the
layer's own configured initializers (``default="keras"``), draws it from its
own stream ``vs.derive_stream(seed, path)`` and assigns it with
``weight.assign``. ``path`` is ``weight.path`` without the model's own name
(a ``Sequential`` or subclassed model builds its layers inside its name
scope, ``"sequential_3/dense/kernel"``; a functional model does not): the
path of ``"dense/kernel"`` is the same in every kind of model. A layer passed
alone (not a ``keras.Model``) keeps its name: ``"dense/kernel"``, the values
it gets inside a model. The values depend on the seed, the weight's path, shape
and dtype only: not on the backend (TensorFlow, JAX, torch), the order
layers were built in, or Keras' own seeds.

**Layouts follow Keras.** Rules read weights in the TF layout (Dense
``(in, out)``, Conv ``(*kernel, in, out)``) unless an initializer gives
``layout=``. ``default="keras"`` reproduces Keras' own fans, including the
einsum axes Keras 3 gives the kernels of ``EinsumDense`` (and so of
``MultiHeadAttention``'s query/key/value/output projections): input axes are
the kernel axes that the equation contracts, output axes those that appear in
the output (``"abc,cde->abde"``: fan_in = c, fan_out = d·e).

**default="keras"** maps each layer's configured initializer
(``kernel_initializer``, ``bias_initializer``, ``embeddings_initializer``,
``gamma``/``beta``/``moving_mean``/``moving_variance``, ``recurrent_initializer``,
``depthwise``/``pointwise``, ``alpha``…; the fixed initializers Keras builds
``RMSNormalization``/``Attention``/``AdditiveAttention`` scales and LoRA
kernels with) to varscale's equivalent:
``VarianceScaling`` and its presets (Glorot/He/Lecun) to
:class:`varscale.VarianceScaling` with the same scale, mode and distribution;
``RandomNormal``, ``RandomUniform``, ``TruncatedNormal`` (cut at ±2 stddev
around the mean), ``Zeros``, ``Ones``, ``Constant`` and ``Orthogonal`` to the
core classes. LSTM's ``unit_forget_bias`` sets the forget gate's quarter of the
bias to ones, as Keras does. A Keras initializer's own seed is not used (the
model-level ``seed`` decides every value); any other initializer (``Identity``,
a custom callable) is an error naming the weight.

Importing this module imports Keras (``pip install keras``); ``import
varscale`` does not.

Example:
    >>> import keras
    >>> import varscale as vs
    >>> from varscale.keras import init_model
    >>> model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(4, name="dense")])
    >>> report = init_model(model, seed=0)
    >>> print(report)  # doctest: +NORMALIZE_WHITESPACE
    name          shape   initializer     layout  fan_in  fan_out  std       rule
    dense/kernel  (8, 4)  glorot_uniform  tf      8       4        0.408248  default=keras
    dense/bias    (4,)    zeros           -       -       -        0         default=keras
    >>> w = vs.GlorotUniform(seed=vs.derive_stream(0, "dense/kernel"))((8, 4))
    >>> bool((model.layers[0].kernel.numpy() == w).all())
    True
"""

from __future__ import annotations

import dataclasses
from typing import Any

import keras
import numpy as np

from . import _rules
from ._errors import InvalidArgumentError
from ._initializer import VarianceScaling
from ._keras_convert import axes_layout, einsum_axes, from_keras
from ._report import InitReport, ParamRow, listing
from ._rules import FanError, ParamPlan, Rules, plan_param
from .stream import derive_stream

__all__ = ["InitReport", "ParamRow", "einsum_axes", "from_keras", "init_model"]

for _public in (einsum_axes, from_keras):
    _public.__module__ = __name__  # public here (its docs and examples too); defined in _keras_convert

_DEFAULTS = ("keras", "error", "skip")
_FLOATS = ("float16", "bfloat16", "float32", "float64")


# -- the layers' own initializers ---------------------------------------------------------------------------
#: weights whose initializer Keras 3.15 writes into the layer's build, not into a ``*_initializer`` attribute:
#: (layer class name in the MRO, weight name) -> Keras initializer name
_BUILT_IN: dict[tuple[str, str], str] = {
    ("RMSNormalization", "scale"): "ones",
    ("Attention", "scale"): "ones",
    ("Attention", "concat_score_weight"): "ones",
    ("AdditiveAttention", "scale"): "glorot_uniform",
    ("Layer", "lora_kernel_a"): "he_uniform",  # Dense/EinsumDense/Conv/Embedding enable_lora(): a_initializer
    ("Layer", "lora_kernel_b"): "zeros",
}


def _initializer_attribute(owner: Any, local: str) -> Any:
    names = [f"{local}_initializer"]
    if local.endswith("_kernel"):
        names.append(local[: -len("_kernel")] + "_initializer")
    if local == "kernel":
        names.append("depthwise_initializer")  # DepthwiseConv1D/2D name their depthwise kernel "kernel"
    for attr in names:
        if hasattr(owner, attr):
            return getattr(owner, attr), attr
    for cls in type(owner).__mro__:
        name = _BUILT_IN.get((cls.__name__, local))
        if name is not None:
            return keras.initializers.get(name), f"{local} (built with {name!r})"
    return None, None


def _unit_forget_bias(values: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """Keras' LSTM unit_forget_bias: the forget gate's quarter of the bias (gate order i, f, c, o) set to 1."""
    out = np.array(values)
    units = out.shape[0] // 4
    out[units: 2 * units] = 1
    return out


def _plan_keras(core: Any, shape: tuple[int, ...], label: str | None = None) -> ParamPlan:
    """plan_param, except that Keras' fan-based initializers also run on 0-/1-D weights (fans (1, 1), (k, k))."""
    if isinstance(core, VarianceScaling) and len(shape) < 2:
        d = core.describe(shape)
        return ParamPlan(label or _rules.label_of(core), "tf", d.fan_in, d.fan_out, d.std, sampler=core.sampler(shape))
    return plan_param(core, shape, "tf", label)


def _keras_default(owner: Any, local: str, name: str, shape: tuple[int, ...]) -> tuple[ParamPlan, Any]:
    if owner is None:
        raise InvalidArgumentError(f"{name}: no layer of the model owns this weight")
    init, attr = _initializer_attribute(owner, local)
    if init is None:
        raise InvalidArgumentError(
            f"{name} ({type(owner).__name__}.{local}): the layer has no {local}_initializer attribute"
        )
    where = f"{name} ({type(owner).__name__}.{attr})"
    core: Any = from_keras(init, where=where)
    if (isinstance(owner, keras.layers.EinsumDense) and local == "kernel" and isinstance(core, VarianceScaling)
            and (getattr(init, "input_axes", None) is None or getattr(init, "output_axes", None) is None)
            and hasattr(init, "input_axes")):
        # EinsumDense.build gives its VarianceScaling kernel initializer the equation's axes (Keras >= 3.12)
        ins, outs = einsum_axes(owner.equation)
        cfg = core.get_config()
        cfg["layout"] = axes_layout(ins, outs, where, len(shape)).to_config()
        label = getattr(core, "_label", None)
        core = VarianceScaling.from_config(cfg)
        if label is not None:
            core._label = label
    if local == "bias" and getattr(owner, "unit_forget_bias", False) and len(shape) == 1 and shape[0] % 4 == 0:
        # the layer's bias initializer over the whole vector (the same values as without unit_forget_bias),
        # then the forget quarter set to ones
        base = _plan_keras(core, shape)
        return dataclasses.replace(base, label=f"{base.label} + unit_forget_bias", std=None), _unit_forget_bias
    return _plan_keras(core, shape), None


# -- rules ------------------------------------------------------------------------------------------------------
def _resolve_rule(init: Any, where: str) -> Any:
    if isinstance(init, keras.initializers.Initializer):
        seed = init.get_config().get("seed")
        if seed is not None:
            raise InvalidArgumentError(
                f"{where}: the Keras initializer {type(init).__name__}(seed={seed!r}) has its own seed; in a "
                f"model-level rule every weight draws from derive_stream(seed, path) of the model's seed, which "
                f"wins. Drop seed= from the initializer."
            )
        return from_keras(init, where=where)
    return _rules.resolve(init, layout="tf", where=where)


_PATTERN_HELP = ("a glob on weight paths (str), a layer type or tuple of types, or (layer type(s), glob on the "
                 "weight's name)")


def _storage_dtype(weight: Any) -> str:
    """The dtype the backend really stores (JAX without x64 keeps a "float64" Keras weight in float32)."""
    value = getattr(weight, "value", None)
    if value is not None and hasattr(value, "dtype"):
        return str(keras.backend.standardize_dtype(value.dtype))
    return str(weight.dtype)  # pragma: no cover - every Keras 3 variable has a value


def _relative(path: str, lead: str) -> str:
    """The path without the model's own name: Sequential and subclassed models build their layers inside their
    name scope (``"sequential_3/dense/kernel"``), functional models do not; the name counter must not change
    the values."""
    return path[len(lead):] if path.startswith(lead) else path


# -- the model's weights and their layers ------------------------------------------------------------------------
def _sublayers(layer: Any) -> list[Any]:
    subs = getattr(layer, "_layers", None)
    if subs is None:  # pragma: no cover - Keras 3 layers all track _layers
        return []
    return list(subs)


def _owners(model: Any) -> dict[int, list[Any]]:
    """id(variable) -> [owning layer, its parent, …, the model], the first owner found in a depth-first walk."""
    found: dict[int, list[Any]] = {}
    seen: set[int] = set()

    def walk(layer: Any, parents: list[Any]) -> None:
        if id(layer) in seen:
            return
        seen.add(id(layer))
        chain = [layer, *parents]
        own = list(getattr(layer, "_trainable_variables", [])) + list(getattr(layer, "_non_trainable_variables", []))
        for v in own:
            found.setdefault(id(v), chain)
        for sub in _sublayers(layer):
            walk(sub, chain)

    walk(model, [])
    return found


def init_model(
    model: keras.layers.Layer,
    rules: Rules = (),
    *,
    seed: int,
    default: str = "keras",
    strict: bool = True,
) -> InitReport:
    """Re-initialize every weight of a built Keras 3 model, each from ``vs.derive_stream(seed, path)``.

    Args:
        model: a built ``keras.Model`` or layer (every weight created: call it
            on data or ``model.build(shape)`` first).
        rules: ``(pattern, initializer)`` pairs (or a mapping); the first
            matching rule wins. A pattern is a glob on the weight's path
            (``"dense*/kernel"``, ``"*/bias"``), a layer type or tuple of types
            (every weight of such a layer, or of a layer inside it:
            ``keras.layers.LSTM`` matches its cell's weights), or ``(layer
            type(s), glob on the weight's name)`` such as ``(keras.layers.Dense,
            "kernel")``. An initializer is anything a torch rule accepts
            (varscale initializers, names, numbers, ``"normal(std=0.02)"``,
            framework expressions, a ``vs.Spec``…), a Keras initializer
            instance (mapped as ``default="keras"`` maps it; unseeded), or
            None (leave the weight as it is). Layouts are TF's unless given.
        seed: an int in ``[0, 2**64)``. An initializer with its own seed is
            refused in a rule.
        default: what a weight no rule matches gets: ``"keras"`` (the layer's
            own configured initializer, see the module docstring), ``"error"``
            (raise, naming them all) or ``"skip"`` (leave it).
        strict: a rule that matches no weight is an error (True) or a warning
            (False).

    Returns:
        An :class:`InitReport` (path, shape, initializer, layout, fans, std
        and rule per weight); ``print(report)`` prints a table. Non-floating
        weights (counters, seed states) are listed as skipped.

    Raises:
        InvalidArgumentError: a weight no rule matches (``default="error"``), a
            layer initializer with no varscale equivalent (``default="keras"``),
            a fan-based rule on a weight with fewer than 2 dimensions, a rule
            that matches nothing (``strict``), a rule on a non-floating weight,
            or an unbuilt model. Nothing is assigned when anything is refused.

    Example:
        >>> import keras
        >>> from varscale.keras import init_model
        >>> model = keras.Sequential([keras.Input((3, 16)), keras.layers.LSTM(8, name="lstm")])
        >>> report = init_model(model, [("*/kernel", "he_normal")], seed=0)
        >>> [(r.name, r.initializer, r.rule) for r in report]  # doctest: +NORMALIZE_WHITESPACE
        [('lstm/lstm_cell/kernel', 'he_normal', '*/kernel'),
         ('lstm/lstm_cell/recurrent_kernel', 'orthogonal', 'default=keras'),
         ('lstm/lstm_cell/bias', 'zeros + unit_forget_bias', 'default=keras')]
        >>> model.layers[0].cell.bias.numpy()[8:16].tolist() == [1.0] * 8
        True
    """
    if not isinstance(model, keras.layers.Layer):
        raise TypeError(f"`model` must be a Keras 3 model or layer; received model={model!r}.")
    if not model.built:
        raise InvalidArgumentError(
            f"`model` {model.name!r} is not built: its weights do not exist yet. Call it on data or "
            f"model.build(input_shape) first."
        )
    checked = _rules.check_rules(rules, _resolve_rule, by_type=True, help=_PATTERN_HELP)
    key = _rules.model_seed(seed)
    _rules.check_default(default, _DEFAULTS)

    owners = _owners(model)
    lead = f"{model.name}/" if isinstance(model, keras.Model) else ""
    seen: set[int] = set()
    plan: list[tuple[Any, ParamRow, ParamPlan | None, Any]] = []
    unmatched: list[str] = []
    refused: list[str] = []
    fan_errors: list[str] = []
    not_float: list[str] = []
    for weight in model.weights:
        if id(weight) in seen:
            continue
        seen.add(id(weight))
        path = _relative(str(weight.path), lead)
        local = str(weight.name)
        shape = tuple(int(s) for s in weight.shape)
        dtype = _storage_dtype(weight)
        chain = owners.get(id(weight), [])
        rule = next((r for r in checked if _rules.matches(r.pattern, path, local, chain)), None)
        if rule is not None:
            rule.used += 1
        if dtype not in _FLOATS:
            if rule is not None and rule.init is not None:
                not_float.append(f"{path} ({dtype}, rule {rule.text!r})")
            plan.append((weight, ParamRow.left(path, shape, "not floating", dtype),
                         None, None))
            continue
        if rule is not None:
            if rule.init is None:
                plan.append((weight, ParamRow.left(path, shape, rule.text, dtype),
                             None, None))
                continue
            try:
                pp = plan_param(rule.init, shape, "tf")
            except FanError as err:
                fan_errors.append(f"{path} {shape} matched rule {rule.text!r}: {err}")
                continue
            rule_text, post = rule.text, None
        elif default == "error":
            unmatched.append(path)
            continue
        elif default == "skip":
            plan.append((weight, ParamRow.left(path, shape, "default=skip", dtype),
                         None, None))
            continue
        else:
            try:
                pp, post = _keras_default(chain[0] if chain else None, local, path, shape)
            except InvalidArgumentError as err:
                refused.append(str(err).rstrip("."))
                continue
            rule_text = "default=keras"
        row = pp.row(path, shape, rule_text, dtype)
        plan.append((weight, row, pp, post))

    problems = []
    if unmatched:
        problems.append(
            f"{len(unmatched)} weight(s) match no rule: {listing(unmatched)}; add rules for them, or pass "
            f"default='keras' (each layer's own initializers) or 'skip' to leave them as they are."
        )
    if refused:
        problems.append(f"default='keras' cannot initialize {len(refused)} weight(s): {'; '.join(refused[:12])}.")
    if fan_errors:
        problems.append(
            f"{len(fan_errors)} weight(s) with fewer than 2 dimensions matched a fan-based initializer: "
            f"{listing(fan_errors)}. Restrict the rule (e.g. '*/kernel', or (keras.layers.Dense, 'kernel')) or put a "
            f"rule for biases/norms before it ('*/bias' → 0.0)."
        )
    if not_float:
        problems.append(
            f"{len(not_float)} non-floating weight(s) matched a rule: {listing(not_float)}; only floating weights "
            f"can be initialized (restrict the rule, or map them to None)."
        )
    _rules.report_unused(checked, "weight", "weight paths", [row.name for _, row, _, _ in plan], strict, problems)
    if problems:
        raise InvalidArgumentError(" ".join(problems))

    for weight, row, todo, post in plan:
        if todo is None:
            continue
        values = todo.draw(row.shape, row.dtype, derive_stream(key.seed, row.name))
        weight.assign(values if post is None else post(values))
    return InitReport([row for _, row, _, _ in plan])

