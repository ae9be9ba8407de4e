"""One rank of the two-process gloo check of ``init_module`` on FSDP2 and tensor-parallel (DTensor) modules
(run by test_torch_fsdp.py).

``python _torch_fsdp_worker.py RANK WORLD INIT_FILE OUT_DIR``: each rank builds the model on the meta device,
shards it (FSDP2 ``fully_shard`` on a 1-D mesh, or ``parallelize_module`` with column/row-wise placements),
materializes it with ``to_empty``, runs ``init_module`` (which fills only the local shards), gathers every
parameter with ``full_tensor()`` and rank 0 saves them as .npy files.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
from torch import nn

from varscale.torch import init_module


def build() -> nn.Module:
    return nn.Sequential(nn.Linear(12, 13), nn.LayerNorm(13), nn.Linear(13, 7), nn.Embedding(9, 6, padding_idx=4))


RULES = [("0.weight", "kaiming_normal_(mode='fan_out')"), ("2.weight", "orthogonal")]


def main() -> None:
    rank, world, init_file, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], Path(sys.argv[4])
    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=world)
    from torch.distributed.device_mesh import init_device_mesh
    from torch.distributed.fsdp import fully_shard
    from torch.distributed.tensor.parallel import (
        ColwiseParallel,
        RowwiseParallel,
        parallelize_module,
    )

    mesh = init_device_mesh("cpu", (world,))
    results = {}
    for kind in ("fsdp2", "tp"):
        with torch.device("meta"):
            model = build()
        if kind == "fsdp2":
            for layer in model:
                fully_shard(layer, mesh=mesh)
            fully_shard(model, mesh=mesh)
        else:
            parallelize_module(model, mesh, {"0": ColwiseParallel(), "2": RowwiseParallel()})
        model.to_empty(device="cpu")
        init_module(model, RULES, seed=7, default="torch")
        if kind == "fsdp2":
            # the recipe of docs/scale-out.md: each rank writes its local shards with torch.distributed.checkpoint
            import torch.distributed.checkpoint as dcp

            dcp.save({"model": model.state_dict()}, checkpoint_id=str(out / "dcp"))
        for name, p in model.named_parameters():
            full = p.full_tensor() if hasattr(p, "full_tensor") else p.detach()
            results[f"{kind}.{name}"] = full.detach().numpy().copy()
    if rank == 0:
        for key, value in results.items():
            np.save(out / f"{key}.npy", value)
    dist.barrier()
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
