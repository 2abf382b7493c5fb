"""Folder expansion of a camera card: a card of `--files` clips in nested sub-folders, with sidecars,
given to a job as one folder; each file probed once per job.

    .venv/bin/python benchmarks/folder_expansion.py [--files 2000]

Makes a card (copies of one tiny real clip, distinct files as on a real card, 100 to a folder three
levels down, one XML sidecar and one thumbnail per ten clips), then in a fresh process creates a job
of the whole card with 'HD Editorial LT' (the card expanded to its video files, with whatever
content probing the expansion does) and validates it (every source probed), counting the ffprobe runs
each file costs. Printed: the files found and left out, the time of each step and a file, and the
most ffprobe runs any file cost (goal: 1), then proxx's own CPU over both steps apart from
ffprobe's, and the process's peak memory. Nothing is rendered; `card_1000.py` sets these times
against a whole job's. Core count and load printed.
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
from collections import Counter
from pathlib import Path
from typing import Any

from measure import own_cpu, peak_mib, tools_cpu


def make_card(root: Path, files: int) -> Path:
    from proxx.media.samples import make_clip

    sample = make_clip(root / "sample.mov", size="160x90", frames=3)
    card = root / "CARD"
    for n in range(files):
        folder = card / "PRIVATE" / f"DAY{n // 1000 + 1}" / f"ROLL{n // 100 % 10 + 1:02d}" / "CLIP"
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(sample, folder / f"C{n:04d}.MOV")
        if n % 10 == 0:
            (folder / f"C{n:04d}M01.XML").write_text("<NonRealTimeMeta/>\n", encoding="utf-8")
            (folder / f"C{n:04d}T01.THM").write_bytes(b"\xff\xd8\xff\xd9")
    return card


def child(card: Path, out: Path) -> dict[str, Any]:
    from proxx import Proxx
    from proxx.media import probe as probing
    from proxx.media.probe import MediaInfo
    from proxx.validate.checks import validate

    probes: Counter[str] = Counter()
    run_ffprobe = probing._probe

    def counted(path: str, *how: Any) -> MediaInfo:
        probes[path] += 1
        return run_ffprobe(path, *how)

    probing._probe = counted  # counts the ffprobe runs a file costs, changes nothing
    proxx = Proxx.open()
    own, tools = own_cpu(), tools_cpu()
    started = time.perf_counter()
    spec = proxx.create_job("HD Editorial LT", [card], out)
    created = time.perf_counter()
    expansion_probes = sum(probes.values())
    validated = validate(spec, proxx.engines, proxx.plugin_manager)
    validated_at = time.perf_counter()
    return {
        "proxx_cpu": own_cpu() - own,
        "ffprobe_cpu": tools_cpu() - tools,
        "peak_mib": peak_mib(),
        "clips": len(spec.clips),
        "on_card": sum(1 for p in card.rglob("*") if p.is_file()),
        "create": created - started,
        "expansion_probes": expansion_probes,
        "validate": validated_at - created,
        "problems": len(validated.problems),
        "max_probes": max(probes[c.source] for c in spec.clips),
        "probed": sum(1 for c in spec.clips if probes[c.source]),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(Path(args.child[0]), Path(args.child[1]))))
        return 0
    print(f"cores {os.cpu_count()}, load {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory(prefix="proxx-expand-") as tmp:
        root = Path(tmp)
        card = make_card(root, args.files)
        (root / "out").mkdir()
        env = {**os.environ, "PROXX_HOME": str(root / "home")}
        command = [sys.executable, __file__, "--child", str(card), str(root / "out")]
        done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
        if done.returncode != 0:
            raise SystemExit(done.stdout + done.stderr)
        f = json.loads(done.stdout.splitlines()[-1])
    print(f"{f['on_card']} files on the card, {f['clips']} clips in the job ({f['on_card'] - f['clips']} left out)")
    print(f"job created (card expanded): {f['create']:.2f} s, {f['create'] / f['clips'] * 1000:.2f} ms a clip, "
          f"{f['expansion_probes']} ffprobe runs")  # fmt: skip
    print(f"validated (every source probed): {f['validate']:.2f} s, {f['validate'] / f['clips'] * 1000:.2f} ms a clip, "
          f"{f['problems']} problems")  # fmt: skip
    print(f"{f['probed']} of {f['clips']} sources probed, at most {f['max_probes']}x each")
    print(f"proxx's own CPU {f['proxx_cpu']:.2f} s, ffprobe's {f['ffprobe_cpu']:.2f} s; "
          f"proxx's peak memory {f['peak_mib']:.0f} MiB")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
