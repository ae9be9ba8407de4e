"""Translate an initializer from one framework to another, with a verdict.

A translation means "the same layer, initialized the same way": each framework
uses its own weight layout (Keras/TF/JAX ``(*k, in, out)``, PyTorch/MindSpore
``(out, in, *k)``), so the fans are the same and the target draws from the same
distribution (same family, same std, same bounds). The verdict is

* ``"exact"``: the code gives that distribution for every shape;
* ``"exact_for_shape"``: the code has numbers computed for the given shape;
* ``"impossible"``: the target has no such distribution; the code is the
  closest choice and the notes give its error.

Example:
    >>> import varscale as vs
    >>> t = vs.translate("tf.contrib.layers.variance_scaling_initializer()", to="keras")
    >>> t.verdict
    'exact'
    >>> t.code
    "keras.initializers.VarianceScaling(scale=2.0117273892298004, mode='fan_in', distribution='truncated_normal')"
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from ._basic import BasicInitializer
from ._errors import InvalidArgumentError, unknown_name
from ._fans import compute_fans
from ._gain import calculate_gain
from ._initializer import VarianceScaling
from ._math import TRUNC_STD_2
from ._parse import (
    OTHER_FAMILIES,
    Spec,
    _sq,
    parse,
    spec_from_basic,
    truncated_std_factor,
)
from ._validation import check_shape

__all__ = [
    "TARGETS", "TARGET_ALIASES", "FileRow", "Translation", "find_initializers", "spec_from_initializer", "target_name",
    "translate", "translate_all", "translate_file",
]

#: Translation targets, in the order the porting guide lists them.
TARGETS = ("keras", "tf.keras", "tf1", "tf_contrib", "torch", "jax", "mindspore", "varscale")
VERDICTS = ("exact", "exact_for_shape", "impossible")
#: Names users type for a target (``--to pytorch``), each mapped to one of :data:`TARGETS`.
TARGET_ALIASES = {
    "pytorch": "torch", "pt": "torch", "torch.nn.init": "torch",
    "keras3": "keras", "keras.initializers": "keras", "keras-3": "keras",
    "tf_keras": "tf.keras", "tf-keras": "tf.keras", "tfkeras": "tf.keras", "tf.keras.initializers": "tf.keras",
    "tensorflow": "tf.keras", "tf2": "tf.keras", "tf": "tf.keras",
    "tf.compat.v1": "tf1", "tf.v1": "tf1", "tensorflow1": "tf1", "tf1.x": "tf1",
    "tf.contrib": "tf_contrib", "contrib": "tf_contrib", "tf-contrib": "tf_contrib", "tf.contrib.layers": "tf_contrib",
    "flax": "jax", "flax.linen": "jax", "nnx": "jax", "jax.nn.initializers": "jax",
    "ms": "mindspore", "mindspore.common.initializer": "mindspore",
    "vs": "varscale",
}


def target_name(to: str) -> str:
    """The target a user's name means (``"pytorch"`` → ``"torch"``, ``"flax"`` → ``"jax"``).

    Raises:
        UnknownNameError: neither a target nor an alias (with a did-you-mean).

    Example:
        >>> target_name("pytorch"), target_name("tf.keras"), target_name("Flax")
        ('torch', 'tf.keras', 'jax')
    """
    key = to.strip().lower()
    if key in TARGETS:
        return key
    if key in TARGET_ALIASES:
        return TARGET_ALIASES[key]
    raise unknown_name("to", to, (*TARGETS, *TARGET_ALIASES))

C = TRUNC_STD_2
_LAYOUT_OF = {
    "keras": "tf", "tf.keras": "tf", "tf1": "tf", "tf_contrib": "tf", "jax": "tf",
    "torch": "torch", "mindspore": "torch",
}
_LAYOUT_TEXT = {
    "tf": "(*kernel, in, out) — Dense (in, out), Conv HWIO",
    "torch": "(out, in, *kernel) — Linear (out, in), Conv OIHW",
}


@dataclass(frozen=True)
class Translation:
    """One framework's code for a :class:`~varscale.Spec`, with a verdict.

    Attributes:
        spec: the source spec.
        target: the target framework.
        code: one Python expression in the target's usual module names (an
            initializer object, or for ``torch`` an in-place call on ``w``).
        verdict: ``"exact"``, ``"exact_for_shape"`` or ``"impossible"``.
        notes: the differences and caveats, with numbers.
        shape: the source shape (None if not given).
        target_shape: the same layer's shape in the target's layout.
        target_layout: ``"tf"`` or ``"torch"``.
        alternative: another line giving the same law (the varscale facade
            call), when ``code`` is a snippet that computes the fans; else None.
    """

    spec: Spec
    target: str
    code: str
    verdict: str
    notes: tuple[str, ...]
    shape: tuple[int, ...] | None
    target_shape: tuple[int, ...] | None
    target_layout: str
    alternative: str | None = None

    def describe(self) -> dict[str, Any]:
        """The source's numbers for the shape (fans, n, std, limit, bounds, formula)."""
        return self.spec.describe(self.shape)

    def __str__(self) -> str:
        lines = [f"{self.target}: {self.verdict}", *(f"  {c}" for c in self.code.splitlines())]
        if self.alternative:
            lines.append(f"  # or, the same law: {self.alternative}")
        lines += [f"  - {n}" for n in self.notes]
        return "\n".join(lines)


class _UnrepresentableError(Exception):
    """A number of the translated code is 0, inf or NaN in float64 (the law is not)."""


class UnrepresentableNumberError(InvalidArgumentError):
    """:func:`translate` refuses a target whose code would need a number float64 cannot hold (0, inf)."""


def _num(x: float) -> str:
    """The shortest text that reads back as the same float64 (``repr``), never rounded.

    Every number the translator writes (a scale, factor, std, limit, bound,
    gain or slope) is nonzero and finite for a real law; a 0.0, inf or NaN
    here is an underflow or overflow of float64, and the translation is refused.

    Example:
        >>> _num(1.0009e-12), _num(1e-8), _num(2.011727389229801)
        ('1.0009e-12', '1e-08', '2.011727389229801')
    """
    v = float(x)
    if v == 0.0 or not math.isfinite(v):
        raise _UnrepresentableError(f"a number of the translated code is {v!r} in float64")
    return repr(v)


def to_layout(shape: tuple[int, ...], src: str, dst: str) -> tuple[int, ...]:
    """The same layer's weight shape in another layout (``tf`` ↔ ``torch``).

    Example:
        >>> to_layout((3, 3, 64, 128), "tf", "torch")
        (128, 64, 3, 3)
        >>> to_layout((128, 64), "torch", "tf")
        (64, 128)
    """
    if src == dst or len(shape) < 2:
        return tuple(shape)
    if src == "tf":
        return (shape[-1], shape[-2], *shape[:-2])
    return (*shape[2:], shape[1], shape[0])


def spec_from_initializer(init: VarianceScaling, source: str = "") -> Spec:
    """The :class:`Spec` of a varscale initializer.

    Example:
        >>> import varscale as vs
        >>> spec_from_initializer(vs.HeUniform()).scale
        2.0
    """
    layout = init.layout
    if init.distribution == "uniform":
        spec = Spec("varscale", "uniform", init.scale, init.mode, layout=layout)
    elif init.distribution == "untruncated_normal":
        spec = Spec("varscale", "untruncated_normal", init.scale, init.mode, layout=layout)
    else:
        spec = Spec("varscale", "truncated_normal", init.scale, init.mode, param_factor=1 / C, cut=2.0, layout=layout)
    return replace(spec, call=type(init).__name__, source=source or repr(init))


# ---------------------------------------------------------------------------


class _Ctx:
    def __init__(self, spec: Spec, target: str, shape: tuple[int, ...] | None, numbers: bool = False) -> None:
        self.spec, self.target, self.shape, self.numbers = spec, target, shape, numbers
        self.notes: list[str] = []

    def fans(self) -> tuple[int, int]:
        if self.shape is None:
            raise InvalidArgumentError(
                f"translating {self.spec.call or 'this initializer'} to {self.target!r} gives numbers that depend on "
                f"the shape; pass `shape` (--shape); received shape=None."
            )
        return self.spec.fans(self.shape)

    def target_fans(self) -> tuple[int, int]:
        """The fans the target computes on the same layer's weight (its own rule, its own layout)."""
        if self.spec.jax_axes is not None:
            self.fans()  # the shape is required
            return compute_fans(self.shape if self.shape is not None else (), "tf")
        return self.fans()

    def q(self) -> float:
        """param² · n for a fan-based spec."""
        s = self.spec
        scale = s.scale_value
        if s.family == "uniform":
            return 3.0 * scale
        if s.family == "untruncated_normal":
            return scale
        if abs(s.param_factor - 1 / C) < 1e-15:
            return scale / (C * C)
        return _factor_sq(s) * scale


def _factor_sq(s: Spec) -> float:
    """param_factor² without the rounding of sqrt(1.3)² (TF contrib's factor is exactly 1.3)."""
    return 1.3 if s.contrib_factor else s.param_factor**2


def _keras_scale(ctx: _Ctx) -> float:
    s = ctx.spec
    if s.family == "truncated_normal" and abs(s.param_factor - 1 / C) >= 1e-15:
        return _factor_sq(s) * C * C * s.scale_value
    return s.scale_value


_PRESET_OF = {
    (1.0, "fan_avg", "uniform"): ("GlorotUniform", "glorot_uniform"),
    (1.0, "fan_avg", "truncated_normal"): ("GlorotNormal", "glorot_normal"),
    (1.0, "fan_in", "uniform"): ("LecunUniform", "lecun_uniform"),
    (1.0, "fan_in", "truncated_normal"): ("LecunNormal", "lecun_normal"),
    (2.0, "fan_in", "uniform"): ("HeUniform", "he_uniform"),
    (2.0, "fan_in", "truncated_normal"): ("HeNormal", "he_normal"),
}


def _vs_dist(family: str, target: str) -> str:
    if family == "untruncated_normal" and target == "jax":
        return "normal"
    return family


def _fan_based_code(ctx: _Ctx) -> tuple[str, str] | None:
    """(code, verdict) for a fan-based spec whose mode the target has, else None."""
    s, t = ctx.spec, ctx.target
    if s.mode is None or (s.mode == "fan_geo_avg" and t != "jax"):
        return None
    scale = _keras_scale(ctx)
    preset = _PRESET_OF.get((scale, s.mode, s.family))  # only the exact preset: no snapping
    if t in ("keras", "tf.keras"):
        mod = "keras.initializers" if t == "keras" else "tf.keras.initializers"
        if preset:
            return f"{mod}.{preset[0]}()", "exact"
        return (f"{mod}.VarianceScaling(scale={_num(scale)}, mode={s.mode!r}, distribution={s.family!r})",
                "exact")
    if t == "tf1":
        return (f"tf.compat.v1.variance_scaling_initializer(scale={_num(scale)}, mode={s.mode!r}, "
                f"distribution={s.family!r})", "exact")
    if t == "jax":
        if preset:
            return f"jax.nn.initializers.{preset[1]}()", "exact"
        return (f"jax.nn.initializers.variance_scaling({_num(scale)}, {s.mode!r}, "
                f"{_vs_dist(s.family, 'jax')!r})", "exact")
    if t == "varscale":
        layout = s.layout if isinstance(s.layout, str) else "tf"
        lay = "" if layout == "tf" else f", layout={layout!r}"
        if preset:
            return f"varscale.{preset[0]}({lay.lstrip(', ')})", "exact"
        return (f"varscale.VarianceScaling(scale={_num(scale)}, mode={s.mode!r}, distribution={s.family!r}{lay})",
                "exact")
    q = ctx.q()
    mode_up = s.mode.upper()
    if t == "tf_contrib":
        if s.family == "uniform":
            return (f"tf.contrib.layers.variance_scaling_initializer(factor={_num(q / 3)}, mode={mode_up!r}, "
                    f"uniform=True)", "exact")
        if s.family == "truncated_normal":
            if not s.contrib_factor:
                ctx.notes.append(
                    f"TF contrib multiplies factor by 1.3 and does not correct by 0.8796: factor={_num(q / 1.3)} "
                    f"reproduces σ' exactly; the usual factor={_num(s.scale or 0)} would give a std "
                    f"{(math.sqrt(1.3) * C * math.sqrt((s.scale or 0) / (q * C * C)) - 1) * 100:+.3f} % off target"
                )
            return (f"tf.contrib.layers.variance_scaling_initializer(factor={_num(q / 1.3)}, mode={mode_up!r}, "
                    f"uniform=False)", "exact")
        factor = q / (1.3 * C * C)
        ctx.notes.append(
            "impossible: TF contrib has no untruncated normal; closest: its truncated normal with the same std "
            f"(factor={_num(factor)}): std error +0.000 %, but bounded at ±{2 / C:.4f}·std (the usual "
            f"factor={_num(q)} gives std +{(math.sqrt(1.3) * C - 1) * 100:.3f} %)"
        )
        return (f"tf.contrib.layers.variance_scaling_initializer(factor={_num(factor)}, mode={mode_up!r}, "
                f"uniform=False)", "impossible")
    if s.family == "truncated_normal":
        return None  # torch and MindSpore: absolute bounds, per shape
    g2 = q / 3 if s.family == "uniform" else q
    if t == "torch":
        kind = "uniform" if s.family == "uniform" else "normal"
        if s.mode == "fan_avg":
            gain = "" if abs(g2 - 1) < 1e-14 else f", gain={_gain_code(g2)}"
            return f"torch.nn.init.xavier_{kind}_(w{gain})", "exact"
        mode = "" if s.mode == "fan_in" else f", mode={s.mode!r}"
        if abs(g2 - 1) < 1e-14:
            return f"torch.nn.init.kaiming_{kind}_(w{mode}, nonlinearity='linear')", "exact"
        if abs(g2 - 2) < 1e-14:
            return f"torch.nn.init.kaiming_{kind}_(w{mode}, nonlinearity='relu')", "exact"
        if g2 < 2:
            return f"torch.nn.init.kaiming_{kind}_(w, a={_slope_code(g2)}{mode})", "exact"
        return None
    # mindspore
    cls = "Uniform" if s.family == "uniform" else "Normal"
    if s.mode == "fan_avg":
        gain = "" if abs(g2 - 1) < 1e-14 else f"gain={_gain_code(g2)}"
        return f"mindspore.common.initializer.Xavier{cls}({gain})", "exact"
    mode = "" if s.mode == "fan_in" else f", mode={s.mode!r}"
    if abs(g2 - 2) < 1e-14 and not mode:
        return f"mindspore.common.initializer.He{cls}()", "exact"
    if abs(g2 - 1) < 1e-14:
        return f"mindspore.common.initializer.He{cls}(nonlinearity='linear'{mode})", "exact"
    if g2 < 2:
        return f"mindspore.common.initializer.He{cls}(negative_slope={_slope_code(g2)}{mode})", "exact"
    dist = "uniform" if s.family == "uniform" else "untruncated_normal"
    return (f"mindspore.common.initializer.VarianceScaling(scale={_num(g2)}, mode={s.mode!r}, "
            f"distribution={dist!r})", "exact")


_FAN_TEXT = {
    "fan_in": "fan_in", "fan_out": "fan_out", "fan_avg": "(fan_in + fan_out) / 2",
    "fan_geo_avg": "math.sqrt(fan_in * fan_out)",
}


def _param_text(s: Spec, q: float) -> str:
    """``L`` or ``σ'`` as a Python expression of ``n``."""
    if s.family == "truncated_normal" and abs(s.param_factor - 1 / C) < 1e-15:
        return f"math.sqrt({_num(s.scale_value)} / n) / {_num(C)}"
    if s.contrib_factor:
        return f"math.sqrt(1.3 * {_num(s.scale_value)} / n)"
    if s.family == "uniform":
        return f"math.sqrt(3 * {_num(q / 3)} / n)"
    return f"math.sqrt({_num(q)} / n)"


def _snippet(ctx: _Ctx) -> tuple[str, str | None]:
    """(code, alternative): a few lines computing the fans in the target's own terms, exact for every shape.

    For ``torch`` the weight is the tensor ``w``; for ``mindspore`` the lines
    build an initializer for the weight shape ``shape`` (both ``(out, in, *kernel)``).
    """
    s, t = ctx.spec, ctx.target
    q = ctx.q()
    var = "w.shape" if t == "torch" else "shape"
    need_out = s.mode in ("fan_out", "fan_avg", "fan_geo_avg")
    need_in = s.mode in ("fan_in", "fan_avg", "fan_geo_avg")
    lines = []
    if need_in:
        lines.append(f"fan_in = math.prod({var}[1:])  # {t} layout (out, in, *kernel)")
    if need_out:
        lines.append(f"fan_out = {var}[0] * math.prod({var}[2:])" + ("" if need_in else
                                                                     f"  # {t} layout (out, in, *kernel)"))
    n = _FAN_TEXT[s.mode or "fan_in"]
    lines.append(f"n = max(1, {n})" if s.clamp else f"n = {n}")
    p = _param_text(s, q)
    name = "bound" if s.family == "uniform" else "std"
    lines.append(f"{name} = {p}")
    k = _num(s.cut) if s.family == "truncated_normal" else ""
    vs_code = _vs_facade(ctx)
    if t == "torch":
        if s.family == "uniform":
            lines.append("torch.nn.init.uniform_(w, a=-bound, b=bound)")
        elif s.family == "untruncated_normal":
            lines.append("torch.nn.init.normal_(w, mean=0.0, std=std)")
        else:
            lines.append(f"torch.nn.init.trunc_normal_(w, mean=0.0, std=std, a=-{k} * std, b={k} * std)")
        alt = f"w.copy_(torch.from_numpy({vs_code}(tuple(w.shape))))" if vs_code else None
        return "\n".join(lines), alt
    base = "mindspore.common.initializer"
    if s.family == "uniform":
        lines.append(f"{base}.Uniform(scale=bound)")
    elif s.family == "untruncated_normal":
        lines.append(f"{base}.Normal(sigma=std, mean=0.0)")
    else:
        lines.append(f"{base}.TruncatedNormal(sigma=std, mean=0.0, a=-{k} * std, b={k} * std)")
    alt = f"mindspore.Tensor({vs_code}(tuple(shape)))" if vs_code else None
    return "\n".join(lines), alt


def _vs_facade(ctx: _Ctx) -> str | None:
    """The varscale initializer with the same law, reading fans in the torch layout."""
    s = ctx.spec
    if not isinstance(s.layout, str) or s.mode == "fan_geo_avg" or s.jax_axes is not None:
        return None
    sub = _Ctx(replace(s, layout="torch"), "varscale", None)
    got = _fan_based_code(sub)
    return got[0] if got else None


def _val(v: float) -> str:
    """A constant or gain as code (``0.0``, ``-1.5``): any finite float, zero included."""
    return repr(float(v))


_CONST_CODE = {  # target -> (zeros, ones, constant with {v})
    "keras": ("keras.initializers.Zeros()", "keras.initializers.Ones()", "keras.initializers.Constant(value={v})"),
    "tf.keras": ("tf.keras.initializers.Zeros()", "tf.keras.initializers.Ones()",
                 "tf.keras.initializers.Constant(value={v})"),
    "tf1": ("tf.compat.v1.zeros_initializer()", "tf.compat.v1.ones_initializer()",
            "tf.compat.v1.constant_initializer({v})"),
    "torch": ("torch.nn.init.zeros_(w)", "torch.nn.init.ones_(w)", "torch.nn.init.constant_(w, {v})"),
    "jax": ("jax.nn.initializers.zeros", "jax.nn.initializers.ones", "jax.nn.initializers.constant({v})"),
    "mindspore": ("mindspore.common.initializer.Zero()", "mindspore.common.initializer.One()",
                  "mindspore.common.initializer.Constant({v})"),
    "varscale": ("varscale.Zeros()", "varscale.Ones()", "varscale.Constant({v})"),
}
_CONST_CODE["tf_contrib"] = _CONST_CODE["tf1"]
_ORTHO_CODE = {
    "keras": "keras.initializers.Orthogonal(gain={g})", "tf.keras": "tf.keras.initializers.Orthogonal(gain={g})",
    "tf1": "tf.compat.v1.orthogonal_initializer(gain={g})", "tf_contrib": "tf.compat.v1.orthogonal_initializer(gain={g})",
    "torch": "torch.nn.init.orthogonal_(w, gain={g})", "jax": "jax.nn.initializers.orthogonal(scale={g})",
    "mindspore": "mindspore.common.initializer.Orthogonal(gain={g})", "varscale": "varscale.Orthogonal(gain={g})",
}
_IDENTITY_CODE = {
    "keras": "keras.initializers.Identity(gain={g})", "tf.keras": "tf.keras.initializers.Identity(gain={g})",
    "tf1": "tf.compat.v1.initializers.identity(gain={g})", "tf_contrib": "tf.compat.v1.initializers.identity(gain={g})",
}


def _other_code(ctx: _Ctx) -> tuple[str, str]:
    """(code, verdict) for a constant, orthogonal or identity spec."""
    s, t = ctx.spec, ctx.target
    v = float(s.fixed or 0.0)
    if s.family == "constant":
        zeros, ones, const = _CONST_CODE[t]
        return (zeros if v == 0.0 else ones if v == 1.0 else const.format(v=_val(v))), "exact"
    if s.family == "orthogonal":
        src_layout = s.layout if isinstance(s.layout, str) else "tf"
        if _LAYOUT_OF.get(t, src_layout) != src_layout:
            ctx.notes.append("the same law, a Haar-random (semi-)orthogonal matrix × gain: Keras/TF/JAX flatten "
                             "the weight to (rest, shape[-1]), torch/MindSpore to (shape[0], rest); on the same layer "
                             "these differ by a transpose and an axis permutation, which the Haar law does not see")
        if t == "mindspore" and ctx.shape is not None and len(ctx.shape) < 2:
            ctx.notes.append("MindSpore's Orthogonal needs at least 2 dimensions")
        code = _ORTHO_CODE[t].format(g=_val(v))
        if t == "varscale" and s.layout == "torch":  # the weight stays in the source's layout: flatten as it does
            code = code[:-1] + ", layout='torch')"
        return code, "exact"
    # identity
    if ctx.shape is not None and len(ctx.shape) != 2:
        ctx.notes.append(f"an identity initializer takes 2-D weights; received shape {ctx.shape}")
    if t in _IDENTITY_CODE:
        return _IDENTITY_CODE[t].format(g=_val(v)), "exact"
    if t == "torch":
        return ("torch.nn.init.eye_(w)" if v == 1.0 else f"torch.nn.init.eye_(w).mul_({_val(v)})"), "exact"
    if t == "jax":
        ctx.notes.append("jax.nn.initializers has no identity initializer: this function is one (2-D weights)")
        return (f"lambda key, shape, dtype=jax.numpy.float32: {_val(v)} * jax.numpy.eye(shape[0], shape[1], "
                f"dtype=dtype)"), "exact"
    if t == "mindspore":
        if v == 1.0:
            return "mindspore.common.initializer.Identity()", "exact"
        ctx.notes.append(f"impossible: MindSpore's Identity() has no gain; closest: Identity() (values {_val(v)}× "
                         f"smaller than the source's; scale the parameter by {_val(v)} after initialization)")
        return "mindspore.common.initializer.Identity()", "impossible"
    ctx.notes.append(f"impossible: varscale has no identity initializer; closest: numpy.eye × {_val(v)}, the same "
                     f"values (no random stream)")
    return f"lambda shape, dtype='float32': {_val(v)} * numpy.eye(shape[0], shape[1], dtype=dtype)", "impossible"


def _jax_axes_code(ctx: _Ctx) -> tuple[str, str]:
    s = ctx.spec
    axes = s.jax_axes or (-2, -1, ())
    in_axis, out_axis, batch = (list(a) if isinstance(a, tuple) else a for a in axes)
    return (f"jax.nn.initializers.variance_scaling({_num(_keras_scale(ctx))}, {s.mode!r}, "
            f"{_vs_dist(s.family, 'jax')!r}, in_axis={in_axis!r}, out_axis={out_axis!r}, batch_axis={batch!r})",
            "exact")


def _shortest(x: float, same: Callable[[float], bool]) -> str:
    """The shortest decimal ``c`` (1 to 17 significant digits, from ``x``) with ``same(c)``; else ``repr(x)``.

    ``same`` says whether ``c`` gives exactly the law being translated, so the
    text is short (``a=0.2``) without ever changing the law (no snapping).
    """
    for digits in range(1, 18):
        c = float(f"{x:.{digits}g}")
        if c != 0.0 and same(c):
            return _num(c)
    return _num(x)


def _sqrt_int(g2: float, same: Callable[[float], bool]) -> str | None:
    """``math.sqrt(k)`` for the integer ``k`` nearest ``g2`` when it gives exactly the same law."""
    k = round(g2)
    if k >= 2 and math.isqrt(k) ** 2 != k and same(math.sqrt(k)):
        return f"math.sqrt({_num(float(k))})"
    return None


def _gain_code(g2: float) -> str:
    """A gain g with g² = ``g2`` as the source's parser reads it back (:func:`varscale._parse._sq`)."""
    def same(g: float) -> bool:
        return _sq(g) == g2

    return _sqrt_int(g2, same) or _shortest(math.sqrt(g2), same)


def _slope_code(g2: float) -> str:
    """leaky_relu slope a with 2/(1+a²) = g² (read back as torch's calculate_gain does)."""
    a2 = 2.0 / g2 - 1.0

    def same(a: float) -> bool:
        return _sq(calculate_gain("leaky_relu", a)) == g2

    return _sqrt_int(a2, same) or _shortest(math.sqrt(a2), same)


def _fixed_mean_code(ctx: _Ctx, family: str, p: float, k: float, m: float) -> tuple[str, str]:
    """(code, verdict) for a fixed law centred on ``m`` != 0 (``RandomNormal(mean=1.0)``, ``uniform_(w, 0, 1)``)."""
    t = ctx.target

    def _v(x: float) -> str:  # the shortest text within float noise of x (m ± p recomputes the bounds written)
        return _val(float(f"{x:.15g}"))

    lo, hi = _v(m - p), _v(m + p)
    mean, mlo, mhi = _v(m), _v(m - k * p), _v(m + k * p)
    if t == "tf_contrib":
        t = "tf1"  # contrib has no fixed initializers: TF1 core's, used alongside it
        ctx.notes.append("TF contrib has no fixed initializers: TF1 core's (tf.compat.v1), used alongside contrib")
    if t in ("keras", "tf.keras", "tf1"):
        if t == "tf1":
            names = ("tf.compat.v1.random_uniform_initializer", "tf.compat.v1.random_normal_initializer",
                     "tf.compat.v1.truncated_normal_initializer")
        else:
            mod = "keras.initializers" if t == "keras" else "tf.keras.initializers"
            names = (f"{mod}.RandomUniform", f"{mod}.RandomNormal", f"{mod}.TruncatedNormal")
        if family == "uniform":
            return f"{names[0]}(minval={lo}, maxval={hi})", "exact"
        if family == "untruncated_normal":
            return f"{names[1]}(mean={mean}, stddev={_num(p)})", "exact"
        if k == 2.0:
            return f"{names[2]}(mean={mean}, stddev={_num(p)})", "exact"
        return _closest_trunc(ctx, p, k, f"{names[1]}(mean={mean}, stddev={{}})",
                              f"{names[2]}(mean={mean}, stddev={{}})")
    if t in ("torch", "varscale"):
        base = "torch.nn.init" if t == "torch" else "varscale.compat.torch.nn.init"
        if family == "uniform":
            return f"{base}.uniform_(w, a={lo}, b={hi})", "exact"
        if family == "untruncated_normal":
            return f"{base}.normal_(w, mean={mean}, std={_num(p)})", "exact"
        return f"{base}.trunc_normal_(w, mean={mean}, std={_num(p)}, a={mlo}, b={mhi})", "exact"
    if t == "mindspore":
        base = "mindspore.common.initializer"
        if family == "untruncated_normal":
            return f"{base}.Normal(sigma={_num(p)}, mean={mean})", "exact"
        if family == "truncated_normal":
            return f"{base}.TruncatedNormal(sigma={_num(p)}, mean={mean}, a={mlo}, b={mhi})", "exact"
        ctx.notes.append(f"impossible: MindSpore's Uniform(scale) is symmetric about 0; closest: a normal with the "
                         f"same mean {m:.6g} and the same std {p / math.sqrt(3):.6g}: std error +0.000 %, unbounded "
                         f"instead of [{m - p:.6g}, {m + p:.6g}]")
        return f"{base}.Normal(sigma={_num(p / math.sqrt(3))}, mean={mean})", "impossible"
    # jax
    if family == "uniform":
        if m == p:  # U[0, 2L): JAX's own uniform
            return f"jax.nn.initializers.uniform(scale={_num(2 * p)})", "exact"
        return f"lambda key, shape, dtype=jax.numpy.float32: jax.random.uniform(key, shape, dtype, {lo}, {hi})", "exact"
    if family == "untruncated_normal":
        return (f"lambda key, shape, dtype=jax.numpy.float32: {mean} + {_num(p)} * jax.random.normal(key, shape, "
                f"dtype)"), "exact"
    return (f"lambda key, shape, dtype=jax.numpy.float32: {mean} + {_num(p)} * jax.random.truncated_normal(key, "
            f"{_val(-k)}, {_val(k)}, shape, dtype)"), "exact"


def _fixed_code(ctx: _Ctx, family: str, p: float, cut: float) -> tuple[str, str]:
    """(code, verdict) for a fixed parameter ``p`` (L or σ') and cut."""
    t = ctx.target
    k = cut
    if ctx.spec.mean != 0.0 and not ctx.spec.fan_based:
        return _fixed_mean_code(ctx, family, p, k, ctx.spec.mean)
    if t in ("keras", "tf.keras", "tf1"):
        if t == "tf1":
            names = ("tf.compat.v1.random_uniform_initializer", "tf.compat.v1.random_normal_initializer",
                     "tf.compat.v1.truncated_normal_initializer")
        else:
            mod = "keras.initializers" if t == "keras" else "tf.keras.initializers"
            names = (f"{mod}.RandomUniform", f"{mod}.RandomNormal", f"{mod}.TruncatedNormal")
        if family == "uniform":
            return f"{names[0]}(minval={_num(-p)}, maxval={_num(p)})", "exact"
        if family == "untruncated_normal":
            return f"{names[1]}(mean=0.0, stddev={_num(p)})", "exact"
        if k == 2.0:
            return f"{names[2]}(mean=0.0, stddev={_num(p)})", "exact"
        return _closest_trunc(ctx, p, k, f"{names[1]}(mean=0.0, stddev={{}})",
                              f"{names[2]}(mean=0.0, stddev={{}})")
    if t == "torch":
        if family == "uniform":
            return f"torch.nn.init.uniform_(w, a={_num(-p)}, b={_num(p)})", "exact"
        if family == "untruncated_normal":
            return f"torch.nn.init.normal_(w, mean=0.0, std={_num(p)})", "exact"
        return f"torch.nn.init.trunc_normal_(w, mean=0.0, std={_num(p)}, a={_num(-k * p)}, b={_num(k * p)})", "exact"
    if t == "varscale":
        base = "varscale.compat.torch.nn.init"
        if family == "uniform":
            return f"{base}.uniform_(w, a={_num(-p)}, b={_num(p)})", "exact"
        if family == "untruncated_normal":
            return f"{base}.normal_(w, mean=0.0, std={_num(p)})", "exact"
        return f"{base}.trunc_normal_(w, mean=0.0, std={_num(p)}, a={_num(-k * p)}, b={_num(k * p)})", "exact"
    if t == "mindspore":
        base = "mindspore.common.initializer"
        if family == "uniform":
            return f"{base}.Uniform(scale={_num(p)})", "exact"
        if family == "untruncated_normal":
            return f"{base}.Normal(sigma={_num(p)}, mean=0.0)", "exact"
        return f"{base}.TruncatedNormal(sigma={_num(p)}, mean=0.0, a={_num(-k * p)}, b={_num(k * p)})", "exact"
    if t == "jax":
        if family == "untruncated_normal":
            return f"jax.nn.initializers.normal(stddev={_num(p)})", "exact"
        if family == "truncated_normal":
            return f"jax.nn.initializers.truncated_normal(stddev={_num(p)}, lower={_num(-k)}, upper={_num(k)})", "exact"
        if not ctx.numbers:
            ctx.notes.append("jax.nn.initializers.uniform draws from [0, scale), not a symmetric range: this "
                             "initializer function draws jax.random.uniform on [-L, L] (every shape)")
            return (f"lambda key, shape, dtype=jax.numpy.float32: jax.random.uniform(key, shape, dtype, {_num(-p)}, "
                    f"{_num(p)})"), "exact"
    fi, _ = ctx.target_fans()
    n = float(max(fi, 1))
    if t == "jax":
        if ctx.shape is not None and len(ctx.shape) == 1:
            ctx.notes.append("jax.nn.initializers.uniform draws from [0, scale); on a rank-1 weight "
                             "in_axis=out_axis=0 gives JAX fans (1, 1)")
            return (f"jax.nn.initializers.variance_scaling({_num(p * p / 3)}, 'fan_in', 'uniform', in_axis=0, "
                    f"out_axis=0)", "exact_for_shape")
        if ctx.shape is not None and len(ctx.shape) == 0:
            ctx.notes.append(f"impossible: jax has no symmetric uniform for a rank-0 weight; closest: a normal with "
                             f"the same std {p / math.sqrt(3):.6g}: std error +0.000 %, unbounded")
            return f"jax.nn.initializers.normal(stddev={_num(p / math.sqrt(3))})", "impossible"
        ctx.notes.append("jax.nn.initializers.uniform draws from [0, scale), not a symmetric range: "
                         f"variance_scaling with mode 'fan_in' and fan_in = {fi} gives U(±{p:.6g})")
        return f"jax.nn.initializers.variance_scaling({_num(p * p * n / 3)}, 'fan_in', 'uniform')", "exact_for_shape"
    # tf_contrib
    if family == "uniform":
        return (f"tf.contrib.layers.variance_scaling_initializer(factor={_num(p * p * n / 3)}, mode='FAN_IN', "
                f"uniform=True)", "exact_for_shape")
    if family == "truncated_normal" and k == 2.0:
        return (f"tf.contrib.layers.variance_scaling_initializer(factor={_num(p * p * n / 1.3)}, mode='FAN_IN', "
                f"uniform=False)", "exact_for_shape")
    std = p * truncated_std_factor(k) if family == "truncated_normal" else p
    sigma = std / C
    ctx.notes.append(
        f"impossible: TF contrib only has a normal truncated at ±2σ'; closest: σ' = {sigma:.6g} (fan_in = {fi}) "
        f"with the same std {std:.6g}: std error +0.000 %, bounds ±{2 * sigma:.6g} instead of "
        f"{'±inf' if family != 'truncated_normal' else f'±{k * p:.6g}'}"
    )
    return (f"tf.contrib.layers.variance_scaling_initializer(factor={_num(sigma * sigma * n / 1.3)}, "
            f"mode='FAN_IN', uniform=False)", "impossible")


def _closest_trunc(ctx: _Ctx, p: float, k: float, normal_fmt: str, trunc_fmt: str) -> tuple[str, str]:
    std = p * truncated_std_factor(k)
    if k > 3.0:
        code = normal_fmt.format(_num(std))
        what = f"an untruncated normal with the same std {std:.6g}"
    else:
        code = trunc_fmt.format(_num(std / C))
        what = f"a normal truncated at ±2σ' with the same std {std:.6g}"
    ctx.notes.append(
        f"impossible: {ctx.target} truncates only at ±2σ' (this one is cut at ±{k:g}σ' = ±{k * p:.6g}); "
        f"closest: {what}: std error +0.000 %, bounds differ"
    )
    return code, "impossible"


def _notes(ctx: _Ctx) -> None:
    s, t = ctx.spec, ctx.target
    if s.contrib_factor:
        how = ""
        if t in ("keras", "tf.keras", "tf1", "jax", "varscale"):
            how = f"; reproduced exactly with scale = 1.3·0.8796²·factor = {_num(_keras_scale(ctx))}"
        elif t in ("torch", "mindspore"):
            how = "; reproduced exactly with absolute bounds computed from the weight's fans"
        ctx.notes.append(
            f"TF contrib: σ' = sqrt(1.3·factor/n) with no 0.8796 correction, so the std is "
            f"{(math.sqrt(1.3) * C - 1) * 100:.3f} % above the target sqrt(factor/n) and the bounds are "
            f"±2·sqrt(1.3·factor/n){how}"
        )
    if s.uncorrected:
        ctx.notes.append(
            f"TF ≤ 1.9's 'normal' is a truncated normal without the 0.8796 correction: realized std "
            f"{(C - 1) * 100:.2f} % below sqrt(scale/n) (reproduced with scale·0.7737 where the target corrects)"
        )
    if s.mindspore_uniform_bug:
        ctx.notes.append(
            "MindSpore's VarianceScaling(distribution='truncated_normal') draws a UNIFORM distribution "
            "(the 'truncated_norm' typo, 2.0–2.10); translated as the uniform it really draws"
        )
    if t == "mindspore" and s.family == "truncated_normal":
        ctx.notes.append("not MindSpore's VarianceScaling(distribution='truncated_normal'): it draws a uniform "
                         "(the 'truncated_norm' typo, 2.0–2.10); TruncatedNormal with absolute bounds is the real one")
    if t == "tf1" and s.family == "truncated_normal" and s.fan_based and s.mode != "fan_geo_avg" \
            and s.jax_axes is None:
        ctx.notes.append(f"TF ≥ 1.10 spelling; under TF ≤ 1.9 (no 0.8796 correction) write scale={_num(ctx.q())}, "
                         f"distribution='normal'")
    if s.absolute_bounds and t in ("keras", "tf.keras", "tf1", "jax", "tf_contrib"):
        ctx.notes.append(f"{s.framework}'s truncation bounds are absolute, {t}'s are in units of σ'")


def translate(spec_or_source: Spec | str | VarianceScaling | BasicInitializer, to: str, shape: Any = None, *,
              numbers: bool = False) -> Translation:
    """Translate an initializer to another framework's code, with a verdict.

    Args:
        spec_or_source: a :class:`~varscale.Spec`, any source text
            :func:`varscale.parse` reads, or a varscale initializer (variance
            scaling, or ``Zeros``/``Ones``/``Constant``/``Normal``/``TruncatedNormal``/
            ``Uniform``/``Orthogonal``).
        to: ``"keras"`` (Keras 3), ``"tf.keras"`` (tf.keras 2), ``"tf1"``
            (TF1 core), ``"tf_contrib"``, ``"torch"``, ``"jax"``,
            ``"mindspore"`` or ``"varscale"``.
        shape: the weight shape in the *source's* layout (default: the
            shape the source expression carried). Where the target has no
            one-call equivalent of a fan-based law (torch and MindSpore have no
            fan-based truncated normal), the code is a short snippet computing
            the fans from the target's own weight, exact for every shape, with
            :attr:`Translation.alternative` the varscale call of the same law.
        numbers: write that law's numbers for ``shape`` instead of the
            snippet (verdict ``"exact_for_shape"``); needs ``shape``.

    Returns:
        A :class:`Translation` (``code``, ``verdict``, ``notes``, shapes).

    Raises:
        UnknownNameError: ``to`` is not a target.
        InvalidArgumentError: the source cannot be parsed, or the translation
            needs ``shape``.

    Example:
        >>> import varscale as vs
        >>> vs.translate("keras.initializers.HeUniform()", to="torch").code
        "torch.nn.init.kaiming_uniform_(w, nonlinearity='relu')"
        >>> print(vs.translate("keras.initializers.HeNormal()", to="torch").code)
        fan_in = math.prod(w.shape[1:])  # torch layout (out, in, *kernel)
        n = max(1, fan_in)
        std = math.sqrt(2.0 / n) / 0.8796256610342398
        torch.nn.init.trunc_normal_(w, mean=0.0, std=std, a=-2.0 * std, b=2.0 * std)
        >>> t = vs.translate("keras.initializers.HeNormal()", to="torch", shape=(3, 3, 64, 128), numbers=True)
        >>> t.verdict, t.target_shape
        ('exact_for_shape', (128, 64, 3, 3))
    """
    if isinstance(to, str):
        to = target_name(to)
    if not isinstance(to, str) or to not in TARGETS:
        raise TypeError(f"`to` must be a str, one of {', '.join(TARGETS)}; received to={to!r}.")
    if isinstance(spec_or_source, VarianceScaling):
        spec = spec_from_initializer(spec_or_source)
    elif isinstance(spec_or_source, BasicInitializer):  # vs.Zeros(), vs.Normal(mean, std), vs.Orthogonal(gain)...
        spec = spec_from_basic(spec_or_source)
    elif isinstance(spec_or_source, Spec):
        spec = spec_or_source
    elif isinstance(spec_or_source, str):
        spec = parse(spec_or_source)
    else:
        raise TypeError(
            f"`spec_or_source` must be a Spec, a str or a varscale initializer; received "
            f"spec_or_source={spec_or_source!r} of type {type(spec_or_source).__name__}."
        )
    dims = check_shape(shape) if shape is not None else spec.shape
    if dims is not None and spec.fan_based:
        spec.check_shape(dims)  # the source framework's own refusals (fewer than 2 axes, a zero fan)
    if numbers and dims is None:
        raise InvalidArgumentError(
            "`numbers=True` writes the numbers for one shape: pass `shape` (--shape); received shape=None."
        )
    try:
        return _translate_spec(spec, to, dims, numbers)
    except _UnrepresentableError as err:
        raise UnrepresentableNumberError(
            f"cannot translate {spec.call or 'this initializer'} to {to!r}: {err} (the parameters underflow or "
            f"overflow float64 for this law); received spec_or_source={spec.source or spec.call!r}, "
            f"shape={dims!r}."
        ) from None


def _translate_spec(spec: Spec, to: str, dims: tuple[int, ...] | None, numbers: bool = False) -> Translation:
    ctx = _Ctx(spec, to, dims, numbers)
    alternative = None
    if spec.family in OTHER_FAMILIES:
        code, verdict = _other_code(ctx)
        src_layout = spec.layout if isinstance(spec.layout, str) else "tf"
        tgt_layout = _LAYOUT_OF.get(to, src_layout)
        tshape = to_layout(dims, src_layout, tgt_layout) if dims is not None else None
        if dims is not None and tshape != dims:
            ctx.notes.append(f"layout: {spec.framework} weight {dims} is {_LAYOUT_TEXT[src_layout]}; the same layer "
                             f"in {to} is {tshape}")
        return Translation(spec, to, code, verdict, tuple(ctx.notes), dims, tshape, tgt_layout)
    _notes(ctx)
    low_rank = dims is not None and len(dims) < 2 and to in ("torch", "mindspore", "jax")
    if spec.jax_axes is not None:
        got = _jax_axes_code(ctx) if to == "jax" else None
        if to != "jax":
            ctx.notes.append(f"JAX's fans over in_axis={spec.jax_axes[0]!r}, out_axis={spec.jax_axes[1]!r}, "
                             f"batch_axis={spec.jax_axes[2]!r} have no equivalent in {to}")
    else:
        got = _fan_based_code(ctx) if spec.fan_based and not low_rank else None
    if low_rank and spec.fan_based:
        ctx.notes.append(f"{to} cannot compute fans of a rank-{len(dims or ())} tensor, so the numbers are fixed "
                         f"for this shape")
    generic = (got is None and spec.fan_based and spec.jax_axes is None and not low_rank and not numbers
               and to in ("torch", "mindspore"))
    if generic:
        code, alternative = _snippet(ctx)
        got = code, "exact"
        if dims is None:
            ctx.notes.append("exact for every weight of rank ≥ 2 (the fans are computed from the weight itself)")
    if got is None:
        if spec.fan_based:
            fi, fo = ctx.fans()
            p = spec.param(fi, fo)
            code, verdict = _fixed_code(ctx, spec.family, p, spec.cut)
            if verdict == "exact":
                verdict = "exact_for_shape"
            ctx.notes.append(f"numbers for fan_in={fi}, fan_out={fo} (n={spec.n(fi, fo):g}); recompute for another "
                             f"shape")
        else:
            code, verdict = _fixed_code(ctx, spec.family, spec.param(1, 1), spec.cut)
    else:
        code, verdict = got
        tgt_clamp = to in ("keras", "tf.keras", "tf1", "varscale") or (".VarianceScaling(" in code and to == "mindspore")
        if generic:
            tgt_clamp = spec.clamp  # the snippet writes the source's own max(1, n) or n
        if spec.clamp != tgt_clamp:
            _clamp_note(ctx, dims, to, tgt_clamp)
    src_layout = spec.layout if isinstance(spec.layout, str) else "tf"
    tgt_layout = _LAYOUT_OF.get(to, src_layout)
    if dims is not None and isinstance(spec.layout, str) and spec.jax_axes is None and _looks_other(dims, src_layout):
        other = to_layout(dims, "torch" if src_layout == "tf" else "tf", src_layout)
        ctx.notes.append(
            f"check the shape: {dims} is read in {spec.framework}'s layout {_LAYOUT_TEXT[src_layout]}, but it looks "
            f"like {_LAYOUT_TEXT['torch' if src_layout == 'tf' else 'tf']}; if so the same layer is {other} here "
            f"(CLI: --target-shape or --shape-layout target)"
        )
    if code.startswith("varscale.compat.torch."):
        tgt_layout = "torch"
    tshape = None
    if dims is not None:
        if spec.jax_axes is not None:
            tshape = dims
        elif isinstance(spec.layout, str):
            tshape = to_layout(dims, src_layout, tgt_layout)
        else:
            fi, fo = spec.fans(dims)
            tshape = (fi, fo) if tgt_layout == "tf" else (fo, fi)
            ctx.notes.append(f"the source names its fan axes ({spec.layout!r}); the target shape is the 2-D "
                             f"equivalent {tshape}")
        if tshape != dims:
            ctx.notes.append(
                f"layout: {spec.framework} weight {dims} is {_LAYOUT_TEXT[src_layout]}; the same layer in "
                f"{to} is {tshape}, {_LAYOUT_TEXT[tgt_layout]} (same fans)"
            )
    elif (to in ("torch", "mindspore") and src_layout == "tf") or (to not in ("torch", "mindspore", "varscale") and \
            src_layout == "torch"):
        ctx.notes.append(f"layout: apply to the same layer's weight in {to}'s own layout "
                         f"{_LAYOUT_TEXT[tgt_layout]} (source: {_LAYOUT_TEXT[src_layout]}); the fans are the same")
    return Translation(spec, to, code, verdict, tuple(ctx.notes), dims, tshape, tgt_layout, alternative)


def _looks_other(dims: tuple[int, ...], layout: str) -> bool:
    """A conv kernel shape that only makes sense in the other layout (small kernel axes at the wrong end)."""
    if len(dims) < 3:
        return False
    k = len(dims) - 2
    head, tail = dims[:k], dims[-k:]
    if layout == "tf":  # expected (*k, in, out): kernel axes first
        return max(tail) <= 7 and min(head) >= 8 and max(head[:1]) > max(tail)
    return max(dims[:2]) <= 7 and min(dims[2:]) >= 8  # expected (out, in, *k)


def _clamp_note(ctx: _Ctx, dims: tuple[int, ...] | None, to: str, tgt_clamp: bool) -> None:
    """The max(1, n) difference, only where it changes something: a zero-size shape (or no shape given)."""
    s = ctx.spec
    clamps, plain = (s.framework, to) if s.clamp else (to, s.framework)
    if dims is None:
        ctx.notes.append(f"for zero-size shapes only: {clamps} uses max(1, n) where {plain} divides by n = 0")
        return
    if s.jax_axes is None and s.fan_based and s._raw_n(*s.fans(dims)) == 0:
        ctx.notes.append(f"n = 0 for shape {dims}: {clamps} uses max(1, n) = 1 where {plain} divides by zero "
                         f"(the tensor has no elements)")


def translate_all(spec_or_source: Spec | str | VarianceScaling, shape: Any = None) -> dict[str, Translation]:
    """:func:`translate` to every target.

    Example:
        >>> import varscale as vs
        >>> sorted(translate_all("he_uniform"))[:3]
        ['jax', 'keras', 'mindspore']
    """
    if isinstance(spec_or_source, str):
        spec_or_source = parse(spec_or_source)
    return {t: translate(spec_or_source, t, shape) for t in TARGETS}


# ---------------------------------------------------------------------------
# Whole files
# ---------------------------------------------------------------------------

_INIT_KWARG = ("init", "initializer")
_AMBIGUOUS_BARE = frozenset({"get", "normal", "uniform", "Normal", "Uniform", "initializer", "constant", "Constant",
                             "zeros", "ones", "Zeros", "Ones", "identity", "Identity", "Zero", "One",
                             "truncated_normal", "variance_scaling", "orthogonal", "Orthogonal"})


@dataclass(frozen=True)
class FileRow:
    """One initializer expression found in a file, and its translation.

    Attributes:
        line: 1-based line of the expression.
        source: the expression as written (a keyword argument keeps its name).
        code: the translation (None when not translated).
        verdict: ``"exact"``, ``"exact_for_shape"``, ``"impossible"`` or ``"untranslated"``.
        notes: the translation's notes, or the reason it was not translated.
    """

    line: int
    source: str
    code: str | None
    verdict: str
    notes: tuple[str, ...]


def _is_init_call(node: Any) -> bool:
    import ast

    from ._parse import _KNOWN_NAMES, _OTHER_INITS, _prefix_framework

    parts: list[str] = []
    f = node.func if isinstance(node, ast.Call) else node
    while isinstance(f, ast.Attribute):
        parts.append(f.attr)
        f = f.value
    if not isinstance(f, ast.Name):
        return False
    parts.append(f.id)
    parts.reverse()
    fw, func = _prefix_framework(tuple(parts))
    known = {n for names in _KNOWN_NAMES.values() for n in names} | _OTHER_INITS
    if fw == "?":  # a tensor method on a parameter: m.weight.data.normal_(0, 0.01), m.bias.data.zero_()
        return func in ("normal_", "uniform_", "zero_", "fill_") and bool({"weight", "bias", "data"} & set(parts))
    if fw is not None:
        return func in known or func.endswith("_initializer")
    return func in known and func not in _AMBIGUOUS_BARE


def _uncalled_init(node: Any) -> bool:
    """A JAX/Flax or Keras initializer named without a call (``nn.initializers.zeros``)."""
    from ._parse import _KNOWN_NAMES, _OTHER, _prefix_framework

    parts: list[str] = []
    f = node
    while hasattr(f, "attr"):
        parts.append(f.attr)
        f = f.value
    if not hasattr(f, "id"):
        return False
    parts.append(f.id)
    fw, func = _prefix_framework(tuple(reversed(parts)))
    return fw in ("jax", "keras", "tf.keras") and (func in _KNOWN_NAMES[fw] or (fw, func) in _OTHER)


def find_initializers(text: str) -> list[tuple[int, str]]:
    """``(line, expression)`` of every initializer expression in Python source (read with :mod:`ast`, never run).

    Found: calls of a framework's initializers (``nn.init.kaiming_normal_(m.weight)``,
    ``keras.initializers.HeNormal()``, ``nn.initializers.lecun_normal()``...) and
    keyword arguments named ``*init`` or ``*initializer`` (``kernel_initializer='he_uniform'``).

    Example:
        >>> find_initializers("layers.Dense(8, kernel_initializer='he_uniform')\\nnn.init.zeros_(m.bias)")
        [(1, "kernel_initializer='he_uniform'"), (2, 'nn.init.zeros_(m.bias)')]
    """
    import ast

    try:
        tree = ast.parse(text)
    except SyntaxError as err:
        raise InvalidArgumentError(f"`file` is not valid Python ({err.msg}, line {err.lineno}); received a file of "
                                   f"{len(text)} characters.") from None
    found: dict[tuple[int, int], str] = {}
    inside: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.keyword) and node.arg and node.arg.lower().endswith(_INIT_KWARG):
            v = node.value
            is_name = isinstance(v, ast.Constant) and isinstance(v.value, str)
            named = isinstance(v, ast.Attribute) and _is_init_call(v)  # passed uncalled: initializers.zeros
            if is_name or named or (isinstance(v, ast.Call) and _is_init_call(v)):
                seg = ast.get_source_segment(text, node) or ""
                found[(node.value.lineno, node.value.col_offset)] = seg
                inside.update(id(n) for n in ast.walk(v))
        if isinstance(node, ast.Dict):  # {'kernel_initializer': 'he_normal', 'bias_initializer': 'zeros'}
            for k, v in zip(node.keys, node.values, strict=True):
                if (isinstance(k, ast.Constant) and isinstance(k.value, str) and k.value.lower().endswith(_INIT_KWARG)
                        and ((isinstance(v, ast.Constant) and isinstance(v.value, str))
                             or (isinstance(v, ast.Call) and _is_init_call(v)))):
                    found[(v.lineno, v.col_offset)] = f"{k.value}={ast.get_source_segment(text, v) or ''}"
                    inside.update(id(n) for n in ast.walk(v))
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and isinstance(node.value, ast.Attribute):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names = [t.attr if isinstance(t, ast.Attribute) else getattr(t, "id", "") for t in targets]
            if any(n.lower().endswith(_INIT_KWARG) for n in names) and _is_init_call(node.value):
                # `bias_init: Callable = initializers.zeros` (a Flax field), an initializer passed uncalled
                found[(node.value.lineno, node.value.col_offset)] = ast.get_source_segment(text, node.value) or ""
    callees = {id(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
    for node in ast.walk(tree):  # breadth first: an outer call before the calls inside it
        if isinstance(node, ast.Call) and id(node) not in inside and _is_init_call(node):
            found[(node.lineno, node.col_offset)] = ast.get_source_segment(text, node) or ""
            inside.update(id(n) for n in ast.walk(node))
        elif (isinstance(node, ast.Attribute) and id(node) not in inside and id(node) not in callees
              and _uncalled_init(node)):
            # passed uncalled: self.param('bias', nn.initializers.zeros, shape), with_partitioning(initializers.ones)
            found.setdefault((node.lineno, node.col_offset), ast.get_source_segment(text, node) or "")
            inside.add(id(node))
    return [(k[0], " ".join(v.split())) for k, v in sorted(found.items())]


def translate_file(text: str, to: str, *, tf_version: str | None = None) -> list[FileRow]:
    """Translate every initializer expression of a Python file (see :func:`find_initializers`).

    An expression the translator cannot read gets the verdict ``"untranslated"``
    and the reason in ``notes``.

    Example:
        >>> rows = translate_file("Dense(8, kernel_initializer='he_uniform')", to="torch")
        >>> rows[0].code, rows[0].verdict
        ("torch.nn.init.kaiming_uniform_(w, nonlinearity='relu')", 'exact')
    """
    to = target_name(to)
    rows = []
    for line, src in find_initializers(text):
        try:
            tr = translate(parse(src, tf_version=tf_version), to)
        except InvalidArgumentError as err:
            reason = str(err).split("; received source=")[0].removeprefix("cannot parse `source`: ")
            rows.append(FileRow(line, src, None, "untranslated", (reason,)))
            continue
        rows.append(FileRow(line, src, tr.code, tr.verdict, tr.notes))
    return rows
