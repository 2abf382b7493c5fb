"""The Resolve overhead benchmark runs (one run each) so that its figure stays reproducible."""

from __future__ import annotations

from tests.benchmarks import run_benchmark


def test_resolve_overhead_benchmark_runs() -> None:
    assert "Resolve (fake) / FFmpeg:" in run_benchmark("resolve_clip_overhead.py", "--runs", "1")
