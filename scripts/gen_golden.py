"""Regenerate tests/golden/stream_v1.json (a reviewed step: the stream is a contract).

Run: python scripts/gen_golden.py   (then review the diff; a change means a new stream version)
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

import varscale as vs

CASES = [
    # (seed, shape, dtype, scale, mode, distribution)
    (0, [3, 3, 64, 128], "float32", 2.0, "fan_in", "truncated_normal"),
    (1, [256, 512], "float32", 1.0, "fan_avg", "uniform"),
    (2, [1000, 7], "float64", 1.0, "fan_in", "untruncated_normal"),
    (3, [64, 33], "float16", 2.0, "fan_out", "truncated_normal"),
    (4, [50, 50], "bfloat16", 1.0, "fan_avg", "uniform"),
    (2**64 - 1, [17, 5, 3], "float64", 0.5, "fan_in", "truncated_normal"),
    (123456789012345, [4097], "bfloat16", 3.0, "fan_out", "untruncated_normal"),
    (7, [2, 3, 4, 5, 6], "float16", 1.0, "fan_in", "uniform"),
]


def record(case: tuple) -> dict:
    seed, shape, dtype, scale, mode, dist = case
    arr = vs.VarianceScaling(scale, mode, dist, seed=seed)(tuple(shape), dtype, engine="numpy")
    raw = arr.tobytes()
    flat = arr.reshape(-1)
    head = flat[:6]
    bits = head.view({2: np.uint16, 4: np.uint32, 8: np.uint64}[arr.itemsize])
    return {
        "seed": seed,
        "shape": shape,
        "dtype": dtype,
        "scale": scale,
        "mode": mode,
        "distribution": dist,
        "sha256": hashlib.sha256(raw).hexdigest(),
        "head_bits": [hex(int(b)) for b in bits],
        "head_values": [float(v) for v in head.astype(np.float64)],
    }


def main() -> None:
    out = Path(__file__).resolve().parents[1] / "tests" / "golden" / "stream_v1.json"
    data = {"stream_version": vs.STREAM_VERSION, "cases": [record(c) for c in CASES]}
    out.write_text(json.dumps(data, indent=1) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
