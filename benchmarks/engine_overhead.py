"""proxx against bare ffmpeg doing the same conversion with the same recipe.

    .venv/bin/python benchmarks/engine_overhead.py [--runs 3] [--quick]

(a) For every bundled ffmpeg canonical profile, divided by bare ffmpeg running the identical argument
    list, on a 10 s 1080p clip and on a batch of 20 one-second 1080p clips (one job; bare: 20 ffmpeg
    runs). Targets: <= 1.05 and <= 1.15. Two ways of running proxx:
      CLI  `proxx run`, the whole command: interpreter start-up, imports, compile, JobSpec, store,
           validation, render, verification, publish, result JSON;
      API  the same job through `Proxx.create_job` + `run_job` in a process that is already up, as
           `proxx worker`, `proxx serve`, farm workers and watch folders run jobs.
(b) proxx's ProRes recipe (prores_aw) against the reference implementation's prores_ks recipe
    (`-c:v prores_ks -profile:v N`, everything else equal): speed ratio and file-size ratio.
(c) The time to compile an intent and create one JobSpec (in process).
Runs are interleaved and the median of --runs is reported.
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
from proxx.jobspec.model import create_jobspec, utc_now
from proxx.media.probe import probe
from proxx.media.samples import make_clip
from proxx.media.tools import require_tool
from proxx.pluginmanager import build_plugin_manager
from proxx.store import COMPLETED
from proxx_ffmpeg.recipes import build_args

PROXX = [sys.executable, "-m", "proxx"]


def timed(command: list[str], env: dict[str, str] | None = None) -> float:
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, env=env)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"failed: {command[:4]}...\n{done.stderr.decode()[-2000:]}")
    return elapsed


def intent_repo(root: Path, canonical_ids: list[str]) -> Path:
    """One graduated intent per canonical id: compiles straight to that id."""
    root.mkdir(parents=True, exist_ok=True)
    for canonical_id in canonical_ids:
        (root / f"{canonical_id}.yaml").write_text(
            f'user_profile_version: "1.1"\nname: bench {canonical_id}\nlifecycle: graduated\n'
            f"graduated_to: {canonical_id}\nconstraints: {{}}\n"
        )
    return root


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="small sizes, to check the script works")
    parser.add_argument("--only", nargs="*", default=None, metavar="ID", help="only these canonical ids")
    parser.add_argument(
        "--plugins",
        default=None,
        metavar="NAMES",
        help="PROXX_LOAD_PLUGINS for the proxx runs, e.g. 'ffmpeg' for the core alone (Fabric's own "
        "cost is measured by benchmarks/fabric_overhead.py)",
    )
    parser.add_argument("--skip-ks", action="store_true", help="leave out (b), the slow prores_ks comparison")
    args = parser.parse_args()
    ffmpeg = require_tool("ffmpeg").path
    size, long_frames, short_frames, batch = ("320x180", 24, 6, 3) if args.quick else ("1920x1080", 240, 24, 20)

    with tempfile.TemporaryDirectory(prefix="proxx-bench-") as tmp:
        work = Path(tmp)
        home = work / "home"
        os.environ["PROXX_HOME"] = str(home)  # this process's API runs too
        if args.plugins is not None:
            os.environ["PROXX_LOAD_PLUGINS"] = args.plugins
        env = dict(os.environ)
        long_clip = make_clip(work / "src" / "LONG_C001.mov", size=size, frames=long_frames)
        clips = [make_clip(work / "src" / f"B{n:03d}_C001.mov", size=size, frames=short_frames) for n in range(batch)]
        proxx = Proxx.open()
        profiles = [
            p for p in proxx.repository.registry if p.engine == "ffmpeg" and (args.only is None or p.id in args.only)
        ]
        repo = intent_repo(work / "intents", [p.id for p in profiles])
        env["PROXX_PROFILES"] = str(repo)  # the installation's repositories: `run` takes no per-job flag
        api = Proxx.open(profiles=[repo], pm=build_plugin_manager())
        probes = {str(c): probe(str(c)) for c in [long_clip, *clips]}

        plugins = f", PROXX_LOAD_PLUGINS={args.plugins}" if args.plugins is not None else ", all installed plugins"
        runs = f"median of {args.runs} interleaved runs, {os.cpu_count()} cores{plugins}"
        print(f"(a) proxx / bare ffmpeg, same recipe, {runs}")
        heading = f"{'bare':>10} {'CLI':>6} {'API':>6}"
        print(f"    {'':<22} {'10 s clip':^24}   {'20 x 1 s batch':^24}")
        print(f"    {'profile':<22} {heading}   {heading}")
        for profile in profiles:
            cells = []
            for sources in ([long_clip], clips):
                times: dict[str, list[float]] = {"bare": [], "cli": [], "api": []}
                for run in range(args.runs):
                    folders = {way: work / f"{way}-{profile.id}-{run}" for way in times}
                    for folder in folders.values():
                        folder.mkdir()
                    start = time.perf_counter()
                    for src in sources:
                        dst = folders["bare"] / f"{src.stem}.{profile.container}"
                        subprocess.run(
                            build_args(ffmpeg, probes[str(src)], str(dst), profile), check=True, capture_output=True
                        )
                    times["bare"].append(time.perf_counter() - start)
                    command = [*PROXX, "run", "--profile", f"bench {profile.id}",
                               "--output", str(folders["cli"]), *map(str, sources)]  # fmt: skip
                    times["cli"].append(timed(command, env))
                    start = time.perf_counter()
                    spec = api.create_job(f"bench {profile.id}", sources, folders["api"])
                    result = api.run_job(spec.job_id)
                    times["api"].append(time.perf_counter() - start)
                    if result is None or result.state != COMPLETED:
                        raise SystemExit(f"API run failed: {result.failure if result else 'not claimed'}")
                    for folder in folders.values():
                        shutil.rmtree(folder)
                bare, cli, in_process = (statistics.median(times[way]) for way in ("bare", "cli", "api"))
                cells.append(f"{bare:8.2f} s {cli / bare:6.2f} {in_process / bare:6.2f}")
            print(f"    {profile.id:<22} {cells[0]}   {cells[1]}")

        print("\n(b) proxx ProRes recipe (prores_aw) vs the reference's prores_ks, 10 s clip")
        print(f"    {'profile':<24} {'speed aw/ks':>12} {'size aw/ks':>11}")
        prores = [p for p in profiles if p.codec.startswith("prores") and p.resolution == "source"]
        for profile in [] if args.skip_ks else prores:
            ours_args = build_args(ffmpeg, probes[str(long_clip)], str(work / "aw.mov"), profile)
            number = ours_args[ours_args.index("-profile:v") + 1]
            position = ours_args.index("prores_aw")
            ks_args = [*ours_args[:position], "prores_ks", "-profile:v", number, *ours_args[position + 3 :]]
            ks_args[-1] = "file:" + str(work / "ks.mov")
            aw_times, ks_times = [], []
            for _ in range(args.runs):
                for path in (work / "aw.mov", work / "ks.mov"):
                    path.unlink(missing_ok=True)
                aw_times.append(timed(ours_args))
                ks_times.append(timed(ks_args))
            speed = statistics.median(ks_times) / statistics.median(aw_times)
            size_ratio = (work / "aw.mov").stat().st_size / (work / "ks.mov").stat().st_size
            print(f"    {profile.id:<24} {speed:>10.2f}x {size_ratio:>11.2f}")

        print("\n(c) compile + create one JobSpec, in process")
        compiled_runs = []
        for _ in range(200):
            start = time.perf_counter()
            compiled = proxx.select("HD Editorial LT")
            create_jobspec(compiled, [long_clip], work, utc_now(), {"proxx": "bench"})
            compiled_runs.append(time.perf_counter() - start)
        stored_runs = []
        for _ in range(50):
            start = time.perf_counter()
            proxx.create_job("HD Editorial LT", [long_clip], work)
            stored_runs.append(time.perf_counter() - start)
        print(f"    compile + JobSpec: median {statistics.median(compiled_runs) * 1e6:.0f} us")
        print(f"    ... and stored in SQLite (WAL): median {statistics.median(stored_runs) * 1e3:.2f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
