"""The path one `proxx run` takes from its command line to the job's result JSON.

    .venv/bin/python benchmarks/run_path.py

Runs `proxx run` in this interpreter on a two-frame clip and, each time a `result.json` is put in
place (an audit hook on os.replace/os.rename/os.link), records the call stack. Prints how many times
the result was written, and for each write the chain of proxx's own frames from `proxx.cli.main` to
the writer: the hops, the distinct modules they pass through and those modules' lines. A hop that
climbs back up (a pipeline module calling the facade or a shell) is marked. Last, every module of
proxx and its plugins that ran a function during the whole command (a profile hook on calls): what a
reader follows to see one run from its command line to its result.
"""

from __future__ import annotations

import os
import sys
import tempfile
import traceback
from pathlib import Path

import proxx
import proxx.cli
from proxx.media.samples import make_clip

INTENT = "Review H.264"
PACKAGE_ROOTS = (Path(proxx.__file__).resolve().parent, Path(__file__).resolve().parents[1] / "plugins")
PIPELINE = ("compile", "jobspec", "validate", "execute", "verify", "export", "store", "media")
SHELLS = ("app", "cli", "web", "watch", "worker", "farm")


def module_of(filename: str) -> str | None:
    path = Path(filename).resolve()
    for root in PACKAGE_ROOTS:
        if path.is_relative_to(root):
            return str(path.relative_to(root.parent))
    return None


def lines_of(module: str) -> int:
    root = PACKAGE_ROOTS[0].parent if module.startswith("proxx/") else PACKAGE_ROOTS[1].parent
    return len((root / module).read_text().splitlines())


def layer(module: str) -> str:
    parts = module.removesuffix(".py").split("/")
    if parts[0] != "proxx" or len(parts) < 2:
        return "plugin"
    if parts[1] in PIPELINE:
        return "pipeline"
    return "shell" if parts[1] in SHELLS else "core"


def main() -> int:
    writes: list[list[traceback.FrameSummary]] = []
    ran: dict[str, int] = {}

    def profile(frame: object, event: str, arg: object) -> None:
        if event == "call":
            filename = frame.f_code.co_filename  # type: ignore[attr-defined]
            ran[filename] = ran.get(filename, 0) + 1

    def audit(event: str, args: tuple[object, ...]) -> None:
        if event in ("os.rename", "os.link") and len(args) >= 2 and Path(str(args[1])).name == "result.json":
            writes.append(traceback.extract_stack()[:-1])

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        os.environ["PROXX_HOME"] = str(folder / "home")
        clip = make_clip(folder / "card" / "A001.mov", frames=2, size="320x180")
        (folder / "out").mkdir()
        sys.addaudithook(audit)
        sys.setprofile(profile)
        try:
            code = proxx.cli.main(["run", "--profile", INTENT, "--output", str(folder / "out"), str(clip)])
        finally:
            sys.setprofile(None)
    print(f"proxx run exit {code}; result.json put in place {len(writes)} time(s)")
    for number, stack in enumerate(writes, 1):
        chain = [(module_of(f.filename), f) for f in stack]
        own = [(m, f) for m, f in chain if m is not None]
        start = next((i for i, (m, f) in enumerate(own) if f.name == "main" and m == "proxx/cli/__init__.py"), 0)
        own = own[start:]
        modules = list(dict.fromkeys(m for m, _ in own))
        print(f"\nwrite {number}: {len(own)} hops through {len(modules)} modules ({sum(map(lines_of, modules))} lines)")
        previous = None
        for module, frame in own:
            climbs = previous == "pipeline" and layer(module) == "shell"
            print(f"  {'^ ' if climbs else '  '}{module}:{frame.lineno} {frame.name}")
            previous = layer(module)
    modules = sorted({m for m in map(module_of, ran) if m is not None})
    print(f"\nmodules that ran a function: {len(modules)} ({sum(map(lines_of, modules))} lines)")
    for module in modules:
        print(f"  {module} ({lines_of(module)} lines)")
    return 0 if code == 0 and writes else 1


if __name__ == "__main__":
    raise SystemExit(main())
