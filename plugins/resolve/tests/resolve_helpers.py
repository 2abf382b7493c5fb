"""Helpers for the Resolve engine tests (fixtures are in conftest.py)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

from proxx import Proxx

FAKE_SCRIPTING = Path(__file__).parent / "fake_resolve"
# canonical codec -> the *_resolve profile an intent with `codecs: [codec]` compiles to
RESOLVE_PROFILES = {
    "prores_proxy": "proxy_prores_proxy_resolve",
    "prores_lt": "proxy_prores_lt_resolve",
    "prores_hq": "proxy_prores_hq_resolve",
    "dnxhr_lb": "proxy_dnxhr_lb_resolve",
    "dnxhr_sq": "proxy_dnxhr_sq_resolve",
}
FAKE_RAW_MAGIC = b"FAKE-RAW-1\n"


class FakeResolve:
    """Writes the control file the fake module reads on every call."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.control_path = folder / "control.json"
        self.state_path = folder / "state.json"
        self.control: dict[str, Any] = {"state": str(self.state_path)}
        self.write()

    def set(self, **control: Any) -> None:
        self.control.update(control)
        self.write()

    def write(self) -> None:
        self.control_path.write_text(json.dumps(self.control), encoding="utf-8")

    def current_project(self) -> str | None:
        if not self.state_path.exists():
            return None
        current: str | None = json.loads(self.state_path.read_text(encoding="utf-8"))["current"]
        return current

    def projects(self) -> list[str]:
        if not self.state_path.exists():
            return []
        projects: list[str] = json.loads(self.state_path.read_text(encoding="utf-8"))["projects"]
        return projects

    def launcher(self) -> Path:
        """A stand-in Resolve executable: records its pid and arguments, then runs until stopped."""
        pid_file = self.folder / "launched.pid"
        script = self.folder / "resolve"
        script.write_text(
            f"#!{sys.executable}\n"
            "import os, sys, time\n"
            f"open({str(pid_file)!r}, 'w').write(f'{{os.getpid()}} ' + ' '.join(sys.argv[1:]))\n"
            "time.sleep(600)\n",
            encoding="utf-8",
        )
        script.chmod(0o755)
        self.set(running=False, launched_pid_file=str(pid_file))
        return script


def run(app: Proxx, intent: str, sources: list[Path], out: Path) -> Any:
    out.mkdir(parents=True, exist_ok=True)
    spec = app.create_job(intent, sources, out)
    result = app.run_job(spec.job_id)
    assert result is not None
    return result


def fake_raw(clip: Path, path: Path) -> Path:
    """A "RAW" file ffprobe cannot read and the fake Resolve decodes."""
    path.write_bytes(FAKE_RAW_MAGIC + clip.read_bytes())
    return path


# What exporters keep beside outputs (Fabric: `.proxx/` result copies and the `ascmhl/` history).
EXPORTER_RECORDS = frozenset({".proxx", "ascmhl"})


def leftovers(out: Path) -> list[str]:
    """Anything the engine left in the output folder besides proxies: temp render folders, partials."""
    return sorted(
        p.name
        for p in out.iterdir()
        if p.name not in EXPORTER_RECORDS and (p.name.startswith(".") or ".proxx-partial-" in p.name)
    )


def outputs(out: Path) -> list[str]:
    return sorted(p.name for p in out.iterdir() if p.name not in EXPORTER_RECORDS)


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True


def bridges_running(control_path: Path) -> list[int]:
    """Bridge processes (python -m proxx_resolve.bridge) still alive for this test's fake Resolve."""
    found = []
    marker = f"FAKE_RESOLVE_CONTROL={control_path}".encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue
        if b"proxx_resolve.bridge" in cmdline and marker in environ.split(b"\0"):
            state = (entry / "stat").read_text().rsplit(")", 1)[-1].split()[0]
            if state != "Z":
                found.append(int(entry.name))
    return found
