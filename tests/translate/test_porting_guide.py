"""docs/porting-guide.md is generated from the translation table and up to date."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _generator():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("gen_porting_guide", ROOT / "scripts" / "gen_porting_guide.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_porting_guide_is_up_to_date() -> None:
    gen = _generator()
    committed = (ROOT / "docs" / "porting-guide.md").read_text(encoding="utf-8")
    assert committed == gen.generate(), "docs/porting-guide.md is stale: run python scripts/gen_porting_guide.py"


def test_porting_guide_covers_every_case_and_target() -> None:
    gen = _generator()
    text = gen.generate()
    for case in gen.CASES:
        assert f"### {case.id}\n" in text
    for name in gen._NAMES.values():
        assert f"| {name} |" in text


def test_guide_rows_run_in_both_frameworks() -> None:
    """Every row of the "Port a model" tables: the source runs in its framework, the code in the target's."""
    import math

    import numpy as np

    import varscale as vs
    from translate.test_other_inits import _check, _runnable
    from translate.test_table import _check_sample, _draw

    gen = _generator()
    for _title, target, _intro, rows, _outro in gen.PAIRS:
        for part, source in rows:
            spec = vs.parse(source)
            shape = (48, 64) if spec.layout == "tf" else (64, 48)
            tr = vs.translate(spec, target, shape)
            assert tr.verdict == "exact", (part, source, tr.verdict, tr.notes)
            src = _draw(spec.framework, _runnable(source), shape, 3)
            got = _draw(target, tr.code, tr.target_shape, 4)
            d = spec.describe(shape)
            if spec.family in ("constant", "orthogonal", "identity"):
                _check(src, spec, shape, spec.layout, f"{source} in {spec.framework}")
                _check(got, spec, tr.target_shape, tr.target_layout, f"{tr.code} in {target}")
                if spec.family == "orthogonal":
                    assert math.isclose(float(np.sqrt(np.mean(got.astype(np.float64) ** 2))), d["std"],
                                        rel_tol=1e-4)
                continue
            _check_sample(src.ravel(), d, spec, f"{source} in {spec.framework}")
            _check_sample(got.ravel(), d, spec, f"{tr.code} in {target}")
