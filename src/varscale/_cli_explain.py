"""``varscale explain`` and ``varscale translate``: a SPEC's numbers and every framework's code for it.

Everything here prints what the library computes: :meth:`varscale.Spec.describe`,
:func:`varscale.translate` and ``varscale._translate.translate_file``.

Example:
    >>> target_arg("pytorch")
    'torch'
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._cli_common import UsageError, json_safe
from ._errors import InvalidArgumentError, VarscaleError
from ._forms import read, with_seed
from ._translate import (
    TARGETS,
    UnrepresentableNumberError,
    spec_from_initializer,
    target_name,
    to_layout,
    translate,
    translate_file,
)

if TYPE_CHECKING:
    from ._parse import Spec

__all__ = ["run_explain", "run_translate", "target_arg"]


def equivalents(spec: Spec, shape: tuple[int, ...]) -> dict[str, Any]:
    """Every framework's code for ``spec`` and ``shape``, with its verdict and notes."""
    out: dict[str, Any] = {}
    for t in TARGETS:
        try:
            tr = translate(spec, t, shape)
        except UnrepresentableNumberError as err:  # one target's numbers overflow float64: say so, keep the rest
            out[t] = {"code": None, "verdict": "impossible", "notes": [str(err)], "shape": None}
            continue
        out[t] = {"code": tr.code, "verdict": tr.verdict, "notes": list(tr.notes),
                  "shape": list(tr.target_shape) if tr.target_shape is not None else None}
    return out


def run_explain(args: argparse.Namespace) -> int:
    spec, init = read(args.spec, args.tf_version)
    if args.layout is not None:
        if init is None:
            raise UsageError("--layout applies to varscale SPECs only; a framework expression has its own layout")
        init = with_seed(init, layout=args.layout)
        spec = spec_from_initializer(init, args.spec)
    d = spec.describe(args.shape)
    if init is not None:
        real = init.describe(args.shape)
        d["formula"] = real.formula
    eq = equivalents(spec, args.shape)
    if args.json:
        base: dict[str, Any] = init.describe(args.shape).as_dict() if init is not None else {
            "scale": spec.scale, "distribution": spec.family}
        base.update(d)
        base.update(shape=list(d["shape"]), bounds=[b if math.isfinite(b) else str(b) for b in d["bounds"]])
        d = base
        print(json.dumps(json_safe(dict(d, equivalents=eq)), indent=2, allow_nan=False))
        return 0
    print(f"{spec.framework}: {spec.call}")
    labels = {"param_std": "sigma'", "std": "std (realized)"}
    keys = ["shape", "layout", "fan_in", "fan_out", "mode", "n", "family", "param_std", "limit", "std", "bounds",
            "formula"]
    for extra in ("mean", "value", "gain"):  # a fixed law's mean; a constant's value; an orthogonal/identity gain
        if d.get(extra):
            keys.insert(keys.index("std"), extra)
    for key in keys:
        v = d[key]
        if isinstance(v, float):
            v = f"{v:.6g}"
        elif key == "bounds":
            v = f"[{v[0]:.6g}, {v[1]:.6g}]"
        print(f"{labels.get(key, key):<14}  {'-' if v is None else v}")
    print("\nequivalents:")
    for t, e in eq.items():
        code_lines = (e["code"] or "-").splitlines()
        print(f"  {t:<10} {e['verdict']:<16} {code_lines[0]}")
        for extra in code_lines[1:]:
            print(f"  {'':<10} {'':<16} {extra}")
        for note in e["notes"]:
            print(f"  {'':<10} - {note}")
    return 0


def target_arg(text: str) -> str:
    """An argparse type: a translation target's name (aliases such as ``pytorch`` and ``flax`` read)."""
    try:
        return target_name(text)
    except VarscaleError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def run_translate(args: argparse.Namespace) -> int:
    if (args.spec is None) == (args.file is None):
        raise UsageError("give either SPEC or --file FILE")
    if args.file is not None:
        return run_translate_file(args)
    spec, _ = read(args.spec, args.tf_version)
    if args.target_shape is not None and args.shape is not None:
        raise UsageError("give --shape or --target-shape, not both")
    shape, read_in = args.shape, "source"
    if args.target_shape is not None or (args.shape is not None and args.shape_layout == "target"):
        target_shape = args.target_shape if args.target_shape is not None else args.shape
        src_layout = spec.layout if isinstance(spec.layout, str) else "tf"
        tgt_layout = translate(spec, args.to).target_layout  # the target framework's layout, as translate has it
        shape, read_in = to_layout(tuple(target_shape), tgt_layout, src_layout), "target"
    if args.numbers and shape is None:
        raise UsageError("--numbers writes the numbers for one shape: give --shape or --target-shape")
    tr = translate(spec, args.to, shape, numbers=args.numbers)
    if args.json:
        print(json.dumps(json_safe({"target": tr.target, "code": tr.code, "alternative": tr.alternative,
                                     "verdict": tr.verdict, "notes": list(tr.notes), "shape": tr.shape,
                                     "shape_read_in": read_in, "target_shape": tr.target_shape}),
                         indent=2, allow_nan=False))
    else:
        print(tr.code)
        if tr.alternative:
            print(f"# or, the same law: {tr.alternative}")
        print(f"# verdict: {tr.verdict}")
        if shape is not None:
            print(f"# shape {tuple(shape)} read in the {read_in} layout ({spec.framework}'s)"
                  if read_in == "source" else f"# --target-shape read in {tr.target}'s layout: source shape "
                  f"{tuple(shape)}")
        for note in tr.notes:
            print(f"# {note}")
    return 0


def run_translate_file(args: argparse.Namespace) -> int:
    if args.shape is not None or args.target_shape is not None or args.numbers:
        raise UsageError("--file translates every expression for every shape: --shape, --target-shape and "
                         "--numbers apply to one SPEC")
    try:
        text = Path(args.file).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise InvalidArgumentError(f"`file` cannot be read; received file={args.file!r}: {err}") from None
    rows = translate_file(text, args.to, tf_version=args.tf_version)
    missing = [r for r in rows if r.verdict == "untranslated"]
    if args.json:
        print(json.dumps(json_safe({
            "file": args.file, "target": args.to,
            "rows": [{"line": r.line, "source": r.source, "code": r.code, "verdict": r.verdict,
                      "notes": list(r.notes)} for r in rows],
            "untranslated": len(missing)}), indent=2, allow_nan=False))
        return 0
    print(f"| line | source | {args.to} | verdict |")
    print("|---:|---|---|---|")
    for r in rows:
        code = "<br>".join((r.code or "-").splitlines()).replace("|", "\\|")
        print(f"| {r.line} | `{r.source.replace('|', '/')}` | `{code}` | {r.verdict} |")
    print(f"\n{len(rows)} initializer expression(s); {len(rows) - len(missing)} translated, "
          f"{len(missing)} not translated")
    for r in missing:
        print(f"- line {r.line}: {r.source}: {r.notes[0]}")
    return 0
