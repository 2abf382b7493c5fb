"""The time Fabric adds to a job: `proxx run` with the FFmpeg engine alone, then with Fabric too.

    .venv/bin/python benchmarks/fabric_overhead.py [--runs 5] [--size 1920x1080] [--frames 48]

Runs the `proxx` command as an operator would (start-up included), alternating
PROXX_LOAD_PLUGINS=ffmpeg and PROXX_LOAD_PLUGINS=ffmpeg,fabric on one source into fresh output
folders, and prints the median wall time of each and the difference (probe, xxh128 of source and
proxy, index write, result copy and ASC MHL generation). Timings on a shared machine are disturbed
by whatever else runs: re-measure on a quiet one.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from proxx.media.samples import make_clip

PROXX = str(Path(sys.executable).with_name("proxx"))


def run_once(plugins: str, source: Path, output: Path, home: Path) -> tuple[float, float | None]:
    output.mkdir(parents=True)
    env = {**os.environ, "PROXX_LOAD_PLUGINS": plugins, "PROXX_HOME": str(home)}
    command = [PROXX, "run", "--json", "--profile", "HD Editorial LT", "--output", str(output), str(source)]
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"proxx run failed ({plugins}): {done.stderr.strip()}")
    exports = json.loads(done.stdout)["result"]["exports"]
    inside = [e["details"]["seconds"] for e in exports if e["exporter"] == "fabric" and e["ok"]]
    return elapsed, (inside[0] if inside else None)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--size", default="1920x1080")
    parser.add_argument("--frames", type=int, default=48)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="proxx-fabric-bench-") as tmp:
        root = Path(tmp)
        source = make_clip(root / "A001_C001.mov", size=args.size, frames=args.frames)
        times: dict[str, list[float]] = {"ffmpeg": [], "ffmpeg,fabric": []}
        exporter: list[float] = []
        for n in range(args.runs):
            for plugins in times:
                out = root / f"out-{plugins.replace(',', '-')}-{n}"
                wall, inside = run_once(plugins, source, out, root / "home")
                times[plugins].append(wall)
                exporter += [inside] if inside is not None else []
        base, fabric = (statistics.median(times[p]) for p in times)
        mib = source.stat().st_size / 2**20
        print(f"source: {args.size}, {args.frames} frames, {mib:.1f} MiB; {args.runs} run(s) each")
        print(f"proxx run, ffmpeg only:     median {base:.3f} s")
        print(f"proxx run, ffmpeg + fabric: median {fabric:.3f} s")
        print(f"fabric adds {fabric - base:+.3f} s per job ({(fabric - base) / base:+.1%})")
        print(f"of which the fabric exporter itself (in the result): median {statistics.median(exporter):.3f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
