"""varscale itself (``varscale.HeNormal(layout="torch")``, ``vs.VarianceScaling(...)``).

varscale's initializers take Keras' parameters plus ``layout`` (the weight's
layout: ``"tf"`` or ``"torch"``), divide by ``max(1, n)`` and correct the
truncated normal by 0.8796. A translation to varscale keeps the source's
layout. Fixed laws are written with the torch facade (absolute bounds).

Example:
    >>> import varscale as vs
    >>> vs.parse("vs.HeNormal(layout='torch')").layout
    'torch'
    >>> vs.translate("nn.init.xavier_uniform_(w)", to="varscale").code
    "varscale.GlorotUniform(layout='torch')"
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any, ClassVar

from .._errors import InvalidArgumentError
from .._math import TRUNC_STD_2
from .._spec import Spec
from ._base import Framework, OtherInit
from ._reading import PRESETS, Call, choice, clean_cut, unknown, vs_spec
from ._writing import PRESET_OF, Bounds, Ctx, contrib_by_scale, keras_scale, num, val
from .keras import _PARAMS as _KERAS_PARAMS
from .keras import keras_other
from .torch import write_torch_fixed

if TYPE_CHECKING:
    from .._initializer import VarianceScaling

__all__ = ["FRAMEWORKS", "Varscale", "spec_from_basic", "spec_from_initializer"]

_FACADE = "varscale.compat.torch.nn.init"


def _layout(c: Call) -> str:
    layout = c.get("layout", "tf")
    if layout not in ("tf", "torch"):
        raise c.bad("layout", f"must be 'tf' or 'torch'; received layout={layout!r}")
    return str(layout)


class Varscale(Framework):
    """varscale's own initializers."""

    name = "varscale"
    title = "varscale"
    module = "varscale"
    layout = None  # the source's
    absolute_bounds = True  # its fixed laws are written with the torch facade
    aliases = ("vs",)
    prefixes = (("varscale",), ("vs",))
    other: ClassVar[Mapping[str, OtherInit]] = keras_other()
    names = ("VarianceScaling", "GlorotUniform", "GlorotNormal", "LecunUniform", "LecunNormal", "HeUniform",
             "HeNormal", *other)
    get_as = "varscale"
    facade = "varscale"

    def config_rank(self, module: object, conf: Mapping[str, object]) -> int | None:
        mine = "layout" in conf or "stream_version" in conf or (isinstance(module, str) and module.startswith("varscale"))
        return 1 if mine else None

    def params(self, func: str) -> tuple[str, ...]:
        params = _KERAS_PARAMS.get(func, ("seed", "layout", "dtype"))
        return (*params, "layout") if "layout" not in params else params

    def read(self, c: Call, func: str) -> Spec:
        if func == "VarianceScaling":
            scale = c.num("scale", 1.0)
            mode = c.text("mode", "fan_in").lower()
            choice(c, "mode", mode, ("fan_in", "fan_out", "fan_avg"))
            dist = c.text("distribution", "truncated_normal").lower()
            dist = choice(c, "distribution", dist, ("normal", "truncated_normal", "untruncated_normal", "uniform"))
            return vs_spec("varscale", scale, mode, "truncated_normal" if dist == "normal" else dist, func,
                           layout=_layout(c))
        if func in PRESETS:
            layout = _layout(c)
            s, m, d = PRESETS[func]
            return vs_spec("varscale", s, m, d, func, layout=layout)
        raise unknown(c.r, func, "varscale", "varscale", c.node.func)

    def other_layout(self, c: Call) -> str:
        if c.has("layout"):
            layout = c.text("layout", "tf")
            if layout not in ("tf", "torch"):
                raise c.bad("layout", f"must be 'tf' or 'torch'; received layout={layout!r}")
            return layout
        return "tf"

    # -- writing ---------------------------------------------------------------------
    def fan_code(self, ctx: Ctx) -> tuple[str, str] | None:
        s = ctx.spec
        if s.mode is None or s.mode == "fan_geo_avg":
            return None
        scale = keras_scale(ctx)
        preset = PRESET_OF.get((scale, s.mode, s.family))  # only the exact preset: no snapping
        layout = s.layout if isinstance(s.layout, str) else "tf"
        lay = "" if layout == "tf" else f", layout={layout!r}"
        if preset:
            return f"varscale.{preset[0]}({lay.lstrip(', ')})", "exact"
        return (f"varscale.VarianceScaling(scale={num(scale)}, mode={s.mode!r}, distribution={s.family!r}{lay})",
                "exact")

    def fixed_code(self, ctx: Ctx, family: str, p: float, k: float) -> tuple[str, str]:
        return write_torch_fixed(_FACADE, family, p, Bounds(p, k))

    def fixed_mean_code(self, ctx: Ctx, family: str, p: float, k: float, m: float) -> tuple[str, str]:
        return write_torch_fixed(_FACADE, family, p, Bounds(p, k, m))

    def constant_forms(self) -> tuple[str, str, str]:
        return ("varscale.Zeros()", "varscale.Ones()", "varscale.Constant({v})")

    def orthogonal_code(self, ctx: Ctx, g: str) -> str:
        lay = ", layout='torch'" if ctx.spec.layout == "torch" else ""  # flatten as the source's weight does
        return f"varscale.Orthogonal(gain={g}{lay})"

    def identity_code(self, ctx: Ctx, v: float, g: str) -> tuple[str, str]:
        ctx.notes.append(f"impossible: varscale has no identity initializer; closest: numpy.eye × {val(v)}, the same "
                         f"values (no random stream)")
        return f"lambda shape, dtype='float32': {g} * numpy.eye(shape[0], shape[1], dtype=dtype)", "impossible"

    def contrib_how(self, ctx: Ctx) -> str:
        return contrib_by_scale(ctx)


def spec_from_basic(init: Any) -> Spec:
    """The :class:`Spec` of one of varscale's basic initializers (Zeros, Ones, Constant, Normal,
    TruncatedNormal, Uniform, Orthogonal); fan-based ones go through :func:`varscale.translate`'s own path.

    Example:
        >>> import varscale as vs
        >>> s = spec_from_basic(vs.Normal(mean=1.0, std=0.02))
        >>> s.family, s.fixed, s.mean
        ('untruncated_normal', 0.02, 1.0)
    """
    from .._basic import Constant, Normal, Orthogonal, TruncatedNormal, Uniform

    name = type(init).__name__
    if isinstance(init, Constant):
        return Spec("varscale", "constant", None, None, fixed=float(init.value), call=name)
    if isinstance(init, Orthogonal):
        return Spec("varscale", "orthogonal", None, None, fixed=float(init.gain), layout=init.layout, call=name)
    if isinstance(init, TruncatedNormal):
        m, sd, a, b = init.mean, init.std, init.a, init.b
        if a - m != -(b - m):
            raise InvalidArgumentError(
                f"`init`: only bounds symmetric about the mean translate; received mean={m!r}, a={a!r}, b={b!r}."
            )
        return Spec("varscale", "truncated_normal", None, None, fixed=sd, cut=clean_cut((b - m) / sd),
                    absolute_bounds=True, mean=m, layout="torch", call=name)
    if isinstance(init, Normal):
        if not init.std > 0:
            raise InvalidArgumentError(f"`init`: std must be positive to translate; received std={init.std!r}.")
        return Spec("varscale", "untruncated_normal", None, None, fixed=init.std, mean=init.mean, layout="torch",
                    call=name)
    if isinstance(init, Uniform):
        lo, hi = init.a, init.b
        if not hi > lo:
            raise InvalidArgumentError(f"`init`: the range must not be empty; received a={lo!r}, b={hi!r}.")
        half, mid = ((hi, 0.0) if lo == -hi else ((hi - lo) / 2.0, (lo + hi) / 2.0))
        return Spec("varscale", "uniform", None, None, fixed=half, mean=mid, layout="torch", call=name)
    if hasattr(init, "spec"):  # a rule's framework expression (SpecInitializer)
        return init.spec  # type: ignore[no-any-return]
    raise InvalidArgumentError(f"`init` of type {name} has no Spec; received init={init!r}.")


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
        spec = Spec("varscale", "truncated_normal", init.scale, init.mode, param_factor=1 / TRUNC_STD_2, cut=2.0,
                    layout=layout)
    return replace(spec, call=type(init).__name__, source=source or repr(init))


FRAMEWORKS = (Varscale(),)
