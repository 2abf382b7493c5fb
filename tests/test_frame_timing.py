"""Frame rate from frame timing (issue 21, item 3): a variable-rate source's rate comes from the
spacing of its pictures, never from a declared or tick rate alone, and keeps its duration; a source
whose pictures are far apart is refused in class B before anything renders."""

from __future__ import annotations

import json
import subprocess
from fractions import Fraction
from pathlib import Path

import pytest

from proxx import Proxx
from proxx.media.probe import VideoStream, frame_rate
from proxx.media.tools import require_tool
from proxx.store import COMPLETED, FAILED
from tests.camera_media import independent_probe
from tests.colour_media import assert_colour_managed
from tests.wrapped_ffmpeg import render_filtered, run_wrapped

ACTIVE_INTENTS = ("HD Editorial LT", "Archive ProRes", "Review H.264")


def _video(rate: str, average: str, spacing: float | None) -> VideoStream:
    return VideoStream("h264", "High", 320, 240, "1:1", rate, "yuv420p", "progressive", 2.0, None,
                       avg_frame_rate=average, frame_duration=spacing)  # fmt: skip


@pytest.mark.parametrize("declared", ["60/1", "600/1", "90000/1", "120/1"])
def test_a_declared_or_tick_rate_is_not_the_pictures_rate(declared: str) -> None:
    # 30 fps pictures with gaps (27.9 on average), whatever rate the container or stream declares
    assert frame_rate(_video(declared, "1200/43", 1 / 30)) == frame_rate(_video("30/1", "1200/43", 1 / 30))
    assert frame_rate(_video(declared, "1200/43", 1 / 30)).rate == 30
    # 1/29.97 s apart: within 0.5 % of 29.97, not of 30
    assert frame_rate(_video(declared, "27/1", 1001 / 30000)).rate == Fraction(30000, 1001)


def test_without_a_standard_spacing_the_average_decides() -> None:
    assert frame_rate(_video("600/1", "24/1", 1 / 37)).rate == 24  # spacing 37 fps: no standard within 0.5 %
    assert frame_rate(_video("1/7", "150/841", 7.0)).rate == Fraction(24000, 1001)  # a slideshow: no editing rate


def ffmpeg(*args: str) -> None:
    subprocess.run([require_tool("ffmpeg").path, "-v", "error", "-y", *args], check=True)


@pytest.fixture(scope="module")
def variable(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """30 fps pictures, every fourth a half frame early, in a 1/60 s time base: the stream's base rate
    reads 60 (its tick), its average 34.3; 40 pictures over 1.17 s."""
    path = tmp_path_factory.mktemp("vfr") / "screen_vfr.mp4"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=s=320x240:r=30", "-frames:v", "40", "-vf", "setpts=(2*N-floor(N/4))/60/TB",
           "-fps_mode", "passthrough", "-c:v", "libx264", "-preset", "ultrafast", "-video_track_timescale", "60",
           str(path))  # fmt: skip
    return path


@pytest.mark.parametrize("intent", ACTIVE_INTENTS)
def test_a_variable_rate_source_keeps_its_pictures_rate_and_duration(
    intent: str, variable: Path, tmp_path: Path, proxx_home: Path
) -> None:
    proxx = Proxx.open()
    spec = proxx.create_job(intent, [variable], tmp_path)
    result = proxx.run_job(spec.job_id)
    assert result is not None and result.state == COMPLETED, result and result.failure
    out = independent_probe(result.clips[0].output)
    assert Fraction(out["r_frame_rate"]) == 30 and not out["vfr"]
    source = independent_probe(variable)
    assert source["r_frame_rate"] == "60/1" and source["vfr"]  # what the old rule conformed to: twice the pictures
    assert abs(out["duration"] - source["duration"]) <= 1 / 30 + 0.001
    assert abs(out["frames"] - source["duration"] * 30) <= 1  # one picture a slot, not two
    assert_colour_managed(result.clips[0].output)


@pytest.mark.parametrize(
    ("change", "wrong"),
    [
        ("", None),
        (",trim=end_frame=1,loop=loop=40:size=1", "of 255 from the source's at 0.83 s"),
        # every picture a slot late: the one its slot shows is known, though the rate is variable
        (",tpad=start=1:start_mode=clone", "the source's picture 1 frame earlier at 0.8"),
    ],
)
def test_a_variable_rate_source_s_later_pictures_are_compared(
    variable: Path, tmp_path: Path, proxx_home: Path, monkeypatch: pytest.MonkeyPatch, change: str, wrong: str | None
) -> None:
    """A variable-rate screen recording of one GOP had no later picture compared: its proxy frozen
    after its first picture verified. Its proxy's picture at a time may be the source's just before
    or after it: one is read with the five source pictures around it and compared with the one the
    engine puts in its slot; a right one passes, one a slot late fails."""
    out = tmp_path / "out"
    out.mkdir()
    result = run_wrapped(monkeypatch, render_filtered(tmp_path, change), "HD Editorial LT", [variable], out)
    later = [c for c in result.clips[0].checks if c.name == "picture_later"]
    if wrong is None:
        assert result.state == COMPLETED and [c.actual for c in later] == ["the source's at 0.83 s"], result
    else:
        assert result.state == FAILED and result.failure is not None and wrong in result.failure.message, result


@pytest.mark.parametrize(
    ("timing", "change", "wrong"),
    [
        # a phone's 29.97 fps in ticks of 1/600 s, each picture up to two ticks late
        ("round(N*1001/30000*600+mod(N\\,3))", "", None),
        ("round(N*1001/30000*600+mod(N\\,3))", ",tpad=start=1:start_mode=clone", "later picture"),
        # a recording's pictures 1/30 and 1/25 s apart, turn about
        ("round((N+floor(N/2)*0.2)*20)", "", None),
        ("round((N+floor(N/2)*0.2)*20)", ",tpad=start=1:start_mode=clone", "1 frame earlier"),
    ],
)
def test_a_proxy_of_uneven_pictures_shows_in_each_slot_the_picture_the_engine_puts_there(
    tmp_path: Path, proxx_home: Path, monkeypatch: pytest.MonkeyPatch, timing: str, change: str, wrong: str | None
) -> None:
    """Where a proxy does not keep its source's pictures one for one, each of its slots shows the
    source picture nearest it: a proxy a slot late had its picture compared with the source's five
    around it, found among them, and verified."""
    source = tmp_path / "CARD" / "IMG_0001.MOV"
    source.parent.mkdir()
    # Each picture's hues turned a tenth further than the one before: neighbours differ clearly.
    ffmpeg("-f", "lavfi", "-i", "testsrc2=s=320x240:r=30", "-frames:v", "75", "-vf", f"hue=h=n*36,settb=1/600,setpts={timing}",
           "-fps_mode", "passthrough", "-enc_time_base", "1/600", "-c:v", "libx264", "-preset", "ultrafast", "-g", "15",
           "-video_track_timescale", "600", str(source))  # fmt: skip
    out = tmp_path / "out"
    out.mkdir()
    result = run_wrapped(monkeypatch, render_filtered(tmp_path, change), "HD Editorial LT", [source], out)
    later = [c for c in result.clips[0].checks if c.name == "picture_later"]
    if wrong is None:
        assert result.state == COMPLETED and [c.passed for c in later] == [True], result
    else:
        assert result.state == FAILED and result.failure is not None and wrong in result.failure.message, result


def test_a_source_of_sparse_pictures_is_refused_before_rendering(tmp_path: Path, proxx_home: Path) -> None:
    sparse = tmp_path / "timelapse.mp4"  # five pictures over 28 s
    ffmpeg("-f", "lavfi", "-i", "testsrc2=s=320x240:r=30", "-frames:v", "5", "-vf", "setpts=N*7/TB",
           "-fps_mode", "vfr", "-c:v", "libx264", "-preset", "ultrafast", str(sparse))  # fmt: skip
    out = tmp_path / "out"
    out.mkdir()
    proxx = Proxx.open()
    spec = proxx.create_job("HD Editorial LT", [sparse], out)
    result = proxx.run_job(spec.job_id)
    assert result is not None and result.state == FAILED and result.failure.failure_class == "B"
    problem = result.validation_problems[0]
    assert problem.reason == "source_sparse_timestamps"
    assert "holds 5 pictures over 28.0 s" in problem.message and "more than 4 times as many" in problem.message
    assert list(out.iterdir()) == []
    document = json.loads(Path(proxx.store.job(spec.job_id).result_path).read_text())
    assert document["clips"][0]["state"] == "not_run"
