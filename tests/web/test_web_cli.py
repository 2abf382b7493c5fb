"""`proxx serve` as a command: media roots are required, a non-loopback bind prints and enforces a
generated token, and SIGINT (or SIGTERM) stops the server, then its worker threads, cleanly."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from proxx.cli import main

PROXX = str(Path(sys.executable).with_name("proxx"))


def test_serve_without_media_roots_is_a_configuration_error(
    proxx_home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("PROXX_MEDIA_ROOTS", raising=False)
    assert main(["serve", "--port", "0"]) == 6
    assert "at least one media root" in capsys.readouterr().err


def test_a_non_loopback_bind_prints_and_enforces_a_generated_token(tmp_path: Path, media: Path) -> None:
    env = {**os.environ, "PROXX_HOME": str(tmp_path / "home"), "PROXX_MEDIA_ROOTS": str(media)}
    env.pop("PROXX_WEB_TOKEN", None)
    process = subprocess.Popen(
        [PROXX, "serve", "--host", "0.0.0.0", "--port", "0", "--workers", "0"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline() for _ in range(4)]
        match = re.match(r"proxx serve: http://0\.0\.0\.0:(\d+)/\?token=(\S+)$", lines[0].strip())
        assert match, lines
        port, token = match.groups()
        assert lines[1].strip() == f"media roots: media={media}"
        assert token in lines[2] and "generated" in lines[2]
        assert lines[3].strip() == "workers: none here (run `proxx worker`)"
        base = f"http://127.0.0.1:{port}"
        assert httpx.get(f"{base}/api/jobs").status_code == 401
        assert httpx.get(f"{base}/api/jobs", headers={"Authorization": f"Bearer {token}"}).json() == []
    finally:
        process.send_signal(signal.SIGINT)
        code = process.wait(timeout=20)
    assert code == 0  # stopped cleanly: server, then worker threads
