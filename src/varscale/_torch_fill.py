"""How values reach a torch tensor: in place, through staging buffers, or on the tensor's device.

:func:`fill_param` writes a parameter (or the block of it at some offsets) by a
:class:`~varscale._rules.ParamPlan`: a CPU tensor's own memory is filled by the
compiled kernel, an accelerator's tensor by the stream in torch ops
(:mod:`varscale._engine_torch`), anything else region by region through
(pinned, double-buffered) host copies. :func:`local_part` is the block a
process holds of a ``DTensor`` parameter. Used by :mod:`varscale.torch`.
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np
import torch

from ._dtypes import resolve_dtype
from ._errors import InvalidArgumentError
from ._generate import draw, draw_into
from ._rules import ParamPlan
from .io import regions
from .stream import Stream

__all__ = ["check_engine", "check_gen_dtype", "check_target", "dtensor_type", "fill_param", "local_part"]


def _numpy_view(t: torch.Tensor) -> np.ndarray[Any, Any] | None:
    """The tensor's own memory as a flat NumPy array in the stream's storage dtype, or None."""
    if t.device.type != "cpu" or not t.is_contiguous() or t.dtype not in _STORAGE:
        return None
    if t.dtype in (torch.float16, torch.bfloat16):
        arr: np.ndarray[Any, Any] = t.detach().view(torch.int16).numpy().view(np.uint16)
    else:
        arr = t.detach().numpy()
    return arr.reshape(-1)


_STORAGE = {torch.float16: "float16", torch.bfloat16: "bfloat16", torch.float32: "float32", torch.float64: "float64"}


def fill_param(
    param: torch.Tensor,
    shape: tuple[int, ...],
    plan: ParamPlan,
    stream: Stream,
    gen_dtype: str | None,
    chunk_elems: int,
    full_shape: tuple[int, ...] | None = None,
    offsets: tuple[int, ...] | None = None,
    engine: str | None = None,
) -> None:
    """Fill ``param`` (of ``shape``), the block at ``offsets`` of ``full_shape``, by ``plan``.

    ``engine``: None (the compiled kernel for CPU tensors, the torch engine on accelerators), ``"torch"``
    (the torch engine everywhere) or ``"numba"``/``"numpy"`` (host engines, copied to the device)."""
    full = shape if full_shape is None else full_shape
    offs = offsets if offsets is not None else (0,) * len(shape)
    whole = full == shape
    dtype = gen_dtype if gen_dtype is not None else _STORAGE.get(param.dtype, "float32")
    if plan.constant is not None:
        # rounded once from float64 as every draw is (torch's fill_ of a Python float may round twice)
        value = plan.draw((), dtype, stream)
        param.fill_(float(value))  # exactly representable in the parameter's dtype: no second rounding
        return
    if plan.matrix is not None:
        values = plan.draw(full, dtype, stream)
        if not whole:
            values = values[tuple(slice(o, o + n) for o, n in zip(offs, shape, strict=True))]
        param.copy_(_to_torch(np.ascontiguousarray(values)).reshape(shape))
        return
    assert plan.sampler is not None
    sampler = plan.sampler
    if engine == "torch" or (engine is None and param.device.type != "cpu"):
        # the stream in torch ops on the tensor's own device (same bits; no host round trip)
        from ._engine_torch import fill_tensor

        where = None if whole else tuple(slice(o, o + n) for o, n in zip(offs, shape, strict=True))
        if gen_dtype is None:
            fill_tensor(param, full, sampler, stream, region=where)
        else:
            tmp = torch.empty(shape, dtype=getattr(torch, gen_dtype), device=param.device)
            param.copy_(fill_tensor(tmp, full, sampler, stream, region=where))
        return
    view = _numpy_view(param) if gen_dtype is None else None
    if view is not None and whole:
        draw_into(view, full, dtype, sampler, stream, engine=engine)
        return
    if not shape:
        param.copy_(_to_torch(np.asarray(draw(full, dtype, sampler, stream))).reshape(()))
        return
    staging = _Staging(param.device) if param.device.type == "cuda" else None
    for region, _ in regions(shape, chunk_elems):
        where = tuple(
            slice((r.start or 0) + o, (n if r.stop is None else r.stop) + o)
            for r, o, n in zip(region, offs, shape, strict=True)
        )
        if view is not None:
            # a contiguous CPU shard: write its regions in place
            sub = param[region]
            sub_view = _numpy_view(sub)
            if sub_view is not None:
                draw_into(sub_view, full, dtype, sampler, stream, region=where, engine=engine)
                continue
        block = draw(full, dtype, sampler, stream, region=where, engine=engine)
        if staging is not None:
            staging.copy(param[region], block)
        else:
            param[region].copy_(_to_torch(block))
    if staging is not None:
        staging.finish()


def _to_torch(block: np.ndarray[Any, Any]) -> torch.Tensor:
    if block.dtype.name == "bfloat16":
        return torch.from_numpy(block.view(np.int16)).view(torch.bfloat16)
    return torch.from_numpy(block)


class _Staging:
    """Host→device copies through two pinned buffers, each copy overlapped with drawing the next block."""

    def __init__(self, device: torch.device) -> None:
        self.device = device
        self.buffers: list[torch.Tensor | None] = [None, None]
        self.events: list[Any] = [None, None]
        self.i = 0

    def copy(self, dst: torch.Tensor, block: np.ndarray[Any, Any]) -> None:
        src = _to_torch(block)
        k = self.i % 2
        self.i += 1
        if self.events[k] is not None:
            self.events[k].synchronize()  # the copy that used this buffer has finished
        buf = self.buffers[k]
        if buf is None or buf.numel() < src.numel() or buf.dtype != src.dtype:
            buf = torch.empty(src.numel(), dtype=src.dtype, pin_memory=True)
            self.buffers[k] = buf
        host = buf[: src.numel()].view(src.shape)
        host.copy_(src)
        dst.copy_(host, non_blocking=True)
        event = torch.cuda.Event()
        event.record()
        self.events[k] = event

    def finish(self) -> None:
        for event in self.events:
            if event is not None:
                event.synchronize()


def check_target(tensor: Any, name: str, argument: str) -> torch.Tensor:
    if not isinstance(tensor, torch.Tensor):
        raise TypeError(f"`{argument}` must be a torch.Tensor; received {argument}={tensor!r}.")
    if tensor.device.type == "meta":
        raise InvalidArgumentError(
            f"{name} is on the meta device and has no storage to fill; materialize the module first "
            f"(module.to_empty(device='cpu'))."
        )
    if not tensor.is_floating_point():
        raise InvalidArgumentError(f"{name} has dtype {tensor.dtype}; only floating tensors can be initialized.")
    return tensor


def check_engine(engine: Any) -> str | None:
    if engine is None:
        return None
    if engine not in ("torch", "numba", "numpy"):
        raise InvalidArgumentError(
            f"`engine` must be None (automatic), 'torch', 'numba' or 'numpy'; received engine={engine!r}."
        )
    return str(engine)


def check_gen_dtype(gen_dtype: Any) -> str | None:
    if gen_dtype is None:
        return None
    name = str(resolve_dtype(gen_dtype, "gen_dtype")[0].name)
    if name not in ("float32", "float64"):
        raise InvalidArgumentError(
            f"`gen_dtype` must be None (each parameter's own dtype), 'float32' or 'float64'; "
            f"received gen_dtype={gen_dtype!r}."
        )
    return name


def dtensor_type() -> Any:
    mod = sys.modules.get("torch.distributed.tensor")
    return getattr(mod, "DTensor", None) if mod is not None else None


def local_part(param: torch.Tensor, name: str) -> tuple[torch.Tensor, tuple[int, ...]]:
    """The tensor this process fills and its offsets in the full parameter.

    A plain parameter is its own local part (offsets 0). A ``DTensor`` parameter (FSDP2's ``fully_shard``,
    tensor parallelism, ``distribute_tensor``) is filled through its local shard only, at the offsets torch's
    own checkpointing uses (``DTensor.__create_chunk_list__``, what torch.distributed.checkpoint writes), so
    gathering every rank's shard gives the single-process tensor bit for bit.
    """
    dtensor = dtensor_type()
    if dtensor is None or not isinstance(param, dtensor):
        return param.data, (0,) * param.dim()
    if any(p.is_partial() for p in param.placements):
        raise InvalidArgumentError(
            f"parameter {name!r} is a DTensor with a Partial placement ({param.placements}): its local values "
            f"are summands, not a shard; redistribute it to Shard/Replicate placements before init_module."
        )
    chunks = param.__create_chunk_list__()
    local = param.to_local()
    if len(chunks) != 1 or tuple(chunks[0].sizes) != tuple(local.shape):
        raise InvalidArgumentError(
            f"parameter {name!r}: its local shard {tuple(local.shape)} is not one block of the full tensor "
            f"({param.placements}); varscale fills Shard(d)/Replicate placements."
        )
    return local, tuple(int(o) for o in chunks[0].offsets)
