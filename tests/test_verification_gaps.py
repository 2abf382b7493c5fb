"""Proxies an editor sees are wrong fail verification (the audit's five gaps): audio coded otherwise
than the audio policy promises, audio out of sync or of another length, an H.264 picture format that
does not play anywhere, a second video track, and a timecode track counting at another rate than
the video. Each wrong proxy is the real recipe's output changed by real ffmpeg; the recipe's own
output passes the same check."""

from __future__ import annotations

import subprocess
from pathlib import Path

import attrs
import pytest

from proxx import Proxx
from proxx.compile.profiles import CanonicalProfile
from proxx.compile.repository import load_repository
from proxx.media.probe import probe, probe_with_picture_colour
from proxx.media.tools import find_tool
from proxx.resources import bundled_profiles_dir
from proxx.store import FAILED
from proxx.testing import make_clip
from proxx.verify.checks import Check, format_checks, picture_format, verify_output
from proxx_ffmpeg.fields import set_field_order
from proxx_ffmpeg.recipes import build_args
from tests.camera_media import make_dv_pal_169_mov
from tests.wrapped_ffmpeg import real_ffmpeg, wrapped_ffmpeg

BUNDLED = load_repository([bundled_profiles_dir()]).registry


def profile(canonical_id: str) -> CanonicalProfile:
    found = BUNDLED.get(canonical_id)
    assert found is not None
    return found


def ffmpeg(*args: str) -> None:
    subprocess.run([real_ffmpeg(), "-v", "error", "-y", *args], check=True, capture_output=True, timeout=120)


def render(source: Path, canonical: CanonicalProfile, out: Path, change: dict[str, str] | None = None) -> Path:
    """The FFmpeg recipe's proxy of `source`, with `change`'s options (option: value) set to another
    value, or added before the output when the recipe has no such option."""
    args = build_args(real_ffmpeg(), probe(str(source)), str(out), canonical)
    for option, value in (change or {}).items():
        if option in args:
            args[args.index(option) + 1] = value
        else:
            args[-3:-3] = [option, value]
    out.unlink(missing_ok=True)
    subprocess.run(args, check=True, capture_output=True, timeout=120)
    return out


def checks_of(canonical: CanonicalProfile, source: Path, output: Path) -> dict[str, Check]:
    info, colour = probe_with_picture_colour(str(output))
    return {check.name: check for check in verify_output(canonical, probe(str(source)), info, colour)}


def failed_names(checks: dict[str, Check]) -> set[str]:
    return {name for name, check in checks.items() if not check.passed}


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("gaps")


@pytest.fixture(scope="module")
def source(folder: Path) -> Path:
    """2 s at 23.976 with 24-bit stereo PCM and a start timecode: long enough that audio 8.8 % fast
    is more than a frame short."""
    return make_clip(folder / "A001_C001.mov", size="160x90", frames=48, timecode="01:00:00:00")


@pytest.fixture(scope="module")
def prores(source: Path, folder: Path) -> Path:
    """The recipe's ProRes LT proxy (MOV, audio copied) of `source`."""
    return render(source, profile("proxy_prores_lt"), folder / "right.mov")


# 1. The audio codec, for the bundled audio policies.


def test_the_copy_policy_keeps_the_source_codec_and_its_bit_depth(source: Path, prores: Path, folder: Path) -> None:
    lt = profile("proxy_prores_lt")
    assert lt.audio == "copy"
    right = checks_of(lt, source, prores)
    assert right["audio[0].codec"].passed and not failed_names(right), right["audio[0].codec"]
    aac = render(source, lt, folder / "aac.mov", {"-c:a:0": "aac", "-b:a": "64k"})
    checks = checks_of(lt, source, aac)
    assert failed_names(checks) == {"audio[0].codec"}
    assert checks["audio[0].codec"].actual == "aac"
    assert checks["audio[0].codec"].expected == "pcm_s24le (copied), or lossless of at least 24 bits"
    shallow = render(source, lt, folder / "s16.mov", {"-c:a:0": "pcm_s16le"})
    checks = checks_of(lt, source, shallow)
    assert failed_names(checks) == {"audio[0].codec"}
    assert checks["audio[0].codec"].actual == "pcm_s16le, 16-bit"


def test_the_copy_policy_takes_a_lossless_stream_at_least_as_deep(folder: Path) -> None:
    # 16-bit PCM written as 24-bit PCM (what Resolve renders) keeps every sample: no false failure.
    sixteen = make_clip(folder / "B001.mov", size="160x90", frames=6, audio_codec="pcm_s16le")
    lt = profile("proxy_prores_lt")
    deeper = render(sixteen, lt, folder / "s24.mov", {"-c:a:0": "pcm_s24le"})
    assert checks_of(lt, sixteen, deeper)["audio[0].codec"].passed


def test_the_pcm_policy_takes_pcm_only(source: Path, prores: Path, folder: Path) -> None:
    # An engine plugin writing AAC under a "pcm" profile (a studio's ProRes in MOV with PCM).
    pcm = attrs.evolve(profile("proxy_prores_lt"), id="studio_prores_lt_pcm", audio="pcm")
    right = checks_of(pcm, source, prores)
    assert right["audio[0].codec"].passed and right["audio[0].codec"].expected == "PCM of at least 24 bits"
    aac = render(source, pcm, folder / "pcm_aac.mov", {"-c:a:0": "aac"})
    checks = checks_of(pcm, source, aac)
    assert failed_names(checks) == {"audio[0].codec"}


def test_the_aac_policy_takes_aac_only(source: Path, folder: Path) -> None:
    review = profile("proxy_h264_low")
    assert review.audio == "aac"
    right = checks_of(review, source, render(source, review, folder / "review.mp4"))
    assert right["audio[0].codec"].passed and not failed_names(right)
    alac = render(source, review, folder / "review_alac.mp4", {"-c:a:0": "alac", "-b:a:0": "0"})
    assert failed_names(checks_of(review, source, alac)) == {"audio[0].codec"}


def test_a_job_whose_renderer_wrote_aac_under_copy_fails(
    source: Path, tmp_path: Path, proxx_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The renderer's output re-coded to AAC 64k after it ended, as a misbehaving engine would write it.
    script = (
        f'"{real_ffmpeg()}" "$@" || exit $?; for last; do :; done; p="${{last#file:}}"; '
        f'"{real_ffmpeg()}" -v error -y -i "$last" -map 0 -c copy -c:a aac -b:a 64k -f mov "file:$p.tmp" '
        '&& mv "$p.tmp" "$p"; exit $?'
    )
    monkeypatch.setenv("PROXX_FFMPEG", str(wrapped_ffmpeg(tmp_path, '" -progress "', script)))
    find_tool.cache_clear()
    out = tmp_path / "out"
    out.mkdir()
    try:
        proxx = Proxx.open()
        spec = proxx.create_job("HD Editorial LT", [source], out)
        result = proxx.run_job(spec.job_id)
    finally:
        find_tool.cache_clear()
    assert proxx.store.job(spec.job_id).state == FAILED
    assert result is not None
    failed = [c for c in result.clips[0].checks if not c.passed]
    assert [(c.name, c.actual) for c in failed] == [("audio[0].codec", "aac")]


# 2. Audio timing: its start against the picture's, its duration against the source's.


def test_audio_delayed_against_the_picture_fails(source: Path, prores: Path, folder: Path) -> None:
    lt = profile("proxy_prores_lt")
    right = checks_of(lt, source, prores)
    assert right["audio[0].start"].passed and right["audio[0].start"].actual == "0.000 s"
    late = folder / "late.mov"
    ffmpeg("-i", str(prores), "-itsoffset", "0.125", "-i", str(prores), "-map", "0:v", "-map", "1:a",
           "-c", "copy", "-timecode", "01:00:00:00", str(late))  # fmt: skip
    checks = checks_of(lt, source, late)
    assert "audio[0].start" in failed_names(checks)
    assert checks["audio[0].start"].actual == "0.125 s"


def test_a_source_audio_offset_is_kept(source: Path, folder: Path) -> None:
    # The source's own offset (its sound starts 0.1 s after its first picture) is what the proxy keeps.
    offset = folder / "offset.mov"
    ffmpeg("-i", str(source), "-itsoffset", "0.1", "-i", str(source), "-map", "0:v", "-map", "1:a", "-c", "copy",
           "-timecode", "01:00:00:00", str(offset))  # fmt: skip
    lt = profile("proxy_prores_lt")
    proxy = render(offset, lt, folder / "offset_proxy.mov")
    checks = checks_of(lt, offset, proxy)
    assert checks["audio[0].start"].passed, checks["audio[0].start"]
    assert checks["audio[0].start"].expected.startswith("0.100 s after the first picture")
    assert not failed_names(checks)
    lost = render(source, lt, folder / "offset_lost.mov")  # the same pictures and sound, the offset lost
    assert "audio[0].start" in failed_names(checks_of(lt, offset, lost))


def test_audio_trimmed_fails_on_its_duration(source: Path, prores: Path, folder: Path) -> None:
    lt = profile("proxy_prores_lt")
    right = checks_of(lt, source, prores)
    assert right["audio[0].duration"].passed and right["audio[0].duration"].expected.startswith("2.002 s")
    short = render(source, lt, folder / "short.mov", {"-c:a:0": "pcm_s24le", "-filter:a:0": "atrim=end=1"})
    checks = checks_of(lt, source, short)
    assert failed_names(checks) == {"audio[0].duration"}
    assert checks["audio[0].duration"].actual == "1.000 s"


def test_audio_played_fast_fails_on_its_duration(source: Path, prores: Path, folder: Path) -> None:
    # 48 kHz sound taken for 52.2 kHz and resampled to 48 kHz: labelled right, 8.8 % fast and short.
    lt = profile("proxy_prores_lt")
    fast = render(
        source, lt, folder / "fast.mov", {"-c:a:0": "pcm_s24le", "-filter:a:0": "asetrate=52245,aresample=48000"}
    )
    checks = checks_of(lt, source, fast)
    assert failed_names(checks) == {"audio[0].duration"}
    assert checks["audio[0].sample_rate"].passed and checks["audio[0].duration"].actual == "1.839 s"


def test_audio_resampled_for_mxf_keeps_its_duration(folder: Path) -> None:
    # MXF takes 48 kHz only: 44.1 kHz sound resampled (not relabelled) is as long as the source's.
    cd_rate = make_clip(folder / "C001.mov", size="320x180", frames=24, sample_rate=44100)
    dnxhr = profile("proxy_dnxhr_lb")
    checks = checks_of(dnxhr, cd_rate, render(cd_rate, dnxhr, folder / "resampled.mxf"))
    assert checks["audio[0].duration"].passed and checks["audio[0].sample_rate"].actual == "48000"
    assert not failed_names(checks)


def test_audio_longer_than_the_pictures_ends_with_them_in_mxf(folder: Path) -> None:
    # MXF's tracks share the pictures' duration: sound running on after the last picture ends there.
    longer = folder / "longer_audio.mov"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=s=320x180:r=25:d=1", "-f", "lavfi", "-i", "sine=r=48000:d=1.5",
           "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "pcm_s24le", str(longer))  # fmt: skip
    dnxhr, lt = profile("proxy_dnxhr_lb"), profile("proxy_prores_lt")
    in_mxf = checks_of(dnxhr, longer, render(longer, dnxhr, folder / "longer_audio.mxf"))
    assert in_mxf["audio[0].duration"].expected.startswith("1.000 s") and not failed_names(in_mxf)
    in_mov = checks_of(lt, longer, render(longer, lt, folder / "longer_audio_proxy.mov"))
    assert in_mov["audio[0].duration"].expected.startswith("1.500 s") and not failed_names(in_mov)


def test_a_source_stating_no_stream_duration_is_recorded_as_such(folder: Path) -> None:
    # Matroska states no stream's duration: nothing to compare with, and no false failure.
    mkv = make_clip(folder / "D001.mkv", size="160x90", frames=6)
    assert probe(str(mkv)).audio[0].duration is None
    lt = profile("proxy_prores_lt")
    checks = checks_of(lt, mkv, render(mkv, lt, folder / "from_mkv.mov"))
    assert checks["audio[0].duration"].expected == "not stated" and checks["audio[0].start"].passed
    assert not failed_names(checks)


# 3. The picture format an H.264 for review promises: 8-bit 4:2:0.


@pytest.mark.parametrize(
    ("pix_fmt", "h264_profile", "actual"),
    [
        ("yuv420p10le", "high10", "4:2:0, 10-bit (yuv420p10le)"),
        ("yuv444p", "high444", "4:4:4, 8-bit (yuv444p)"),
        ("yuv422p", "high422", "4:2:2, 8-bit (yuv422p)"),
    ],
)
def test_an_h264_that_does_not_play_anywhere_fails(
    pix_fmt: str, h264_profile: str, actual: str, source: Path, folder: Path
) -> None:
    review = profile("proxy_h264_low")
    right = checks_of(review, source, render(source, review, folder / "review.mp4"))
    assert right["pixel_format"] == Check("pixel_format", "4:2:0, 8-bit", "4:2:0, 8-bit (yuv420p)", True)
    wrong = render(source, review, folder / f"{pix_fmt}.mp4", {"-pix_fmt": pix_fmt, "-profile:v": h264_profile})
    checks = checks_of(review, source, wrong)
    assert failed_names(checks) == {"pixel_format"}
    assert checks["pixel_format"].actual == actual


def test_prores_and_dnxhr_state_their_subsampling(source: Path, prores: Path) -> None:
    assert checks_of(profile("proxy_prores_lt"), source, prores)["pixel_format"].expected == "4:2:2"
    info = probe(str(prores))
    assert [c for c in format_checks(profile("proxy_dnxhr_lb"), info) if c.name == "pixel_format"] == [
        Check("pixel_format", "4:2:2, 8-bit", "4:2:2, 10-bit (yuv422p10le)", False)
    ]
    # A flavour that pins no pixel format (HEVC, a plugin's) records none.
    hevc = attrs.evolve(profile("proxy_h264_low"), id="hevc_low", codec="hevc")
    assert all(c.name != "pixel_format" for c in format_checks(hevc, info))


@pytest.mark.parametrize(
    ("pix_fmt", "expected"),
    [("yuv420p", ("4:2:0", 8)), ("yuvj420p", ("4:2:0", 8)), ("yuv422p10le", ("4:2:2", 10)),
     ("yuv444p12le", ("4:4:4", 12)), ("yuva444p10le", ("4:4:4", 10)), ("p010le", ("4:2:0", 10)),
     ("gray", None), ("rgb24", None), ("", None)],
)  # fmt: skip
def test_picture_formats_read(pix_fmt: str, expected: tuple[str, int] | None) -> None:
    assert picture_format(pix_fmt) == expected


# 4. One video track, whatever the source holds.


def test_a_second_video_track_fails_for_a_single_track_source(source: Path, prores: Path, folder: Path) -> None:
    lt = profile("proxy_prores_lt")
    assert "video_tracks" not in checks_of(lt, source, prores)  # a single-track source: nothing to name
    doubled = folder / "two_tracks.mov"
    ffmpeg("-i", str(prores), "-map", "0:v", "-map", "0:v", "-map", "0:a", "-c", "copy",
           "-timecode", "01:00:00:00", str(doubled))  # fmt: skip
    checks = checks_of(lt, source, doubled)
    assert failed_names(checks) == {"video_tracks"}
    assert checks["video_tracks"].actual == "2 video tracks"


# 5. The timecode track counts at the video's rate.


@pytest.mark.parametrize(
    ("rate", "timecode"),
    [("24000/1001", "01:00:00:00"), ("30000/1001", "01:00:00;00"), ("25", "10:00:00:00"), ("50", "10:00:00:00"),
     ("60000/1001", "01:00:00;00"), ("24", "01:00:00:00")],
)  # fmt: skip
@pytest.mark.parametrize("canonical_id", ["proxy_prores_lt", "proxy_h264_low"])
def test_the_timecode_track_counts_at_the_video_rate(rate: str, timecode: str, canonical_id: str, folder: Path) -> None:
    name = f"{canonical_id}_{rate.replace('/', '_')}"
    clip = make_clip(folder / f"{name}_source.mov", size="160x90", rate=rate, frames=3, timecode=timecode)
    canonical = profile(canonical_id)
    checks = checks_of(canonical, clip, render(clip, canonical, folder / f"{name}.{canonical.container}"))
    assert checks["timecode_rate"].passed
    assert checks["timecode_rate"].actual == (rate if "/" in rate else f"{rate}/1")
    assert not failed_names(checks)


def test_a_timecode_track_counting_at_another_rate_fails(source: Path, prores: Path, folder: Path) -> None:
    # A 25 fps timecode track under 23.976 pictures: it starts at 01:00:00:00 and drifts from there.
    pal = make_clip(folder / "pal.mov", size="160x90", rate="25", frames=3, audio=())
    drifting = folder / "drifting.mov"
    ffmpeg("-i", str(prores), "-i", str(pal), "-map", "0:v", "-map", "0:a", "-map", "1:d", "-c", "copy",
           "-timecode", "01:00:00:00", str(drifting))  # fmt: skip
    lt = profile("proxy_prores_lt")
    checks = checks_of(lt, source, drifting)
    assert checks["timecode"].passed
    assert failed_names(checks) == {"timecode_rate"}
    assert (checks["timecode_rate"].expected, checks["timecode_rate"].actual) == ("24000/1001", "25/1")
    assert checks_of(lt, source, prores)["timecode_rate"].passed


# 6. The reel name a source's timecode track states (ARRI, Blackmagic, recorders): editing systems
# relink a proxy by reel and timecode.


def with_reel(clip: Path, out: Path, reel: str | None) -> Path:
    """`clip`'s streams in a file (MOV or MXF, by `out`'s name) naming `reel` (None: naming none):
    a MOV in its timecode track, an MXF in a tape package."""
    named = [] if reel is None else ["-metadata:s:v:0" if out.suffix == ".mov" else "-metadata", f"reel_name={reel}"]
    ffmpeg("-i", str(clip), "-map", "0:v", "-map", "0:a", "-c", "copy", "-timecode", "01:00:00:00", *named, str(out))
    return out


@pytest.fixture(scope="module")
def camera(folder: Path) -> Path:
    return make_clip(folder / "camera.mov", size="320x180", frames=6)  # DNxHR's least is 256x120


@pytest.mark.parametrize("canonical_id", ["proxy_prores_lt", "proxy_dnxhr_lb"])
@pytest.mark.parametrize("source_container", ["mov", "mxf"])
def test_a_proxy_carries_its_source_s_reel_name_and_one_without_it_or_with_another_fails(
    camera, folder, canonical_id, source_container
):
    canonical = profile(canonical_id)
    reeled = with_reel(
        render(camera, profile("proxy_dnxhr_lb"), folder / "camera.mxf") if source_container == "mxf" else camera,
        folder / f"A001C003_{canonical_id}.{source_container}",
        "A001",
    )
    made = render(reeled, canonical, folder / f"A001C003_{canonical_id}_{source_container}.{canonical.container}")
    checks = checks_of(canonical, reeled, made)
    assert (checks["reel_name"].expected, checks["reel_name"].actual) == ("A001", "A001")
    assert not failed_names(checks)
    for reel, shown in ((None, "none"), ("B002", "B002")):  # lost in the proxy, or another camera's
        wrong = with_reel(made, folder / f"reel_{shown}_{canonical_id}_{source_container}.{canonical.container}", reel)
        checks = checks_of(canonical, reeled, wrong)
        assert failed_names(checks) == {"reel_name"}
        assert checks["reel_name"].actual == shown


def test_a_proxy_that_lost_a_reel_named_none_fails(camera, folder):
    lt = profile("proxy_prores_lt")
    reeled = with_reel(camera, folder / "none_reel.mov", "none")
    lost = with_reel(render(reeled, lt, folder / "none_reel_proxy.mov"), folder / "none_reel_lost.mov", None)
    assert failed_names(checks_of(lt, reeled, lost)) == {"reel_name"}


def test_an_mp4_proxy_and_a_source_naming_no_reel_are_asked_for_none(source, prores, folder):
    reeled = with_reel(source, folder / "A001C004.mov", "A001")
    h264 = profile("proxy_h264_low")  # MP4's timecode track has no field for it
    assert "reel_name" not in checks_of(h264, reeled, render(reeled, h264, folder / "A001C004.mp4"))
    assert "reel_name" not in checks_of(profile("proxy_prores_lt"), source, prores)


def test_a_proxy_whose_pictures_all_start_a_frame_late_fails_its_start(source, prores, folder):
    """Every picture a frame after its timecode and its sound (`-output_ts_offset` of one frame) passed
    the start check's one-frame tolerance; within half a frame it fails, and the recipe's passes."""
    assert checks_of(profile("proxy_prores_lt"), source, prores)["start"].passed
    late = render(source, profile("proxy_prores_lt"), folder / "late.mov", {"-output_ts_offset": "0.041708"})
    assert "start" in failed_names(checks_of(profile("proxy_prores_lt"), source, late))


def test_an_mpeg_ts_clip_whose_audio_ffprobe_reports_short_verifies(folder, proxx_home, tmp_path):
    """ffprobe estimates an MPEG-TS stream's duration: an AC-3 track of 1.024 s read as 0.928 s, and
    the right proxy (1.019 s of it, from the first picture) failed its audio duration. A transport
    stream's audio is checked for its start only."""
    clip = folder / "avchd-like.mts"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=640x360:rate=30000/1001:duration=1", "-f", "lavfi", "-i",
           "sine=sample_rate=48000:duration=1", "-c:v", "libx264", "-flags", "+ildct+ilme", "-c:a", "ac3",
           "-f", "mpegts", str(clip))  # fmt: skip
    proxx = Proxx.open()
    for intent in ("HD Editorial LT", "Review H.264"):
        out = tmp_path / intent.replace(" ", "_")
        out.mkdir()
        result = proxx.run_job(proxx.create_job(intent, [clip], out).job_id)
        assert result is not None and result.state == "COMPLETED", result and result.failure
        checks = {check.name: check for check in result.clips[0].checks}
        assert checks["audio[0].duration"].expected == "not stated" and checks["audio[0].start"].passed


def test_a_late_sound_coded_to_aac_keeps_its_offset_within_its_encoders_priming(folder, proxx_home, tmp_path):
    """A source whose sound starts 0.2 s after its first picture, proxied to H.264 and AAC: ffprobe
    reads the AAC track from 0.178 s (its encoder's priming frame), which failed a quarter-frame
    tolerance; a coded stream's start is checked within one of its frames, as its end is."""
    clip = folder / "late_sound.mov"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=640x360:rate=30000/1001:duration=1.5", "-itsoffset", "0.2", "-f",
           "lavfi", "-i", "sine=sample_rate=48000:duration=1", "-map", "0", "-map", "1", "-c:v", "libx264",
           "-c:a", "pcm_s24le", str(clip))  # fmt: skip
    proxx = Proxx.open()
    result = proxx.run_job(proxx.create_job("Review H.264", [clip], tmp_path).job_id)
    assert result is not None and result.state == "COMPLETED", result and result.failure


def test_a_picture_dropped_mid_clip_fails_though_the_average_rate_is_within_a_percent(folder):
    """120 pictures at 23.976 with the 11th dropped and every other picture kept at its time: a gap
    of two frames' time, 119 pictures over 120 frames', an average 0.8 % low (within the 1 % it
    allows) and a duration within the one-frame tolerance. The pictures must fill the duration at
    the rate exactly."""
    long = make_clip(folder / "A002_C001.mov", size="160x90", frames=120, timecode="01:00:00:00")
    right = render(long, profile("proxy_prores_lt"), folder / "long_right.mov")
    assert checks_of(profile("proxy_prores_lt"), long, right)["constant_frame_rate"].passed
    gap = folder / "gap.mov"
    ffmpeg("-i", str(right), "-map", "0", "-vf", r"select='not(eq(n\,10))'", "-fps_mode", "passthrough",
           "-c:v", "prores_ks", "-profile:v", "1", "-c:a", "copy", str(gap))  # fmt: skip
    check = checks_of(profile("proxy_prores_lt"), long, gap)["constant_frame_rate"]
    assert not check.passed and check.actual == "119 pictures over 120 frames' time", check


def test_a_proxy_a_picture_short_or_long_at_its_end_fails_its_frame_count(source, prores, folder):
    """The last picture dropped (`-frames:v` one fewer) or repeated (`tpad` one more) kept a duration
    within the one-frame tolerance, a constant rate and every stated fact: it verified. A source whose
    container counts its pictures gives a proxy of exactly as many."""
    lt = profile("proxy_prores_lt")
    right = checks_of(lt, source, prores)
    assert right["frame_count"].passed and right["frame_count"].expected == "48 pictures"
    short = checks_of(lt, source, render(source, lt, folder / "short.mov", {"-frames:v": "47"}))
    assert not short["frame_count"].passed and short["frame_count"].actual == "47 pictures"
    assert short["duration"].passed and short["constant_frame_rate"].passed  # what let it through
    args = build_args(real_ffmpeg(), probe(str(source)), str(folder / "long.mp4"), profile("proxy_h264_low"))
    args[args.index("-vf") + 1] += ",tpad=stop=1:stop_mode=clone"
    subprocess.run(args, check=True, capture_output=True, timeout=120)
    long = checks_of(profile("proxy_h264_low"), source, folder / "long.mp4")
    assert not long["frame_count"].passed and long["frame_count"].actual == "49 pictures"
    assert long["duration"].passed and long["constant_frame_rate"].passed


def test_an_interlaced_proxy_whose_pictures_code_the_other_field_first_fails(folder):
    """A DV source, bottom field first: a renderer that flags the scaled pictures top first (`setfield`
    after the recipe's own) writes a MOV that states bottom first over ProRes pictures coded top first.
    The container's field order was all that was read; the first picture's own is read in the same
    ffprobe run, and must be the one the proxy states."""

    dv = make_dv_pal_169_mov(folder)
    lt = profile("proxy_prores_lt")
    right = render(dv, lt, folder / "dv_right.mov")
    set_field_order(right, "bb")  # as the engine marks its MOV output
    assert failed_names(checks_of(lt, dv, right)) == set()
    assert checks_of(lt, dv, right)["picture_field_order"].actual == "bb"
    args = build_args(real_ffmpeg(), probe(str(dv)), str(folder / "dv_wrong.mov"), lt)
    args[args.index("-vf") + 1] += ",setfield=tff"
    subprocess.run(args, check=True, capture_output=True, timeout=120)
    set_field_order(folder / "dv_wrong.mov", "bb")
    wrong = checks_of(lt, dv, folder / "dv_wrong.mov")
    assert failed_names(wrong) == {"picture_field_order"}
    assert (wrong["picture_field_order"].expected, wrong["picture_field_order"].actual) == ("bb", "tt")
