"""Test support: framework imports that fail (not skip) when the run requires them.

``VARSCALE_REQUIRE`` lists the optional packages the run must test, comma
separated (CI sets ``torch,jax,tensorflow,keras,mindspore,dask,distributed,zarr,safetensors,matplotlib``).
A test that needs a package calls :func:`need`; if the package is required and
fails to import, the test fails with the import error, otherwise it is skipped.
"""

from __future__ import annotations

import importlib
import os
import sys
import types

import pytest


def required() -> set[str]:
    return {p.strip() for p in os.environ.get("VARSCALE_REQUIRE", "").split(",") if p.strip()}


def need(module: str) -> types.ModuleType:
    """Import ``module`` for a test; fail if it is required by the run, else skip."""
    top = module.split(".")[0]
    try:
        return importlib.import_module(module)
    except Exception as err:
        if top in required():
            pytest.fail(f"required package {module!r} failed to import: {type(err).__name__}: {err}")
        pytest.skip(f"{module} is not installed")
        raise  # unreachable


_LIMIT_LAUNCHER = (
    "import os, resource, signal, sys; "
    "n = int(sys.argv[1]); resource.setrlimit(resource.RLIMIT_FSIZE, (n, n)); "
    "signal.signal(signal.SIGXFSZ, signal.SIG_IGN); "  # writes past the limit then fail with EFBIG
    "os.execv(sys.argv[2], sys.argv[2:])"
)


def with_file_size_limit(argv: list[str], nbytes: int) -> list[str]:
    """``argv`` run under ``RLIMIT_FSIZE = nbytes`` (SIGXFSZ ignored, so writes fail with EFBIG).

    A launcher process sets the limit and execs ``argv``: no ``preexec_fn``, whose fork
    runs the at-fork hooks of libraries loaded in the test process (JAX warns there).
    """
    return [sys.executable, "-c", _LIMIT_LAUNCHER, str(nbytes), *argv]
