"""The FFmpeg engine: renders canonical profiles whose `engine` is `ffmpeg`."""

from __future__ import annotations

from proxx import Availability, Engine
from proxx.media.tools import find_tool


class FFmpegEngine(Engine):
    name = "ffmpeg"
    display_name = "FFmpeg"

    def availability(self) -> Availability:
        ffmpeg, ffprobe = find_tool("ffmpeg"), find_tool("ffprobe")
        if ffmpeg is None or ffprobe is None:
            missing = " and ".join(n for n, t in (("ffmpeg", ffmpeg), ("ffprobe", ffprobe)) if t is None)
            return Availability(False, f"{missing} not found")
        return Availability(True, version=ffmpeg.version)
