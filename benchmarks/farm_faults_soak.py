"""A soak of the farm under broker and worker faults: no job lost, none run twice, none left QUEUED
or RUNNING, and every published proxy recorded.

    .venv/bin/python benchmarks/farm_faults_soak.py [--jobs 24] [--lease 2] [--frames 240]

Starts a private redis-server and two `proxx farm worker` processes, submits `--jobs` one-clip
FFmpeg jobs at once, and while they run: SIGKILLs a worker mid-encode (a replacement starts), stops
Redis (its data saved) for a lease and a half and starts it again, then restarts it empty (a crash
without persistence: the jobs still queued lose their tasks). Then it waits for every job to end on
the submitting machine and reports: how many COMPLETED and FAILED (by reason), the longest time
to an ending after the last fault, and two checks that must both hold: every job ended (none
QUEUED or RUNNING), and no job says a clip was not published while its verified proxy is there
(published proxies are all recorded). Other processes on the machine disturb the figures.
"""

from __future__ import annotations

import argparse
import collections
import os
import sys
import tempfile
import time
from pathlib import Path

from proxx import Proxx
from proxx.media.samples import make_clip
from proxx.result import CLIP_COMPLETED, load_result
from proxx.store import COMPLETED, FAILED
from proxx_farm.state import FarmState, lost_after
from proxx_farm.testing import FarmWorker, RedisServer

INTENT = "HD Editorial LT"


def wait_rendering(server: RedisServer, timeout: float = 60) -> str:
    """A job some worker is rendering (its id)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            state = FarmState.connect(server.url)
            for job_id in state.client.smembers("proxx:farm:running"):
                if float(state.job(str(job_id)).get("progress") or 0) > 0:
                    return str(job_id)
        except Exception:  # the broker is starting again
            pass
        time.sleep(0.05)
    sys.exit("no job was rendering: use more --frames or --jobs")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=24)
    parser.add_argument("--lease", type=float, default=2.0)
    parser.add_argument("--frames", type=int, default=240)
    args = parser.parse_args()
    os.environ["PROXX_FARM_LEASE_SECONDS"] = str(args.lease)
    env = {"PROXX_FARM_LEASE_SECONDS": str(args.lease), "PROXX_FARM_VISIBILITY_TIMEOUT": "3"}
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="proxx-farm-soak-") as tmp, RedisServer() as server:
        root = Path(tmp)
        os.environ["PROXX_HOME"] = str(root / "submitter")
        proxx = Proxx.open()
        workers = {name: FarmWorker(server.url, name, home=root / name, env=env) for name in ("W0", "W1")}
        try:
            for worker in workers.values():
                worker.wait_ready()
            out = root / "out"
            out.mkdir()
            specs = []
            for n in range(args.jobs):
                source = make_clip(root / "media" / f"S{n:03d}.mov", size="640x360", frames=args.frames)
                specs.append(proxx.submit(INTENT, [source], out, farm=server.url))

            victim_job = wait_rendering(server)
            name = FarmState.connect(server.url).job(victim_job)["worker_id"].split(":")[0]
            workers[name].kill()
            print(f"fault 1: worker {name} SIGKILLed mid-encode")
            workers[name] = FarmWorker(server.url, name, home=root / f"{name}-again", env=env)
            workers[name].wait_ready()

            wait_rendering(server)
            server.stop(keep_data=True)
            time.sleep(args.lease * 1.5)
            server.start()
            print(f"fault 2: broker stopped {args.lease * 1.5:g} s with its data, started again")

            wait_rendering(server)
            server.stop(keep_data=False)
            server.start()
            last_fault = time.monotonic()
            print("fault 3: broker restarted without its data")

            deadline = time.monotonic() + lost_after() * 4 + 120
            while True:
                proxx.refresh()
                rows = [proxx.store.job(spec.job_id) for spec in specs]
                if all(r.state in (COMPLETED, FAILED) for r in rows) or time.monotonic() > deadline:
                    break
                time.sleep(0.2)
            settled = time.monotonic() - last_fault
        finally:
            for worker in workers.values():
                worker.stop()
        outcomes = collections.Counter(r.state if r.state != FAILED else f"FAILED {r.reason}" for r in rows)
        unended = [r.job_id for r in rows if r.state not in (COMPLETED, FAILED)]
        unrecorded = []
        for spec, row in zip(specs, rows, strict=True):
            recorded = set()
            if row.result_path and Path(row.result_path).exists():
                recorded = {c.index for c in load_result(Path(row.result_path)).clips if c.state == CLIP_COMPLETED}
            unrecorded += [c.output for c in spec.clips if Path(c.output).exists() and c.index not in recorded]
    print(f"{args.jobs} jobs, lease {args.lease:g} s, {time.monotonic() - started:.1f} s in all")
    for outcome, count in sorted(outcomes.items()):
        print(f"  {count:3d} {outcome}")
    print(f"every job ended: {not unended}  (last ending {settled:.1f} s after the last fault)")
    print(f"every published proxy recorded: {not unrecorded}")
    if unended or unrecorded:
        sys.exit(f"not ended: {unended}; published but not recorded: {unrecorded}")


if __name__ == "__main__":
    main()
