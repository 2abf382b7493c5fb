"""Each generated camera-structured file really has the structure its `Expect` claims (independent ffprobe)."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest

from tests.camera_media import CAMERA_MEDIA, EXPECT, independent_probe


def test_every_class_has_its_expectation() -> None:
    assert set(CAMERA_MEDIA) == set(EXPECT)


@pytest.mark.parametrize("name", sorted(CAMERA_MEDIA))
def test_structure(name: str, camera_media: dict[str, Path], camera_media_missing: dict[str, str]) -> None:
    if name in camera_media_missing:
        pytest.skip(camera_media_missing[name])
    expect, facts = EXPECT[name], independent_probe(camera_media[name])
    assert expect.container in facts["format_names"]
    assert facts["video_codec"] == expect.video_codec
    assert facts["pix_fmt"] == expect.pix_fmt
    assert facts["alpha"] is expect.alpha
    assert (facts["coded_width"], facts["coded_height"]) == (expect.coded_width, expect.coded_height)
    assert (facts["width"], facts["height"]) == (expect.width, expect.height)
    assert facts["sar"] == expect.sar
    assert facts["rotation"] == expect.rotation
    assert facts["r_frame_rate"] == expect.frame_rate
    assert facts["vfr"] is expect.vfr
    if expect.vfr:
        assert Fraction(facts["avg_frame_rate"]) < Fraction(expect.frame_rate) * Fraction(9, 10)
        assert len(facts["frame_durations"]) > 1
    assert facts["field_order"] == expect.field_order
    assert tuple(facts["audio"]) == expect.audio
    assert tuple(facts["audio_layouts"]) == expect.audio_layouts
    assert facts["timecode"] == expect.timecode
    assert facts["drop_frame"] is expect.drop_frame
    assert facts["start_time"] == pytest.approx(expect.start_time, abs=0.1)
    assert facts["data_streams"] == expect.data_streams
    assert facts["frames"] == expect.frames


def test_display_geometry_follows_rotation_and_sar(camera_media: dict[str, Path]) -> None:
    phone = independent_probe(camera_media["phone_portrait"])
    assert (phone["coded_width"], phone["coded_height"], phone["width"], phone["height"]) == (1920, 1080, 1080, 1920)
    hdv = independent_probe(camera_media["hdv_m2t"])
    assert hdv["dar"] == pytest.approx(16 / 9, rel=0.005)
    sd = independent_probe(camera_media["sar_rounded_mov"])
    assert sd["dar"] == pytest.approx(720 * 128 / 117 / 576, rel=0.005)


def test_frame_count_agrees_with_decoding(camera_media: dict[str, Path]) -> None:
    facts = independent_probe(camera_media["phone_portrait"], count_frames=True)
    assert facts["nb_read_frames"] == facts["frames"] == 23


def test_dv_in_a_mov_that_says_progressive_is_proxied_as_its_pictures_say(tmp_path: Path, proxx_home: Path) -> None:
    # The MOV's flag is a claim: a tool that wrote DV from frames it took for progressive says
    # "progressive" of pictures DV codes interlaced, bottom field first. The proxy follows the pictures.
    import subprocess

    from proxx import Proxx
    from proxx.media.tools import require_tool

    source = tmp_path / "DV_SD.MOV"
    subprocess.run([require_tool("ffmpeg").path, "-v", "error", "-f", "lavfi", "-i",
                    "testsrc2=size=720x480:rate=30000/1001", "-t", "0.3", "-c:v", "dvvideo", "-pix_fmt", "yuv411p",
                    str(source)], check=True, timeout=60)  # fmt: skip
    assert independent_probe(source)["field_order"] == "progressive"
    out = tmp_path / "out"
    out.mkdir()
    proxx = Proxx.open()
    result = proxx.run_job(proxx.create_job("HD Editorial LT", [source], out).job_id)
    assert result is not None and result.state == "COMPLETED", result and result.failure
    assert independent_probe(Path(result.clips[0].output))["field_order"] == "bb"
