"""Cold start (issue 12): which engine runs first, the kernel prepared off the critical path, the CLI's notice.

Both engines give the same bits, so every test here also checks the bits
against the NumPy reference: the engine switch must be invisible.
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import varscale as vs
from varscale import _engine_numpy, _generate
from varscale._plan import Plan, normal_sampler, plan_region
from varscale.cli import main


def _bits(a: np.ndarray[Any, Any]) -> bytes:
    return np.ascontiguousarray(a).tobytes()


def _fresh(code: str, cache: str | None = None, timeout: int = 300) -> str:
    env = dict(os.environ)
    env.pop("VARSCALE_ENGINE", None)
    if cache is not None:
        env["NUMBA_CACHE_DIR"] = cache
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout.strip().splitlines()[-1]


def test_small_draws_never_import_numba() -> None:
    """The README's tensor (73 728 elements) is drawn by the NumPy engine: no Numba import, no compile."""
    code = (
        "import sys, json, varscale as vs; from varscale._generate import kernel_state; "
        "w = vs.HeNormal(seed=0)((3, 3, 64, 128)); "
        "print(json.dumps(['numba' in sys.modules, kernel_state(), w.tobytes().hex()[:64]]))"
    )
    imported, state, head = json.loads(_fresh(code))
    assert (imported, state) == (False, "absent")
    assert head == vs.HeNormal(seed=0)((3, 3, 64, 128), engine="numpy").tobytes().hex()[:64]


@pytest.mark.parametrize(
    ("shape", "region"),
    [
        ((3000, 1001), None),  # one run, cut inside it
        ((5000, 700), (slice(3, 4990, 2), slice(10, 600))),  # many short runs, grouped
        ((2, 1_500_001), (slice(None), slice(7, None, 3))),  # long strided runs, cut inside each
    ],
)
def test_pieces_cover_the_plan(shape: tuple[int, ...], region: Any) -> None:
    plan = plan_region(shape, region)
    sp = normal_sampler(0.0, 1.0)
    st = vs.derive_stream(7, "pieces")
    whole = np.empty(plan.size, np.float32)
    _engine_numpy.fill(whole, plan, st, sp, 0)
    parts = np.full(plan.size, np.nan, np.float32)
    offsets = []
    for off, sub in _generate._pieces(plan, 1 << 18):
        assert isinstance(sub, Plan) and sub.size <= max(1 << 18, plan.run_len)
        _engine_numpy.fill(parts[off : off + sub.size], sub, st, sp, 0)
        offsets.append((off, sub.size))
    assert sum(n for _, n in offsets) == plan.size
    assert all(a + n == b for (a, n), (b, _) in itertools.pairwise(offsets))
    assert _bits(parts) == _bits(whole)


class _StillRunning:
    """A compile child, running until ``finished`` is set."""

    finished = False
    returncode: int | None = None

    def poll(self) -> int | None:
        self.returncode = 0 if self.finished else None
        return self.returncode


def test_switch_to_the_kernel_in_the_middle_of_a_request(monkeypatch: pytest.MonkeyPatch) -> None:
    """While the kernel is prepared the NumPy engine draws piece by piece; the rest switches to the kernel."""
    _generate.prepare_kernel()
    from varscale import _engine_numba

    kernel = _generate._Kernel()
    kernel.state = "compiling"
    kernel.proc = _StillRunning()
    monkeypatch.setattr(_generate, "_KERNEL", kernel)
    used: list[str] = []
    real_ref, real_fast = _engine_numpy.fill, _engine_numba.fill

    def ref_fill(*args: Any) -> None:
        used.append("numpy")
        real_ref(*args)
        kernel.proc.finished = True  # the compile child finishes during the first piece

    def fast_fill(*args: Any) -> None:
        used.append("numba")
        real_fast(*args)

    monkeypatch.setattr(_engine_numpy, "fill", ref_fill)
    monkeypatch.setattr(_engine_numba, "fill", fast_fill)
    init = vs.VarianceScaling(1.0, "fan_avg", "truncated_normal", seed=4)
    shape = (3, 1_100_000)  # 3.3M elements: four pieces
    got = init(shape, "bfloat16")
    monkeypatch.undo()
    assert used == ["numpy", "numba", "numba", "numba"]
    assert _bits(got) == _bits(init(shape, "bfloat16", engine="numpy"))


def test_the_kernel_is_prepared_after_enough_elements(monkeypatch: pytest.MonkeyPatch) -> None:
    kernel = _generate._Kernel()
    monkeypatch.setattr(_generate, "_KERNEL", kernel)
    started: list[bool] = []
    monkeypatch.setattr(kernel, "poll", lambda wait: started.append(wait))
    init = vs.HeUniform(seed=1)
    init((1000, 1000))
    assert started == [] and kernel.drawn == 1_000_000
    init((2000, 1600))
    assert started == [False]


@pytest.mark.parametrize(("compile_during", "order"), [(1 << 28, ["numpy", "poll"]), (1 << 20, ["poll", "numpy"])])
def test_cold_compile_starts_after_a_request_too_short_for_it(
    compile_during: int, order: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Surely cold: the compile child starts after a request it could not finish within, else right away."""
    kernel = _generate._Kernel()
    monkeypatch.setattr(_generate, "_KERNEL", kernel)
    monkeypatch.setattr(_generate, "COMPILE_DURING", compile_during)
    monkeypatch.setattr(_generate, "_surely_cold", lambda: True)
    monkeypatch.delitem(sys.modules, "numba", raising=False)
    events: list[str] = []
    monkeypatch.setattr(kernel, "poll", lambda wait: events.append("poll"))
    real = _engine_numpy.fill

    def ref_fill(*args: Any) -> None:
        events.append("numpy")
        real(*args)

    monkeypatch.setattr(_engine_numpy, "fill", ref_fill)
    got = vs.HeNormal(seed=8)((2048, 2048))
    monkeypatch.undo()
    assert events == order
    assert _bits(got) == _bits(vs.HeNormal(seed=8)((2048, 2048), engine="numpy"))


class _FakeKernelModule:
    """Stands in for ``_engine_numba`` in the preparation logic: cached or not, compile counted."""

    def __init__(self, cached: bool) -> None:
        self.cached, self.compiles = cached, 0

    def is_compiled(self) -> bool:
        return False

    def is_cached(self) -> bool:
        return self.cached

    def compile_kernel(self) -> None:
        self.compiles += 1


@pytest.mark.parametrize("cached", [False, True])
def test_cli_says_so_before_a_compile(cached: bool, monkeypatch: pytest.MonkeyPatch,
                                      capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    fake = _FakeKernelModule(cached)
    monkeypatch.setitem(sys.modules, "varscale._engine_numba", fake)
    import varscale

    monkeypatch.setattr(varscale, "_engine_numba", fake, raising=False)
    monkeypatch.setattr(_generate, "_KERNEL", _generate._Kernel())
    monkeypatch.setattr(_generate, "_numba_ok", True)
    from varscale import _engine_numpy as ref

    monkeypatch.setattr(fake, "fill", ref.fill, raising=False)
    code = main(["sample", "he_normal", "--shape", "64,64", "--seed", "1", "--engine", "numba",
                 "--out", str(tmp_path / "w.npy")])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert fake.compiles == 1
    notices = [line for line in err.splitlines() if "compiling the kernel" in line]
    assert notices == ([] if cached else [_generate.COMPILE_MESSAGE.format(how="")])
    assert "wrote" in out


def test_a_compile_child_that_left_no_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    """Auto stays on the NumPy engine (no compile in the caller's thread); an explicit request compiles."""
    fake = _FakeKernelModule(cached=False)
    monkeypatch.setitem(sys.modules, "varscale._engine_numba", fake)
    import varscale

    monkeypatch.setattr(varscale, "_engine_numba", fake, raising=False)
    kernel = _generate._Kernel()
    kernel.state, kernel.proc = "compiling", _StillRunning()
    kernel.proc.finished = True
    monkeypatch.setattr(_generate, "_KERNEL", kernel)
    assert kernel.poll(wait=False) is False
    assert kernel.state == "failed" and fake.compiles == 0
    assert "without filling Numba's cache" in str(kernel.error)
    assert kernel.poll(wait=False) is False and fake.compiles == 0
    assert kernel.poll(wait=True) is True and fake.compiles == 1


def test_library_use_logs_the_compile(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    fake = _FakeKernelModule(cached=False)
    monkeypatch.setitem(sys.modules, "varscale._engine_numba", fake)
    import varscale

    monkeypatch.setattr(varscale, "_engine_numba", fake, raising=False)
    monkeypatch.setattr(_generate, "_KERNEL", _generate._Kernel())
    with caplog.at_level("INFO", logger="varscale"):
        assert _generate._KERNEL.poll(wait=True) is True
    assert [r.getMessage() for r in caplog.records] == [_generate.COMPILE_MESSAGE.format(how="")]
    assert fake.compiles == 1


def test_surely_cold_looks_where_numba_caches(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The index Numba would read (named after ``_tasks``'s first line), in the places Numba would use."""
    from varscale import _engine_numba

    first = _engine_numba._tasks.py_func.__code__.co_firstlineno
    name = f"_engine_numba._tasks-{first}.py{sys.version_info[0]}{sys.version_info[1]}.nbi"
    pkg = tmp_path / "pkg" / "varscale"
    pkg.mkdir(parents=True)
    (pkg / "_engine_numba.py").write_text(Path(_engine_numba.__file__).read_text())
    monkeypatch.setattr(_generate.os.path, "abspath", lambda p: str(pkg / "_generate.py"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("NUMBA_CACHE_DIR")
    places = [pkg / "__pycache__", tmp_path / "xdg" / "numba" / "varscale_99"]
    for env, place in [(None, places[0]), (None, places[1]), (str(tmp_path / "c"), tmp_path / "c" / "varscale_0a1b")]:
        if env is not None:
            monkeypatch.setenv("NUMBA_CACHE_DIR", env)
        assert _generate._surely_cold()
        place.mkdir(parents=True)
        (place / name.replace(f"-{first}.", f"-{first + 1}.")).write_bytes(b"")  # another version's index
        assert _generate._surely_cold(), place
        (place / name).write_bytes(b"")
        assert not _generate._surely_cold(), place
        if env is not None:  # with NUMBA_CACHE_DIR set, the other places do not count
            (place / name).unlink()
            for other in places:
                (other / name).write_bytes(b"")
            assert _generate._surely_cold()
        else:
            (place / name).unlink()


def test_warmup_command(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["warmup"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert out.startswith("varscale warmup: kernel ") and "bfloat16, float16, float32, float64" in out
    from varscale import _engine_numba

    assert _engine_numba.is_compiled()
    assert _generate.prepare_kernel() is False or _generate.kernel_state() == "ready"


def test_fresh_process_with_an_empty_cache_draws_without_waiting_for_the_compile() -> None:
    """Empty cache: the first large draw comes from the NumPy engine while a child process compiles;
    the child fills the cache, so the next process loads the kernel instead of compiling it."""
    with tempfile.TemporaryDirectory() as cache:
        code = (
            "import json, time, zlib, varscale as vs; from varscale import _generate as g; "
            "msgs = []; g.set_compile_listener(msgs.append); "
            "w = vs.HeNormal(seed=2)((2048, 2048)); "
            "state = g.kernel_state(); compiled = g.prepare_kernel(); assert compiled; "
            "print(json.dumps([state, g.kernel_state(), msgs, zlib.crc32(w.tobytes())]))"
        )
        first, final, msgs, crc = json.loads(_fresh(code, cache))
        import zlib

        assert crc == zlib.crc32(vs.HeNormal(seed=2)((2048, 2048), engine="numpy").tobytes())
        assert (first, final) == ("compiling", "ready")
        assert msgs == [_generate.COMPILE_MESSAGE.format(how=" in the background, the NumPy engine draws meanwhile")]
        code = "import json; from varscale import _engine_numba as e; print(json.dumps(e.is_cached()))"
        assert json.loads(_fresh(code, cache)) is True
