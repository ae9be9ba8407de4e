"""The examples in the docstrings of varscale.io's modules (the writers, verify, region plans) run and give
what they show: varscale.io re-exports them, so ``doctest.testmod(varscale.io)`` alone does not reach them."""

from __future__ import annotations

import doctest
import importlib

import pytest

from _support import need

MODULES = [("varscale._regions", []), ("varscale._sources", []), ("varscale._provenance", []),
           ("varscale._safetensors", ["safetensors"]), ("varscale._sharded", []), ("varscale._zarr", ["zarr", "dask"]), ("varscale._zarr_plan", []), ("varscale._resume", []),
           ("varscale._workers", []),
           ("varscale._verify", []), ("varscale._files", [])]


@pytest.mark.parametrize(("name", "needs"), MODULES, ids=[m for m, _ in MODULES])
def test_doctests(name: str, needs: list[str]) -> None:
    for package in needs:
        need(package)
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS, verbose=False)
    assert result.attempted > 0, f"{name} has no examples"
    assert result.failed == 0
