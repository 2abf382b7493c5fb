"""Where the DaVinci Resolve scripting module lives (docs/compatibility.md, section 6).

`RESOLVE_SCRIPT_API` names the Scripting folder or, as some installations and the reference set it,
its `Modules/` folder directly: both are accepted. `RESOLVE_SCRIPT_LIB` names fusionscript; the
module reads it itself, so it is passed on to the bridge unchanged. Without them, the documented
per-OS install locations are tried.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path

import attrs

MODULE_FILE = "DaVinciResolveScript.py"


@attrs.frozen
class ScriptingPaths:
    modules_dir: str  # the folder holding DaVinciResolveScript.py (goes on the bridge's sys.path)
    library: str  # fusionscript.so/.dll; "" when neither set nor found (the module then uses its own default)


def default_locations(platform: str, env: Mapping[str, str]) -> tuple[list[Path], list[Path]]:
    """The documented Scripting folders and fusionscript libraries for `platform` (sys.platform)."""
    if platform == "darwin":
        return (
            [Path("/Library/Application Support/Blackmagic Design/DaVinci Resolve/Developer/Scripting")],
            [Path("/Applications/DaVinci Resolve/DaVinci Resolve.app/Contents/Libraries/Fusion/fusionscript.so")],
        )
    if platform.startswith("win"):
        program_data = Path(env.get("PROGRAMDATA", r"C:\ProgramData"))
        program_files = Path(env.get("PROGRAMFILES", r"C:\Program Files"))
        return (
            [program_data / "Blackmagic Design" / "DaVinci Resolve" / "Support" / "Developer" / "Scripting"],
            [program_files / "Blackmagic Design" / "DaVinci Resolve" / "fusionscript.dll"],
        )
    return (
        [Path("/opt/resolve/Developer/Scripting"), Path("/home/resolve/Developer/Scripting")],
        [Path("/opt/resolve/libs/Fusion/fusionscript.so"), Path("/home/resolve/libs/Fusion/fusionscript.so")],
    )


def modules_dir(folder: Path) -> Path | None:
    """`folder` itself when it holds the module, else its `Modules/` when that does."""
    for candidate in (folder, folder / "Modules"):
        if (candidate / MODULE_FILE).is_file():
            return candidate
    return None


def find_scripting(
    env: Mapping[str, str] | None = None, platform: str | None = None
) -> tuple[ScriptingPaths | None, list[str]]:
    """The scripting paths, or None with the places looked in (for the operator's message)."""
    env = os.environ if env is None else env
    folders, libraries = default_locations(platform or sys.platform, env)
    if env.get("RESOLVE_SCRIPT_API"):
        folders = [Path(env["RESOLVE_SCRIPT_API"])]  # an explicit setting is never second-guessed
    library = env.get("RESOLVE_SCRIPT_LIB", "")
    if not library:
        library = next((str(p) for p in libraries if p.is_file()), "")
    looked: list[str] = []
    for folder in folders:
        found = modules_dir(folder)
        if found is not None:
            return ScriptingPaths(str(found), library), looked
        looked.append(str(folder))
    return None, looked
