"""``VarianceScaling``: the one initializer every preset specialises.

Semantics are Keras 3's: ``n`` is ``fan_in``, ``fan_out`` or their mean,
clamped to ``max(1, n)``; the target variance is ``scale / n``;

* ``truncated_normal`` draws a normal with parameter
  ``σ' = sqrt(scale/n) / 0.87962566103423978`` cut at ``±2σ'`` (the realized
  std is exactly ``sqrt(scale/n)``), by exact inverse-CDF truncation;
* ``untruncated_normal`` draws ``N(0, scale/n)``;
* ``uniform`` draws ``U(-L, L)`` with ``L = sqrt(3·scale/n)``;
* ``normal`` is the legacy alias of ``truncated_normal`` (as in TF ≥ 1.10 and
  Keras), stored as ``truncated_normal`` in configs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from ._base import Initializer, config_kwargs, seed_from_config, seed_to_config
from ._errors import InvalidArgumentError, unknown_name
from ._fans import Layout, compute_fans, resolve_layout
from ._math import TRUNC_STD_2
from ._plan import Sampler, normal_sampler, uniform_sampler
from ._validation import ShapeLike, check_scale, check_shape
from .stream import STREAM_VERSION, Stream

# the config helpers live in _base with the Initializer they serve; importable from here too
__all__ = ["DISTRIBUTIONS", "MODES", "Description", "VarianceScaling", "config_kwargs", "seed_from_config",
           "seed_to_config"]

MODES = ("fan_avg", "fan_in", "fan_out")
DISTRIBUTIONS = ("normal", "truncated_normal", "uniform", "untruncated_normal")

_CONFIG_KEYS = ("scale", "mode", "distribution", "seed", "layout", "stream_version")


def check_mode(mode: Any) -> str:
    if not isinstance(mode, str):
        raise TypeError(f"`mode` must be a string, one of {', '.join(map(repr, MODES))}; received mode={mode!r}.")
    key = mode.lower()
    if key not in MODES:
        raise unknown_name("mode", mode, MODES)
    return key


def check_distribution(distribution: Any) -> str:
    if not isinstance(distribution, str):
        raise TypeError(
            f"`distribution` must be a string, one of {', '.join(map(repr, DISTRIBUTIONS))}; "
            f"received distribution={distribution!r}."
        )
    key = distribution.lower()
    if key not in DISTRIBUTIONS:
        raise unknown_name("distribution", distribution, DISTRIBUTIONS)
    return "truncated_normal" if key == "normal" else key


@dataclass(frozen=True)
class Description:
    """The numbers an initializer uses for one shape (see ``VarianceScaling.describe``)."""

    shape: tuple[int, ...]
    layout: str
    fan_in: int
    fan_out: int
    mode: str
    n: float
    scale: float
    distribution: str
    variance: float
    std: float
    param_std: float | None
    limit: float | None
    bounds: tuple[float, float]
    formula: str

    def as_dict(self) -> dict[str, Any]:
        """JSON-safe dict (infinite bounds as the strings '-inf'/'inf')."""
        d = dict(self.__dict__)
        d["shape"] = list(self.shape)
        d["bounds"] = [b if math.isfinite(b) else str(b) for b in self.bounds]
        return d

    def __str__(self) -> str:
        rows = [
            ("shape", str(self.shape)),
            ("layout", self.layout),
            ("fan_in", str(self.fan_in)),
            ("fan_out", str(self.fan_out)),
            ("mode", self.mode),
            ("n", f"{self.n:g}"),
            ("scale", f"{self.scale:g}"),
            ("distribution", self.distribution),
            ("variance", f"{self.variance:.6g}"),
            ("std", f"{self.std:.6g}"),
            ("param_std", "-" if self.param_std is None else f"{self.param_std:.6g}"),
            ("limit", "-" if self.limit is None else f"{self.limit:.6g}"),
            ("bounds", f"[{self.bounds[0]:.6g}, {self.bounds[1]:.6g}]"),
            ("formula", self.formula),
        ]
        width = max(len(k) for k, _ in rows)
        return "\n".join(f"{k:<{width}}  {v}" for k, v in rows)


def _layout_name(layout: str | Layout) -> str:
    return layout if isinstance(layout, str) else repr(layout)


class VarianceScaling(Initializer):
    """Builds a variance-scaling initializer on varscale's counter-based stream.

    Args:
        scale: positive finite scaling factor (the target variance is
            ``scale / n``).
        mode: ``"fan_in"``, ``"fan_out"`` or ``"fan_avg"`` (any case).
        distribution: ``"truncated_normal"`` (corrected by 0.87962566 and cut
            at ±2σ'), ``"untruncated_normal"``, ``"uniform"``, or ``"normal"``
            (legacy alias of ``"truncated_normal"``).
        seed: None draws fresh OS entropy on every call (different values each
            time); an int in ``[0, 2**64)`` or a :class:`varscale.Stream`
            gives identical values on every call, on any machine, engine or
            thread count.
        layout: ``"tf"`` (``(*kernel, in, out)``), ``"torch"``
            (``(out, in, *kernel)``) or a :class:`varscale.Layout`. Left
            out (None), it is ``"tf"`` when the initializer is called
            directly, and the framework's own layout when it is used in a
            model-level rule (``varscale.torch.init_module`` reads torch
            weights in the torch layout).

    Calling ``init(shape, dtype=None, *, region=None, engine=None)`` returns a
    NumPy array (float32 unless ``dtype`` says otherwise). ``region`` (a
    slice, an int or a tuple of them) returns exactly ``init(shape)[region]``
    at the cost of the region alone. ``engine`` picks ``"numba"`` (the
    default when available) or ``"numpy"`` (the reference); both give the same
    bits.

    Example:
        >>> import varscale as vs
        >>> init = vs.VarianceScaling(scale=2.0, mode="fan_in", seed=0)
        >>> w = init((3, 3, 64, 128))
        >>> w.shape, w.dtype
        ((3, 3, 64, 128), dtype('float32'))
        >>> bool(abs(w).max() <= 2 * init.describe(w.shape).param_std)
        True
        >>> part = init((256, 256), region=(slice(None), slice(64, 96)))
        >>> bool((part == init((256, 256))[:, 64:96]).all())
        True
    """

    def __init__(
        self,
        scale: float = 1.0,
        mode: str = "fan_in",
        distribution: str = "truncated_normal",
        seed: int | Stream | None = None,
        layout: str | Layout | None = None,
    ) -> None:
        self.scale = check_scale(scale)
        self.mode = check_mode(mode)
        self.distribution = check_distribution(distribution)
        self._init_seed(seed)
        # None means "the layout of the place it is used": "tf" when called directly, the
        # framework's own inside varscale.torch / init_model / init_params (an explicit one wins)
        self._layout_given = layout is not None
        self.layout = resolve_layout("tf" if layout is None else layout)

    # -- numbers -------------------------------------------------------------
    def _n(self, shape: tuple[int, ...]) -> tuple[int, int, float]:
        fan_in, fan_out = compute_fans(shape, self.layout)
        if self.mode == "fan_in":
            n: float = fan_in
        elif self.mode == "fan_out":
            n = fan_out
        else:
            n = (fan_in + fan_out) / 2.0
        return fan_in, fan_out, n

    def describe(self, shape: ShapeLike) -> Description:
        """Fans, n, variance, std, limit and bounds for ``shape``, with the formula.

        Example:
            >>> import varscale as vs
            >>> d = vs.HeNormal().describe((3, 3, 64, 128))
            >>> d.fan_in, d.fan_out, round(d.std, 6), round(d.param_std, 6)
            (576, 1152, 0.058926, 0.066989)
        """
        dims = check_shape(shape)
        fan_in, fan_out, n = self._n(dims)
        var = self.scale / max(1.0, n)
        std = math.sqrt(var)
        nm = {"fan_in": "fan_in", "fan_out": "fan_out", "fan_avg": "(fan_in + fan_out)/2"}[self.mode]
        if self.distribution == "uniform":
            limit = math.sqrt(3.0 * var)
            return Description(
                dims, _layout_name(self.layout), fan_in, fan_out, self.mode, n, self.scale,
                self.distribution, var, std, None, limit, (-limit, limit),
                f"U(-L, L), L = sqrt(3·scale/n) = sqrt(3·{self.scale:g}/{n:g}), n = {nm}",
            )
        if self.distribution == "untruncated_normal":
            return Description(
                dims, _layout_name(self.layout), fan_in, fan_out, self.mode, n, self.scale,
                self.distribution, var, std, std, None, (-math.inf, math.inf),
                f"N(0, σ²), σ = sqrt(scale/n) = sqrt({self.scale:g}/{n:g}), n = {nm}",
            )
        param = std / TRUNC_STD_2
        return Description(
            dims, _layout_name(self.layout), fan_in, fan_out, self.mode, n, self.scale,
            self.distribution, var, std, param, None, (-2.0 * param, 2.0 * param),
            f"N(0, σ'²) truncated to ±2σ', σ' = sqrt(scale/n)/0.87962566103423978 = "
            f"sqrt({self.scale:g}/{n:g})/0.8796…, n = {nm}",
        )

    def sampler(self, shape: tuple[int, ...]) -> Sampler:
        """The per-element transform for ``shape`` (fans from the full shape)."""
        d = self.describe(shape)
        if d.limit is not None:
            if math.isinf(d.limit):  # 3·scale/n beyond float64: the law has no finite values to draw
                raise InvalidArgumentError(
                    f"`scale` of {type(self).__name__} gives an infinite uniform limit sqrt(3·scale/n) = "
                    f"sqrt(3·{self.scale!r}/{d.n:g}) for shape={d.shape!r}; received scale={self.scale!r}."
                )
            return uniform_sampler(-d.limit, d.limit)
        if d.distribution == "untruncated_normal":
            return normal_sampler(0.0, d.std)
        assert d.param_std is not None
        # ±2σ' in σ' units is exactly ±2 (σ' is a normal float: 2σ' and 2σ'/σ' are exact)
        return normal_sampler(0.0, d.param_std, -2.0 * d.param_std, 2.0 * d.param_std)

    # -- config --------------------------------------------------------------
    def get_config(self) -> dict[str, Any]:
        """JSON-safe config; ``from_config(get_config())`` rebuilds an equal initializer."""
        layout = self.layout if isinstance(self.layout, str) else self.layout.to_config()
        return {
            "scale": self.scale,
            "mode": self.mode,
            "distribution": self.distribution,
            "seed": self.seed,
            "layout": layout,
            "stream_version": STREAM_VERSION,
        }

    @classmethod
    def _allowed_keys(cls) -> tuple[str, ...]:
        return _CONFIG_KEYS
