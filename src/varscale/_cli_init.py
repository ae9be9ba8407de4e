"""``varscale init`` and ``varscale verify``: whole checkpoints from tensor names, shapes and rules.

The rules are the library's rule language (``varscale._rules``, the one
``varscale.torch.init_module`` reads) with varscale's text forms
(``varscale._forms``); the files are written and re-drawn by ``varscale.io``.

Example:
    >>> import json, pathlib, tempfile
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "shapes.json"
    >>> _ = p.write_text(json.dumps({"fc.weight": [10, 4], "fc.bias": [10]}))
    >>> read_shapes(str(p))
    {'fc.weight': (10, 4), 'fc.bias': (10,)}
"""

from __future__ import annotations

import argparse
import importlib
import json
import struct
from pathlib import Path
from typing import Any

from ._cli_common import (
    UsageError,
    check_free_space,
    clip,
    dask_client,
    escape,
    io_module,
    output_bytes,
    some,
)
from ._cli_progress import Progress
from ._errors import BackendUnavailableError, InvalidArgumentError
from ._files import check_target
from ._forms import rule_from_text, rule_layout
from ._initializer import VarianceScaling
from ._rules import BoundPlan, FanError, Rule, check_rules, matches, plan_param, resolve
from ._validation import check_shape
from .stream import derive_stream

__all__ = ["read_shapes", "run_init", "run_verify"]


def read_shapes(path: str) -> dict[str, tuple[int, ...]]:
    """``--shapes``: a JSON file ``{name: shape}`` or a safetensors file (its header's shapes), each checked."""
    try:
        with open(path, "rb") as fh:
            data = fh.read(1 << 26)
    except OSError as err:
        raise InvalidArgumentError(f"`shapes` cannot be read; received shapes={path!r}: {err}") from None
    if path.endswith(".safetensors"):
        if len(data) < 8:
            raise InvalidArgumentError(f"`shapes` is not a safetensors file; received shapes={path!r}")
        (n,) = struct.unpack("<Q", data[:8])
        try:
            header = json.loads(data[8:8 + n])
        except (ValueError, UnicodeDecodeError, RecursionError):
            raise InvalidArgumentError(f"`shapes` has a bad safetensors header; received shapes={path!r}") from None
        if not isinstance(header, dict):
            raise InvalidArgumentError(
                f"`shapes` has a bad safetensors header: a JSON {_JSON_TYPES.get(type(header), type(header).__name__)} where safetensors has an "
                f"object {{name: {{\"dtype\", \"shape\", \"data_offsets\"}}}}; received shapes={path!r}"
            )
        obj: Any = {}
        for k, v in header.items():
            if k == "__metadata__":
                continue
            if not isinstance(v, dict) or "shape" not in v:
                raise InvalidArgumentError(
                    f"`shapes` has a bad safetensors header: the entry {clip(k)} has no \"shape\" "
                    f"(received {clip(v)}); received shapes={path!r}"
                )
            obj[k] = v["shape"]
    else:
        try:
            obj = json.loads(data)
        except (ValueError, UnicodeDecodeError) as err:
            raise InvalidArgumentError(f"`shapes` must be JSON {{name: shape}}; received shapes={path!r}: {err}") \
                from None
        except RecursionError:
            raise InvalidArgumentError(f"`shapes` is JSON nested too deeply to read; received shapes={path!r}") \
                from None
    if not isinstance(obj, dict) or not obj:
        raise InvalidArgumentError(f"`shapes` must map tensor names to shapes; received shapes={path!r}")
    out: dict[str, tuple[int, ...]] = {}
    for k, v in obj.items():
        name = str(k)
        try:
            name.encode("utf-8")
        except UnicodeEncodeError:
            raise InvalidArgumentError(
                f"`shapes` has a tensor name that is not valid UTF-8 text (a lone surrogate): {clip(name)}; "
                f"received shapes={path!r}"
            ) from None
        if not isinstance(v, list) or not all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in v):
            raise InvalidArgumentError(
                f"`shapes`[{clip(name)}] must be a list of non-negative ints; received {clip(v)}"
            )
        out[name] = check_shape(v, f"shapes[{clip(name)}]")
    return out


_JSON_TYPES = {list: "array", str: "string", int: "number", float: "number", bool: "boolean", type(None): "null"}


def run_init(args: argparse.Namespace) -> int:
    """Plan every tensor with its rule, refuse what no rule (or more than one shape) explains, then write."""
    sharded = _check_out(args)
    limit = io_module().parse_size(args.max_shard_size if args.max_shard_size is not None
                                   else io_module().MAX_SHARD_SIZE, "max_shard_size")
    texts, rules = _rules_of(args)
    shapes = read_shapes(args.shapes)
    if sharded and args.resume:  # the writer checks the target, and the space left, against what is finished
        total = output_bytes(list(shapes.values()), args.dtype)
    else:
        if sharded:
            io_module()._check_dir_target(args.out, args.force, "out")
        else:
            check_target(args.out, args.force)
        total = check_free_space(Path(args.out), list(shapes.values()), args.dtype)
    record: dict[str, Any] = {"seed": args.seed, "layout": args.layout, "dtype": args.dtype,
                              "rules": [[r.text, t] for r, t in zip(rules, texts, strict=True)], "tensors": {}}
    tensors, rows = _plan(args, shapes, texts, rules, record, sharded)
    bar = Progress(f"init {args.out}", total, not args.no_progress)
    if sharded:
        try:
            with dask_client(args) as client:
                io_module().write_safetensors_sharded(args.out, tensors, max_shard_size=limit, force=args.force,
                                                      resume=args.resume, progress=bar, provenance=record,
                                                      client=client, engine=args.engine)
        except KeyboardInterrupt as err:
            partial = getattr(err, "varscale_partial", None)
            if partial is not None:
                err.varscale_note = (  # type: ignore[attr-defined]
                    f"{getattr(err, 'varscale_finished', 0)} of {getattr(err, 'varscale_files', '?')} shard "
                    f"file(s) are finished and kept in {partial!r}; run the same command with --resume to "
                    f"finish (or delete that folder)")
            raise
    else:
        io_module().write_safetensors(args.out, tensors, force=args.force, progress=bar, metadata={"format": "pt"},
                                      provenance=record, engine=args.engine)
    bar.finish()
    head = ("name", "shape", "initializer", "layout", "fan_in", "fan_out", "std", "rule")
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]
    for r in [head, *rows]:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())
    layouts = sorted({r[3] for r in rows if r[3] != "-"})
    note = "" if args.layout or not layouts else (
        " (each rule's own framework layout: tf for presets and Keras/JAX/TF code, torch for torch code; "
        "pass --layout torch for torch/Hugging Face (out, in) weights)")
    print(f"wrote {args.out}: {len(rows)} tensors, layout {', '.join(layouts) or '-'}{note}")
    return 0


def _check_out(args: argparse.Namespace) -> bool:
    """Refuse flags that do not fit ``--out``; True when it is a folder of shard files."""
    sharded = not str(args.out).endswith(".safetensors")
    if not sharded and args.max_shard_size is not None:
        raise UsageError(f"--max-shard-size writes a folder of shard files: --out must name a folder, not a "
                         f".safetensors file; received --out {args.out!r}")
    if not sharded and args.resume:
        raise UsageError(f"--resume continues a sharded folder: --out must name a folder, not a .safetensors "
                         f"file (a single file is written again whole); received --out {args.out!r}")
    if sharded and str(args.out).endswith((".npy", ".zarr", ".json", ".bin", ".pt", ".pth")):
        raise UsageError(f"--out must be FILE.safetensors or a folder for shard files; received {args.out!r}")
    if (args.scheduler is not None or args.workers is not None) and not (args.dask and sharded):
        raise UsageError("--scheduler and --workers apply with --dask and a folder --out (shard files written by "
                         "Dask workers)")
    return sharded


def _rules_of(args: argparse.Namespace) -> tuple[list[str], list[Rule]]:
    """The ``--rule GLOB=SPEC`` texts and the checked rules: the rule language of ``varscale.torch.init_module``
    (names, numbers, zeros/ones, normal(std=...), torch function names, framework expressions) with varscale's
    JSON and ``name:key=value`` forms; layouts are --layout's unless the SPEC's own code gives one."""
    pairs: list[tuple[str, str]] = []
    for r in args.rule:
        glob, eq, spec = r.partition("=")
        if not eq or not glob.strip() or not spec.strip():
            raise UsageError(f"--rule must be GLOB=SPEC; received {r!r}")
        pairs.append((glob.strip(), spec.strip()))

    def resolve_one(text: str, where: str) -> Any:
        return resolve(rule_from_text(text), layout=args.layout or rule_layout(text), where=f"--{where}")

    return [t for _, t in pairs], check_rules(pairs, resolve_one, by_type=False, help="a glob on tensor names")


def _plan(args: argparse.Namespace, shapes: dict[str, tuple[int, ...]], texts: list[str], rules: list[Rule],
          record: dict[str, Any], sharded: bool) -> tuple[dict[str, tuple[Any, tuple[int, ...], str]], list[Any]]:
    """Each tensor's source for the writer and its row of the printed table; every unexplained tensor refused."""
    tensors: dict[str, tuple[Any, tuple[int, ...], str]] = {}
    rows = []
    unmatched: list[str] = []
    fan_errors: list[str] = []
    for name, shape in shapes.items():
        i = next((i for i, r in enumerate(rules) if matches(r.pattern, name, name, ())), None)
        if i is None:
            unmatched.append(name)
            continue
        rule, text = rules[i], texts[i]
        rule.used += 1
        try:
            plan = plan_param(rule.init, shape, args.layout or "tf")
        except FanError as err:
            fan_errors.append(f"{name} {shape} (rule {rule.text!r}: {err})")
            continue
        stream = derive_stream(args.seed, name)
        record["tensors"][name] = {"rule": text, "glob": rule.text,
                                   "layout": args.layout or rule_layout(text), "fans": args.layout or "tf"}
        if args.dask and not sharded and isinstance(rule.init, VarianceScaling):
            try:
                dask_mod = importlib.import_module("varscale.dask")
            except ImportError as err:
                raise BackendUnavailableError(f"--dask needs varscale.dask and Dask ({err})") from None
            # a Dask array: io computes it region by region, each chunk drawn where it is computed
            tensors[name] = (dask_mod.array(rule.init, shape, args.dtype, seed=stream, engine=args.engine), shape,
                             args.dtype)
        else:
            tensors[name] = (BoundPlan(plan, stream), shape, args.dtype)
        rows.append((escape(name), str(shape), plan.label, plan.layout,
                     "-" if plan.fan_in is None else str(plan.fan_in),
                     "-" if plan.fan_out is None else str(plan.fan_out),
                     "-" if plan.std is None else f"{plan.std:.4g}", escape(rule.text)))
    problems = []
    if unmatched:
        problems.append(f"{len(unmatched)} tensor(s) match no --rule: {some([clip(n) for n in unmatched])}; "
                        f"rules: {some([escape(r.text) for r in rules])}")
    if fan_errors:
        problems.append(f"{len(fan_errors)} tensor(s) with fewer than 2 dimensions matched a fan-based rule: "
                        f"{some(fan_errors)}; put a rule for them first (e.g. --rule '*.bias=zeros')")
    unused = [r.text for r in rules if r.used == 0]
    if unused:
        problems.append(f"{len(unused)} --rule(s) match no tensor: {some([escape(g) for g in unused])}")
    if problems:
        raise InvalidArgumentError("; ".join(problems) + ".")
    return tensors, rows


def run_verify(args: argparse.Namespace) -> int:
    """Re-draw sampled regions of a checkpoint from its own record and print what differs."""
    text = str(args.sample).strip().lower()
    if text == "all":
        sample = None
    elif text.isdigit():
        sample = int(text)
    else:
        raise UsageError(f"--sample must be a non-negative integer or 'all'; received {args.sample!r}")
    report = io_module().verify(args.path, sample)
    rec = report.records[0] if report.records else {}
    if rec:
        print(f"{args.path}: varscale {rec.get('varscale_version', '?')}, stream v{rec.get('stream_version', '?')}, "
              f"seed {rec.get('seed', '-')}, layout {rec.get('layout') or '-'}")
    for file, tensor, why in report.mismatches[:50]:
        print(f"MISMATCH {escape(file)}: {escape(tensor)}: {why}")
    if len(report.mismatches) > 50:
        print(f"MISMATCH … {len(report.mismatches) - 50} more (varscale.io.verify returns them all)")
    for file, tensor, why in report.skipped[:20]:
        print(f"skipped  {escape(file)}: {escape(tensor)}: {why}")
    if len(report.skipped) > 20:
        print(f"skipped  … {len(report.skipped) - 20} more")
    what = "every element" if sample is None else f"{sample} sampled region(s) per tensor"
    verdict = "FAILED" if report.mismatches else "OK"
    print(f"{verdict}: {len(report.files)} file(s), {len(report.checked)} tensor(s) re-drawn and equal ({what}), "
          f"{len(report.mismatches)} mismatch(es), {len(report.skipped)} skipped")
    return 1 if report.mismatches else 0
