"""The CLI's modules: each one's examples run; SPEC texts read by ``varscale._forms``; the plot's grid."""

from __future__ import annotations

import importlib
import math
from pathlib import Path

import numpy as np
import pytest

import varscale as vs
from _support import need
from varscale._forms import (
    SpecSyntaxError,
    initializer_from_text,
    read,
    rule_from_text,
    rule_layout,
    with_seed,
)
from varscale.cli import main

MODULES = ["varscale._forms", "varscale._law", "varscale._cli_common", "varscale._cli_progress",
           "varscale._cli_explain", "varscale._cli_sample", "varscale._cli_init"]



@pytest.mark.parametrize("name", ["varscale.cli", *MODULES])
def test_no_cli_module_is_long(name: str) -> None:
    path = Path(importlib.import_module(name).__file__ or "")
    assert len(path.read_text(encoding="utf-8").splitlines()) <= 500


def test_library_modules_do_not_import_the_cli() -> None:
    src = Path(vs.__file__).parent
    for path in src.rglob("*.py"):
        if path.name == "__main__.py" or path.name.startswith("_cli") or path.name == "cli.py":
            continue
        text = path.read_text(encoding="utf-8")
        assert "from .cli import" not in text and "from varscale.cli import" not in text, path


# -- SPEC texts ------------------------------------------------------------------------------------------------


def test_spec_texts() -> None:
    assert initializer_from_text(" HeNormal ") == vs.HeNormal()
    assert initializer_from_text('{"class_name": "GlorotUniform", "config": {"seed": 4}}') == vs.GlorotUniform(seed=4)
    vsi = initializer_from_text("variance_scaling:scale=0.5,mode=fan_avg", seed=2, layout="torch")
    assert vsi.get_config() == vs.VarianceScaling(0.5, "fan_avg", seed=2, layout="torch").get_config()
    for bad, fragment in [('{"class_name": "HeNo', "not valid JSON"), ("variance_scaling:scale", "KEY=VALUE"),
                          ("zeros", "not a variance-scaling initializer")]:
        with pytest.raises(SpecSyntaxError, match=fragment):
            initializer_from_text(bad)
    with pytest.raises(vs.UnknownNameError, match="he_normal"):  # did you mean
        initializer_from_text("he_nromal")
    with pytest.raises(vs.InvalidArgumentError, match="`scale`"):
        initializer_from_text("variance_scaling:scale=abc")


def test_read_gives_the_spec_and_varscale_initializer() -> None:
    spec, init = read("he_normal")
    assert init == vs.HeNormal() and spec.framework == "varscale"
    spec, init = read("kaiming_normal")  # not varscale's: a framework's name
    assert init is None and spec.framework == "torch"
    spec, init = read('{"class_name": "RandomNormal", "config": {"mean": 1.0, "stddev": 0.5}}')  # Keras' config
    assert init is None and spec.mean == 1.0
    with pytest.raises(vs.UnknownNameError):
        read("he_nromal")
    with pytest.raises(SpecSyntaxError, match="JSON"):
        read('{"class_name": "HeNo')


def test_rule_texts() -> None:
    assert rule_from_text("  normal(std=0.02) ") == "normal(std=0.02)"
    assert isinstance(rule_from_text('{"class_name": "HeUniform", "config": {}}'), vs.HeUniform)
    assert [rule_layout(t) for t in ("nn.init.kaiming_uniform_(w)", "kaiming_normal_", "mindspore.common."
                                     "initializer.HeNormal()", "he_normal", "keras.initializers.HeNormal()",
                                     "normal(std=0.02)")] == ["torch", "torch", "torch", "tf", "tf", "tf"]
    assert with_seed(vs.HeNormal(seed=1)) == vs.HeNormal(seed=1)


# -- plot ----------------------------------------------------------------------------------------------------


def test_plot_grid_follows_the_mean() -> None:
    # the grid was mean-blind: ±4.5σ about 0, so N(1, 0.05²)'s density was drawn where it is 0
    from varscale._cli_sample import plot_grid
    from varscale._law import density

    spec = vs.parse("keras.initializers.RandomNormal(mean=1.0, stddev=0.05)")
    d = spec.describe((8, 8))
    grid = plot_grid(d["bounds"], d["mean"], d["std"])
    assert grid[0] < 1.0 - 4.5 * 0.05 and grid[-1] > 1.0 + 4.5 * 0.05
    assert float(np.trapezoid(density(spec, (8, 8), grid), grid)) == pytest.approx(1.0, abs=1e-4)
    g = plot_grid((-0.1, 0.1), 0.0, 0.05)  # a truncated law: its support, 5 % wider
    assert math.isclose(float(g[0]), -0.11) and math.isclose(float(g[-1]), 0.11)


def test_plot_of_a_law_with_a_mean(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    need("matplotlib")
    out = tmp_path / "h.png"
    code = main(["plot", "keras.initializers.RandomNormal(mean=1.0, stddev=0.05)", "--shape", "100,100",
                 "--out", str(out)])
    _, err = capsys.readouterr()
    assert code == 0, err
    assert out.exists()
    code = main(["plot", "nn.init.orthogonal_(w)", "--shape", "10,10", "--out", str(tmp_path / "o.png")])
    _, err = capsys.readouterr()
    assert code == 1 and "orthogonal" in err and "density" in err and not (tmp_path / "o.png").exists()
