"""The job store at facility size: `proxx jobs list` and `proxx jobs show` on 100,000 jobs.

    .venv/bin/python benchmarks/store_scale.py [--jobs 100000] [--runs 5]

Generates a store of `--jobs` jobs (real JobSpecs with their digests, a quarter FAILED with results,
the rest COMPLETED or QUEUED: written in one transaction, as no proxx command would), then times the
whole `proxx jobs list` command (default page), `proxx jobs show ID` and `proxx jobs list --limit 0
--json` (the full listing, streamed), with each command's peak memory. Medians of `--runs`, start-up
included; core count and load printed. Targets: list < 0.15 s, show < 0.2 s, the full listing's
memory flat in the job count.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROXX = [sys.executable, "-m", "proxx"]


def generate(home: Path, count: int) -> str:
    """A store of `count` jobs; returns one job id to show."""
    os.environ["PROXX_HOME"] = str(home)
    from proxx import Proxx
    from proxx.jobspec.model import create_jobspec, digest_of, utc_now

    proxx = Proxx.open()
    compiled = proxx.select("HD Editorial LT")
    template = create_jobspec(compiled, [Path("/media/CARD/A001_C001.mov")], Path("/media/out"), utc_now(), {})
    path = proxx.store.path
    proxx.store.close()
    db = sqlite3.connect(path)
    states = ("COMPLETED", "FAILED", "COMPLETED", "QUEUED")
    with db:
        rows = []
        for n in range(count):
            job_id = f"job-20261101T{n // 3600 % 24:02d}{n // 60 % 60:02d}{n % 60:02d}Z-{n:08x}"
            spec_json = template.to_json().replace(template.job_id, job_id)
            rows.append((job_id, spec_json, digest_of(spec_json), f"2026-11-01T00:00:{n % 60:02d}Z", "HD Editorial LT"))
        db.executemany("INSERT INTO jobspecs VALUES (?, ?, ?, ?, ?, NULL)", rows)
        db.executemany(
            "INSERT INTO jobs (job_id, state, seq, failure_class, reason, message) VALUES (?, ?, ?, ?, ?, ?)",
            [
                (
                    row[0],
                    states[n % 4],
                    n + 1,
                    *(("C", "verification_failed", "differs") if n % 4 == 1 else (None,) * 3),
                )
                for n, row in enumerate(rows)
            ],
        )
    db.close()
    return rows[count // 2][0]


# Runs one command and prints its own peak memory: a fresh parent, so no earlier child counts.
PEAK = (
    "import resource, subprocess, sys, time; t = time.perf_counter(); "
    "done = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL); "
    "print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); sys.exit(done.returncode)"
)


def timed(command: list[str]) -> tuple[float, float]:
    """(wall seconds, peak MiB of the command)."""
    done = subprocess.run([sys.executable, "-c", PEAK, *command], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(done.stdout + done.stderr)
    wall, peak = done.stdout.split()[-2:]
    return float(wall), int(peak) / 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=100000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    print(f"cores {os.cpu_count()}, load {os.getloadavg()[0]:.2f}, {args.jobs} jobs, median of {args.runs}")
    with tempfile.TemporaryDirectory(prefix="proxx-store-") as tmp:
        started = time.perf_counter()
        job_id = generate(Path(tmp), args.jobs)
        print(f"generated in {time.perf_counter() - started:.1f} s")
        for label, command in (
            ("jobs list", [*PROXX, "jobs", "list"]),
            ("jobs show", [*PROXX, "jobs", "show", job_id]),
            ("jobs list --limit 0 --json", [*PROXX, "jobs", "list", "--limit", "0", "--json"]),
        ):
            runs = [timed(command) for _ in range(args.runs)]
            wall = statistics.median(r[0] for r in runs)
            print(f"{label:<24} {wall:6.3f} s, peak {max(r[1] for r in runs):.0f} MiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
