"""A batch through proxx against the user's own ffmpeg loop (issue 17's yardstick).

    .venv/bin/python benchmarks/batch.py [--runs 3] [--profile proxy_prores_lt_hd] [--quick] [--case single]
                                         [--source-codec prores]

On the same clips and with proxx's own ffmpeg argument list for each, medians of interleaved runs:
  seq     a sequential shell loop: `for f in *.mov; do ffmpeg ...; done`
  xargs   the same two at a time: `xargs -P2`
  proxx   one `proxx run` of all the clips, every installed plugin loaded (Fabric on: hashes, index,
          ASC MHL), with probing, validation, verification and a result per clip
for 20 one-second clips at 1080p and at 640x360, and for one 10 s 1080p clip. Printed: the wall
times, proxx / seq and proxx / xargs, and the CPU floor: the bare runs' CPU time divided by the
cores, over the sequential wall time (no schedule can beat it). Core count and load are printed.
Targets: batch <= 1.0 x seq and <= 1.07 x xargs at 1080p, <= 1.0 x seq at 360p, single clip <= 1.05.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from measure import tools_cpu

from proxx import Proxx
from proxx.media.probe import probe
from proxx.media.samples import VIDEO_CODECS, make_clip
from proxx.media.tools import require_tool
from proxx_ffmpeg.recipes import build_args

PROXX = [sys.executable, "-m", "proxx"]


def bare(commands: list[list[str]], parallel: int) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of running `commands`, `parallel` at a time."""
    cpu, started = tools_cpu(), time.perf_counter()
    with ThreadPoolExecutor(max_workers=parallel) as pool:
        for done in pool.map(lambda c: subprocess.run(c, capture_output=True, check=False), commands):
            if done.returncode != 0:
                raise SystemExit(done.stderr.decode(errors="replace")[-1000:])
    return time.perf_counter() - started, tools_cpu() - cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--profile", default="proxy_prores_lt_hd", help="the canonical profile whose recipe runs")
    parser.add_argument("--quick", action="store_true", help="3 tiny clips, to check that the script works")
    parser.add_argument("--case", choices=("1080p", "360p", "single"), action="append", help="only these cases")
    parser.add_argument(
        "--source-codec", choices=sorted(VIDEO_CODECS), default="h264",
        help="the clips' codec: h264 (x264's default: one GOP, as a screen recording), prores (intra, as cameras)",
    )  # fmt: skip
    args = parser.parse_args()
    ffmpeg = require_tool("ffmpeg").path
    print(f"cores {os.cpu_count()}, load {os.getloadavg()[0]:.2f}, {args.runs} interleaved runs, median, "
          f"{args.source_codec} sources")  # fmt: skip
    cases = (
        [("3 x 6 frames 320x180", "320x180", 6, 3)]
        if args.quick
        else [("20 x 1 s 1080p", "1920x1080", 24, 20), ("20 x 1 s 640x360", "640x360", 24, 20),
              ("1 x 10 s 1080p", "1920x1080", 240, 1)]
    )  # fmt: skip
    if args.case:
        wanted = {"1080p": "20 x 1 s 1080p", "360p": "20 x 1 s 640x360", "single": "1 x 10 s 1080p"}
        cases = [case for case in cases if case[0] in {wanted[c] for c in args.case}]
    with tempfile.TemporaryDirectory(prefix="proxx-batch-") as tmp:
        work = Path(tmp)
        env = {**os.environ, "PROXX_HOME": str(work / "home")}
        repo = work / "intents"
        repo.mkdir()
        env["PROXX_PROFILES"] = str(repo)  # the installation's repositories: `run` takes no per-job flag
        (repo / "bench.yaml").write_text(
            f'user_profile_version: "1.1"\nname: bench\nlifecycle: graduated\ngraduated_to: {args.profile}\n'
            "constraints: {}\n"
        )
        profile = Proxx.open().repository.registry.get(args.profile)
        assert profile is not None, args.profile
        print(f"{'case':<22} {'seq':>8} {'xargs -P2':>10} {'proxx':>8} {'/seq':>6} {'/xargs':>7} {'floor':>6}")
        for name, size, frames, count in cases:
            source = work / name.replace(" ", "_")
            clips = [
                make_clip(source / f"A{n:03d}_C001.mov", size=size, frames=frames, video_codec=args.source_codec)
                for n in range(count)
            ]
            probes = [probe(str(c)) for c in clips]
            times: dict[str, list[float]] = {"seq": [], "xargs": [], "proxx": []}
            cpu: list[float] = []
            for run in range(args.runs):
                for way in times:
                    out = work / f"{way}-{run}"
                    out.mkdir()
                    if way == "proxx":
                        command = [*PROXX, "run", "--profile", "bench", "--output", str(out), *map(str, clips)]
                        started = time.perf_counter()
                        done = subprocess.run(command, capture_output=True, env=env, check=False)
                        times[way].append(time.perf_counter() - started)
                        if done.returncode != 0:
                            raise SystemExit(done.stdout.decode() + done.stderr.decode())
                    else:
                        commands = [
                            build_args(ffmpeg, p, str(out / f"{c.stem}.{profile.container}"), profile)
                            for c, p in zip(clips, probes, strict=True)
                        ]
                        wall, used = bare(commands, 1 if way == "seq" else 2)
                        times[way].append(wall)
                        if way == "seq":
                            cpu.append(used)
                    shutil.rmtree(out)
            seq, xargs, ours = (statistics.median(times[w]) for w in ("seq", "xargs", "proxx"))
            floor = statistics.median(cpu) / (os.cpu_count() or 1) / seq
            print(
                f"{name:<22} {seq:>7.2f}s {xargs:>9.2f}s {ours:>7.2f}s {ours / seq:>6.2f} {ours / xargs:>7.2f} "
                f"{floor:>6.2f}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
