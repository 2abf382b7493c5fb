"""ffprobe, read into records: the facts validation, engines and verification decide on."""

from __future__ import annotations

import json
import subprocess
from fractions import Fraction
from typing import Any

import attrs

from proxx.media.allowlist import probe_restrictions
from proxx.media.tools import require_tool

# Demuxers that read single pictures, not video.
STILL_IMAGE_FORMATS = frozenset({"image2", "png_pipe", "jpeg_pipe", "bmp_pipe", "tiff_pipe", "webp_pipe", "gif"})


class ProbeError(Exception):
    """ffprobe could not read the file; the message is ffprobe's own last word."""


@attrs.frozen
class VideoStream:
    codec: str
    profile: str
    width: int
    height: int
    sample_aspect_ratio: str
    frame_rate: str  # exact rational, as ffprobe's r_frame_rate: "24000/1001"
    pix_fmt: str
    field_order: str
    duration: float | None
    nb_frames: int | None

    @property
    def fps(self) -> Fraction:
        return parse_rate(self.frame_rate)


@attrs.frozen
class AudioStream:
    codec: str
    channels: int
    channel_layout: str
    sample_rate: int
    bits: int | None


@attrs.frozen
class MediaInfo:
    path: str
    format_name: str
    size: int
    duration: float | None
    video: VideoStream | None
    audio: tuple[AudioStream, ...]
    timecode: str | None
    brand: str = ""  # the ISO/QuickTime major brand: "qt  " for MOV, "isom" and kin for MP4

    @property
    def container(self) -> str:
        """mov, mp4 or mxf (ffprobe names MOV and MP4 alike; the major brand tells them apart)."""
        names = set(self.format_name.split(","))
        if "mxf" in names:
            return "mxf"
        if "mov" in names:
            return "mp4" if self.brand.startswith(("isom", "iso", "mp4", "avc1")) else "mov"
        return self.format_name

    @property
    def is_still_image(self) -> bool:
        names = set(self.format_name.split(","))
        return bool(names & STILL_IMAGE_FORMATS) or (self.video is not None and self.video.nb_frames == 1)

    @property
    def video_duration(self) -> float | None:
        if self.video is not None and self.video.duration is not None:
            return self.video.duration
        return self.duration


def file_url(path: str) -> str:
    """ffmpeg reads `a:b.mov` as protocol `a` and `-x.mov` as an option: the file: prefix makes
    every path (leading dash, colon, spaces, quotes, unicode) mean exactly that file."""
    return "file:" + path


def parse_rate(text: str) -> Fraction:
    numerator, _, denominator = text.partition("/")
    try:
        return Fraction(int(numerator), int(denominator or 1))
    except (ValueError, ZeroDivisionError):
        return Fraction(0)


def _float(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def parse_probe(path: str, document: dict[str, Any]) -> MediaInfo:
    streams = document.get("streams", [])
    fmt = document.get("format", {})
    video = None
    audio = []
    timecodes = [fmt.get("tags", {}).get("timecode")]
    for stream in streams:
        tags = stream.get("tags", {})
        timecodes.insert(0, tags.get("timecode"))
        kind = stream.get("codec_type")
        if kind == "video" and video is None and not stream.get("disposition", {}).get("attached_pic"):
            video = VideoStream(
                codec=stream.get("codec_name", "unknown"),
                profile=str(stream.get("profile", "")),
                width=int(stream.get("width", 0)),
                height=int(stream.get("height", 0)),
                sample_aspect_ratio=stream.get("sample_aspect_ratio", "1:1") or "1:1",
                frame_rate=stream.get("r_frame_rate", "0/0"),
                pix_fmt=stream.get("pix_fmt", ""),
                field_order=stream.get("field_order", "unknown"),
                duration=_float(stream.get("duration")),
                nb_frames=_int(stream.get("nb_frames")),
            )
        elif kind == "audio":
            audio.append(
                AudioStream(
                    codec=stream.get("codec_name", "unknown"),
                    channels=int(stream.get("channels", 0)),
                    channel_layout=stream.get("channel_layout", ""),
                    sample_rate=int(stream.get("sample_rate", 0)),
                    bits=_int(stream.get("bits_per_raw_sample")) or _int(stream.get("bits_per_sample")) or None,
                )
            )
    return MediaInfo(
        path=path,
        format_name=fmt.get("format_name", ""),
        size=int(fmt.get("size", 0) or 0),
        duration=_float(fmt.get("duration")),
        video=video,
        audio=tuple(audio),
        timecode=next((tc for tc in timecodes if tc), None),
        brand=str(fmt.get("tags", {}).get("major_brand", "")),
    )


def probe(path: str, timeout: float = 60) -> MediaInfo:
    """Probe `path`; raise ProbeError with ffprobe's last error line when it cannot be read."""
    ffprobe = require_tool("ffprobe")
    command = [
        ffprobe.path, "-v", "error", "-print_format", "json", "-show_format", "-show_streams",
        *probe_restrictions(), file_url(path),
    ]  # fmt: skip
    try:
        done = subprocess.run(command, capture_output=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as error:
        raise ProbeError(f"ffprobe did not answer within {timeout:g} seconds") from error
    stderr = done.stderr.decode("utf-8", "replace").strip()
    if done.returncode != 0:
        refused = [line for line in stderr.splitlines() if "Format not on whitelist" in line]  # not media
        last = (refused or stderr.splitlines() or [f"ffprobe exited with code {done.returncode}"])[-1]
        raise ProbeError(last.replace(file_url(path), "").replace(path, "").strip(" :") or last)
    try:
        document = json.loads(done.stdout.decode("utf-8", "replace"))
    except json.JSONDecodeError as error:
        raise ProbeError(f"ffprobe gave unreadable output: {error}") from error
    return parse_probe(path, document)
