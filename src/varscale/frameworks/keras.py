"""Keras 3 (``keras.initializers``) and tf.keras 2 (``tf.keras.initializers``).

Both draw ``(*kernel, in, out)`` weights, divide by ``max(1, n)`` and correct
the truncated normal by 0.8796 (TF ≥ 1.10); the presets and
``VarianceScaling`` have the same parameters in both; only the module differs.
The drop-in facade is :mod:`varscale.compat.keras.initializers`.

Example:
    >>> import varscale as vs
    >>> vs.parse("keras.initializers.VarianceScaling(2.0, 'fan_out', 'uniform')").mode
    'fan_out'
    >>> vs.translate("nn.init.kaiming_uniform_(w, nonlinearity='relu')", to="tf.keras").code
    'tf.keras.initializers.HeUniform()'
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from .._spec import Spec
from ._base import Framework, OtherInit
from ._reading import (
    PRESETS,
    SNAKE,
    Call,
    centred_uniform,
    choice,
    mean_of,
    positive,
    unknown,
    vs_spec,
)
from ._writing import (
    PRESET_OF,
    Bounds,
    Ctx,
    closest_trunc,
    contrib_by_scale,
    keras_scale,
    num,
)

__all__ = ["FRAMEWORKS", "Keras", "TfKeras", "keras_other", "read_keras_like", "write_named_fixed"]

_PARAMS: dict[str, tuple[str, ...]] = {
    "VarianceScaling": ("scale", "mode", "distribution", "seed", "input_axes", "output_axes", "dtype"),
    "RandomNormal": ("mean", "stddev", "seed", "dtype"),
    "TruncatedNormal": ("mean", "stddev", "seed", "dtype"),
    "RandomUniform": ("minval", "maxval", "seed", "dtype"),
}
_SNAKE_PARAMS = {"variance_scaling": "VarianceScaling", "random_normal": "RandomNormal",
                 "truncated_normal": "TruncatedNormal", "random_uniform": "RandomUniform"}


def keras_other() -> dict[str, OtherInit]:
    """Keras' zeros/ones/constant/orthogonal/identity (classes and snake-case functions), also varscale's."""
    table: dict[str, OtherInit] = {}
    for cls, snake, entry in (
        ("Zeros", "zeros", ("constant", ("dtype",), None, 0.0)),
        ("Ones", "ones", ("constant", ("dtype",), None, 1.0)),
        ("Constant", "constant", ("constant", ("value", "dtype"), "value", 0.0)),
        ("Orthogonal", "orthogonal", ("orthogonal", ("gain", "seed", "layout"), "gain", 1.0)),
        ("Identity", "identity", ("identity", ("gain", "dtype"), "gain", 1.0)),
    ):
        table[cls] = table[snake] = entry
    return table


def _axes_check(c: Call) -> None:
    if c.get("input_axes") is not None or c.get("output_axes") is not None:
        raise c.bad("input_axes", "input_axes/output_axes are not supported by the translator")


def read_keras_like(fw: str, c: Call, func: str) -> Spec:
    """Keras 3 / tf.keras 2 classes (and TF2 core ``tf.initializers``), as framework ``fw``."""
    if func in ("VarianceScaling", "variance_scaling"):
        scale = c.num("scale", 1.0)
        mode = choice(c, "mode", c.text("mode", "fan_in"), ("fan_in", "fan_out", "fan_avg"))
        dist = c.text("distribution", "truncated_normal").lower()
        dist = choice(c, "distribution", dist, ("normal", "truncated_normal", "untruncated_normal", "uniform"))
        _axes_check(c)
        return vs_spec(fw, scale, mode, "truncated_normal" if dist == "normal" else dist, func)
    if func in PRESETS or func in SNAKE:
        _axes_check(c)
        s, m, d = PRESETS[SNAKE.get(func, func)]
        return vs_spec(fw, s, m, d, func)
    if func in ("RandomNormal", "random_normal"):
        return Spec(fw, "untruncated_normal", None, None, fixed=positive(c, "stddev", 0.05), mean=mean_of(c, "mean"),
                    call=func)
    if func in ("TruncatedNormal", "truncated_normal"):
        return Spec(fw, "truncated_normal", None, None, cut=2.0, fixed=positive(c, "stddev", 0.05),
                    mean=mean_of(c, "mean"), call=func)
    if func in ("RandomUniform", "random_uniform"):
        lo, hi = c.num("minval", -0.05), c.num("maxval", 0.05)
        return centred_uniform(c, fw, func, lo, hi, "minval")
    raise unknown(c.r, func, fw, fw, c.node.func)


def write_named_fixed(ctx: Ctx, names: tuple[str, str, str], family: str, p: float, k: float,
                      b: Bounds) -> tuple[str, str]:
    """A fixed law with Keras' (or TF1's) RandomUniform/RandomNormal/TruncatedNormal named ``names``."""
    if family == "uniform":
        return f"{names[0]}(minval={b.lo}, maxval={b.hi})", "exact"
    if family == "untruncated_normal":
        return f"{names[1]}(mean={b.mean}, stddev={num(p)})", "exact"
    if k == 2.0:
        return f"{names[2]}(mean={b.mean}, stddev={num(p)})", "exact"
    return closest_trunc(ctx, p, k, f"{names[1]}(mean={b.mean}, stddev={{}})",
                         f"{names[2]}(mean={b.mean}, stddev={{}})")


class Keras(Framework):
    """Keras 3."""

    name = "keras"
    title = "keras"
    module = "keras.initializers"
    aliases: ClassVar[tuple[str, ...]] = ("keras3", "keras.initializers", "keras-3")
    prefixes: ClassVar[tuple[tuple[str, ...], ...]] = (("keras", "initializers"), ("keras", "src", "initializers"),
                ("varscale", "compat", "keras", "initializers"))
    names = ("VarianceScaling", "GlorotUniform", "GlorotNormal", "LecunUniform", "LecunNormal", "HeUniform",
             "HeNormal", "RandomNormal", "TruncatedNormal", "RandomUniform", "get", "glorot_uniform",
             "glorot_normal", "lecun_uniform", "lecun_normal", "he_uniform", "he_normal", "random_normal",
             "truncated_normal", "random_uniform", "variance_scaling", "Zeros", "zeros", "Ones", "ones", "Constant",
             "constant", "Orthogonal", "orthogonal", "Identity", "identity")
    other: ClassVar[Mapping[str, OtherInit]] = keras_other()
    bare = frozenset({*PRESETS, "RandomNormal", "RandomUniform", "get", "VarianceScaling", "TruncatedNormal",
                      "Zeros", "Ones", "Constant", "Orthogonal", "Identity"})
    guess_order = 30
    get_as = "keras"
    facade = "varscale.compat.keras.initializers"

    def claims_module(self, head: tuple[str, ...], func: str, kw: frozenset[str] = frozenset()) -> bool:
        # `from keras import initializers`: Keras' classes are capitalized; its snake-case functions take a seed
        return head == ("initializers",) and (func[:1].isupper() or "seed" in kw)

    def config_rank(self, module: object, conf: Mapping[str, object]) -> int | None:
        return 100  # Keras' own serialization format: every config no other framework claims

    def params(self, func: str) -> tuple[str, ...]:
        func = _SNAKE_PARAMS.get(func, func)  # Keras' snake-case aliases take the class's arguments
        return _PARAMS.get(func, ("seed", "input_axes", "output_axes", "dtype"))

    def read(self, c: Call, func: str) -> Spec:
        return read_keras_like(self.name, c, func)

    # -- writing -------------------------------------------------------------------
    def fan_code(self, ctx: Ctx) -> tuple[str, str] | None:
        s = ctx.spec
        if s.mode is None or s.mode == "fan_geo_avg":
            return None
        scale = keras_scale(ctx)
        preset = PRESET_OF.get((scale, s.mode, s.family))  # only the exact preset: no snapping
        if preset:
            return f"{self.module}.{preset[0]}()", "exact"
        return (f"{self.module}.VarianceScaling(scale={num(scale)}, mode={s.mode!r}, distribution={s.family!r})",
                "exact")

    def _fixed_names(self) -> tuple[str, str, str]:
        return (f"{self.module}.RandomUniform", f"{self.module}.RandomNormal", f"{self.module}.TruncatedNormal")

    def fixed_code(self, ctx: Ctx, family: str, p: float, k: float) -> tuple[str, str]:
        return write_named_fixed(ctx, self._fixed_names(), family, p, k, Bounds(p, k))

    def fixed_mean_code(self, ctx: Ctx, family: str, p: float, k: float, m: float) -> tuple[str, str]:
        return write_named_fixed(ctx, self._fixed_names(), family, p, k, Bounds(p, k, m))

    def constant_forms(self) -> tuple[str, str, str]:
        return (f"{self.module}.Zeros()", f"{self.module}.Ones()", f"{self.module}.Constant(value={{v}})")

    def orthogonal_code(self, ctx: Ctx, g: str) -> str:
        return f"{self.module}.Orthogonal(gain={g})"

    def identity_code(self, ctx: Ctx, v: float, g: str) -> tuple[str, str]:
        return f"{self.module}.Identity(gain={g})", "exact"

    def contrib_how(self, ctx: Ctx) -> str:
        return contrib_by_scale(ctx)


class TfKeras(Keras):
    """tf.keras 2 (and ``tf_keras``)."""

    name = "tf.keras"
    title = "tf.keras"
    module = "tf.keras.initializers"
    aliases = ("tf_keras", "tf-keras", "tfkeras", "tf.keras.initializers", "tensorflow", "tf2", "tf")
    prefixes = (("tf", "keras", "initializers"), ("tf_keras", "initializers"),
                ("tf", "compat", "v1", "keras", "initializers"))
    bare = frozenset()
    get_as = "tf.keras"

    def claims_module(self, head: tuple[str, ...], func: str, kw: frozenset[str] = frozenset()) -> bool:
        return False  # `initializers.X` is Keras 3's

    def config_rank(self, module: object, conf: Mapping[str, object]) -> int | None:
        return 2 if isinstance(module, str) and module.startswith("tf") else None


FRAMEWORKS = (Keras(), TfKeras())
