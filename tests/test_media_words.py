"""Words that fit (issue 21, item 5): a video of one frame is a video (proxied as one, never called a
still image), and an image sequence, as a folder or as one of its frames, is named as one and refused
as a source."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from proxx import Proxx
from proxx.errors import PreJobError
from proxx.media.tools import require_tool
from proxx.store import COMPLETED, FAILED
from tests.camera_media import independent_probe
from tests.colour_media import assert_colour_managed

ACTIVE_INTENTS = ("HD Editorial LT", "Archive ProRes", "Review H.264")


def ffmpeg(*args: str) -> None:
    subprocess.run([require_tool("ffmpeg").path, "-v", "error", "-y", *args], check=True)


@pytest.fixture(scope="module")
def one_frame(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    folder = tmp_path_factory.mktemp("one_frame")
    h264, prores = folder / "slate_h264.mp4", folder / "slate_prores.mov"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=s=320x240:r=25", "-frames:v", "1", "-c:v", "libx264", str(h264))
    ffmpeg("-f", "lavfi", "-i", "testsrc2=s=320x240:r=24", "-frames:v", "1", "-c:v", "prores_aw", str(prores))
    return [h264, prores]


@pytest.mark.parametrize("intent", ACTIVE_INTENTS)
def test_a_one_frame_video_is_proxied_as_one(intent: str, one_frame: list[Path], tmp_path: Path, proxx_home: Path):
    proxx = Proxx.open()
    spec = proxx.create_job(intent, one_frame, tmp_path)
    result = proxx.run_job(spec.job_id)
    assert result is not None and result.state == COMPLETED, result and result.failure
    for clip, rate in zip(result.clips, ("25/1", "24/1"), strict=True):
        out = independent_probe(clip.output)
        assert out["frames"] == 1 and out["r_frame_rate"] == rate
        assert_colour_managed(clip.output)


def _frames(folder: Path, pattern: str, count: int = 3) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    ffmpeg("-f", "lavfi", "-i", "testsrc2=s=64x36:r=24", "-frames:v", str(count), str(folder / pattern))
    return folder


@pytest.mark.parametrize("pattern", ["plate.%04d.dpx", "scan_%06d.tif"])
def test_a_folder_of_numbered_frames_is_named_an_image_sequence(pattern: str, tmp_path: Path, proxx_home: Path):
    plate = _frames(tmp_path / "VFX_010" / "plate", pattern)
    proxx = Proxx.open()
    with pytest.raises(PreJobError) as raised:
        proxx.create_job("HD Editorial LT", [tmp_path / "VFX_010"], tmp_path)
    assert raised.value.reason == "folder_image_sequence"
    stem, ext = pattern.split("%")[0], Path(pattern).suffix
    digits = 4 if "04d" in pattern else 6
    assert f"{plate / stem}{'#' * digits}{ext} (3 frames)" in raised.value.message
    assert "image sequences are not supported as sources" in raised.value.message
    assert proxx.store.jobs() == []


def test_a_folder_of_many_sequences_names_three_and_counts_the_rest(tmp_path: Path, proxx_home: Path) -> None:
    for shot in range(5):
        _frames(tmp_path / "VFX" / f"SH{shot:03d}", "plate.%04d.dpx", 2)
    with pytest.raises(PreJobError) as raised:
        Proxx.open().create_job("HD Editorial LT", [tmp_path / "VFX"], tmp_path)
    assert raised.value.message.count("(2 frames)") == 3
    assert "SH002" in raised.value.message and "SH003" not in raised.value.message
    assert "; and 2 more)" in raised.value.message
    assert len(raised.value.context["sequences"]) == 5


def test_one_frame_of_a_sequence_given_as_a_source_is_named_so(tmp_path: Path, proxx_home: Path) -> None:
    plate = _frames(tmp_path / "plate", "plate.%04d.dpx", 2)
    out = tmp_path / "out"
    out.mkdir()
    proxx = Proxx.open()
    spec = proxx.create_job("HD Editorial LT", [plate / "plate.0001.dpx"], out)
    result = proxx.run_job(spec.job_id)
    assert result is not None and result.state == FAILED
    problem = result.validation_problems[0]
    assert problem.reason == "source_image_sequence"
    assert "is one frame of an image sequence" in problem.message


def test_a_camera_still_is_a_still_and_the_advice_reads_whole_to_an_operator(tmp_path: Path, proxx_home: Path):
    from proxx.visibility import OperatorWords

    still = _frames(tmp_path / "DCIM" / "100CANON", "IMG_%04d.JPG", 1) / "IMG_0001.JPG"
    plate = _frames(tmp_path / "plate", "plate.%04d.dpx", 2) / "plate.0001.dpx"
    out = tmp_path / "out"
    out.mkdir()
    proxx = Proxx.open()
    for source, reason in ((still, "source_still_image"), (plate, "source_image_sequence")):
        result = proxx.run_job(proxx.create_job("HD Editorial LT", [source], out).job_id)
        assert result is not None and result.state == FAILED
        problem = result.validation_problems[0]
        assert problem.reason == reason
        said = OperatorWords.of(proxx.repository.registry).message(problem.message, problem.reason) or ""
        assert said == problem.message  # nothing in it an operator must not read: it reads whole
