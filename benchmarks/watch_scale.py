"""A watch folder at facility size: every file queued once, and a second pass that costs little.

    .venv/bin/python benchmarks/watch_scale.py [--files 100000] [--small 10000]

Makes `--files` media files in nested card folders (500 a folder), each a hard link of one tiny real
clip (the watcher queues jobs; nothing is rendered), then in a fresh process runs one
`MediaWatcher.events()` pass (as `proxx watch` runs one: each event handed on as it happens) that
queues them all and a second pass over the same folder (nothing new), printing both times, the
jobs queued, proxx's own CPU apart from ffprobe's, and the process's peak memory after each pass;
the same for `--small` files, whose peak the large one's is compared with. Targets: the second pass
under 2 s on 100,000 files, memory flat against 10,000.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from measure import peak_mib, tools_cpu

LINKS_A_FILE = 50000


def make_folder(media: Path, files: int, sample: Path) -> None:
    for n in range(files):
        card = media / f"CARD_{n // 500:03d}" / "CLIP"
        if n % 500 == 0:
            card.mkdir(parents=True)
        if n % LINKS_A_FILE == 0:  # a file takes at most 65,000 links on ext4: a fresh copy now and then
            shutil.copyfile(sample, card / f"A{n:06d}_C001.mov")
            linked = card / f"A{n:06d}_C001.mov"
        else:
            os.link(linked, card / f"A{n:06d}_C001.mov")


def child(media: Path, out: Path) -> dict[str, Any]:
    from proxx import Proxx
    from proxx.watch.watcher import MediaWatcher

    watcher = MediaWatcher(Proxx.open(), media, "HD Editorial LT", out, settle=0)
    figures: dict[str, Any] = {}
    for label in ("first", "second"):
        started, cpu, tools = time.perf_counter(), time.process_time(), tools_cpu()
        queued = sum(1 for _ in watcher.events())  # as `proxx watch` takes them: one event at a time
        figures[label] = {
            "queued": queued, "seconds": time.perf_counter() - started, "peak_mib": peak_mib(),
            "cpu": time.process_time() - cpu, "ffprobe_cpu": tools_cpu() - tools,
        }  # fmt: skip
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=100000)
    parser.add_argument("--small", type=int, default=10000)
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(Path(args.child[0]), Path(args.child[1]))))
        return 0
    print(f"cores {os.cpu_count()}, load {os.getloadavg()[0]:.2f}")
    from proxx.media.samples import make_clip

    with tempfile.TemporaryDirectory(prefix="proxx-watch-") as tmp:
        root = Path(tmp)
        sample = make_clip(root / "sample" / "A000000_C001.mov", size="160x90", frames=3)
        peaks = {}
        for files in (args.small, args.files):
            media, out = root / f"media{files}", root / f"out{files}"
            out.mkdir()
            make_folder(media, files, sample)
            env = {**os.environ, "PROXX_HOME": str(root / f"home{files}")}
            done = subprocess.run(
                [sys.executable, __file__, "--child", str(media), str(out)], capture_output=True, text=True, env=env,
                check=False,
            )  # fmt: skip
            if done.returncode != 0:
                raise SystemExit(done.stdout + done.stderr)
            figures = json.loads(done.stdout.splitlines()[-1])
            for label in ("first", "second"):
                f = figures[label]
                print(f"{files} files, {label} pass: {f['queued']} queued in {f['seconds']:.2f} s, "
                      f"proxx's own CPU {f['cpu']:.2f} s, ffprobe's {f['ffprobe_cpu']:.2f} s, "
                      f"peak {f['peak_mib']:.0f} MiB")  # fmt: skip
            peaks[files] = figures["second"]["peak_mib"]
        print(f"peak memory: {args.files} files {peaks[args.files]:.0f} MiB against {args.small} files "
              f"{peaks[args.small]:.0f} MiB, ratio {peaks[args.files] / peaks[args.small]:.2f}")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
