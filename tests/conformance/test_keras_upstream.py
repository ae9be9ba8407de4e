"""Keras' own initializer tests, ported to run against ``varscale.compat.keras.initializers``.

Sources (Apache-2.0, the Keras authors):

* https://github.com/keras-team/keras/blob/359a061219f5d8e6c10896e0c986a021c0e98c0f/keras/src/initializers/random_initializers_test.py
  (commit 359a061219f5d8e6c10896e0c986a021c0e98c0f)
* https://github.com/keras-team/keras/blob/1e3e0e0f5af065e079db26d10417d5271f769df7/keras/src/initializers/constant_initializers_test.py
  (commit 1e3e0e0f5af065e079db26d10417d5271f769df7)

A faithful port, not a copy: every case keeps its inputs and assertions, with Keras' own test helpers
(``keras.src.testing.TestCase``: ``assertAllClose``, ``run_class_serialization_test``...) and with
``keras.src.initializers`` replaced by the facade. Keras' ``backend``, ``random`` and ``utils`` are still
Keras' (backend tensors, ``SeedGenerator``, ``set_random_seed``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from _support import need
from varscale.compat.keras import initializers


@pytest.fixture(scope="module")
def keras() -> Any:
    return need("keras")


@pytest.fixture
def tc(keras: Any) -> Any:
    """Keras' TestCase, for its assertion helpers."""
    from keras.src import testing

    return testing.TestCase()


# ------------------------------------------------------------------ random_initializers_test.py
def test_random_normal(keras: Any, tc: Any) -> None:
    from keras.src import backend, utils

    utils.set_random_seed(1337)
    shape = (25, 20)
    mean = 0.0
    stddev = 1.0
    seed = 1234
    initializer = initializers.RandomNormal(mean=mean, stddev=stddev, seed=seed)
    values = initializer(shape=shape)
    tc.assertEqual(initializer.mean, mean)
    tc.assertEqual(initializer.stddev, stddev)
    tc.assertEqual(initializer.seed, seed)
    tc.assertEqual(values.shape, shape)
    tc.assertAllClose(np.std(backend.convert_to_numpy(values)), stddev, atol=1e-1)

    tc.run_class_serialization_test(initializer)

    # a fixed seed: the same values on every call
    initializer = initializers.RandomNormal(mean=mean, stddev=stddev, seed=1337)
    values = initializer(shape=shape)
    next_values = initializer(shape=shape)
    tc.assertAllClose(values, next_values)

    # a SeedGenerator: different values on each call
    initializer = initializers.RandomNormal(mean=mean, stddev=stddev, seed=backend.random.SeedGenerator(1337))
    values = initializer(shape=shape)
    next_values = initializer(shape=shape)
    tc.assertNotAllClose(values, next_values)

    # serialization with a SeedGenerator
    initializer = initializers.RandomNormal(mean=mean, stddev=stddev, seed=backend.random.SeedGenerator(1337))
    values = initializer(shape=shape)

    # unseeded: a clone draws different values
    initializer = initializers.RandomNormal(mean=mean, stddev=stddev, seed=None)
    values = initializer(shape=shape)
    cloned_initializer = initializers.RandomNormal.from_config(initializer.get_config())
    new_values = cloned_initializer(shape=shape)
    tc.assertNotAllClose(values, new_values)

    # seeded: a clone draws the same values
    initializer = initializers.RandomNormal(mean=mean, stddev=stddev, seed=1337)
    values = initializer(shape=shape)
    cloned_initializer = initializers.RandomNormal.from_config(initializer.get_config())
    new_values = cloned_initializer(shape=shape)
    tc.assertAllClose(values, new_values)


def test_random_uniform(keras: Any, tc: Any) -> None:
    from keras.src import backend

    shape = (5, 5)
    minval = -1.0
    maxval = 1.0
    seed = 1234
    initializer = initializers.RandomUniform(minval=minval, maxval=maxval, seed=seed)
    values = initializer(shape=shape)
    tc.assertEqual(initializer.minval, minval)
    tc.assertEqual(initializer.maxval, maxval)
    tc.assertEqual(initializer.seed, seed)
    tc.assertEqual(values.shape, shape)
    values = backend.convert_to_numpy(values)
    tc.assertGreaterEqual(np.min(values), minval)
    tc.assertLess(np.max(values), maxval)

    tc.run_class_serialization_test(initializer)


def test_variance_scaling(keras: Any, tc: Any) -> None:
    from keras.src import backend, utils

    utils.set_random_seed(1337)
    shape = (25, 20)
    scale = 2.0
    seed = 1234
    initializer = initializers.VarianceScaling(scale=scale, seed=seed, mode="fan_in")
    values = initializer(shape=shape)
    tc.assertEqual(initializer.scale, scale)
    tc.assertEqual(initializer.seed, seed)
    tc.assertEqual(values.shape, shape)
    tc.assertAllClose(np.std(backend.convert_to_numpy(values)), np.sqrt(scale / 25), atol=1e-1)
    tc.run_class_serialization_test(initializer)

    initializer = initializers.VarianceScaling(scale=scale, seed=seed, mode="fan_out")
    values = initializer(shape=shape)
    tc.assertEqual(initializer.scale, scale)
    tc.assertEqual(initializer.seed, seed)
    tc.assertEqual(values.shape, shape)
    tc.assertAllClose(np.std(backend.convert_to_numpy(values)), np.sqrt(scale / 20), atol=1e-1)
    tc.run_class_serialization_test(initializer)


def test_orthogonal_initializer(keras: Any, tc: Any) -> None:
    from keras.src import backend

    shape = (5, 5)
    gain = 2.0
    seed = 1234
    initializer = initializers.OrthogonalInitializer(gain=gain, seed=seed)
    values = initializer(shape=shape)
    tc.assertEqual(initializer.seed, seed)
    tc.assertEqual(initializer.gain, gain)

    tc.assertEqual(values.shape, shape)
    array = backend.convert_to_numpy(values)
    # every column has norm gain
    for column in array.T:
        tc.assertAlmostEqual(np.linalg.norm(column), gain * 1.0)

    # the columns are orthogonal to each other
    for i in range(array.shape[-1]):
        for j in range(i + 1, array.shape[-1]):
            tc.assertAlmostEqual(np.dot(array[..., i], array[..., j]), 0.0)

    tc.run_class_serialization_test(initializer)

    # the legacy class name
    initializer = initializers.get("Orthogonal")
    tc.assertIsInstance(initializer, initializers.OrthogonalInitializer)


def test_get_method(keras: Any, tc: Any) -> None:
    obj = initializers.get("glorot_normal")
    tc.assertTrue(obj, initializers.GlorotNormal)

    obj = initializers.get(None)
    tc.assertEqual(obj, None)

    with pytest.raises(ValueError):
        initializers.get("typo")


def test_get_method_with_tensor(keras: Any, tc: Any) -> None:
    from keras.src import random

    shape = (5, 5)

    # a backend tensor
    tensor = random.uniform(shape=shape)
    initializer = initializers.get(tensor)
    values = initializer(shape=shape)
    tc.assertAllClose(values, tensor)

    # a NumPy array
    tensor = np.random.uniform(size=shape).astype("float32")  # noqa: NPY002 - upstream's input
    initializer = initializers.get(tensor)
    values = initializer(shape=shape)
    tc.assertAllClose(values, tensor)

    # a wrong `shape`
    with pytest.raises(ValueError, match=r"Expected `shape` to be"):
        initializer(shape=(10, 10))


def test_variance_scaling_invalid_scale(keras: Any) -> None:
    seed = 1234
    with pytest.raises(ValueError, match=r"Argument `scale` must be positive float."):
        initializers.VarianceScaling(scale=-1.0, seed=seed, mode="fan_in")


def test_variance_scaling_invalid_mode(keras: Any) -> None:
    scale = 2.0
    seed = 1234
    with pytest.raises(ValueError, match="Invalid `mode` argument:"):
        initializers.VarianceScaling(scale=scale, seed=seed, mode="invalid_mode")


def test_variance_scaling_invalid_distribution(keras: Any) -> None:
    scale = 2.0
    seed = 1234
    with pytest.raises(ValueError, match="Invalid `distribution` argument:"):
        initializers.VarianceScaling(scale=scale, seed=seed, mode="fan_in", distribution="invalid_dist")


def test_serialization_with_seed_generator(keras: Any, tc: Any) -> None:
    from keras.src import random

    seed = random.SeedGenerator()
    initializer = initializers.OrthogonalInitializer(seed=seed)
    tc.run_class_serialization_test(initializer)

    seed = random.SeedGenerator()
    initializer = initializers.VarianceScaling(seed=seed)
    tc.run_class_serialization_test(initializer)

    seed = random.SeedGenerator()
    initializer = initializers.RandomUniform(seed=seed)
    tc.run_class_serialization_test(initializer)

    seed = random.SeedGenerator()
    initializer = initializers.RandomNormal(seed=seed)
    tc.run_class_serialization_test(initializer)


# ------------------------------------------------------------------ constant_initializers_test.py
def test_zeros_initializer(keras: Any, tc: Any) -> None:
    from keras.src import backend

    shape = (3, 3)
    initializer = initializers.Zeros()
    values = initializer(shape=shape)
    tc.assertEqual(values.shape, shape)
    np_values = backend.convert_to_numpy(values)
    tc.assertAllClose(np_values, np.zeros(shape=shape))
    tc.run_class_serialization_test(initializer)


def test_ones_initializer(keras: Any, tc: Any) -> None:
    from keras.src import backend

    shape = (3, 3)
    initializer = initializers.Ones()
    values = initializer(shape=shape)
    tc.assertEqual(values.shape, shape)
    np_values = backend.convert_to_numpy(values)
    tc.assertAllClose(np_values, np.ones(shape=shape))
    tc.run_class_serialization_test(initializer)


def test_constant_initializer(keras: Any, tc: Any) -> None:
    from keras.src import backend

    shape = (3, 3)
    constant_value = 6.0
    initializer = initializers.Constant(value=constant_value)
    values = initializer(shape=shape)
    tc.assertEqual(values.shape, shape)
    np_values = backend.convert_to_numpy(values)
    tc.assertAllClose(np_values, np.full(shape=shape, fill_value=constant_value))
    tc.run_class_serialization_test(initializer)


def test_constant_initializer_array_value(keras: Any, tc: Any) -> None:
    from keras.src import backend

    shape = (3, 3)
    constant_value = np.random.random((3, 3))  # noqa: NPY002 - upstream's input
    initializer = initializers.Constant(value=constant_value)
    values = initializer(shape=shape)
    tc.assertEqual(values.shape, shape)
    np_values = backend.convert_to_numpy(values)
    tc.assertAllClose(np_values, np.full(shape=shape, fill_value=constant_value))
    tc.run_class_serialization_test(initializer)


def test_identity_initializer(keras: Any, tc: Any) -> None:
    from keras.src import backend

    shape = (3, 3)
    gain = 2
    initializer = initializers.Identity(gain=gain)
    values = initializer(shape=shape)
    tc.assertEqual(values.shape, shape)
    np_values = backend.convert_to_numpy(values)
    tc.assertAllClose(np_values, np.eye(*shape) * gain)
    tc.run_class_serialization_test(initializer)


def test_stft_initializer(keras: Any, tc: Any) -> None:
    import scipy.signal
    from keras.src import backend

    shape = (256, 1, 513)
    time_range = np.arange(256).reshape((-1, 1, 1))
    freq_range = (np.arange(513) / 1024.0).reshape((1, 1, -1))
    pi = np.arccos(np.float64(-1))
    args = -2 * pi * time_range * freq_range

    tol_kwargs = {}
    if backend.backend() == "jax":
        # upstream's tolerance for the JAX and torch backends
        tol_kwargs = {"atol": 1e-4, "rtol": 1e-6}

    initializer = initializers.STFTInitializer("real", None)
    values = backend.convert_to_numpy(initializer(shape))
    tc.assertAllClose(np.cos(args), values, atol=1e-4)
    tc.run_class_serialization_test(initializer)

    initializer = initializers.STFTInitializer("real", "hamming", None, True)
    window = scipy.signal.windows.get_window("hamming", 256, True)
    window = window.astype("float64").reshape((-1, 1, 1))
    values = backend.convert_to_numpy(initializer(shape, "float64"))
    tc.assertAllClose(np.cos(args) * window, values, **tol_kwargs)
    tc.run_class_serialization_test(initializer)

    initializer = initializers.STFTInitializer("imag", "tukey", "density", False)
    window = scipy.signal.windows.get_window("tukey", 256, False)
    window = window.astype("float64").reshape((-1, 1, 1))
    window = window / np.sqrt(np.sum(window**2))
    values = backend.convert_to_numpy(initializer(shape, "float64"))
    tc.assertAllClose(np.sin(args) * window, values, **tol_kwargs)
    tc.run_class_serialization_test(initializer)

    initializer = initializers.STFTInitializer("imag", list(range(1, 257)), "spectrum")
    window = np.arange(1, 257)
    window = window.astype("float64").reshape((-1, 1, 1))
    window = window / np.sum(window)
    values = backend.convert_to_numpy(initializer(shape, "float64"))
    tc.assertAllClose(np.sin(args) * window, values, **tol_kwargs)
    tc.run_class_serialization_test(initializer)

    with pytest.raises(ValueError):
        initializers.STFTInitializer("imaginary")
    with pytest.raises(ValueError):
        initializers.STFTInitializer("real", scaling="l2")
    with pytest.raises(ValueError):
        initializers.STFTInitializer("real", window="unknown")
