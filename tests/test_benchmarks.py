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
