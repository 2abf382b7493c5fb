"""The benchmark scripts run (with small sizes) so that the figures in the README stay reproducible."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCHMARKS = Path(__file__).parent.parent / "benchmarks"


def test_validate_benchmark_runs():
    done = subprocess.run(
        [sys.executable, str(BENCHMARKS / "validate_1000.py"), "--profiles", "40", "--runs", "1"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "40 intent(s) compile: ok" in done.stdout


def test_engine_benchmark_runs():
    script = str(BENCHMARKS / "engine_overhead.py")
    options = ["--quick", "--runs", "1", "--skip-ks", "--plugins", "ffmpeg", "--only", "proxy_h264_quarter"]
    done = subprocess.run(
        [sys.executable, script, *options],
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    row = next(line for line in done.stdout.splitlines() if "proxy_h264_quarter" in line)
    assert len(row.split()) == 9, row  # profile, then bare, CLI, API for the clip and for the batch


def test_cli_startup_benchmark_runs():
    done = subprocess.run(
        [sys.executable, str(BENCHMARKS / "cli_startup.py"), "--runs", "1"], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "overhead" in done.stdout and "proxx loaded" in done.stdout and "start ffmpeg" in done.stdout
