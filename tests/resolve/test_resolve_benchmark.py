"""The Resolve overhead benchmark runs (one run each) so that its figure stays reproducible."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCHMARK = Path(__file__).parent.parent.parent / "benchmarks" / "resolve_clip_overhead.py"


def test_resolve_overhead_benchmark_runs() -> None:
    done = subprocess.run([sys.executable, str(BENCHMARK), "--runs", "1"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Resolve (fake) / FFmpeg:" in done.stdout
