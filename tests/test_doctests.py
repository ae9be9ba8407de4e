"""Every module's docstring examples run (one runner for the whole package).

The walk finds every module of ``varscale`` outside the facades (``varscale.compat``, whose examples run in
each framework's conformance file with that framework's setup). A module must have examples: the only
exceptions are listed in :data:`NO_EXAMPLES` with the reason, and a new module without examples fails
:func:`test_every_module_is_walked`, so a runner that runs nothing can never pass for it.
"""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import varscale
from _support import need

#: Packages a module's examples use when they run (importing the module needs none of them).
NEEDS: dict[str, tuple[str, ...]] = {
    "varscale.io": ("safetensors", "zarr", "dask"),
    "varscale.dask": ("dask",),
    "varscale._safetensors": ("safetensors",),
    "varscale._zarr": ("zarr", "dask"),
    "varscale.torch": ("torch",),
    "varscale.jax": ("jax", "flax"),
    "varscale.keras": ("keras",),
    "varscale._engine_torch": ("torch",),
    "varscale._engine_jax": ("jax",),
}

#: Modules without examples, and why: internals whose behaviour their callers' examples and tests pin.
NO_EXAMPLES = {
    "varscale.__main__": "runs the CLI on import",
    "varscale.cli": "the argument parser: tests/test_cli.py runs every command",
    "varscale._engine_numba": "the compiled kernel: tests/test_engines.py holds it equal to the NumPy reference",
    "varscale._engine_numpy": "the reference engine: the golden values pin it (tests/test_golden.py)",
    "varscale._folders": "folder publishing behind the checkpoint writers (tests/reliability/test_files*.py)",
    "varscale._jax_flax": "its functions are varscale.jax's (their __module__): their examples run there",
    "varscale._keras_convert": "its functions are varscale.keras's (their __module__): their examples run there",
    "varscale._torch_fill": "varscale.torch.init_module's filling; its examples run under varscale.torch",
    "varscale._torch_finite": "init_module's finiteness check (tests/scaleout/test_torch_init.py)",
    "varscale._torch_recipes": "the default= recipes (tests/scaleout/test_torch_recipes.py, 131 zoo tests)",
}


def _modules() -> list[str]:
    walked = pkgutil.walk_packages(varscale.__path__, "varscale.")
    return sorted(["varscale", *(i.name for i in walked if not i.name.startswith("varscale.compat"))])


MODULES = _modules()


def test_every_module_is_walked() -> None:
    assert len(MODULES) > 60
    assert set(NO_EXAMPLES) <= set(MODULES), set(NO_EXAMPLES) - set(MODULES)


@pytest.mark.parametrize("name", [m for m in MODULES if m not in NO_EXAMPLES])
def test_doctests(name: str) -> None:
    for package in NEEDS.get(name, ()):
        need(package)
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0, f"{name} has no examples (add one, or list it in NO_EXAMPLES with the reason)"
    assert result.failed == 0
