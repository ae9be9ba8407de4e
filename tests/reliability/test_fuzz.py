"""Fuzzing of the config and source readers, bounded for CI, with a corpus.

Targets: :func:`varscale.deserialize` (JSON-like values and mutations of
valid configs), the CLI's SPEC reader (``varscale explain SPEC``, which takes
JSON configs and ``name:key=value`` specs) and, once it lands,
:func:`varscale.parse`. A target may refuse its input only with varscale's
documented errors (``VarscaleError`` subclasses, ``TypeError`` for wrong
types; the CLI with exit code 1 or 2 and no traceback).

Budget (derandomized: the ``ci`` profile): 6000 examples of ``deserialize``
(about 11 s on one CI core), 2000 CLI SPECs (about 6 s) and 6000 sources for
``parse``: about 30 s in all. ``HYPOTHESIS_PROFILE=dev`` (random, not
derandomized) fuzzes further by hand, a new run each time. The corpus in
``corpus/`` is replayed by :func:`test_corpus`: ``ok-*.json`` must load,
``bad-*.json`` must be refused, ``parse-*.txt`` must parse or be refused
(``parse-bad-*.txt`` must be refused).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import varscale as vs
from reliability.bad_inputs import need_api
from varscale import VarscaleError
from varscale.cli import main

CORPUS = Path(__file__).parent / "corpus"
ALLOWED = (VarscaleError, TypeError)
FUZZ = settings(max_examples=6000, suppress_health_check=[HealthCheck.too_slow], deadline=None)

json_leaves = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=12),
    st.sampled_from(["tf", "torch", "fan_in", "FAN_OUT", "uniform", "normal", "truncated_normal",
                     "HeNormal", "VarianceScaling", "seed", "stream"]),
)
json_values = st.recursive(
    json_leaves,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.sampled_from(["seed", "stream", "in_axis", "out_axis", "batch_axis", "x"]) | st.text(max_size=6),
                        children, max_size=4),
    ),
    max_leaves=12,
)
_GOOD = [vs.serialize(cls(seed=1)) for cls in (vs.HeNormal, vs.GlorotUniform)] + [
    vs.serialize(vs.VarianceScaling(2.0, "fan_out", "uniform", seed=vs.Stream(3, 4), layout=vs.Layout(0, 1)))
]
_CONFIG_KEYS = ["scale", "mode", "distribution", "seed", "layout", "stream_version", "class_name", "config"]


@st.composite
def mutated_configs(draw: st.DrawFn) -> Any:
    base = json.loads(json.dumps(draw(st.sampled_from(_GOOD))))
    target = base if draw(st.booleans()) else base["config"]
    for _ in range(draw(st.integers(1, 3))):
        op = draw(st.sampled_from(["set", "drop", "add"]))
        if op == "drop" and target:
            target.pop(draw(st.sampled_from(sorted(target))))
        elif op == "set" and target:
            target[draw(st.sampled_from(sorted(target)))] = draw(json_values)
        else:
            target[draw(st.sampled_from(_CONFIG_KEYS) | st.text(max_size=6))] = draw(json_values)
    return base


def _check_loaded(init: Any) -> None:
    """A config that loads must give a working, round-tripping initializer."""
    assert isinstance(init, vs.VarianceScaling)
    again = vs.deserialize(json.loads(json.dumps(vs.serialize(init))))
    assert again == init
    try:
        d = init.describe((3, 4, 5))
    except vs.InvalidArgumentError:
        assert isinstance(init.layout, vs.Layout)  # axes this shape does not have
        return
    assert math.isfinite(d.std) and d.std > 0


@FUZZ
@given(value=st.one_of(json_values, mutated_configs(),
                       st.fixed_dictionaries({"class_name": json_values, "config": json_values})))
def test_fuzz_deserialize(value: Any) -> None:
    try:
        init = vs.deserialize(value)
    except ALLOWED:
        return
    _check_loaded(init)


spec_texts = st.one_of(
    st.text(max_size=40),
    mutated_configs().map(json.dumps),
    mutated_configs().map(lambda c: json.dumps(c)[: len(json.dumps(c)) // 2]),  # truncated JSON
    st.builds(lambda n, kv: f"{n}:{kv}", st.sampled_from(["variance_scaling", "he_normal", "x"]),
              st.from_regex(r"([a-z_]{0,12}=[-a-zA-Z0-9_.]{0,8},?){0,3}", fullmatch=True)),
)


@settings(max_examples=2000, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(text=spec_texts)
def test_fuzz_cli_spec(text: str, capsys: pytest.CaptureFixture[str]) -> None:
    if text.startswith("-"):
        text = " " + text  # keep argparse from reading it as an option
    code = main(["explain", text, "--shape", "3,4,5", "--json"])
    err = capsys.readouterr().err
    assert code in (0, 1, 2), code
    assert "Traceback" not in err
    if code:
        assert err.startswith("varscale explain: error:") or "usage:" in err, err


parse_texts = st.one_of(
    st.text(max_size=60),
    st.sampled_from(sorted(p.read_text() for p in CORPUS.glob("parse-*.txt"))).flatmap(
        lambda s: st.integers(0, len(s)).map(lambda i: s[:i])  # every prefix of a corpus entry
    ),
    st.builds(lambda a, b: a + b, st.sampled_from(sorted(p.read_text() for p in CORPUS.glob("parse-*.txt"))),
              st.text(alphabet="()[]{}'\",.=_*", max_size=5)),
)


@FUZZ
@given(source=parse_texts)
def test_fuzz_parse(source: str) -> None:
    """Any text is either refused with a VarscaleError or read into a coherent Spec that describes and
    translates (or refuses, with a VarscaleError) — never another exception, never a half-built law."""
    parse = need_api("parse")
    try:
        spec = parse(source)
    except VarscaleError:
        return
    import math

    from varscale import frameworks
    from varscale._spec import FAMILIES

    assert spec.framework in frameworks.names() and spec.family in FAMILIES, spec
    try:
        d = spec.describe((8, 16))
    except VarscaleError:
        return
    assert (d["std"] >= 0 and math.isfinite(d["std"])) or d["family"] == "constant", d
    for target in ("keras", "torch", "varscale"):
        try:
            tr = need_api("translate")(spec, target, (8, 16))
        except VarscaleError:
            continue
        assert tr.target == target and tr.code.strip(), tr


def _corpus(pattern: str) -> list[Any]:
    return [pytest.param(p, id=p.name) for p in sorted(CORPUS.glob(pattern))]


def test_corpus_present() -> None:
    assert len(list(CORPUS.glob("ok-*.json"))) >= 3
    assert len(list(CORPUS.glob("bad-*.json"))) >= 10
    assert len(list(CORPUS.glob("parse-*.txt"))) >= 5


@pytest.mark.parametrize("path", _corpus("*.json"))
def test_corpus_deserialize(path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    raw = path.read_bytes()
    good = path.name.startswith("ok-")
    try:
        value = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError):
        assert not good, f"{path.name} must be valid JSON"
    else:
        if good:
            _check_loaded(vs.deserialize(value))
        else:
            with pytest.raises(ALLOWED):
                vs.deserialize(value)
    # the same text through the CLI, which also reads Keras JSON configs: a
    # good varscale config is explained, anything else is explained as Keras
    # or refused cleanly
    text = raw.decode("utf-8", errors="replace").strip()
    code = main(["explain", text or " ", "--shape", "3,4,5", "--json"])
    captured = capsys.readouterr()
    err = captured.err
    assert code in ((0,) if good else (0, 1, 2)), err
    assert "Traceback" not in err
    if not good and code == 0:
        # a bad varscale config may only be explained as another framework's (a Keras config), never as varscale's
        assert json.loads(captured.out)["framework"] != "varscale", (path.name, captured.out[:200])


@pytest.mark.parametrize("path", _corpus("parse-*.txt"))
def test_corpus_parse(path: Path) -> None:
    parse = need_api("parse")
    source = path.read_text()
    if path.name.startswith("parse-bad-"):
        with pytest.raises(VarscaleError):
            parse(source)
    else:
        parse(source)
