"""The ``varscale`` command line: a thin layer over the public API.

Exit codes: 0 success, 1 failure (a library error), 2 usage error.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any

import numpy as np

from . import _registry
from ._errors import VarscaleError
from ._files import atomic_output, check_target
from ._initializer import VarianceScaling

__all__ = ["main", "spec_from_string"]


class _UsageError(Exception):
    pass


def spec_from_string(text: str, seed: int | None = None, layout: str | None = None) -> VarianceScaling:
    """Resolve a CLI SPEC: a preset name (``he_normal``, ``HeNormal``), a JSON
    config (``{"class_name": ..., "config": ...}``) or
    ``variance_scaling:scale=2,mode=fan_out,distribution=uniform``."""
    text = text.strip()
    if text.startswith("{"):
        try:
            cfg = json.loads(text)
        except json.JSONDecodeError as err:
            raise _UsageError(f"SPEC is not valid JSON: {err}") from None
        init = _registry.deserialize(cfg)
    elif ":" in text:
        name, _, args = text.partition(":")
        kwargs: dict[str, Any] = {}
        for part in filter(None, (p.strip() for p in args.split(","))):
            key, eq, value = part.partition("=")
            if not eq:
                raise _UsageError(f"SPEC argument {part!r} must be KEY=VALUE")
            kwargs[key.strip()] = float(value) if key.strip() == "scale" else value.strip()
        cls = type(_registry.get(name.strip()))
        init = cls(**kwargs)
    else:
        got = _registry.get(text)
        assert got is not None  # noqa: S101
        init = got
    if seed is not None or layout is not None:
        cfg = init.get_config()
        if seed is not None:
            cfg["seed"] = seed
        if layout is not None:
            cfg["layout"] = layout
        init = type(init).from_config(cfg)
    return init


def _shape(text: str) -> tuple[int, ...]:
    text = text.strip().strip("()[]")
    if not text:
        return ()
    try:
        return tuple(int(p) for p in text.split(",") if p.strip() != "")
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--shape must be comma-separated integers like 3,3,64,128; received {text!r}"
        ) from None


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="varscale", description="Variance-scaling weight initialization.")
    sub = p.add_subparsers(dest="command", required=True)

    ex = sub.add_parser("explain", help="fans, n, std, limit, bounds and the formula for a shape")
    ex.add_argument("spec", help="he_normal, HeNormal, a JSON config, or variance_scaling:scale=2,mode=fan_out")
    ex.add_argument("--shape", type=_shape, required=True, help="comma-separated, e.g. 3,3,64,128")
    ex.add_argument("--layout", choices=["tf", "torch"], default=None)
    ex.add_argument("--json", action="store_true", help="print JSON instead of a table")

    sa = sub.add_parser("sample", help="draw a tensor and write it to a .npy file")
    sa.add_argument("spec")
    sa.add_argument("--shape", type=_shape, required=True)
    sa.add_argument("--seed", type=int, required=True)
    sa.add_argument("--dtype", default="float32", help="float16, bfloat16, float32 or float64")
    sa.add_argument("--layout", choices=["tf", "torch"], default=None)
    sa.add_argument("--engine", choices=["numba", "numpy"], default=None)
    sa.add_argument("--out", required=True, help="output .npy file (written atomically)")
    sa.add_argument("--force", action="store_true", help="overwrite an existing file")
    return p


def _explain(args: argparse.Namespace) -> int:
    init = spec_from_string(args.spec, layout=args.layout)
    d = init.describe(args.shape)
    if args.json:
        print(json.dumps(d.as_dict(), indent=2))
    else:
        print(f"{type(init).__name__}: {init!r}")
        print(d)
    return 0


def _sample(args: argparse.Namespace) -> int:
    init = spec_from_string(args.spec, seed=args.seed, layout=args.layout)
    if not str(args.out).endswith(".npy"):
        raise _UsageError(f"--out must end in .npy; received {args.out!r}")
    target = check_target(args.out, args.force)
    arr = init(args.shape, args.dtype, engine=args.engine)
    with atomic_output(target) as fh:
        np.save(fh, arr, allow_pickle=False)
    print(f"wrote {target} shape={arr.shape} dtype={arr.dtype} std={float(arr.astype(np.float64).std()):.6g}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse already printed the usage error
        return int(exc.code or 0)
    try:
        if args.command == "explain":
            return _explain(args)
        return _sample(args)
    except _UsageError as err:
        print(f"varscale {args.command}: error: {err}", file=sys.stderr)
        return 2
    except (VarscaleError, TypeError, ValueError, OSError) as err:
        print(f"varscale {args.command}: error: {err}", file=sys.stderr)
        return 1
