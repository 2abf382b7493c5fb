"""Step 5 of the flow: verify an output before it gets its final name and before any job is
COMPLETED. Every check is recorded with its expected and actual value.

The format checks (container, codec, codec profile, the pictures' chroma subsampling and bit depth)
need only the output, so they run for every output, RAW sources included. The picture, time and sound
checks compare the output with the `ProxyTarget` that `proxx.media.policy` derives from the source
probe, the same target the engines render to: frame size and display aspect ratio (so a squashed
picture fails whatever its SAR says), upright picture, exact constant frame rate, duration within one
frame from a zero start, field order, one video track, no alpha, start timecode and the rate its
timecode track counts at, and per audio stream the channel count, layout, sample rate, the codec the
audio policy promises, its sync with the picture and its duration.
"""

from __future__ import annotations

import functools
import re
from fractions import Fraction

import attrs

from proxx import vocabulary
from proxx.compile.profiles import CanonicalProfile
from proxx.media.colour import Colour, complete, same_colour
from proxx.media.geometry import display_aspect, sample_aspect
from proxx.media.policy import (
    DEFAULT_LAYOUTS,
    LOSSY_PCM,
    MXF_NO_TIMECODE,
    AudioTarget,
    ProxyTarget,
    lossless_audio,
    proxy_target,
    top_field_first,
)
from proxx.media.probe import INTERLACED, AudioStream, MediaInfo, VideoStream, parse_rate

# Bundled codec flavour -> (ffprobe codec_name, ffprobe profile or None when not pinned).
PROBED_CODEC: dict[str, tuple[str, str | None]] = {
    name: (codec.probe_codec, codec.probe_profile) for name, codec in vocabulary.BUNDLED_CODECS.items()
}
# Display aspect ratios may differ by this much, or by what rounding to even sizes costs if more.
ASPECT_TOLERANCE = Fraction(5, 1000)
# Durations are read back from rounded decimal times: they compare within a frame and this much.
DURATION_SLACK = Fraction(1, 1000)
# A constant-rate output's average rate is its nominal rate within this much.
AVERAGE_RATE_TOLERANCE = Fraction(1, 100)
# An audio stream keeps its offset from the first picture within this part of a frame: well inside
# what a viewer notices (some 45 ms early), and far from a frame's slip.
AUDIO_SYNC_FRAMES = Fraction(1, 4)
# The samples of the longest coded audio frame in common use (HE-AAC; AC-3 1536, MP2 1152, AAC 1024):
# the granularity at which a coded stream starts, ends and is cut.
AUDIO_FRAME_SAMPLES = 2048


#: The names of the checks proxx records on every output, stable across releases: exporters, reports
#: and dashboards may key on them (a renamed check is a plugin API major change). "audio[N]." names
#: repeat for each audio stream, N from 0. A plugin's `proxx_verify_output` checks add their own names.
CHECK_NAMES = (
    "output_exists",  # a non-empty file
    "output_readable",  # recorded (failed) only when the output does not probe
    "container",
    "video_stream",  # recorded (failed) only when the output has no video
    "video_codec",
    "codec_profile",  # for codec flavours whose ffprobe profile is pinned (ProRes, DNxHR)
    "pixel_format",  # chroma subsampling and bit depth, for codec flavours that pin them
    "even_dimensions",
    "dimensions",  # the coded WxH
    "display_aspect_ratio",
    "sample_aspect_ratio",
    "rotation",
    "field_order",
    "picture_field_order",  # an interlaced proxy: the field its pictures code first is the one it states
    "frame_rate",
    "constant_frame_rate",
    "duration",
    "frame_count",  # a source whose pictures are counted: the proxy holds as many, not one fewer or more
    "start",
    "alpha",
    "colour",  # the colour description the container (or stream) states
    "picture_colour",  # the one the picture itself states, for codecs whose pictures carry one
    "picture_orientation",  # a source with a display rotation: its first picture as the source shows it, not turned
    "picture_levels",  # a full-range source whose proxy changes only the range: the same colours
    "picture_content",  # where the above pass: the source's picture (more loosely where colours are converted)
    "picture_geometry",  # where the first pictures are compared: framed alike, not boxed, cropped, squeezed or moved
    "picture_later",  # where the first pictures are alike: three later ones the source's, none a frame off
    "video_tracks",  # for a source with more than one (the others are named), or an output with more (failed)
    "timecode",
    "timecode_rate",  # for an output with a timecode (tmcd) track: it counts at the video's rate
    "reel_name",  # a MOV or MXF output of a source that names its reel: the same one, relinked by
    "audio_streams",
    "audio[N].channels",
    "audio[N].layout",
    "audio[N].sample_rate",
    "audio[N].codec",  # what the audio policy promises: the source's codec or a lossless one, AAC, PCM
    "audio[N].start",  # its offset from the first picture, the source's
    "audio[N].duration",  # the source stream's, as the proxy keeps it
    "audio[N].sound",  # each channel of output track N is source track N's: not another's, another sound, or silent
    "audio[N].sync",  # its sound as far from its pictures as the source's, within a frame
)


@attrs.frozen
class Check:
    """One verification check of an output against its canonical profile and source.

    Fields:
      name: what was checked: one of `CHECK_NAMES` ("video_codec", "dimensions", "duration",
        "audio[0].layout", ...), or a name a plugin's `proxx_verify_output` check gives.
      expected: the value the profile and source call for, as text.
      actual: the value the output's probe shows, as text.
      passed: whether the output meets it; one failed check fails the clip in class C.
    """

    name: str
    expected: str
    actual: str
    passed: bool


def _check(name: str, expected: object, actual: object, passed: bool | None = None) -> Check:
    ok = (str(expected) == str(actual)) if passed is None else passed
    return _shared_check(name, str(expected), str(actual), ok)


@functools.lru_cache(maxsize=4096)
def _shared_check(name: str, expected: str, actual: str, passed: bool) -> Check:
    """One record for equal checks: the clips of a card mostly pass the same checks with the same
    values (codec, frame size, rate, colour, audio), and a job holds every clip's checks to its end,
    in its result (a 1,000-clip job: 22,000 records and their texts, the largest part of its peak)."""
    return Check(name, expected, actual, passed)


def _ratio(value: Fraction) -> str:
    return f"{value.numerator}:{value.denominator}"


def _rate(value: Fraction) -> str:
    return f"{value.numerator}/{value.denominator}"


def format_checks(profile: CanonicalProfile, output: MediaInfo) -> list[Check]:
    """What the canonical id promises whatever the source: container, codec and its profile, even sides."""
    checks = [_check("container", profile.container, output.container)]
    video = output.video
    if video is None:
        return [*checks, _check("video_stream", "present", "missing")]
    codec = vocabulary.codec(profile.codec)  # bundled or declared by a plugin
    codec_name, codec_profile = codec.probe_codec, codec.probe_profile
    checks.append(_check("video_codec", codec_name, video.codec))
    if codec_profile is not None:
        checks.append(_check("codec_profile", codec_profile, video.profile))
    if codec.chroma is not None or codec.bit_depth is not None:
        checks.append(_pixel_format_check(codec, video.pix_fmt))
    size = f"{video.width}x{video.height}"
    checks.append(_check("even_dimensions", "even", size, video.width % 2 == 0 and video.height % 2 == 0))
    return checks


def verify_output(
    profile: CanonicalProfile, source: MediaInfo | None, output: MediaInfo, picture_colour: Colour | None = None
) -> list[Check]:
    """Compare a probed output with what `profile` promises for `source` (None: a RAW source no
    probe reads, where only the format is checked here and the engine's plugin checks the rest).
    `picture_colour`: what the output's first decoded picture states (`first_frame_colour`), checked
    beside what its container states when given."""
    checks = format_checks(profile, output)
    if source is None or source.video is None or output.video is None:
        return checks
    target = proxy_target(profile, source)
    checks += _picture_checks(target, output.video)
    if target.interlaced and output.video.picture_field_order in INTERLACED:
        checks.append(_picture_field_order_check(target, output.video.picture_field_order))
    checks += colour_checks(profile, target.colour.output, output.video.colour, picture_colour)
    if source.other_video or output.other_video:
        checks.append(video_tracks_check(source, output))
    checks += _time_checks(target, source, output)
    checks += _audio_codec_checks(profile, target, source.audio, output.audio)
    checks.append(_check("alpha", "none", output.video.pix_fmt if output.video.has_alpha else "none"))
    checks.append(_timecode_check(profile, target, output))
    if output.timecode_rate:
        checks.append(_timecode_rate_check(target, output.timecode_rate))
    if target.reel_name:  # compared as read: a reel may well be named "none"
        checks.append(_check("reel_name", target.reel_name, output.reel_name or "none",
                             output.reel_name == target.reel_name))  # fmt: skip
    checks += _audio_checks(target, output, source.audio)
    return checks


# ffprobe's planar YUV pixel formats: "yuv420p", "yuvj420p" (full range), "yuva444p12le", ...
_PLANAR_YUV = re.compile(r"yuva?j?(4)(\d)(\d)p(\d+)?(?:le|be)?")
# The semi-planar ones hardware decoders and encoders use.
_SEMI_PLANAR = {"nv12": ("4:2:0", 8), "nv21": ("4:2:0", 8), "nv16": ("4:2:2", 8), "nv24": ("4:4:4", 8),
                "p010le": ("4:2:0", 10), "p010be": ("4:2:0", 10), "p210le": ("4:2:2", 10),
                "p410le": ("4:4:4", 10)}  # fmt: skip


def picture_format(pix_fmt: str) -> tuple[str, int] | None:
    """(chroma subsampling, bits per sample) of an ffprobe pixel format ("yuv420p10le": ("4:2:0", 10)),
    or None for one that is not YUV (RGB, grey, palette)."""
    if pix_fmt in _SEMI_PLANAR:
        return _SEMI_PLANAR[pix_fmt]
    match = _PLANAR_YUV.fullmatch(pix_fmt)
    if match is None:
        return None
    return f"{match[1]}:{match[2]}:{match[3]}", int(match[4] or 8)


def _pixel_format_check(codec: vocabulary.Codec, pix_fmt: str) -> Check:
    """An H.264 in High 10 or 4:4:4 does not play where 8-bit 4:2:0 does, whatever its profile says."""
    expected = ", ".join(part for part in (codec.chroma, f"{codec.bit_depth}-bit" if codec.bit_depth else "") if part)
    found = picture_format(pix_fmt)
    if found is None:
        return _check("pixel_format", expected, f"not YUV ({pix_fmt or 'not stated'})", False)
    chroma, depth = found
    ok = codec.chroma in (None, chroma) and codec.bit_depth in (None, depth)
    return _check("pixel_format", expected, f"{chroma}, {depth}-bit ({pix_fmt})", ok)


def _picture_checks(target: ProxyTarget, out: VideoStream) -> list[Check]:
    size = f"{out.width}x{out.height}"
    shown = display_aspect(out)
    # Rounding each side to an even number of pixels moves the aspect by up to 1/w + 1/h.
    tolerance = max(ASPECT_TOLERANCE, Fraction(1, max(out.width, 1)) + Fraction(1, max(out.height, 1)))
    aspect_ok = abs(shown - target.display_aspect) <= tolerance * target.display_aspect
    sar = sample_aspect(out.sample_aspect_ratio)
    return [
        _check("dimensions", f"{target.width}x{target.height}", size),
        _check(
            "display_aspect_ratio",
            f"{float(target.display_aspect):.4f} (± {float(tolerance) * 100:.2g} %)",
            f"{float(shown):.4f}",
            aspect_ok,
        ),
        # A container may store a SAR only approximately: the display aspect decides, both are recorded.
        _check(
            "sample_aspect_ratio",
            _ratio(target.sample_aspect_ratio),
            _ratio(sar),
            sar == target.sample_aspect_ratio or aspect_ok,
        ),
        _check("rotation", "upright (0)", f"{'upright' if out.rotation == 0 else 'rotated'} ({out.rotation})",
               out.rotation == 0),
        _check("field_order", target.field_order, out.field_order, _same_scan(target.field_order, out.field_order)),
    ]  # fmt: skip


def _picture_field_order_check(target: ProxyTarget, coded: str) -> Check:
    """A container stating top field first over pictures coded bottom first (a renderer's field flag
    set after the scale) plays its fields in the wrong order: every movement judders."""
    ok = top_field_first(coded) == target.top_field_first
    return _check("picture_field_order", target.field_order, coded, ok)


def video_tracks_check(source: MediaInfo, output: MediaInfo) -> Check:
    """A source with more than one video track (an interview's A and B cameras, ISO recordings)
    gives a proxy of its first: the proxy holds exactly one, and the others are named in the
    clip's outcome ("video track 2 (1280x720) is not in the proxy"). A proxy of any source holds one:
    an editing system may show or relink to a second."""
    if not source.other_video:
        return _check("video_tracks", "video track 1 only", f"{1 + len(output.other_video)} video tracks", False)
    left_out = "; ".join(f"video track {n} ({w}x{h}) is not in the proxy" for n, w, h in source.other_video)
    actual = left_out if not output.other_video else f"{1 + len(output.other_video)} video tracks"
    return _check("video_tracks", "video track 1 only; the others named", actual, not output.other_video)


# Codecs whose pictures state no colour of their own (DNxHR's header has no such field: a decoder
# reports its own assumption); their container's description is the one there is.
NO_PICTURE_COLOUR = frozenset({"dnxhr", "dnxhd"})


def colour_checks(profile: CanonicalProfile, expected: Colour, stream: Colour, picture: Colour | None) -> list[Check]:
    """The colour description where the container states it (QuickTime colr atom, MXF descriptor,
    or the VUI as the stream reports it) and where the picture does (ProRes frame header, H.264/HEVC
    VUI): complete, never an RGB matrix, and the policy's (`proxx.media.colour`)."""

    def check(name: str, actual: Colour) -> Check:
        return _check(name, expected, actual, complete(actual) and same_colour(actual, expected))

    checks = [check("colour", stream)]
    if picture is not None and profile.codec_family not in NO_PICTURE_COLOUR:
        checks.append(check("picture_colour", picture))
    return checks


def _same_scan(expected: str, actual: str) -> bool:
    if expected not in INTERLACED:
        return actual in ("progressive", "unknown", "")
    return actual == expected


def source_frames(target: ProxyTarget, source: MediaInfo) -> int | None:
    """The pictures a proxy of `source` holds: a constant-rate source keeps each of its pictures, so
    as many as its container counts (MXF counts in its duration's edit units), when that count fills
    its duration at its rate; None for a conformed, soft-telecined or uncounted source. The duration
    check allows a frame either way, which is the last picture dropped or repeated."""
    video = source.video
    if video is None or target.variable_rate or video.repeat_fields or not source.video_duration:
        return None
    filled = round(Fraction(source.video_duration) * target.rate)
    counted = video.nb_frames or (filled if source.container == "mxf" else None)
    return counted if counted == filled else None


def _time_checks(target: ProxyTarget, source: MediaInfo, output: MediaInfo) -> list[Check]:
    assert output.video is not None
    out = output.video
    real, average = parse_rate(out.frame_rate), parse_rate(out.avg_frame_rate)
    constant = average <= 0 or abs(average - target.rate) <= AVERAGE_RATE_TOLERANCE * target.rate
    shown = f"{float(average):.3f} fps average" if average > 0 else "not stated"
    out_duration, start = output.video_duration, out.start_time or 0.0
    # The pictures a container counts must fill its duration at the rate exactly: a picture dropped
    # mid-clip leaves a gap (119 pictures over 120 frames' time) that the average hides within 1 %.
    if constant and out.nb_frames and out_duration and target.rate > 0:
        filled = round(Fraction(out_duration) * target.rate)
        if out.nb_frames != filled:
            constant, shown = False, f"{out.nb_frames} pictures over {filled} frames' time"
    checks = [
        _check("frame_rate", _rate(target.rate), out.frame_rate, real == target.rate),
        _check("constant_frame_rate", f"{float(target.rate):.3f} fps average", shown, constant),
    ]
    if target.duration is not None and out_duration is not None and target.rate > 0:
        frame = 1 / target.rate
        close = abs(Fraction(out_duration) - Fraction(target.duration)) <= frame + DURATION_SLACK
        checks.append(_check("duration", f"{target.duration:.3f} s (± 1 frame)", f"{out_duration:.3f} s", close))
    else:
        checks.append(_check("duration", f"{target.duration} s", f"{out_duration} s", False))
    frames = source_frames(target, source)
    # An output that counts neither its pictures nor its video's own duration (Matroska) is not
    # counted from the file's duration, which its sound may lengthen: the duration check holds it.
    made = out.nb_frames or (round(Fraction(out.duration) * target.rate) if out.duration else None)
    if frames is not None and made is not None:
        checks.append(_check("frame_count", f"{frames} pictures", f"{made} pictures", made == frames))
    # Within half a frame: a picture a frame late sits a frame off its timecode and its sound.
    late = abs(Fraction(start)) * target.rate
    checks.append(_check("start", "0.000 s (within half a frame)", f"{start:.3f} s", late < Fraction(1, 2)))
    return checks


def _timecode_check(profile: CanonicalProfile, target: ProxyTarget, output: MediaInfo) -> Check:
    if target.timecode is None and output.timecode == MXF_NO_TIMECODE:
        # No timecode reads as a zero start in every NLE; MXF (and Resolve) always write one.
        return _check("timecode", f"none or {MXF_NO_TIMECODE}", output.timecode, True)
    expected = target.timecode or (MXF_NO_TIMECODE if profile.container == "mxf" else None)
    return _check("timecode", expected or "none", output.timecode or "none")


def _timecode_rate_check(target: ProxyTarget, rate_text: str) -> Check:
    """A timecode track counting at another rate than its pictures (25 under 23.976) starts right and
    drifts from the first second on. 23.976 counts in 24-frame timecode, its track at 24000/1001."""
    rate = parse_rate(rate_text)
    return _check("timecode_rate", _rate(target.rate), _rate(rate) if rate > 0 else "not stated",
                  rate == target.rate)  # fmt: skip


def _audio_checks(target: ProxyTarget, output: MediaInfo, sources: tuple[AudioStream, ...]) -> list[Check]:
    outputs = output.audio
    checks = [_check("audio_streams", len(target.audio), len(outputs))]
    first_picture = output.video.start_time if output.video is not None else None
    for i, (want, out, source) in enumerate(zip(target.audio, outputs, sources, strict=False)):
        checks.append(_check(f"audio[{i}].channels", want.channels, out.channels))
        checks.append(_layout_check(i, want, out))
        checks.append(_check(f"audio[{i}].sample_rate", want.sample_rate, out.sample_rate))
        checks += _audio_time_checks(i, want, out, source, first_picture, target.rate)
    return checks


def _audio_time_checks(
    i: int, want: AudioTarget, out: AudioStream, source: AudioStream, first_picture: float | None, rate: Fraction
) -> list[Check]:
    """Sound in sync with the picture and as long as the source's: a delayed, trimmed or resampled
    (44.1 kHz played as 48 kHz: 8.8 % fast) stream fails. What the source does not state, or the
    output, is recorded as such."""
    frame = 1 / rate if rate > 0 else Fraction(1, 24)
    coded = _coded_frame(source, out)
    checks = []
    if want.start is None or out.start_time is None:
        stated = "not stated" if want.start is None else f"{want.start:.3f} s after the first picture"
        checks.append(_check(f"audio[{i}].start", stated, _seconds(out.start_time), True))
    else:
        offset = out.start_time - (first_picture or 0.0)
        tolerance = frame * AUDIO_SYNC_FRAMES
        # A coded stream (AAC, AC-3) starts on a coded frame: a copied one that started before the
        # first picture is cut there between its frames, and an encoder's first frame primes it (an
        # AAC track made to start 0.200 s after the picture is read as starting at 0.178 s).
        if not lossless_audio(out.codec):
            tolerance += coded
        close = abs(Fraction(offset) - Fraction(want.start)) <= tolerance
        checks.append(_check(f"audio[{i}].start", f"{want.start:.3f} s after the first picture "
                             f"(± {float(tolerance) * 1000:.0f} ms)", f"{offset:.3f} s", close))  # fmt: skip
    if want.duration is None or out.duration is None:
        stated = "not stated" if want.duration is None else f"{want.duration:.3f} s"
        checks.append(_check(f"audio[{i}].duration", stated, _seconds(out.duration), True))
    else:
        exact = lossless_audio(source.codec) and lossless_audio(out.codec)
        tolerance = frame + DURATION_SLACK + (0 if exact else coded)
        close = abs(Fraction(out.duration) - Fraction(want.duration)) <= tolerance
        checks.append(_check(f"audio[{i}].duration", f"{want.duration:.3f} s (± {float(tolerance) * 1000:.0f} ms)",
                             f"{out.duration:.3f} s", close))  # fmt: skip
    return checks


def _coded_frame(source: AudioStream, out: AudioStream) -> Fraction:
    """The longest coded audio frame (AAC, AC-3, MP2...) of either stream, in seconds. A transport
    stream states a coded stream's duration without its last frame; an AAC encoder pads its last."""
    rates = [r for r in (source.sample_rate, out.sample_rate) if r > 0]
    return Fraction(AUDIO_FRAME_SAMPLES, min(rates or [48000]))


def _seconds(value: float | None) -> str:
    return "not stated" if value is None else f"{value:.3f} s"


def _audio_codec_checks(
    profile: CanonicalProfile, target: ProxyTarget, sources: tuple[AudioStream, ...], outputs: tuple[AudioStream, ...]
) -> list[Check]:
    """Each stream coded as the audio policy promises: a plugin's policy names the codecs its streams
    may have; "aac" is AAC; "copy" keeps every channel losslessly: the source's own codec (its bit
    depth too), or a lossless one of at least the target's depth (MXF takes PCM only, MP4 in ffmpeg
    no PCM: ALAC); "pcm" is PCM (in MP4, ALAC) of at least the target's depth (`AudioTarget.bits`)."""
    policy = vocabulary.audio_policy(profile.audio)
    if policy is not None:
        expected = " or ".join(policy.probe_codecs)
        return [
            _check(f"audio[{i}].codec", expected, out.codec, out.codec in policy.probe_codecs)
            for i, out in enumerate(outputs)
        ]
    checks = []
    for i, (source, want, out) in enumerate(zip(sources, target.audio, outputs, strict=False)):
        if profile.audio == "aac":
            checks.append(_check(f"audio[{i}].codec", "aac", out.codec))
            continue
        if profile.audio not in ("copy", "pcm"):
            continue  # a policy neither bundled nor declared: the profile did not validate
        bits = want.bits or 0
        actual = f"{out.codec}, {out.bits}-bit" if out.bits else out.codec
        deep_enough = (out.bits or 0) >= bits
        if profile.audio == "copy":
            copied = out.codec == source.codec and (out.bits or 0) >= (source.bits or 0)
            ok = copied or (lossless_audio(out.codec) and deep_enough)
            expected = f"{source.codec} (copied), or lossless of at least {bits} bits"
        else:
            coded = out.codec.startswith("pcm_") or (out.codec == "alac" and profile.container == "mp4")
            ok = coded and out.codec not in LOSSY_PCM and deep_enough
            expected = f"PCM{' (or ALAC)' if profile.container == 'mp4' else ''} of at least {bits} bits"
        checks.append(_check(f"audio[{i}].codec", expected, actual, ok))
    return checks


def _layout_check(i: int, want: AudioTarget, out: AudioStream) -> Check:
    if want.layout is None:  # unlabelled: its channel count's default label, or none, is the same thing
        default = DEFAULT_LAYOUTS.get(want.channels)
        expected = f"unlabelled{f' or {default}' if default else ''}"
        ok = out.channel_layout in ("", default) or (default is None and out.channels == want.channels)
        return _check(f"audio[{i}].layout", expected, out.channel_layout or "none", ok)
    return _check(f"audio[{i}].layout", want.layout, out.channel_layout or "none")


def failed(checks: list[Check]) -> list[Check]:
    return [c for c in checks if not c.passed]
