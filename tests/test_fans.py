"""Fans: Keras' rules in the "tf" layout, torch's (out, in, *k), explicit axes."""

from __future__ import annotations

import pytest

import varscale as vs

TF_FANS = [
    ((), (1, 1)),
    ((7,), (7, 7)),
    ((0,), (0, 0)),
    ((64, 128), (64, 128)),
    ((3, 64, 128), (192, 384)),
    ((3, 3, 64, 128), (576, 1152)),
    ((3, 3, 3, 16, 32), (432, 864)),
    ((2, 2, 2, 2, 4, 8), (64, 128)),
    ((3, 3, 0, 128), (0, 1152)),
    ((0, 3, 64, 128), (0, 0)),
    ((1, 1), (1, 1)),
]

TORCH_FANS = [
    ((), (1, 1)),
    ((5,), (5, 5)),
    ((128, 64), (64, 128)),
    ((128, 64, 3), (192, 384)),
    ((128, 64, 3, 3), (576, 1152)),
    ((32, 16, 3, 3, 3), (432, 864)),
    ((128, 0, 3, 3), (0, 1152)),
]


@pytest.mark.parametrize(("shape", "fans"), TF_FANS)
def test_tf_layout(shape: tuple, fans: tuple) -> None:
    assert vs.compute_fans(shape) == fans
    assert vs.compute_fans(shape, "tf") == fans
    assert vs.compute_fans(list(shape), "TF") == fans


@pytest.mark.parametrize(("shape", "fans"), TORCH_FANS)
def test_torch_layout(shape: tuple, fans: tuple) -> None:
    assert vs.compute_fans(shape, "torch") == fans


@pytest.mark.parametrize(
    ("shape", "layout", "fans"),
    [
        ((3, 3, 64, 128), vs.Layout(), (576, 1152)),
        ((128, 64, 3, 3), vs.Layout(in_axis=1, out_axis=0), (576, 1152)),
        ((4, 3, 3, 16, 32), vs.Layout(in_axis=-2, out_axis=-1, batch_axis=0), (144, 288)),
        ((8, 16, 32), vs.Layout(in_axis=(0, 1), out_axis=2), (128, 32)),
        ((5, 7), vs.Layout(in_axis=0, out_axis=1), (5, 7)),
        ((2, 0, 7), vs.Layout(in_axis=0, out_axis=2), (0, 0)),
    ],
)
def test_explicit_layout(shape: tuple, layout: vs.Layout, fans: tuple) -> None:
    assert vs.compute_fans(shape, layout) == fans


def test_layouts_agree_on_native_conv_shapes() -> None:
    # semantics.md §13.1: each framework's native layout gives the same fans
    assert vs.compute_fans((3, 3, 64, 128), "tf") == vs.compute_fans((128, 64, 3, 3), "torch")


def test_layout_errors() -> None:
    with pytest.raises(vs.InvalidArgumentError, match="`in_axis` must be an axis"):
        vs.compute_fans((3, 4), vs.Layout(in_axis=5))
    with pytest.raises(vs.InvalidArgumentError, match="must not repeat"):
        vs.compute_fans((3, 4), vs.Layout(in_axis=0, out_axis=0))
    with pytest.raises(vs.UnknownNameError, match=r"received layout='keras'"):
        vs.compute_fans((3, 4), "keras")
    with pytest.raises(TypeError, match="`layout` must be"):
        vs.compute_fans((3, 4), 3)


@pytest.mark.parametrize(
    ("shape", "exc", "fragment"),
    [
        ((-1, 3), vs.InvalidArgumentError, "negative dimension -1"),
        ((2.5, 3), TypeError, "2.5"),
        ((None, 3), TypeError, "None"),
        (((2, 3), 3), TypeError, r"\(2, 3\)"),
        ("3,3", TypeError, "'3,3'"),
        ((True, 3), TypeError, "boolean"),
        ((2**40, 2**40), vs.InvalidArgumentError, "more than"),
    ],
)
def test_shape_errors(shape: object, exc: type, fragment: str) -> None:
    with pytest.raises(exc, match=fragment) as info:
        vs.compute_fans(shape)
    assert "shape" in str(info.value)


def test_calculate_gain_table() -> None:
    import math

    assert vs.calculate_gain("linear") == 1.0
    assert vs.calculate_gain("conv_transpose2d") == 1.0
    assert vs.calculate_gain("sigmoid") == 1.0
    assert vs.calculate_gain("tanh") == 5.0 / 3
    assert vs.calculate_gain("relu") == math.sqrt(2.0)
    assert vs.calculate_gain("leaky_relu") == math.sqrt(2.0 / (1 + 0.01**2))
    assert vs.calculate_gain("leaky_relu", 0.2) == math.sqrt(2.0 / 1.04)
    assert vs.calculate_gain("leaky_relu", 0) == math.sqrt(2.0)
    assert vs.calculate_gain("selu") == 0.75
    with pytest.raises(vs.UnknownNameError, match="Did you mean 'relu'"):
        vs.calculate_gain("rellu")
    with pytest.raises(vs.InvalidArgumentError, match="param"):
        vs.calculate_gain("leaky_relu", "x")  # type: ignore[arg-type]
