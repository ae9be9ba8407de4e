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
from dataclasses import dataclass, replace
from typing import Any

from ._basic import BasicInitializer
from ._errors import InvalidArgumentError
from ._initializer import VarianceScaling
from ._math import TRUNC_STD_2
from ._parse import parse
from ._spec import OTHER_FAMILIES, Spec
from ._translate_file import FileRow, find_initializers, translate_file
from ._validation import check_shape
from .frameworks import all_frameworks, get, names, target
from .frameworks._writing import Ctx, UnrepresentableError, num, val
from .frameworks.varscale import spec_from_basic, spec_from_initializer

__all__ = [
    "TARGETS", "TARGET_ALIASES", "FileRow", "Translation", "UnrepresentableNumberError", "find_initializers",
    "spec_from_initializer", "target_name", "translate", "translate_all", "translate_file",
]

#: Translation targets, in the order the porting guide lists them.
TARGETS = names()
#: Names users type for a target (``--to pytorch``), each mapped to one of :data:`TARGETS`.
TARGET_ALIASES = {alias: fw.name for fw in all_frameworks() for alias in fw.aliases}


def target_name(to: str) -> str:
    """The target a user's name means (``"pytorch"`` → ``"torch"``, ``"flax"`` → ``"jax"``).

    Raises:
        UnknownNameError: neither a target nor an alias (with a did-you-mean).

    Example:
        >>> target_name("pytorch"), target_name("tf.keras"), target_name("Flax")
        ('torch', 'tf.keras', 'jax')
    """
    return target(to).name


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



class UnrepresentableNumberError(InvalidArgumentError):
    """:func:`translate` refuses a target whose code would need a number float64 cannot hold (0, inf)."""



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


# ---------------------------------------------------------------------------



_FAN_TEXT = {
    "fan_in": "fan_in", "fan_out": "fan_out", "fan_avg": "(fan_in + fan_out) / 2",
    "fan_geo_avg": "math.sqrt(fan_in * fan_out)",
}


def _param_text(s: Spec, q: float) -> str:
    """``L`` or ``σ'`` as a Python expression of ``n``."""
    if s.family == "truncated_normal" and abs(s.param_factor - 1 / TRUNC_STD_2) < 1e-15:
        return f"math.sqrt({num(s.scale_value)} / n) / {num(TRUNC_STD_2)}"
    if s.contrib_factor:
        return f"math.sqrt(1.3 * {num(s.scale_value)} / n)"
    if s.family == "uniform":
        return f"math.sqrt(3 * {num(q / 3)} / n)"
    return f"math.sqrt({num(q)} / n)"


def _snippet(ctx: Ctx) -> tuple[str, str | None]:
    """(code, alternative): a few lines computing the fans in the target's own terms, exact for every shape.

    The target's :meth:`~varscale.frameworks.Framework.snippet_call` writes the
    last line (for ``torch`` the weight is the tensor ``w``; for ``mindspore`` the
    lines build an initializer for the weight shape ``shape``).
    """
    s, t = ctx.spec, ctx.target
    q = ctx.q()
    fw = ctx.fw
    var = fw.snippet_shape
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
    k = num(s.cut) if s.family == "truncated_normal" else ""
    vs_code = _vs_facade(ctx)
    last = fw.snippet_call(s.family, k)
    assert last is not None, f"{t} writes no snippets"
    lines.append(last)
    alt = fw.snippet_alternative(vs_code) if vs_code else None
    return "\n".join(lines), alt


def _vs_facade(ctx: Ctx) -> str | None:
    """The varscale initializer with the same law, reading fans in the torch layout."""
    s = ctx.spec
    if not isinstance(s.layout, str) or s.mode == "fan_geo_avg" or s.jax_axes is not None:
        return None
    sub = Ctx(replace(s, layout="torch"), get("varscale"), None)
    got = get("varscale").fan_code(sub)
    return got[0] if got else None



def _other_code(ctx: Ctx) -> tuple[str, str]:
    """(code, verdict) for a constant, orthogonal or identity spec."""
    s = ctx.spec
    v = float(s.fixed or 0.0)
    if s.family == "constant":
        zeros, ones, const = ctx.fw.constant_forms()
        return (zeros if v == 0.0 else ones if v == 1.0 else const.format(v=val(v))), "exact"
    if s.family == "orthogonal":
        src_layout = s.layout if isinstance(s.layout, str) else "tf"
        if (ctx.fw.layout or src_layout) != src_layout:
            ctx.notes.append("the same law, a Haar-random (semi-)orthogonal matrix × gain: Keras/TF/JAX flatten "
                             "the weight to (rest, shape[-1]), torch/MindSpore to (shape[0], rest); on the same layer "
                             "these differ by a transpose and an axis permutation, which the Haar law does not see")
        return ctx.fw.orthogonal_code(ctx, val(v)), "exact"
    # identity
    if ctx.shape is not None and len(ctx.shape) != 2:
        ctx.notes.append(f"an identity initializer takes 2-D weights; received shape {ctx.shape}")
    return ctx.fw.identity_code(ctx, v, val(v))


def _fixed_code(ctx: Ctx, p: float) -> tuple[str, str]:
    """(code, verdict) of the law with the fixed parameter ``p`` (L or σ'), in the target's own initializers."""
    s = ctx.spec
    if s.mean != 0.0 and not s.fan_based:
        return ctx.fw.fixed_mean_code(ctx, s.family, p, s.cut, s.mean)
    return ctx.fw.fixed_code(ctx, s.family, p, s.cut)


def _notes(ctx: Ctx) -> None:
    """The source's quirks, then the target's own notes."""
    s = ctx.spec
    if s.contrib_factor:
        how = ctx.fw.contrib_how(ctx)
        ctx.notes.append(
            f"TF contrib: σ' = sqrt(1.3·factor/n) with no 0.8796 correction, so the std is "
            f"{(math.sqrt(1.3) * TRUNC_STD_2 - 1) * 100:.3f} % above the target sqrt(factor/n) and the bounds are "
            f"±2·sqrt(1.3·factor/n){how}"
        )
    if s.uncorrected:
        ctx.notes.append(
            f"TF ≤ 1.9's 'normal' is a truncated normal without the 0.8796 correction: realized std "
            f"{(TRUNC_STD_2 - 1) * 100:.2f} % below sqrt(scale/n) (reproduced with scale·0.7737 where the target corrects)"
        )
    if s.mindspore_uniform_bug:
        ctx.notes.append(
            "MindSpore's VarianceScaling(distribution='truncated_normal') draws a UNIFORM distribution "
            "(the 'truncated_norm' typo, 2.0–2.10); translated as the uniform it really draws"
        )
    ctx.fw.notes(ctx)


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
    if not isinstance(to, str):
        raise TypeError(f"`to` must be a str, one of {', '.join(TARGETS)}; received to={to!r}.")
    to = target_name(to)
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
    except UnrepresentableError as err:
        raise UnrepresentableNumberError(
            f"cannot translate {spec.call or 'this initializer'} to {to!r}: {err} (the parameters underflow or "
            f"overflow float64 for this law); received spec_or_source={spec.source or spec.call!r}, "
            f"shape={dims!r}."
        ) from None


def _translate_spec(spec: Spec, to: str, dims: tuple[int, ...] | None, numbers: bool = False) -> Translation:
    fw = get(to)
    ctx = Ctx(spec, fw, dims, numbers)
    alternative = None
    if spec.family in OTHER_FAMILIES:
        code, verdict = _other_code(ctx)
        src_layout = spec.layout if isinstance(spec.layout, str) else "tf"
        tgt_layout = fw.layout or src_layout
        tshape = to_layout(dims, src_layout, tgt_layout) if dims is not None else None
        if dims is not None and tshape != dims:
            ctx.notes.append(f"layout: {spec.framework} weight {dims} is {_LAYOUT_TEXT[src_layout]}; the same layer "
                             f"in {to} is {tshape}")
        return Translation(spec, to, code, verdict, tuple(ctx.notes), dims, tshape, tgt_layout)
    _notes(ctx)
    low_rank = dims is not None and len(dims) < 2 and fw.needs_rank2
    if spec.jax_axes is not None:
        got = fw.axes_code(ctx)
        if got is None:
            ctx.notes.append(f"JAX's fans over in_axis={spec.jax_axes[0]!r}, out_axis={spec.jax_axes[1]!r}, "
                             f"batch_axis={spec.jax_axes[2]!r} have no equivalent in {to}")
    else:
        got = fw.fan_code(ctx) if spec.fan_based and not low_rank else None
    if low_rank and spec.fan_based:
        ctx.notes.append(f"{to} cannot compute fans of a rank-{len(dims or ())} tensor, so the numbers are fixed "
                         f"for this shape")
    generic = (got is None and spec.fan_based and spec.jax_axes is None and not low_rank and not numbers
               and fw.snippet_call(spec.family, "2.0") is not None)
    if generic:
        code, alternative = _snippet(ctx)
        got = code, "exact"
        if dims is None:
            ctx.notes.append("exact for every weight of rank ≥ 2 (the fans are computed from the weight itself)")
    if got is None:
        if spec.fan_based:
            fi, fo = ctx.fans()
            p = spec.param(fi, fo)
            code, verdict = _fixed_code(ctx, p)
            if verdict == "exact":
                verdict = "exact_for_shape"
            ctx.notes.append(f"numbers for fan_in={fi}, fan_out={fo} (n={spec.n(fi, fo):g}); recompute for another "
                             f"shape")
        else:
            code, verdict = _fixed_code(ctx, spec.param(1, 1))
    else:
        code, verdict = got
        tgt_clamp = fw.clamps_code(code)
        if generic:
            tgt_clamp = spec.clamp  # the snippet writes the source's own max(1, n) or n
        if spec.clamp != tgt_clamp:
            _clamp_note(ctx, dims, to, tgt_clamp)
    src_layout = spec.layout if isinstance(spec.layout, str) else "tf"
    tgt_layout = fw.layout or src_layout
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
    elif tgt_layout != src_layout:
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


def _clamp_note(ctx: Ctx, dims: tuple[int, ...] | None, to: str, tgt_clamp: bool) -> None:
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
