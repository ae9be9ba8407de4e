"""Case tables and oracle helpers shared by the TF contrib, TF1 and Keras conformance tests.

The oracles are the real frameworks: fans, stddevs and limits are *recorded*
from TensorFlow's / Keras' own code by wrapping the random ops it calls (the
wrapped op still runs and returns its real result), never recomputed here.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

#: Ranks 0-5, zero-size dims included.
SHAPES: list[tuple[int, ...]] = [
    (),
    (1,),
    (7,),
    (0,),
    (1, 1),
    (5, 3),
    (0, 4),
    (4, 0),
    (3, 3, 8),
    (2, 0, 5),
    (3, 3, 16, 32),
    (1, 1, 64, 8),
    (2, 3, 4, 5, 6),
    (2, 2, 2, 0, 3),
]

SCALES = (2.0, 1.0, 0.3, 7.5)
DTYPES = ("float16", "bfloat16", "float32", "float64")

# The two-sample KS checks (KS_N, KS_ALPHA, KS_SHAPE, ks_check, ks_power, assert_close, assert_within)
# shared by every facade's suite live in tests/_stats.py.


def shape_id(shape: tuple[int, ...]) -> str:
    return "x".join(map(str, shape)) if shape else "scalar"


class Recorder:
    """Wraps random-op functions of a module, recording each call's arguments.

    The wrapped function still runs, so the framework behaves exactly as
    without the recorder; the test reads what the framework passed to its op
    (stddev, minval/maxval, shape).
    """

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []

    def wrap(self, name: str, fn: Any) -> Any:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            self.calls.append((name, args, kwargs))
            return fn(*args, **kwargs)

        return wrapper

    def last(self) -> tuple[str, tuple[Any, ...], dict[str, Any]]:
        assert self.calls, "the framework called none of the recorded random ops"
        return self.calls[-1]


@contextlib.contextmanager
def recording(module: Any, names: tuple[str, ...]) -> Iterator[Recorder]:
    """Temporarily wrap ``module.<name>`` for each name."""
    rec = Recorder()
    saved = {n: getattr(module, n) for n in names}
    try:
        for n in names:
            setattr(module, n, rec.wrap(n, saved[n]))
        yield rec
    finally:
        for n, fn in saved.items():
            setattr(module, n, fn)


def tf_op_params(call: tuple[str, tuple[Any, ...], dict[str, Any]]) -> dict[str, Any]:
    """Distribution parameters from a recorded ``random_ops`` call of TF's init_ops.

    TF1 init_ops calls ``truncated_normal(shape, 0.0, stddev, dtype, seed=)``,
    ``random_normal(shape, 0.0, stddev, dtype, seed=)`` and
    ``random_uniform(shape, -limit, limit, dtype, seed=)``.
    """
    name, args, _ = call
    if name == "random_uniform":
        lo, hi = float(args[1]), float(args[2])
        assert lo == -hi
        return {"distribution": "uniform", "limit": hi, "stddev": None}
    dist = "truncated_normal" if name == "truncated_normal" else "untruncated_normal"
    return {"distribution": dist, "limit": None, "stddev": float(args[2])}


def keras_op_params(call: tuple[str, tuple[Any, ...], dict[str, Any]]) -> dict[str, Any]:
    """Distribution parameters from a recorded ``keras.random`` call of Keras' VarianceScaling."""
    name, _, kwargs = call
    if name == "uniform":
        lo, hi = float(kwargs["minval"]), float(kwargs["maxval"])
        assert lo == -hi
        return {"distribution": "uniform", "limit": hi, "stddev": None}
    dist = "truncated_normal" if name == "truncated_normal" else "untruncated_normal"
    return {"distribution": dist, "limit": None, "stddev": float(kwargs["stddev"])}


