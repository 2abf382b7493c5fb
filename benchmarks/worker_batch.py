"""Many one-clip jobs through one `proxx worker --concurrency 2` against the user's own ffmpeg loop.

    .venv/bin/python benchmarks/worker_batch.py [--runs 3] [--size 640x360] [--clips 20]

A watch folder or a web page makes one job per clip; a worker runs them. On the same clips and with
proxx's own ffmpeg argument list for each, medians of interleaved runs:
  seq     a sequential shell loop: `for f in *.mov; do ffmpeg ...; done`
  xargs   the same two at a time: `xargs -P2`
  worker  `proxx worker --concurrency 2 --once` over one queued job per clip (queued beforehand,
          worker start-up included), every installed plugin loaded (Fabric on: each job hashes,
          indexes and seals its own ASC MHL generation)
Printed: the wall times, worker / seq and worker / xargs, core count and load.
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
from pathlib import Path

from proxx import Proxx
from proxx.media.probe import probe
from proxx.media.samples import make_clip
from proxx.media.tools import require_tool
from proxx_ffmpeg.recipes import build_args

sys.path.insert(0, str(Path(__file__).parent))
from batch import bare

PROXX = [sys.executable, "-m", "proxx"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--size", default="640x360")
    parser.add_argument("--clips", type=int, default=20)
    parser.add_argument("--profile", default="proxy_prores_lt_hd", help="the canonical profile whose recipe runs")
    args = parser.parse_args()
    ffmpeg = require_tool("ffmpeg").path
    print(f"cores {os.cpu_count()}, load {os.getloadavg()[0]:.2f}, {args.runs} interleaved runs, median")
    with tempfile.TemporaryDirectory(prefix="proxx-worker-batch-") as tmp:
        work = Path(tmp)
        repo = work / "intents"
        repo.mkdir()
        (repo / "bench.yaml").write_text(
            f'user_profile_version: "1.1"\nname: bench\nlifecycle: graduated\ngraduated_to: {args.profile}\n'
            "constraints: {}\n"
        )
        clips = [make_clip(work / "src" / f"A{n:03d}_C001.mov", size=args.size, frames=24) for n in range(args.clips)]
        probes = [probe(str(c)) for c in clips]
        profile = Proxx.open().repository.registry.get(args.profile)
        assert profile is not None, args.profile
        times: dict[str, list[float]] = {"seq": [], "xargs": [], "worker": []}
        for run in range(args.runs):
            for way in times:
                out = work / f"{way}-{run}"
                out.mkdir()
                if way == "worker":
                    home = work / f"home-{run}"
                    env = {**os.environ, "PROXX_HOME": str(home)}
                    os.environ["PROXX_HOME"] = str(home)
                    proxx = Proxx.open(profiles=[repo])
                    for clip in clips:  # one job per clip, as a watch folder makes them
                        proxx.create_job("bench", [clip], out)
                    proxx.store.close()
                    started = time.perf_counter()
                    done = subprocess.run(
                        [*PROXX, "worker", "--concurrency", "2", "--once", "--profiles", str(repo)],
                        capture_output=True, env=env, check=False,
                    )  # fmt: skip
                    times[way].append(time.perf_counter() - started)
                    finished = len(list(out.glob("*.mov")))
                    if done.returncode != 0 or finished != len(clips):
                        raise SystemExit(done.stdout.decode() + done.stderr.decode())
                else:
                    commands = [
                        build_args(ffmpeg, p, str(out / f"{c.stem}.{profile.container}"), profile)
                        for c, p in zip(clips, probes, strict=True)
                    ]
                    times[way].append(bare(commands, 1 if way == "seq" else 2)[0])
                shutil.rmtree(out)
        seq, xargs, ours = (statistics.median(times[w]) for w in ("seq", "xargs", "worker"))
        print(f"{args.clips} x 1 s {args.size}, one job each: seq {seq:.2f} s, xargs -P2 {xargs:.2f} s, "
              f"worker --concurrency 2 {ours:.2f} s: {ours / seq:.2f} x seq, {ours / xargs:.2f} x xargs")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
