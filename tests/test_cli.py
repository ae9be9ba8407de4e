"""The command line: ``varscale.cli.main(argv)`` output and exit codes."""

from __future__ import annotations

import json
import math
import struct
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import varscale as vs
from _support import need
from varscale.cli import main


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


# -- explain -------------------------------------------------------------------


def test_explain_framework_expression(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["explain", "tf.contrib.layers.variance_scaling_initializer()", "--shape", "3,3,64,128"],
                         capsys)
    assert code == 0, err
    assert "fan_in          576\n" in out and "fan_out         1152\n" in out
    assert "std (realized)  0.0590981\n" in out and "sigma'          0.0671855\n" in out
    assert "0.0590981" in out  # realized std, semantics.md §1
    assert "[-0.134371, 0.134371]" in out
    assert "sqrt(1.3·scale/n)" in out
    for target in vs._translate.TARGETS:
        assert f"\n  {target}" in out


def test_explain_json_has_every_equivalent(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["explain", "nn.init.kaiming_uniform_(w, a=math.sqrt(5))", "--shape", "128,64,3,3",
                        "--json"], capsys)
    assert code == 0
    d = json.loads(out)
    assert (d["fan_in"], d["fan_out"]) == (576, 1152)
    assert math.isclose(d["limit"], 1 / 24)
    assert d["equivalents"]["keras"]["verdict"] == "exact"
    assert d["equivalents"]["keras"]["shape"] == [3, 3, 64, 128]
    assert "scale=0.3333333333333333" in d["equivalents"]["keras"]["code"]


@pytest.mark.parametrize("spec", ["he_normal", "HeNormal", '{"class_name": "HeNormal", "config": {}}',
                                  "variance_scaling:scale=2,mode=fan_in,distribution=truncated_normal",
                                  "keras.initializers.HeNormal()", "jax.nn.initializers.he_normal()"])
def test_explain_spec_forms_agree(spec: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["explain", spec, "--shape", "3,3,64,128", "--json"], capsys)
    assert code == 0, err
    d = json.loads(out)
    assert round(d["std"], 6) == 0.058926 and round(d["param_std"], 6) == 0.066989


def test_explain_layout_for_varscale_specs(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["explain", "he_normal", "--shape", "128,64,3,3", "--layout", "torch", "--json"], capsys)
    assert code == 0 and json.loads(out)["fan_in"] == 576
    code, _, err = run(["explain", "nn.init.xavier_uniform_(w)", "--shape", "3,4", "--layout", "tf"], capsys)
    assert code == 2 and "--layout" in err


# -- translate -----------------------------------------------------------------


def test_translate_prints_code_and_verdict(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["translate", "nn.init.kaiming_normal_(w, mode='fan_out', nonlinearity='relu')",
                        "--to", "keras"], capsys)
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == ("keras.initializers.VarianceScaling(scale=2.0, mode='fan_out', "
                        "distribution='untruncated_normal')")
    assert lines[1] == "# verdict: exact"


def test_translate_json_shape_dependent(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["translate", "keras.initializers.HeNormal()", "--to", "torch", "--shape", "200,100",
                        "--numbers", "--json"], capsys)
    assert code == 0
    d = json.loads(out)
    assert d["verdict"] == "exact_for_shape" and d["target_shape"] == [100, 200]
    assert d["code"].startswith("torch.nn.init.trunc_normal_(w, mean=0.0, std=0.1136847")


def test_translate_errors(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(["translate", "he_normal", "--to", "caffe2"], capsys)
    assert code == 2 and "caffe2" in err
    code, _, err = run(["translate", "keras.initializers.HeNormal()", "--to", "torch", "--numbers"], capsys)
    assert code == 2 and "shape" in err and err.startswith("varscale translate: error:")
    code, _, err = run(["translate", "__import__('os').system('touch pwned')", "--to", "torch"], capsys)
    assert code == 1 and "__import__" in err and "column 1" in err
    code, _, err = run(["translate", "torch.nn.init.dirac_(w)", "--to", "keras"], capsys)
    assert code == 1 and "dirac_" in err


# -- sample --------------------------------------------------------------------


def test_sample_npy_and_overwrite(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "w.npy"
    argv = ["sample", "XavierUniform(gain=2)", "--shape", "64,32", "--seed", "5", "--out", str(out)]
    code, stdout, err = run(argv, capsys)
    assert code == 0, err
    assert "wrote" in stdout
    w = np.load(out)
    assert w.shape == (64, 32) and w.dtype == np.float32
    limit = 2 * math.sqrt(6 / (64 + 32))
    assert np.abs(w).max() <= limit
    again = np.load(out)
    before = out.read_bytes()
    code, _, err = run(argv, capsys)
    assert code == 1 and "--force" in err and out.read_bytes() == before
    code, _, _ = run([*argv, "--force", "--seed", "6"], capsys)
    assert code == 0 and not np.array_equal(np.load(out), again)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["w.npy"]  # no temporary files left


def test_sample_matches_library_bits(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "w.npy"
    code, _, err = run(["sample", "he_normal", "--shape", "300,70", "--seed", "11", "--out", str(out)], capsys)
    assert code == 0, err
    np.testing.assert_array_equal(np.load(out), vs.HeNormal(seed=11)((300, 70)))


def test_sample_progress_bar_for_large_outputs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "big.npy"
    code, _, err = run(["sample", "he_uniform", "--shape", "1024,512", "--seed", "1", "--out", str(out)], capsys)
    assert code == 0
    assert "100.0%" in err and "[" in err
    code, _, err = run(["sample", "he_uniform", "--shape", "16,8", "--seed", "1", "--out", str(tmp_path / "s.npy")],
                       capsys)
    assert code == 0 and err == ""


def test_sample_usage_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(["sample", "he_normal", "--shape", "3,3", "--seed", "0", "--out", str(tmp_path / "w.txt")],
                       capsys)
    assert code == 2 and "w.txt" in err
    code, _, err = run(["sample", "variance_scaling:scale=abc", "--shape", "3,3", "--seed", "0", "--out",
                        str(tmp_path / "w.npy")], capsys)
    assert code == 1 and "`scale`" in err and "abc" in err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("ext", ["safetensors", "zarr"])
def test_sample_other_formats(ext: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    need("varscale.io")
    need(ext)
    out = tmp_path / f"w.{ext}"
    code, _, err = run(["sample", "he_normal", "--shape", "40,30", "--seed", "2", "--out", str(out)], capsys)
    assert code == 0, err
    expect = vs.HeNormal(seed=2)((40, 30))
    if ext == "safetensors":
        from safetensors.numpy import load_file

        got = load_file(str(out))["weight"]
    else:
        import zarr

        got = np.asarray(zarr.open(str(out), mode="r")[...])
    np.testing.assert_array_equal(got, expect)


# -- plot ----------------------------------------------------------------------


def _png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    assert head[12:16] == b"IHDR"
    w, h = struct.unpack(">II", head[16:24])
    return w, h


def test_plot_png(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    need("matplotlib")
    out = tmp_path / "hist.png"
    code, stdout, err = run(["plot", "torch.nn.init.trunc_normal_(w, std=0.05, a=-0.1, b=0.1)", "--shape",
                             "200,100", "--out", str(out)], capsys)
    assert code == 0, err
    assert _png_size(out) == (800, 500)
    assert "800x500" in stdout
    import matplotlib.image

    img = matplotlib.image.imread(str(out))
    assert img.shape[:2] == (500, 800)
    assert img[..., :3].std() > 0  # something was drawn
    code, _, err = run(["plot", "he_normal", "--shape", "20,10", "--out", str(out)], capsys)
    assert code == 1 and "--force" in err


def test_plot_without_matplotlib(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")] + ["matplotlib"]:
        monkeypatch.setitem(sys.modules, name, None)  # as if it were not installed
    code, _, err = run(["plot", "he_normal", "--shape", "20,10", "--out", str(tmp_path / "h.png")], capsys)
    assert code == 1 and "matplotlib" in err and "pip install" in err
    assert list(tmp_path.iterdir()) == []


# -- init ----------------------------------------------------------------------


def _shapes(tmp_path: Path, shapes: dict[str, Any]) -> Path:
    p = tmp_path / "shapes.json"
    p.write_text(json.dumps(shapes))
    return p


def test_init_checkpoint(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    need("varscale.io")
    need("safetensors")
    from safetensors.numpy import load_file

    shapes = {"fc1.weight": [64, 32], "fc2.weight": [10, 64], "conv.weight": [16, 3, 3, 3]}
    out = tmp_path / "ckpt.safetensors"
    code, stdout, err = run(["init", "--shapes", str(_shapes(tmp_path, shapes)),
                             "--rule", "conv.*=nn.init.kaiming_normal_(w, mode='fan_out')",
                             "--rule", "*.weight=he_uniform", "--seed", "7", "--out", str(out)], capsys)
    assert code == 0, err
    assert "fc1.weight" in stdout and "conv.*" in stdout and "3 tensors" in stdout
    got = load_file(str(out))
    assert {k: list(v.shape) for k, v in got.items()} == shapes
    expect = vs.HeUniform(seed=vs.derive_stream(7, "fc1.weight"))((64, 32))
    np.testing.assert_array_equal(got["fc1.weight"], expect)
    # the header of the checkpoint is a shapes file too
    out2 = tmp_path / "again.safetensors"
    code, _, err = run(["init", "--shapes", str(out), "--rule", "*=he_uniform", "--seed", "7", "--out", str(out2)],
                       capsys)
    assert code == 0, err
    np.testing.assert_array_equal(load_file(str(out2))["fc2.weight"], got["fc2.weight"])


def test_init_dask_gives_the_same_bits(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    need("varscale.io")
    need("dask")
    need("safetensors")
    from safetensors.numpy import load_file

    shapes = _shapes(tmp_path, {"a.weight": [300, 200], "b.weight": [64, 3, 5, 5]})
    plain, viadask = tmp_path / "plain.safetensors", tmp_path / "dask.safetensors"
    argv = ["init", "--shapes", str(shapes), "--rule", "a.*=glorot_normal",
            "--rule", "*=nn.init.kaiming_uniform_(w, a=math.sqrt(5))", "--seed", "3"]
    assert main([*argv, "--out", str(plain)]) == 0
    assert main([*argv, "--out", str(viadask), "--dask"]) == 0
    capsys.readouterr()
    a, b = load_file(str(plain)), load_file(str(viadask))
    assert a.keys() == b.keys()
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])
    # the torch-syntax rule drew torch's default conv init on the (out, in, kh, kw) weight
    assert np.abs(a["b.weight"]).max() <= 1 / math.sqrt(3 * 5 * 5)


def test_init_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shapes = _shapes(tmp_path, {"a.weight": [4, 4], "b.bias": [4]})
    out = tmp_path / "c.safetensors"
    code, _, err = run(["init", "--shapes", str(shapes), "--rule", "*.weight=he_normal", "--seed", "0",
                        "--out", str(out)], capsys)
    assert code == 1 and "b.bias" in err and "no --rule" in err
    code, _, err = run(["init", "--shapes", str(shapes), "--rule", "nospec", "--seed", "0", "--out", str(out)],
                       capsys)
    assert code == 2 and "GLOB=SPEC" in err
    code, _, err = run(["init", "--shapes", str(tmp_path / "none.json"), "--rule", "*=he_normal", "--seed", "0",
                        "--out", str(out)], capsys)
    assert code == 1 and "`shapes`" in err
    assert not out.exists()


# -- usage ---------------------------------------------------------------------


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run([], capsys)
    assert code == 2 and "usage:" in err
    code, _, err = run(["explain", "he_normal"], capsys)
    assert code == 2 and "--shape" in err


def test_python_m_varscale_help() -> None:
    proc = subprocess.run([sys.executable, "-m", "varscale", "--help"], capture_output=True, text=True, timeout=120,
                          check=False)
    assert proc.returncode == 0, proc.stderr
    for command in ("explain", "translate", "sample", "plot", "init"):
        assert command in proc.stdout
