"""The peers of the benchmark of record: each draws the same distribution as varscale.

Every peer is a function ``draw(n, dist, threads) -> numpy.ndarray`` (float32, shape ``(n, n)``)
that produces the array a user of that library would get for a He-style
initializer with ``std`` / ``limit`` from the 8192² fan-in rule, converted to a
NumPy array (zero copy where the library allows it), so that every row of the
table measures "from nothing to an array in memory". A peer that is not
installed is reported with a note, never silently dropped.

Distributions: ``uniform`` (U(−L, L)), ``normal`` (untruncated N(0, σ²)) and
``truncated`` (N(0, σ'²) cut at ±2σ', the Keras/TF/JAX truncated normal).
"""

from __future__ import annotations

import importlib
import math
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

DISTS = ("uniform", "normal", "truncated")
TRUNC_C = 0.87962566103423978

Draw = Callable[[int, str, int], np.ndarray]


def numbers(n: int) -> tuple[float, float, float]:
    """(limit, std, sigma') of He (scale 2, fan_in) for an (n, n) kernel."""
    var = 2.0 / n
    return math.sqrt(3 * var), math.sqrt(var), math.sqrt(var) / TRUNC_C


# --- NumPy Generator, hand-blocked over threads -------------------------------------------------

_BLOCK = 1 << 20


def _numpy_fill(rng: np.random.Generator, out: np.ndarray, dist: str, limit: float, std: float) -> None:
    for s in range(0, out.size, _BLOCK):
        v = out[s : s + _BLOCK]
        if dist == "uniform":
            rng.random(out=v, dtype=np.float32)
            v *= np.float32(2 * limit)
            v -= np.float32(limit)
            continue
        rng.standard_normal(out=v, dtype=np.float32)
        if dist == "truncated":
            bad = np.flatnonzero(np.abs(v) > 2.0)
            while bad.size:
                v[bad] = rng.standard_normal(bad.size, dtype=np.float32)
                bad = bad[np.abs(v[bad]) > 2.0]
        v *= np.float32(std)


def numpy_draw(n: int, dist: str, threads: int) -> np.ndarray:
    limit, std, sig = numbers(n)
    out = np.empty(n * n, dtype=np.float32)
    parts = np.array_split(out, threads)
    rngs = [np.random.Generator(np.random.PCG64(s)) for s in np.random.SeedSequence(0).spawn(threads)]
    scale = sig if dist == "truncated" else std
    if threads == 1:
        _numpy_fill(rngs[0], out, dist, limit, scale)
    else:
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(lambda a: _numpy_fill(a[0], a[1], dist, limit, scale), zip(rngs, parts, strict=True)))
    return out.reshape(n, n)


# --- torch ---------------------------------------------------------------------------------------


def torch_draw(n: int, dist: str, threads: int) -> np.ndarray:
    import torch

    torch.set_num_threads(threads)
    limit, std, sig = numbers(n)
    t = torch.empty(n, n, dtype=torch.float32)
    if dist == "uniform":
        t.uniform_(-limit, limit)
    elif dist == "normal":
        t.normal_(0.0, std)
    else:
        torch.nn.init.trunc_normal_(t, std=sig, a=-2 * sig, b=2 * sig)
    return t.numpy()


# --- TensorFlow (stateless ops, as Keras' TF backend calls them) ---------------------------------

_tf_seed = [0, 1]


def tf_draw(n: int, dist: str, threads: int) -> np.ndarray:
    import tensorflow as tf

    limit, std, sig = numbers(n)
    if dist == "uniform":
        x = tf.random.stateless_uniform((n, n), seed=_tf_seed, minval=-limit, maxval=limit)
    elif dist == "normal":
        x = tf.random.stateless_normal((n, n), seed=_tf_seed, stddev=std)
    else:
        x = tf.random.stateless_truncated_normal((n, n), seed=_tf_seed, stddev=sig)
    return x.numpy()


_KERAS_DIST = {"uniform": "uniform", "normal": "untruncated_normal", "truncated": "truncated_normal"}


def keras_draw(n: int, dist: str, threads: int) -> np.ndarray:
    import keras

    init = keras.initializers.VarianceScaling(2.0, "fan_in", _KERAS_DIST[dist], seed=0)
    return np.asarray(keras.ops.convert_to_numpy(init((n, n), dtype="float32")))


# --- JAX (jitted initializer, as inside a model's init) ------------------------------------------

_JAX_DIST = {"uniform": "uniform", "normal": "normal", "truncated": "truncated_normal"}
_jax_cache: dict[tuple[int, str], Any] = {}


def jax_draw(n: int, dist: str, threads: int) -> np.ndarray:
    import jax

    fn = _jax_cache.get((n, dist))
    if fn is None:
        init = jax.nn.initializers.variance_scaling(2.0, "fan_in", _JAX_DIST[dist])
        fn = jax.jit(lambda key: init(key, (n, n), jax.numpy.float32))
        _jax_cache[(n, dist)] = fn
    return np.asarray(fn(jax.random.key(0)).block_until_ready())


# --- MindSpore ----------------------------------------------------------------------------------


def mindspore_draw(n: int, dist: str, threads: int) -> np.ndarray:
    from mindspore.common import initializer as msi

    limit, std, sig = numbers(n)
    if dist == "uniform":
        init: Any = msi.Uniform(scale=limit)
    elif dist == "normal":
        init = msi.Normal(sigma=std)
    else:
        init = msi.TruncatedNormal(sigma=sig, a=-2 * sig, b=2 * sig)
    return msi.initializer(init, (n, n), dtype=_ms_float32()).init_data().asnumpy()


def _ms_float32() -> Any:
    import mindspore

    return mindspore.float32


#: name -> (module to import, draw, can set its thread count per call, label)
PEERS: dict[str, tuple[str | None, Draw, bool, str]] = {
    "numpy": (None, numpy_draw, True, "NumPy Generator (PCG64), hand-blocked over threads"),
    "torch": ("torch", torch_draw, True, "torch `uniform_` / `normal_` / `nn.init.trunc_normal_`"),
    "tensorflow": ("tensorflow", tf_draw, False, "TF `tf.random.stateless_*`"),
    "keras": ("keras", keras_draw, False, "Keras 3 `VarianceScaling` (TF backend)"),
    "jax": ("jax", jax_draw, False, "JAX `jax.nn.initializers.variance_scaling`, jitted"),
    "mindspore": ("mindspore", mindspore_draw, False, "MindSpore `initializer(...).init_data()`"),
}


def available(names: list[str]) -> tuple[dict[str, tuple[Draw, bool, str, str]], dict[str, str]]:
    """Import the requested peers; return (usable peers, notes for the missing ones)."""
    usable: dict[str, tuple[Draw, bool, str, str]] = {}
    notes: dict[str, str] = {}
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    for name in names:
        module, draw, threaded, label = PEERS[name]
        version = np.__version__
        if module is not None:
            try:
                mod = importlib.import_module(module)
            except Exception as err:  # any import failure: reported, not fatal
                notes[name] = f"skipped: {module} failed to import ({type(err).__name__}: {err})"
                continue
            version = str(getattr(mod, "__version__", "?"))
        usable[name] = (draw, threaded, label, version)
    return usable, notes
