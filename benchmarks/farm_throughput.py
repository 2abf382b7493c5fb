"""Farm throughput: N one-clip FFmpeg jobs through one farm worker, then through two.

    .venv/bin/python benchmarks/farm_throughput.py [--clips 20] [--frames 48] [--size 640x360] [--runs 2]

Starts a private redis-server and `proxx farm worker` processes (concurrency 1 each) on this machine,
submits the jobs with 'HD Editorial LT' and times submission to the last COMPLETED (worker start-up
excluded), alternating one and two workers --runs times and keeping the best time of each. Prints
both times and the throughput ratio. On a 2-core machine two workers can at best
double throughput, and FFmpeg already uses both cores for one encode, so expect well under 2x; other
processes on the machine disturb the figures.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from proxx import Proxx
from proxx.farm.local import FarmWorker, RedisServer
from proxx.media.samples import make_clip
from proxx.store import COMPLETED, FAILED

INTENT = "HD Editorial LT"


def run(proxx: Proxx, broker: str, sources: list[Path], out: Path, workers: int, root: Path) -> float:
    farm = [FarmWorker(broker, f"bench{workers}-{n}", home=root / f"worker{workers}-{n}") for n in range(workers)]
    try:
        for worker in farm:
            worker.wait_ready()
        out.mkdir()
        clock = time.monotonic()
        jobs = [proxx.submit(INTENT, [source], out, farm=broker).job_id for source in sources]
        pending = set(jobs)
        while pending:
            proxx.refresh()
            for job_id in list(pending):
                row = proxx.store.job(job_id)
                if row.state == FAILED:
                    sys.exit(f"job {job_id} FAILED: {row.message}")
                if row.state == COMPLETED:
                    pending.discard(job_id)
            time.sleep(0.1)
        return time.monotonic() - clock
    finally:
        for worker in farm:
            worker.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clips", type=int, default=20)
    parser.add_argument("--frames", type=int, default=48)
    parser.add_argument("--size", default="640x360")
    parser.add_argument("--runs", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="proxx-farm-bench-") as tmp, RedisServer() as server:
        root = Path(tmp)
        os.environ["PROXX_HOME"] = str(root / "submitter")
        sources = [make_clip(root / "media" / f"A{n:03d}.mov", size=args.size, frames=args.frames)
                   for n in range(args.clips)]  # fmt: skip
        proxx = Proxx.open()
        one = two = float("inf")
        for n in range(args.runs):
            one = min(one, run(proxx, server.url, sources, root / f"out-{n}-1", 1, root))
            two = min(two, run(proxx, server.url, sources, root / f"out-{n}-2", 2, root))
    print(f"{args.clips} clips ({args.size}, {args.frames} frames) with '{INTENT}' on {os.cpu_count()} CPU(s)")
    print(f"1 worker:  {one:6.2f} s  ({args.clips / one:.2f} clips/s)")
    print(f"2 workers: {two:6.2f} s  ({args.clips / two:.2f} clips/s)")
    print(f"throughput ratio (2 workers / 1 worker): {one / two:.2f}")


if __name__ == "__main__":
    main()
