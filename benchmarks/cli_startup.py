"""Where the fixed cost of a `proxx run` command goes, on a clip so short that ffmpeg hardly works.

    .venv/bin/python benchmarks/cli_startup.py [--runs 21]

Prints (1) the overhead: `proxx run` minus bare ffmpeg running the identical argument list, median
of interleaved runs; (2) the floor any Python command on this stack pays: the interpreter alone,
and importing attrs, cattrs, pluggy and the standard library modules proxx needs, with the cyclic
collector off as `proxx` runs it; (3) one `proxx run` traced: when each process starts and ends.
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

INTENT = "Review H.264"
STACK = (
    "attrs, cattrs, pluggy, sqlite3, json, subprocess, threading, argparse, pathlib, fractions, datetime, "
    "hashlib, logging, concurrent.futures, selectors, ctypes"
)
# Runs `proxx run` in this interpreter, printing a time stamp (ms since start) at each process
# start and end: the phases between are proxx's own work.
TRACER = """
import os, subprocess, sys, time
start = time.perf_counter()
def stamp(what):
    print(f"{(time.perf_counter() - start) * 1000:8.1f} ms  {what}", file=sys.stderr)
popen_init, popen_wait = subprocess.Popen.__init__, subprocess.Popen.wait
def init(self, args, *rest, **options):
    stamp(f"start {os.path.basename(str(args[0]))}")
    popen_init(self, args, *rest, **options)
def wait(self, *rest, **options):
    code = popen_wait(self, *rest, **options)
    if not getattr(self, "stamped", False):
        self.stamped = True
        stamp(f"  end {os.path.basename(str(self.args[0]))}")
    return code
subprocess.Popen.__init__, subprocess.Popen.wait = init, wait
import argparse
parse_args = argparse.ArgumentParser.parse_args
def parse(self, *rest, **options):
    stamp("proxx loaded: imports, plugins, command line")
    return parse_args(self, *rest, **options)
argparse.ArgumentParser.parse_args = parse
import atexit
atexit.register(stamp, "exit")
import proxx.cli
sys.argv[0] = "proxx"
proxx.cli.run()
"""


def seconds(command: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, capture_output=True, check=True, env=env)
    return time.perf_counter() - start


def median_seconds(command: list[str], runs: int, env: dict[str, str]) -> float:
    return statistics.median(seconds(command, env) for _ in range(runs))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=21)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="proxx-startup-") as tmp:
        work = Path(tmp)
        os.environ["PROXX_HOME"] = str(work / "home")
        os.environ.setdefault("PROXX_LOAD_PLUGINS", "ffmpeg")
        env = dict(os.environ)
        clip = make_clip(work / "A001_C001.mov", size="320x180", frames=12)
        profile = Proxx.open().select(INTENT).canonical
        bare_argv = build_args(require_tool("ffmpeg").path, probe(str(clip)), str(work / "bare.mp4"), profile)
        out = work / "out"
        proxx_argv = [sys.executable, "-m", "proxx", "run", "--profile", INTENT, "--output", str(out), str(clip)]
        bare, ours = [], []
        for _ in range(args.runs):
            shutil.rmtree(out, ignore_errors=True)
            out.mkdir()
            (work / "bare.mp4").unlink(missing_ok=True)
            bare.append(seconds(bare_argv, env))
            ours.append(seconds(proxx_argv, env))
        b, o = statistics.median(bare), statistics.median(ours)
        plugins = env["PROXX_LOAD_PLUGINS"] or "none"
        print(f"(1) proxx run {o * 1e3:.1f} ms, bare ffmpeg {b * 1e3:.1f} ms: overhead {(o - b) * 1e3:.1f} ms")
        print(f"    (12 frames 320x180, median of {args.runs} interleaved runs, PROXX_LOAD_PLUGINS={plugins})")

        python = [sys.executable, "-c"]
        alone = median_seconds([*python, "import gc; gc.disable()"], args.runs, env)
        stack = median_seconds([*python, f"import gc; gc.disable(); import {STACK}"], args.runs, env)
        print(f"(2) interpreter alone {alone * 1e3:.1f} ms; importing the stack {stack * 1e3:.1f} ms")

        shutil.rmtree(out)
        out.mkdir()
        traced = subprocess.run([*python, TRACER, *proxx_argv[3:]], capture_output=True, text=True, check=True, env=env)
        print("(3) one traced `proxx run` (after the interpreter started):")
        print("\n".join("    " + line for line in traced.stderr.splitlines() if " ms  " in line))
    return 0


if __name__ == "__main__":
    sys.exit(main())
