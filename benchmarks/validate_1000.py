"""Time `proxx validate` on a generated 1,000-profile repository, start-up included.

    .venv/bin/python benchmarks/validate_1000.py [--profiles N] [--runs R]

Prints the median and best wall time of R runs of the `proxx` command as CI would run it.
"""

from __future__ import annotations

import argparse
import itertools
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# Constraint sets that each compile to exactly one bundled canonical profile.
SHAPES_1_1 = [
    "  codecs: [h264]\n  resolution: [scale_50]\n",
    "  codecs: [h264]\n  resolution: [scale_25]\n",
    "  codecs: [prores_lt]\n  max_frame_size: 1920x1080\n",
    "  codecs: [prores_hq]\n  engine_preference: [ffmpeg]\n",
    "  codecs: [dnxhr_sq]\n",
]
SHAPE_1_0 = "  preferred_codecs: [dnxhr]\n  engine_preference: [ffmpeg]\n"


def generate(root: Path, count: int) -> None:
    (root / "user").mkdir(parents=True)
    shapes = itertools.cycle(SHAPES_1_1)
    for n in range(count):
        if n % 4 == 0:
            head = f'user_profile_version: "1.0"\nname: Intent {n:04d}\nnotes: generated\n'
            text = f"{head}constraints:\n{SHAPE_1_0}"
        else:
            text = (
                f'user_profile_version: "1.1"\nname: Intent {n:04d}\ndescription: Generated intent {n}.\n'
                f"constraints:\n{next(shapes)}"
            )
        (root / "user" / f"intent_{n:04d}.yaml").write_text(text)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--profiles", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    proxx = shutil.which("proxx", path=str(Path(sys.executable).parent)) or "proxx"
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "repo"
        generate(root, args.profiles)
        times = []
        for _ in range(args.runs):
            start = time.perf_counter()
            done = subprocess.run([proxx, "validate", str(root)], capture_output=True, text=True)
            times.append(time.perf_counter() - start)
            if done.returncode != 0:
                print(done.stdout[-2000:], done.stderr[-2000:])
                return 1
    load = os.getloadavg()[0]
    print(f"proxx validate, {args.profiles} profiles, {args.runs} runs, start-up included, load {load:.1f}:")
    print(f"  median {statistics.median(times):.3f} s, best {min(times):.3f} s")
    print(f"  last line: {done.stdout.strip().splitlines()[-1]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
