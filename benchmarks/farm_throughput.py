"""Farm throughput: one-clip FFmpeg jobs through two farm workers, against two bare encoders side by
side, and each job run exactly once.

    .venv/bin/python benchmarks/farm_throughput.py [--clips 200] [--frames 48] [--size 640x360] [--runs 1] [--one]

Starts a private redis-server and two `proxx farm worker` processes (concurrency 1 each, their own
PROXX_HOME) on this machine, submits one job a clip with 'HD Editorial LT' and times submission to
the last job's finish (worker start-up excluded), looking at the farm once a second as the web page
does. The yardstick: the same clips through proxx's own
ffmpeg argument list, two bare encoders side by side (`xargs -P2`). `--one` also times one worker.
Best of `--runs`. Printed: both times, their ratio (goal: within 1.1x), and the exactly-once check:
every job started once across the workers' logs, and every proxy published once (no second copy, no
partial left). Core count and load printed; other processes on the machine disturb the figures.
"""

from __future__ import annotations

import argparse
import datetime
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from proxx import Proxx
from proxx.media.probe import probe
from proxx.media.samples import make_clip
from proxx.media.tools import require_tool
from proxx.store import COMPLETED, FAILED
from proxx_farm.testing import FarmWorker, RedisServer
from proxx_ffmpeg.recipes import build_args

INTENT = "HD Editorial LT"
# How often the submitting machine looks, as the web page does (`static/live.js`): every look
# mirrors the farm's records and costs CPU on the cores the encoders use. The time taken ends at
# the last job's own finish, not at the look that saw it.
WATCH_SECONDS = 1.0


def run(proxx: Proxx, broker: str, sources: list[Path], out: Path, workers: int, root: Path) -> tuple[float, list[str]]:
    """(seconds from the first submission to the last job's finish, the job ids)."""
    farm = [FarmWorker(broker, f"bench{workers}-{n}", home=root / f"worker{workers}-{n}") for n in range(workers)]
    try:
        for worker in farm:
            worker.wait_ready()
        out.mkdir()
        submitted = datetime.datetime.now(datetime.UTC)
        jobs = [proxx.submit(INTENT, [source], out, farm=broker).job_id for source in sources]
        pending = set(jobs)
        finished: list[str] = []
        while pending:
            time.sleep(WATCH_SECONDS)
            proxx.refresh()
            for job_id in list(pending):
                row = proxx.store.job(job_id)
                if row.state == FAILED:
                    sys.exit(f"job {job_id} FAILED: {row.message}")
                if row.state == COMPLETED:
                    pending.discard(job_id)
                    finished.append(row.finished_at or "")
        last = datetime.datetime.fromisoformat(max(finished).replace("Z", "+00:00"))
        return (last - submitted).total_seconds(), jobs
    finally:
        for worker in farm:
            worker.stop()


def runs_per_job(homes: list[Path], jobs: list[str]) -> Counter[str]:
    """How many times each job was started, from every worker's job logs."""
    started: Counter[str] = Counter()
    for home in homes:
        for log in home.glob("**/jobs/*/job.log"):
            text = log.read_text(errors="replace")
            for job_id in jobs:
                started[job_id] += text.count(f"job {job_id} (")
    return started


def bare(proxx: Proxx, sources: list[Path], out: Path) -> float:
    """Two bare encoders side by side on proxx's own argument lists."""
    profile = proxx.select(INTENT).canonical
    ffmpeg = require_tool("ffmpeg").path
    out.mkdir()
    commands = [build_args(ffmpeg, probe(str(s)), str(out / f"{s.stem}.{profile.container}"), profile) for s in sources]
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=2) as pool:
        for done in pool.map(lambda c: subprocess.run(c, capture_output=True, check=False), commands):
            if done.returncode != 0:
                sys.exit(done.stderr.decode(errors="replace")[-1000:])
    return time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clips", type=int, default=200)
    parser.add_argument("--frames", type=int, default=48)
    parser.add_argument("--size", default="640x360")
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--one", action="store_true", help="also time one worker")
    args = parser.parse_args()
    print(f"cores {os.cpu_count()}, load {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory(prefix="proxx-farm-throughput-") as tmp, RedisServer() as server:
        root = Path(tmp)
        os.environ["PROXX_HOME"] = str(root / "submitter")
        sources = [make_clip(root / "media" / f"A{n:03d}.mov", size=args.size, frames=args.frames)
                   for n in range(args.clips)]  # fmt: skip
        proxx = Proxx.open()
        one = two = side_by_side = float("inf")
        for n in range(args.runs):
            side_by_side = min(side_by_side, bare(proxx, sources, root / f"bare-{n}"))
            seconds, jobs = run(proxx, server.url, sources, root / f"out-{n}-2", 2, root / f"run{n}")
            two = min(two, seconds)
            started = runs_per_job([root / f"run{n}" / f"worker2-{w}" for w in range(2)], jobs)
            outputs = [p.name for p in (root / f"out-{n}-2").iterdir() if p.is_file()]  # proxies, partials
            once = all(started[j] == 1 for j in jobs) and sorted(outputs) == sorted(f"{s.stem}.mov" for s in sources)
            print(f"run {n + 1}: each of {len(jobs)} jobs started once and published once: {once} "
                  f"(starts {sum(started.values())}, proxies {len(outputs)})")  # fmt: skip
            if args.one:
                one = min(one, run(proxx, server.url, sources, root / f"out-{n}-1", 1, root / f"run{n}")[0])
    print(f"{args.clips} one-clip jobs ({args.size}, {args.frames} frames) with '{INTENT}'")
    print(f"two bare encoders side by side: {side_by_side:6.2f} s ({args.clips / side_by_side:.2f} clips/s)")
    print(f"2 farm workers:                 {two:6.2f} s ({args.clips / two:.2f} clips/s)")
    print(f"farm / bare: {two / side_by_side:.2f}")
    if args.one:
        print(f"1 farm worker:                  {one:6.2f} s; throughput ratio (2 workers / 1): {one / two:.2f}")


if __name__ == "__main__":
    main()
