"""An hour-long source: memory flat against a one-minute one, progress and its estimate of the time
left all through the run, and a cancel half way.

    .venv/bin/python benchmarks/long_source.py [--minutes 60] [--short 1] [--size 160x90]

Makes a one-second clip at `--size` and loops it by stream copy (no encode) into a `--short`-minute
and a `--minutes`-minute source, then, each in a fresh process, runs them with 'HD Editorial LT' the
way `proxx worker` and `proxx serve` run jobs (`Proxx.create_job` + `run_job`). Printed for each:
wall time, proxx's own CPU (every thread of its process) apart from the tools' (ffmpeg and ffprobe,
child processes), proxx's peak memory; for the long one the progress reported at each tenth with
the estimated time left against the time it really took, and the time verification, publishing
and the result took after the encode. Then the long source once more, cancelled (as `proxx run`'s
Ctrl-C does) when progress passes 50 %: how long the job took to end FAILED "cancelled by the
operator", and that no output or partial file is left. Core count and load printed. Targets: memory
flat (within 1.1x of the short source's); an estimate of the time left at every tenth after the
first; after a cancel, no output and no partial file.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from measure import own_cpu, peak_mib, tools_cpu

INTENT = "HD Editorial LT"


def looped(clip: Path, seconds: int, path: Path) -> Path:
    """`clip` (one second) repeated by stream copy to `seconds`: an hour costs no encode."""
    from proxx.media.tools import require_tool

    path.parent.mkdir(parents=True, exist_ok=True)
    command = [require_tool("ffmpeg").path, "-v", "error", "-stream_loop", str(seconds), "-i", str(clip),
               "-c", "copy", "-t", str(seconds), str(path)]  # fmt: skip
    subprocess.run(command, check=True)
    return path


def child(source: Path, out: Path, cancel_at: float | None) -> dict[str, Any]:
    from proxx import Proxx
    from proxx.execute.progress import Progress

    samples: list[tuple[float, float, float | None]] = []  # (seconds since start, fraction, ETA)
    stop = threading.Event()
    cancelled_at: list[tuple[float, float]] = []  # (seconds since start, fraction) of the cancel
    started = time.perf_counter()

    def on_progress(progress: Progress) -> None:
        now = time.perf_counter() - started
        samples.append((now, progress.fraction, progress.eta_seconds))
        if cancel_at is not None and progress.fraction >= cancel_at and not stop.is_set():
            cancelled_at.append((now, progress.fraction))
            stop.set()

    own = own_cpu()
    proxx = Proxx.open()
    spec = proxx.create_job(INTENT, [source], out)
    result = proxx.run_job(spec.job_id, on_progress=on_progress, stop=stop)
    wall = time.perf_counter() - started
    assert result is not None
    encoded = max((t for t, fraction, _ in samples if fraction < 1.0), default=wall)
    left = [p.name for p in out.rglob("*") if p.is_file()]
    return {
        "state": result.state,
        "reason": result.failure.reason if result.failure else None,
        "wall": wall,
        "after_encode": wall - encoded,
        "own_cpu": own_cpu() - own,
        "tools_cpu": tools_cpu(),
        "peak_mib": peak_mib(),
        "samples": samples,
        "cancelled_at": cancelled_at[0] if cancelled_at else None,
        "files_left": [name for name in left if not name.startswith(".")],
        "outputs_left": [name for name in left if name.endswith(".mov")],
    }


def run_child(source: Path, out: Path, home: Path, cancel_at: float | None = None) -> dict[str, Any]:
    out.mkdir()
    command = [sys.executable, __file__, "--child", str(source), str(out), str(cancel_at or 0)]
    env = {**os.environ, "PROXX_HOME": str(home)}
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        raise SystemExit(done.stdout + done.stderr)
    figures: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    return figures


def summary(label: str, f: dict[str, Any]) -> str:
    return (
        f"{label}: {f['state']} in {f['wall']:.1f} s, proxx CPU {f['own_cpu']:.2f} s, "
        f"tools CPU {f['tools_cpu']:.1f} s, "
        f"proxx peak {f['peak_mib']:.0f} MiB"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=60)
    parser.add_argument("--short", type=float, default=1)
    parser.add_argument("--size", default="160x90")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        cancel_at = float(args.child[2]) or None
        print(json.dumps(child(Path(args.child[0]), Path(args.child[1]), cancel_at)))
        return 0
    from proxx.media.samples import make_clip

    print(f"cores {os.cpu_count()}, load {os.getloadavg()[0]:.2f}; sources at {args.size}")
    with tempfile.TemporaryDirectory(prefix="proxx-long-") as tmp:
        root = Path(tmp)
        clip = make_clip(root / "one_second.mov", size=args.size, frames=24)
        short = looped(clip, round(args.short * 60), root / "media" / "SHORT.mov")
        long = looped(clip, round(args.minutes * 60), root / "media" / "LONG.mov")
        os.environ["PROXX_HOME"] = str(root / "home")
        from proxx import Proxx

        Proxx.open()  # the profile cache is built here, not in the first measured process
        small = run_child(short, root / "out-short", root / "home")
        print(summary(f"{args.short:g} min", small))
        large = run_child(long, root / "out-long", root / "home")
        print(summary(f"{args.minutes:g} min", large))
        print(f"peak memory: {large['peak_mib']:.0f} MiB against {small['peak_mib']:.0f} MiB, "
              f"ratio {large['peak_mib'] / small['peak_mib']:.2f}")  # fmt: skip
        end = large["wall"]
        print(f"{'elapsed':>8} {'progress':>9} {'time left: said':>16} {'really':>7}")
        for tenth in range(1, 10):
            sample = next((s for s in large["samples"] if s[1] >= tenth / 10), None)
            if sample is not None:
                at, fraction, eta = sample
                said = "-" if eta is None else f"{eta:.1f} s"
                print(f"{at:>7.1f}s {fraction:>8.0%} {said:>16} {end - at:>6.1f}s")
        print(f"progress reports: {len(large['samples'])}; after the encode: {large['after_encode']:.2f} s "
              "(verification, publishing, result)")  # fmt: skip
        stopped = run_child(long, root / "out-cancel", root / "home", cancel_at=0.5)
        at, fraction = stopped["cancelled_at"]
        took = stopped["wall"] - at
        print(
            f"cancel at {fraction:.0%}: {stopped['state']} ({stopped['reason']}) {took:.2f} s after the "
            f"cancel; outputs left: {len(stopped['outputs_left'])}, files left: {stopped['files_left']}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
