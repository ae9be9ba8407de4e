"""Every package the run requires must import: no silent skips in CI."""

from __future__ import annotations

import importlib

import pytest

from _support import required


@pytest.mark.parametrize("name", sorted(required()) or ["numpy"])
def test_required_package_imports(name: str) -> None:
    importlib.import_module(name)
