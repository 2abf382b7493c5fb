"""ffmpeg argument lists, one recipe per canonical codec flavour (measured on ffmpeg 6.0, 2 cores;
figures in the README).

Every recipe keeps what an editing system relinks on: the exact rational frame rate (no frame dropped
or duplicated: `-fps_mode passthrough`), the duration, the start timecode (`-timecode` writes a
QuickTime tmcd track in MOV and MP4, the timecode component in MXF), every audio stream and channel
as the profile's audio policy says, the sample aspect ratio (`setsar` after `scale`, which otherwise
nudges it), and even frame sizes (`proxx.media.geometry`). Paths are passed as `file:` URLs in an
argument list, never through a shell.

Choices, measured on a 10 s 1080p clip:
* ProRes: prores_aw with a numeric profile (it rejects names, and without one silently writes
  Standard) is ~5x faster than prores_ks's default mode at the flavour's own data rate; prores_ks
  with a fixed quantiser is as fast but its "HQ" falls below aw's Standard rate.
* DNxHR LB/SQ: the dnxhd encoder, 8-bit 4:2:2 (LB/SQ reject 10-bit); minimum frame 256x120.
* H.264: x264 veryfast CRF 23 High: within 10 % of the fastest preset and the smallest output
  (ultrafast is slower here, bigger, and Constrained Baseline).
"""

from __future__ import annotations

from fractions import Fraction

from proxx.compile.profiles import CanonicalProfile
from proxx.media.geometry import output_size
from proxx.media.probe import AudioStream, MediaInfo, file_url
from proxx.validate.trust import input_restrictions

PRORES_PROFILE_NUMBER = {
    "prores_proxy": 0,
    "prores_lt": 1,
    "prores_standard": 2,
    "prores_hq": 3,
    "prores_4444": 4,
}
DNXHR_MIN_SIZE = (256, 120)
SUPPORTED = {
    **{codec: frozenset({"mov"}) for codec in PRORES_PROFILE_NUMBER},
    "dnxhr_lb": frozenset({"mxf", "mov"}),
    "dnxhr_sq": frozenset({"mxf", "mov"}),
    "dnxhr_hq": frozenset({"mxf", "mov"}),
    "h264": frozenset({"mp4", "mov"}),
}
AAC_KBPS_PER_CHANNEL = 96
AAC_MAX_CHANNELS = 8
# AAC and ALAC have no 5.1(side) configuration: relabel (no remix, order kept) so the layout reads back.
RELABEL_LAYOUT = {"5.1(side)": "5.1", "5.0(side)": "5.0"}
MOV_COPY_SAFE = frozenset({"pcm_s16le", "pcm_s16be", "pcm_s24le", "pcm_s24be", "aac", "alac"})
MP4_COPY_SAFE = frozenset({"aac", "alac"})


class RecipeError(ValueError):
    """The profile cannot be rendered from this source by ffmpeg (found at validation)."""


def unsupported(profile: CanonicalProfile, source: MediaInfo) -> str | None:
    """Why ffmpeg cannot render `profile` from `source`, or None when it can."""
    if profile.codec not in SUPPORTED:
        return f"the FFmpeg engine has no recipe for {profile.codec}"
    if profile.container not in SUPPORTED[profile.codec]:
        return f"the FFmpeg engine cannot write {profile.codec} in {profile.container}"
    if source.video is None:
        return "the source has no video"
    width, height = output_size(profile, source.video.width, source.video.height)
    if profile.codec.startswith("dnxhr") and (width < DNXHR_MIN_SIZE[0] or height < DNXHR_MIN_SIZE[1]):
        return f"the output frame {width}x{height} is below DNxHR's minimum of 256x120"
    for stream in source.audio:
        if profile.audio == "aac" and stream.channels > AAC_MAX_CHANNELS:
            return f"an audio stream has {stream.channels} channels; AAC holds at most {AAC_MAX_CHANNELS}"
        if profile.audio == "aac" and profile.container == "mxf":
            return "AAC audio cannot be written in MXF"
    return None


def _pcm_codec(stream: AudioStream) -> str:
    """16-bit sources stay 16-bit (bit-exact); everything else (24-bit, float, decoded lossy) 24-bit."""
    if stream.codec.startswith(("pcm_s16", "pcm_u8", "pcm_s8")) or 0 < (stream.bits or 0) <= 16:
        return "pcm_s16le"
    return "pcm_s24le"


def _audio_args(profile: CanonicalProfile, source: MediaInfo) -> list[str]:
    args: list[str] = []
    for i, stream in enumerate(source.audio):
        spec = f":a:{i}"
        relabel = RELABEL_LAYOUT.get(stream.channel_layout)
        if profile.audio == "aac" or (profile.container == "mp4" and stream.codec not in MP4_COPY_SAFE):
            if relabel:
                args += [f"-filter{spec}", f"channelmap=channel_layout={relabel}"]
            if profile.audio == "aac":
                args += [
                    f"-c{spec}",
                    "aac",
                    f"-b{spec}",
                    f"{AAC_KBPS_PER_CHANNEL * max(stream.channels, 1)}k",
                ]
            else:  # lossless in MP4, whose ffmpeg 6.0 muxer takes no PCM: ALAC
                sample_fmt = "s16p" if _pcm_codec(stream) == "pcm_s16le" else "s32p"
                args += [f"-c{spec}", "alac", f"-sample_fmt{spec}", sample_fmt]
        elif profile.container == "mxf":
            # ffmpeg's MXF muxer carries PCM only, and only at 48 kHz.
            args += [f"-c{spec}", _pcm_codec(stream)]
            if stream.sample_rate != 48000:
                args += [f"-ar{spec}", "48000"]
        elif profile.audio == "copy" and stream.codec in (
            MOV_COPY_SAFE if profile.container == "mov" else MP4_COPY_SAFE
        ):
            args += [f"-c{spec}", "copy"]
        else:
            args += [f"-c{spec}", _pcm_codec(stream)]
    return args


def _video_args(profile: CanonicalProfile) -> list[str]:
    codec = profile.codec
    if codec in PRORES_PROFILE_NUMBER:
        pix_fmt = "yuva444p10le" if codec == "prores_4444" else "yuv422p10le"
        profile_number = str(PRORES_PROFILE_NUMBER[codec])
        return ["-c:v", "prores_aw", "-profile:v", profile_number, "-vendor", "apl0", "-pix_fmt", pix_fmt]
    if codec.startswith("dnxhr"):
        return ["-c:v", "dnxhd", "-profile:v", codec, "-pix_fmt", "yuv422p"]
    if codec == "h264":
        return [
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
            "-crf",
            "23",
            "-profile:v",
            "high",
            "-pix_fmt",
            "yuv420p",
        ]
    raise RecipeError(f"the FFmpeg engine has no recipe for {codec}")


def build_args(ffmpeg: str, source: MediaInfo, destination: str, profile: CanonicalProfile) -> list[str]:
    """The whole ffmpeg command line for one proxy; progress blocks go to stdout."""
    why = unsupported(profile, source)
    if why or source.video is None:
        raise RecipeError(why or "the source has no video")
    video = source.video
    width, height = output_size(profile, video.width, video.height)
    sar = _sar(video.sample_aspect_ratio)
    filters = [] if (width, height) == (video.width, video.height) else [f"scale={width}:{height}"]
    filters.append(f"setsar={sar.numerator}/{sar.denominator}")
    args = [
        ffmpeg, "-hide_banner", "-nostdin", "-n", "-nostats", "-loglevel", "warning",
        "-progress", "pipe:1",
        *input_restrictions(source), "-i", file_url(source.path),  # local file, its validated demuxer
        "-map", "0:v:0", "-map", "0:a?", "-map_metadata", "0", "-map_chapters", "-1",
        "-fps_mode", "passthrough",
        "-vf", ",".join(filters),
        *_video_args(profile),
        *_audio_args(profile, source),
    ]  # fmt: skip
    if source.timecode:
        args += ["-timecode", source.timecode]
    if profile.container in ("mov", "mp4"):
        args += ["-write_tmcd", "1"]
    return [*args, "-f", profile.container, file_url(destination)]


def _sar(text: str) -> Fraction:
    numerator, _, denominator = text.partition(":")
    try:
        value = Fraction(int(numerator), int(denominator or 1))
    except (ValueError, ZeroDivisionError):
        return Fraction(1)
    return value if value > 0 else Fraction(1)
