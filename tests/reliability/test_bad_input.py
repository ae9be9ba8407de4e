"""The bad-input matrix (``bad_inputs.py``): each row raises the stated
exception with a message naming the argument and the value, and leaves the
folder it runs in empty."""

from __future__ import annotations

import os
import resource
from pathlib import Path

import pytest

from _support import need
from reliability.bad_inputs import CLI, ROWS, CliRow, Row, need_api
from varscale.cli import main


def _param(row: Row | CliRow) -> object:
    marks = []
    if row.xfail:
        marks.append(pytest.mark.xfail(strict=True, reason=row.xfail))
    return pytest.param(row, id=row.id, marks=marks)


def test_matrix_size() -> None:
    assert len(ROWS) + len(CLI) >= 60
    ids = [r.id for r in ROWS] + [r.id for r in CLI]
    assert len(ids) == len(set(ids)), "row ids must be unique"
    for row in ROWS:
        assert row.fragments, row.id


@pytest.mark.parametrize("row", [_param(r) for r in ROWS])
def test_bad_input(row: Row, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if row.needs in ("parse", "translate"):
        need_api(row.needs)
    elif row.needs:
        need(row.needs)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(row.exc) as info:
        row.call()
    message = str(info.value)
    for fragment in row.fragments:
        assert fragment in message, f"{fragment!r} not in {message!r}"
    assert sorted(os.listdir(tmp_path)) == []


@pytest.mark.parametrize("row", [_param(r) for r in CLI])
def test_cli_misuse(
    row: CliRow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    if row.needs:
        need(row.needs)
    monkeypatch.chdir(tmp_path)
    for name, text in row.files:
        (tmp_path / name).write_text(text)
    # a regression that streams a huge output to disk must fail here, not fill the disk
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (min(64 * 2**20, hard) if hard != resource.RLIM_INFINITY
                                              else 64 * 2**20, hard))
    try:
        code = main(list(row.argv))
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
    captured = capsys.readouterr()
    assert code == row.code, captured.err
    assert captured.out == ""
    for fragment in row.fragments:
        assert fragment in captured.err, f"{fragment!r} not in {captured.err!r}"
    assert sorted(os.listdir(tmp_path)) == sorted(name for name, _ in row.files)
    assert "Traceback" not in captured.err


def test_existing_file_is_not_overwritten(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "w.npy").write_bytes(b"old")
    code = main(["sample", "he_normal", "--shape", "3,3", "--seed", "0", "--out", "w.npy"])
    err = capsys.readouterr().err
    assert code == 1
    assert "`out`" in err and "w.npy" in err and "--force" in err
    assert (tmp_path / "w.npy").read_bytes() == b"old"
    assert sorted(os.listdir(tmp_path)) == ["w.npy"]
