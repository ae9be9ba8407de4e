"""Packaging: no framework at import, the public API, docs coverage, doctests, CLI entry points."""

from __future__ import annotations

import importlib
import importlib.metadata
import json
import subprocess
import sys
from pathlib import Path

import varscale as vs

ROOT = Path(__file__).resolve().parents[1]
# scipy is not listed: Numba itself imports it when it is installed (its linalg support)
HEAVY = ["torch", "jax", "tensorflow", "keras", "mindspore", "dask", "distributed", "zarr", "safetensors", "matplotlib"]


def test_import_varscale_imports_no_framework() -> None:
    code = (
        "import sys, json, varscale as vs; "
        "vs.HeNormal(seed=0)((8, 8)); vs.get('glorot_uniform'); "
        f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []


def test_import_varscale_loads_neither_numba_nor_ml_dtypes() -> None:
    """``import varscale`` stays light (issue 12): Numba, llvmlite and ml_dtypes load only when a draw needs them."""
    code = (
        "import sys, json, varscale as vs; "
        "print(json.dumps([m for m in ('numba', 'llvmlite', 'ml_dtypes') if m in sys.modules]))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []


def test_version_matches_metadata() -> None:
    assert importlib.metadata.version("varscale") == vs.__version__


def test_all_is_unique_and_importable() -> None:
    # the order is ruff's (RUF022, isort style: constants, classes, functions)
    assert len(set(vs.__all__)) == len(vs.__all__)
    for name in vs.__all__:
        assert hasattr(vs, name), name


def test_every_public_name_is_documented() -> None:
    text = "\n".join(p.read_text() for p in (ROOT / "docs").glob("*.md"))
    missing = [n for n in vs.__all__ if n not in ("__version__",) and n not in text]
    assert not missing, f"not mentioned in docs/: {missing}"





def test_python_m_varscale_help() -> None:
    out = subprocess.run([sys.executable, "-m", "varscale", "--help"], capture_output=True, text=True)
    assert out.returncode == 0
    assert "explain" in out.stdout and "sample" in out.stdout
