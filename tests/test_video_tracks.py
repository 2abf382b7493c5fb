"""Every video track accounted for (issue 21, item 4): a source with two video tracks (an interview's
A and B cameras) gives a proxy of its first, and the clip's outcome names the other, in the result
JSON, the CLI and the job page alike."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from proxx import Proxx
from proxx.media.tools import require_tool
from proxx.store import COMPLETED
from tests.camera_media import _ffprobe
from tests.colour_media import assert_colour_managed

ACTIVE_INTENTS = ("HD Editorial LT", "Archive ProRes", "Review H.264")
LEFT_OUT = "video track 2 (160x120) is not in the proxy"


@pytest.fixture(scope="module")
def two_cameras(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("iso") / "interview_AB.mov"
    subprocess.run(
        [require_tool("ffmpeg").path, "-v", "error", "-f", "lavfi", "-i", "testsrc2=s=320x240:r=25",
         "-f", "lavfi", "-i", "smptebars=s=160x120:r=25", "-f", "lavfi", "-i", "sine=r=48000",
         "-map", "0:v", "-map", "1:v", "-map", "2:a", "-frames:v", "5", "-t", "0.2",
         "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "pcm_s16le", str(path)],
        check=True,
    )  # fmt: skip
    return path


def _video_tracks(path: str) -> int:
    return sum(1 for s in _ffprobe("-show_streams", f"file:{path}")["streams"] if s["codec_type"] == "video")


@pytest.mark.parametrize("intent", ACTIVE_INTENTS)
def test_the_other_video_track_is_named_in_the_outcome(
    intent: str, two_cameras: Path, tmp_path: Path, proxx_home: Path
) -> None:
    proxx = Proxx.open()
    spec = proxx.create_job(intent, [two_cameras], tmp_path)
    result = proxx.run_job(spec.job_id)
    assert result is not None and result.state == COMPLETED, result and result.failure
    clip = result.clips[0]
    assert _video_tracks(two_cameras) == 2 and _video_tracks(clip.output) == 1
    tracks = next(c for c in clip.checks if c.name == "video_tracks")
    assert tracks.passed and tracks.actual == LEFT_OUT
    assert_colour_managed(clip.output)
    document = json.loads(Path(proxx.store.job(spec.job_id).result_path).read_text())
    assert any(c["actual"] == LEFT_OUT for c in document["clips"][0]["checks"])


def test_the_cli_says_which_track_is_not_in_the_proxy(two_cameras: Path, tmp_path: Path, proxx_home: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "proxx", "run", "--profile", "Review H.264", "--output", str(tmp_path), str(two_cameras)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert f"Note:   interview_AB.mov: {LEFT_OUT}" in done.stderr.splitlines()


def test_a_single_track_source_has_no_such_note(tmp_path: Path, proxx_home: Path) -> None:
    from proxx.testing import make_clip

    clip = make_clip(tmp_path / "A001.mov", frames=3)
    out = tmp_path / "out"
    out.mkdir()
    proxx = Proxx.open()
    result = proxx.run_job(proxx.create_job("Review H.264", [clip], out).job_id)
    assert result is not None and all(c.name != "video_tracks" for c in result.clips[0].checks)
