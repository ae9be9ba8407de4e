"""The examples in the scale-out modules' docstrings run and give what they show."""

from __future__ import annotations

import doctest
import importlib

import pytest

from _support import need

MODULES = [("varscale.io", ["safetensors", "zarr", "dask"]), ("varscale.dask", ["dask"]),
           ("varscale.torch", ["torch"]), ("varscale.jax", ["jax", "flax"]),
           ("varscale.keras", ["keras"]), ("varscale._report", [])]


@pytest.mark.parametrize(("name", "needs"), MODULES, ids=[m for m, _ in MODULES])
def test_doctests(name: str, needs: list[str]) -> None:
    for package in needs:
        need(package)
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS, verbose=False)
    assert result.attempted > 0
    assert result.failed == 0
