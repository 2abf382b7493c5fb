"""The media demuxers proxx lets ffprobe and ffmpeg open a source with (see `proxx.validate.trust`).

ffprobe demuxer names (the first name of its `format_name`) of the containers camera and editorial
media come in. Everything else - hls, concat, tty (text), image2 and the *_pipe image readers, lavfi,
the network and device demuxers - is refused.
"""

from __future__ import annotations

MEDIA_DEMUXERS = (
    "mov",  # mov,mp4,m4a,3gp,3g2,mj2
    "mxf",
    "mpegts",
    "matroska",  # matroska,webm
    "avi",
    "dv",
    "mpeg",  # MPEG program stream
    "mpegvideo",
    "gxf",
    "asf",
    "flv",
    "h264",
    "hevc",
    "m4v",
)


def demuxer_options() -> dict[str, str]:
    """How every media file is opened: local files only, and only media demuxers (a playlist never
    opens the files it names)."""
    return {"protocol_whitelist": "file", "format_whitelist": ",".join(MEDIA_DEMUXERS)}


def probe_restrictions() -> list[str]:
    """`demuxer_options` as ffprobe's and ffmpeg's input options."""
    return [word for name, value in demuxer_options().items() for word in (f"-{name}", value)]
