"""The ``varscale`` command line: a thin shell over the library.

Commands: ``explain``, ``translate`` (``varscale._cli_explain``), ``sample``,
``plot`` (``varscale._cli_sample``), ``init``, ``verify``
(``varscale._cli_init``) and ``warmup``. Every number, law, conversion and
file comes from the library (``varscale.parse``/``translate``,
``varscale._forms`` for SPEC texts, ``varscale._law`` for a framework's law,
``varscale._rules`` for ``--rule``, ``varscale.io`` for the files); this
module holds the argument parser, the dispatch and the exit codes.

Exit codes: 0 success, 1 failure (a library error), 2 usage error, 130 interrupted by
SIGINT (Ctrl-C), 143 terminated by SIGTERM; an interrupted write removes its temporary.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import time
from collections.abc import Sequence
from typing import Any

from ._cli_common import UsageError, shape_arg
from ._cli_explain import run_explain, run_translate, target_arg
from ._cli_init import run_init, run_verify
from ._cli_progress import Progress
from ._cli_sample import _PLOT_VALUES as _PLOT_VALUES
from ._cli_sample import _leading_region as _leading_region
from ._cli_sample import run_plot, run_sample
from ._dtypes import DTYPE_NAMES
from ._errors import VarscaleError
from ._fans import LAYOUT_NAMES
from ._forms import SpecSyntaxError
from ._forms import initializer_from_text as spec_from_string
from ._forms import read as resolve
from ._generate import ENGINES
from ._law import initializer_for
from ._translate import TARGETS
from .stream import derive_stream

__all__ = ["initializer_for", "main", "resolve", "spec_from_string"]


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
    ex.add_argument("--shape", type=shape_arg, required=True, help="comma-separated, e.g. 3,3,64,128")
    ex.add_argument("--layout", choices=LAYOUT_NAMES, default=None)
    ex.add_argument("--tf-version", default=None, help="the TensorFlow version a TF1 source ran under (e.g. 1.9)")
    ex.add_argument("--json", action="store_true", help="print JSON instead of a table")

    tr = sub.add_parser("translate", help="rewrite an initializer for another framework, with a verdict")
    tr.add_argument("spec", nargs="?", default=None, help=spec_help)
    tr.add_argument("--to", required=True, type=target_arg,
                    help=f"one of {', '.join(TARGETS)} (or pytorch, flax, tf_keras, ms...)")
    tr.add_argument("--file", default=None, help="translate every initializer expression of this Python file "
                    "(read with ast, never run)")
    tr.add_argument("--shape", type=shape_arg, default=None,
                    help="the weight shape, read in the SOURCE framework's layout (see --shape-layout)")
    tr.add_argument("--target-shape", type=shape_arg, default=None,
                    help="the weight shape in the TARGET framework's layout (instead of --shape)")
    tr.add_argument("--shape-layout", choices=["source", "target"], default="source",
                    help="which framework's layout --shape is read in (default: source)")
    tr.add_argument("--numbers", action="store_true",
                    help="write the numbers for --shape instead of a snippet that is exact for every shape")
    tr.add_argument("--tf-version", default=None, help="the TensorFlow version a TF1 source ran under (e.g. 1.9)")
    tr.add_argument("--json", action="store_true")

    sa = sub.add_parser("sample", help="draw a tensor and write it to .npy, .safetensors or .zarr")
    sa.add_argument("spec", help=spec_help)
    sa.add_argument("--shape", type=shape_arg, required=True)
    sa.add_argument("--seed", type=int, required=True)
    sa.add_argument("--dtype", default="float32", help=", ".join(DTYPE_NAMES))
    sa.add_argument("--layout", choices=LAYOUT_NAMES, default=None)
    sa.add_argument("--engine", choices=ENGINES, default=None,
                    help="the engine that draws every region (default: the fastest ready; the bits are the same)")
    sa.add_argument("--out", required=True, help="output .npy, .safetensors or .zarr (written atomically)")
    sa.add_argument("--force", action="store_true",
                    help="overwrite an existing file (or Zarr store; any other folder is refused)")
    sa.add_argument("--no-progress", action="store_true")
    sa.add_argument("--resume", action="store_true",
                    help=".zarr: keep the finished chunks if this run is interrupted (SIGTERM, Ctrl-C, a kill), and "
                         "continue an interrupted run of the same command (finished chunks checked and kept)")
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
    pl.add_argument("--shape", type=shape_arg, required=True)
    pl.add_argument("--seed", type=int, default=0)
    pl.add_argument("--bins", type=int, default=100)
    pl.add_argument("--out", required=True, help="output .png (written atomically)")
    pl.add_argument("--force", action="store_true")

    it = sub.add_parser("init", help="a whole checkpoint from tensor names, shapes and rules")
    it.add_argument("--shapes", required=True, help="JSON {name: shape} or an existing .safetensors file")
    it.add_argument("--rule", action="append", required=True, metavar="GLOB=SPEC",
                    help="first matching rule wins, e.g. '*.weight=he_normal', '*.bias=zeros', "
                         "'*embed*=normal(std=0.02)', '*.weight=kaiming_uniform_(a=5**0.5)'")
    it.add_argument("--layout", choices=LAYOUT_NAMES, default=None,
                    help="how fans are read from shapes: tf (*kernel, in, out; the default) or torch (out, in, *kernel)")
    it.add_argument("--seed", type=int, required=True)
    it.add_argument("--dtype", default="float32", help=", ".join(DTYPE_NAMES))
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
    it.add_argument("--engine", choices=ENGINES, default=None,
                    help="the engine that draws every region (default: the fastest ready; the bits are the same)")
    it.add_argument("--no-progress", action="store_true")

    ve = sub.add_parser("verify", help="re-draw sampled regions of a varscale checkpoint from its own metadata")
    ve.add_argument("path", help="a .safetensors file, a sharded checkpoint folder or a .zarr store")
    ve.add_argument("--sample", default="8", metavar="N",
                    help="regions re-drawn per tensor (default 8, plus its first and last elements); 'all' checks "
                         "every element")

    sub.add_parser("warmup", help="compile the kernel into Numba's cache now, once for all dtypes "
                   "(for Dockerfiles and CI: RUN varscale warmup)")
    return p


def _compile_notice(message: str) -> None:
    """The one line the CLI prints before a compile that will actually happen."""
    Progress.end_line()
    print(message, file=sys.stderr, flush=True)


def run_warmup(args: argparse.Namespace) -> int:
    """Compile the kernel (or find it in the cache) and check every dtype runs without another compile."""
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


def _run_command(args: argparse.Namespace) -> int:
    from ._generate import set_compile_listener

    set_compile_listener(_compile_notice)
    try:
        return _COMMANDS[args.command](args)
    finally:
        set_compile_listener(None)


_COMMANDS = {"explain": run_explain, "translate": run_translate, "sample": run_sample, "plot": run_plot,
             "init": run_init, "verify": run_verify, "warmup": run_warmup}


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
        Progress.end_line()
        note = getattr(err, "varscale_note", None) or "no unfinished output was left"
        print(f"varscale {args.command}: interrupted by {name}; {note}", file=sys.stderr)
        return code
    except BrokenPipeError:  # `varscale explain ... | head`
        sys.stdout = open(os.devnull, "w")
        return 0
    except (UsageError, SpecSyntaxError) as err:
        print(f"varscale {args.command}: error: {err}", file=sys.stderr)
        return 2
    except (VarscaleError, TypeError, ValueError, OSError, MemoryError) as err:
        print(f"varscale {args.command}: error: {err}", file=sys.stderr)
        return 1
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
