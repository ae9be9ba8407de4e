"""What every core initializer shares: its seed, drawing by its sampler, its config and equality.

:class:`varscale.VarianceScaling` and the standard initializers
(:mod:`varscale._basic`) differ only in their numbers (``sampler``,
``describe``) and their config keys; seeds, calls, ``from_config``,
``repr``, ``==`` and ``hash`` are these.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any, TypeVar

import numpy as np

from ._dtypes import DTypeLike
from ._errors import InvalidArgumentError
from ._generate import draw
from ._plan import Region, Sampler
from ._validation import ShapeLike, check_shape
from .stream import STREAM_VERSION, Stream, fresh_stream, resolve_seed

__all__ = ["Initializer", "config_kwargs", "seed_from_config", "seed_to_config"]

InitT = TypeVar("InitT", bound="Initializer")


def seed_to_config(seed: Stream | None) -> int | dict[str, int] | None:
    """A resolved seed as a config value: None, the seed, or ``{"seed", "stream"}`` for a non-zero stream."""
    if seed is None:
        return None
    if seed.stream == 0:
        return seed.seed
    return {"seed": seed.seed, "stream": seed.stream}


def seed_from_config(value: Any) -> Any:
    """The inverse of :func:`seed_to_config` (a ``{"seed", "stream"}`` dict back to a :class:`Stream`)."""
    if isinstance(value, dict):
        if set(value) != {"seed", "stream"}:
            raise InvalidArgumentError(
                f"`seed` as a dict must have exactly the keys 'seed' and 'stream'; received seed={value!r}."
            )
        return Stream(value["seed"], value["stream"])
    return value


def config_kwargs(owner: str, config: Any, allowed: Collection[str]) -> dict[str, Any]:
    """The constructor arguments of a ``get_config`` dict: unknown keys and another ``stream_version`` refused,
    the seed rebuilt (shared by every core initializer's ``from_config``)."""
    if not isinstance(config, dict):
        raise TypeError(f"`config` must be a dict; received config={config!r} of type {type(config).__name__}.")
    unknown = sorted(set(config) - set(allowed))
    if unknown:
        raise InvalidArgumentError(
            f"`config` of {owner} has unknown keys {unknown}; allowed keys are {sorted(allowed)}; "
            f"received config={config!r}."
        )
    kwargs = dict(config)
    version = kwargs.pop("stream_version", STREAM_VERSION)
    if isinstance(version, bool) or version != STREAM_VERSION:
        raise InvalidArgumentError(
            f"`stream_version` must be {STREAM_VERSION} (this varscale's stream); received "
            f"stream_version={version!r}: values drawn under another stream version differ."
        )
    if "seed" in kwargs:
        kwargs["seed"] = seed_from_config(kwargs["seed"])
    return kwargs


class Initializer:
    """Common base of the core initializers. Not used directly.

    A subclass sets its numbers (:meth:`sampler`), its config (:meth:`get_config`, :meth:`_allowed_keys`) and
    calls :meth:`_init_seed`; a seed of None draws fresh OS entropy on every call.

    Example:
        >>> import varscale as vs
        >>> init = vs.Normal(std=0.5, seed=vs.Stream(1, 2))
        >>> init.get_config()["seed"]
        {'seed': 1, 'stream': 2}
        >>> vs.Normal.from_config(init.get_config()) == init, bool((init((4,)) == init((4,))).all())
        (True, True)
    """

    seed: int | dict[str, int] | None
    _stream: Stream | None = None

    def _init_seed(self, seed: int | Stream | None) -> None:
        self._stream = resolve_seed(seed)
        self.seed = seed_to_config(self._stream)

    def sampler(self, shape: tuple[int, ...]) -> Sampler:
        """The per-element transform for ``shape``."""
        raise NotImplementedError

    def __call__(
        self, shape: ShapeLike, dtype: DTypeLike = None, *, region: Region = None, engine: str | None = None
    ) -> np.ndarray[Any, Any]:
        dims = check_shape(shape)
        return self._draw(dims, dtype, self._call_stream(), region, engine)

    def _call_stream(self) -> Stream:
        """The stream of one call: the seed's, else fresh OS entropy."""
        return self._stream if self._stream is not None else fresh_stream()

    def _draw(
        self, dims: tuple[int, ...], dtype: DTypeLike, stream: Stream, region: Region, engine: str | None
    ) -> np.ndarray[Any, Any]:
        """The values of one call (element by element from :meth:`sampler`, unless a subclass draws otherwise)."""
        return draw(dims, dtype, self.sampler(dims), stream, region=region, engine=engine)

    def get_config(self) -> dict[str, Any]:
        """JSON-safe config; ``from_config(get_config())`` rebuilds an equal initializer."""
        raise NotImplementedError

    @classmethod
    def _allowed_keys(cls) -> Collection[str]:
        raise NotImplementedError

    @classmethod
    def from_config(cls: type[InitT], config: dict[str, Any]) -> InitT:
        """Rebuild an initializer from :meth:`get_config`'s dict.

        Unknown keys and a ``stream_version`` other than this library's are refused.
        """
        return cls(**config_kwargs(cls.__name__, config, cls._allowed_keys()))

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items() if k != "stream_version")
        return f"{type(self).__name__}({args})"

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        assert isinstance(other, Initializer)
        return bool(self.get_config() == other.get_config())

    def __hash__(self) -> int:
        return hash(repr(self))
