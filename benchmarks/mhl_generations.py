"""ASC MHL at constant cost per job: the time Fabric takes to add a job's generation to an output
folder's history, for the first job in the folder and for the Nth.

    .venv/bin/python benchmarks/mhl_generations.py [--jobs 5000] [--sample 50]

Each job adds one proxy-sized entry (a small file, already hashed, as Fabric passes it) and one
result JSON. The first `--sample` generations and the last `--sample` are timed; their medians and
the ratio (last / first) are printed with the core count and load, and then the reference tool's
`ascmhl create` is run over the folder and must pass. Target: the ratio at most 1.5.
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

from proxx_fabric.hashing import xxh128_file
from proxx_fabric.mhl import HashedFile, add_generation


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=5000)
    parser.add_argument("--sample", type=int, default=50)
    args = parser.parse_args()
    print(f"cores {os.cpu_count()}, load {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        (root / "Proxy").mkdir()
        seconds: list[float] = []
        for job in range(args.jobs):
            files = []
            for name in (f"Proxy/A{job:05d}.mov", f".proxx/results/{job:05d}.json"):
                path = root / name
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(name.encode() * 64)
                files.append(HashedFile(str(path), path.stat().st_size, xxh128_file(path)))
            started = time.perf_counter()
            add_generation(root, files, f"job {job}")
            seconds.append(time.perf_counter() - started)
        first = statistics.median(seconds[: args.sample])
        last = statistics.median(seconds[-args.sample :])
        print(f"generation 1-{args.sample}: {first * 1000:.2f} ms median")
        print(f"generation {args.jobs - args.sample + 1}-{args.jobs}: {last * 1000:.2f} ms median")
        print(f"ratio {last / first:.2f} (target <= 1.5)")
        ascmhl = str(Path(sys.executable).with_name("ascmhl"))
        started = time.perf_counter()
        check = subprocess.run([ascmhl, "create", str(root)], capture_output=True, text=True)
        print(f"ascmhl create: exit {check.returncode} in {time.perf_counter() - started:.1f} s")
        return check.returncode


if __name__ == "__main__":
    raise SystemExit(main())
