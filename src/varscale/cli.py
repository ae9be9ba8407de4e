"""The ``varscale`` command line: a thin layer over the public API.

Commands: ``explain``, ``translate``, ``sample``, ``plot``, ``init``.
Exit codes: 0 success, 1 failure (a library error), 2 usage error, 130 interrupted by
SIGINT (Ctrl-C), 143 terminated by SIGTERM; an interrupted write removes its temporary.
"""

from __future__ import annotations

import argparse
import contextlib
import fnmatch
import importlib
import json
import math
import os
import re
import signal
import struct
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from . import _registry
from ._basic import BasicInitializer
from ._errors import (
    BackendUnavailableError,
    InvalidArgumentError,
    VarscaleError,
    missing_extra,
)
from ._files import atomic_output, check_space, check_target
from ._generate import ENGINES
from ._initializer import VarianceScaling
from ._law import density, initializer_for
from ._parse import Spec, parse
from ._translate import (
    TARGETS,
    UnrepresentableNumberError,
    spec_from_initializer,
    target_name,
    to_layout,
    translate,
    translate_file,
)
from ._validation import check_shape
from .stream import derive_stream

__all__ = ["initializer_for", "main", "resolve", "spec_from_string"]


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
        except RecursionError:
            raise _UsageError("SPEC is JSON nested too deeply to read") from None
        init = _registry.deserialize(cfg)
    elif ":" in text:
        name, _, args = text.partition(":")
        kwargs: dict[str, Any] = {}
        for part in filter(None, (p.strip() for p in args.split(","))):
            key, eq, value = part.partition("=")
            if not eq:
                raise _UsageError(f"SPEC argument {part!r} must be KEY=VALUE")
            if key.strip() == "scale":
                try:
                    kwargs["scale"] = float(value)
                except ValueError:
                    raise InvalidArgumentError(
                        f"`scale` must be a number; received scale={value.strip()!r}."
                    ) from None
            else:
                kwargs[key.strip()] = value.strip()
        base = _registry.get(name.strip())
        if base is None:
            raise _UsageError(f"SPEC {text!r} names no initializer")
        init = type(base)(**kwargs)
    else:
        got = _registry.get(text)
        if got is None:
            raise _UsageError(f"SPEC {text!r} names no initializer")
        init = got
    if not isinstance(init, VarianceScaling):
        raise _UsageError(
            f"SPEC {text!r} is not a variance-scaling initializer; this command takes Glorot/He/LeCun and "
            f"VarianceScaling forms (`varscale init --rule` also takes zeros, normal(std=...), ...)"
        )
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


_LEGACY = re.compile(r"^\s*[A-Za-z_][A-Za-z0-9_]*\s*(:.*)?$", re.S)


def resolve(text: str, tf_version: str | None = None) -> tuple[Spec, VarianceScaling | None]:
    """A CLI SPEC as a :class:`Spec`, plus the varscale initializer when the
    SPEC is one of varscale's own forms (preset name, JSON config, ``name:k=v``)."""
    if text.strip().startswith("{") or _LEGACY.match(text):
        try:
            init = spec_from_string(text)
        except (VarscaleError, _UsageError) as err:
            if text.strip().isidentifier():  # a framework's name (kaiming_normal), or zeros/ones/orthogonal
                try:
                    return parse(text, tf_version=tf_version), None
                except VarscaleError:
                    pass
            if isinstance(err, _UsageError):
                raise  # bad JSON, a name varscale does not know: the usage error stands
            # a framework's JSON config (Keras' input_axes, RandomNormal...) is read by parse();
            # a varscale config that deserialize() refuses stays refused
            if text.strip().startswith("{") and not _is_varscale_config(text):
                return parse(text), None
            raise
        return spec_from_initializer(init, text), init
    return parse(text, tf_version=tf_version), None


def _is_varscale_config(text: str) -> bool:
    try:
        cfg = json.loads(text)
    except (ValueError, RecursionError):
        return False
    if not isinstance(cfg, dict):
        return False
    inner = cfg.get("config")
    module = cfg.get("module")
    return (isinstance(module, str) and module.startswith("varscale")) or (
        isinstance(inner, dict) and ("stream_version" in inner or "layout" in inner)
    )


def _parser() -> argparse.ArgumentParser:
    from . import __version__
    from .stream import STREAM_VERSION

    p = argparse.ArgumentParser(prog="varscale", description="Variance-scaling weight initialization.")
    p.add_argument("--version", action="version", version=f"varscale {__version__} (stream v{STREAM_VERSION})")
    sub = p.add_subparsers(dest="command", required=True)
    spec_help = ("an initializer in any framework's syntax (keras.initializers.HeNormal(), "
                 "nn.init.kaiming_normal_(w), ...), a preset name, a JSON config or variance_scaling:scale=2")

    ex = sub.add_parser("explain", help="fans, n, std, limit, bounds, the formula and every framework's equivalent")
    ex.add_argument("spec", help=spec_help)
    ex.add_argument("--shape", type=_shape, required=True, help="comma-separated, e.g. 3,3,64,128")
    ex.add_argument("--layout", choices=["tf", "torch"], default=None)
    ex.add_argument("--tf-version", default=None, help="the TensorFlow version a TF1 source ran under (e.g. 1.9)")
    ex.add_argument("--json", action="store_true", help="print JSON instead of a table")

    tr = sub.add_parser("translate", help="rewrite an initializer for another framework, with a verdict")
    tr.add_argument("spec", nargs="?", default=None, help=spec_help)
    tr.add_argument("--to", required=True, type=_target,
                    help=f"one of {', '.join(TARGETS)} (or pytorch, flax, tf_keras, ms...)")
    tr.add_argument("--file", default=None, help="translate every initializer expression of this Python file "
                    "(read with ast, never run)")
    tr.add_argument("--shape", type=_shape, default=None,
                    help="the weight shape, read in the SOURCE framework's layout (see --shape-layout)")
    tr.add_argument("--target-shape", type=_shape, default=None,
                    help="the weight shape in the TARGET framework's layout (instead of --shape)")
    tr.add_argument("--shape-layout", choices=["source", "target"], default="source",
                    help="which framework's layout --shape is read in (default: source)")
    tr.add_argument("--numbers", action="store_true",
                    help="write the numbers for --shape instead of a snippet that is exact for every shape")
    tr.add_argument("--tf-version", default=None, help="the TensorFlow version a TF1 source ran under (e.g. 1.9)")
    tr.add_argument("--json", action="store_true")

    sa = sub.add_parser("sample", help="draw a tensor and write it to .npy, .safetensors or .zarr")
    sa.add_argument("spec", help=spec_help)
    sa.add_argument("--shape", type=_shape, required=True)
    sa.add_argument("--seed", type=int, required=True)
    sa.add_argument("--dtype", default="float32", help="float16, bfloat16, float32 or float64")
    sa.add_argument("--layout", choices=["tf", "torch"], default=None)
    sa.add_argument("--engine", choices=ENGINES, default=None,
                    help="the engine that draws every region (default: the fastest ready; the bits are the same)")
    sa.add_argument("--out", required=True, help="output .npy, .safetensors or .zarr (written atomically)")
    sa.add_argument("--force", action="store_true",
                    help="overwrite an existing file (or Zarr store; any other folder is refused)")
    sa.add_argument("--no-progress", action="store_true")
    sa.add_argument("--compressor", default="none", metavar="NAME",
                    help="Zarr codec: none (the default: random floats barely compress), zstd, zstd:LEVEL, gzip, "
                         "blosc")
    sa.add_argument("--dask", action="store_true",
                    help=".zarr: chunks drawn and written by dask.distributed workers (a local cluster unless "
                         "--scheduler)")
    sa.add_argument("--scheduler", default=None, metavar="ADDRESS",
                    help="with --dask: an existing scheduler; the store must be on a file system every worker shares")
    sa.add_argument("--workers", type=int, default=None, metavar="N",
                    help="with --dask and no --scheduler: local worker processes (default: the CPU count)")

    pl = sub.add_parser("plot", help="PNG histogram of a sample against the exact density")
    pl.add_argument("spec", help=spec_help)
    pl.add_argument("--shape", type=_shape, required=True)
    pl.add_argument("--seed", type=int, default=0)
    pl.add_argument("--bins", type=int, default=100)
    pl.add_argument("--out", required=True, help="output .png (written atomically)")
    pl.add_argument("--force", action="store_true")

    it = sub.add_parser("init", help="a whole checkpoint from tensor names, shapes and rules")
    it.add_argument("--shapes", required=True, help="JSON {name: shape} or an existing .safetensors file")
    it.add_argument("--rule", action="append", required=True, metavar="GLOB=SPEC",
                    help="first matching rule wins, e.g. '*.weight=he_normal', '*.bias=zeros', "
                         "'*embed*=normal(std=0.02)', '*.weight=kaiming_uniform_(a=5**0.5)'")
    it.add_argument("--layout", choices=["tf", "torch"], default=None,
                    help="how fans are read from shapes: tf (*kernel, in, out; the default) or torch (out, in, *kernel)")
    it.add_argument("--seed", type=int, required=True)
    it.add_argument("--dtype", default="float32")
    it.add_argument("--out", required=True,
                    help="output: FILE.safetensors (one file) or a folder DIR (sharded as Hugging Face writes it: "
                         "model-0000k-of-0000n.safetensors + model.safetensors.index.json)")
    it.add_argument("--max-shard-size", default=None, metavar="SIZE",
                    help="bytes per shard file for a folder --out, e.g. 5GB (the default, Hugging Face's), 2GiB")
    it.add_argument("--resume", action="store_true",
                    help="continue an interrupted run into the same folder --out (finished shard files are checked "
                         "and kept)")
    it.add_argument("--force", action="store_true")
    it.add_argument("--dask", action="store_true",
                    help="a folder --out: shard files written in parallel by dask.distributed workers (a local "
                         "cluster unless --scheduler); a .safetensors --out: tensors computed through varscale.dask")
    it.add_argument("--scheduler", default=None, metavar="ADDRESS",
                    help="with --dask: an existing dask.distributed scheduler (tcp://host:8786); the folder must be "
                         "on a file system every worker shares")
    it.add_argument("--workers", type=int, default=None, metavar="N",
                    help="with --dask and no --scheduler: local worker processes (default: the CPU count)")
    it.add_argument("--no-progress", action="store_true")

    ve = sub.add_parser("verify", help="re-draw sampled regions of a varscale checkpoint from its own metadata")
    ve.add_argument("path", help="a .safetensors file, a sharded checkpoint folder or a .zarr store")
    ve.add_argument("--sample", default="8", metavar="N",
                    help="regions re-drawn per tensor (default 8, plus its first and last elements); 'all' checks "
                         "every element")

    sub.add_parser("warmup", help="compile the kernel into Numba's cache now, once for all dtypes "
                   "(for Dockerfiles and CI: RUN varscale warmup)")
    return p


class _Progress:
    """Progress on stderr (only for outputs of at least 1 MiB), with rate and ETA.

    On a terminal one line redrawn with ``\\r``; otherwise (a batch log) a plain line every 10 % or 30 s.
    Callbacks show at most 99.9 %: :meth:`finish`, called once the output is synced and published, prints 100 %.
    """

    open_line = False  # a bar is on stderr without its final newline

    @classmethod
    def end_line(cls) -> None:
        if cls.open_line:
            sys.stderr.write("\n")
            cls.open_line = False

    def __init__(self, label: str, nbytes: int, enabled: bool = True) -> None:
        self.label, self.enabled = label, enabled and nbytes >= (1 << 20)
        self.nbytes = nbytes
        self.last = -1.0
        self.last_time = 0.0
        self.start = time.monotonic()
        self.first: tuple[float, float] | None = None  # (time, fraction) of the first report: resumed work excluded
        try:
            self.tty = sys.stderr.isatty()
        except (AttributeError, ValueError):
            self.tty = False

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled or total <= 0:
            return
        frac = min(0.999, done / total)
        now = time.monotonic()
        if self.first is None:
            self.first = (now, frac if done < total else 0.0)
        if self.tty:
            if frac - self.last < 0.001 and now - self.last_time < 0.5:
                return
        elif frac - self.last < 0.1 and now - self.last_time < 30.0:
            return
        self.last, self.last_time = frac, now
        self._show(frac, now)

    def _show(self, frac: float, now: float, final: bool = False) -> None:
        t0, f0 = self.first if self.first is not None else (self.start, 0.0)
        if now <= t0:  # the first report: measured from the start (a resume's kept part counted once)
            t0, f0 = self.start, 0.0
        spent = now - t0
        rate = (frac - f0) * self.nbytes / spent if spent > 0 else 0.0
        speed = f"{_size(rate)}/s" if rate > 0 else "-"
        if final:
            tail = f"{now - self.start:.1f}s"
        else:
            eta = (1.0 - frac) * self.nbytes / rate if rate > 0 else None
            tail = f"ETA {_duration(eta)}"
        bar = "#" * int(frac * 30)
        line = f"{self.label} [{bar:<30}] {frac * 100:5.1f}% {_size(frac * self.nbytes)}/{_size(self.nbytes)} " \
               f"{speed} {tail}"
        if self.tty:
            sys.stderr.write(f"\r{line}")
            _Progress.open_line = not final
            if final:
                sys.stderr.write("\n")
        else:
            sys.stderr.write(line + "\n")
        sys.stderr.flush()

    def finish(self) -> None:
        """The output is complete, synced and published: 100 %."""
        if self.enabled:
            self._show(1.0, time.monotonic(), final=True)


def _size(nbytes: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(nbytes) < 1024 or unit == "GiB":
            return f"{nbytes:.0f} {unit}" if unit == "B" else f"{nbytes:.1f} {unit}"
        nbytes /= 1024
    return f"{nbytes:.1f} GiB"  # pragma: no cover


def _duration(seconds: float | None) -> str:
    if seconds is None or not math.isfinite(seconds):
        return "?"
    s = int(seconds + 0.5)
    return f"{s // 3600}h{s % 3600 // 60:02d}m" if s >= 3600 else f"{s // 60}m{s % 60:02d}s" if s >= 60 else f"{s}s"


def _json_safe(obj: Any) -> Any:
    """``obj`` with every non-finite float as the string ``"inf"``, ``"-inf"`` or ``"nan"`` (standard JSON).

    Example:
        >>> _json_safe({"std": float("inf"), "bounds": (-float("inf"), 0.5)})
        {'std': 'inf', 'bounds': ['-inf', 0.5]}
    """
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else str(obj)
    if isinstance(obj, dict):
        return {k: _json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_json_safe(v) for v in obj]
    return obj


def _equivalents(spec: Spec, shape: tuple[int, ...]) -> dict[str, Any]:
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


def _explain(args: argparse.Namespace) -> int:
    spec, init = resolve(args.spec, args.tf_version)
    if args.layout is not None:
        if init is None:
            raise _UsageError("--layout applies to varscale SPECs only; a framework expression has its own layout")
        init = spec_from_string(args.spec, layout=args.layout)
        spec = spec_from_initializer(init, args.spec)
    d = spec.describe(args.shape)
    if init is not None:
        real = init.describe(args.shape)
        d["formula"] = real.formula
    eq = _equivalents(spec, args.shape)
    if args.json:
        base: dict[str, Any] = init.describe(args.shape).as_dict() if init is not None else {
            "scale": spec.scale, "distribution": spec.family}
        base.update(d)
        base.update(shape=list(d["shape"]), bounds=[b if math.isfinite(b) else str(b) for b in d["bounds"]])
        d = base
        print(json.dumps(_json_safe(dict(d, equivalents=eq)), indent=2, allow_nan=False))
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


def _target(text: str) -> str:
    try:
        return target_name(text)
    except VarscaleError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def _translate(args: argparse.Namespace) -> int:
    if (args.spec is None) == (args.file is None):
        raise _UsageError("give either SPEC or --file FILE")
    if args.file is not None:
        return _translate_file(args)
    spec, _ = resolve(args.spec, args.tf_version)
    if args.target_shape is not None and args.shape is not None:
        raise _UsageError("give --shape or --target-shape, not both")
    shape, read_in = args.shape, "source"
    if args.target_shape is not None or (args.shape is not None and args.shape_layout == "target"):
        target_shape = args.target_shape if args.target_shape is not None else args.shape
        src_layout = spec.layout if isinstance(spec.layout, str) else "tf"
        tgt_layout = {"torch": "torch", "mindspore": "torch"}.get(args.to, "tf" if args.to != "varscale"
                                                                  else src_layout)
        shape, read_in = to_layout(tuple(target_shape), tgt_layout, src_layout), "target"
    if args.numbers and shape is None:
        raise _UsageError("--numbers writes the numbers for one shape: give --shape or --target-shape")
    tr = translate(spec, args.to, shape, numbers=args.numbers)
    if args.json:
        print(json.dumps(_json_safe({"target": tr.target, "code": tr.code, "alternative": tr.alternative,
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


def _translate_file(args: argparse.Namespace) -> int:
    if args.shape is not None or args.target_shape is not None or args.numbers:
        raise _UsageError("--file translates every expression for every shape: --shape, --target-shape and "
                          "--numbers apply to one SPEC")
    try:
        text = Path(args.file).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise InvalidArgumentError(f"`file` cannot be read; received file={args.file!r}: {err}") from None
    rows = translate_file(text, args.to, tf_version=args.tf_version)
    missing = [r for r in rows if r.verdict == "untranslated"]
    if args.json:
        print(json.dumps(_json_safe({
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


def _io() -> Any:
    try:
        return importlib.import_module("varscale.io")
    except ImportError as err:
        raise VarscaleError(f"varscale.io is not available ({err})") from None


def _init_of(text: str, shape: tuple[int, ...], seed: Any, layout: str | None = None) -> VarianceScaling | BasicInitializer:
    spec, init = resolve(text)
    if init is not None:
        cfg = init.get_config()
        cfg["seed"] = seed
        if layout is not None:
            cfg["layout"] = layout
        return type(init).from_config(cfg)
    if layout is not None:
        raise _UsageError("--layout applies to varscale SPECs only; a framework expression has its own layout")
    return initializer_for(spec, shape, seed)


def _sample(args: argparse.Namespace) -> int:
    out = str(args.out)
    if not out.endswith((".npy", ".safetensors", ".zarr")):
        raise _UsageError(f"--out must end in .npy, .safetensors or .zarr; received {out!r}")
    init = _init_of(args.spec, args.shape, args.seed, args.layout)
    url = re.match(r"^[A-Za-z][A-Za-z0-9+.\-]*://", out) is not None
    if url and not out.endswith(".zarr"):
        raise _UsageError(f"only a .zarr --out may be a URL (fsspec: s3://, gs://, memory://, file://...); "
                          f"received {out!r}")
    target: Any = out if url else check_target(out, args.force, kind="zarr" if out.endswith(".zarr") else "file")
    if args.compressor != "none" and not out.endswith(".zarr"):
        raise _UsageError(f"--compressor applies to .zarr outputs only; received --out {out!r}")
    if (args.scheduler is not None or args.workers is not None) and not args.dask:
        raise _UsageError("--scheduler and --workers apply with --dask only")
    if args.dask and not out.endswith(".zarr"):
        raise _UsageError(f"--dask applies to .zarr outputs only (use varscale init --dask for shard files); "
                          f"received --out {out!r}")
    if url:  # no free-space check on a remote file system
        from ._dtypes import resolve_dtype

        nbytes = math.prod(args.shape) * resolve_dtype(args.dtype)[1].itemsize
    else:
        nbytes = _check_space(target, [args.shape], args.dtype)
    bar = _Progress(f"sample {out.rstrip('/').rpartition('/')[2]}", nbytes, not args.no_progress)
    if out.endswith(".npy"):
        _io().write_npy(target, init, args.shape, args.dtype, force=args.force, progress=bar, engine=args.engine)
    elif out.endswith(".safetensors"):
        _io().write_safetensors(target, {"weight": (init, args.shape, args.dtype)}, force=args.force, progress=bar,
                                provenance={"spec": args.spec, "seed": args.seed}, engine=args.engine)
    else:
        with _dask_client(args):  # an active client: Dask's store runs on its workers
            _io().write_zarr(target, init, args.shape, args.dtype, force=args.force, progress=bar,
                             compressor=args.compressor, provenance={"spec": args.spec, "seed": args.seed},
                             engine=args.engine)
    bar.finish()
    print(f"wrote {target} shape={tuple(args.shape)} dtype={args.dtype}")
    return 0


def _check_space(target: Any, shapes: Sequence[tuple[int, ...]], dtype: str) -> int:
    """Refuse, before writing anything, an output larger than the free space of its folder."""
    from ._dtypes import resolve_dtype

    nbytes = sum(math.prod(s) for s in shapes) * resolve_dtype(dtype)[1].itemsize
    shown = ", ".join(map(str, shapes[:4])) + (f" and {len(shapes) - 4} more" if len(shapes) > 4 else "")
    return check_space(Path(target), nbytes, f"{len(shapes)} tensor(s) of shape(s) {shown} and dtype={dtype!r}")


def _png_size(path: Any) -> tuple[int, int]:
    with open(path, "rb") as fh:
        head = fh.read(24)
    if head[:8] != b"\x89PNG\r\n\x1a\n":
        raise VarscaleError(f"{path} is not a PNG file")
    w, h = struct.unpack(">II", head[16:24])
    return int(w), int(h)


_PLOT_VALUES = 1 << 21  # values drawn for a histogram (16 MiB of float64)
_PLOT_BINS = 10_000  # more bins than the 800-pixel canvas has columns draw nothing more


def _leading_region(shape: tuple[int, ...], limit: int) -> tuple[int | slice, ...] | None:
    """A region of the first at most ``limit`` elements of ``shape`` in C order (at least one).

    Example:
        >>> _leading_region((1, 400_000_000), 1 << 21)
        (0, slice(0, 2097152, None))
        >>> _leading_region((300, 70), 1 << 21)
        (slice(0, 300, None),)
    """
    if not shape:
        return None
    region: list[int | slice] = []
    for axis, dim in enumerate(shape):
        per = math.prod(shape[axis + 1:])  # elements under one index of this axis
        if per <= limit:
            region.append(slice(0, max(1, min(dim, limit // max(per, 1)))))
            return tuple(region)
        region.append(0)
    return tuple(region)


def _plot(args: argparse.Namespace) -> int:
    if not str(args.out).endswith(".png"):
        raise _UsageError(f"--out must end in .png; received {args.out!r}")
    if not 1 <= args.bins <= _PLOT_BINS:
        raise _UsageError(f"--bins must be an integer from 1 to {_PLOT_BINS} (the canvas is 800 pixels wide); "
                          f"received {args.bins!r}")
    if math.prod(args.shape) == 0:
        raise InvalidArgumentError(f"`shape` has no elements to plot; received shape={tuple(args.shape)!r}.")
    try:  # the Agg canvas directly: no pyplot, no global backend switch
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise missing_extra("matplotlib", "plot", "varscale plot") from None
    spec, _ = resolve(args.spec)
    init = _init_of(args.spec, args.shape, args.seed)
    target = check_target(args.out, args.force)
    d = spec.describe(args.shape)
    # at most _PLOT_VALUES values: the first ones of the full tensor in C order (fans from the full shape)
    shape = tuple(args.shape)
    x = init(shape, "float64", region=_leading_region(shape, _PLOT_VALUES)).ravel()
    fig = Figure(figsize=(8, 5), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    ax.hist(x, bins=args.bins, density=True, alpha=0.6, label=f"sample (n={x.size})")
    lo, hi = d["bounds"]
    span = 4.5 * d["std"]
    grid = np.linspace(max(lo, -span) * 1.05, min(hi, span) * 1.05, 801)
    ax.plot(grid, density(spec, shape, grid), "k-", lw=1.5, label="exact density")
    ax.set_title(f"{spec.framework}: {spec.call} {shape}, std {d['std']:.4g}")
    ax.set_xlabel("value")
    ax.set_ylabel("density")
    ax.legend()
    with atomic_output(target, args.force) as fh:
        fig.savefig(fh, format="png")
    w, h = _png_size(target)
    print(f"wrote {target} ({w}x{h} PNG, {x.size} values)")
    return 0


def _read_shapes(path: str) -> dict[str, tuple[int, ...]]:
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
                    f"`shapes` has a bad safetensors header: the entry {_clip(k)} has no \"shape\" "
                    f"(received {_clip(v)}); received shapes={path!r}"
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
                f"`shapes` has a tensor name that is not valid UTF-8 text (a lone surrogate): {_clip(name)}; "
                f"received shapes={path!r}"
            ) from None
        if not isinstance(v, list) or not all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in v):
            raise InvalidArgumentError(
                f"`shapes`[{_clip(name)}] must be a list of non-negative ints; received {_clip(v)}"
            )
        out[name] = check_shape(v, f"shapes[{_clip(name)}]")
    return out


_JSON_TYPES = {list: "array", str: "string", int: "number", float: "number", bool: "boolean", type(None): "null"}


def _clip(value: Any, limit: int = 200) -> str:
    """``repr(value)`` (control characters and lone surrogates escaped), cut to ``limit`` characters."""
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _init(args: argparse.Namespace) -> int:
    from ._rules import BoundPlan, FanError, plan_param, resolve

    sharded = not str(args.out).endswith(".safetensors")
    if not sharded and args.max_shard_size is not None:
        raise _UsageError(f"--max-shard-size writes a folder of shard files: --out must name a folder, not a "
                          f".safetensors file; received --out {args.out!r}")
    if not sharded and args.resume:
        raise _UsageError(f"--resume continues a sharded folder: --out must name a folder, not a .safetensors "
                          f"file (a single file is written again whole); received --out {args.out!r}")
    if sharded and str(args.out).endswith((".npy", ".zarr", ".json", ".bin", ".pt", ".pth")):
        raise _UsageError(f"--out must be FILE.safetensors or a folder for shard files; received {args.out!r}")
    if (args.scheduler is not None or args.workers is not None) and not (args.dask and sharded):
        raise _UsageError("--scheduler and --workers apply with --dask and a folder --out (shard files written by "
                          "Dask workers)")
    limit = _io().parse_size(args.max_shard_size if args.max_shard_size is not None else _io().MAX_SHARD_SIZE,
                             "max_shard_size")
    raw: list[tuple[str, str]] = []
    for r in args.rule:
        glob, eq, spec = r.partition("=")
        if not eq or not glob.strip() or not spec.strip():
            raise _UsageError(f"--rule must be GLOB=SPEC; received {r!r}")
        raw.append((glob.strip(), spec.strip()))
    # the same rule language as varscale.torch.init_module: names, numbers, zeros/ones, normal(std=...),
    # torch function names, framework expressions; layouts are --layout's unless the SPEC gives one
    rules = [(g, resolve(_cli_rule(text), layout=args.layout or _source_layout(text), where=f"--rule {g}={text}"))
             for g, text in raw]
    shapes = _read_shapes(args.shapes)
    if sharded and args.resume:  # the writer checks the target, and the space left, against what is finished
        from ._dtypes import resolve_dtype

        total = sum(math.prod(s) for s in shapes.values()) * resolve_dtype(args.dtype)[1].itemsize
    else:
        if sharded:
            _io()._check_dir_target(args.out, args.force, "out")
        else:
            check_target(args.out, args.force)
        total = _check_space(Path(args.out), list(shapes.values()), args.dtype)
    record: dict[str, Any] = {"seed": args.seed, "layout": args.layout, "dtype": args.dtype,
                              "rules": [[g, t] for g, t in raw], "tensors": {}}
    tensors: dict[str, tuple[Any, tuple[int, ...], str]] = {}
    rows = []
    used: set[str] = set()
    unmatched: list[str] = []
    fan_errors: list[str] = []
    for name, shape in shapes.items():
        match = next(((g, i) for g, i in rules if fnmatch.fnmatchcase(name, g)), None)
        if match is None:
            unmatched.append(name)
            continue
        used.add(match[0])
        try:
            plan = plan_param(match[1], shape, args.layout or "tf")
        except FanError as err:
            fan_errors.append(f"{name} {shape} (rule {match[0]!r}: {err})")
            continue
        stream = derive_stream(args.seed, name)
        init = match[1]
        text = next(t for (_, t), (_, i) in zip(raw, rules, strict=True) if i is init)
        record["tensors"][name] = {"rule": text, "glob": match[0],
                                   "layout": args.layout or _source_layout(text), "fans": args.layout or "tf"}
        if args.dask and not sharded and isinstance(init, VarianceScaling):
            try:
                dask_mod = importlib.import_module("varscale.dask")
            except ImportError as err:
                raise BackendUnavailableError(f"--dask needs varscale.dask and Dask ({err})") from None
            # a Dask array: io computes it region by region, each chunk drawn where it is computed
            tensors[name] = (dask_mod.array(init, shape, args.dtype, seed=stream), shape, args.dtype)
        else:
            tensors[name] = (BoundPlan(plan, stream), shape, args.dtype)
        rows.append((_escape(name), str(shape), plan.label, plan.layout,
                     "-" if plan.fan_in is None else str(plan.fan_in),
                     "-" if plan.fan_out is None else str(plan.fan_out),
                     "-" if plan.std is None else f"{plan.std:.4g}", _escape(match[0])))
    problems = []
    if unmatched:
        problems.append(f"{len(unmatched)} tensor(s) match no --rule: {_some([_clip(n) for n in unmatched])}; "
                        f"rules: {_some([_escape(g) for g, _ in rules])}")
    if fan_errors:
        problems.append(f"{len(fan_errors)} tensor(s) with fewer than 2 dimensions matched a fan-based rule: "
                        f"{_some(fan_errors)}; put a rule for them first (e.g. --rule '*.bias=zeros')")
    unused = [g for g, _ in rules if g not in used]
    if unused:
        problems.append(f"{len(unused)} --rule(s) match no tensor: {_some([_escape(g) for g in unused])}")
    if problems:
        raise InvalidArgumentError("; ".join(problems) + ".")
    bar = _Progress(f"init {args.out}", total, not args.no_progress)
    if sharded:
        try:
            with _dask_client(args) as client:
                _io().write_safetensors_sharded(args.out, tensors, max_shard_size=limit, force=args.force,
                                                resume=args.resume, progress=bar, provenance=record, client=client)
        except KeyboardInterrupt as err:
            partial = getattr(err, "varscale_partial", None)
            if partial is not None:
                err.varscale_note = (  # type: ignore[attr-defined]
                    f"{getattr(err, 'varscale_finished', 0)} of {getattr(err, 'varscale_files', '?')} shard "
                    f"file(s) are finished and kept in {partial!r}; run the same command with --resume to "
                    f"finish (or delete that folder)")
            raise
    else:
        _io().write_safetensors(args.out, tensors, force=args.force, progress=bar, metadata={"format": "pt"},
                                provenance=record)
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


_TORCH_CODE = re.compile(
    r"(^|[.\s])(kaiming_normal|kaiming_uniform|xavier_normal|xavier_uniform|normal|uniform|trunc_normal|"
    r"constant|orthogonal|zeros|ones)_\s*(\(|$)|\bnn\.init\.|\btorch\.|\bmindspore\.|\bms\."
)


def _source_layout(text: str) -> str:
    """The layout a rule's own code implies when --layout is not given: torch's for torch/MindSpore code."""
    return "torch" if _TORCH_CODE.search(text) else "tf"


def _cli_rule(text: str) -> Any:
    """A --rule SPEC: the rule language, plus the CLI's own JSON configs and ``name:key=value`` forms."""
    t = text.strip()
    if t.startswith("{") or (":" in t and _LEGACY.match(t)):
        return spec_from_string(t)
    return t


@contextlib.contextmanager
def _dask_client(args: argparse.Namespace) -> Iterator[Any]:
    """None without --dask; else a client of --scheduler, or of a local cluster of worker processes (closed after)."""
    if not args.dask:
        if args.scheduler is not None or args.workers is not None:
            raise _UsageError("--scheduler and --workers apply with --dask only")
        yield None
        return
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise missing_extra("dask.distributed", "dask", "varscale init --dask") from None
    if args.scheduler is not None:
        with Client(args.scheduler, timeout=30) as client:
            yield client
        return
    n = args.workers if args.workers is not None else max(1, os.cpu_count() or 1)
    if n < 1:
        raise _UsageError(f"--workers must be a positive integer; received {n}")
    import logging

    with LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None,
                      silence_logs=logging.ERROR) as cluster, Client(cluster) as client:
        yield client


def _escape(text: str) -> str:
    """A name as printable text: control characters and the like escaped."""
    return text if text.isprintable() else text.encode("unicode_escape", "backslashreplace").decode("ascii")


def _some(items: Sequence[str], limit: int = 8) -> str:
    return ", ".join(items[:limit]) + (f", … ({len(items) - limit} more)" if len(items) > limit else "")


def _warmup(args: argparse.Namespace) -> int:
    """Compile the kernel (or find it in the cache) and check every dtype runs without another compile."""
    from ._dtypes import DTYPE_NAMES
    from ._generate import draw, prepare_kernel
    from ._plan import uniform_sampler

    start = time.monotonic()
    compiled = prepare_kernel()
    for dtype in DTYPE_NAMES:
        draw((4,), dtype, uniform_sampler(-1.0, 1.0), derive_stream(0, "warmup"), engine="numba")
    from . import _engine_numba

    where = getattr(getattr(_engine_numba._tasks, "_cache", None), "_cache_path", "Numba's cache")
    done = "compiled" if compiled else "already compiled"
    print(f"varscale warmup: kernel {done} for {', '.join(DTYPE_NAMES)} in {time.monotonic() - start:.1f} s; "
          f"cache: {where}")
    return 0


def _compile_notice(message: str) -> None:
    """The one line the CLI prints before a compile that will actually happen."""
    _Progress.end_line()
    print(message, file=sys.stderr, flush=True)


def _run_command(args: argparse.Namespace) -> int:
    from ._generate import set_compile_listener

    set_compile_listener(_compile_notice)
    try:
        return _COMMANDS[args.command](args)
    finally:
        set_compile_listener(None)


def _verify(args: argparse.Namespace) -> int:
    text = str(args.sample).strip().lower()
    if text == "all":
        sample = None
    elif text.isdigit():
        sample = int(text)
    else:
        raise _UsageError(f"--sample must be a non-negative integer or 'all'; received {args.sample!r}")
    report = _io().verify(args.path, sample)
    rec = report.records[0] if report.records else {}
    if rec:
        print(f"{args.path}: varscale {rec.get('varscale_version', '?')}, stream v{rec.get('stream_version', '?')}, "
              f"seed {rec.get('seed', '-')}, layout {rec.get('layout') or '-'}")
    for file, tensor, why in report.mismatches[:50]:
        print(f"MISMATCH {_escape(file)}: {_escape(tensor)}: {why}")
    if len(report.mismatches) > 50:
        print(f"MISMATCH … {len(report.mismatches) - 50} more (varscale.io.verify returns them all)")
    for file, tensor, why in report.skipped[:20]:
        print(f"skipped  {_escape(file)}: {_escape(tensor)}: {why}")
    if len(report.skipped) > 20:
        print(f"skipped  … {len(report.skipped) - 20} more")
    what = "every element" if sample is None else f"{sample} sampled region(s) per tensor"
    verdict = "FAILED" if report.mismatches else "OK"
    print(f"{verdict}: {len(report.files)} file(s), {len(report.checked)} tensor(s) re-drawn and equal ({what}), "
          f"{len(report.mismatches)} mismatch(es), {len(report.skipped)} skipped")
    return 1 if report.mismatches else 0


_COMMANDS = {"explain": _explain, "translate": _translate, "sample": _sample, "plot": _plot, "init": _init,
             "verify": _verify,
             "warmup": _warmup}


class _Terminated(KeyboardInterrupt):
    """Raised in the main thread by the CLI's SIGTERM handler: it unwinds as Ctrl-C does, so a write
    in progress removes its temporary (the library installs no signal handler of its own)."""


def _on_sigterm(signum: int, frame: Any) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second SIGTERM does not cut the clean-up short
    raise _Terminated


def _catch_sigterm() -> Any:
    """Install the SIGTERM handler (main thread, default disposition only); returns the one to restore."""
    if threading.current_thread() is not threading.main_thread():
        return None
    if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        return None  # an embedding program's own handler (or SIG_IGN) stays in charge
    return signal.signal(signal.SIGTERM, _on_sigterm)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse already printed the usage error
        return int(exc.code or 0)
    previous = _catch_sigterm()
    try:
        return _run_command(args)
    except KeyboardInterrupt as err:  # Ctrl-C, or SIGTERM through _on_sigterm: writers removed their temporaries
        name, code = ("SIGTERM", 143) if isinstance(err, _Terminated) else ("SIGINT", 130)
        _Progress.end_line()
        note = getattr(err, "varscale_note", None) or "no unfinished output was left"
        print(f"varscale {args.command}: interrupted by {name}; {note}", file=sys.stderr)
        return code
    except BrokenPipeError:  # `varscale explain ... | head`
        sys.stdout = open(os.devnull, "w")
        return 0
    except _UsageError as err:
        print(f"varscale {args.command}: error: {err}", file=sys.stderr)
        return 2
    except (VarscaleError, TypeError, ValueError, OSError, MemoryError) as err:
        print(f"varscale {args.command}: error: {err}", file=sys.stderr)
        return 1
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
