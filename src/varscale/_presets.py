"""The six named presets, with Keras' names and defaults."""

from __future__ import annotations

from typing import Any

from ._fans import Layout
from ._initializer import VarianceScaling
from .stream import STREAM_VERSION, Stream

__all__ = ["PRESETS", "GlorotNormal", "GlorotUniform", "HeNormal", "HeUniform", "LecunNormal", "LecunUniform"]

_PRESET_KEYS = ("seed", "layout", "stream_version")


class _Preset(VarianceScaling):
    _scale = 1.0
    _mode = "fan_in"
    _distribution = "truncated_normal"

    def __init__(self, seed: int | Stream | None = None, layout: str | Layout | None = None) -> None:
        super().__init__(self._scale, self._mode, self._distribution, seed=seed, layout=layout)

    def get_config(self) -> dict[str, Any]:
        full = super().get_config()
        return {k: full[k] for k in _PRESET_KEYS} | {"stream_version": STREAM_VERSION}

    @classmethod
    def _allowed_keys(cls) -> tuple[str, ...]:
        return _PRESET_KEYS


class GlorotUniform(_Preset):
    """Glorot (Xavier) uniform: ``U(±sqrt(6/(fan_in + fan_out)))``, scale 1, fan_avg.

    References: Glorot & Bengio, 2010, http://proceedings.mlr.press/v9/glorot10a.html

    Example:
        >>> import varscale as vs
        >>> round(vs.GlorotUniform().describe((64, 128)).limit, 6)
        0.176777
    """

    _scale, _mode, _distribution = 1.0, "fan_avg", "uniform"


class GlorotNormal(_Preset):
    """Glorot (Xavier) normal: truncated normal, std ``sqrt(2/(fan_in + fan_out))``, scale 1, fan_avg.

    References: Glorot & Bengio, 2010.

    Example:
        >>> import varscale as vs
        >>> round(vs.GlorotNormal().describe((64, 128)).std, 6)
        0.102062
    """

    _scale, _mode, _distribution = 1.0, "fan_avg", "truncated_normal"


class HeUniform(_Preset):
    """He (Kaiming) uniform: ``U(±sqrt(6/fan_in))``, scale 2, fan_in.

    References: He et al., 2015, https://arxiv.org/abs/1502.01852

    Example:
        >>> import varscale as vs
        >>> round(vs.HeUniform().describe((3, 3, 64, 128)).limit, 6)
        0.102062
    """

    _scale, _mode, _distribution = 2.0, "fan_in", "uniform"


class HeNormal(_Preset):
    """He (Kaiming) normal: truncated normal, std ``sqrt(2/fan_in)``, scale 2, fan_in.

    References: He et al., 2015.

    Example:
        >>> import varscale as vs
        >>> round(vs.HeNormal().describe((3, 3, 64, 128)).std, 6)
        0.058926
    """

    _scale, _mode, _distribution = 2.0, "fan_in", "truncated_normal"


class LecunUniform(_Preset):
    """LeCun uniform: ``U(±sqrt(3/fan_in))``, scale 1, fan_in.

    References: LeCun et al., "Efficient BackProp", 1998.

    Example:
        >>> import varscale as vs
        >>> round(vs.LecunUniform().describe((64, 128)).limit, 6)
        0.216506
    """

    _scale, _mode, _distribution = 1.0, "fan_in", "uniform"


class LecunNormal(_Preset):
    """LeCun normal: truncated normal, std ``sqrt(1/fan_in)``, scale 1, fan_in.

    References: Klambauer et al., "Self-Normalizing Neural Networks", 2017.

    Example:
        >>> import varscale as vs
        >>> round(vs.LecunNormal().describe((64, 128)).std, 6)
        0.125
    """

    _scale, _mode, _distribution = 1.0, "fan_in", "truncated_normal"


PRESETS: dict[str, type[_Preset]] = {
    "glorot_uniform": GlorotUniform,
    "glorot_normal": GlorotNormal,
    "he_uniform": HeUniform,
    "he_normal": HeNormal,
    "lecun_uniform": LecunUniform,
    "lecun_normal": LecunNormal,
}
