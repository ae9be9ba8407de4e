"""TF contrib (``tf.contrib.layers``, TF-Slim): ``variance_scaling_initializer`` and ``xavier_initializer``.

Contrib draws ``(*kernel, in, out)`` weights, divides by ``n`` without
``max(1, n)``, spells modes in capitals (``FAN_IN``) and, for its normal,
multiplies ``factor`` by 1.3 with no 0.8796 correction: σ' = sqrt(1.3·factor/n)
cut at ±2σ'. It has no fixed initializers: TF1 core's are used alongside it.
The drop-in facade is :mod:`varscale.compat.tf_contrib.layers`.

Example:
    >>> import varscale as vs
    >>> s = vs.parse("slim.variance_scaling_initializer(factor=1.0, mode='FAN_AVG', uniform=True)")
    >>> s.framework, s.family, s.mode, s.clamp
    ('tf_contrib', 'uniform', 'fan_avg', False)
"""

from __future__ import annotations

import ast
import math

from .._math import TRUNC_STD_2
from .._spec import Spec
from ._base import Framework
from ._reading import Call, choice, unknown
from ._writing import Ctx, num

__all__ = ["FRAMEWORKS", "TfContrib"]

_FUNCS = ("variance_scaling_initializer", "xavier_initializer", "xavier_initializer_conv2d")
#: Module paths that re-export contrib's initializers (TF-Slim, `from tensorflow.contrib import layers`).
_REEXPORTS = (("slim",), ("tf", "contrib", "slim"), ("layers",), ("contrib_layers",))


class TfContrib(Framework):
    """TF contrib layers."""

    name = "tf_contrib"
    title = "TF contrib"
    module = "tf.contrib.layers"
    clamps = False
    aliases = ("tf.contrib", "contrib", "tf-contrib", "tf.contrib.layers")
    prefixes = (("tf", "contrib", "layers"), ("contrib", "layers"), ("varscale", "compat", "tf_contrib", "layers"))
    names = _FUNCS
    passed_uncalled = False
    guess_order = 50
    facade = "varscale.compat.tf_contrib.layers"

    def claims_module(self, head: tuple[str, ...], func: str, kw: frozenset[str] = frozenset()) -> bool:
        return head in _REEXPORTS and func in _FUNCS

    def owns_bare(self, func: str, kw: set[str], node: ast.Call) -> bool:
        if func in ("xavier_initializer", "xavier_initializer_conv2d"):
            return True
        if func != "variance_scaling_initializer":
            return False
        contrib = bool(kw & {"factor", "uniform"})
        for k in node.keywords:  # contrib spells its modes in capitals
            if k.arg == "mode" and isinstance(k.value, ast.Constant) and isinstance(k.value.value, str):
                contrib = contrib or k.value.value.isupper()
        return contrib

    def params(self, func: str) -> tuple[str, ...]:
        if func == "variance_scaling_initializer":
            return ("factor", "mode", "uniform", "seed", "dtype")
        return ("uniform", "seed", "dtype")

    def read(self, c: Call, func: str) -> Spec:
        if func == "variance_scaling_initializer":
            factor = c.num("factor", 2.0)
            mode = choice(c, "mode", c.text("mode", "FAN_IN"), ("FAN_IN", "FAN_OUT", "FAN_AVG"))
            uniform = c.flag("uniform", False)
        elif func in ("xavier_initializer", "xavier_initializer_conv2d"):
            factor, mode, uniform = 1.0, "FAN_AVG", c.flag("uniform", True)
        else:
            raise unknown(c.r, func, "tf_contrib", "TF contrib", c.node.func)
        if not factor > 0:
            raise c.bad("factor", f"must be positive; received factor={factor!r}")
        if uniform:
            return Spec("tf_contrib", "uniform", factor, mode.lower(), clamp=False, call=func)
        return Spec("tf_contrib", "truncated_normal", factor, mode.lower(), param_factor=math.sqrt(1.3), cut=2.0,
                    contrib_factor=True, clamp=False, call=func)

    # -- writing -------------------------------------------------------------------
    def fan_code(self, ctx: Ctx) -> tuple[str, str] | None:
        s = ctx.spec
        if s.mode is None or s.mode == "fan_geo_avg":
            return None
        q = ctx.q()
        mode_up = s.mode.upper()
        C = TRUNC_STD_2
        if s.family == "uniform":
            return (f"tf.contrib.layers.variance_scaling_initializer(factor={num(q / 3)}, mode={mode_up!r}, "
                    f"uniform=True)", "exact")
        if s.family == "truncated_normal":
            if not s.contrib_factor:
                ctx.notes.append(
                    f"TF contrib multiplies factor by 1.3 and does not correct by 0.8796: factor={num(q / 1.3)} "
                    f"reproduces σ' exactly; the usual factor={num(s.scale or 0)} would give a std "
                    f"{(math.sqrt(1.3) * C * math.sqrt((s.scale or 0) / (q * C * C)) - 1) * 100:+.3f} % off target"
                )
            return (f"tf.contrib.layers.variance_scaling_initializer(factor={num(q / 1.3)}, mode={mode_up!r}, "
                    f"uniform=False)", "exact")
        factor = q / (1.3 * C * C)
        ctx.notes.append(
            "impossible: TF contrib has no untruncated normal; closest: its truncated normal with the same std "
            f"(factor={num(factor)}): std error +0.000 %, but bounded at ±{2 / C:.4f}·std (the usual "
            f"factor={num(q)} gives std +{(math.sqrt(1.3) * C - 1) * 100:.3f} %)"
        )
        return (f"tf.contrib.layers.variance_scaling_initializer(factor={num(factor)}, mode={mode_up!r}, "
                f"uniform=False)", "impossible")

    def fixed_code(self, ctx: Ctx, family: str, p: float, k: float) -> tuple[str, str]:
        from .._spec import truncated_std_factor

        fi, _ = ctx.target_fans()
        n = float(max(fi, 1))
        if family == "uniform":
            return (f"tf.contrib.layers.variance_scaling_initializer(factor={num(p * p * n / 3)}, mode='FAN_IN', "
                    f"uniform=True)", "exact_for_shape")
        if family == "truncated_normal" and k == 2.0:
            return (f"tf.contrib.layers.variance_scaling_initializer(factor={num(p * p * n / 1.3)}, mode='FAN_IN', "
                    f"uniform=False)", "exact_for_shape")
        std = p * truncated_std_factor(k) if family == "truncated_normal" else p
        sigma = std / TRUNC_STD_2
        ctx.notes.append(
            f"impossible: TF contrib only has a normal truncated at ±2σ'; closest: σ' = {sigma:.6g} (fan_in = {fi}) "
            f"with the same std {std:.6g}: std error +0.000 %, bounds ±{2 * sigma:.6g} instead of "
            f"{'±inf' if family != 'truncated_normal' else f'±{k * p:.6g}'}"
        )
        return (f"tf.contrib.layers.variance_scaling_initializer(factor={num(sigma * sigma * n / 1.3)}, "
                f"mode='FAN_IN', uniform=False)", "impossible")

    def fixed_mean_code(self, ctx: Ctx, family: str, p: float, k: float, m: float) -> tuple[str, str]:
        from . import get

        ctx.notes.append("TF contrib has no fixed initializers: TF1 core's (tf.compat.v1), used alongside contrib")
        return get("tf1").fixed_mean_code(ctx, family, p, k, m)

    def constant_forms(self) -> tuple[str, str, str]:
        from . import get

        return get("tf1").constant_forms()

    def orthogonal_code(self, ctx: Ctx, g: str) -> str:
        from . import get

        return get("tf1").orthogonal_code(ctx, g)

    def identity_code(self, ctx: Ctx, v: float, g: str) -> tuple[str, str]:
        from . import get

        return get("tf1").identity_code(ctx, v, g)


FRAMEWORKS = (TfContrib(),)
