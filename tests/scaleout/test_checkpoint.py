"""Checkpoints at scale (issue 17): sharded safetensors as Hugging Face writes them, provenance and
``varscale verify``, resume after SIGTERM/SIGKILL, progress lines, short errors, Zarr compressors."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import varscale as vs
from _support import need
from varscale import cli
from varscale.io import (
    INDEX_NAME,
    parse_size,
    shard_names,
    unfinished,
    verify,
    write_safetensors_sharded,
)

RULES = ["*norm*=ones", "*embed*=normal(std=0.02)", "*.bias=zeros", "*.weight=kaiming_uniform_(a=5**0.5)"]


def _llama_shapes(layers: int = 3, hidden: int = 64, inter: int = 160, vocab: int = 300) -> dict[str, list[int]]:
    shapes: dict[str, list[int]] = {"model.embed_tokens.weight": [vocab, hidden]}
    for i in range(layers):
        p = f"model.layers.{i}."
        shapes.update({
            p + "self_attn.q_proj.weight": [hidden, hidden], p + "self_attn.q_proj.bias": [hidden],
            p + "self_attn.k_proj.weight": [hidden // 2, hidden],
            p + "self_attn.v_proj.weight": [hidden // 2, hidden], p + "self_attn.o_proj.weight": [hidden, hidden],
            p + "mlp.gate_proj.weight": [inter, hidden], p + "mlp.up_proj.weight": [inter, hidden],
            p + "mlp.down_proj.weight": [hidden, inter], p + "input_layernorm.weight": [hidden],
            p + "post_attention_layernorm.weight": [hidden],
        })
    shapes["model.norm.weight"] = [hidden]
    shapes["lm_head.weight"] = [vocab, hidden]
    return shapes


def _init_argv(shapes: Path, out: Path, *extra: str, dtype: str = "float32", rules: list[str] | None = None
               ) -> list[str]:
    argv = ["init", "--shapes", str(shapes), "--seed", "7", "--layout", "torch", "--dtype", dtype, "--out", str(out)]
    for r in RULES if rules is None else rules:
        argv += ["--rule", r]
    return [*argv, "--no-progress", *extra]


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = cli.main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def _tensors(folder: Path) -> dict[str, bytes]:
    """Every tensor's raw bytes (dtype, shape) from a checkpoint folder or file, via the safetensors library."""
    from safetensors import safe_open

    files = [folder] if folder.is_file() else sorted(folder.glob("*.safetensors"))
    out: dict[str, bytes] = {}
    for f in files:
        with safe_open(str(f), framework="pt") as fh:
            for k in fh.keys():
                t = fh.get_tensor(k)
                out[k] = (str(t.dtype) + str(tuple(t.shape))).encode() + t.contiguous().view(-1).view(
                    __import__("torch").uint8).numpy().tobytes()
    return out


# -- Hugging Face layout -------------------------------------------------------------------------------------------


def test_shard_grouping_is_huggingface_s_on_random_sizes() -> None:
    hub = need("huggingface_hub")
    rng = np.random.default_rng(0)
    for trial in range(300):
        n = int(rng.integers(1, 30))
        sizes = [(f"t{i}", int(s)) for i, s in enumerate(rng.integers(0, 100, n))]
        limit = int(rng.integers(1, 150))
        theirs = hub.split_state_dict_into_shards_factory(
            dict(sizes), get_storage_size=lambda x: x, filename_pattern="model{suffix}.safetensors",
            max_shard_size=limit)
        assert shard_names(sizes, limit) == theirs.filename_to_tensors, (trial, sizes, limit)


def test_size_strings_are_read_as_huggingface_reads_them() -> None:
    need("huggingface_hub")
    from huggingface_hub.serialization._base import parse_size_to_int

    for text in ("5GB", "500MB", "1.5GB", "10KB", "2TB"):
        assert parse_size(text) == parse_size_to_int(text)
    assert parse_size("2GiB") == 2 * 2**30 and parse_size(123) == 123
    for bad in ("", "GB", "-1GB", "0", "5XB", "abc"):
        with pytest.raises(vs.InvalidArgumentError, match="max_shard_size"):
            parse_size(bad)


def test_sharded_folder_equals_huggingface_s_save(tmp_path: Path) -> None:
    """Same files, tensors per file, weight_map and total_size as huggingface_hub.save_torch_state_dict."""
    torch = pytest.importorskip("torch")
    hub = need("huggingface_hub")
    shapes = _llama_shapes()
    tensors = {n: (vs.HeNormal(layout="torch", seed=vs.derive_stream(3, n)), tuple(s), "bfloat16")
               for n, s in shapes.items() if len(s) == 2}
    ours = write_safetensors_sharded(tmp_path / "ours", tensors, max_shard_size="60KB", chunk_elems=1000)
    state = {n: torch.from_numpy(init(shape, dt).view(np.int16)).view(torch.bfloat16)
             for n, (init, shape, dt) in tensors.items()}
    (tmp_path / "theirs").mkdir()
    hub.save_torch_state_dict(state, tmp_path / "theirs", max_shard_size="60KB")
    names = sorted(p.name for p in (tmp_path / "theirs").iterdir())
    assert sorted(p.name for p in ours.iterdir()) == names and len(names) > 3
    index = json.loads((ours / INDEX_NAME).read_text())
    their_index = json.loads((tmp_path / "theirs" / INDEX_NAME).read_text())
    assert index["weight_map"] == their_index["weight_map"]
    assert index["metadata"]["total_size"] == their_index["metadata"]["total_size"]
    assert index["metadata"]["total_parameters"] == sum(int(np.prod(s)) for _, s, _ in tensors.values())
    # transformers' save_pretrained writes the index with sorted keys, indent 2 and a final newline
    text = (ours / INDEX_NAME).read_text()
    assert text == json.dumps(index, indent=2, sort_keys=True) + "\n"
    for name in names:
        if name.endswith(".safetensors"):
            assert _tensors(ours / name) == _tensors(tmp_path / "theirs" / name)
            head = json.loads((ours / name).read_bytes()[8:8 + int.from_bytes((ours / name).read_bytes()[:8],
                                                                             "little")])
            assert head["__metadata__"]["format"] == "pt"
            rec = json.loads(head["__metadata__"]["varscale"])
            assert rec["varscale_version"] == vs.__version__ and rec["stream_version"] == vs.STREAM_VERSION
    # loadable by huggingface_hub's index-reading loader into a torch module
    module = torch.nn.Module()
    for n, (_, shape, _) in tensors.items():
        parent = module
        *path, leaf = n.split(".")
        for part in path:
            if not hasattr(parent, part):
                parent.add_module(part, torch.nn.Module())
            parent = getattr(parent, part)
        parent.register_parameter(leaf, torch.nn.Parameter(torch.zeros(shape, dtype=torch.bfloat16)))
    hub.load_torch_model(module, ours, strict=True)
    for n, p in module.named_parameters():
        assert torch.equal(p.data.view(torch.int16), state[n].view(torch.int16)), n


def test_one_shard_is_model_safetensors_without_index(tmp_path: Path) -> None:
    tensors = {"a.weight": (vs.HeNormal(seed=vs.derive_stream(0, "a.weight")), (8, 4), None)}
    out = write_safetensors_sharded(tmp_path / "one", tensors)
    assert sorted(p.name for p in out.iterdir()) == ["model.safetensors"]
    assert verify(out).ok and verify(out).checked == [("model.safetensors", "a.weight")]


def test_cli_sharded_equals_single_file_and_verifies(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("torch")
    shapes = tmp_path / "shapes.json"
    shapes.write_text(json.dumps(_llama_shapes()))
    code, out, err = _run(_init_argv(shapes, tmp_path / "ckpt", "--max-shard-size", "50KB", dtype="bfloat16"),
                          capsys)
    assert code == 0, err
    files = sorted(p.name for p in (tmp_path / "ckpt").iterdir())
    assert INDEX_NAME in files and files[0].startswith("model-00001-of-")
    code, _, err = _run(_init_argv(shapes, tmp_path / "one.safetensors", dtype="bfloat16"), capsys)
    assert code == 0, err
    assert _tensors(tmp_path / "ckpt") == _tensors(tmp_path / "one.safetensors")
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
    for target in ("ckpt", "one.safetensors"):
        code, out, _ = _run(["verify", str(tmp_path / target)], capsys)
        assert code == 0 and "OK" in out and "0 mismatch" in out and "seed 7" in out, out


# -- provenance and verify -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("sample", ["8", "all"])
def test_verify_names_the_tensor_with_one_tampered_byte(
    sample: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shapes = tmp_path / "shapes.json"
    shapes.write_text(json.dumps(_llama_shapes(hidden=32, inter=64, vocab=100)))
    assert _run(_init_argv(shapes, tmp_path / "ckpt", "--max-shard-size", "20KB"), capsys)[0] == 0
    index = json.loads((tmp_path / "ckpt" / INDEX_NAME).read_text())
    victim = "model.layers.1.mlp.up_proj.weight"
    f = tmp_path / "ckpt" / index["weight_map"][victim]
    raw = bytearray(f.read_bytes())
    n = int.from_bytes(raw[:8], "little")
    a, b = json.loads(raw[8:8 + n])[victim]["data_offsets"]
    pos = 8 + n + a + (b - a) // 2 + 1
    raw[pos] ^= 0x01  # one bit of one element: the value stays finite and plausible
    f.write_bytes(bytes(raw))
    code, out, _ = _run(["verify", str(tmp_path / "ckpt"), "--sample", sample], capsys)
    assert code == 1 and "FAILED" in out
    bad = [line for line in out.splitlines() if line.startswith("MISMATCH")]
    assert len(bad) == 1 and victim in bad[0] and f.name in bad[0], out


def test_verify_catches_a_wrong_record_and_a_missing_shard(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shapes = tmp_path / "shapes.json"
    shapes.write_text(json.dumps(_llama_shapes(hidden=32, inter=64, vocab=100)))
    assert _run(_init_argv(shapes, tmp_path / "a.safetensors"), capsys)[0] == 0
    raw = (tmp_path / "a.safetensors").read_bytes()
    assert b'\\"seed\\":7' in raw  # the record is a JSON string inside the JSON header
    (tmp_path / "b.safetensors").write_bytes(raw.replace(b'\\"seed\\":7', b'\\"seed\\":8'))  # same length
    code, out, _ = _run(["verify", str(tmp_path / "b.safetensors")], capsys)
    assert code == 1 and out.count("MISMATCH") >= 20  # every random tensor differs; constants do not
    assert _run(_init_argv(shapes, tmp_path / "ckpt", "--max-shard-size", "20KB"), capsys)[0] == 0
    victim = sorted((tmp_path / "ckpt").glob("model-*.safetensors"))[1]
    victim.unlink()
    code, out, _ = _run(["verify", str(tmp_path / "ckpt")], capsys)
    assert code == 1 and f"{victim.name}: -: listed in the index but missing" in out
    plain = tmp_path / "plain.safetensors"
    vs.io.write_safetensors(plain, {"w": (vs.HeNormal(seed=1), (4, 4), None)})
    code, out, _ = _run(["verify", str(plain)], capsys)
    assert code == 1 and "no varscale record" in out
    code, _, err = _run(["verify", str(plain), "--sample", "x"], capsys)
    assert code == 2 and "--sample" in err


def test_api_sources_record_initializer_and_stream(tmp_path: Path) -> None:
    tensors = {"w": (vs.GlorotUniform(), (300, 70), "float16"), "arr": (np.ones((3, 3), np.float32), (3, 3), None)}
    out = write_safetensors_sharded(tmp_path / "d", tensors)  # seed=None: one fresh stream, recorded
    report = verify(out, sample=None)
    assert report.ok and report.checked == [("model.safetensors", "w")]
    assert report.skipped == [("model.safetensors", "arr", "written from an array (nothing to re-draw)")]


# -- resume ------------------------------------------------------------------------------------------------------


BIG = 40  # tensors of 1024 x 2048 in _big_shapes


def _big_shapes(tmp_path: Path) -> Path:
    shapes = tmp_path / "big.json"
    # 40 x 8 MiB float32: with 2 of ~20 shards written when the signal is sent, the rest takes over a second, so a
    # test process starved of CPU on a loaded machine still signals a run that is not finished
    shapes.write_text(json.dumps({f"layer{i}.weight": [1024, 2048] for i in range(BIG)}))
    return shapes


#: A run started in the background (`bash .ci/run &`) inherits SIGINT ignored, and so would the child (a
#: background job keeps ignoring Ctrl-C): the launcher gives it the default dispositions a terminal's has.
_LAUNCHER = ("import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); "
             "signal.signal(signal.SIGTERM, signal.SIG_DFL); os.execv(sys.argv[1], sys.argv[1:])")


def _spawn(argv: list[str]) -> subprocess.Popen[bytes]:
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    return subprocess.Popen([sys.executable, "-c", _LAUNCHER, sys.executable, "-m", "varscale", *argv],
                            stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=env)


def _wait_for_finished_shards(parent: Path, out: Path, proc: subprocess.Popen[bytes], count: int) -> Path:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        for folder in unfinished(out):
            if len(list(folder.glob("model-*.safetensors"))) >= count:
                return folder
        time.sleep(0.01)
    raise AssertionError("no shard was finished in time")


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGKILL, signal.SIGINT], ids=["SIGTERM", "SIGKILL", "SIGINT"])
def test_resume_after_a_signal_is_byte_identical(how: int, tmp_path: Path) -> None:
    shapes = _big_shapes(tmp_path)
    out = tmp_path / "ckpt"
    argv = _init_argv(shapes, out, "--max-shard-size", "17MB", rules=["*.weight=he_normal"])
    proc = _spawn(argv)
    folder = _wait_for_finished_shards(tmp_path, out, proc, 2)
    proc.send_signal(how)
    _, err = proc.communicate(timeout=120)
    text = err.decode()
    assert not out.exists()
    if how == signal.SIGKILL:
        assert proc.returncode == -signal.SIGKILL
    else:
        assert proc.returncode == (143 if how == signal.SIGTERM else 130), text
        assert "--resume" in text and folder.name in text and "Traceback" not in text, text
        assert len(text.strip().splitlines()) == 1, text
    kept = {p.name: p.stat().st_mtime_ns for p in folder.glob("model-*.safetensors")}
    assert len(kept) >= 2
    # a different command does not take over the folder
    other = subprocess.run([sys.executable, "-m", "varscale", *argv[:-2], "--max-shard-size", "26MB", "--resume"],
                           capture_output=True, text=True, timeout=120)
    assert other.returncode == 1 and "other arguments" in other.stderr and not out.exists()
    done = subprocess.run([sys.executable, "-m", "varscale", *argv, "--resume"], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    assert not folder.exists() and unfinished(out) == []
    for name, mtime in kept.items():  # the finished files were kept, not drawn again
        assert (out / name).stat().st_mtime_ns == mtime
    fresh = tmp_path / "fresh"
    again = subprocess.run([sys.executable, "-m", "varscale", *_init_argv(shapes, fresh, "--max-shard-size", "17MB",
                                                                       rules=["*.weight=he_normal"])],
                           capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    assert sorted(os.listdir(out)) == sorted(os.listdir(fresh))
    for name in os.listdir(fresh):
        assert (out / name).read_bytes() == (fresh / name).read_bytes(), name


def test_resume_redraws_a_damaged_finished_shard(tmp_path: Path) -> None:
    """A kept file is checked (size, header, sampled regions); a damaged one is written again."""
    tensors = {f"l{i}.weight": (vs.HeNormal(seed=vs.derive_stream(1, f"l{i}.weight")), (64, 64), None)
               for i in range(4)}
    calls = {"n": 0}

    def stop(done: int, total: int) -> None:
        calls["n"] += 1
        if done >= total // 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt) as info:
        write_safetensors_sharded(tmp_path / "d", tensors, max_shard_size="20KB", progress=stop)
    folder = Path(info.value.varscale_partial)  # type: ignore[attr-defined]
    assert info.value.varscale_finished == 1 and info.value.varscale_files == 4  # type: ignore[attr-defined]
    first = folder / "model-00001-of-00004.safetensors"
    raw = bytearray(first.read_bytes())
    raw[-5] ^= 0xFF
    first.write_bytes(bytes(raw))
    out = write_safetensors_sharded(tmp_path / "d", tensors, max_shard_size="20KB", resume=True)
    assert verify(out, sample=None).ok
    fresh = write_safetensors_sharded(tmp_path / "e", tensors, max_shard_size="20KB")
    for p in fresh.iterdir():
        assert (out / p.name).read_bytes() == p.read_bytes()


def test_resume_without_an_unfinished_folder_writes_afresh(tmp_path: Path) -> None:
    tensors = {"w": (vs.HeNormal(seed=1), (16, 16), None)}
    out = write_safetensors_sharded(tmp_path / "d", tensors, resume=True)
    assert verify(out).ok


def test_force_replaces_only_a_checkpoint_folder(tmp_path: Path) -> None:
    tensors = {"w": (vs.HeNormal(seed=1), (16, 16), None)}
    out = write_safetensors_sharded(tmp_path / "d", tensors)
    with pytest.raises(FileExistsError):
        write_safetensors_sharded(out, tensors)
    write_safetensors_sharded(out, {"w": (vs.HeNormal(seed=2), (16, 16), None)}, force=True)
    assert verify(out).ok
    user = tmp_path / "mine"
    user.mkdir()
    (user / "notes.txt").write_text("keep")
    with pytest.raises(vs.InvalidArgumentError, match="not a safetensors checkpoint"):
        write_safetensors_sharded(user, tensors, force=True)
    assert (user / "notes.txt").read_text() == "keep"


# -- operations ----------------------------------------------------------------------------------------------------


def test_progress_is_plain_lines_with_rate_and_eta_when_not_a_terminal(tmp_path: Path) -> None:
    shapes = tmp_path / "s.json"
    shapes.write_text(json.dumps({f"l{i}.weight": [1024, 1024] for i in range(8)}))
    argv = [a for a in _init_argv(shapes, tmp_path / "ckpt", "--max-shard-size", "10MB", rules=["*=he_uniform"])
            if a != "--no-progress"]
    done = subprocess.run([sys.executable, "-m", "varscale", *argv], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.startswith("init ")]
    assert "\r" not in done.stderr and len(lines) >= 2
    assert all("%" in line for line in lines)
    assert all("ETA" in line and "/s" in line for line in lines[:-1]), lines
    assert "100.0%" in lines[-1] and all("100.0%" not in line for line in lines[:-1])


def test_disk_space_refusal_fits_on_a_screen(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    import shutil as _shutil

    import varscale._files as files

    shapes = tmp_path / "s.json"
    shapes.write_text(json.dumps({f"model.layers.{i}.mlp.weight": [4096, 11008] for i in range(723)}))
    real = _shutil.disk_usage
    monkeypatch.setattr(files.shutil, "disk_usage", lambda p: real(p)._replace(free=10**9))
    for out in ("ckpt", "ckpt.safetensors"):
        code, _, err = _run(_init_argv(shapes, tmp_path / out), capsys)
        assert code == 1 and "723 tensor(s)" in err and len(err) < 400, err


def test_zarr_compressor_choice_and_record(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    zarr = pytest.importorskip("zarr")
    pytest.importorskip("dask")
    base = ["sample", "he_normal", "--shape", "200,100", "--seed", "3", "--no-progress"]
    assert _run([*base, "--out", str(tmp_path / "a.zarr")], capsys)[0] == 0
    assert _run([*base, "--out", str(tmp_path / "b.zarr"), "--compressor", "zstd:5"], capsys)[0] == 0
    a = zarr.open_array(str(tmp_path / "a.zarr"), mode="r")
    b = zarr.open_array(str(tmp_path / "b.zarr"), mode="r")
    assert a.compressors == () and type(b.compressors[0]).__name__ == "ZstdCodec"
    np.testing.assert_array_equal(a[...], vs.HeNormal(seed=3)((200, 100)))
    np.testing.assert_array_equal(b[...], a[...])
    assert a.attrs["varscale"]["seed"] == 3
    code, out, _ = _run(["verify", str(tmp_path / "b.zarr"), "--sample", "all"], capsys)
    assert code == 0 and "1 tensor(s) re-drawn and equal" in out
    code, _, err = _run([*base, "--out", str(tmp_path / "c.zarr"), "--compressor", "lz77"], capsys)
    assert code == 1 and "`compressor`" in err and "lz77" in err
    code, _, err = _run([*base, "--out", str(tmp_path / "c.npy"), "--compressor", "zstd"], capsys)
    assert code == 2 and "--compressor" in err
    code, _, err = _run([*base, "--dtype", "bfloat16", "--out", str(tmp_path / "d.zarr")], capsys)
    assert code == 1 and "bfloat16" in err and "write_safetensors" in err


def test_usage_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shapes = tmp_path / "s.json"
    shapes.write_text(json.dumps({"w.weight": [4, 4]}))
    code, _, err = _run(_init_argv(shapes, tmp_path / "x.safetensors", "--max-shard-size", "1GB"), capsys)
    assert code == 2 and "--max-shard-size" in err
    code, _, err = _run(_init_argv(shapes, tmp_path / "x.safetensors", "--resume"), capsys)
    assert code == 2 and "--resume" in err
    code, _, err = _run(_init_argv(shapes, tmp_path / "d", "--max-shard-size", "lots"), capsys)
    assert code == 1 and "max_shard_size" in err and "lots" in err


# -- parallel writers on dask.distributed ------------------------------------------------------------------------


def test_dask_workers_write_the_same_bytes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--dask --scheduler ADDRESS: shard files written by the cluster's workers, byte for byte the serial ones."""
    distributed = pytest.importorskip("distributed")
    shapes = tmp_path / "shapes.json"
    shapes.write_text(json.dumps(_llama_shapes(hidden=64, inter=128, vocab=200)))
    assert _run(_init_argv(shapes, tmp_path / "serial", "--max-shard-size", "40KB", dtype="bfloat16"), capsys)[0] == 0
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=":0") as cluster:
        code, _, err = _run(_init_argv(shapes, tmp_path / "par", "--max-shard-size", "40KB", "--dask", "--scheduler",
                                       cluster.scheduler_address, dtype="bfloat16"), capsys)
        assert code == 0, err
        with distributed.Client(cluster) as client:
            who = client.run(lambda: 1)
    assert len(who) == 2
    names = sorted(os.listdir(tmp_path / "serial"))
    assert len(names) > 3 and sorted(os.listdir(tmp_path / "par")) == names
    for name in names:
        assert (tmp_path / "par" / name).read_bytes() == (tmp_path / "serial" / name).read_bytes(), name
    code, _, err = _run(_init_argv(shapes, tmp_path / "x", "--scheduler", "tcp://127.0.0.1:1"), capsys)
    assert code == 2 and "--dask" in err


def test_dask_client_refuses_array_sources(tmp_path: Path) -> None:
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=1, processes=False, dashboard_address=":0") as cluster, \
            distributed.Client(cluster) as client:
        with pytest.raises(vs.InvalidArgumentError, match="array"):
            write_safetensors_sharded(tmp_path / "d", {"a": (np.zeros((2, 2), np.float32), (2, 2), None)},
                                      client=client)
    assert not (tmp_path / "d").exists() and unfinished(tmp_path / "d") == []


def test_sampled_verify_of_a_large_tensor_always_checks_its_ends(tmp_path: Path) -> None:
    p = vs.io.write_safetensors(tmp_path / "w.safetensors", {"w": (vs.HeNormal(seed=2), (1000, 999), None)},
                                provenance=True)
    assert verify(p, sample=2).ok
    raw = bytearray(p.read_bytes())
    for pos in (len(raw) - 1, 8 + int.from_bytes(raw[:8], "little")):  # the last element's top byte, the first's low
        raw[pos] ^= 0x01
        p.write_bytes(bytes(raw))
        report = verify(p, sample=2)
        assert not report.ok and report.mismatches[0][1] == "w"
        raw[pos] ^= 0x01


def test_resume_after_a_finished_run_does_nothing(tmp_path: Path) -> None:
    tensors = {f"l{i}.weight": (vs.HeNormal(seed=vs.derive_stream(1, f"l{i}.weight")), (64, 64), None)
               for i in range(3)}
    out = write_safetensors_sharded(tmp_path / "d", tensors, max_shard_size="20KB")
    before = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
    calls: list[tuple[int, int]] = []
    assert write_safetensors_sharded(out, tensors, max_shard_size="20KB", resume=True,
                                     progress=lambda d, t: calls.append((d, t))) == out
    assert {p.name: p.stat().st_mtime_ns for p in out.iterdir()} == before and calls[-1][0] == calls[-1][1]
    other = {k: (vs.HeNormal(seed=vs.derive_stream(2, k)), s, d) for k, (_, s, d) in tensors.items()}
    with pytest.raises(FileExistsError, match="nothing to resume"):
        write_safetensors_sharded(out, other, max_shard_size="20KB", resume=True)


def test_force_replaces_an_empty_folder(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    with pytest.raises(FileExistsError):
        write_safetensors_sharded(tmp_path / "d", {"w": (vs.HeNormal(seed=1), (4, 4), None)})
    write_safetensors_sharded(tmp_path / "d", {"w": (vs.HeNormal(seed=1), (4, 4), None)}, force=True)
    assert os.listdir(tmp_path / "d") == ["model.safetensors"]


RULE_FORMS = [
    "he_normal", "GlorotUniform", "variance_scaling:scale=2,mode=fan_out,distribution=uniform",
    '{"class_name": "LecunNormal", "config": {}}', "kaiming_normal_(mode='fan_out', nonlinearity='relu')",
    "torch.nn.init.xavier_uniform_(w, gain=2**0.5)", "trunc_normal(std=0.02, a=-0.04, b=0.04)",
    "uniform(-0.1, 0.1)", "orthogonal(gain=1.0)", "keras.initializers.HeNormal()",
    "jax.nn.initializers.lecun_normal()", "0.5", "normal(std=0.02)",
]


@pytest.mark.parametrize("dtype", ["float16", "float64"])
def test_verify_re_draws_every_rule_form(dtype: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shapes = {f"t{i}.weight": [24, 16] for i in range(len(RULE_FORMS))}
    (tmp_path / "s.json").write_text(json.dumps(shapes))
    rules = [f"t{i}.weight={r}" for i, r in enumerate(RULE_FORMS)]
    assert _run(_init_argv(tmp_path / "s.json", tmp_path / "d", dtype=dtype, rules=rules), capsys)[0] == 0
    report = verify(tmp_path / "d", sample=None)
    assert report.ok and not report.skipped and len(report.checked) == len(RULE_FORMS), report.mismatches


def test_cli_resume_of_a_finished_folder_succeeds(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A requeued job that runs `init --resume` again after it finished exits 0 and changes nothing."""
    shapes = tmp_path / "s.json"
    shapes.write_text(json.dumps(_llama_shapes(hidden=32, inter=64, vocab=100)))
    argv = _init_argv(shapes, tmp_path / "ckpt", "--max-shard-size", "20KB", "--resume")
    assert _run(argv, capsys)[0] == 0
    before = {p.name: p.read_bytes() for p in (tmp_path / "ckpt").iterdir()}
    code, _, err = _run(argv, capsys)
    assert code == 0, err
    assert {p.name: p.read_bytes() for p in (tmp_path / "ckpt").iterdir()} == before
    code, _, err = _run(_init_argv(shapes, tmp_path / "ckpt", "--max-shard-size", "30KB", "--resume"), capsys)
    assert code == 1 and "nothing to resume" in err


def test_dask_run_interrupted_then_resumed_without_dask(tmp_path: Path) -> None:
    """SIGTERM to `init --dask` (a local cluster): one line, the finished files kept; a resume gives the same bytes."""
    pytest.importorskip("distributed")
    shapes = _big_shapes(tmp_path)
    out = tmp_path / "ckpt"
    argv = _init_argv(shapes, out, "--max-shard-size", "17MB", rules=["*.weight=he_normal"])
    proc = _spawn([*argv, "--dask", "--workers", "2"])
    folder = _wait_for_finished_shards(tmp_path, out, proc, 1)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    text = err.decode()
    assert proc.returncode == 143, text
    lines = text.strip().splitlines()
    assert len(lines) == 1 and "--resume" in lines[0] and "0 of" not in lines[0], text
    done = subprocess.run([sys.executable, "-m", "varscale", *argv, "--resume"], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    assert not folder.exists() and verify(out).ok
    fresh = tmp_path / "fresh"
    write_safetensors_sharded(fresh, {f"layer{i}.weight": (
        vs.HeNormal(layout="torch", seed=vs.derive_stream(7, f"layer{i}.weight")), (1024, 2048), None)
        for i in range(BIG)},
        max_shard_size="17MB")
    for name in os.listdir(out):  # the data (not the headers: the record differs) equals an API write's
        if name.endswith(".safetensors"):
            assert _tensors(out / name) == _tensors(fresh / name), name


def test_sampled_regions_are_runs_of_the_writer_s_regions() -> None:
    """verify's random runs are found by arithmetic (no walk over every run): each equals a run of regions()."""
    import math

    from varscale._regions import regions
    from varscale._verify import RUN as _RUN
    from varscale._verify import sampled as _sampled

    rng = np.random.default_rng(0)
    checked = 0
    for _ in range(200):
        nd = int(rng.integers(1, 5))
        shape = tuple(int(x) for x in rng.integers(1, 60, nd)) if nd > 1 else (int(rng.integers(1, 200_000)),)
        if math.prod(shape) <= 6 * _RUN:
            continue
        runs, start = {}, 0
        for region, n in regions(shape, _RUN):
            runs[start] = (region, n)
            start += n
        got = list(_sampled(shape, 4))
        assert got[0][1] == 0 and got[-1][1] == max(runs)
        for region, start, n in got:
            assert runs[start] == (region, n), (shape, region, start, n)
        checked += 1
    assert checked > 50


def test_sample_zarr_chunks_written_by_dask_workers(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    zarr = pytest.importorskip("zarr")
    distributed = pytest.importorskip("distributed")
    base = ["sample", "glorot_uniform", "--shape", "300,200", "--seed", "4", "--no-progress"]
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=":0") as cluster:
        code, _, err = _run([*base, "--out", str(tmp_path / "w.zarr"), "--dask", "--scheduler",
                             cluster.scheduler_address], capsys)
        assert code == 0, err
        with distributed.Client(cluster) as client:
            logs = client.run(lambda dask_worker: len(dask_worker.state.log))
    assert sum(logs.values()) > 0  # the cluster's workers ran the store's tasks
    np.testing.assert_array_equal(zarr.open_array(str(tmp_path / "w.zarr"), mode="r")[...],
                                  vs.GlorotUniform(seed=4)((300, 200)))
    code, _, err = _run([*base, "--out", str(tmp_path / "w.npy"), "--dask"], capsys)
    assert code == 2 and "--dask" in err


_FROM_PRETRAINED = r"""
import glob, json, sys
import torch
from safetensors.torch import load_file
from transformers import LlamaConfig, LlamaForCausalLM

folder, step = sys.argv[1], sys.argv[2]
cfg = LlamaConfig(hidden_size=64, intermediate_size=160, num_hidden_layers=2, num_attention_heads=4,
                  num_key_value_heads=2, vocab_size=300, tie_word_embeddings=False)
if step == "shapes":
    with torch.device("meta"):
        model = LlamaForCausalLM(cfg)
    print(json.dumps({k: list(v.shape) for k, v in model.state_dict().items()}))
else:
    cfg.save_pretrained(folder)
    model = LlamaForCausalLM.from_pretrained(folder, dtype=torch.bfloat16)
    want = {}
    for f in glob.glob(folder + "/*.safetensors"):
        want.update(load_file(f))
    got = model.state_dict()
    assert set(got) == set(want), set(got) ^ set(want)
    assert all(torch.equal(got[k].view(torch.int16), want[k].view(torch.int16)) for k in want)
    print("loaded", len(want))
"""


def test_transformers_from_pretrained_loads_the_sharded_folder(tmp_path: Path) -> None:
    """A tiny Llama's shapes from transformers itself, `varscale init` into a folder, `from_pretrained` reads it."""
    need("transformers")
    script = tmp_path / "load.py"
    script.write_text(_FROM_PRETRAINED)
    shapes = subprocess.run([sys.executable, str(script), "-", "shapes"], capture_output=True, text=True, timeout=300)
    assert shapes.returncode == 0, shapes.stderr
    (tmp_path / "shapes.json").write_text(shapes.stdout.strip().splitlines()[-1])
    out = tmp_path / "llama"
    argv = _init_argv(tmp_path / "shapes.json", out, "--max-shard-size", "40KB", dtype="bfloat16",
                      rules=["*norm*=ones", "*=normal(std=0.02)"])
    done = subprocess.run([sys.executable, "-m", "varscale", *argv], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert len(list(out.glob("model-*-of-*.safetensors"))) > 2
    loaded = subprocess.run([sys.executable, str(script), str(out), "load"], capture_output=True, text=True,
                            timeout=300)
    assert loaded.returncode == 0 and "loaded 21" in loaded.stdout, loaded.stderr[-2000:]


@pytest.mark.parametrize("scheme", ["memory", "file"])
def test_zarr_to_an_fsspec_url(scheme: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    zarr = pytest.importorskip("zarr")
    fsspec = pytest.importorskip("fsspec")
    pytest.importorskip("dask")
    root = f"memory://ck-{tmp_path.name}" if scheme == "memory" else f"file://{tmp_path}"
    url = f"{root}/w.zarr"
    base = ["sample", "he_uniform", "--shape", "120,80", "--seed", "5", "--no-progress"]
    code, out, err = _run([*base, "--out", url], capsys)
    assert code == 0 and url in out, err
    np.testing.assert_array_equal(zarr.open_array(url, mode="r")[...], vs.HeUniform(seed=5)((120, 80)))
    fs, path = fsspec.core.url_to_fs(root)
    assert [e.rstrip("/").rpartition("/")[2] for e in fs.ls(path, detail=False)] == ["w.zarr"]  # no temporary
    code, out, _ = _run(["verify", url, "--sample", "all"], capsys)
    assert code == 0 and "1 tensor(s) re-drawn and equal" in out
    code, _, err = _run([*base, "--out", url], capsys)
    assert code == 1 and "existing" in err and "force" in err
    assert _run([*base, "--seed", "6", "--out", url, "--force"], capsys)[0] == 0
    np.testing.assert_array_equal(zarr.open_array(url, mode="r")[...], vs.HeUniform(seed=6)((120, 80)))
    fs.mkdir(f"{path}/mine")
    fs.pipe(f"{path}/mine/notes.txt", b"keep")
    code, _, err = _run([*base, "--out", f"{root}/mine", "--force"], capsys)
    assert code == 2  # not .zarr
    code, _, err = _run([*base, "--out", f"{root}/w.npy"], capsys)
    assert code == 2 and "URL" in err
    mine = f"{root}/mine.zarr"
    fs.mkdir(f"{path}/mine.zarr")
    fs.pipe(f"{path}/mine.zarr/notes.txt", b"keep")
    code, _, err = _run([*base, "--out", mine, "--force"], capsys)
    assert code == 1 and "not a Zarr store" in err
    assert fs.cat(f"{path}/mine.zarr/notes.txt") == b"keep"


def test_zarr_url_interrupted_leaves_nothing(tmp_path: Path) -> None:
    fsspec = pytest.importorskip("fsspec")
    pytest.importorskip("zarr")
    root = f"memory://stop-{tmp_path.name}"

    def stop(done: int, total: int) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        vs.io.write_zarr(f"{root}/w.zarr", vs.HeNormal(seed=1), (256, 64), chunks=(16, 64), progress=stop)
    fs, path = fsspec.core.url_to_fs(root)
    assert not fs.exists(path) or fs.ls(path, detail=False) == []
