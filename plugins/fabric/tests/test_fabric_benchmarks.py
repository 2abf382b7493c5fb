"""Fabric's benchmark scripts run (with small sizes) so that their figures stay reproducible."""

from __future__ import annotations

import re

from tests.benchmarks import run_benchmark


def test_the_hashing_benchmark_prints_read_and_hash_speeds_and_their_ratio():
    out = run_benchmark("fabric_hashing.py", "--size-mib", "8", "--runs", "1", "--warm-only")
    assert re.search(r"^warm: 8 MiB  read +\d+ MiB/s  read\+xxh128 +\d+ MiB/s  ratio \d+\.\d\d$", out, re.M), out


def test_the_overhead_benchmark_prints_the_time_fabric_adds_per_job():
    out = run_benchmark("fabric_overhead.py", "--runs", "1", "--size", "320x180", "--frames", "6")
    assert re.search(r"^fabric adds [+-]\d+\.\d{3} s per job", out, re.M), out
    assert re.search(r"^of which the fabric exporter itself \(in the result\): median \d+\.\d{3} s$", out, re.M), out
