"""TensorFlow's own init_ops tests, ported to run against ``varscale.compat.tf1``.

Source: https://github.com/tensorflow/tensorflow/blob/01138c9268b2a61ede4c2cb238ec4da5950f3661/tensorflow/python/ops/init_ops_test.py
(commit 01138c9268b2a61ede4c2cb238ec4da5950f3661; Apache-2.0, Copyright 2018 The TensorFlow Authors).

A faithful port, not a copy: each ``InitializersTest`` case runs with the same shapes (as tuples and as
``tf.TensorShape``), seeds, targets and tolerance (``lim = 3e-2``) and the same assertions, with
``init_ops`` replaced by ``varscale.compat.tf1`` (``init_ops._compute_fans`` by ``tf1._compute_fans``).
TF runs each case in graph and eager mode (``run_all_in_graph_and_eager_modes``); the facade returns NumPy
in both, so each runs once. The two GPU-only placement tests run only where TensorFlow sees a GPU, as
upstream (``run_gpu_only``); see docs/compat-tf1.md.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from _support import need
from varscale.compat import tf1 as init_ops


@pytest.fixture(scope="module")
def tensor_shape_lib() -> Any:
    need("tensorflow")
    from tensorflow.python.framework import tensor_shape

    return tensor_shape


def _runner(init: Any, shape: Any, target_mean: float | None = None, target_std: float | None = None,
            target_max: float | None = None, target_min: float | None = None) -> None:
    output = np.asarray(init(shape))
    assert output.shape == shape
    lim = 3e-2
    if target_std is not None:
        assert lim > abs(output.std() - target_std)
    if target_mean is not None:
        assert lim > abs(output.mean() - target_mean)
    if target_max is not None:
        assert lim > abs(output.max() - target_max)
    if target_min is not None:
        assert lim > abs(output.min() - target_min)


def _shapes(tensor_shape_lib: Any, shape: tuple[int, ...]) -> list[Any]:
    return [shape, tensor_shape_lib.TensorShape(shape)]


def test_uniform(tensor_shape_lib: Any) -> None:
    for tensor_shape in _shapes(tensor_shape_lib, (9, 6, 99)):
        _runner(init_ops.RandomUniform(minval=-1, maxval=1, seed=124), tensor_shape,
                target_mean=0.0, target_max=1, target_min=-1)


def test_normal(tensor_shape_lib: Any) -> None:
    for tensor_shape in _shapes(tensor_shape_lib, (8, 12, 99)):
        _runner(init_ops.RandomNormal(mean=0, stddev=1, seed=153), tensor_shape, target_mean=0.0, target_std=1)


def test_truncated_normal(tensor_shape_lib: Any) -> None:
    for tensor_shape in _shapes(tensor_shape_lib, (12, 99, 7)):
        _runner(init_ops.TruncatedNormal(mean=0, stddev=1, seed=126), tensor_shape,
                target_mean=0.0, target_max=2, target_min=-2)


def test_constant(tensor_shape_lib: Any) -> None:
    for tensor_shape in _shapes(tensor_shape_lib, (5, 6, 4)):
        _runner(init_ops.Constant(2), tensor_shape, target_mean=2, target_max=2, target_min=2)


def test_lecun_uniform(tensor_shape_lib: Any) -> None:
    for tensor_shape in _shapes(tensor_shape_lib, (5, 6, 4, 2)):
        fan_in, _ = init_ops._compute_fans(tensor_shape)
        std = np.sqrt(1.0 / fan_in)
        _runner(init_ops.lecun_uniform(seed=123), tensor_shape, target_mean=0.0, target_std=std)


def test_glorot_uniform_initializer(tensor_shape_lib: Any) -> None:
    for tensor_shape in _shapes(tensor_shape_lib, (5, 6, 4, 2)):
        fan_in, fan_out = init_ops._compute_fans(tensor_shape)
        std = np.sqrt(2.0 / (fan_in + fan_out))
        _runner(init_ops.glorot_uniform_initializer(seed=123), tensor_shape, target_mean=0.0, target_std=std)


def test_he_uniform(tensor_shape_lib: Any) -> None:
    for tensor_shape in _shapes(tensor_shape_lib, (5, 6, 4, 2)):
        fan_in, _ = init_ops._compute_fans(tensor_shape)
        std = np.sqrt(2.0 / fan_in)
        _runner(init_ops.he_uniform(seed=123), tensor_shape, target_mean=0.0, target_std=std)


def test_lecun_normal(tensor_shape_lib: Any) -> None:
    for tensor_shape in _shapes(tensor_shape_lib, (5, 6, 4, 2)):
        fan_in, _ = init_ops._compute_fans(tensor_shape)
        std = np.sqrt(1.0 / fan_in)
        _runner(init_ops.lecun_normal(seed=123), tensor_shape, target_mean=0.0, target_std=std)


def test_glorot_normal_initializer(tensor_shape_lib: Any) -> None:
    for tensor_shape in _shapes(tensor_shape_lib, (5, 6, 4, 2)):
        fan_in, fan_out = init_ops._compute_fans(tensor_shape)
        std = np.sqrt(2.0 / (fan_in + fan_out))
        _runner(init_ops.glorot_normal_initializer(seed=123), tensor_shape, target_mean=0.0, target_std=std)


def test_he_normal(tensor_shape_lib: Any) -> None:
    for tensor_shape in _shapes(tensor_shape_lib, (5, 6, 4, 2)):
        fan_in, _ = init_ops._compute_fans(tensor_shape)
        std = np.sqrt(2.0 / fan_in)
        _runner(init_ops.he_normal(seed=123), tensor_shape, target_mean=0.0, target_std=std)


def test_orthogonal(tensor_shape_lib: Any) -> None:
    for tensor_shape in _shapes(tensor_shape_lib, (20, 20)):
        _runner(init_ops.Orthogonal(seed=123), tensor_shape, target_mean=0.0)


def _gpu_or_skip() -> Any:
    tf = need("tensorflow")
    if not tf.config.list_physical_devices("GPU"):
        pytest.skip("run_gpu_only upstream: TensorFlow sees no GPU")
    return tf


def test_variable_placement_with_orthogonal_initializer() -> None:
    tf = _gpu_or_skip()
    from tensorflow.core.protobuf import config_pb2

    with tf.Graph().as_default() as g:
        with tf.device("gpu:0"):
            tf.compat.v1.get_variable(name="v", shape=[8, 2], initializer=init_ops.Orthogonal)
            tf.compat.v1.get_variable(name="w", shape=[8, 2], initializer=init_ops.RandomNormal)
        run_metadata = config_pb2.RunMetadata()
        run_options = config_pb2.RunOptions(trace_level=config_pb2.RunOptions.FULL_TRACE)
        config = config_pb2.ConfigProto(allow_soft_placement=False, log_device_placement=True)
        with tf.compat.v1.Session(config=config, graph=g) as sess:
            sess.run(tf.compat.v1.global_variables_initializer(), options=run_options, run_metadata=run_metadata)


def test_eager_orthogonal_gpu() -> None:
    tf = _gpu_or_skip()
    v = tf.compat.v1.get_variable(name="v", shape=[8, 2], initializer=init_ops.Orthogonal)
    w = tf.compat.v1.get_variable(name="w", shape=[8, 2], initializer=init_ops.RandomNormal)
    assert "GPU" in v.handle.device
    assert "GPU" in w.handle.device


def test_identity(tensor_shape_lib: Any) -> None:
    for tensor_shape in _shapes(tensor_shape_lib, (3, 4, 5)):
        with pytest.raises(ValueError):
            _runner(init_ops.Identity(), tensor_shape, target_mean=1.0 / int(tensor_shape[0]), target_max=1.0)
    for tensor_shape in _shapes(tensor_shape_lib, (3, 3)):
        _runner(init_ops.Identity(), tensor_shape, target_mean=1.0 / int(tensor_shape[0]), target_max=1.0)


def test_zeros(tensor_shape_lib: Any) -> None:
    for tensor_shape in _shapes(tensor_shape_lib, (4, 5)):
        _runner(init_ops.Zeros(), tensor_shape, target_mean=0.0, target_max=0.0)


def test_ones(tensor_shape_lib: Any) -> None:
    for tensor_shape in _shapes(tensor_shape_lib, (4, 5)):
        _runner(init_ops.Ones(), tensor_shape, target_mean=1.0, target_max=1.0)
