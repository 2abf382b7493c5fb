"""Writing a large job's result JSON: the one atomic writer (`proxx.home.write_json_atomically`)
against the way results were written before it (`json.dump` with `indent=2` into a temporary file).

    .venv/bin/python benchmarks/result_json.py [--clips 1000] [--runs 7]

Builds the result of a job of `--clips` completed clips, each with every verification check and its
facts (the records proxx writes, unstructured by its converter), then times writing it, fsync and
rename included, both ways, into a temporary folder. Medians of `--runs`; the size of each file and
the ratio printed. `json.dumps` without an indent runs CPython's C encoder; `json.dump`, and any
indent, runs the pure-Python one.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from proxx.converter import converter
from proxx.home import write_json_atomically
from proxx.jobspec.model import Origin
from proxx.result import ClipResult, ClipState, EngineRun, JobResult
from proxx.verify.checks import CHECK_NAMES, Check
from proxx.verify.facts import ClipFacts


def result_of(clips: int) -> dict[str, Any]:
    """A finished job's result JSON document with `clips` verified clips."""
    checks = tuple(Check(name, "1920x1080 prores_lt", "1920x1080 prores_lt", True) for name in CHECK_NAMES)
    facts = ClipFacts("01:00:00:00", "01:00:00:00", "24000/1001", 240, 10.01, 1920, 1080)
    results = tuple(
        ClipResult(
            index,
            f"/media/CARD_{index // 100:03d}/A{index:03d}_C001_0101AB.mov",
            f"/media/out/Proxy/A{index:03d}_C001_0101AB.mov",
            ClipState.COMPLETED,
            checks=checks,
            seconds=4.2,
            output_bytes=24_000_000,
            facts=facts,
        )
        for index in range(clips)
    )
    result = JobResult(
        "1.0", "job-20261206-000000-3f9a1c2b", "0" * 64, "proxy_prores_lt_hd",
        Origin("HD Editorial LT", "1.1", "user_profile", "profiles/user/hd_editorial_lt.yaml", "0" * 64),
        "2026-12-06T00:00:00.000Z",
        "COMPLETED", "2026-12-06T00:00:00.000Z", "2026-12-06T00:00:01.000Z", "2026-12-06T01:00:00.000Z",
        {"validate": 1.0, "render": 3000.0, "verify": 200.0}, EngineRun("ffmpeg", "6.0"), results, "/home/job.log",
    )  # fmt: skip
    document: dict[str, Any] = converter.unstructure(result)
    return document


def write_indented(path: Path, document: Any) -> None:
    """The former writer: `json.dump(indent=2)` into a temporary file, fsync, rename."""
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(document, handle, indent=2, ensure_ascii=False)
        handle.write("\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


def timed(write: Callable[[Path, Any], None], path: Path, document: Any, runs: int) -> float:
    seconds = []
    for _ in range(runs):
        start = time.perf_counter()
        write(path, document)
        seconds.append(time.perf_counter() - start)
    return statistics.median(seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    document = result_of(args.clips)
    print(f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}; a result of {args.clips} clip(s)")
    with tempfile.TemporaryDirectory() as folder:
        one, before = Path(folder, "result.json"), Path(folder, "indented.json")
        now = timed(write_json_atomically, one, document, args.runs)
        then = timed(write_indented, before, document, args.runs)
        assert json.loads(one.read_text(encoding="utf-8")) == json.loads(before.read_text(encoding="utf-8"))
        print(f"write_json_atomically: {now * 1000:.1f} ms, {one.stat().st_size / 1e6:.2f} MB")
        print(f"json.dump(indent=2):   {then * 1000:.1f} ms, {before.stat().st_size / 1e6:.2f} MB")
        print(f"ratio: {now / then:.2f}x")


if __name__ == "__main__":
    main()
