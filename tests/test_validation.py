"""Class B: every cause fails the job with a result JSON and nothing executed."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from proxx import Proxx, schemas
from proxx.media.samples import make_clip
from proxx.result import load_result
from proxx.store import FAILED

INTENT = "HD Editorial LT"


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    return make_clip(tmp_path_factory.mktemp("src") / "A001_C001.mov", frames=6)


@pytest.fixture
def out(tmp_path) -> Path:
    folder = tmp_path / "out"
    folder.mkdir()
    return folder


def run_failing(sources, output):
    proxx = Proxx.open()
    spec = proxx.create_job(INTENT, sources, output)
    existed = {c.output for c in spec.clips if Path(c.output).exists()}
    row = proxx.store.job(spec.job_id)  # refused when it was created: FAILED at once, never RUNNING
    assert row.state == FAILED and row.failure_class == "B"
    assert [(t.from_state, t.to_state) for t in proxx.store.transitions(spec.job_id)] == [
        (None, "QUEUED"),
        ("QUEUED", "FAILED"),
    ]
    result = load_result(Path(row.result_path))
    assert proxx.run_job(spec.job_id) == result  # nothing left to run: the result it got when it was created
    assert len(proxx.store.transitions(spec.job_id)) == 2
    document = json.loads(Path(row.result_path).read_text())
    assert schemas.violations(document, schemas.JOB_RESULT) == []
    assert all(c["state"] == "not_run" for c in document["clips"])
    assert result.engine.version == ""  # the engine never ran
    for clip in spec.clips:
        assert clip.output in existed or not Path(clip.output).exists()
        assert not list(Path(clip.output).parent.glob("*proxx-partial*"))
    return row, result


def test_missing_source(out, proxx_home):
    row, _ = run_failing([out / "nope.mov"], out)
    assert row.reason == "source_missing"
    assert row.message == f"Source file '{out / 'nope.mov'}' does not exist."


def test_zero_byte_source(out, tmp_path, proxx_home):
    empty = tmp_path / "empty.mov"
    empty.write_bytes(b"")
    row, _ = run_failing([empty], out)
    assert row.reason == "source_empty" and str(empty) in row.message


def test_text_file_source(out, tmp_path, proxx_home):
    text = tmp_path / "notes.mov"
    text.write_text("this is not a video\n" * 20)
    row, _ = run_failing([text], out)
    assert row.reason == "source_not_decodable"
    assert row.message == f"Source file '{text}' is not a decodable video: it is damaged or not a video file."
    result = json.loads(Path(row.result_path).read_text())
    assert "Invalid data" in result["failure"]["context"]["admin_message"]  # the reader's words: integrators'


def test_truncated_source(out, tmp_path, clip, proxx_home):
    truncated = tmp_path / "truncated.mov"
    truncated.write_bytes(clip.read_bytes()[: clip.stat().st_size // 2])  # moov atom at the end is gone
    row, _ = run_failing([truncated], out)
    assert row.reason == "source_not_decodable"


def test_audio_only_source(out, tmp_path, proxx_home):
    from proxx.media.tools import require_tool

    wav = tmp_path / "sound.wav"
    subprocess.run(
        [require_tool("ffmpeg").path, "-v", "error", "-f", "lavfi", "-i", "sine=duration=0.5", str(wav)], check=True
    )
    row, _ = run_failing([wav], out)
    assert row.reason == "source_no_video" and "audio only" in row.message


def test_a_timecode_tag_that_is_no_timecode_is_refused_before_anything_renders(out, tmp_path, proxx_home):
    """A Matroska TIMECODE tag is free text: one holding escape sequences was handed to ffmpeg, which
    read its start and rendered, and the clip then failed verification ("tell an administrator")."""
    from proxx.media.tools import require_tool

    tagged = tmp_path / "tagged.mkv"
    subprocess.run(
        [require_tool("ffmpeg").path, "-v", "error", "-f", "lavfi", "-i", "testsrc=size=160x90:rate=25:duration=0.4",
         "-c:v", "libx264", "-metadata", "TIMECODE=01:00:00:00\x1b[2J", str(tagged)],
        check=True,
    )  # fmt: skip
    row, _ = run_failing([tagged], out)
    assert row.reason == "source_timecode_unreadable", row.message
    assert "states a start timecode that is not one ('01:00:00:00\x1b[2J')" in row.message


def test_still_image_source(out, tmp_path, proxx_home):
    from proxx.media.tools import require_tool

    png = tmp_path / "frame.jpg"
    subprocess.run(
        [
            require_tool("ffmpeg").path,
            "-v",
            "error",
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=64x36",
            "-frames:v",
            "1",
            str(png),
        ],
        check=True,
    )
    row, _ = run_failing([png], out)
    assert row.reason == "source_still_image"
    assert row.message == f"Source file '{png}' is a still image, not a video."


def test_unreadable_source(out, tmp_path, clip, proxx_home):
    # Root reads everything, so the check runs as an unprivileged user where we are root.
    folder = Path(os.environ.get("TMPDIR", "/tmp")) / f"proxx-unreadable-{os.getpid()}"
    folder.mkdir(mode=0o755, exist_ok=True)
    try:
        locked = folder / "locked.mov"
        shutil.copyfile(clip, locked)
        locked.chmod(0)
        code = (
            "import sys; from proxx.jobspec.model import ClipSpec; from proxx.validate.checks import check_source;"
            "problems, _ = check_source(ClipSpec(0, sys.argv[1], '/x.mov'), None);"
            "print(problems[0].reason, problems[0].message)"
        )
        command = [sys.executable, "-c", code, str(locked)]
        if os.geteuid() == 0:
            command = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", *command]
        done = subprocess.run(command, capture_output=True, text=True, check=True, cwd="/")
        assert done.stdout.startswith("source_unreadable Source file")
        assert "not readable" in done.stdout
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def test_raw_source_under_an_engine_that_does_not_read_raw_is_refused(out, tmp_path, clip, proxx_home):
    braw = tmp_path / "A001_C002.braw"
    braw.write_bytes(b"BRAW" + os.urandom(4096))
    row, _ = run_failing([braw], out)
    assert row.reason == "raw_not_read_by_engine"
    assert "RAW camera media (Blackmagic RAW)" in row.message
    assert "choose an intent whose engine reads RAW camera media" in row.message
    assert "Resolve" not in row.message  # the core names no plugin


def test_missing_output_folder(tmp_path, clip, proxx_home):
    row, _ = run_failing([clip], tmp_path / "missing")
    assert row.reason == "output_folder_missing"
    assert row.message == f"Output folder '{tmp_path / 'missing'}' does not exist."


def test_unwritable_output_folder(out, clip, proxx_home):
    # chattr +i stops even root from creating files; without it, fall back to mode bits.
    immutable = subprocess.run(["chattr", "+i", str(out)], capture_output=True).returncode == 0
    if not immutable:
        if os.geteuid() == 0:
            pytest.skip("no way to make a folder unwritable for root here")
        out.chmod(0o555)
    try:
        row, _ = run_failing([clip], out)
        assert row.reason == "output_folder_unwritable" and str(out) in row.message
    finally:
        subprocess.run(["chattr", "-i", str(out)], capture_output=True)
        out.chmod(0o755)


def test_existing_output_is_never_overwritten(out, clip, proxx_home):
    existing = out / "A001_C001.mov"
    existing.write_bytes(b"precious")
    row, _ = run_failing([clip], out)
    assert row.reason == "output_exists"
    assert row.message == f"Output path '{existing}' already exists."
    assert existing.read_bytes() == b"precious"


def test_two_sources_mapping_to_one_output_name(out, tmp_path, clip, proxx_home):
    other = tmp_path / "cam_b"
    other.mkdir()
    twin = other / "A001_C001.mxf"
    shutil.copyfile(clip, twin)
    row, _result = run_failing([clip, twin], out)
    assert row.reason == "output_collision"
    assert f"'{clip}' and '{twin}' would both be written to '{out / 'A001_C001.mov'}'" in row.message


def test_insufficient_space(out, clip, proxx_home, monkeypatch):
    monkeypatch.setenv("PROXX_MIN_FREE_SPACE", str(10**18))  # more than any disk has
    row, _ = run_failing([clip], out)
    assert row.reason == "insufficient_space" and "Insufficient disk space" in row.message


def test_engine_not_available(out, clip, proxx_home, monkeypatch):
    monkeypatch.setenv("PROXX_FFMPEG", "/nonexistent/ffmpeg")
    from proxx.media import tools

    tools.find_tool.cache_clear()
    try:
        row, _ = run_failing([clip], out)
    finally:
        monkeypatch.delenv("PROXX_FFMPEG")
        tools.find_tool.cache_clear()
    assert row.reason == "engine_unavailable"
    assert row.message.startswith("FFmpeg engine not available on this system: ffmpeg not found")


def test_every_problem_is_reported(out, tmp_path, proxx_home):
    row, result = run_failing([tmp_path / "a.mov", tmp_path / "b.mov"], out)
    assert len(result.validation_problems) == 2
    # Every problem, one a line, so that the operator fixes them all before a retry.
    a, b = (p.message for p in result.validation_problems)
    assert row.message == f"2 problems, nothing was run:\n- {a}\n- {b}"
    assert "a.mov" in a and "b.mov" in b


def test_a_plugin_can_add_a_validation_problem(out, clip, proxx_home):
    from proxx.plugin import JobValidationError, hookimpl
    from proxx.pluginmanager import plugin_manager

    class NoNightShoots:
        @hookimpl
        def proxx_validate_job(self, spec, sources):
            yield JobValidationError("studio_rule", f"Source file '{spec.clips[0].source}' breaks a studio rule.")

    pm = plugin_manager()
    pm.register(NoNightShoots(), name="studio-rule")
    try:
        row, _ = run_failing([clip], out)
    finally:
        pm.unregister(name="studio-rule")
    assert row.reason == "studio_rule"


def test_one_clip_s_problem_fails_the_whole_job_before_anything_renders(out, tmp_path, clip, proxx_home):
    """And says so: the problem alone read as that clip's failure, and an operator took the card's
    other clips for proxied."""
    good = [shutil.copyfile(clip, tmp_path / f"A00{n}_C001.mov") for n in (2, 3)]
    row, _ = run_failing([good[0], tmp_path / "gone.mov", good[1]], out)
    problem = f"Source file '{tmp_path / 'gone.mov'}' does not exist."
    assert row.reason == "source_missing" and row.message == f"{problem} None of the job's 3 clips was run."
    assert list(out.iterdir()) == []  # not one proxy: class B means no execution attempt
    alone, _ = run_failing([tmp_path / "gone.mov"], out)  # a job of that one clip: its problem is all there is
    assert alone.message == problem


def test_a_job_that_fails_when_a_worker_takes_it_goes_from_queued_to_failed(out, tmp_path, clip, proxx_home):
    from proxx.worker import work

    source = shutil.copyfile(clip, tmp_path / "A009_C001.mov")
    proxx = Proxx.open()
    spec = proxx.submit(INTENT, [source], out)
    assert proxx.store.job(spec.job_id).state == "QUEUED"  # valid when it was created
    Path(source).unlink()
    assert work(proxx, once=True) == 1
    row = proxx.store.job(spec.job_id)
    assert (row.state, row.failure_class, row.reason) == (FAILED, "B", "source_missing")
    moves = [(t.from_state, t.to_state) for t in proxx.store.transitions(spec.job_id)]
    assert moves == [(None, "QUEUED"), ("QUEUED", "FAILED")]  # never RUNNING


def test_validating_jobs_keeps_nothing_a_job_in_the_plugin_manager(clip, tmp_path, proxx_home):
    """The check that proxies never go into an exporter's records folder asked the plugins for their
    exporters for every job, and the plugin manager keeps every record a hook yields: a watch folder
    queuing 100,000 files grew by 26 MiB (1.54 times its peak at 10,000)."""
    proxx = Proxx.open()
    kept = []
    for n in range(5):
        out = tmp_path / f"out{n}"
        out.mkdir()
        proxx.run_job(proxx.create_job(INTENT, [clip], out).job_id)
        kept.append(len(proxx.plugin_manager._owners))
    assert kept[1:] == kept[:1] * 4, kept  # what the first job collected, and nothing more


def test_a_studio_exporters_records_folder_is_never_a_source_nor_an_output(
    proxx_register, proxx_open, proxx_clip, tmp_path
) -> None:
    """What `Exporter.beside_outputs` declares is the exporter's records, whoever wrote it (not only
    Fabric's checksum history): a folder source leaves it out, and an output folder inside it is
    refused in class B in words that fit any exporter."""
    from proxx.plugin import Exporter, hookimpl

    class AssetRecords:
        @hookimpl
        def proxx_exporters(self):
            yield Exporter("studio_assets", lambda spec, result: None, beside_outputs=("asset-records",))

    proxx_register(AssetRecords(), name="studio-assets")
    app = proxx_open()
    clip = proxx_clip("card/C0001.mov", frames=6)
    card = clip.parent
    (card / "asset-records").mkdir()
    shutil.copy(clip, card / "asset-records" / "C0002.mov")
    (tmp_path / "out" / "asset-records").mkdir(parents=True)
    expansion = app.expand("Review H.264", [card], tmp_path / "out")
    assert [Path(source.path).name for source in expansion.sources] == ["C0001.mov"]
    spec = app.create_job("Review H.264", [clip], tmp_path / "out" / "asset-records")
    row = app.job(spec.job_id)
    assert (row.state, row.failure_class, row.reason) == ("FAILED", "B", "output_in_records")
    assert "'asset-records', where an installed exporter keeps its records;" in (row.message or "")
    assert "checksum" not in (row.message or "")


@pytest.mark.parametrize("timecode", ["99:99:99:99", "01:00:60:00", "01:00:00:25"])
def test_a_timecode_out_of_range_for_its_rate_is_refused_before_anything_renders(out, tmp_path, proxx_home, timecode):
    """ffmpeg took 99:99:99:99 as a count of frames and wrote 100:40:42:24: the clip rendered and
    then failed verification. Minutes and seconds run to 59, frames to one under the second's count
    (24 at 25 fps)."""
    from proxx.media.tools import require_tool

    tagged = tmp_path / "tagged.mkv"
    subprocess.run(
        [require_tool("ffmpeg").path, "-v", "error", "-f", "lavfi", "-i", "testsrc=size=160x90:rate=25:duration=0.4",
         "-c:v", "libx264", "-metadata", f"TIMECODE={timecode}", str(tagged)],
        check=True,
    )  # fmt: skip
    row, _ = run_failing([tagged], out)
    assert row.reason == "source_timecode_unreadable", row.message
    assert f"states a start timecode that is not one ('{timecode}') at its 25 fps" in row.message
