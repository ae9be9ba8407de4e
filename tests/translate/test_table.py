"""The translation table, executed in the real frameworks.

Every case of ``cases.py`` is parsed, explained and translated to every target.
The source expression runs in its own framework (its samples are the
reference); each translation's code runs in the target framework on the same
layer's weight in the target's own layout; then

* the sample std is within sampling error of the source's exact std
  (``_stats.variance_ok``), for the target's and the source's samples alike;
* the bounds are equal: the translated code, parsed back, has the source's
  std and bounds to 1e-9, and no sample lies outside them;
* a two-sample KS test of target against source samples gives p > 1e-6;

or, when the verdict is ``"impossible"``, the code (the closest choice) runs,
has the std the notes claim (std error +0.000 %) and different bounds.

Where a framework cannot be run here, and what is done instead:

* **TF contrib** left TensorFlow in 2.0 and no TF 1.x wheel installs on the
  supported Pythons. ``_contrib_layers`` below is the TF 1.15 contrib code
  path as semantics.md §1 gives it (float fans; ``uniform``:
  ``tf.random.uniform(±sqrt(3·factor/n))``; else
  ``tf.random.truncated_normal(0, sqrt(1.3·factor/n))``) on TF 2 ops, the
  ops contrib itself calls; contrib sources and targets run through it.
* **TF ≤ 1.9** (cases with ``tf_version="1.9"``): its ``"normal"`` is
  ``random_ops.truncated_normal(0, sqrt(scale/n))`` without the 0.8796
  correction; it runs as ``tf.compat.v1.truncated_normal_initializer`` with
  that stddev (the same op).
* **tf.keras 2**: ``tf_keras`` is not installed, and in TF 2.21 ``tf.keras`` is
  Keras 3. The tf.keras-2 code uses only ``VarianceScaling``, the presets,
  ``RandomNormal``, ``TruncatedNormal`` and ``RandomUniform``, whose
  distributions are identical in tf.keras 2.x and Keras 3 (semantics.md §3b,
  §4), so it runs under TF 2.21's ``tf.keras``.
* **TF1 core** code (``tf.compat.v1.…``) runs eagerly under TF 2.21.
* **Flax**: ``flax.linen.initializers`` re-exports ``jax.nn.initializers``
  (the same functions, semantics.md §6b); when flax is not installed,
  ``flax.linen.initializers.…`` runs on ``jax.nn.initializers``.
"""

from __future__ import annotations

import ast
import importlib
import json
import math
import types
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import varscale as vs
from _stats import variance_ok
from _support import need
from translate.cases import CASES, Case
from varscale._parse import Spec
from varscale._translate import TARGETS, Translation, to_layout, translate

N_SEED = 20260


def _kurt_name(spec: Spec) -> str:
    if spec.family == "uniform":
        return "uniform"
    if spec.family == "untruncated_normal" or spec.cut > 5:
        return "untruncated_normal"
    assert spec.cut == 2.0, spec
    return "truncated_normal"


# ---------------------------------------------------------------------------
# Framework runners: evaluate an expression in the real framework, draw.
# ---------------------------------------------------------------------------


def _contrib_layers(tf: Any) -> Any:
    """TF 1.15's contrib ``variance_scaling_initializer`` on TF 2 ops (see the module docstring)."""

    def variance_scaling_initializer(factor: float = 2.0, mode: str = "FAN_IN", uniform: bool = False,
                                     seed: Any = None, dtype: Any = None) -> Callable[..., Any]:
        if mode not in ["FAN_IN", "FAN_OUT", "FAN_AVG"]:
            raise TypeError("Unknown mode %s [FAN_IN, FAN_OUT, FAN_AVG]", mode)

        def _initializer(shape: Any, dtype: Any = tf.float32, partition_info: Any = None) -> Any:
            if shape:
                fan_in = float(shape[-2]) if len(shape) > 1 else float(shape[-1])
                fan_out = float(shape[-1])
            else:
                fan_in = fan_out = 1.0
            for dim in shape[:-2]:
                fan_in *= float(dim)
                fan_out *= float(dim)
            if mode == "FAN_IN":
                n = fan_in
            elif mode == "FAN_OUT":
                n = fan_out
            else:
                n = (fan_in + fan_out) / 2.0
            if uniform:
                limit = math.sqrt(3.0 * factor / n)
                return tf.random.uniform(shape, -limit, limit, dtype, seed=seed)
            trunc_stddev = math.sqrt(1.3 * factor / n)
            return tf.random.truncated_normal(shape, 0.0, trunc_stddev, dtype, seed=seed)

        return _initializer

    def xavier_initializer(uniform: bool = True, seed: Any = None, dtype: Any = None) -> Callable[..., Any]:
        return variance_scaling_initializer(1.0, "FAN_AVG", uniform, seed, dtype)

    return types.SimpleNamespace(
        variance_scaling_initializer=variance_scaling_initializer,
        xavier_initializer=xavier_initializer,
        xavier_initializer_conv2d=xavier_initializer,
    )


class _TF:
    """``tf`` for code: TF 2.21, plus ``tf.contrib.layers`` (above) and TF1 top-level names."""

    def __init__(self, tf: Any) -> None:
        self._tf = tf
        self.contrib = types.SimpleNamespace(layers=_contrib_layers(tf))

    def __getattr__(self, name: str) -> Any:
        if hasattr(self._tf, name):
            return getattr(self._tf, name)
        return getattr(self._tf.compat.v1, name)  # TF1 spellings: tf.variance_scaling_initializer, ...


def _run(code: str, ns: dict[str, Any]) -> Any:
    """Run a translation: a one-line expression, or a snippet whose last line is the result."""
    *head, last = code.splitlines()
    if head:
        exec("\n".join(head), ns)
    return eval(last, ns)


def _resolved(code: str, ns: dict[str, Any]) -> str:
    """The snippet's last line with the numbers its lines computed for ``ns`` (``w`` or ``shape``) put in."""
    *head, last = code.splitlines()
    if not head:
        return code
    ns = dict(ns, math=math)
    exec("\n".join(head), ns)

    class _Put(ast.NodeTransformer):
        def visit_Name(self, node: ast.Name) -> Any:
            v = ns.get(node.id)
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                return ast.copy_location(ast.Constant(float(v)), node)
            return node

    return ast.unparse(_Put().visit(ast.parse(last, mode="eval")))


def _np(x: Any) -> np.ndarray:
    if hasattr(x, "detach"):
        return x.detach().cpu().numpy().astype(np.float64)
    if hasattr(x, "asnumpy"):
        return x.asnumpy().astype(np.float64)
    return np.asarray(x, dtype=np.float64)


def _draw(framework: str, code: str, shape: tuple[int, ...], seed: int, tf_version: str | None = None) -> np.ndarray:
    """Evaluate ``code`` (one expression) in ``framework`` and draw a ``shape`` sample."""
    if framework in ("keras", "tf.keras", "tf1", "tf_contrib"):
        tf = need("tensorflow")
        keras = need("keras")
        keras.utils.set_random_seed(seed)
        if tf_version is not None:
            return _draw_tf19(tf, code, shape, tf_version)
        if code.lstrip().startswith("{"):
            obj = keras.initializers.deserialize(json.loads(code))
        else:
            obj = eval(code, {"tf": _TF(tf), "keras": keras, "math": math})
        return _np(obj(list(shape)) if framework in ("tf1", "tf_contrib") else obj(shape))
    if framework == "torch":
        torch = need("torch")
        torch.manual_seed(seed)
        w = torch.empty(shape, dtype=torch.float32)
        out = _run(code, {"torch": torch, "nn": torch.nn, "math": math, "w": w, "varscale": vs})
        assert out is w
        return _np(w)
    if framework == "jax":
        jax = need("jax")
        try:
            import flax.linen as flax_linen

            flax_ns: Any = types.SimpleNamespace(linen=flax_linen)
        except ImportError:
            flax_ns = types.SimpleNamespace(linen=types.SimpleNamespace(initializers=jax.nn.initializers))
        init = eval(code, {"jax": jax, "flax": flax_ns, "math": math})
        return _np(init(jax.random.key(seed), shape))
    if framework == "mindspore":
        ms = need("mindspore")
        msinit = need("mindspore.common.initializer")
        np.random.seed(seed % 2**32)  # noqa: NPY002 - MindSpore draws its seeds from the legacy global RNG
        names = {k: getattr(msinit, k) for k in ("initializer", "XavierUniform", "XavierNormal", "HeUniform",
                                                 "HeNormal", "VarianceScaling", "TruncatedNormal", "Normal",
                                                 "Uniform", "Zero", "One", "Constant", "Orthogonal", "Identity")}
        obj = _run(code, {"mindspore": ms, "math": math, "shape": list(shape), **names})
        if not isinstance(obj, msinit.Initializer):
            return _np(obj.init_data())
        return _np(msinit.initializer(obj, list(shape), ms.float32).init_data())
    assert framework == "varscale", framework
    if code.lstrip().startswith("{"):
        obj = vs.deserialize(json.loads(code))
    elif code.startswith("varscale.compat.torch.nn.init."):
        importlib.import_module("varscale.compat.torch.nn.init")  # makes varscale.compat an attribute
        w = np.empty(shape, dtype=np.float32)
        assert eval(code, {"varscale": vs, "math": math, "w": w}) is w
        return w.astype(np.float64)
    else:
        obj = eval(code, {"varscale": vs, "vs": vs, "math": math, "numpy": np})
    if not isinstance(obj, vs.VarianceScaling):  # zeros/ones/constant/orthogonal, or a function of the shape
        return _np(obj(shape) if not hasattr(obj, "get_config") else obj(shape, dtype="float64"))
    obj = type(obj).from_config(dict(obj.get_config(), seed=seed))
    return _np(obj(shape))


def _draw_tf19(tf: Any, code: str, shape: tuple[int, ...], tf_version: str) -> np.ndarray:
    spec = vs.parse(code, tf_version=tf_version)
    assert spec.uncorrected, spec
    fi, fo = spec.fans(shape)
    stddev = math.sqrt((spec.scale or 0.0) / spec.n(fi, fo))  # TF ≤ 1.9: truncated_normal(0, sqrt(scale/n))
    return _np(tf.compat.v1.truncated_normal_initializer(stddev=stddev)(list(shape)))


# ---------------------------------------------------------------------------


_SOURCE_CACHE: dict[str, np.ndarray] = {}


def _source_sample(case: Case, spec: Spec) -> np.ndarray:
    if case.id not in _SOURCE_CACHE:
        x = _draw(spec.framework, case.source, case.shape, N_SEED, case.tf_version)
        assert x.shape == case.shape
        _SOURCE_CACHE[case.id] = x.ravel()
    return _SOURCE_CACHE[case.id]


def _check_sample(x: np.ndarray, d: dict[str, Any], spec: Spec, what: str) -> None:
    ok, msg = variance_ok(x - d.get("mean", 0.0), d["variance"], _kurt_name(spec))  # about the known mean
    assert ok, f"{what}: {msg}"
    lo, hi = d["bounds"]
    if math.isfinite(hi):
        tol = abs(hi) * 2e-6 + 1e-12
        assert x.max() <= hi + tol and x.min() >= lo - tol, f"{what}: sample outside bounds [{lo}, {hi}]"


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_source_parses_explains_and_matches_its_framework(case: Case) -> None:
    spec = vs.parse(case.source, tf_version=case.tf_version)
    d = spec.describe(case.shape)
    assert d["std"] > 0 and d["fan_in"] > 0
    x = _source_sample(case, spec)
    _check_sample(x, d, spec, f"{spec.framework} source")


@pytest.mark.parametrize("numbers", [False, True], ids=["generic", "numbers"])
@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_translation_runs_in_target_and_matches_source(case: Case, target: str, numbers: bool) -> None:
    spec = vs.parse(case.source, tf_version=case.tf_version)
    tr: Translation = translate(spec, target, case.shape, numbers=numbers)
    if numbers:  # the numbers for this one shape: no snippet (a function only where the target has no call)
        assert "\n" not in tr.code, tr.code
        assert not tr.code.startswith("lambda") or spec.mean != 0.0, tr.code
    # the verdict says what the notes explain: "impossible" exactly when a note names the closest choice
    assert (tr.verdict == "impossible") == any(n.startswith("impossible") for n in tr.notes), (tr.verdict, tr.notes)
    assert tr.target_shape is not None
    src = spec.describe(case.shape)
    # the translated code, parsed back, describes the same layer's fans (a snippet: its last line, with the
    # numbers its lines compute for this weight)
    ns = {"w": types.SimpleNamespace(shape=tr.target_shape), "shape": list(tr.target_shape)}
    if tr.code.startswith("lambda "):  # an initializer function (jax's symmetric uniform): the samples decide
        assert tr.verdict == ("exact" if not spec.fan_based else "exact_for_shape"), (tr.verdict, tr.code)
        x = _draw(target, tr.code, tr.target_shape, N_SEED + 1 + TARGETS.index(target)).ravel()
        _check_sample(x, src, spec, f"{target} translation")
        p = need("scipy.stats").ks_2samp(x, _source_sample(case, spec)).pvalue
        assert p > 1e-6, f"KS p={p:.3g}: {target} samples differ from {spec.framework}'s ({tr.code})"
        return
    back = vs.parse(_resolved(tr.code, ns))
    if back.fan_based and back.jax_axes is None and spec.jax_axes is None and "\n" not in tr.code:
        assert back.fans(tr.target_shape) == spec.fans(case.shape), (tr.code, tr.target_shape)
    got = back.describe(tr.target_shape)
    x = _draw(target, tr.code, tr.target_shape, N_SEED + 1 + TARGETS.index(target)).ravel()
    assert x.size == math.prod(case.shape)
    if tr.verdict == "impossible":
        assert any("impossible" in n and "std error +0.000 %" in n for n in tr.notes), tr.notes
        assert math.isclose(got["std"], src["std"], rel_tol=1e-9), (got, src)
        assert got["bounds"] != pytest.approx(src["bounds"], rel=1e-6), "an impossible verdict with equal bounds"
        _check_sample(x, got, back, f"{target} closest choice")
        return
    assert math.isclose(got["std"], src["std"], rel_tol=1e-9), (tr.code, got["std"], src["std"])
    assert got["family"] == src["family"]
    for a, b in zip(got["bounds"], src["bounds"], strict=True):
        assert a == b or math.isclose(a, b, rel_tol=1e-9), (got["bounds"], src["bounds"])
    _check_sample(x, src, spec, f"{target} translation")
    scipy_stats = need("scipy.stats")
    ref = _source_sample(case, spec)
    p = scipy_stats.ks_2samp(x, ref).pvalue
    assert p > 1e-6, f"KS p={p:.3g}: {target} samples differ from {spec.framework}'s ({tr.code})"


def test_table_size_and_coverage() -> None:
    frameworks = {vs.parse(c.source, tf_version=c.tf_version).framework for c in CASES}
    assert len(CASES) >= 60
    assert frameworks == set(TARGETS)
    verdicts = {translate(vs.parse(c.source, tf_version=c.tf_version), t, c.shape, numbers=True).verdict
                for c in CASES for t in TARGETS}
    assert verdicts == {"exact", "exact_for_shape", "impossible"}


def test_known_numbers() -> None:
    """semantics.md's headline numbers, through parse/translate."""
    contrib = vs.translate("tf.contrib.layers.variance_scaling_initializer()", to="keras")
    assert contrib.verdict == "exact" and "scale=2.0117273892" in contrib.code
    assert any("0.293 % above" in n for n in contrib.notes)
    he = vs.translate("keras.initializers.HeNormal()", to="tf_contrib")
    assert "factor=1.98834" in he.code and any("+0.293 %" in n for n in he.notes)
    d = vs.parse("tf.contrib.layers.variance_scaling_initializer()").describe((3, 3, 64, 128))
    assert round(d["param_std"], 6) == 0.067185 and round(d["bounds"][1], 6) == 0.134371
    assert round(d["std"], 6) == 0.059098
    d19 = vs.parse("tf.variance_scaling_initializer(scale=2.0)", tf_version="1.9").describe((3, 3, 64, 128))
    assert round(d19["std"], 6) == 0.051832
    torch_default = vs.parse("nn.init.kaiming_uniform_(w, a=math.sqrt(5))").describe((128, 64, 3, 3))
    assert round(torch_default["limit"], 6) == 0.041667
    ms = vs.parse("mindspore.common.initializer.VarianceScaling(1.0, 'fan_in', 'truncated_normal')")
    assert ms.family == "uniform" and ms.mindspore_uniform_bug
    t = vs.translate("torch.nn.init.xavier_normal_(w)", to="tf_contrib", shape=(100, 200))
    assert t.verdict == "impossible"


def test_layout_is_stated() -> None:
    t = vs.translate("keras.initializers.HeUniform()", to="torch", shape=(3, 3, 64, 128))
    assert t.target_shape == (128, 64, 3, 3)
    assert any("OIHW" in n and "HWIO" in n for n in t.notes)
    t = vs.translate("torch.nn.init.xavier_uniform_(w)", to="keras", shape=(128, 64))
    assert t.target_shape == (64, 128)


def test_shape_needed_for_shape_dependent_numbers() -> None:
    with pytest.raises(vs.InvalidArgumentError, match="shape"):
        vs.translate("keras.initializers.HeNormal()", to="torch", numbers=True)
    # without numbers: a snippet exact for every shape, not an error
    t = vs.translate("keras.initializers.HeNormal()", to="torch")
    assert t.verdict == "exact" and "trunc_normal_(w" in t.code and "math.prod(w.shape[1:])" in t.code
    assert t.alternative == "w.copy_(torch.from_numpy(varscale.HeNormal(layout='torch')(tuple(w.shape))))"


_SHAPES_TF = [(7, 5), (1, 9), (3, 3, 16, 32), (5, 2, 4, 9), (2, 2, 2, 3, 4)]


def _generic(c: Case) -> bool:
    s = vs.parse(c.source, tf_version=c.tf_version)
    return s.fan_based and s.jax_axes is None  # JAX's named axes: numbers for one shape


_GENERIC = [c for c in CASES if _generic(c)]


@pytest.mark.parametrize("target", ["torch", "mindspore"])
@pytest.mark.parametrize("case", _GENERIC, ids=[c.id for c in _GENERIC])
def test_snippets_are_exact_for_every_shape(case: Case, target: str) -> None:
    """A shape-generic snippet gives the source's std and bounds on every layer, not only the case's."""
    spec = vs.parse(case.source, tf_version=case.tf_version)
    tr = translate(spec, target)
    if "\n" not in tr.code:
        return
    assert tr.verdict == "exact" and (tr.alternative is not None or spec.mode == "fan_geo_avg")  # varscale: no geo
    src_layout = spec.layout if isinstance(spec.layout, str) else "tf"
    for tf_shape in _SHAPES_TF:
        shape = tf_shape if src_layout == "tf" else to_layout(tf_shape, "tf", "torch")
        tshape = to_layout(shape, src_layout, "torch")
        ns = {"w": types.SimpleNamespace(shape=tshape), "shape": list(tshape)}
        got = vs.parse(_resolved(tr.code, ns)).describe(tshape)
        want = spec.describe(shape)
        assert math.isclose(got["std"], want["std"], rel_tol=1e-12), (tr.code, shape)
        for a, b in zip(got["bounds"], want["bounds"], strict=True):
            assert a == b or math.isclose(a, b, rel_tol=1e-12), (tr.code, shape, got["bounds"], want["bounds"])
    if target == "torch":  # the snippet and its alternative line run in torch and stay in the bounds
        torch = need("torch")
        for tf_shape in _SHAPES_TF[2:4]:
            shape = tf_shape if src_layout == "tf" else to_layout(tf_shape, "tf", "torch")
            tshape = to_layout(shape, src_layout, "torch")
            lo, hi = spec.describe(shape)["bounds"]
            for code in (c for c in (tr.code, tr.alternative) if c is not None):
                w = torch.empty(tshape)
                _run(code, {"torch": torch, "math": math, "w": w, "varscale": vs})
                x = _np(w)
                assert np.isfinite(x).all() and x.std() > 0
                if math.isfinite(hi):
                    assert x.max() <= hi * (1 + 1e-6) and x.min() >= lo * (1 + 1e-6), (code, tshape)
