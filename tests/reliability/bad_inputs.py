"""The bad-input matrix: every row is a call that must be refused.

Each :class:`Row` names the call, the exception type it must raise and the
fragments its message must contain (the argument's name and the value
received). :class:`CliRow` does the same for ``varscale.cli.main(argv)``: the
exit code (2 usage, 1 failure) and fragments of what it writes to stderr.
``test_bad_input.py`` runs every row in an empty temporary folder (the current
directory) and checks that the folder is still empty afterwards.

Rows of a module that has not landed yet (``needs``) are skipped through
``_support.need``; rows for other engineers' files that reveal a bug carry
``xfail`` with the reason.
"""

from __future__ import annotations

import importlib
import json
import math
import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

import varscale as vs
from varscale import InvalidArgumentError, UnknownNameError, VarscaleError


@dataclass(frozen=True)
class Row:
    id: str
    call: Callable[[], object]
    exc: type[BaseException]
    fragments: tuple[str, ...]
    needs: str | None = None
    xfail: str | None = None


@dataclass(frozen=True)
class CliRow:
    id: str
    argv: tuple[str, ...]
    code: int
    fragments: tuple[str, ...]
    needs: str | None = None
    xfail: str | None = None
    files: tuple[tuple[str, str], ...] = ()  # (name, text) written first; only these may remain


def _mod(name: str) -> Any:
    return importlib.import_module(name)


def keras() -> Any:
    return _mod("varscale.compat.keras.initializers")


def tf1() -> Any:
    return _mod("varscale.compat.tf1")


def contrib() -> Any:
    return _mod("varscale.compat.tf_contrib.layers")


def jaxinit() -> Any:
    return _mod("varscale.compat.jax.nn.initializers")


def mindspore() -> Any:
    return _mod("varscale.compat.mindspore.common.initializer")


def torchinit() -> Any:
    return _mod("varscale.compat.torch.nn.init")


def he(**kw: Any) -> vs.VarianceScaling:
    return vs.HeNormal(seed=0, **kw)


def f32(*shape: int) -> np.ndarray[Any, Any]:
    return np.zeros(shape, dtype=np.float32)


VS = vs.VarianceScaling
GOOD_CONFIG = vs.VarianceScaling(seed=1).get_config()


def cfg(**changes: Any) -> dict[str, Any]:
    out = dict(GOOD_CONFIG)
    for k, v in changes.items():
        if v is _DROP:
            out.pop(k)
        else:
            out[k] = v
    return out


_DROP = object()

CORE: list[Row] = [
    # --- shapes -------------------------------------------------------------
    Row("shape-negative", lambda: he()((3, -1)), InvalidArgumentError, ("`shape`", "(3, -1)", "-1")),
    Row("shape-negative-int", lambda: he()(-5), InvalidArgumentError, ("`shape`", "-5")),
    Row("shape-float", lambda: he()((3, 2.0)), TypeError, ("`shape`", "2.0", "float")),
    Row("shape-numpy-float", lambda: he()(np.array([3.0, 4.0])), TypeError, ("`shape`", "3.0")),
    Row("shape-float-scalar", lambda: he()(3.5), TypeError, ("`shape`", "3.5")),
    Row("shape-None", lambda: he()(None), TypeError, ("`shape`", "shape=None")),
    Row("shape-None-entry", lambda: he()((3, None)), TypeError, ("`shape`", "(3, None)")),
    Row("shape-nested", lambda: he()(((3, 3), 4)), TypeError, ("`shape`", "((3, 3), 4)")),
    Row("shape-bool-entry", lambda: he()((3, True)), TypeError, ("`shape`", "True")),
    Row("shape-string", lambda: he()("3,3"), TypeError, ("`shape`", "'3,3'")),
    Row("shape-dict", lambda: he()({3: 4}), TypeError, ("`shape`", "{3: 4}")),
    Row("shape-set", lambda: he()({3, 4}), TypeError, ("`shape`", "shape={")),
    Row("shape-over-2**63", lambda: he()((2**32, 2**32)), InvalidArgumentError,
        ("`shape`", "18446744073709551616", "(4294967296, 4294967296)")),
    Row("shape-over-2**63-1d", lambda: he()((2**63,)), InvalidArgumentError, ("`shape`", str(2**63))),
    Row("shape-dim-over-2**63-beside-zero", lambda: vs.GlorotNormal(seed=0)((0, 10**400)), InvalidArgumentError,
        ("`shape`", "2**63 - 1", "1" + "0" * 400)),
    Row("describe-dim-over-2**63-beside-zero", lambda: vs.GlorotNormal().describe((10**30, 0)), InvalidArgumentError,
        ("`shape`", str(10**30))),
    Row("describe-shape-negative", lambda: he().describe((4, -2)), InvalidArgumentError, ("`shape`", "-2")),
    Row("fans-shape-float", lambda: vs.compute_fans((3.0, 4)), TypeError, ("`shape`", "3.0")),
    # --- dtypes -------------------------------------------------------------
    Row("dtype-int", lambda: he()((3, 3), "int32"), InvalidArgumentError, ("`dtype`", "'int32'")),
    Row("dtype-numpy-int", lambda: he()((3, 3), np.int64), InvalidArgumentError, ("`dtype`", "'int64'")),
    Row("dtype-bool", lambda: he()((3, 3), bool), InvalidArgumentError, ("`dtype`", "'bool'")),
    Row("dtype-complex", lambda: he()((3, 3), np.complex64), InvalidArgumentError, ("`dtype`", "'complex64'")),
    Row("dtype-typo", lambda: he()((3, 3), "flaot32"), InvalidArgumentError, ("`dtype`", "'flaot32'")),
    Row("dtype-float8", lambda: he()((3, 3), "float8_e4m3fn"), InvalidArgumentError,
        ("`dtype`", "'float8_e4m3fn'")),
    Row("dtype-list", lambda: he()((3, 3), [1]), InvalidArgumentError, ("`dtype`", "[1]")),
    # --- seeds --------------------------------------------------------------
    Row("seed-negative", lambda: vs.HeNormal(seed=-1), InvalidArgumentError, ("`seed`", "seed=-1")),
    Row("seed-2**64", lambda: vs.HeNormal(seed=2**64), InvalidArgumentError, ("`seed`", str(2**64))),
    Row("seed-float", lambda: vs.HeNormal(seed=1.0), TypeError, ("`seed`", "seed=1.0")),
    Row("seed-str", lambda: vs.HeNormal(seed="1"), TypeError, ("`seed`", "seed='1'")),
    Row("seed-bool", lambda: vs.HeNormal(seed=True), TypeError, ("`seed`", "seed=True")),
    Row("seed-stream-negative", lambda: vs.HeNormal(seed=vs.Stream(1, -1)), InvalidArgumentError,
        ("`seed.stream`", "-1")),
    Row("derive-stream-name", lambda: vs.derive_stream(0, 5), TypeError, ("`name`", "name=5")),
    Row("derive-stream-lone-surrogate", lambda: vs.derive_stream(0, "w\ud800"), InvalidArgumentError,
        ("`name`", "name='w\\ud800'", "UTF-8")),
    # --- scale --------------------------------------------------------------
    Row("scale-zero", lambda: VS(0), InvalidArgumentError, ("`scale`", "scale=0")),
    Row("scale-negative", lambda: VS(-2.0), InvalidArgumentError, ("`scale`", "scale=-2.0")),
    Row("scale-nan", lambda: VS(math.nan), InvalidArgumentError, ("`scale`", "scale=nan")),
    Row("scale-inf", lambda: VS(math.inf), InvalidArgumentError, ("`scale`", "scale=inf")),
    Row("scale-str", lambda: VS("2"), TypeError, ("`scale`", "scale='2'")),
    Row("scale-complex", lambda: VS(1j), TypeError, ("`scale`", "scale=1j")),
    Row("scale-None", lambda: VS(None), TypeError, ("`scale`", "scale=None")),
    Row("scale-int-beyond-float", lambda: VS(10**400), InvalidArgumentError, ("`scale`", "scale=1000000")),
    # --- mode, distribution, layout, engine, region -------------------------
    Row("mode-typo", lambda: VS(mode="fan_inn"), UnknownNameError, ("`mode`", "'fan_inn'", "'fan_in'")),
    Row("mode-None", lambda: VS(mode=None), TypeError, ("`mode`", "mode=None")),
    Row("distribution-typo", lambda: VS(distribution="unifrom"), UnknownNameError,
        ("`distribution`", "'unifrom'", "'uniform'")),
    Row("distribution-int", lambda: VS(distribution=1), TypeError, ("`distribution`", "distribution=1")),
    Row("layout-typo", lambda: VS(layout="pytorch"), UnknownNameError, ("`layout`", "'pytorch'")),
    Row("layout-dict-unknown-key", lambda: VS(layout={"in_axis": 0, "foo": 1}), InvalidArgumentError,
        ("`layout`", "'foo'")),
    Row("layout-axis-out-of-range", lambda: VS(layout=vs.Layout(in_axis=5))((3, 3)), InvalidArgumentError,
        ("`in_axis`", "in_axis=5")),
    Row("layout-axis-repeated", lambda: vs.compute_fans((3, 3), vs.Layout(in_axis=0, out_axis=0)),
        InvalidArgumentError, ("`out_axis`", "out_axis=0")),
    Row("layout-axis-float", lambda: vs.Layout(in_axis=1.0), TypeError, ("`in_axis`", "in_axis=1.0")),
    Row("engine-unknown", lambda: he()((3, 3), engine="cuda"), UnknownNameError, ("`engine`", "'cuda'")),
    Row("engine-int", lambda: he()((3, 3), engine=1), TypeError, ("`engine`", "engine=1")),
    Row("region-out-of-bounds", lambda: he()((3, 3), region=(5,)), InvalidArgumentError, ("`region`", "5")),
    Row("region-step-zero", lambda: he()((3, 3), region=slice(0, 3, 0)), InvalidArgumentError,
        ("`region`", "slice(0, 3, 0)")),
    Row("region-float-slice", lambda: he()((3, 3), region=slice(0.5, 2)), TypeError,
        ("`region`", "slice(0.5, 2, None)")),
    Row("region-float", lambda: he()((3, 3), region=1.5), TypeError, ("`region`", "1.5")),
    Row("region-two-ellipses", lambda: he()((3, 3), region=(..., ...)), InvalidArgumentError,
        ("`region`", "Ellipsis")),
    Row("region-too-many", lambda: he()((3, 3), region=(0, 0, 0)), InvalidArgumentError,
        ("`region`", "(0, 0, 0)")),
    Row("region-list", lambda: he()((3, 3), region=[0, 1]), TypeError, ("`region`", "[0, 1]")),
    Row("gain-unknown", lambda: vs.calculate_gain("relu6"), UnknownNameError,
        ("`nonlinearity`", "'relu6'", "'relu'")),
    Row("gain-param-nan", lambda: vs.calculate_gain("leaky_relu", math.nan), InvalidArgumentError,
        ("`param`", "param=nan")),
    Row("gain-param-str", lambda: vs.calculate_gain("leaky_relu", "0.2"), InvalidArgumentError,
        ("`param`", "param='0.2'")),
    # --- memory guard -------------------------------------------------------
    Row("memory-full", lambda: he()((2**40, 2**10)), InvalidArgumentError,
        ("4503599627370496 bytes", "(1099511627776, 1024)", "'float32'")),
    Row("memory-region", lambda: he()((2**36, 4), region=(slice(None), slice(0, 1))), InvalidArgumentError,
        ("274877906944 bytes", "(68719476736, 1)")),
    # --- configs ------------------------------------------------------------
    Row("config-unknown-key", lambda: VS.from_config(cfg(foo=2)), InvalidArgumentError, ("`config`", "'foo'")),
    Row("config-preset-extra-key", lambda: vs.HeNormal.from_config({"scale": 2.0}), InvalidArgumentError,
        ("`config`", "'scale'")),
    Row("config-wrong-type", lambda: VS.from_config(cfg(scale="x")), TypeError, ("`scale`", "scale='x'")),
    Row("config-mode-wrong-type", lambda: VS.from_config(cfg(mode=["fan_in"])), TypeError,
        ("`mode`", "['fan_in']")),
    Row("config-seed-wrong-type", lambda: VS.from_config(cfg(seed="7")), TypeError, ("`seed`", "seed='7'")),
    Row("config-seed-dict-missing-key", lambda: VS.from_config(cfg(seed={"seed": 1})), InvalidArgumentError,
        ("`seed`", "{'seed': 1}")),
    Row("config-stream-version-2", lambda: VS.from_config(cfg(stream_version=2)), InvalidArgumentError,
        ("`stream_version`", "stream_version=2")),
    Row("config-stream-version-str", lambda: VS.from_config(cfg(stream_version="1")), InvalidArgumentError,
        ("`stream_version`", "stream_version='1'")),
    Row("config-stream-version-bool", lambda: VS.from_config(cfg(stream_version=True)), InvalidArgumentError,
        ("`stream_version`", "stream_version=True")),
    Row("config-not-dict", lambda: VS.from_config([1]), TypeError, ("`config`", "config=[1]")),
    Row("config-layout-wrong-type", lambda: VS.from_config(cfg(layout=[1])), TypeError, ("`layout`", "[1]")),
    Row("deserialize-missing-config", lambda: vs.deserialize({"class_name": "HeNormal"}), InvalidArgumentError,
        ("`config`", "'class_name': 'HeNormal'", "['config']")),
    Row("deserialize-missing-class", lambda: vs.deserialize({"config": {}}), InvalidArgumentError,
        ("`config`", "['class_name']")),
    Row("deserialize-unknown-class", lambda: vs.deserialize({"class_name": "Zeroes", "config": {}}),
        UnknownNameError, ("`class_name`", "'Zeroes'")),
    Row("deserialize-class-int", lambda: vs.deserialize({"class_name": 1, "config": {}}), TypeError,
        ("`class_name`", "class_name=1")),
    Row("deserialize-extra-key", lambda: vs.deserialize({"class_name": "HeNormal", "config": {}, "x": 1}),
        InvalidArgumentError, ("`config`", "['x']")),
    Row("deserialize-config-None", lambda: vs.deserialize({"class_name": "HeNormal", "config": None}),
        TypeError, ("`config`", "config=None")),
    Row("deserialize-other-stream-version",
        lambda: vs.deserialize({"class_name": "HeNormal", "config": {"seed": 1, "stream_version": 0}}),
        InvalidArgumentError, ("`stream_version`", "stream_version=0")),
    Row("deserialize-truncated-json-string", lambda: vs.deserialize('{"class_name": "HeNo'), TypeError,
        ("`config`", '{"class_name": "HeNo')),
    Row("get-typo", lambda: vs.get("he_nromal"), UnknownNameError, ("`identifier`", "'he_nromal'", "'he_normal'")),
    Row("get-int", lambda: vs.get(3), TypeError, ("`identifier`", "identifier=3")),
]

FACADES: list[Row] = [
    # Keras 3: messages are Keras' own.
    Row("keras-scale-zero", lambda: keras().VarianceScaling(scale=0), ValueError, ("`scale`", "scale=0")),
    Row("keras-mode-wrong-case", lambda: keras().VarianceScaling(mode="FAN_IN"), ValueError,
        ("`mode`", "FAN_IN")),
    Row("keras-distribution-typo", lambda: keras().VarianceScaling(distribution="unifrom"), ValueError,
        ("`distribution`", "unifrom")),
    Row("keras-dtype-int", lambda: keras().HeNormal(seed=0)((3, 3), "int32"), TypeError,
        ("`dtype`", "'int32'")),
    Row("keras-dtype-unknown", lambda: keras().HeNormal(seed=0)((3, 3), "flaot32"), ValueError,
        ("dtype", "flaot32")),
    Row("keras-seed-str", lambda: keras().HeNormal(seed="a"), ValueError, ("`seed`", "seed=a")),
    Row("keras-seed-float", lambda: keras().HeNormal(seed=1.5), ValueError, ("`seed`", "seed=1.5")),
    Row("keras-shape-float", lambda: keras().HeNormal(seed=0)((3, 2.5)), TypeError, ("`shape`", "2.5")),
    Row("keras-get-typo", lambda: keras().get("he_nromal"), ValueError, ("identifier", "he_nromal")),
    # TF1 init_ops
    Row("tf1-scale-zero", lambda: tf1().VarianceScaling(scale=0), ValueError, ("`scale`", "Received: 0")),
    Row("tf1-mode-wrong-case", lambda: tf1().VarianceScaling(mode="FAN_IN"), ValueError,
        ("`mode`", "FAN_IN")),
    Row("tf1-distribution-typo", lambda: tf1().VarianceScaling(distribution="unifrom"), ValueError,
        ("`distribution`", "unifrom")),
    Row("tf1-dtype-int", lambda: tf1().VarianceScaling(dtype="int32"), ValueError, ("`dtype`", "int32")),
    Row("tf1-seed-str", lambda: tf1().VarianceScaling(seed="a")((3, 3)), TypeError, ("`seed`", "seed='a'")),
    # TF contrib: modes are upper case only
    Row("contrib-mode-lower-case", lambda: contrib().variance_scaling_initializer(mode="fan_in"), TypeError,
        ("mode", "fan_in")),
    # JAX
    Row("jax-mode-wrong-case", lambda: jaxinit().variance_scaling(1.0, "FAN_IN", "normal")(0, (3, 3)),
        ValueError, ("mode", "FAN_IN")),
    Row("jax-distribution-typo", lambda: jaxinit().variance_scaling(1.0, "fan_in", "unifrom")(0, (3, 3)),
        ValueError, ("distribution", "unifrom")),
    Row("jax-dtype-int", lambda: jaxinit().variance_scaling(1.0, "fan_in", "normal")(0, (3, 3), np.int32),
        ValueError, ("dtype", "int32")),
    Row("jax-shape-negative", lambda: jaxinit().variance_scaling(1.0, "fan_in", "normal")(0, (3, -1)),
        ValueError, ("(3, -1)",)),
    Row("jax-key-str", lambda: jaxinit().variance_scaling(1.0, "fan_in", "normal")("a", (3, 3)), TypeError,
        ("`key`", "str")),
    Row("jax-key-negative", lambda: jaxinit().variance_scaling(1.0, "fan_in", "normal")(-1, (3, 3)),
        InvalidArgumentError, ("`key`", "key=-1")),
    # MindSpore
    Row("mindspore-unknown-name", lambda: mindspore().initializer("foo", (3, 3)), ValueError,
        ("'initializer'", "'foo'")),
    Row("mindspore-shape-negative", lambda: mindspore().initializer("xavier_uniform", (3, -1)), ValueError,
        ("'shape'", "(3, -1)")),
    Row("mindspore-scale-zero", lambda: mindspore().VarianceScaling(scale=0), ValueError, ("'scale'", "got 0")),
    Row("mindspore-mode-wrong-case", lambda: mindspore().VarianceScaling(mode="FAN_IN"), ValueError,
        ("'mode'", "FAN_IN")),
    Row("mindspore-distribution-typo", lambda: mindspore().VarianceScaling(distribution="unifrom"), ValueError,
        ("'distribution'", "unifrom")),
    # torch.nn.init
    Row("torch-gain-unknown", lambda: torchinit().calculate_gain("relu6"), ValueError,
        ("nonlinearity", "relu6")),
    Row("torch-nonlinearity-unknown", lambda: torchinit().kaiming_normal_(f32(3, 3), nonlinearity="relu6"),
        ValueError, ("nonlinearity", "relu6")),
    Row("torch-tensor-list", lambda: torchinit().xavier_uniform_([[1.0]]), TypeError, ("`tensor`", "list")),
    Row("torch-seed-negative", lambda: torchinit().xavier_uniform_(f32(3, 3), seed=-1), InvalidArgumentError,
        ("`seed`", "seed=-1")),
    Row("torch-seed-str", lambda: torchinit().xavier_uniform_(f32(3, 3), seed="a"), TypeError,
        ("`seed`", "seed='a'")),
]


def need_api(name: str) -> Any:
    """``varscale.<name>`` (parse, translate) or skip while it has not landed."""
    import pytest

    from _support import need

    need("varscale")
    fn = getattr(_mod("varscale"), name, None)
    if fn is None:  # not exported yet: its private module, if it exists
        try:
            fn = getattr(_mod(f"varscale._{name}"), name, None)
        except ImportError:
            fn = None
    if fn is None:
        pytest.skip(f"varscale.{name} has not landed yet")
    return fn


def vio() -> Any:
    return _mod("varscale.io")


def vdask() -> Any:
    return _mod("varscale.dask")


_HE0 = vs.HeNormal(seed=0)

IO: list[Row] = [
    Row("io-npy-negative-shape", lambda: vio().write_npy("w.npy", _HE0, (3, -1), "float32"), InvalidArgumentError,
        ("`shape`", "(3, -1)"), needs="varscale.io"),
    Row("io-npy-dtype-int", lambda: vio().write_npy("w.npy", _HE0, (3, 3), "int8"), InvalidArgumentError,
        ("`dtype`", "'int8'"), needs="varscale.io"),
    Row("io-npy-missing-folder", lambda: vio().write_npy("no/w.npy", _HE0, (3, 3), "float32"),
        InvalidArgumentError, ("`path`", "'no/w.npy'"), needs="varscale.io"),
    Row("io-safetensors-key-not-str",
        lambda: vio().write_safetensors("w.safetensors", {1: (_HE0, (3, 3), "float32")}), InvalidArgumentError,
        ("`tensors`", "1"), needs="varscale.io"),
    Row("io-safetensors-entry-too-short", lambda: vio().write_safetensors("w.safetensors", {"a": (_HE0, (3, 3))}),
        TypeError, ("`tensors['a']`", "(3, 3)"), needs="varscale.io"),
    Row("io-safetensors-dtype-complex",
        lambda: vio().write_safetensors("w.safetensors", {"a": (_HE0, (3, 3), "complex64")}),
        InvalidArgumentError, ("`dtype`", "'complex64'"), needs="varscale.io"),
    Row("io-zarr-negative-shape", lambda: vio().write_zarr("w.zarr", _HE0, (3, -1), "float32"),
        InvalidArgumentError, ("`shape`", "(3, -1)"), needs="varscale.io"),
    Row("io-zarr-zero-chunks", lambda: vio().write_zarr("w.zarr", _HE0, (3, 3), "float32", chunks=(0, 3)),
        InvalidArgumentError, ("`chunks`", "(0, 3)"), needs="varscale.io"),
    Row("dask-negative-shape", lambda: vdask().array(_HE0, (3, -1), "float32"), InvalidArgumentError,
        ("`shape`", "(3, -1)"), needs="varscale.dask"),
    Row("dask-dtype-int", lambda: vdask().array(_HE0, (3, 3), "int32"), InvalidArgumentError,
        ("`dtype`", "'int32'"), needs="varscale.dask"),
    Row("dask-init-str", lambda: vdask().array("he_normal", (3, 3), "float32"), TypeError,
        ("`init`", "'he_normal'"), needs="varscale.dask"),
    Row("dask-zero-chunks", lambda: vdask().array(_HE0, (3, 3), "float32", chunks=(0, 3)), InvalidArgumentError,
        ("`chunks`", "(0, 3)"), needs="varscale.dask"),
    Row("dask-bad-chunks-type", lambda: vdask().array(_HE0, (3, 3), "float32", chunks="bogus"),
        InvalidArgumentError, ("`chunks`", "'bogus'"), needs="varscale.dask"),
    Row("dask-chunks-wrong-sum", lambda: vdask().array(_HE0, (4, 4), "float32", chunks=((1, 1), (4,))),
        InvalidArgumentError, ("`chunks`", "((1, 1), (4,))"), needs="varscale.dask"),
    Row("dask-too-many-chunks", lambda: vdask().array(_HE0, (2**31, 2**31), "float32", chunks=1),
        InvalidArgumentError, ("`chunks`", "chunks=1", "4611686018427387904 chunks"), needs="varscale.dask"),
    Row("dask-too-many-chunks-per-axis", lambda: vdask().array(_HE0, (2**40, 1), "float16", chunks=(1, 1)),
        InvalidArgumentError, ("`chunks`", "(1, 1)", "1099511627776"), needs="varscale.dask"),
]


def _parse(text: str) -> object:
    return need_api("parse")(text)


def _translate(text: str, to: str = "torch") -> object:
    return need_api("translate")(text, to=to)


def _describe(text: str, shape: tuple[int, ...]) -> object:
    return need_api("parse")(text).describe(shape)


def _translate_shape(text: str, to: str, shape: tuple[int, ...]) -> object:
    return need_api("translate")(text, to=to, shape=shape)


_HUGE = "VarianceScaling(scale=" + "+".join(["1"] * 20000) + ")"
_DEEP = "VarianceScaling(scale=" + "(" * 5000 + "1" + ")" * 5000 + ")"

PARSE: list[Row] = [
    Row("parse-attribute-access", lambda: _parse("HeNormal().__class__.__bases__"), VarscaleError,
        ("__class__",), needs="parse"),
    Row("parse-dunder-import", lambda: _parse("__import__('os').system('touch pwned')"), VarscaleError,
        ("__import__",), needs="parse"),
    Row("parse-import-in-argument", lambda: _parse("HeNormal(seed=__import__('os').getpid())"), VarscaleError,
        ("__import__",), needs="parse"),
    Row("parse-lambda", lambda: _parse("(lambda: open('pwned', 'w'))()"), VarscaleError, ("lambda",),
        needs="parse"),
    Row("parse-huge-expression", lambda: _parse(_HUGE), VarscaleError, ("scale",), needs="parse"),
    Row("parse-deep-nesting", lambda: _parse(_DEEP), VarscaleError, ("scale",), needs="parse"),
    Row("parse-syntax-error", lambda: _parse("HeNormal(seed=1"), VarscaleError, ("HeNormal(seed=1",),
        needs="parse"),
    Row("parse-unknown-function", lambda: _parse("torch.nn.init.sparse_(w, 0.1)"), VarscaleError,
        ("sparse_",), needs="parse"),
    Row("parse-not-a-string", lambda: _parse(42), TypeError, ("42",), needs="parse"),  # type: ignore[arg-type]
    Row("translate-dunder-import", lambda: _translate("__import__('os').system('touch pwned')"), VarscaleError,
        ("__import__",), needs="translate"),
    Row("translate-unknown-target", lambda: _translate("he_normal", to="caffe2"), VarscaleError,
        ("caffe2",), needs="translate"),
    # integers beyond float64 (issue 10, item 6)
    Row("parse-int-beyond-float", lambda: _parse("keras.initializers.VarianceScaling(scale=" + "9" * 400 + ")"),
        VarscaleError, ("`scale`", "too large for a float"), needs="parse"),
    Row("parse-json-int-beyond-float",
        lambda: _parse('{"class_name": "VarianceScaling", "config": {"scale": ' + "9" * 400 + "}}"),
        VarscaleError, ("`scale`", "too large for a float"), needs="parse"),
    # zero fans where the source divides by them (item 5) and shapes the source refuses (item 12)
    Row("describe-jax-zero-dim", lambda: _describe("jax.nn.initializers.he_normal()", (0, 3)), InvalidArgumentError,
        ("`shape`", "shape=(0, 3)", "ZeroDivisionError"), needs="parse"),
    Row("describe-jax-geo-avg-zero-dim",
        lambda: _describe("jax.nn.initializers.variance_scaling(1.0, 'fan_geo_avg', 'normal')", (3, 0)),
        InvalidArgumentError, ("`shape`", "shape=(3, 0)", "ZeroDivisionError"), needs="parse"),
    Row("describe-contrib-zero-fan", lambda: _describe("tf.contrib.layers.variance_scaling_initializer()", (0, 3)),
        InvalidArgumentError, ("`shape`", "shape=(0, 3)", "n = 0", "ZeroDivisionError"), needs="parse"),
    Row("describe-mindspore-zero-fan", lambda: _describe("mindspore.common.initializer.HeUniform()", (3, 0)),
        InvalidArgumentError, ("`shape`", "shape=(3, 0)", "n = 0"), needs="parse"),
    Row("describe-torch-xavier-zero-fans", lambda: _describe("nn.init.xavier_normal_(w)", (0, 0, 3)),
        InvalidArgumentError, ("`shape`", "shape=(0, 0, 3)", "n = 0"), needs="parse"),
    Row("describe-torch-kaiming-zero-elements", lambda: _describe("nn.init.kaiming_uniform_(w)", (3, 0)),
        InvalidArgumentError, ("`shape`", "shape=(3, 0)", "Initializing zero-element tensors is a no-op"),
        needs="parse"),
    Row("describe-torch-rank-1", lambda: _describe("nn.init.kaiming_uniform_(w)", (5,)), InvalidArgumentError,
        ("`shape`", "shape=(5,)", "Fan in and fan out can not be computed for tensor with fewer than 2 dimensions"),
        needs="parse"),
    Row("describe-mindspore-rank-0", lambda: _describe("XavierUniform()", ()), InvalidArgumentError,
        ("`shape`", "shape=()", "but got dimensions 0."), needs="parse"),
    Row("describe-jax-rank-1", lambda: _describe("jax.nn.initializers.lecun_normal()", (7,)), InvalidArgumentError,
        ("`shape`", "shape=(7,)", "Can't compute input and output sizes of a 1-dimensional weights tensor"),
        needs="parse"),
    Row("translate-torch-rank-1", lambda: _translate_shape("nn.init.xavier_uniform_(w)", "keras", (5,)),
        InvalidArgumentError, ("`shape`", "shape=(5,)", "fewer than 2 dimensions"), needs="translate"),
    Row("translate-jax-zero-dim", lambda: _translate_shape("jax.nn.initializers.he_uniform()", "torch", (3, 0)),
        InvalidArgumentError, ("`shape`", "shape=(3, 0)", "ZeroDivisionError"), needs="translate"),
    # a translated number float64 cannot hold (item 11)
    Row("translate-underflowing-number",
        lambda: need_api("translate")("keras.initializers.RandomUniform(minval=-1e-200, maxval=1e-200)", to="jax",
                                      shape=(4, 4), numbers=True),
        InvalidArgumentError, ("'jax'", "float64", "RandomUniform"), needs="translate"),
]

ROWS: list[Row] = CORE + FACADES + IO + PARSE

_SPEC_JSON = json.dumps(vs.serialize(vs.HeNormal(seed=1)))


def _safetensors_text(header: object, raw: str | None = None) -> str:
    """A safetensors file (8-byte length, then the JSON header) as text: every byte is ASCII."""
    body = json.dumps(header) if raw is None else raw
    data = struct.pack("<Q", len(body)) + body.encode("ascii")
    assert max(data) < 0x80, "the length must be ASCII bytes for CliRow.files"
    return data.decode("ascii")

CLI: list[CliRow] = [
    CliRow("cli-no-command", (), 2, ("command",)),
    CliRow("cli-unknown-command", ("frobnicate",), 2, ("frobnicate",)),
    CliRow("cli-sample-missing-out", ("sample", "he_normal", "--shape", "3,3", "--seed", "0"), 2, ("--out",)),
    CliRow("cli-sample-bad-shape", ("sample", "he_normal", "--shape", "3,x", "--seed", "0", "--out", "w.npy"),
           2, ("--shape", "3,x")),
    CliRow("cli-sample-negative-shape",
           ("sample", "he_normal", "--shape", "3,-1", "--seed", "0", "--out", "w.npy"), 1, ("`shape`", "-1")),
    CliRow("cli-sample-seed-float", ("sample", "he_normal", "--shape", "3,3", "--seed", "1.5", "--out", "w.npy"),
           2, ("--seed", "1.5")),
    CliRow("cli-sample-seed-negative",
           ("sample", "he_normal", "--shape", "3,3", "--seed", "-1", "--out", "w.npy"), 1, ("`seed`", "seed=-1")),
    CliRow("cli-sample-seed-2**64",
           ("sample", "he_normal", "--shape", "3,3", "--seed", str(2**64), "--out", "w.npy"), 1,
           ("`seed`", str(2**64))),
    CliRow("cli-sample-dtype-int",
           ("sample", "he_normal", "--shape", "3,3", "--seed", "0", "--dtype", "int8", "--out", "w.npy"), 1,
           ("`dtype`", "'int8'")),
    CliRow("cli-sample-unknown-spec", ("sample", "he_nromal", "--shape", "3,3", "--seed", "0", "--out", "w.npy"),
           1, ("'he_nromal'", "'he_normal'")),
    CliRow("cli-sample-bad-scale",
           ("sample", "variance_scaling:scale=-1", "--shape", "3,3", "--seed", "0", "--out", "w.npy"), 1,
           ("`scale`", "scale=-1.0")),
    CliRow("cli-sample-scale-not-number",
           ("sample", "variance_scaling:scale=abc", "--shape", "3,3", "--seed", "0", "--out", "w.npy"), 1,
           ("`scale`", "scale='abc'")),
    CliRow("cli-sample-mode-typo",
           ("sample", "variance_scaling:mode=fan_inn", "--shape", "3,3", "--seed", "0", "--out", "w.npy"), 1,
           ("`mode`", "'fan_inn'")),
    CliRow("cli-sample-unknown-spec-key",
           ("sample", "variance_scaling:foo=1", "--shape", "3,3", "--seed", "0", "--out", "w.npy"), 1,
           ("foo",)),
    CliRow("cli-sample-truncated-json", ("sample", '{"class_name": "HeNo', "--shape", "3,3", "--seed", "0",
                                         "--out", "w.npy"), 2, ("JSON",)),
    CliRow("cli-sample-json-other-stream-version",
           ("sample", _SPEC_JSON.replace('"stream_version": 1', '"stream_version": 9'), "--shape", "3,3",
            "--seed", "0", "--out", "w.npy"), 1, ("`stream_version`", "stream_version=9")),
    CliRow("cli-sample-bad-extension", ("sample", "he_normal", "--shape", "3,3", "--seed", "0", "--out", "w.txt"),
           2, ("--out", "w.txt")),
    CliRow("cli-sample-missing-folder",
           ("sample", "he_normal", "--shape", "3,3", "--seed", "0", "--out", "no/such/w.npy"), 1,
           ("`out`", "no/such/w.npy")),
    CliRow("cli-sample-too-big",
           ("sample", "he_normal", "--shape", "1099511627776,1024", "--seed", "0", "--out", "w.npy"), 1,
           ("4503599627370496 bytes", "(1099511627776, 1024)", "free")),
    CliRow("cli-sample-over-2**63",
           ("sample", "he_normal", "--shape", "4294967296,4294967296", "--seed", "0", "--out", "w.npy"), 1,
           ("shape", "(4294967296, 4294967296)")),
    CliRow("cli-sample-bad-engine",
           ("sample", "he_normal", "--shape", "3,3", "--seed", "0", "--engine", "cuda", "--out", "w.npy"), 2,
           ("--engine", "cuda")),
    CliRow("cli-sample-dtype-complex",
           ("sample", "he_normal", "--shape", "3,3", "--seed", "0", "--dtype", "complex64", "--out", "w.npy"), 1,
           ("`dtype`", "'complex64'")),
    CliRow("cli-explain-missing-shape", ("explain", "he_normal"), 2, ("--shape",)),
    CliRow("cli-explain-source-mode-typo", ("explain", "nn.init.kaiming_normal_(w, mode='fan_inn')", "--shape",
                                            "3,3"), 1, ("mode", "fan_inn")),
    CliRow("cli-translate-unknown-target", ("translate", "he_normal", "--to", "caffe"), 2, ("--to", "'caffe'")),
    CliRow("cli-translate-missing-target", ("translate", "he_normal"), 2, ("--to",)),
    CliRow("cli-translate-dunder-import", ("translate", "__import__('os').system('touch pwned')", "--to", "torch"),
           1, ("__import__",)),
    CliRow("cli-translate-attribute-access", ("translate", "keras.initializers.HeNormal().__class__", "--to",
                                              "torch"), 1, ("__class__",)),
    CliRow("cli-translate-negative-shape", ("translate", "he_normal", "--to", "torch", "--shape", "3,-1"), 1,
           ("`shape`", "(3, -1)")),
    CliRow("cli-plot-bad-extension", ("plot", "he_normal", "--shape", "64,64", "--out", "h.jpg"), 2,
           ("--out", "'h.jpg'")),
    CliRow("cli-plot-bins-not-int", ("plot", "he_normal", "--shape", "64,64", "--bins", "abc", "--out", "h.png"),
           2, ("--bins", "'abc'")),
    CliRow("cli-init-missing-shapes-file",
           ("init", "--shapes", "nope.json", "--rule", "*=he_normal", "--seed", "0", "--out", "c.safetensors"), 1,
           ("`shapes`", "'nope.json'")),
    CliRow("cli-init-negative-shape",
           ("init", "--shapes", "s.json", "--rule", "*=he_normal", "--seed", "0", "--out", "c.safetensors"), 1,
           ("`shapes`", "[3, -1]"), files=(("s.json", '{"a": [3, -1]}'),)),
    CliRow("cli-init-truncated-json",
           ("init", "--shapes", "s.json", "--rule", "*=he_normal", "--seed", "0", "--out", "c.safetensors"), 1,
           ("`shapes`", "'s.json'"), files=(("s.json", '{"a": [3, 3'),)),
    CliRow("cli-init-shape-not-list",
           ("init", "--shapes", "s.json", "--rule", "*=he_normal", "--seed", "0", "--out", "c.safetensors"), 1,
           ("`shapes`", "'x'"), files=(("s.json", '{"a": "x"}'),)),
    CliRow("cli-init-rule-without-glob",
           ("init", "--shapes", "s.json", "--rule", "he_normal", "--seed", "0", "--out", "c.safetensors"), 2,
           ("--rule", "'he_normal'"), files=(("s.json", '{"a": [3, 3]}'),)),
    CliRow("cli-init-rule-unknown-spec",
           ("init", "--shapes", "s.json", "--rule", "*=he_nromal", "--seed", "0", "--out", "c.safetensors"), 1,
           ("'he_nromal'",), files=(("s.json", '{"a": [3, 3]}'),)),
    CliRow("cli-init-no-matching-rule",
           ("init", "--shapes", "s.json", "--rule", "b*=he_normal", "--seed", "0", "--out", "c.safetensors"), 1,
           ("'a'", "b*"), files=(("s.json", '{"a": [3, 3]}'),)),
    CliRow("cli-init-seed-negative",
           ("init", "--shapes", "s.json", "--rule", "*=he_normal", "--seed", "-3", "--out", "c.safetensors"), 1,
           ("`seed`", "seed=-3"), files=(("s.json", '{"a": [3, 3]}'),)),
    CliRow("cli-init-bad-extension",
           ("init", "--shapes", "s.json", "--rule", "*=he_normal", "--seed", "0", "--out", "c.npy"), 2,
           ("--out", "'c.npy'"), files=(("s.json", '{"a": [3, 3]}'),)),
    CliRow("cli-explain-bad-layout", ("explain", "he_normal", "--shape", "3,3", "--layout", "nchw"), 2,
           ("--layout", "nchw")),
    # issue 10, round 2 --------------------------------------------------------------------------------------
    # item 5: zero fans where the source divides by them
    CliRow("cli-explain-jax-zero-dim", ("explain", "jax.nn.initializers.he_normal()", "--shape", "0,3"), 1,
           ("`shape`", "(0, 3)", "ZeroDivisionError")),
    CliRow("cli-translate-contrib-zero-fan", ("translate", "tf.contrib.layers.variance_scaling_initializer()",
                                              "--to", "keras", "--shape", "0,3"), 1,
           ("`shape`", "(0, 3)", "n = 0")),
    CliRow("cli-sample-jax-geo-avg-zero-dim",
           ("sample", "jax.nn.initializers.variance_scaling(1.0, 'fan_geo_avg', 'normal')", "--shape", "3,0",
            "--seed", "0", "--out", "w.npy"), 1, ("`shape`", "(3, 0)", "ZeroDivisionError")),
    CliRow("cli-explain-mindspore-zero-fan", ("explain", "mindspore.common.initializer.HeNormal()", "--shape",
                                              "3,0"), 1, ("`shape`", "(3, 0)", "n = 0")),
    # item 6: integers beyond float64
    CliRow("cli-explain-scale-int-beyond-float",
           ("explain", "keras.initializers.VarianceScaling(scale=" + "9" * 400 + ")", "--shape", "3,3"), 1,
           ("`scale`", "too large for a float")),
    CliRow("cli-sample-json-scale-int-beyond-float",
           ("sample", '{"class_name": "VarianceScaling", "config": {"scale": ' + "9" * 400 + "}}", "--shape", "3,3",
            "--seed", "0", "--out", "w.npy"), 1, ("`scale`", "too large for a float")),
    CliRow("cli-sample-zero-size-huge-dim",
           ("sample", "glorot_normal", "--shape", "0," + "9" * 400, "--seed", "0", "--out", "w.npy"), 1,
           ("`shape`", "2**63 - 1", "9" * 400)),
    CliRow("cli-init-zero-size-huge-dim",
           ("init", "--shapes", "s.json", "--rule", "*=glorot_normal", "--seed", "0", "--out", "c.safetensors"), 1,
           ("`shapes['a']`", "2**63 - 1"), files=(("s.json", '{"a": [0, ' + "9" * 400 + "]}"),)),
    # item 7: deeply nested JSON
    CliRow("cli-explain-deep-json", ("explain", '{"a": ' + "[" * 100_000 + "]" * 100_000 + "}", "--shape", "3,3"),
           2, ("SPEC", "nested too deeply")),
    CliRow("cli-sample-deep-json-config",
           ("sample", '{"class_name": "HeNormal", "config": ' + "[" * 100_000 + "]" * 100_000 + "}", "--shape",
            "3,3", "--seed", "0", "--out", "w.npy"), 2, ("SPEC", "nested too deeply")),
    CliRow("cli-init-deep-json-shapes",
           ("init", "--shapes", "s.json", "--rule", "*=he_normal", "--seed", "0", "--out", "c.safetensors"), 1,
           ("`shapes`", "nested too deeply", "'s.json'"),
           files=(("s.json", '{"a": ' + "[" * 100_000 + "]" * 100_000 + "}"),)),
    # item 8: malformed safetensors headers
    CliRow("cli-init-safetensors-header-list",
           ("init", "--shapes", "h.safetensors", "--rule", "*=he_normal", "--seed", "0", "--out", "c.safetensors"),
           1, ("`shapes`", "a JSON array", "'h.safetensors'"), files=(("h.safetensors", _safetensors_text([1, 2])),)),
    CliRow("cli-init-safetensors-header-string",
           ("init", "--shapes", "h.safetensors", "--rule", "*=he_normal", "--seed", "0", "--out", "c.safetensors"),
           1, ("`shapes`", "a JSON string"), files=(("h.safetensors", _safetensors_text("abc")),)),
    CliRow("cli-init-safetensors-entry-without-shape",
           ("init", "--shapes", "h.safetensors", "--rule", "*=he_normal", "--seed", "0", "--out", "c.safetensors"),
           1, ("`shapes`", "'w'", 'no "shape"'),
           files=(("h.safetensors", _safetensors_text({"w": {"dtype": "F32", "data_offsets": [0, 0]}})),)),
    CliRow("cli-init-safetensors-entry-not-object",
           ("init", "--shapes", "h.safetensors", "--rule", "*=he_normal", "--seed", "0", "--out", "c.safetensors"),
           1, ("`shapes`", "'w'", 'no "shape"'), files=(("h.safetensors", _safetensors_text({"w": [3, 3]})),)),
    CliRow("cli-init-safetensors-deep-header",
           ("init", "--shapes", "h.safetensors", "--rule", "*=he_normal", "--seed", "0", "--out", "c.safetensors"),
           1, ("`shapes`", "bad safetensors header"),
           files=(("h.safetensors", _safetensors_text(None, "[" * 100_000 + "]" * 100_000)),)),
    # item 12: shapes the source framework refuses
    CliRow("cli-explain-torch-rank-1", ("explain", "nn.init.kaiming_uniform_(w)", "--shape", "5"), 1,
           ("`shape`", "(5,)", "Fan in and fan out can not be computed for tensor with fewer than 2 dimensions")),
    CliRow("cli-translate-jax-rank-1", ("translate", "jax.nn.initializers.glorot_uniform()", "--to", "torch",
                                        "--shape", "5"), 1, ("`shape`", "(5,)", "1-dimensional weights tensor")),
    CliRow("cli-sample-mindspore-rank-1", ("sample", "XavierUniform(gain=2)", "--shape", "5", "--seed", "0",
                                           "--out", "w.npy"), 1, ("`shape`", "(5,)", "but got dimensions 1.")),
    # item 11: a translated number float64 cannot hold
    CliRow("cli-translate-underflowing-number",
           ("translate", "keras.initializers.RandomUniform(minval=-1e-200, maxval=1e-200)", "--to", "jax",
            "--shape", "4,4", "--numbers"), 1, ("'jax'", "float64")),
    # item 17: a tensor name that is not UTF-8
    CliRow("cli-init-lone-surrogate-name",
           ("init", "--shapes", "s.json", "--rule", "*=he_normal", "--seed", "0", "--out", "c.safetensors"), 1,
           ("`shapes`", "UTF-8", "'\\ud800'"), files=(("s.json", '{"\\ud800": [3, 3]}'),)),
    # item 18: plot bounds
    CliRow("cli-plot-bins-huge", ("plot", "he_normal", "--shape", "64,64", "--bins", "300000000", "--out", "h.png"),
           2, ("--bins", "300000000", "10000")),
    CliRow("cli-plot-zero-size", ("plot", "he_normal", "--shape", "0,64", "--out", "h.png"), 1,
           ("`shape`", "(0, 64)")),
]
