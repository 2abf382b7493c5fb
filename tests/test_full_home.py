"""PROXX_HOME fills up while a job runs (issue 13): the job still ends with its outcome recorded,
never "worker lost". A real full disk: a 4 MiB tmpfs (needs root, as the CI runs; skipped otherwise)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from proxx import Proxx
from proxx.execute.progress import Progress
from proxx.media.samples import make_clip
from proxx.store import COMPLETED, RESERVE_NAME


@pytest.fixture
def small_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    home = tmp_path / "home"
    home.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(home)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small file system here: {mounted.stderr.decode().strip()}")
    monkeypatch.setenv("PROXX_HOME", str(home))
    monkeypatch.setenv("PROXX_LOAD_PLUGINS", "ffmpeg")
    try:
        yield home
    finally:
        subprocess.run(["umount", "-l", str(home)], check=True)


def _fill(folder: Path) -> None:
    fd = os.open(folder / "filler", os.O_WRONLY | os.O_CREAT)
    try:
        while True:
            os.write(fd, b"\0" * 65536)
    except OSError as error:
        assert error.errno == 28  # ENOSPC: the disk is full now
    finally:
        os.close(fd)


def test_a_home_that_fills_up_during_a_job_still_ends_it_with_its_result(small_home, tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    proxx = Proxx.open()
    spec = proxx.create_job("HD Editorial LT", [make_clip(tmp_path / "A001.mov", frames=12)], out)
    filled: list[bool] = []

    def fill_once(_: Progress) -> None:
        if not filled:
            _fill(small_home)
            filled.append(True)

    result = proxx.run_job(spec.job_id, on_progress=fill_once)
    assert filled and result is not None and result.state == COMPLETED
    row = proxx.store.job(spec.job_id)
    assert row.state == COMPLETED and row.result_path and Path(row.result_path).exists()
    assert "is full; job " + spec.job_id + " was recorded in its reserved space" in capsys.readouterr().err
    assert not (small_home / RESERVE_NAME).exists()  # given up; the next store to open takes it back

    # Nothing is left RUNNING for a later command to declare lost.
    assert Proxx.open().store.reap_lost() == []
