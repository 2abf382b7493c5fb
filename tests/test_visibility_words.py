"""What operators read comes from one place (`proxx.visibility`), for the CLI and the web alike.

The end-to-end test drives a format verification failure of a plugin's own codec (VP9 in WebM with
Opus, from the test plugin `tests/vp9webm`), a plugin whose canonical profile names a codec nobody
declared (its vocabulary is missing), and a source whose name carries terminal escapes, through
`proxx jobs list`, `proxx jobs show`, `proxx profiles --all`, the web pages and the operator API: no
reason code, worker id, class letter without words, placeholder, canonical id, codec, container or
engine name, and values in people's words.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from proxx.cli import main
from proxx.errors import (
    CANCELLED,
    DISK_FULL,
    ENGINE_FAILED,
    ENGINE_UNAVAILABLE,
    OUTPUT_UNWRITABLE,
    SETTINGS_REFUSED,
    SOURCE_DAMAGED,
    TIMEOUT,
)
from proxx.media.doctor import ToolReport, build_mismatch
from proxx.plugin import hookimpl
from proxx.verify.checks import Check
from proxx.visibility import (
    DIFFERS,
    OperatorWords,
    aspect_words,
    check_label,
    describe_failures,
    execution_message,
    frame_rate_words,
    operator_checks,
    safe,
)
from proxx.web.app import create_app
from proxx.web.roots import MediaRoots, parse_roots
from proxx.web.service import WebService
from tests import vp9webm

# A source name an attacker chose: OSC 52 (clipboard write), cursor movement and a clear screen,
# a forged line and a bidi override.
HOSTILE = "A\x1b]52;c;ZXZpbA==\x07B\x1b[2J\x1b[1;1H\nproxx: all jobs COMPLETED\u202etxt.B.mov"


def test_names_are_shown_escaped_never_raw():
    shown = safe(HOSTILE.replace("B.mov", "B\udcff.mov"))  # a byte that is not UTF-8, as Python reads it
    assert not re.search(r"[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u2028\u2029\ud800-\udfff]", shown)
    assert shown == ("A\\x1b]52;c;ZXZpbA==\\x07B\\x1b[2J\\x1b[1;1H\\x0aproxx: all jobs COMPLETED\\u202etxt.B\\xff.mov")
    assert safe(b"C0001\xff\xfe.MP4") == "C0001\\xff\\xfe.MP4"
    assert safe("A001_C002 (Überblick) ✓.mov") == "A001_C002 (Überblick) ✓.mov"  # the operator's own words stay
    assert safe("back\\slash") == "back\\\\slash"  # never mistaken for an escape
    assert safe("\u2028\x85\t") == "\\u2028\\x85\\x09"


def test_values_read_as_people_say_them():
    assert [frame_rate_words(r) for r in ("24000/1001", "24/1", "25/1", "30000/1001", "60000/1001")] == [
        "23.976 fps", "24 fps", "25 fps", "29.97 fps", "59.94 fps",
    ]  # fmt: skip
    assert frame_rate_words("30000/1001", drop_frame=True) == "29.97 DF"
    assert [aspect_words(a) for a in ("1.7778 (± 0.5 %)", "1.7778", "16:9", "1.8500", "2.3900", "1.3333", "4:3")] == [
        "16:9", "16:9", "16:9", "1.85:1", "2.39:1", "4:3", "4:3",
    ]  # fmt: skip


def test_every_check_has_operator_words():
    assert [check_label(n) for n in ("dimensions", "display_aspect_ratio", "frame_rate", "duration")] == [
        "Picture size", "Display aspect", "Frame rate", "Duration",
    ]  # fmt: skip
    assert [check_label(n) for n in ("timecode", "audio_streams", "field_order", "audio[1].sample_rate")] == [
        "Timecode", "Audio tracks", "Field order", "Audio track 2 sample rate",
    ]  # fmt: skip
    assert check_label("audio[0].codec") == "Audio track 1 format"
    assert check_label("studio_rule") == "Studio rule"  # a plugin's own check


def test_a_failure_says_what_differs_in_the_operators_terms():
    checks = [
        Check("container", "mxf", "mp4", False),
        Check("video_codec", "dnxhd", "h264", False),
        Check("dimensions", "1920x1080", "1280x720", False),
        Check("frame_rate", "24000/1001", "25/1", False),
        Check("audio[0].codec", "opus", "aac", False),
        Check("timecode", "01:00:00:00", "01:00:00:00", True),
    ]
    assert describe_failures(checks) == (
        "the proxy's file is not the type this intent promises; "
        "the proxy's video is not the format this intent promises; "
        "the picture is 1280x720, the intent promises 1920x1080; "
        "the frame rate is 25 fps, the intent promises 23.976 fps; "
        "the proxy's audio track 1 is not the format this intent promises"
    )
    assert operator_checks(checks) == [
        ("Format", False, DIFFERS),
        ("Picture size", False, "expected 1920x1080, actual 1280x720"),
        ("Frame rate", False, "expected 23.976 fps, actual 25 fps"),
        ("Audio format", False, DIFFERS),
        ("Timecode", True, "expected 01:00:00:00, actual 01:00:00:00"),
    ]
    # A reel name is any text a file holds: it reads on one line, its escapes shown, never run.
    reel = [Check("reel_name", "A001\n\x1b[31mB002", "none", False)]
    assert describe_failures(reel) == "the reel name is none, the intent promises A001\\x0a\\x1b[31mB002"
    assert operator_checks(reel) == [("Reel name", False, "expected A001\\x0a\\x1b[31mB002, actual none")]


def test_a_message_written_before_these_words_reads_in_them_too():
    words = OperatorWords()
    old = "Output file generated but failed verification: Format: expected mxf dnxhd, got mp4 h264"
    assert words.message(old) == (
        "Output file generated but failed verification: the proxy's video is not the format this intent promises"
    )
    assert words.message("FFmpeg exited with code 1: Invalid data found") == (
        "The renderer stopped with an error (exit status 1). Retry the job; if it fails again, an administrator "
        "finds the renderer's own message in the job's result."
    )
    lost = "Worker host-1-4242-ab12 was lost while running the job (its process is gone); Retry it."
    assert words.message(lost, "worker lost") == (  # its process ended here: the machine never stopped answering
        "The proxx process running this job ended while it ran (it was stopped or killed); the job was not re-run. "
        "Retry it to create a new job."
    )
    expired = "Worker host-1-4242-ab12 was lost while running the job (its lease expired without a heartbeat); Retry."
    assert words.message(expired, "worker lost") == (
        "The machine running this job stopped answering while it ran; the job was not re-run. "
        "Retry it to create a new job."
    )
    clip_lost = (
        "The job was declared lost while it ran on host-1-4242-ab12; its verified output stays at "
        "'/media/out/A001.proxx-partial-ab12.mov' and was not published."
    )
    assert words.message(clip_lost, "worker_lost") == (
        "The machine running this job stopped answering while this clip was being made; its verified output stays "
        "at '/media/out/A001.proxx-partial-ab12.mov' and was not published. Retry the job to create a new one."
    )
    now = execution_message("worker_lost", "A001.mov", {"progress": 1.0})
    assert words.message(now, "worker_lost") == now  # worded when it was recorded: it names its clip


def test_a_message_naming_a_worker_still_reads_as_a_sentence_without_its_id():
    """Which worker ran a job is the integrator's: its id leaves the operator's words, and the
    sentence stays whole (a farm worker's id is its name and process id, with colons)."""
    words = OperatorWords()
    refused = (
        "Farm task refused by worker render-7:4242: it carries no signature with this farm's key "
        "(PROXX_FARM_KEY). Nothing was executed."
    )
    assert words.message(refused, "farm_signature_invalid") == (
        "Farm task refused: it carries no signature with this farm's key (PROXX_FARM_KEY). Nothing was executed."
    )
    replayed = "Farm task for job job-1 refused by worker render-7:4242: this worker accepted it before."
    assert words.message(replayed) == "Farm task for job job-1 refused: this worker accepted it before."
    roots = "Output folder '/elsewhere' of job job-1 on worker render-7:4242 is outside the roots."
    assert words.message(roots) == "Output folder '/elsewhere' of job job-1 is outside the roots."


def test_a_job_is_worded_from_its_stored_jobspec_as_from_its_model(proxx_home):
    # `jobs show` reads the stored JobSpec's JSON, not the model: the same words either way.
    from proxx import Proxx
    from proxx.jobspec.model import create_jobspec, utc_now

    proxx = Proxx.open()
    for intent in ("HD Editorial LT", "Review H.264"):
        spec = create_jobspec(proxx.select(intent), [Path("/media/A001.mov")], Path("/media/out"), utc_now(), {})
        profile = spec.canonical_profile
        message = (
            f"'{profile.engine}' failed on 'A001.mov': {profile.codec} in {profile.container} ({profile.id}) "
            f"with ffprobe and libx264 for {intent}"
        )
        from_model = OperatorWords.of([profile], [intent]).message(message)
        stored = json.loads(spec.to_json())["canonical_profile"]  # as the store holds it
        assert OperatorWords.of_job(stored, intent).message(message) == from_model
        for name in (profile.codec, profile.container, profile.id, "ffprobe", "libx264"):
            assert name not in (from_model or "").replace("'A001.mov'", ""), (name, from_model)
        assert intent in (from_model or "")


def test_doctor_warns_when_ffmpeg_and_ffprobe_are_not_one_build():
    same = (
        ToolReport("ffmpeg", "/b/ffmpeg", "bundled", "n8.1"),
        ToolReport("ffprobe", "/b/ffprobe", "bundled", "n8.1"),
    )
    assert build_mismatch(same) is None
    other = (same[0], ToolReport("ffprobe", "/usr/bin/ffprobe", "PROXX_FFPROBE", "7.1.1"))
    assert "not the same build" in (build_mismatch(other) or "")
    elsewhere = (same[0], ToolReport("ffprobe", "/opt/ffprobe", "PROXX_FFPROBE", "n8.1"))
    assert "may not be the same build" in (build_mismatch(elsewhere) or "")


# --- end to end: CLI and web --------------------------------------------------------------------


class _FormatDiffers:
    """Verification finds the plugin's video and audio codecs and the picture size wrong, naming
    them as a real check would."""

    PROXX_PLUGIN_API = "1.0"

    @hookimpl
    def proxx_verify_output(self, spec: Any, clip: Any, source: Any, output: Any) -> Iterator[Check]:
        yield Check("video_codec", "vp9", "h264", False)
        yield Check("audio[0].codec", "opus", "aac", False)
        yield Check("dimensions", "1920x1080", "1280x720", False)


class _NoVocabulary:
    """A plugin that ships a canonical profile naming a codec and a container it never declared."""

    PROXX_PLUGIN_API = "1.0"

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    @hookimpl
    def proxx_canonical_profiles(self) -> list[Path]:
        return [self.folder]


HOUSE_PROFILE = """canonical_profile_version: "1.0"
id: house_av1_quarter
engine: vp9webm
codec: av1_house
container: housebox
resolution: scale_25
audio: opus
description: a house format nobody declared
"""
BROWSER_INTENT = {"user_profile_version": "1.1", "name": "Browser review", "constraints": {"codecs": ["vp9"]}}


@pytest.fixture
def scene(tmp_path, proxx_register, proxx_profiles, proxx_open, proxx_clip, proxx_run, proxx_home):
    house = tmp_path / "house"
    (house / "canonical").mkdir(parents=True)
    (house / "canonical" / "house.yaml").write_text(HOUSE_PROFILE, encoding="utf-8")
    proxx_register(vp9webm, name="vp9webm")
    proxx_register(_NoVocabulary(house / "canonical"), name="house")
    proxx_register(_FormatDiffers(), name="differs")
    layer = proxx_profiles({"user/browser.yaml": BROWSER_INTENT})
    app = proxx_open(profiles=[layer])
    media = tmp_path / "media"
    clip = proxx_clip("day1/A001_C001.mov", size="160x90", frames=6)
    hostile = media / "day1" / HOSTILE
    shutil.copy(clip, hostile)
    (media / "day1" / f"{HOSTILE}.broken.mov").write_text("not a video\n", encoding="utf-8")
    out = media / "out"
    out.mkdir()
    failed = proxx_run(app, "Browser review", [clip, hostile], out)
    refused = proxx_run(app, "Browser review", [media / "day1" / f"{HOSTILE}.broken.mov"], out)
    return app, media, failed, refused, layer


def _forbidden(app: Any, raw_results: list[dict[str, Any]]) -> re.Pattern[str]:
    """Every word operators must not read, taken from what the job really recorded."""
    words = {"vp9", "opus", "webm", "h264", "aac", "av1_house", "housebox", "house_av1_quarter", "vp9webm", "libvpx"}
    words |= {p.id for p in app.repository.registry}
    for raw in raw_results:
        words.add(raw["worker_id"])
        for failure in [raw.get("failure"), *(c.get("failure") for c in raw["clips"]), *raw["validation_problems"]]:
            if failure:
                words.add(failure["reason"])
    free = "|".join(sorted(map(re.escape, words), key=len, reverse=True))
    placeholders = r"\[profile detail\]|\[engine command line|integrator endpoint only"
    bare_class = r"\(class [ABC]\)|class [ABC]\b(?<!failure, class [ABC])"
    rates = r"\b\d+/1001\b|\b(?:24|25|30)/1\b|\b1\.7778\b"
    escapes = r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
    return re.compile(rf"(?<![\w./-])(?:{free})(?![\w/])|{placeholders}|{bare_class}|{rates}|{escapes}", re.I)


def _assert_clean(pattern: re.Pattern[str], where: str, text: str, allowed: tuple[str, ...] = ()) -> None:
    for phrase in allowed:
        text = text.replace(phrase, "")
    text = re.sub(r'value="[^"]*"', "", text)  # a form's reference to a file is sent back, never shown
    found = pattern.findall(text)
    at = [text[max(0, m.start() - 300) : m.end() + 100] for m in pattern.finditer(text)][:2]
    assert not found, f"{where} shows {sorted(set(found))}: {at}"


def test_cli_and_web_show_operators_the_same_words(scene, capsys, monkeypatch):
    app, media, failed, refused, layer = scene
    assert failed.row.state == "FAILED" and failed.row.failure_class == "C"
    assert refused.row.state == "FAILED" and refused.row.failure_class == "B"
    raws = [json.loads(Path(o.row.result_path).read_text()) for o in (failed, refused)]
    pattern = _forbidden(app, raws)
    intent = ("Browser review",)

    # The job log: every line proxx writes is one of its own time-stamped lines or indented under
    # one; the hostile name is written escaped.
    # (The test plugin's own "$ command" line is the engine's output, written as it wrote it.)
    log = Path(failed.row.log_path).read_text(encoding="utf-8").splitlines()
    own = [line for line in log if re.match(r"\d{4}-\d\d-\d\dT|=== |    ", line)]
    assert own and not [line for line in own if re.search(r"[\x00-\x1f\x7f-\x9f\u202e]", line)]
    assert any("\\x1b]52" in line for line in own)
    assert not [line for line in own if line.startswith("proxx:")]

    # The CLI: jobs list, jobs show (summary), profiles --all.
    assert main(["jobs", "list"]) == 0
    listing = capsys.readouterr().out
    _assert_clean(pattern, "jobs list", listing, intent)
    refused_line = next(line for line in listing.splitlines() if line.startswith(refused.row.job_id[-8:]))
    assert refused_line.split()[-3] == "1"  # the refused clip counts as failed
    assert main(["jobs", "show", failed.row.job_id]) == 0
    show = capsys.readouterr().out
    _assert_clean(pattern, "jobs show", show, intent)
    assert "the picture is 1280x720, the intent promises 1920x1080" in show
    assert "the proxy's video is not the format this intent promises" in show
    assert "Result:" not in show and "Log:" not in show  # only with --verbose
    assert "\\x1b]52" in show and "\\u202e" in show  # the hostile name, escaped
    clip_lines = [line for line in show.splitlines() if line.startswith("  ") and not line.startswith("      ")]
    assert len(clip_lines) == 2  # one line per clip
    assert "ok   " not in show  # passing checks only with --verbose
    assert main(["jobs", "show", failed.row.job_id, "--verbose"]) == 0
    verbose = capsys.readouterr().out
    assert "ok   Frame rate: expected 23.976 fps, actual 23.976 fps" in verbose and "Result:" in verbose
    assert main(["jobs", "show", refused.row.job_id]) == 0
    _assert_clean(pattern, "jobs show (refused)", capsys.readouterr().out, intent)
    monkeypatch.setattr("proxx.cli.profiles._open", lambda args: app)
    assert main(["profiles", "--all"]) == 0
    profiles = capsys.readouterr().out
    _assert_clean(pattern, "profiles --all", profiles, intent)

    # The web: the pages and the operator API answers an operator's browser reads.
    service = WebService(app, MediaRoots(parse_roots([f"media={media}"]), app.beside_outputs), profiles=[layer])
    with TestClient(create_app(service)) as http:
        for path in ("/jobs", f"/jobs/{failed.row.job_id}", f"/jobs/{refused.row.job_id}", "/jobs/new"):
            response = http.get(path)
            assert response.status_code == 200, path
            _assert_clean(pattern, path, response.text, intent)
        intents = http.get("/api/intents").json()
        assert {i["name"] for i in intents} >= {"Browser review"}
        assert not {i["name"] for i in intents} & ({p.id for p in app.repository.registry} | {"house_av1_quarter"})
        page = http.get(f"/jobs/{failed.row.job_id}").text
        assert "the picture is 1280x720, the intent promises 1920x1080" in page
        shown = http.get(f"/api/jobs/{failed.row.job_id}").json()
        assert shown["failure"]["class_title"] == "execution failure"
        checks = {c["label"]: c for clip in shown["clips"] for c in clip["checks"]}
        assert checks["Frame rate"]["actual"] == "23.976 fps" and checks["Display aspect"]["expected"] == "16:9"
        assert all(clip["output"] is None for clip in shown["clips"] if clip["state"] == "failed")


def test_watch_output_shows_a_hostile_name_escaped(tmp_path, proxx_home):
    """A file dropped in a watch folder with escape sequences, a forged line and a bidi override in
    its name: `proxx watch` prints it escaped, one line."""
    import os
    import subprocess
    import sys

    from proxx.media.samples import make_clip

    folder, out = tmp_path / "watch", tmp_path / "out"
    folder.mkdir(), out.mkdir()
    make_clip(tmp_path / "clip.mov", size="160x90", frames=4).rename(folder / HOSTILE)
    done = subprocess.run(
        [sys.executable, "-m", "proxx", "watch", str(folder), "--profile", "Review H.264", "--output", str(out),
         "--once", "--settle", "0", "--interval", "0.1"],
        capture_output=True, text=True, timeout=120, env={**os.environ, "PROXX_HOME": str(proxx_home)},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e]", done.stdout + done.stderr)
    assert "\\x1b]52" in done.stdout
    assert not [line for line in done.stdout.splitlines() if line.startswith("proxx: all jobs")]


@pytest.mark.parametrize(
    "reason",
    [ENGINE_FAILED, SOURCE_DAMAGED, OUTPUT_UNWRITABLE, DISK_FULL, TIMEOUT, ENGINE_UNAVAILABLE, SETTINGS_REFUSED,
     CANCELLED, "worker_lost", "engine_crashed", "a_plugin_s_own_reason"],
)  # fmt: skip
def test_every_execution_failure_reason_names_the_clip_and_what_happened(reason):
    context = {"progress": 0.4, "exit_code": 234, "read_up_to": 72.4, "timeout_seconds": 720.0}
    said = execution_message(reason, "A001.mov", context)
    assert said is not None and "'A001.mov'" in said and len(said.split()) >= 12, said
    assert not re.search(r"FFmpeg|Resolve|exited with code|\bfailed\b", said), said
    if reason not in (SOURCE_DAMAGED, SETTINGS_REFUSED):
        assert "40 % of the way through" in said, said  # how far it got
    assert {SOURCE_DAMAGED: "past 00:01:12", TIMEOUT: "the 12 minutes allowed", ENGINE_FAILED: "exit status 234"}.get(
        reason, ""
    ) in said
    # A reason proxx words itself (a verification, a folder moved) keeps its message.
    assert execution_message("verification_failed", "A001.mov", context) is None


def test_a_renderer_killed_by_a_signal_is_said_as_stopped_from_outside_not_a_negative_status():
    """A renderer ended by SIGKILL (the out-of-memory killer, an administrator) read "stopped with an
    error ... (exit status -9)": a number no operator can read, and not an error of the renderer's."""
    message = execution_message(ENGINE_FAILED, "A001.mov", {"exit_code": -9, "progress": 0.36})
    assert message == (
        "The renderer was stopped from outside proxx (signal 9, SIGKILL: by an administrator, or by the system "
        "when memory ran out) while making the proxy of 'A001.mov', 36 % of the way through. Retry the job; "
        "if it is stopped again, ask an administrator why."
    )
    assert "exit status" not in (execution_message(ENGINE_FAILED, "A001.mov", {"exit_code": -11}) or "")


def test_a_renderer_stopped_at_the_file_size_limit_is_told_the_limit():
    """ulimit -f kills the renderer with SIGXFSZ as the proxy passes it: the limit, not "from outside"."""
    message = execution_message(ENGINE_FAILED, "A001.mov", {"exit_code": -25, "progress": 0.5})
    assert message == (
        "The proxy of 'A001.mov' grew past the largest file this account may write (its file size limit, "
        "`ulimit -f`), so the renderer was stopped, 50 % of the way through. Ask an administrator to raise the "
        "limit, then retry the job."
    )


def test_a_check_value_a_hostile_file_states_is_shown_escaped():
    """A source's timecode tag is free text a file can fill with escape sequences; `jobs show`
    printed the check's expected value as it was, recolouring the terminal and setting its title."""
    from proxx.verify.checks import Check

    check = Check("timecode", "01:00:00:00\x1b[2J\x1b]0;TTL\x07", "01:00:00:00", False)
    ((label, passed, detail),) = operator_checks([check])
    assert (label, passed) == ("Timecode", False)
    assert detail == "expected 01:00:00:00\\x1b[2J\\x1b]0;TTL\\x07, actual 01:00:00:00"
