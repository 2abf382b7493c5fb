"""Every bundled ffmpeg profile end to end on real media, each output checked with ffprobe directly."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest

from proxx import Proxx
from proxx.plugin import JobState
from proxx.testing import make_clip
from proxx.testing.media import audio, count_frames, ffprobe, timecode, video

FFMPEG_PROFILES = {
    # canonical id: (1.1 constraints that reach it, expected ffprobe codec, profile, container ext)
    "proxy_h264_low": ({"codecs": ["h264"], "resolution": ["scale_50"]}, "h264", None, ".mp4"),
    "proxy_h264_quarter": ({"codecs": ["h264"], "resolution": ["scale_25"]}, "h264", None, ".mp4"),
    "proxy_prores_proxy": ({"codecs": ["prores_proxy"], "engine_preference": ["ffmpeg"]}, "prores", "Proxy", ".mov"),
    "proxy_prores_lt": (
        {"codecs": ["prores_lt"], "resolution": ["source"], "engine_preference": ["ffmpeg"]},
        "prores",
        "LT",
        ".mov",
    ),
    "proxy_prores_lt_hd": ({"codecs": ["prores_lt"], "max_frame_size": "1920x1080"}, "prores", "LT", ".mov"),
    "proxy_prores_standard": ({"codecs": ["prores_standard"]}, "prores", "Standard", ".mov"),
    "proxy_prores_hq": ({"codecs": ["prores_hq"], "engine_preference": ["ffmpeg"]}, "prores", "HQ", ".mov"),
    "proxy_dnxhr_lb": ({"codecs": ["dnxhr_lb"], "engine_preference": ["ffmpeg"]}, "dnxhd", "DNXHR LB", ".mxf"),
}


@pytest.fixture(scope="module")
def sources(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("sources")
    return {
        # odd size, drop-frame NTSC rate and timecode, mono + 5.1
        "odd_ntsc": make_clip(folder / "A001_C001.mov", size="333x187", rate="30000/1001", frames=15,
                              audio=(1, 6), timecode="10:00:00;00", sar="10:11", video_codec="ffv1"),
        # 23.976 with stereo 16-bit audio at 48 kHz, DNxHR-sized
        "hd_film": make_clip(folder / "A002_C007.mov", size="320x180", rate="24000/1001", frames=12,
                             audio=(2,), audio_codec="pcm_s16le", timecode="01:02:03:04"),
    }  # fmt: skip


def write_intent(repo: Path, name: str, constraints: dict) -> None:
    import json

    lines = ['user_profile_version: "1.1"', f"name: {json.dumps(name)}", f"constraints: {json.dumps(constraints)}"]
    (repo / "user").mkdir(parents=True, exist_ok=True)
    (repo / "user" / f"{name}.yaml").write_text("\n".join(lines) + "\n")


@pytest.mark.parametrize("canonical_id", sorted(FFMPEG_PROFILES))
def test_profile_end_to_end(canonical_id, sources, tmp_path, proxx_home):
    constraints, codec, codec_profile, ext = FFMPEG_PROFILES[canonical_id]
    repo = tmp_path / "repo"
    write_intent(repo, f"Test {canonical_id}", constraints)
    proxx = Proxx.open(profiles=[repo])
    # DNxHR's smallest frame is 256x120: its run uses the HD-ish source only.
    picked = ["hd_film"] if canonical_id == "proxy_dnxhr_lb" else ["odd_ntsc", "hd_film"]
    out = tmp_path / "out"
    out.mkdir()
    spec = proxx.create_job(f"Test {canonical_id}", [sources[k] for k in picked], out)
    assert spec.proxy_profile == canonical_id
    result = proxx.run_job(spec.job_id)
    assert result is not None
    assert result.state == JobState.COMPLETED, result.failure
    assert proxx.store.job(spec.job_id).state == JobState.COMPLETED
    profile = spec.canonical_profile

    for clip, key in zip(result.clips, picked, strict=True):
        output = Path(clip.output)
        assert output.suffix == ext and output.name == sources[key].stem + ext
        assert not list(out.glob("*proxx-partial*"))
        src, dst = ffprobe(str(sources[key])), ffprobe(clip.output)
        sv, dv = video(src), video(dst)
        assert dv["codec_name"] == codec
        if codec_profile:
            assert dv["profile"] == codec_profile
        assert dv["width"] % 2 == 0 and dv["height"] % 2 == 0
        factor = profile.scale_factor or 1
        assert abs(dv["width"] - sv["width"] * factor) <= 2 and abs(dv["height"] - sv["height"] * factor) <= 2
        assert Fraction(dv["r_frame_rate"]) == Fraction(sv["r_frame_rate"])
        assert count_frames(clip.output) == count_frames(str(sources[key]))
        frame = 1 / Fraction(sv["r_frame_rate"])
        assert abs(Fraction(dv["duration"]) - Fraction(sv["duration"])) <= frame
        assert timecode(dst) == timecode(src)
        assert [a["channels"] for a in audio(dst)] == [a["channels"] for a in audio(src)]
        if ext != ".mxf":  # MXF stores no SAR for DNxHR and always 48 kHz; both checked by proxx's verifier
            assert dv.get("sample_aspect_ratio", "1:1") == sv.get("sample_aspect_ratio", "1:1")
            assert [a["sample_rate"] for a in audio(dst)] == [a["sample_rate"] for a in audio(src)]
        assert all(check.passed for check in clip.checks)
