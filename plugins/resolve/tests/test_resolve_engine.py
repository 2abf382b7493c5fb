"""The Resolve engine end to end through `Proxx.create_job` / `run_job`, against the fake
DaVinciResolveScript (plugins/resolve/tests/fake_resolve), which renders for real with ffmpeg."""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from resolve_helpers import (
    FAKE_SCRIPTING,
    RESOLVE_PROFILES,
    FakeResolve,
    bridges_running,
    fake_raw,
    leftovers,
    outputs,
    pid_alive,
    run,
)

from proxx import Proxx
from proxx.plugin import probe
from proxx.testing import make_clip, probed_codec

UNAVAILABLE = "Resolve engine not available on this system: "


def checks_of(result: object) -> dict[str, tuple[str, str, bool]]:
    clip = result.clips[0]  # type: ignore[attr-defined]
    return {c.name: (c.expected, c.actual, c.passed) for c in clip.checks}


@pytest.mark.parametrize("codec", sorted(RESOLVE_PROFILES))
def test_each_resolve_profile_renders_exactly_what_its_id_says(
    app: Proxx, fake_resolve: FakeResolve, clip: Path, tmp_path: Path, codec: str
) -> None:
    out = tmp_path / "out"
    progress: list[float] = []
    out.mkdir()
    spec = app.create_job(f"Resolve {codec}", [clip], out)
    result = app.run_job(spec.job_id, on_progress=lambda p: progress.append(p.fraction))
    assert result is not None
    assert result.failure is None, result.failure
    assert result.state == "COMPLETED"
    assert result.proxy_profile == RESOLVE_PROFILES[codec]
    assert result.engine.name == "resolve"
    assert result.engine.version.startswith("DaVinci Resolve Studio 19.1")
    checks = checks_of(result)
    assert all(passed for _, _, passed in checks.values()), checks
    # the codec flavour is read back from the file: SQ really is SQ, not the reference's LB
    name, profile = probed_codec(codec)
    assert checks["video_codec"][1] == name
    assert checks["codec_profile"][1] == profile
    # Resolve writes the timeline's timecode: the engine set it to the source's
    assert checks["timecode"][1] == "02:03:04:05"
    details = result.engine.details
    assert details["settings"]["FormatWidth"] == 320 and details["settings"]["FrameRate"] == 23.976
    assert progress and progress[-1] == 1.0
    assert Path(result.clips[0].output).exists()
    assert leftovers(out) == []
    assert fake_resolve.projects() == []  # project closed and deleted


def test_every_clip_of_a_job_gets_its_own_project_and_output(
    app: Proxx, fake_resolve: FakeResolve, clip: Path, tmp_path: Path
) -> None:
    second = make_clip(tmp_path / "A002.mov", size="320x180", frames=6, timecode="10:00:00:00")
    out = tmp_path / "out"
    result = run(app, "Resolve dnxhr_sq", [clip, second], out)
    assert result.failure is None, result.failure
    assert [c.state for c in result.clips] == ["completed", "completed"]
    assert outputs(out) == ["A001.mxf", "A002.mxf"]
    assert probe(str(out / "A002.mxf")).timecode == "10:00:00:00"
    assert fake_resolve.projects() == []


def test_renders_take_turns_on_one_resolve(
    app: Proxx, fake_resolve: FakeResolve, intents: Path, clip: Path, tmp_path: Path, proxx_home: Path
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    spec = app.create_job("Resolve prores_lt", [clip], out)
    with open(proxx_home / "resolve.lock", "a") as lock:  # another worker's render in progress
        fcntl.flock(lock, fcntl.LOCK_EX)
        worker = threading.Thread(target=lambda: Proxx.open(profiles=[intents]).run_job(spec.job_id))
        worker.start()
        time.sleep(1.5)
        # waiting, not rendering: no file anywhere yet (the clip's empty private folder is there)
        assert fake_resolve.projects() == [] and [p for p in out.rglob("*") if not p.is_dir()] == []
        fcntl.flock(lock, fcntl.LOCK_UN)
    worker.join(timeout=60)
    assert app.store.find(spec.job_id).state == "COMPLETED"
    assert (
        "waiting for Resolve: another proxx render is using it"
        in Path(app.store.find(spec.job_id).log_path).read_text()
    )


@pytest.mark.parametrize("trouble", [None, "call"])
def test_the_operators_open_project_is_reopened(
    app: Proxx,
    fake_resolve: FakeResolve,
    clip: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    trouble: str | None,
) -> None:
    monkeypatch.setenv("PROXX_TIMEOUT_MIN", "2")
    monkeypatch.setenv("PROXX_RESOLVE_CLEANUP_SECONDS", "1")
    fake_resolve.set(open_project="Operator Edit", hang=trouble)
    result = run(app, "Resolve prores_lt", [clip], tmp_path / "out")
    assert (result.failure is None) == (trouble is None)
    assert fake_resolve.projects() == ["Operator Edit"]
    assert fake_resolve.current_project() == "Operator Edit"


def test_scripting_module_folder_is_accepted_directly(
    app: Proxx, fake_resolve: FakeResolve, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RESOLVE_SCRIPT_API", str(FAKE_SCRIPTING / "Modules"))
    availability = app.engines["resolve"].availability()
    assert availability.available, availability.reason
    assert availability.version == "DaVinci Resolve Studio 19.1.3.7"


@pytest.mark.parametrize(
    ("setup", "reason"),
    [
        ("module_missing", "the DaVinciResolveScript module was not found"),
        ("module_broken", "DaVinciResolveScript could not be imported: ImportError: Could not locate module"),
        ("not_running", "DaVinci Resolve is not running, or refuses external scripting"),
        ("free_refusing_scripting", "DaVinci Resolve is not running, or refuses external scripting (a Studio"),
        ("not_answering", "DaVinci Resolve did not answer within 1 seconds"),
        ("free_edition", "DaVinci Resolve Studio is required; the running edition is 'DaVinci Resolve' 19.1.3.7"),
        ("old_version", "DaVinci Resolve Studio 17.4.6.4 is not supported (18.5 or newer is needed)"),
    ],
)
def test_unavailable_resolve_fails_the_job_before_anything_runs(
    app: Proxx,
    fake_resolve: FakeResolve,
    clip: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    setup: str,
    reason: str,
) -> None:
    if setup == "module_missing":
        empty = tmp_path / "no-scripting"
        empty.mkdir()
        monkeypatch.setenv("RESOLVE_SCRIPT_API", str(empty))
    elif setup == "module_broken":  # what the real module does when fusionscript cannot be loaded
        modules = tmp_path / "broken" / "Modules"
        modules.mkdir(parents=True)
        (modules / "DaVinciResolveScript.py").write_text(
            'raise ImportError("Could not locate module dependencies")\n', encoding="utf-8"
        )
        monkeypatch.setenv("RESOLVE_SCRIPT_API", str(modules.parent))
    elif setup == "not_running":
        fake_resolve.set(running=False)
    elif setup == "not_answering":
        monkeypatch.setenv("PROXX_RESOLVE_CONNECT_TIMEOUT", "1")
        fake_resolve.set(hang="connect")
    elif setup == "free_refusing_scripting":  # 19.1+ free: scriptapp answers None though it runs
        fake_resolve.set(product="DaVinci Resolve", refuse_scripting=True)
    elif setup == "free_edition":
        fake_resolve.set(product="DaVinci Resolve")
    else:
        fake_resolve.set(version=[17, 4, 6, 4, ""])
    result = run(app, "Resolve prores_lt", [clip], tmp_path / "out")
    assert result.state == "FAILED"
    assert result.failure.failure_class == "B"
    assert result.failure.reason == "engine_unavailable"
    assert result.failure.message.startswith(UNAVAILABLE + reason), result.failure.message
    assert [c.state for c in result.clips] == ["not_run"]
    assert fake_resolve.projects() == []
    assert bridges_running(fake_resolve.control_path) == []


def test_a_refused_settings_key_is_named(app: Proxx, fake_resolve: FakeResolve, clip: Path, tmp_path: Path) -> None:
    fake_resolve.set(refuse_keys=["FrameRate"])
    out = tmp_path / "out"
    result = run(app, "Resolve dnxhr_sq", [clip], out)
    assert result.state == "FAILED"
    assert result.failure.failure_class == "C"
    assert result.failure.reason == "settings_refused"
    assert (
        result.failure.context["admin_message"]
        == "Resolve render failed: Resolve refused the render settings: FrameRate"
    )
    assert fake_resolve.projects() == []
    assert leftovers(out) == []


def test_a_failed_render_quotes_resolves_error(
    app: Proxx, fake_resolve: FakeResolve, clip: Path, tmp_path: Path
) -> None:
    fake_resolve.set(fail_render="Render Job 1 failed: insufficient disk space")
    out = tmp_path / "out"
    result = run(app, "Resolve prores_hq", [clip], out)
    assert result.state == "FAILED"
    assert result.failure.reason == "disk_full"  # in Resolve's words, which stay for the administrator
    assert result.failure.context["admin_message"] == (
        "Resolve render failed: Render Job 1 failed: insufficient disk space"
    )
    assert result.failure.message.startswith("The output volume ran out of space while the proxy of 'A001.mov'")
    assert fake_resolve.projects() == []
    assert leftovers(out) == []


def test_a_render_that_never_finishes_times_out_and_is_cleaned_up(
    app: Proxx, fake_resolve: FakeResolve, clip: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROXX_TIMEOUT_MIN", "2")
    fake_resolve.set(hang="rendering")
    out = tmp_path / "out"
    started = time.monotonic()
    result = run(app, "Resolve prores_proxy", [clip], out)
    assert time.monotonic() - started < 15
    assert result.failure.reason == "timeout"
    assert result.failure.context["admin_message"] == "Resolve render job timed out after 2 seconds"
    assert fake_resolve.projects() == []  # the bridge stopped, deleted the job and the project itself
    assert leftovers(out) == []


def test_a_hung_scripting_call_is_killed_at_the_deadline(
    app: Proxx, fake_resolve: FakeResolve, clip: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROXX_TIMEOUT_MIN", "2")
    monkeypatch.setenv("PROXX_RESOLVE_CLEANUP_SECONDS", "1")
    fake_resolve.set(hang="call")  # StartRendering never returns
    out = tmp_path / "out"
    started = time.monotonic()
    result = run(app, "Resolve prores_lt", [clip], out)
    assert time.monotonic() - started < 20  # 2 s deadline + 1 s cleanup grace, then a cleanup bridge
    assert result.failure.reason == "timeout"
    assert result.failure.context["admin_message"] == "Resolve render job timed out after 2 seconds"
    assert bridges_running(fake_resolve.control_path) == []
    assert fake_resolve.projects() == []  # a second bridge cleaned up after the killed one
    assert leftovers(out) == []


def test_a_job_neither_rendering_nor_finished_is_given_up(
    app: Proxx, fake_resolve: FakeResolve, clip: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROXX_RESOLVE_STALL_SECONDS", "1")
    fake_resolve.set(hang="stalled")
    result = run(app, "Resolve prores_lt", [clip], tmp_path / "out")
    assert result.failure.reason == "engine_failed"
    assert result.failure.context["admin_message"] == (
        "Resolve render failed: the render job has been neither rendering nor finished for 1 seconds "
        '(status {"JobStatus": "Ready", "CompletionPercentage": 0})'
    )
    assert fake_resolve.projects() == []


def test_a_crashing_bridge_fails_the_clip_not_the_worker(
    app: Proxx, fake_resolve: FakeResolve, clip: Path, tmp_path: Path
) -> None:
    fake_resolve.set(crash="render")
    out = tmp_path / "out"
    result = run(app, "Resolve dnxhr_lb", [clip], out)
    assert result.state == "FAILED"
    assert result.failure.reason == "engine_crashed"
    assert result.failure.context["admin_message"] == (
        "Resolve render failed: the scripting bridge was killed by SIGSEGV before the render finished"
    )
    assert bridges_running(fake_resolve.control_path) == []
    assert fake_resolve.projects() == []
    assert leftovers(out) == []


def test_raw_source_renders_from_resolves_clip_properties(
    app: Proxx, fake_resolve: FakeResolve, clip: Path, tmp_path: Path
) -> None:
    raw = fake_raw(clip, tmp_path / "B001.braw")
    result = run(app, "Resolve prores_lt", [raw], tmp_path / "out")
    assert result.failure is None, result.failure
    assert result.state == "COMPLETED"
    # ffprobe cannot read the RAW source: the format, and what Resolve's clip properties say of it
    checks = checks_of(result)
    assert sorted(checks) == [
        "audio_channels", "codec_profile", "container", "dimensions", "duration", "even_dimensions",
        "frame_rate", "output_exists", "pixel_format", "video_codec",
    ]  # fmt: skip
    assert checks["codec_profile"] == ("LT", "LT", True)
    assert checks["pixel_format"] == ("4:2:2", "4:2:2, 10-bit (yuv422p10le)", True)
    assert checks["frame_rate"] == ("24000/1001", "24000/1001", True)
    assert checks["audio_channels"][2] and checks["duration"][2] and checks["dimensions"][:2] == ("320x180", "320x180")
    assert result.engine.details["resolve_clip_properties"]["Resolution"] == "320x180"
    # ...so prove here that size, rate and timecode followed Resolve's clip properties
    output = probe(result.clips[0].output)
    assert output.video is not None
    assert (output.video.codec, output.video.profile) == probed_codec("prores_lt")
    assert (output.video.width, output.video.height, output.video.frame_rate) == (320, 180, "24000/1001")
    assert output.timecode == "02:03:04:05"


def test_a_raw_clips_timeout_comes_from_resolves_frame_count(
    app: Proxx, fake_resolve: FakeResolve, clip: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # ffprobe gives no duration for RAW, so the core's timeout is only the minimum; 12 frames at 23.976
    # last 0.5005 s, which at 4x is 2.002 s
    monkeypatch.setenv("PROXX_TIMEOUT_MIN", "1")
    monkeypatch.setenv("PROXX_TIMEOUT_FACTOR", "4")
    fake_resolve.set(hang="rendering")
    result = run(app, "Resolve prores_lt", [fake_raw(clip, tmp_path / "C001.braw")], tmp_path / "out")
    assert result.failure.context["admin_message"] == "Resolve render job timed out after 2.002 seconds"


def test_headless_mode_starts_resolve_and_stops_what_it_started(
    fake_resolve: FakeResolve, intents: Path, clip: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROXX_RESOLVE_START", str(fake_resolve.launcher()))
    app = Proxx.open(profiles=[intents])
    engine = app.engines["resolve"]
    try:
        result = run(app, "Resolve prores_proxy", [clip], tmp_path / "out")
        assert result.failure is None, result.failure
        pid, *arguments = (fake_resolve.folder / "launched.pid").read_text().split()
        assert arguments == ["-nogui"]
        assert pid_alive(int(pid))
    finally:
        engine.launcher.stop()  # type: ignore[attr-defined]
    assert not pid_alive(int(pid))


def test_a_source_without_timecode_gets_resolves_zero_start_not_its_timeline_default(
    app: Proxx, fake_resolve: FakeResolve, tmp_path: Path
) -> None:
    source = make_clip(tmp_path / "phone.mov", size="320x180", frames=6, timecode=None)
    result = run(app, "Resolve prores_proxy", [source], tmp_path / "out")
    assert result.failure is None, result.failure
    assert checks_of(result)["timecode"] == ("none or 00:00:00:00", "00:00:00:00", True)


def test_dnxhr_below_its_minimum_frame_is_refused_before_rendering(
    app: Proxx, fake_resolve: FakeResolve, tmp_path: Path
) -> None:
    small = make_clip(tmp_path / "small.mov", size="240x100", frames=2)
    result = run(app, "Resolve dnxhr_sq", [small], tmp_path / "out")
    assert result.failure.failure_class == "B"
    assert "below DNxHR's minimum of 256x120" in result.failure.message
    assert fake_resolve.projects() == []


def test_headless_mode_judges_the_edition_once_resolve_has_started(
    fake_resolve: FakeResolve, intents: Path, clip: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROXX_RESOLVE_START", str(fake_resolve.launcher()))
    fake_resolve.set(product="DaVinci Resolve")
    app = Proxx.open(profiles=[intents])
    engine = app.engines["resolve"]
    try:
        # listing profiles must not start Resolve: the edition is unknown until a job starts it
        assert engine.availability().available
        assert not (fake_resolve.folder / "launched.pid").exists()
        first = run(app, "Resolve prores_lt", [clip], tmp_path / "out1")
        assert (first.failure.failure_class, first.failure.reason) == ("C", "engine_unavailable")
        assert first.failure.context["admin_message"] == (
            "Resolve engine not available on this system: DaVinci Resolve Studio is required; "
            "the running edition is 'DaVinci Resolve' 19.1.3.7"
        )
        second = run(app, "Resolve prores_lt", [clip], tmp_path / "out2")
        assert (second.failure.failure_class, second.failure.reason) == ("B", "engine_unavailable")
        assert fake_resolve.projects() == []
    finally:
        engine.launcher.stop()  # type: ignore[attr-defined]


def test_headless_mode_needs_an_executable(
    fake_resolve: FakeResolve, intents: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_resolve.set(running=False)
    monkeypatch.setenv("PROXX_RESOLVE_START", str(tmp_path / "no-such-resolve"))
    availability = Proxx.open(profiles=[intents]).engines["resolve"].availability()
    assert not availability.available
    assert availability.reason == (
        f"PROXX_RESOLVE_START names '{tmp_path / 'no-such-resolve'}', which is not an executable file"
    )


# --- where the README leaves room: what the plugin does when Resolve answers otherwise -------------


@pytest.mark.parametrize(
    ("control", "message"),
    [
        ({"refuse_current_timeline": True}, "Resolve refused to make the clip's timeline current (SetCurrentTimeline)"),
        ({"refuse_render_mode": True}, "Resolve refused the single clip render mode (SetCurrentRenderMode(1))"),
    ],
)
def test_a_documented_bool_setter_returning_false_fails_the_render(
    app: Proxx, fake_resolve: FakeResolve, clip: Path, tmp_path: Path, control: dict[str, bool], message: str
) -> None:
    fake_resolve.set(**control)
    out = tmp_path / "out"
    result = run(app, "Resolve prores_lt", [clip], out)
    assert (result.state, result.failure.failure_class) == ("FAILED", "C")
    assert result.failure.context["admin_message"] == f"Resolve render failed: {message}"
    assert fake_resolve.projects() == []
    assert leftovers(out) == []


@pytest.fixture
def resolve_volume(tmp_path: Path) -> Iterator[Path]:
    """A folder on one of Resolve's Media Storage volumes; on another file system than the output
    folder where /dev/shm is one, so the proxy is moved into place across file systems."""
    shm = Path("/dev/shm")
    if shm.is_dir() and os.access(shm, os.W_OK) and shm.stat().st_dev != tmp_path.stat().st_dev:
        folder = Path(tempfile.mkdtemp(prefix="proxx-resolve-volume-", dir=shm))
    else:
        folder = tmp_path / "resolve-volume"
        folder.mkdir()
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def test_a_render_folder_resolve_refuses_is_named_and_the_facility_can_choose_one(
    app: Proxx,
    fake_resolve: FakeResolve,
    clip: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    resolve_volume: Path,
) -> None:
    fake_resolve.set(render_volumes=[str(resolve_volume)])  # the output folder is on none of them
    out = tmp_path / "out"
    refused = run(app, "Resolve prores_proxy", [clip], out)
    assert refused.failure.reason == "engine_failed"
    message = refused.failure.context["admin_message"]
    assert message.startswith(
        f"Resolve render failed: AddRenderJob returned no job id: Resolve would not render into {out}/"
    )
    assert "outside Resolve's Media Storage volumes or Resolve may not write it" in message
    assert message.endswith("set PROXX_RESOLVE_RENDER_DIR to a folder Resolve can render into")
    assert leftovers(out) == [] and fake_resolve.projects() == []

    monkeypatch.setenv("PROXX_RESOLVE_RENDER_DIR", str(resolve_volume))
    result = run(app, "Resolve prores_proxy", [clip], tmp_path / "out2")
    assert result.failure is None, result.failure
    assert all(check.passed for check in result.clips[0].checks)
    assert Path(result.clips[0].output) == tmp_path / "out2" / "A001.mov"
    assert result.engine.details["settings"]["TargetDir"].startswith(f"{resolve_volume}/")
    assert list(resolve_volume.iterdir()) == []  # the clip's render folder is gone, its file moved into place
    assert leftovers(tmp_path / "out2") == []


def test_a_render_folder_proxx_cannot_write_makes_the_engine_unavailable(
    app: Proxx, fake_resolve: FakeResolve, clip: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROXX_RESOLVE_RENDER_DIR", str(tmp_path / "no-such-volume"))
    result = run(app, "Resolve prores_proxy", [clip], tmp_path / "out")
    assert (result.failure.failure_class, result.failure.reason) == ("B", "engine_unavailable")
    assert result.failure.message == (
        f"{UNAVAILABLE}PROXX_RESOLVE_RENDER_DIR names '{tmp_path / 'no-such-volume'}', which is not a folder proxx can write"
    )


def test_a_refused_playback_frame_rate_falls_back_to_the_documented_timeline_frame_rate(
    app: Proxx, fake_resolve: FakeResolve, clip: Path, tmp_path: Path
) -> None:
    fake_resolve.set(refuse_settings=["timelinePlaybackFrameRate"])
    result = run(app, "Resolve prores_hq", [clip], tmp_path / "out")
    assert result.failure is None, result.failure
    assert checks_of(result)["frame_rate"][2]
    assert (
        "resolve: Resolve refused the project setting timelinePlaybackFrameRate=23.976; "
        "the timeline rate is the documented timelineFrameRate=23.976 alone"
    ) in Path(result.log_path).read_text()


@pytest.mark.parametrize(
    ("quirk", "shown"),
    [
        ({"status_unknown": "Queued for Render"}, '"JobStatus": "Queued for Render"'),
        ({"status_omit": ["JobStatus"]}, ""),
    ],
)
def test_an_unknown_or_incomplete_status_is_still_working(
    app: Proxx, fake_resolve: FakeResolve, clip: Path, tmp_path: Path, quirk: dict[str, object], shown: str
) -> None:
    # Long enough for the fake's render to have finished meanwhile: the status alone keeps it waiting.
    fake_resolve.set(**quirk, status_quirk_polls=6)
    result = run(app, "Resolve dnxhr_lb", [clip], tmp_path / "out")
    assert result.failure is None, result.failure
    logged = [line for line in Path(result.log_path).read_text().splitlines() if "status not understood" in line]
    assert logged and all(line.startswith("resolve: render job ") for line in logged)
    assert all(line.split("taken as still working: ")[1].startswith("{") for line in logged)
    # the raw dictionary as Resolve gave it: the unknown value, or no JobStatus at all
    assert all((shown in line) if shown else ('"JobStatus"' not in line) for line in logged)


def test_an_unknown_status_that_lasts_is_given_up_at_the_stall_deadline(
    app: Proxx, fake_resolve: FakeResolve, clip: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROXX_RESOLVE_STALL_SECONDS", "1")
    fake_resolve.set(status_unknown="Paused")
    out = tmp_path / "out"
    result = run(app, "Resolve prores_lt", [clip], out)
    assert result.failure.reason == "engine_failed"
    assert result.failure.context["admin_message"].startswith(
        "Resolve render failed: the render job has been neither rendering nor finished for 1 seconds "
        '(status {"JobStatus": "Paused", "CompletionPercentage": 100, '
    )
    assert '"JobStatus": "Paused"' in Path(result.log_path).read_text()
    assert fake_resolve.projects() == [] and leftovers(out) == []


@pytest.mark.parametrize(
    ("formats", "failure"),
    [
        ({"mov": ".mov", "mxf_op1a": ".mxf"}, None),  # "format -> file extension", as the README words it
        (
            {"QuickTime": "qt", "MXF OP1A": "op1a"},
            'this Resolve has no render format \'mov\': GetRenderFormats() returned {"QuickTime": "qt", "MXF OP1A": "op1a"}',
        ),
    ],
)
def test_the_render_format_is_a_value_or_a_key_of_get_render_formats(
    app: Proxx, fake_resolve: FakeResolve, clip: Path, tmp_path: Path, formats: dict[str, str], failure: str | None
) -> None:
    fake_resolve.set(render_formats=formats)
    result = run(app, "Resolve prores_lt", [clip], tmp_path / "out")
    if failure is None:
        assert result.failure is None, result.failure
        assert result.engine.details["render_format"] == "mov"
    else:
        assert (result.failure.reason, result.failure.context["admin_message"]) == (
            "settings_refused",
            f"Resolve render failed: {failure}",
        )
        assert fake_resolve.projects() == []


def _bt601_only_sd(path: Path) -> Path:
    """What x264 and screen recorders write: a BT.601 matrix, primaries and transfer unknown."""
    import subprocess

    from proxx.plugin import require_tool

    subprocess.run(
        [require_tool("ffmpeg").path, "-v", "error", "-f", "lavfi", "-i", "smptebars=s=720x480:r=30000/1001",
         "-frames:v", "3", "-vf", "setparams=colorspace=bt470bg", "-c:v", "libx264", "-preset", "ultrafast",
         "-pix_fmt", "yuv420p", "-colorspace", "bt470bg", str(path)],
        check=True,
    )  # fmt: skip
    return path


def test_resolve_states_the_policy_colour_through_its_render_tags(
    app: Proxx, fake_resolve: FakeResolve, tmp_path: Path
) -> None:
    source = _bt601_only_sd(tmp_path / "SD601.mp4")
    result = run(app, "Resolve prores_lt", [source], tmp_path / "out")
    assert result.failure is None, result.failure
    assert result.engine.details["settings"]["ColorSpaceTag"] == "Rec.601 (525)"
    assert result.engine.details["settings"]["GammaTag"] == "Rec.709"
    checks = checks_of(result)
    assert checks["colour"][2] and checks["picture_colour"][2], checks


def test_a_resolve_render_tagged_otherwise_fails_verification(
    app: Proxx, fake_resolve: FakeResolve, tmp_path: Path
) -> None:
    fake_resolve.set(ignore_colour_tags=True)  # tagged as the project's Rec.709 output space
    source = _bt601_only_sd(tmp_path / "SD601.mp4")
    result = run(app, "Resolve prores_lt", [source], tmp_path / "out")
    assert result.state == "FAILED" and result.failure.reason == "verification_failed"
    checks = checks_of(result)
    assert not checks["colour"][2]
    assert "SMPTE 170M primaries" in checks["colour"][0] and "BT.709 primaries" in checks["colour"][1]


def test_a_raw_render_that_breaks_resolves_clip_properties_fails(
    app: Proxx, fake_resolve: FakeResolve, clip: Path, tmp_path: Path
) -> None:
    fake_resolve.set(render_frame_rate="25")  # a render at another rate than the clip's
    raw = fake_raw(clip, tmp_path / "B002.braw")
    result = run(app, "Resolve prores_lt", [raw], tmp_path / "out")
    assert result.state == "FAILED" and result.failure.reason == "verification_failed"
    assert checks_of(result)["frame_rate"] == ("24000/1001", "25/1", False)


def test_resolve_gone_between_validation_and_render_reads_in_the_operators_terms(
    app: Proxx, fake_resolve: FakeResolve, clip: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from proxx_resolve.engine import ResolveEngine

    validated_render = ResolveEngine.render

    def render_after_resolve_quit(self: ResolveEngine, task: Any) -> Any:
        fake_resolve.set(running=False)  # the job was validated with Resolve running; it quits now
        return validated_render(self, task)

    monkeypatch.setattr(ResolveEngine, "render", render_after_resolve_quit)
    out = tmp_path / "out"
    result = run(app, "Resolve prores_hq", [clip], out)
    assert result.state == "FAILED" and result.failure.failure_class == "C"
    assert result.failure.reason == "engine_unavailable"
    shown = result.failure.message  # what every operator surface shows of it
    assert shown.startswith(
        "The renderer stopped being available while the proxy of 'A001.mov' was being made (it was closed, or it "
        "stopped answering); nothing was published for it. Retry the job once it runs again"
    ), shown
    assert not any(word in shown for word in ("Resolve", "DaVinci", "scripting", "bridge"))
    # Resolve's own words stay for the administrator, in the result and the job log.
    assert "no DaVinci Resolve answered the scripting API" in result.failure.context["admin_message"]
    assert "for an administrator: Resolve render failed: no DaVinci Resolve answered" in Path(
        result.log_path
    ).read_text(encoding="utf-8")
    assert leftovers(out) == [] and outputs(out) == []
    # `proxx jobs show`, as the operator runs it: the same sentence, no word of Resolve's.
    shown_by_cli = subprocess.run(
        [sys.executable, "-m", "proxx", "jobs", "show", result.job_id], capture_output=True, text=True, check=True
    ).stdout
    assert "The renderer stopped being available while the proxy of 'A001.mov' was being made" in shown_by_cli
    said = shown_by_cli.replace("Resolve prores_hq", "")  # the intent's name is the studio's own word
    assert not any(word in said for word in ("Resolve", "DaVinci", "scripting", "bridge")), shown_by_cli
