"""The Resolve engine's pure parts (locating the module, settings allow-list, frame rates) and the
fake's own faithfulness to Resolve's documented and observed behaviour."""

from __future__ import annotations

import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import pytest
from resolve_helpers import FAKE_SCRIPTING, FakeResolve

from proxx_resolve.locate import default_locations, find_scripting
from proxx_resolve.settings import (
    SettingsRefused,
    allowed_keys,
    check_keys,
    parse_resolve_rate,
    parse_version,
    resolve_frame_rate,
)


def test_scripting_folder_or_its_modules_folder() -> None:
    for folder in (FAKE_SCRIPTING, FAKE_SCRIPTING / "Modules"):
        paths, _ = find_scripting({"RESOLVE_SCRIPT_API": str(folder), "RESOLVE_SCRIPT_LIB": "/x/fusionscript.so"})
        assert paths is not None
        assert paths.modules_dir == str(FAKE_SCRIPTING / "Modules")
        assert paths.library == "/x/fusionscript.so"


def test_missing_module_says_where_it_looked(tmp_path: Path) -> None:
    paths, looked = find_scripting({"RESOLVE_SCRIPT_API": str(tmp_path)})
    assert paths is None and looked == [str(tmp_path)]
    paths, looked = find_scripting({}, platform="linux")
    assert paths is None and looked[0] == "/opt/resolve/Developer/Scripting"


def test_documented_default_locations_per_os() -> None:
    mac, mac_lib = default_locations("darwin", {})
    assert str(mac[0]) == "/Library/Application Support/Blackmagic Design/DaVinci Resolve/Developer/Scripting"
    assert mac_lib[0].name == "fusionscript.so" and "DaVinci Resolve.app" in str(mac_lib[0])
    win, win_lib = default_locations("win32", {"PROGRAMDATA": "C:/PD", "PROGRAMFILES": "C:/PF"})
    assert win[0].as_posix().startswith("C:/PD/Blackmagic Design/DaVinci Resolve")
    assert win_lib[0].as_posix() == "C:/PF/Blackmagic Design/DaVinci Resolve/fusionscript.dll"


def test_settings_keys_are_checked_against_the_connected_version() -> None:
    check_keys({"TargetDir": "/x", "FrameRate": "25"}, (18, 5, 0))
    with pytest.raises(
        SettingsRefused, match=r"Resolve 18\.6\.2 does not accept the render setting\(s\) ExportSubtitle"
    ):
        check_keys({"TargetDir": "/x", "ExportSubtitle": True}, (18, 6, 2))
    # Not in the 18.5 README: first in its 7 October 2025 revision, taken as documented from 21.0.
    later = {
        "ClipStartFrame",
        "TimelineStartTimecode",
        "ReplaceExistingFilesInPlace",
        "ExportSubtitle",
        "SubtitleFormat",
    }
    assert not later & allowed_keys((20, 2)) and later <= allowed_keys((21, 0))
    assert len(allowed_keys((18, 5))) == 23 and "Bogus" not in allowed_keys((21, 0))


def test_versions_and_frame_rates() -> None:
    assert parse_version([19, 1, 3, 7, ""]) == (19, 1, 3, 7)
    assert parse_version(["18", "5", "b"]) == (18, 5)
    assert resolve_frame_rate(Fraction(24000, 1001)) == "23.976"
    assert resolve_frame_rate(Fraction(30000, 1001)) == "29.97"
    assert resolve_frame_rate(Fraction(25)) == "25"
    assert parse_resolve_rate("23.976") == Fraction(24000, 1001)
    assert parse_resolve_rate("59.94") == Fraction(60000, 1001)
    with pytest.raises(SettingsRefused, match="no timeline frame rate"):
        resolve_frame_rate(Fraction(12345, 1000))


def _fake_script(body: str) -> str:
    return (
        f"import sys; sys.path.insert(0, {str(FAKE_SCRIPTING / 'Modules')!r})\nimport DaVinciResolveScript as d\n{body}"
    )


def test_fake_set_render_settings_is_all_or_nothing(fake_resolve: FakeResolve) -> None:
    script = _fake_script(
        "p = d.scriptapp('Resolve').GetProjectManager().CreateProject('t')\n"
        "print(p.SetRenderSettings({'TargetDir': '/tmp', 'NoSuchKey': 1}), p.AddRenderJob() == '',\n"
        "      p.SetRenderSettings({'FormatWidth': '320'}), p.SetRenderSettings({'FormatWidth': 320}))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True)
    # refused, and TargetDir was not set either; a value of the wrong type is refused too
    assert done.stdout.split() == ["False", "True", "False", "True"]


def test_fake_start_rendering_with_is_interactive_mode_hangs(fake_resolve: FakeResolve) -> None:
    # The form reported to hang is the documented list-and-keyword one, not an undocumented jobIds=.
    script = _fake_script(
        "p = d.scriptapp('Resolve').GetProjectManager().CreateProject('t')\n"
        "print(p.StartRendering(jobIds=['1']), flush=True)\np.StartRendering(['1'], isInteractiveMode=False)\n"
    )
    with pytest.raises(subprocess.TimeoutExpired) as hung:
        subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=2)
    assert hung.value.stdout in ("False\n", b"False\n")
