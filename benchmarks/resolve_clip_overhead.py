"""What the Resolve engine's child-process bridge costs per clip, measured against the test suite's
fake Resolve (which encodes with ffmpeg): the same tiny clip through the FFmpeg engine and through the
Resolve engine, both via `Proxx.create_job` / `run_job`.

    .venv/bin/python benchmarks/resolve_clip_overhead.py [--runs R]

Prints the median wall time per job of each and their ratio. The difference is the bridge (a Python
child process per clip, plus one for the availability probe) and the fake's own ffprobe calls; a real
Resolve adds its project, import and render queue costs on top, which only a real Resolve can measure.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

from proxx import Proxx
from proxx.media.samples import make_clip

FAKE_SCRIPTING = Path(__file__).parent.parent / "plugins" / "resolve" / "tests" / "fake_resolve"
INTENTS = {
    "FFmpeg LT": "  codecs: [prores_lt]\n  resolution: [source]\n  engine_preference: [ffmpeg]\n",
    "Resolve LT": "  codecs: [prores_lt]\n  resolution: [source]\n  engine_preference: [resolve]\n",
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        os.environ["PROXX_HOME"] = str(root / "home")
        os.environ["RESOLVE_SCRIPT_API"] = str(FAKE_SCRIPTING)
        control = root / "control.json"
        control.write_text(json.dumps({"state": str(root / "state.json")}), encoding="utf-8")
        os.environ["FAKE_RESOLVE_CONTROL"] = str(control)
        (root / "repo" / "user").mkdir(parents=True)
        for n, (name, constraints) in enumerate(INTENTS.items()):
            text = f'user_profile_version: "1.1"\nname: {name}\nconstraints:\n{constraints}'
            (root / "repo" / "user" / f"{n}.yaml").write_text(text, encoding="utf-8")
        clip = make_clip(root / "A001.mov", size="320x180", frames=12)
        app = Proxx.open(profiles=[root / "repo"])
        medians = {}
        for name in INTENTS:
            times = []
            for run in range(args.runs):
                out = root / f"{name}-{run}".replace(" ", "_")
                out.mkdir()
                started = time.perf_counter()
                result = app.run_job(app.create_job(name, [clip], out).job_id)
                times.append(time.perf_counter() - started)
                assert result is not None and result.failure is None, result and result.failure
            medians[name] = statistics.median(times)
            print(f"{name}: median {medians[name] * 1000:.0f} ms per 12-frame clip job over {args.runs} run(s)")
        print(f"Resolve (fake) / FFmpeg: {medians['Resolve LT'] / medians['FFmpeg LT']:.2f}x")


if __name__ == "__main__":
    main()
