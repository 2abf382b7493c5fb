"""Fabric's xxh128 hashing against merely reading the same file the same way.

    .venv/bin/python benchmarks/fabric_hashing.py [--size-mib 512] [--runs 3] [--warm-only]

Prints the read and read+hash throughput and their ratio (hash speed / read speed; Fabric's target
is >= 0.80), cold (page cache dropped before each pass, when this process may write
/proc/sys/vm/drop_caches, i.e. as root) and warm (file already cached). Timings on a shared machine
are disturbed by whatever else runs: re-measure on a quiet one.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from proxx_fabric.hashing import read_file, xxh128_file


def drop_caches() -> bool:
    os.sync()
    try:
        Path("/proc/sys/vm/drop_caches").write_text("3\n")
    except OSError:
        return False
    return True


def best(runs: int, cold: bool, action: Callable[[], object]) -> float:
    times = []
    for _ in range(runs):
        if cold:
            drop_caches()
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size-mib", type=int, default=512)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--warm-only", action="store_true", help="leave the machine's page cache alone")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="proxx-hash-bench-", dir=os.environ.get("TMPDIR", "/var/tmp")) as tmp:
        path = Path(tmp) / "media.bin"
        with open(path, "wb") as handle:
            for _ in range(args.size_mib):
                handle.write(os.urandom(1024 * 1024))
        size = args.size_mib
        modes = [("cold", True)] if not args.warm_only and drop_caches() else []
        if not modes and not args.warm_only:
            print("cold: skipped (cannot write /proc/sys/vm/drop_caches; run as root for cold-cache figures)")
        read_file(path)  # warm the cache for the warm pass
        for name, cold in [*modes, ("warm", False)]:
            read = best(args.runs, cold, lambda: read_file(path))
            hashed = best(args.runs, cold, lambda: xxh128_file(path))
            print(
                f"{name}: {size} MiB  read {size / read:8.0f} MiB/s  read+xxh128 {size / hashed:8.0f} MiB/s  "
                f"ratio {read / hashed:.2f}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
