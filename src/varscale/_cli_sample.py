"""``varscale sample`` and ``varscale plot``: one tensor, drawn by the library's writers and initializers.

A SPEC becomes an initializer through ``varscale._forms`` (varscale's own
forms) or ``varscale._law`` (any framework's expression); the values are
drawn and written by ``varscale.io`` region by region, on the engine given.

Example:
    >>> _leading_region((300, 70), 1 << 21)
    (slice(0, 300, None),)
"""

from __future__ import annotations

import argparse
import math
import os
import struct
from typing import TYPE_CHECKING, Any

import numpy as np

from ._basic import BasicInitializer
from ._cli_common import (
    UsageError,
    check_free_space,
    dask_client,
    io_module,
    output_bytes,
)
from ._cli_progress import Progress
from ._errors import InvalidArgumentError, VarscaleError, missing_extra
from ._files import atomic_output, check_target, is_url
from ._forms import read, with_seed
from ._initializer import VarianceScaling
from ._law import density, initializer_for

if TYPE_CHECKING:
    from ._parse import Spec

__all__ = ["initializer_of", "plot_grid", "png_size", "run_plot", "run_sample"]


def initializer_of(text: str, shape: tuple[int, ...], seed: int | None,
                   layout: str | None = None) -> tuple[Spec, VarianceScaling | BasicInitializer]:
    """A SPEC's law, and the core initializer drawing it for ``shape`` from ``seed``'s stream."""
    spec, init = read(text)
    if init is not None:
        return spec, with_seed(init, seed, layout)
    if layout is not None:
        raise UsageError("--layout applies to varscale SPECs only; a framework expression has its own layout")
    return spec, initializer_for(spec, shape, seed)


def run_sample(args: argparse.Namespace) -> int:
    out = str(args.out)
    if not out.endswith((".npy", ".safetensors", ".zarr")):
        raise UsageError(f"--out must end in .npy, .safetensors or .zarr; received {out!r}")
    _, init = initializer_of(args.spec, args.shape, args.seed, args.layout)
    url = is_url(out)
    if url and not out.endswith(".zarr"):
        raise UsageError(f"only a .zarr --out may be a URL (fsspec: s3://, gs://, memory://, file://...); "
                         f"received {out!r}")
    if args.resume and (url or not out.endswith(".zarr")):
        raise UsageError(f"--resume applies to a local .zarr --out (varscale init --resume for shard folders); "
                         f"received --out {out!r}")
    resumed = args.resume and os.path.lexists(out)  # the writer checks a finished store against these arguments
    target: Any = out if url or resumed else check_target(out, args.force,
                                                          kind="zarr" if out.endswith(".zarr") else "file")
    if args.compressor != "none" and not out.endswith(".zarr"):
        raise UsageError(f"--compressor applies to .zarr outputs only; received --out {out!r}")
    if (args.scheduler is not None or args.workers is not None) and not args.dask:
        raise UsageError("--scheduler and --workers apply with --dask only")
    if args.dask and not out.endswith(".zarr"):
        raise UsageError(f"--dask applies to .zarr outputs only (use varscale init --dask for shard files); "
                         f"received --out {out!r}")
    # no free-space check on a remote file system; a resume's writer checks the space what is left needs
    nbytes = output_bytes([args.shape], args.dtype) if url or args.resume else \
        check_free_space(target, [args.shape], args.dtype)
    bar = Progress(f"sample {out.rstrip('/').rpartition('/')[2]}", nbytes, not args.no_progress)
    io = io_module()
    if out.endswith(".npy"):
        io.write_npy(target, init, args.shape, args.dtype, force=args.force, progress=bar, engine=args.engine)
    elif out.endswith(".safetensors"):
        io.write_safetensors(target, {"weight": (init, args.shape, args.dtype)}, force=args.force, progress=bar,
                             provenance={"spec": args.spec, "seed": args.seed}, engine=args.engine)
    else:
        with dask_client(args):  # an active client: Dask's store runs on its workers
            io.write_zarr(target, init, args.shape, args.dtype, force=args.force, progress=bar,
                          compressor=args.compressor, provenance={"spec": args.spec, "seed": args.seed},
                          engine=args.engine, resume=args.resume)
    bar.finish()
    print(f"wrote {target} shape={tuple(args.shape)} dtype={args.dtype}")
    return 0


def png_size(path: Any) -> tuple[int, int]:
    """The width and height a PNG file's header gives."""
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


def plot_grid(bounds: tuple[float, float], mean: float, std: float, points: int = 801) -> np.ndarray[Any, Any]:
    """Where the density is drawn: the law's support within ``mean ± 4.5·std``, and 5 % more on each side.

    Example:
        >>> g = plot_grid((-math.inf, math.inf), 1.0, 0.05)
        >>> round(float(g[0]), 4), round(float(g[-1]), 4)
        (0.7525, 1.2475)
    """
    a, b = max(bounds[0], mean - 4.5 * std), min(bounds[1], mean + 4.5 * std)
    return np.linspace(a - 0.05 * (b - a), b + 0.05 * (b - a), points)


def run_plot(args: argparse.Namespace) -> int:
    if not str(args.out).endswith(".png"):
        raise UsageError(f"--out must end in .png; received {args.out!r}")
    if not 1 <= args.bins <= _PLOT_BINS:
        raise UsageError(f"--bins must be an integer from 1 to {_PLOT_BINS} (the canvas is 800 pixels wide); "
                         f"received {args.bins!r}")
    if math.prod(args.shape) == 0:
        raise InvalidArgumentError(f"`shape` has no elements to plot; received shape={tuple(args.shape)!r}.")
    try:  # the Agg canvas directly: no pyplot, no global backend switch
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise missing_extra("matplotlib", "plot", "varscale plot") from None
    spec, init = initializer_of(args.spec, args.shape, args.seed)
    target = check_target(args.out, args.force)
    d = spec.describe(args.shape)
    # at most _PLOT_VALUES values: the first ones of the full tensor in C order (fans from the full shape)
    shape = tuple(args.shape)
    x = init(shape, "float64", region=_leading_region(shape, _PLOT_VALUES)).ravel()
    fig = Figure(figsize=(8, 5), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    ax.hist(x, bins=args.bins, density=True, alpha=0.6, label=f"sample (n={x.size})")
    grid = plot_grid(d["bounds"], d.get("mean") or 0.0, d["std"])
    ax.plot(grid, density(spec, shape, grid), "k-", lw=1.5, label="exact density")
    ax.set_title(f"{spec.framework}: {spec.call} {shape}, std {d['std']:.4g}")
    ax.set_xlabel("value")
    ax.set_ylabel("density")
    ax.legend()
    with atomic_output(target, args.force) as fh:
        fig.savefig(fh, format="png")
    w, h = png_size(target)
    print(f"wrote {target} ({w}x{h} PNG, {x.size} values)")
    return 0
