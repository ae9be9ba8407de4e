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
