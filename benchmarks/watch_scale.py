"""A watch folder at facility size: every file queued once, and a second pass that costs little.

    .venv/bin/python benchmarks/watch_scale.py [--files 10000]

Makes `--files` small media-named files in nested card folders (the watcher queues jobs; nothing is
rendered), runs one `MediaWatcher.poll()` pass that queues them all, then a second pass over the same
folder (nothing new) and prints both times, the jobs queued, and this process's peak memory after each
pass. Target: the second pass under 1 s, memory flat between passes.
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
from pathlib import Path


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=10000)
    args = parser.parse_args()
    print(f"cores {os.cpu_count()}, load {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory(prefix="proxx-watch-") as tmp:
        os.environ["PROXX_HOME"] = str(Path(tmp) / "home")
        from proxx import Proxx
        from proxx.watch.watcher import MediaWatcher

        media, out = Path(tmp) / "media", Path(tmp) / "out"
        out.mkdir()
        for n in range(args.files):
            card = media / f"CARD_{n // 500:03d}" / "CLIP"
            card.mkdir(parents=True, exist_ok=True)
            (card / f"A{n:05d}_C001.mov").write_bytes(b"\0" * 64)
        watcher = MediaWatcher(Proxx.open(), media, "HD Editorial LT", out, settle=0)
        for label in ("first pass", "second pass"):
            started = time.perf_counter()
            events = watcher.poll()
            print(f"{label}: {len(events)} queued in {time.perf_counter() - started:.2f} s, peak {peak_mib():.0f} MiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
