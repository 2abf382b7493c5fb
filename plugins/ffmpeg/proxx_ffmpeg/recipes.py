"""ffmpeg argument lists, one recipe per canonical codec flavour (measured on ffmpeg 6.0, 2 cores;
figures in benchmarks/HISTORY.md).

Every recipe renders the `ProxyTarget` of `proxx.media.policy` (the README's media policy): the
picture upright (ffmpeg applies the display rotation itself) at the policy's even frame size with the
source's sample aspect ratio (`setsar` with a large `max`: its default of 100 rounds 128:117 to
93:85); a constant frame rate (the `fps` filter puts each picture in the slot nearest its time: a
constant-rate source keeps every frame, a variable-rate one is conformed to its nominal rate);
interlaced sources coded interlaced with their field order in ProRes (`+ildct`, fields scaled
apart) and deinterlaced by `bwdif` for H.264; the start timecode (`-timecode` writes a QuickTime
tmcd track in MOV and MP4, the timecode component in MXF) and the source's reel name (MOV: in
that track; MXF: a tape package); every audio stream and channel as the
profile's audio policy says; no alpha; timestamps from zero. Paths are passed as `file:` URLs in
an argument list, never through a shell.

Choices, measured on a 10 s 1080p clip:
* ProRes: prores_aw with a numeric profile (it rejects names, and without one silently writes
  Standard) is ~5x faster than prores_ks's default mode at the flavour's own data rate; prores_ks
  with a fixed quantiser is as fast but its "HQ" falls below aw's Standard rate.
* DNxHR LB/SQ: the dnxhd encoder, 8-bit 4:2:2 (LB/SQ reject 10-bit); minimum frame 256x120.
* H.264: x264 veryfast CRF 23 High: within 10 % of the fastest preset and the smallest output
  (ultrafast is slower here, bigger, and Constrained Baseline).
"""

from __future__ import annotations

from proxx.plugin import (
    AudioStream,
    CanonicalProfile,
    MediaInfo,
    ProxyTarget,
    proxy_target,
)
from proxx_ffmpeg.argv import (
    colour_filters,
    colour_options,
    colour_unconvertible,
    file_url,
    input_options,
    sound_inputs,
    sound_maps,
)

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
# setsar's `max` bounds the stored ratio's terms; its default (100) rounds 128:117 to 93:85.
SAR_MAX = 100000
# Determinism: the same JobSpec gives the same bytes alone, in a batch or on another host. Decoding,
# filtering, ProRes and DNxHR give the same bytes whatever their thread count (measured with ffmpeg
# 8.1: md5 of outputs at 1, 2, 3 and 4 threads), so those follow the clip's share of the cores. x264's
# output depends on its thread count (and it writes the count into the stream), so its encoder always
# gets this fixed count, never one chosen by load or by the host's core count.
X264_THREADS = 4
# Encoders whose bytes do not depend on their thread count.
THREAD_INDEPENDENT = frozenset({*PRORES_PROFILE_NUMBER, "dnxhr_lb", "dnxhr_sq", "dnxhr_hq"})


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
    target = proxy_target(profile, source)
    dnxhr = profile.codec.startswith("dnxhr")
    if dnxhr and (target.width < DNXHR_MIN_SIZE[0] or target.height < DNXHR_MIN_SIZE[1]):
        return f"the output frame {target.width}x{target.height} is below DNxHR's minimum of 256x120"
    if dnxhr and target.interlaced:
        return "the source is interlaced, and FFmpeg's DNxHR encoder codes progressive pictures only"
    colour = colour_unconvertible(target.colour)
    if colour:
        return colour
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


def pixel_format(codec: str) -> str:
    """The encoder's pixel format: proxies carry no alpha; ProRes 10 bits, DNxHR LB/SQ and H.264 8."""
    if codec in PRORES_PROFILE_NUMBER:
        return "yuv444p10le" if codec == "prores_4444" else "yuv422p10le"
    return "yuv422p" if codec.startswith("dnxhr") else "yuv420p"


def _video_args(profile: CanonicalProfile, target: ProxyTarget) -> list[str]:
    codec = profile.codec
    pix_fmt = pixel_format(codec)
    if codec in PRORES_PROFILE_NUMBER:
        profile_number = str(PRORES_PROFILE_NUMBER[codec])
        interlaced = ["-flags", "+ildct"] if target.interlaced else []
        return ["-c:v", "prores_aw", "-profile:v", profile_number, "-vendor", "apl0", "-pix_fmt", pix_fmt, *interlaced]
    if codec.startswith("dnxhr"):
        return ["-c:v", "dnxhd", "-profile:v", codec, "-pix_fmt", pix_fmt]
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
            pix_fmt,
        ]
    raise RecipeError(f"the FFmpeg engine has no recipe for {codec}")


def build_args(
    ffmpeg: str, source: MediaInfo, destination: str, profile: CanonicalProfile, threads: int | None = None
) -> list[str]:
    """The whole ffmpeg command line for one proxy; progress blocks go to stdout. `threads`, when
    given, limits the decoder, and the encoder when its bytes do not depend on it (clips rendering side
    by side share the cores); x264 always runs with X264_THREADS."""
    limit = ["-threads", str(threads)] if threads else []
    encoder_threads = encoder_thread_count(profile, threads)
    encoder_limit = ["-threads", str(encoder_threads)] if encoder_threads else []
    why = unsupported(profile, source)
    if why or source.video is None:
        raise RecipeError(why or "the source has no video")
    target = proxy_target(profile, source)
    rate = f"{target.rate.numerator}/{target.rate.denominator}"
    args = [
        ffmpeg, "-hide_banner", "-nostdin", "-n", "-nostats", "-loglevel", "warning",
        "-progress", "pipe:1",
        *_video_lead(source),
        *limit, *input_options(source), *sound_inputs(source),  # local files, their validated demuxers
        "-map", "0:v:0", *sound_maps(source), "-map_metadata", "0", "-map_chapters", "-1",
        "-fps_mode", "cfr", "-r", rate,
        "-vf", ",".join(_filters(source, target, pixel_format(profile.codec))),
        *_video_args(profile, target), *colour_options(target.colour),
        *_audio_args(profile, source),
    ]  # fmt: skip
    if target.variable_rate and target.duration:
        # the conform must end where the source does: its last picture may last less than a slot
        args += ["-t", f"{target.duration:.6f}"]
    if target.timecode:
        args += ["-timecode", target.timecode]
    if target.reel_name:  # MOV: the video's, written into the tmcd track; MXF: the file's, its tape package
        args += ["-metadata:s:v:0" if profile.container == "mov" else "-metadata", f"reel_name={target.reel_name}"]
    if profile.container in ("mov", "mp4"):
        args += ["-write_tmcd", "1"]
    # MXF writes a random package id and the time unless told to be bit-exact.
    exact = ["-fflags", "+bitexact"] if profile.container == "mxf" else []
    return [*args, *encoder_limit, *exact, "-f", profile.container, file_url(destination)]


def encoder_thread_count(profile: CanonicalProfile, threads: int | None) -> int | None:
    """The encoder's thread count: fixed where it changes the bytes, else the clip's share (None:
    ffmpeg's own choice)."""
    if profile.codec == "h264":
        return X264_THREADS
    return threads if profile.codec in THREAD_INDEPENDENT else None


def _video_lead(source: MediaInfo) -> list[str]:
    """Start the proxy at the source's first picture. ffmpeg starts its output at the earliest stream
    of the file: in MPEG-TS and edit-listed MOV the audio often leads the video by a few
    milliseconds, and constant-rate output would then repeat the first picture to fill the gap (one
    frame too many). Seeking the input to the first picture drops the audio before it instead."""
    assert source.video is not None
    lead = (source.video.start_time or 0.0) - (source.start_time or 0.0)
    microseconds = int(lead * 1_000_000)  # rounded down: the first picture itself is never cut
    return ["-ss", f"{microseconds / 1_000_000:.6f}"] if microseconds > 0 else []


def _filters(source: MediaInfo, target: ProxyTarget, pix_fmt: str) -> list[str]:
    """The picture chain after ffmpeg's own rotation: the rate, deinterlace, scale, colour
    (converted only with both sides named, then labelled), then the exact SAR."""
    assert source.video is not None
    # Each picture to the slot of the proxy's rate nearest its time: `-fps_mode cfr` alone lets a
    # picture drift up to 1.1 frames, so a capture that lost one picture had every later picture a
    # frame early (and one too many at the end).
    filters = [f"fps={target.rate.numerator}/{target.rate.denominator}"]
    if target.deinterlace:
        filters.append("bwdif=mode=send_frame:parity=auto:deint=all")
    upright = (source.video.height, source.video.width) if source.video.rotation in (90, 270) else None
    coded = upright or (source.video.width, source.video.height)
    if (target.width, target.height) != coded:
        filters.append(f"scale={target.width}:{target.height}" + (":interl=1" if target.interlaced else ""))
    filters += colour_filters(target.colour, pix_fmt)
    sar = target.sample_aspect_ratio
    filters.append(f"setsar=sar={sar.numerator}/{sar.denominator}:max={SAR_MAX}")
    if target.interlaced:
        filters.append("setfield=" + ("tff" if target.top_field_first else "bff"))
    return filters
