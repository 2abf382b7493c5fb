"""Time from a farm worker's death (SIGKILL mid-encode, FFmpeg included) to its job being FAILED.

    .venv/bin/python benchmarks/farm_worker_lost.py [--lease 3] [--runs 3]

Starts a private redis-server and two `proxx farm worker` processes; for each run, submits one
FFmpeg job on a clip long enough to be killed mid-encode, SIGKILLs the process group of the worker
running it once it reports progress, and times until the surviving worker's reaper marks the job
FAILED "worker lost". Expected: between one lease and one and a half (the reaper runs every half
lease). Also checks that the job never got a final output. Other processes on the machine disturb
the figures.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from proxx import Proxx
from proxx.media.samples import make_clip
from proxx.media.tools import require_tool
from proxx_farm.state import FarmState
from proxx_farm.testing import FarmWorker, RedisServer

INTENT = "Archive ProRes"


def long_clip(path: Path, frames: int) -> Path:
    """A 1080p clip of `frames` frames: one second encoded, repeated by stream copy (an encode of all
    of them would cost more than the benchmark)."""
    second = make_clip(path.with_name(f"{path.stem}.second.mov"), size="1920x1080", frames=24)
    command = [require_tool("ffmpeg").path, "-v", "error", "-stream_loop", "-1", "-i", str(second),
               "-map", "0:v", "-map", "0:a", "-c", "copy", "-frames:v", str(frames), "-timecode", "01:00:00:00",
               str(path)]  # fmt: skip
    subprocess.run(command, check=True)
    second.unlink()
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lease", type=float, default=3.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--frames", type=int, default=480)
    args = parser.parse_args()
    os.environ["PROXX_FARM_LEASE_SECONDS"] = str(args.lease)
    times = []
    with tempfile.TemporaryDirectory(prefix="proxx-farm-lost-") as tmp, RedisServer() as server:
        root = Path(tmp)
        os.environ["PROXX_HOME"] = str(root / "submitter")
        proxx = Proxx.open()
        state = FarmState.connect(server.url)
        workers = {name: FarmWorker(server.url, name, home=root / name) for name in ("W0", "W1")}
        try:
            for worker in workers.values():
                worker.wait_ready()
            for n in range(args.runs):
                source = long_clip(root / "media" / f"L{n:03d}.mov", frames=args.frames)
                out = root / f"out{n}"
                out.mkdir()
                spec = proxx.submit(INTENT, [source], out, farm=server.url)
                deadline = time.monotonic() + 120
                while float(state.job(spec.job_id).get("progress") or 0) <= 0:
                    if state.job(spec.job_id).get("state") in ("COMPLETED", "FAILED") or time.monotonic() > deadline:
                        sys.exit(f"job {spec.job_id} ended before it could be killed; use more --frames")
                    time.sleep(0.05)
                name = state.job(spec.job_id)["worker_id"].split(":")[0]
                workers[name].kill()
                killed = time.monotonic()
                while state.job(spec.job_id).get("state") == "RUNNING":
                    time.sleep(0.02)
                elapsed = time.monotonic() - killed
                farm = state.job(spec.job_id)
                if farm.get("reason") != "worker lost" or Path(spec.clips[0].output).exists():
                    sys.exit(f"unexpected outcome: {farm.get('state')} {farm.get('reason')}")
                times.append(elapsed)
                print(f"run {n + 1}: worker {name} killed mid-encode -> FAILED 'worker lost' in {elapsed:.2f} s")
                if n + 1 < args.runs:  # a replacement host for the next run
                    workers[name] = FarmWorker(server.url, name, home=root / f"{name}-{n}")
                    workers[name].wait_ready()
        finally:
            for worker in workers.values():
                worker.stop()
    print(f"lease {args.lease:g} s: death -> FAILED median {statistics.median(times):.2f} s, max {max(times):.2f} s")


if __name__ == "__main__":
    main()
