"""A small output volume (a tmpfs the test mounts; root only, skipped otherwise): a job that cannot
fit is refused before anything runs, naming the reserve proxx keeps and its setting; a volume that
fills up while a clip renders is recorded as running out of space, and the clip's partial output is
removed to give the space back."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from proxx.media.samples import make_clip
from tests.wrapped_ffmpeg import wait_for, wrapped_ffmpeg

PROXX = [sys.executable, "-m", "proxx"]


@contextlib.contextmanager
def tmpfs(path: Path, size: str) -> Iterator[Path]:
    path.mkdir(parents=True)
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a small volume needs root (it is the CI's and the developers' machine user)")
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"this machine does not let a test mount a tmpfs: {mounted.stderr.decode(errors='replace')}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def run(home: Path, out: Path, source: Path, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*PROXX, "run", "--profile", "HD Editorial LT", "--output", str(out), str(source)],
        env={**os.environ, "PROXX_HOME": str(home), **env}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def test_a_job_that_cannot_fit_is_refused_naming_the_reserve(tmp_path: Path) -> None:
    source = make_clip(tmp_path / "A001_C001.mov", frames=4)
    with tmpfs(tmp_path / "small", "16m") as out:
        stdout, stderr = run(tmp_path / "home", out, source, {}).communicate(timeout=120)
        assert "Insufficient disk space" in stderr, stdout + stderr
        assert "64 MiB proxx always leaves free on the volume (PROXX_MIN_FREE_SPACE" in stderr
        assert list(out.iterdir()) == []


def test_a_volume_filling_up_mid_render_is_recorded_as_out_of_space(tmp_path: Path) -> None:
    source = make_clip(tmp_path / "A001_C001.mov", size="640x360", frames=96, audio=())
    # The real encoder, held back until the volume is full (on a busy machine it could otherwise
    # finish before the test fills the volume).
    go = tmp_path / "go"
    encoder = wrapped_ffmpeg(tmp_path, '" -progress "', wait_for(go))
    with tmpfs(tmp_path / "small", "32m") as out:
        env = {"PROXX_MIN_FREE_SPACE": str(1024 * 1024), "PROXX_FFMPEG": str(encoder)}
        process = run(tmp_path / "home", out, source, env)
        deadline = time.monotonic() + 60
        while not list(out.glob(".proxx-partial-*")):  # its private folder: the encoder starts now
            assert process.poll() is None and time.monotonic() < deadline, process.communicate()
            time.sleep(0.001)
        filler = out / "someone-elses-file"
        fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
        with contextlib.suppress(OSError):  # everything left: the encoder's next write fails
            os.posix_fallocate(fd, 0, shutil.disk_usage(out).free)
        os.close(fd)
        go.touch()
        process.communicate(timeout=120)
        assert process.returncode != 0
        env = {**os.environ, "PROXX_HOME": str(tmp_path / "home")}
        listed = json.loads(
            subprocess.run(
                [*PROXX, "jobs", "list", "--json"], capture_output=True, text=True, check=True, env=env
            ).stdout
        )
        assert (listed[0]["state"], listed[0]["reason"]) == ("FAILED", "disk_full"), listed[0]
        assert "ran out of space" in listed[0]["message"]
        assert sorted(p.name for p in out.iterdir()) == [filler.name], "a partial output kept the space"
