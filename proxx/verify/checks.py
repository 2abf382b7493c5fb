"""Step 5 of the flow: verify an output before it gets its final name and before any job is
COMPLETED. Every check is recorded with its expected and actual value.

What the canonical profile promises (engine-independent; BACKGROUND section 5 for why each matters):
the container and codec, the codec profile (ProRes flavour, DNxHR class), the frame size its policy
gives (even), the source's frame rate, duration within one frame, sample aspect ratio and start
timecode, and per audio stream the channel count, layout and sample rate the audio policy says.

Container facts that policies must live with: MXF stores PCM at 48 kHz only and no channel-layout
label (so layout is not checked there), and always carries a timecode (00:00:00:00 when the source
has none).
"""

from __future__ import annotations

from fractions import Fraction

import attrs

from proxx.compile.profiles import CanonicalProfile
from proxx.media.geometry import output_size
from proxx.media.probe import MediaInfo, parse_rate

# codec flavour -> (ffprobe codec_name, ffprobe profile or None when not pinned)
PROBED_CODEC: dict[str, tuple[str, str | None]] = {
    "prores_proxy": ("prores", "Proxy"),
    "prores_lt": ("prores", "LT"),
    "prores_standard": ("prores", "Standard"),
    "prores_hq": ("prores", "HQ"),
    "prores_4444": ("prores", "4444"),
    "dnxhd": ("dnxhd", None),
    "dnxhr_lb": ("dnxhd", "DNXHR LB"),
    "dnxhr_sq": ("dnxhd", "DNXHR SQ"),
    "dnxhr_hq": ("dnxhd", "DNXHR HQ"),
    "h264": ("h264", None),
    "h265": ("hevc", None),
    "hevc": ("hevc", None),
}
# AAC and ALAC have no "side" surround configurations; the same speakers read back as plain 5.1.
CODED_LAYOUT = {"5.1(side)": "5.1", "5.0(side)": "5.0"}
MXF_SAMPLE_RATE = 48000
MXF_NO_TIMECODE = "00:00:00:00"


@attrs.frozen
class Check:
    name: str
    expected: str
    actual: str
    passed: bool


def _check(name: str, expected: object, actual: object, passed: bool | None = None) -> Check:
    ok = (str(expected) == str(actual)) if passed is None else passed
    return Check(name, str(expected), str(actual), ok)


def _sar(text: str) -> str:
    rate = parse_rate(text.replace(":", "/"))
    return "1:1" if rate <= 0 else f"{rate.numerator}:{rate.denominator}"


def verify_output(profile: CanonicalProfile, source: MediaInfo, output: MediaInfo) -> list[Check]:
    """Compare a probed output with what `profile` promises for `source`."""
    checks = [_check("container", profile.container, output.container)]
    codec_name, codec_profile = PROBED_CODEC[profile.codec]
    out_video, src_video = output.video, source.video
    if out_video is None or src_video is None:
        checks.append(_check("video_stream", "present", "missing"))
        return checks
    checks.append(_check("video_codec", codec_name, out_video.codec))
    if codec_profile is not None:
        checks.append(_check("codec_profile", codec_profile, out_video.profile))
    width, height = output_size(profile, src_video.width, src_video.height)
    checks.append(_check("dimensions", f"{width}x{height}", f"{out_video.width}x{out_video.height}"))
    even = out_video.width % 2 == 0 and out_video.height % 2 == 0
    checks.append(_check("even_dimensions", "even", f"{out_video.width}x{out_video.height}", even))
    checks.append(_check("frame_rate", src_video.frame_rate, out_video.frame_rate, src_video.fps == out_video.fps))
    src_duration, out_duration = source.video_duration, output.video_duration
    if src_duration is not None and out_duration is not None and src_video.fps > 0:
        frame = 1 / src_video.fps
        close = abs(Fraction(out_duration) - Fraction(src_duration)) <= frame
        checks.append(_check("duration", f"{src_duration:.3f} s (± 1 frame)", f"{out_duration:.3f} s", close))
    else:
        checks.append(_check("duration", f"{src_duration} s", f"{out_duration} s", False))
    checks.append(
        _check("sample_aspect_ratio", _sar(src_video.sample_aspect_ratio), _sar(out_video.sample_aspect_ratio))
    )
    expected_tc = source.timecode or (MXF_NO_TIMECODE if profile.container == "mxf" else None)
    if source.timecode is None and output.timecode == MXF_NO_TIMECODE:
        # No timecode reads as a zero start in every NLE; some engines (Resolve) always write one.
        checks.append(_check("timecode", f"none or {MXF_NO_TIMECODE}", output.timecode, True))
    else:
        checks.append(_check("timecode", expected_tc or "none", output.timecode or "none"))
    checks.extend(_audio_checks(profile, source, output))
    return checks


def _audio_checks(profile: CanonicalProfile, source: MediaInfo, output: MediaInfo) -> list[Check]:
    checks = [_check("audio_streams", len(source.audio), len(output.audio))]
    coded = profile.audio == "aac" or profile.container == "mp4"
    for i, (src, out) in enumerate(zip(source.audio, output.audio, strict=False)):
        checks.append(_check(f"audio[{i}].channels", src.channels, out.channels))
        if profile.container != "mxf":
            layout = CODED_LAYOUT.get(src.channel_layout, src.channel_layout) if coded else src.channel_layout
            checks.append(_check(f"audio[{i}].layout", layout or "none", out.channel_layout or "none"))
        rate = MXF_SAMPLE_RATE if profile.container == "mxf" else src.sample_rate
        checks.append(_check(f"audio[{i}].sample_rate", rate, out.sample_rate))
    return checks


def failed(checks: list[Check]) -> list[Check]:
    return [c for c in checks if not c.passed]


def describe_failures(checks: list[Check]) -> str:
    return "; ".join(f"{c.name}: expected {c.expected}, got {c.actual}" for c in failed(checks))
