"""Sample media made with ffmpeg's test sources: for `proxx demo`, the test suite and plugin authors.

The clips look like camera originals: an exact rational frame rate, a start timecode, audio
streams with the requested channel counts, and a complete colour description (the default for
their picture size, `proxx.media.colour`), the test pattern converted to YUV with that matrix.
"""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from pathlib import Path

import attrs

from proxx.media.colour import FULL, SWSCALE_MATRIX, colour_target, default_colour
from proxx.media.probe import file_url
from proxx.media.tools import require_tool

LAYOUTS = {1: "mono", 2: "stereo", 6: "5.1", 8: "7.1"}
VIDEO_CODECS = {
    "h264": ["-c:v", "libx264", "-preset", "ultrafast", "-crf", "18", "-pix_fmt", "yuv420p"],
    "prores": ["-c:v", "prores_aw", "-profile:v", "2", "-pix_fmt", "yuv422p10le"],
    "ffv1": ["-c:v", "ffv1", "-pix_fmt", "yuv444p"],  # 4:4:4 takes odd frame sizes
    "mjpeg": ["-c:v", "mjpeg", "-pix_fmt", "yuvj420p"],
}
FULL_RANGE_CODECS = frozenset({"mjpeg"})


def make_clip(
    path: Path,
    *,
    size: str = "320x180",
    rate: str = "24000/1001",
    frames: int = 24,
    audio: Sequence[int] = (2,),
    sample_rate: int = 48000,
    timecode: str | None = "01:00:00:00",
    video_codec: str = "h264",
    audio_codec: str = "pcm_s24le",
    sar: str | None = None,
) -> Path:
    """Write a clip of `frames` frames at `rate` with one audio stream per entry of `audio`
    (its channel count). Returns `path`; its extension chooses the container (.mov, .mp4, .mxf, ...).

    Options:
      size: "WxH", the coded frame size (default "320x180"; odd sizes need video_codec "ffv1").
      rate: the exact frame rate, "24000/1001" (default) or "25".
      frames: how many frames (default 24).
      audio: one entry per audio stream, its channel count (default (2,); () for no audio).
      sample_rate: of every audio stream, in Hz (default 48000).
      timecode: the start timecode, "01:00:00:00" (default), ";" before the frames for drop-frame,
        or None for none.
      video_codec: one of `VIDEO_CODECS`: "h264" (default), "prores", "ffv1", "mjpeg".
      audio_codec: an ffmpeg audio encoder (default "pcm_s24le").
      sar: the sample aspect ratio, "10:11", or None for square pixels.

    Raises ValueError for a video_codec or channel count it cannot make.
    """
    if video_codec not in VIDEO_CODECS:
        raise ValueError(f"make_clip: unknown video_codec {video_codec!r}; known: {', '.join(VIDEO_CODECS)}")
    unknown = [channels for channels in audio if channels < 1]
    if unknown:
        raise ValueError(f"make_clip: an audio stream needs at least one channel, not {unknown[0]}")
    ffmpeg = require_tool("ffmpeg")
    duration = frames * _rate_inverse(rate)
    width, _, height = size.partition("x")
    colour = default_colour(int(width), int(height))
    if video_codec in FULL_RANGE_CODECS:
        colour = attrs.evolve(colour, range=FULL)
    colour = colour_target(video_codec, colour, int(width), int(height)).output  # names the codec has
    picture = (
        f"testsrc2=size={size}:rate={rate},scale=out_color_matrix={SWSCALE_MATRIX[colour.matrix]}"
        f":out_range={colour.range},format=yuv444p,setparams=color_primaries={colour.primaries}"
        f":color_trc={colour.transfer}:colorspace={colour.matrix}:range={colour.range}"
    )
    command = [ffmpeg.path, "-hide_banner", "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi", "-i", picture]
    for n in range(len(audio)):
        command += ["-f", "lavfi", "-i", f"sine=frequency={440 + 110 * n}:sample_rate={sample_rate}"]
    command += ["-map", "0:v"]
    for n, channels in enumerate(audio):
        command += ["-map", f"{1 + n}:a", f"-ac:a:{n}", str(channels)]
        if channels in LAYOUTS:
            command += [f"-channel_layout:a:{n}", LAYOUTS[channels]]
    if audio:
        command += ["-c:a", audio_codec]
    command += ["-frames:v", str(frames), "-t", f"{duration:.6f}", *VIDEO_CODECS[video_codec]]
    command += ["-color_primaries", colour.primaries, "-color_trc", colour.transfer]
    command += ["-colorspace", colour.matrix, "-color_range", colour.range]
    if sar:
        command += ["-vf", f"setsar=sar={sar.replace(':', '/')}:max=100000"]
    if timecode:
        command += ["-timecode", timecode]
    command.append(file_url(str(path)))
    path.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(command, check=True, capture_output=True, timeout=300)
    return path


def _rate_inverse(rate: str) -> float:
    numerator, _, denominator = rate.partition("/")
    return float(denominator or 1) / float(numerator)
