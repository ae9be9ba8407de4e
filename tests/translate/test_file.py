"""``varscale translate --file``: every initializer expression of a real model file, found with ast only."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

import varscale as vs
from _support import need
from translate.test_table import _check_sample, _np, _run
from varscale._translate import find_initializers, to_layout, translate_file
from varscale.cli import main

FIXTURES = Path(__file__).parent / "fixtures"


def test_finds_every_expression_in_real_model_files() -> None:
    keras_rows = find_initializers((FIXTURES / "keras_deeplabv3_plus.py").read_text())
    assert keras_rows == [(11, "kernel_initializer=keras.initializers.HeNormal()"),
                          (18, 'kernel_initializer="glorot_uniform"'), (19, 'bias_initializer="zeros"')]
    flax_rows = find_initializers((FIXTURES / "flax_dense.py").read_text())
    assert [r[1] for r in flax_rows] == [
        "initializers.lecun_normal()", "initializers.zeros", "kernel_init=nn.initializers.he_normal()",
        'kernel_init=nn.initializers.variance_scaling(1.0, "fan_in", "truncated_normal")']
    torch_rows = find_initializers((FIXTURES / "torchvision_resnet_init.py").read_text())
    assert [r[0] for r in torch_rows] == [11, 13, 14, 16, 17, 21]
    assert torch_rows[0][1] == 'nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")'


def test_nothing_is_run() -> None:
    text = "import os\nos.system('touch /tmp/pwned')\nDense(4, kernel_initializer=__import__('os').getcwd())"
    assert find_initializers(text) == []
    with pytest.raises(vs.InvalidArgumentError, match="not valid Python"):
        find_initializers("def (:")


@pytest.mark.parametrize("target", ["torch", "jax", "keras", "mindspore"])
def test_translations_and_summary(target: str) -> None:
    rows = translate_file((FIXTURES / "torchvision_resnet_init.py").read_text(), target)
    verdicts = {r.line: r.verdict for r in rows}
    assert verdicts[17] == "untranslated" and "dirac_" in rows[4].notes[0]
    assert all(v == "exact" for line, v in verdicts.items() if line != 17), verdicts


_SHAPE_TORCH = (64, 32, 3, 3)


@pytest.mark.parametrize("fixture", ["keras_deeplabv3_plus.py", "flax_dense.py", "torchvision_resnet_init.py"])
def test_translations_to_torch_run_and_match_the_source_law(fixture: str) -> None:
    torch = need("torch")
    torch.manual_seed(0)
    for row in translate_file((FIXTURES / fixture).read_text(), "torch"):
        if row.code is None:
            continue
        spec = vs.parse(row.source)
        src_layout = spec.layout if isinstance(spec.layout, str) else "tf"
        shape = to_layout(_SHAPE_TORCH, "torch", src_layout)
        w = torch.empty(_SHAPE_TORCH)
        _run(row.code, {"torch": torch, "math": math, "w": w})
        x = _np(w).ravel()
        d = spec.describe(shape)
        if spec.family == "constant":
            assert np.all(x == d["value"]), row
        else:
            _check_sample(x, d, spec, f"line {row.line}: {row.code}")


def test_cli_file_table_and_json(capsys: pytest.CaptureFixture[str]) -> None:
    path = str(FIXTURES / "torchvision_resnet_init.py")
    assert main(["translate", "--file", path, "--to", "pytorch"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("| line | source | torch | verdict |")
    assert "6 initializer expression(s); 5 translated, 1 not translated" in out and "- line 17:" in out
    assert main(["translate", "--file", path, "--to", "flax", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["target"] == "jax" and d["untranslated"] == 1 and len(d["rows"]) == 6
    assert d["rows"][0]["code"] == "jax.nn.initializers.variance_scaling(2.0, 'fan_out', 'normal')"


def test_cli_file_usage_errors(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["translate", "he_normal", "--file", "x.py", "--to", "torch"]) == 2
    assert "either SPEC or --file" in capsys.readouterr().err
    assert main(["translate", "--to", "torch"]) == 2
    capsys.readouterr()
    assert main(["translate", "--file", str(FIXTURES / "missing.py"), "--to", "torch"]) == 1
    assert "cannot be read" in capsys.readouterr().err


def test_flax_wrapped_and_uncalled_initializers_are_found() -> None:
    text = (
        "x = nn.LayerNorm(bias_init=nn.with_logical_partitioning(nn.initializers.zeros, ('embed',)))(x)\n"
        "b = self.param('bias', nn.initializers.ones, (4,))\n"
        "e = nn.Embed(10, 4, embedding_init=nn.with_partitioning(nn.initializers.normal(stddev=1.0), ('v', 'e')))\n"
        "pe = sinusoidal_init(max_len=8)(None, (1, 8, 4), None)\n"  # a custom initializer: not a framework's
        "f = nn.initializers.zeros.__name__\n"
    )
    rows = translate_file(text, "torch")
    assert [(r.line, r.source, r.code) for r in rows[:3]] == [
        (1, "nn.initializers.zeros", "torch.nn.init.zeros_(w)"),
        (2, "nn.initializers.ones", "torch.nn.init.ones_(w)"),
        (3, "nn.initializers.normal(stddev=1.0)", "torch.nn.init.normal_(w, mean=0.0, std=1.0)"),
    ]


def test_dicts_of_layer_arguments() -> None:
    text = "kw = {'kernel_initializer': 'he_normal', 'bias_initializer': tf.constant_initializer(0.1), 'name': 'x'}"
    rows = translate_file(text, "keras")
    assert [(r.source, r.code) for r in rows] == [
        ("kernel_initializer='he_normal'", "keras.initializers.HeNormal()"),
        ("bias_initializer=tf.constant_initializer(0.1)", "keras.initializers.Constant(value=0.1)"),
    ]
    assert vs.parse("'kernel_initializer': 'he_normal'").call == "HeNormal"
