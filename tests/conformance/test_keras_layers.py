"""The Keras facade inside real Keras: classes Keras treats as its own (EinsumDense/MultiHeadAttention pass
their einsum axes), keras.saving round trips, saved models reload drawing from varscale."""

from __future__ import annotations

import math
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from _support import need

keras = need("keras")

from varscale.compat.keras import initializers as ours  # noqa: E402

SRC = str(Path(__file__).parents[2] / "src")


def _std_ok(x: np.ndarray[Any, Any], target: float) -> None:
    # sample std of n normal-ish draws: relative standard error sqrt((kurt - 1)/(4n)) ≤ sqrt(2/(4n)); 6 sigma band
    n = x.size
    band = 6 * math.sqrt(2.0 / (4 * n))
    assert abs(float(x.std()) / target - 1) <= band, (float(x.std()), target, band)


def test_classes_are_keras_classes() -> None:
    init = ours.HeNormal(seed=0)
    assert isinstance(init, keras.initializers.VarianceScaling)
    assert isinstance(init, keras.initializers.HeNormal)
    assert isinstance(init, ours.HeNormal) and type(init).__name__ == "HeNormal"
    assert set(ours.register_with_keras()) >= {"VarianceScaling", "HeNormal", "GlorotUniform"}


def test_einsum_dense_gets_the_einsum_fans() -> None:
    # the case: std 0.0634 (fans of the 3-D kernel read as a conv) instead of 0.1779 (fan_in = 32)
    layer = keras.layers.EinsumDense("abc,cde->abde", output_shape=(None, 8, 16),
                                     kernel_initializer=ours.LecunNormal(seed=0))
    layer.build((2, 4, 32))
    k = np.asarray(layer.kernel)
    assert k.shape == (32, 8, 16)
    _std_ok(k, math.sqrt(1 / 32))
    assert layer.kernel_initializer.input_axes is None  # the layer's own copy got the axes, the user's did not


def test_multi_head_attention_kernels() -> None:
    mha = keras.layers.MultiHeadAttention(8, 16, kernel_initializer=ours.GlorotUniform(seed=1))
    x = np.ones((2, 5, 64), dtype="float32")
    mha(x, x)
    for w in mha.weights:
        if w.path.endswith("kernel"):
            arr = np.asarray(w)
            # q/k/v (64, 8, 16): fan_in 64, fan_out 128; output (8, 16, 64): fan_in 128, fan_out 64
            limit = math.sqrt(6 / (64 + 128))
            assert np.abs(arr).max() <= limit and np.abs(arr).max() > 0.95 * limit, w.path
            _std_ok(arr, limit / math.sqrt(3))


def test_serialization_round_trip() -> None:
    init = ours.VarianceScaling(2.0, seed=1234)
    cfg = keras.saving.serialize_keras_object(init)
    assert cfg["registered_name"] == "varscale>VarianceScaling"
    back = keras.saving.deserialize_keras_object(cfg)
    assert isinstance(back, ours.VarianceScaling) and back.get_config() == init.get_config()
    np.testing.assert_array_equal(back((8, 4)), init((8, 4)))


# Keras 3.15's TF backend converts a variable with np.array(x, copy=False) while saving: its warning, not ours
@pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning")
def test_saved_model_reloads_drawing_from_varscale(tmp_path: Path) -> None:
    model = keras.Sequential([keras.Input((16,)), keras.layers.Dense(8, kernel_initializer=ours.HeNormal(seed=3))])
    path = tmp_path / "m.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    init = loaded.layers[0].kernel_initializer
    assert isinstance(init, ours.HeNormal), type(init)
    np.testing.assert_array_equal(init((16, 8)), ours.HeNormal(seed=3)((16, 8)))


def test_jax_backend_too() -> None:
    code = textwrap.dedent("""
        import math, numpy as np, keras
        assert keras.backend.backend() == "jax"
        from varscale.compat.keras import initializers as ours
        layer = keras.layers.EinsumDense("abc,cde->abde", output_shape=(None, 8, 16),
                                         kernel_initializer=ours.LecunNormal(seed=0))
        layer.build((2, 4, 32))
        k = np.asarray(layer.kernel)
        assert abs(k.std() / math.sqrt(1 / 32) - 1) < 0.05, k.std()
        cfg = keras.saving.serialize_keras_object(ours.GlorotUniform(seed=2))
        assert isinstance(keras.saving.deserialize_keras_object(cfg), ours.GlorotUniform)
        print("OK")
    """)
    env = dict(os.environ, KERAS_BACKEND="jax", JAX_PLATFORMS="cpu")
    env["PYTHONPATH"] = os.pathsep.join(p for p in [SRC, env.get("PYTHONPATH")] if p)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300,
                          check=False)
    assert "OK" in proc.stdout, proc.stdout + proc.stderr[-3000:]


def test_without_keras_imported_the_facade_stays_plain() -> None:
    code = "import sys; from varscale.compat.keras import initializers as I; i = I.HeNormal(seed=0); " \
           "assert 'keras' not in sys.modules; assert type(i) is I.HeNormal; print(i((2, 2)).shape)"
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in [SRC, env.get("PYTHONPATH")] if p)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120,
                          check=False)
    assert proc.returncode == 0 and "(2, 2)" in proc.stdout, proc.stderr[-2000:]
    pytest.importorskip("keras")
