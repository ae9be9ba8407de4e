"""TensorFlow 1 core (``tf.compat.v1``, ``tf.initializers``, ``tf.*_initializer``).

TF1 draws ``(*kernel, in, out)`` weights and divides by ``max(1, n)``. Its
``variance_scaling_initializer`` says ``distribution="normal"`` for a
truncated normal, corrected by 0.8796 from TF 1.10 on and uncorrected before
(``parse(..., tf_version="1.9")``). ``get`` resolves names as Keras does. The
drop-in facade is :mod:`varscale.compat.tf1`.

Example:
    >>> import varscale as vs
    >>> vs.parse("tf.variance_scaling_initializer(distribution='normal')", tf_version="1.9").uncorrected
    True
    >>> vs.translate("keras.initializers.HeUniform()", to="tf1").code
    "tf.compat.v1.variance_scaling_initializer(scale=2.0, mode='fan_in', distribution='uniform')"
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from typing import Any, ClassVar

from .._spec import Spec
from ._base import Framework, OtherInit
from ._reading import PRESETS, SNAKE, Call, choice, unknown, vs_spec
from ._writing import Bounds, Ctx, contrib_by_scale, keras_scale, num
from .keras import read_keras_like, write_named_fixed

__all__ = ["FRAMEWORKS", "Tf1"]

_FIXED_NAMES = ("tf.compat.v1.random_uniform_initializer", "tf.compat.v1.random_normal_initializer",
                "tf.compat.v1.truncated_normal_initializer")


def _other() -> dict[str, OtherInit]:
    table: dict[str, OtherInit] = {}
    kinds: tuple[tuple[str, OtherInit], ...] = (
        ("zeros", ("constant", ("dtype",), None, 0.0)),
        ("ones", ("constant", ("dtype",), None, 1.0)),
        ("constant", ("constant", ("value", "dtype", "verify_shape"), "value", 0.0)),
        ("orthogonal", ("orthogonal", ("gain", "seed", "dtype"), "gain", 1.0)),
        ("identity", ("identity", ("gain", "dtype"), "gain", 1.0)),
    )
    for base, entry in kinds:
        table[f"{base}_initializer"] = entry
    for base, entry in list(table.items()):
        table[base.removesuffix("_initializer")] = entry
    return table


class Tf1(Framework):
    """TensorFlow 1 core."""

    name = "tf1"
    title = "TF1"
    module = "tf.compat.v1"
    aliases = ("tf.compat.v1", "tf.v1", "tensorflow1", "tf1.x")
    prefixes = (("tf", "compat", "v1", "initializers"), ("tf", "compat", "v1"), ("tf", "initializers"), ("tf",),
                ("varscale", "compat", "tf1"))
    other: ClassVar[Mapping[str, OtherInit]] = _other()
    names = ("variance_scaling_initializer", "glorot_uniform_initializer", "glorot_normal_initializer",
             "he_uniform", "he_normal", "lecun_uniform", "lecun_normal", "glorot_uniform", "glorot_normal",
             "random_normal_initializer", "truncated_normal_initializer", "random_uniform_initializer",
             *other)
    guess_order = 60
    get_as = "keras"
    facade = "varscale.compat.tf1"

    def owns_bare(self, func: str, kw: set[str], node: ast.Call) -> bool:
        return func.endswith("_initializer")

    def config_rank(self, module: object, conf: Mapping[str, object]) -> int | None:
        return 3 if "dtype" in conf else None  # TF1 initializers serialize their dtype

    def config_arguments(self, conf: dict[str, Any]) -> dict[str, Any]:
        return dict(conf, dtype=None)

    def params(self, func: str) -> tuple[str, ...]:
        base = func.removesuffix("_initializer")
        if func in ("variance_scaling_initializer", "VarianceScaling", "variance_scaling"):
            return ("scale", "mode", "distribution", "seed", "dtype")
        if base in ("random_normal", "truncated_normal", "RandomNormal", "TruncatedNormal"):
            return ("mean", "stddev", "seed", "dtype")
        if base in ("random_uniform", "RandomUniform"):
            return ("minval", "maxval", "seed", "dtype")
        return ("seed", "dtype")

    def read(self, c: Call, func: str) -> Spec:
        legacy = c.r.legacy
        if func in ("variance_scaling_initializer", "VarianceScaling", "variance_scaling"):
            scale = c.num("scale", 1.0)
            mode = choice(c, "mode", c.text("mode", "fan_in"), ("fan_in", "fan_out", "fan_avg"))
            default = "normal" if legacy else "truncated_normal"
            dist = c.text("distribution", default).lower()
            allowed = ("normal", "uniform") if legacy else ("normal", "truncated_normal", "untruncated_normal",
                                                            "uniform")
            dist = choice(c, "distribution", dist, allowed)
            if dist == "normal":
                return vs_spec("tf1", scale, mode, "truncated_normal", func, uncorrected=legacy)
            return vs_spec("tf1", scale, mode, dist, func)
        base = func.removesuffix("_initializer")
        if base in SNAKE or base in PRESETS:
            s, m, d = PRESETS[SNAKE.get(base, base)]
            return vs_spec("tf1", s, m, d, func, uncorrected=legacy and d == "truncated_normal")
        if base in ("random_normal", "truncated_normal", "random_uniform", "RandomNormal", "TruncatedNormal",
                    "RandomUniform"):
            return read_keras_like("tf1", c, base)
        raise unknown(c.r, func, "tf1", "TF1", c.node.func)

    # -- writing -------------------------------------------------------------------
    def fan_code(self, ctx: Ctx) -> tuple[str, str] | None:
        s = ctx.spec
        if s.mode is None or s.mode == "fan_geo_avg":
            return None
        return (f"tf.compat.v1.variance_scaling_initializer(scale={num(keras_scale(ctx))}, mode={s.mode!r}, "
                f"distribution={s.family!r})", "exact")

    def fixed_code(self, ctx: Ctx, family: str, p: float, k: float) -> tuple[str, str]:
        return write_named_fixed(ctx, _FIXED_NAMES, family, p, k, Bounds(p, k))

    def fixed_mean_code(self, ctx: Ctx, family: str, p: float, k: float, m: float) -> tuple[str, str]:
        return write_named_fixed(ctx, _FIXED_NAMES, family, p, k, Bounds(p, k, m))

    def constant_forms(self) -> tuple[str, str, str]:
        return ("tf.compat.v1.zeros_initializer()", "tf.compat.v1.ones_initializer()",
                "tf.compat.v1.constant_initializer({v})")

    def orthogonal_code(self, ctx: Ctx, g: str) -> str:
        return f"tf.compat.v1.orthogonal_initializer(gain={g})"

    def identity_code(self, ctx: Ctx, v: float, g: str) -> tuple[str, str]:
        return f"tf.compat.v1.initializers.identity(gain={g})", "exact"

    def contrib_how(self, ctx: Ctx) -> str:
        return contrib_by_scale(ctx)

    def notes(self, ctx: Ctx) -> None:
        s = ctx.spec
        if s.family == "truncated_normal" and s.fan_based and s.mode != "fan_geo_avg" and s.jax_axes is None:
            ctx.notes.append(f"TF ≥ 1.10 spelling; under TF ≤ 1.9 (no 0.8796 correction) write scale={num(ctx.q())}, "
                             f"distribution='normal'")
        super().notes(ctx)


FRAMEWORKS = (Tf1(),)
