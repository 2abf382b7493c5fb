"""A 1,000-clip camera card as one job: proxx's own cost per clip stays flat as the card grows.

    .venv/bin/python benchmarks/card_1000.py [--clips 1000] [--small 10] [--frames 3] [--size 160x90]

Makes one tiny clip (`--frames` frames at `--size`) and copies it as every clip of a card
(CARD/A###/CLIP/, 100 clips a folder), then runs the card as one job with 'HD Editorial LT' in a
fresh process for each size (`--small` clips, then `--clips`), the way `proxx worker`, `proxx serve`
and the watch folders run jobs (`Proxx.create_job` + `run_job`). Each process prints proxx's own
cost apart from the encoders': its own CPU time (every thread of the proxx process; ffmpeg and
ffprobe are child processes, counted apart as "tools"), its peak memory, and the wall time.

Printed for the large job: proxx's own CPU per clip over the first and the last tenth of the clips
(the job's progress, weighted by duration, says where they are), their ratio (goal <= 1.1), the peak
memory against the small job's (goal <= 1.5x), how many times the result JSON was written (goal:
once), the share of the wall time spent validating and probing the sources; then, on the store the
job left, `proxx jobs show ID` (whole command, start-up included; goal < 0.5 s) and the web job page
(goal < 1 s; its size and whether its clips are folded or paged) and the operator API's job and
result documents, each the first time the server shows it and again. Core count and load printed.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from measure import own_cpu, peak_mib, tools_cpu

INTENT = "HD Editorial LT"
PROXX = [sys.executable, "-m", "proxx"]


def make_card(root: Path, clips: int, frames: int, size: str) -> Path:
    """A card of `clips` copies of one tiny real clip, 100 to a folder: copies, not hard links, as
    proxx remembers a probe by the file's identity (device, inode, size, time), which links share."""
    from proxx.media.samples import make_clip

    sample = make_clip(root / "sample" / "A001_C001.mov", size=size, frames=frames)
    card = root / f"CARD_{clips}"
    for n in range(clips):
        folder = card / f"A{n // 100 + 1:03d}" / "CLIP"
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(sample, folder / f"A{n // 100 + 1:03d}_C{n % 100 + 1:03d}.mov")
    return card


def child(card: Path, out: Path) -> dict[str, Any]:
    """Run the card as one job in this process; what it cost."""
    from proxx import Proxx
    from proxx.execute import runner
    from proxx.execute.progress import Progress
    from proxx.media import probe as probing
    from proxx.media.probe import MediaInfo

    writes: list[str] = []
    write = runner.write_text_atomically  # type: ignore[attr-defined]

    def counted(path: Path, pieces: Iterable[str]) -> None:
        writes.append(path.name)
        write(path, pieces)

    runner.write_text_atomically = counted  # type: ignore[attr-defined]  # counts the writes, changes nothing
    probes: Counter[str] = Counter()
    run_ffprobe = probing._probe

    def counted_probe(path: str, *how: Any) -> MediaInfo:
        probes[path] += 1
        return run_ffprobe(path, *how)

    probing._probe = counted_probe  # counts the ffprobe runs a file costs, changes nothing
    marks: dict[str, tuple[float, float]] = {}  # fraction mark -> (own CPU, wall) when first passed

    def on_progress(progress: Progress) -> None:
        for mark in (0.0, 0.1, 0.9, 1.0):
            if progress.fraction >= mark and str(mark) not in marks:
                marks[str(mark)] = (own_cpu(), time.perf_counter())

    started, cpu0 = time.perf_counter(), own_cpu()
    proxx = Proxx.open()
    opened = time.perf_counter()
    spec = proxx.create_job(INTENT, [card], out)  # the card expanded (and its files probed, where it probes)
    created = time.perf_counter()
    result = proxx.run_job(spec.job_id, on_progress=on_progress)
    wall = time.perf_counter() - started
    assert result is not None and result.state == "COMPLETED", result and result.failure
    clips = len(spec.clips)
    tenth = max(1, clips // 10)
    first = (marks["0.1"][0] - marks["0.0"][0]) / tenth
    last = (marks["1.0"][0] - marks["0.9"][0]) / tenth
    return {
        "job_id": spec.job_id,
        "clips": clips,
        "wall": wall,
        "create": created - opened,
        "source_probes": max(probes[c.source] for c in spec.clips),
        "probed_sources": sum(1 for c in spec.clips if probes[c.source]),
        "validation": result.timings.get("validation_seconds", 0.0),
        "own_cpu": own_cpu() - cpu0,
        "tools_cpu": tools_cpu(),
        "peak_mib": peak_mib(),
        "first_ms": first * 1000,
        "last_ms": last * 1000,
        "first_wall_ms": (marks["0.1"][1] - marks["0.0"][1]) / tenth * 1000,
        "last_wall_ms": (marks["1.0"][1] - marks["0.9"][1]) / tenth * 1000,
        "result_writes": writes.count("result.json"),
    }


def run_child(card: Path, out: Path, home: Path) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, __file__, "--child", str(card), str(out)],
        capture_output=True, text=True, env={**os.environ, "PROXX_HOME": str(home)}, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(done.stdout + done.stderr)
    figures: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    return figures


def jobs_show(home: Path, job_id: str, runs: int) -> tuple[float, int]:
    """Median wall seconds of the whole `proxx jobs show` command, and the lines it printed."""
    env = {**os.environ, "PROXX_HOME": str(home)}
    times, lines = [], 0
    for _ in range(runs):
        started = time.perf_counter()
        done = subprocess.run([*PROXX, "jobs", "show", job_id], capture_output=True, text=True, env=env, check=False)
        times.append(time.perf_counter() - started)
        if done.returncode != 0:
            raise SystemExit(done.stdout + done.stderr)
        lines = len(done.stdout.splitlines())
    return statistics.median(times), lines


def web_page(home: Path, media: Path, job_id: str, runs: int) -> tuple[dict[str, tuple[float, float, int]], str]:
    """For the web job page and the operator API's job and result (server side, in process): the
    first answer's seconds (nothing reworded yet in the server), the median of `runs` more, and the
    size; and the page's text."""
    os.environ["PROXX_HOME"] = str(home)
    from fastapi.testclient import TestClient

    from proxx import Proxx
    from proxx.web.app import create_app
    from proxx.web.roots import MediaRoots, parse_roots
    from proxx.web.service import WebService

    app = Proxx.open()
    service = WebService(app, MediaRoots(parse_roots([f"media={media}"]), app.beside_outputs))
    figures, page = {}, ""
    with TestClient(create_app(service)) as http:
        for path in (f"/jobs/{job_id}", f"/api/jobs/{job_id}", f"/api/jobs/{job_id}/result"):
            times = []
            for _ in range(runs + 1):
                started = time.perf_counter()
                answer = http.get(path)
                times.append(time.perf_counter() - started)
                assert answer.status_code == 200, answer.text[:2000]
            figures[path] = (times[0], statistics.median(times[1:]), len(answer.content))
            page = page or answer.text
    service.proxx.store.close()
    return figures, page


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clips", type=int, default=1000)
    parser.add_argument("--small", type=int, default=10)
    parser.add_argument("--frames", type=int, default=3)
    parser.add_argument("--size", default="160x90")
    parser.add_argument("--runs", type=int, default=3, help="runs of `jobs show` and of the web page")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(Path(args.child[0]), Path(args.child[1]))))
        return 0
    print(f"cores {os.cpu_count()}, load {os.getloadavg()[0]:.2f}; {args.frames} frames of {args.size} a clip")
    with tempfile.TemporaryDirectory(prefix="proxx-card-") as tmp:
        root = Path(tmp)
        figures = {}
        for clips in (args.small, args.clips):
            card = make_card(root / f"media{clips}", clips, args.frames, args.size)
            (root / f"media{clips}" / "out").mkdir()
            figures[clips] = run_child(card, root / f"media{clips}" / "out", root / f"home{clips}")
            f = figures[clips]
            print(
                f"{f['clips']:>5} clips: wall {f['wall']:.2f} s (validation {f['validation']:.2f} s), "
                f"proxx CPU {f['own_cpu']:.2f} s ({f['own_cpu'] / f['clips'] * 1000:.1f} ms a clip), "
                f"tools CPU {f['tools_cpu']:.2f} s, proxx peak {f['peak_mib']:.0f} MiB, "
                f"result JSON written {f['result_writes']}x"
            )
        small, large = figures[args.small], figures[args.clips]
        print(
            f"proxx CPU a clip: first tenth {large['first_ms']:.1f} ms, last tenth {large['last_ms']:.1f} ms, "
            f"ratio {large['last_ms'] / large['first_ms']:.2f} (wall a clip {large['first_wall_ms']:.0f} / "
            f"{large['last_wall_ms']:.0f} ms)"
        )
        print(f"peak memory: {large['peak_mib']:.0f} MiB against {small['peak_mib']:.0f} MiB, "
              f"ratio {large['peak_mib'] / small['peak_mib']:.2f}")  # fmt: skip
        print(
            f"creating the job (the card expanded) {large['create']:.2f} s, "
            f"{large['create'] / large['wall'] * 100:.1f} % of the wall time; validation (probing every source) "
            f"{large['validation']:.2f} s, {large['validation'] / large['wall'] * 100:.1f} %; "
            f"{large['probed_sources']} sources probed, at most {large['source_probes']}x each"
        )
        home = root / f"home{args.clips}"
        show, lines = jobs_show(home, large["job_id"], args.runs)
        print(f"jobs show: {show:.3f} s ({lines} lines)")
        web, page = web_page(home, root / f"media{args.clips}", large["job_id"], args.runs)
        names = ("web job page", "API job", "API result")
        for (path, (first, then, size)), what in zip(web.items(), names, strict=True):
            print(f"{what}: first {first:.3f} s, then {then:.3f} s, {size / 1024:.0f} KiB ({path})")
        sections, tables = page.count('<section class="clip"'), page.count("<table")
        print(f"web job page: {sections} clip sections, {tables} tables")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
