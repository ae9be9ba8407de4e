"""One rank of the two-process gloo check of ``varscale.torch.fill_shard`` (run by test_torch_shard.py).

``python _torch_shard_worker.py RANK WORLD INIT_FILE OUT_DIR``: each rank fills its shards, the shards
are gathered with torch.distributed, and rank 0 saves the gathered tensors to OUT_DIR as .npy files.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist

import varscale as vs
from varscale.torch import fill_shard

SEED = 2024
FULL = (13, 6)  # 13 rows: uneven chunks over two ranks (7 + 6), as FSDP's torch.chunk gives


def main() -> None:
    rank, world, init_file, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], Path(sys.argv[4])
    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=world)
    init = vs.HeNormal(layout="torch")
    stream = vs.derive_stream(SEED, "layer.weight")

    # FSDP-style: dim-0 chunks of the flat parameter's rows, uneven last chunk
    rows = torch.arange(FULL[0]).chunk(world)
    mine = rows[rank]
    local = torch.empty(len(mine), FULL[1])
    fill_shard(local, init, FULL, (int(mine[0]),), stream)
    sizes = [len(r) for r in rows]
    padded = torch.zeros(max(sizes), FULL[1])
    padded[: len(mine)] = local
    gathered = [torch.empty_like(padded) for _ in range(world)]
    dist.all_gather(gathered, padded)
    fsdp = torch.cat([g[:n] for g, n in zip(gathered, sizes, strict=True)])

    # DTensor: Shard(1) placement on a 1-D CPU mesh; offsets from torch's own layout computation
    from torch.distributed.tensor import DeviceMesh, Shard
    from torch.distributed.tensor import empty as dt_empty
    from torch.distributed.tensor._utils import compute_local_shape_and_global_offset

    mesh = DeviceMesh("cpu", list(range(world)))
    full2 = (5, 11)
    dt = dt_empty(full2, device_mesh=mesh, placements=[Shard(1)], dtype=torch.float64)
    shape, offset = compute_local_shape_and_global_offset(full2, mesh, dt.placements)
    assert tuple(dt.to_local().shape) == tuple(shape)
    fill_shard(dt.to_local(), "glorot_uniform", full2, offset, vs.derive_stream(SEED, "proj.weight"))
    dtensor_full = dt.full_tensor()

    if rank == 0:
        np.save(out / "fsdp.npy", fsdp.numpy())
        np.save(out / "dtensor.npy", dtensor_full.numpy())
        np.save(out / "offsets.npy", np.array([int(r[0]) for r in rows]))
    dist.barrier()
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
