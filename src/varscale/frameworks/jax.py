"""JAX and Flax (``jax.nn.initializers``, ``flax.linen.initializers``, ``flax.nnx.initializers``).

JAX draws ``(*kernel, in, out)`` weights with fans over named axes
(``in_axis``, ``out_axis``, ``batch_axis``; a float receptive field), divides
by ``n`` without ``max(1, n)``, has ``fan_geo_avg``, and refuses a rank-1
weight with the default ``in_axis``. Its ``uniform(scale)`` draws on
``[0, scale)``. The drop-in facade is :mod:`varscale.compat.jax.nn.initializers`.

Example:
    >>> import varscale as vs
    >>> s = vs.parse("nn.initializers.variance_scaling(2.0, 'fan_geo_avg', 'normal')")
    >>> s.family, s.mode, s.clamp
    ('untruncated_normal', 'fan_geo_avg', False)
    >>> vs.translate("keras.initializers.LecunNormal()", to="flax").code
    'jax.nn.initializers.lecun_normal()'
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import replace
from typing import Any, ClassVar

from .._errors import InvalidArgumentError
from .._spec import Spec
from ._base import Framework, OtherInit
from ._reading import (
    PRESETS,
    SNAKE,
    Call,
    centred_uniform,
    choice,
    positive,
    unknown,
    vs_spec,
)
from ._writing import PRESET_OF, Bounds, Ctx, contrib_by_scale, keras_scale, num, val

__all__ = ["FRAMEWORKS", "Jax", "jax_fans"]

#: JAX's preset functions -> varscale's class names.
_PRESETS = SNAKE
_OTHER: dict[str, OtherInit] = {
    "zeros": ("constant", ("key", "shape", "dtype"), None, 0.0),
    "ones": ("constant", ("key", "shape", "dtype"), None, 1.0),
    "zeros_init": ("constant", (), None, 0.0),
    "ones_init": ("constant", (), None, 1.0),
    "constant": ("constant", ("value", "dtype"), "value", 0.0),
    "orthogonal": ("orthogonal", ("scale", "column_axis", "dtype"), "scale", 1.0),
}
_LAMBDA = "lambda key, shape, dtype=jax.numpy.float32:"


def jax_fans(shape: tuple[int, ...], in_axis: Any, out_axis: Any, batch_axis: Any) -> tuple[float, float]:
    """JAX's fans over the named axes (float receptive field), computed by the facade's copy of JAX's rule;
    an axis out of range or a zero size is refused as an :class:`~varscale.InvalidArgumentError`.

    Example:
        >>> jax_fans((3, 3, 64, 128), -2, -1, ())
        (576.0, 1152.0)
    """
    from ..compat.jax.nn.initializers import _compute_fans  # JAX's rule, written once

    rank = len(shape)
    for axes in (in_axis, out_axis, batch_axis):
        for a in axes if isinstance(axes, tuple) else (axes,):
            if not -rank <= a < rank:
                raise InvalidArgumentError(
                    f"JAX axis {a} is out of range for a rank-{rank} shape; received shape={shape!r}."
                )
    try:
        return _compute_fans(shape, in_axis, out_axis, batch_axis)
    except ZeroDivisionError:
        raise InvalidArgumentError(
            f"JAX divides by a zero dimension (ZeroDivisionError); received shape={shape!r}."
        ) from None


def _axes(c: Call) -> tuple[Any, Any, Any] | None:
    """JAX's (in_axis, out_axis, batch_axis), or None for the defaults."""
    axes = []
    for p, default in (("in_axis", -2), ("out_axis", -1), ("batch_axis", [])):
        v = c.get(p, default)
        items = v if isinstance(v, list) else [v]
        if not all(isinstance(a, int) and not isinstance(a, bool) and -16 <= a < 16 for a in items):
            raise c.bad(p, f"must be an int axis or a list of them; received {p}={v!r}")
        axes.append(tuple(v) if isinstance(v, list) else v)
    if axes[0] == -2 and axes[1] == -1 and axes[2] == ():
        return None
    return (axes[0], axes[1], axes[2])


def _dist(family: str) -> str:
    """JAX's name of a family (``normal`` is untruncated)."""
    return "normal" if family == "untruncated_normal" else family


class Jax(Framework):
    """JAX and Flax."""

    name = "jax"
    title = "jax.nn.initializers"
    module = "jax.nn.initializers"
    clamps = False
    needs_rank2 = True
    aliases = ("flax", "flax.linen", "nnx", "jax.nn.initializers")
    prefixes = (("jax", "nn", "initializers"), ("flax", "linen", "initializers"), ("flax", "nnx", "initializers"),
                ("nn", "initializers"), ("nnx", "initializers"), ("linen", "initializers"),
                ("flax", "nn", "initializers"), ("jinit",), ("varscale", "compat", "jax", "nn", "initializers"))
    names = ("variance_scaling", "glorot_uniform", "glorot_normal", "xavier_uniform", "xavier_normal",
             "lecun_uniform", "lecun_normal", "he_uniform", "he_normal", "kaiming_uniform", "kaiming_normal",
             "normal", "truncated_normal", "uniform", *_OTHER)
    other: ClassVar[Mapping[str, OtherInit]] = _OTHER
    unread = frozenset({"delta_orthogonal"})
    bare = frozenset({*_PRESETS, "variance_scaling", "zeros_init", "ones_init"})
    guess_order = 40
    facade = "varscale.compat.jax.nn.initializers"

    def claims_module(self, head: tuple[str, ...], func: str, kw: frozenset[str] = frozenset()) -> bool:
        # `from flax.linen import initializers`; Keras' classes are capitalized and its functions take a seed
        return head == ("initializers",) and not func[:1].isupper() and "seed" not in kw

    # -- shapes ----------------------------------------------------------------------
    def fans(self, spec: Spec, dims: tuple[int, ...]) -> tuple[Any, Any]:
        if spec.jax_axes is not None:
            return jax_fans(dims, *spec.jax_axes)
        return super().fans(spec, dims)

    def rank_refusal(self, spec: Spec, rank: int) -> str | None:
        if spec.jax_axes is not None and spec.jax_axes[0] != -2:
            return None
        return (f'ValueError("Can\'t compute input and output sizes of a {rank}-dimensional weights tensor '
                'with default in_axis. Must be at least 2D or specify in_axis explicitly.")')

    def check_empty(self, spec: Spec, dims: tuple[int, ...], who: str) -> None:
        if 0 in dims:
            raise InvalidArgumentError(
                f"`shape` must not have a zero dimension for {who}: JAX divides by the sizes of the fan axes and "
                f"by the receptive field without max(1, n) and raises ZeroDivisionError; received shape={dims!r}."
            )

    # -- reading ---------------------------------------------------------------------
    def params(self, func: str) -> tuple[str, ...]:
        if func == "variance_scaling":
            return ("scale", "mode", "distribution", "in_axis", "out_axis", "batch_axis", "dtype")
        if func == "truncated_normal":
            return ("stddev", "dtype", "lower", "upper")
        if func == "normal":
            return ("stddev", "dtype")
        if func == "uniform":
            return ("scale", "dtype")
        return ("in_axis", "out_axis", "batch_axis", "dtype")

    def read(self, c: Call, func: str) -> Spec:
        if func == "variance_scaling":
            for p in ("scale", "mode", "distribution"):
                if not c.has(p):
                    raise c.r.fail(f"jax variance_scaling() needs `{p}` (JAX has no default)", c.node)
            scale = c.num("scale", 1.0)
            mode = choice(c, "mode", c.text("mode", ""), ("fan_in", "fan_out", "fan_avg", "fan_geo_avg"))
            dist = choice(c, "distribution", c.text("distribution", ""), ("truncated_normal", "normal", "uniform"))
            spec = vs_spec("jax", scale, mode, "untruncated_normal" if dist == "normal" else dist, func, clamp=False)
            return replace(spec, jax_axes=_axes(c))
        if func in _PRESETS:
            s, m, d = PRESETS[_PRESETS[func]]
            return replace(vs_spec("jax", s, m, d, func, clamp=False), jax_axes=_axes(c))
        if func == "normal":
            return Spec("jax", "untruncated_normal", None, None, fixed=positive(c, "stddev", 0.01), call=func)
        if func == "uniform":  # jax.nn.initializers.uniform(scale=0.01): U[0, scale)
            scale = positive(c, "scale", 0.01)
            return centred_uniform(c, "jax", func, 0.0, scale, "scale")
        if func == "truncated_normal":
            lo, hi = c.num("lower", -2.0), c.num("upper", 2.0)
            if lo != -hi or hi <= 0:
                raise c.bad("lower", f"only symmetric lower == -upper < 0 is supported; received lower={lo!r}, "
                                     f"upper={hi!r}")
            return Spec("jax", "truncated_normal", None, None, cut=hi, fixed=positive(c, "stddev", 0.01), call=func)
        raise unknown(c.r, func, "jax", "jax.nn.initializers", c.node.func)

    def check_other(self, c: Call, func: str) -> None:
        if func == "orthogonal" and c.get("column_axis", -1) != -1:
            raise c.bad("column_axis", f"only the default column_axis=-1 is translated; received "
                                       f"column_axis={c.get('column_axis')!r}")

    # -- writing ---------------------------------------------------------------------
    def fan_code(self, ctx: Ctx) -> tuple[str, str] | None:
        s = ctx.spec
        if s.mode is None:
            return None
        scale = keras_scale(ctx)
        preset = PRESET_OF.get((scale, s.mode, s.family))  # only the exact preset: no snapping
        if preset:
            return f"jax.nn.initializers.{preset[1]}()", "exact"
        return f"jax.nn.initializers.variance_scaling({num(scale)}, {s.mode!r}, {_dist(s.family)!r})", "exact"

    def axes_code(self, ctx: Ctx) -> tuple[str, str] | None:
        s = ctx.spec
        axes = s.jax_axes or (-2, -1, ())
        in_axis, out_axis, batch = (list(a) if isinstance(a, tuple) else a for a in axes)
        return (f"jax.nn.initializers.variance_scaling({num(keras_scale(ctx))}, {s.mode!r}, "
                f"{_dist(s.family)!r}, in_axis={in_axis!r}, out_axis={out_axis!r}, batch_axis={batch!r})",
                "exact")

    def fixed_code(self, ctx: Ctx, family: str, p: float, k: float) -> tuple[str, str]:
        if family == "untruncated_normal":
            return f"jax.nn.initializers.normal(stddev={num(p)})", "exact"
        if family == "truncated_normal":
            return f"jax.nn.initializers.truncated_normal(stddev={num(p)}, lower={num(-k)}, upper={num(k)})", "exact"
        if not ctx.numbers:
            ctx.notes.append("jax.nn.initializers.uniform draws from [0, scale), not a symmetric range: this "
                             "initializer function draws jax.random.uniform on [-L, L] (every shape)")
            return f"{_LAMBDA} jax.random.uniform(key, shape, dtype, {num(-p)}, {num(p)})", "exact"
        fi, _ = ctx.target_fans()
        n = float(max(fi, 1))
        if ctx.shape is not None and len(ctx.shape) == 1:
            ctx.notes.append("jax.nn.initializers.uniform draws from [0, scale); on a rank-1 weight "
                             "in_axis=out_axis=0 gives JAX fans (1, 1)")
            return (f"jax.nn.initializers.variance_scaling({num(p * p / 3)}, 'fan_in', 'uniform', in_axis=0, "
                    f"out_axis=0)", "exact_for_shape")
        if ctx.shape is not None and len(ctx.shape) == 0:
            ctx.notes.append(f"impossible: jax has no symmetric uniform for a rank-0 weight; closest: a normal with "
                             f"the same std {p / math.sqrt(3):.6g}: std error +0.000 %, unbounded")
            return f"jax.nn.initializers.normal(stddev={num(p / math.sqrt(3))})", "impossible"
        ctx.notes.append("jax.nn.initializers.uniform draws from [0, scale), not a symmetric range: "
                         f"variance_scaling with mode 'fan_in' and fan_in = {fi} gives U(±{p:.6g})")
        return f"jax.nn.initializers.variance_scaling({num(p * p * n / 3)}, 'fan_in', 'uniform')", "exact_for_shape"

    def fixed_mean_code(self, ctx: Ctx, family: str, p: float, k: float, m: float) -> tuple[str, str]:
        b = Bounds(p, k, m)
        if family == "uniform":
            if m == p:  # U[0, 2L): JAX's own uniform
                return f"jax.nn.initializers.uniform(scale={num(2 * p)})", "exact"
            return f"{_LAMBDA} jax.random.uniform(key, shape, dtype, {b.lo}, {b.hi})", "exact"
        if family == "untruncated_normal":
            return f"{_LAMBDA} {b.mean} + {num(p)} * jax.random.normal(key, shape, dtype)", "exact"
        return (f"{_LAMBDA} {b.mean} + {num(p)} * jax.random.truncated_normal(key, {val(-k)}, {val(k)}, shape, "
                f"dtype)"), "exact"

    def constant_forms(self) -> tuple[str, str, str]:
        return ("jax.nn.initializers.zeros", "jax.nn.initializers.ones", "jax.nn.initializers.constant({v})")

    def orthogonal_code(self, ctx: Ctx, g: str) -> str:
        return f"jax.nn.initializers.orthogonal(scale={g})"

    def identity_code(self, ctx: Ctx, v: float, g: str) -> tuple[str, str]:
        ctx.notes.append("jax.nn.initializers has no identity initializer: this function is one (2-D weights)")
        return f"{_LAMBDA} {g} * jax.numpy.eye(shape[0], shape[1], dtype=dtype)", "exact"

    def contrib_how(self, ctx: Ctx) -> str:
        return contrib_by_scale(ctx)


FRAMEWORKS = (Jax(),)

