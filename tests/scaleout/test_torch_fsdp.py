"""init_module on FSDP2 (fully_shard) and tensor-parallel (DTensor) modules over two gloo ranks: each rank fills
its local shards only, and the gathered parameters equal the single-process init bit for bit."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from _support import need

WORKER = Path(__file__).with_name("_torch_fsdp_worker.py")


def test_fsdp2_and_tensor_parallel_equal_the_single_process_init(tmp_path: Path) -> None:
    torch = need("torch")
    need("torch.distributed")
    env = dict(os.environ)
    env.setdefault("NUMBA_CACHE_DIR", "/tmp/nbcache-scale")
    env["PYTHONPATH"] = os.pathsep.join(p for p in [str(Path(__file__).parents[2] / "src"), str(Path(__file__).parent),
                                                     env.get("PYTHONPATH")] if p)
    init_file = tmp_path / "rendezvous"
    procs = [
        subprocess.Popen([sys.executable, str(WORKER), str(rank), "2", str(init_file), str(tmp_path)], env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for rank in range(2)
    ]
    try:
        outputs = [p.communicate(timeout=300)[0] for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    assert [p.returncode for p in procs] == [0, 0], "\n".join(outputs)

    sys.path.insert(0, str(WORKER.parent))
    try:
        from _torch_fsdp_worker import RULES, build
    finally:
        sys.path.pop(0)
    from varscale.torch import init_module

    ref = build()
    init_module(ref, RULES, seed=7, default="torch")
    for kind in ("fsdp2", "tp"):
        for name, p in ref.named_parameters():
            got = np.load(tmp_path / f"{kind}.{name}.npy")
            np.testing.assert_array_equal(got, p.detach().numpy(), err_msg=f"{kind} {name}")
    assert (np.load(tmp_path / "fsdp2.3.weight.npy")[4] == 0).all()  # the padding row, on whichever rank holds it
    assert torch.equal(torch.from_numpy(np.load(tmp_path / "tp.1.weight.npy")), torch.ones(13))
    # the DCP checkpoint the two ranks wrote from their local shards, read back in one process
    from torch.distributed.checkpoint.format_utils import dcp_to_torch_save

    dcp_to_torch_save(str(tmp_path / "dcp"), str(tmp_path / "full.pt"))
    saved = torch.load(tmp_path / "full.pt", weights_only=True)["model"]
    for name, p in ref.named_parameters():
        assert torch.equal(saved[name], p.detach()), name
