"""ffprobe, read into records: the facts validation, engines and verification decide on."""

from __future__ import annotations

import functools
import itertools
import json
import os
import subprocess
import threading
from collections import OrderedDict
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path
from typing import Any

import attrs

from proxx import vocabulary
from proxx.media.allowlist import MEDIA_DEMUXERS, probe_restrictions
from proxx.media.colour import Colour
from proxx.media.files import separate_sound
from proxx.media.sidecar import sidecar_timecode
from proxx.media.tools import require_tool

# The rates cameras and editing systems use; a variable-rate source is conformed to one of them.
STANDARD_RATES = tuple(
    sorted(
        {Fraction(n, d) for n, d in ((24000, 1001), (30000, 1001), (60000, 1001), (120000, 1001))}
        | {Fraction(n) for n in (24, 25, 30, 48, 50, 60, 100, 120)}
    )
)
# Relative gap between the average and the nominal rate above which a stream is variable-rate.
VARIABLE_RATE_GAP = Fraction(2, 100)
# A variable-rate stream's median frame duration names its rate when within this much of a standard one.
FRAME_TIMING_SNAP = Fraction(5, 1000)
# Below this a stream's pictures are stills shown in turn, not video.
MIN_VIDEO_RATE = Fraction(1)
# How many of a variable-rate stream's first packets its frame timing is read from.
FRAME_TIMING_PACKETS = 600
INTERLACED = frozenset({"tt", "bb", "tb", "bt"})

# Demuxers that read single pictures, not video.
STILL_IMAGE_FORMATS = frozenset({"image2", "png_pipe", "jpeg_pipe", "bmp_pipe", "tiff_pipe", "webp_pipe", "gif"})


class ProbeError(Exception):
    """ffprobe could not read the file; the message is ffprobe's own last word."""


class ProbeCrashed(ProbeError):
    """ffprobe itself died (a signal) reading the file: a fault of the build, not proof against the file."""

    def __init__(self, message: str, signal_name: str = "a signal") -> None:
        super().__init__(message)
        self.signal_name = signal_name


class ProbeTimedOut(ProbeError):
    """ffprobe did not answer in time (a stalled share, a hung tool): no finding about the file either."""


@attrs.frozen
class VideoStream:
    """The first video stream, as ffprobe reads it. `width` x `height` is the coded (stored)
    picture; `rotation` (degrees, from the display matrix) and the sample aspect ratio say how it is
    shown. `proxy_target` turns these into the picture an editing system displays.

    Fields:
      codec, profile: ffprobe's codec_name and profile ("prores", "LT").
      width, height: the coded picture; sample_aspect_ratio: "1:1", "10:11", ...
      frame_rate: the exact rational rate, as ffprobe's r_frame_rate ("24000/1001").
      pix_fmt: ffprobe's pixel format ("yuv422p10le").
      field_order: progressive, tt, bb, tb, bt or unknown (ffmpeg's naming).
      duration, nb_frames: the stream's, when the container says (else None).
      avg_frame_rate: frames / duration, below frame_rate for variable-rate media.
      rotation: display rotation in degrees, counter-clockwise: 0, 90, 180 or 270.
      start_time: the stream's first timestamp, in seconds.
      repeat_fields: progressive pictures flagged to repeat a field (soft telecine: film coded at
        23.976 and shown at 29.97 through repeat-first-field flags), read from the first pictures.
      frame_duration: the median spacing of its first pictures, in seconds; read for variable-rate
        streams only (else None).
      colour: the colour description the stream states (a `Colour`; "" where it states none).
      picture_field_order: the scan its first decoded picture states ("tt", "bb" or "progressive"),
        which may differ from the stream's; read only by `probe_with_picture_colour` (else "").
    Properties: `rate`, `fps` (the exact rate an editing system gives it), `has_alpha`.
    """

    codec: str
    profile: str
    width: int
    height: int
    sample_aspect_ratio: str
    frame_rate: str  # exact rational, as ffprobe's r_frame_rate: "24000/1001"
    pix_fmt: str
    field_order: str  # progressive, tt, bb, tb, bt or unknown (ffmpeg's naming)
    duration: float | None
    nb_frames: int | None
    avg_frame_rate: str = "0/0"  # frames / duration: below frame_rate for variable-rate media
    rotation: int = 0  # display rotation in degrees, counter-clockwise, normalised to 0, 90, 180, 270
    start_time: float | None = None
    colour: Colour = attrs.field(factory=Colour)
    frame_duration: float | None = None
    repeat_fields: bool = False
    picture_field_order: str = ""

    @functools.cached_property
    def rate(self) -> Rate:  # worked out once a stream: asked several times a clip, some 40 microseconds each
        return frame_rate(self)

    @property
    def fps(self) -> Fraction:
        """The exact rate an editing system gives this stream (`frame_rate`)."""
        return self.rate.rate

    @property
    def has_alpha(self) -> bool:
        """Its pixel format carries an alpha (transparency) plane."""
        return self.pix_fmt.startswith(("yuva", "rgba", "bgra", "argb", "abgr", "gbrap", "ya", "pal8"))


@attrs.frozen
class AudioStream:
    """One audio stream, as ffprobe reads it.

    Fields:
      codec: ffprobe's codec_name ("pcm_s24le", "aac", ...).
      channels, channel_layout: the channel count and ffprobe's layout name ("stereo", "5.1", "").
      sample_rate: in Hz; bits: bits per raw sample, or None when the codec has none (AAC).
      start_time, duration: the stream's first timestamp and length in seconds, when the container
        says (else None; Matroska states no stream's duration).
    """

    codec: str
    channels: int
    channel_layout: str
    sample_rate: int
    bits: int | None
    start_time: float | None = None
    duration: float | None = None


@attrs.frozen
class MediaInfo:
    """What ffprobe says about one file: the container, the first video stream and every audio stream.

    Fields:
      path: the file probed.
      format_name: ffprobe's format_name ("mov,mp4,m4a,3gp,3g2,mj2", "mxf", "matroska,webm").
      size: in bytes; duration: the container's, in seconds (None when unknown).
      video: the first video stream, or None; audio: every audio stream, in order.
      timecode: the start timecode ("01:00:00:00"), or None.
      brand: the ISO/QuickTime major brand ("qt  " for MOV, "isom" and kin for MP4).
      start_time: the file's start time (MPEG-TS and edit-listed MOV start above zero).
      data_streams: the count of timecode, telemetry and other data tracks (not proxied).
      other_video: each video track after the first, as (track number, width, height): an
        interview's B camera, an ISO recording (not proxied, named in the clip's outcome).
      timecode_rate: the rate the first QuickTime timecode (tmcd) track counts at, as ffprobe gives
        it ("24000/1001"), or "" when there is no such track (MXF carries its timecode otherwise).
      reel_name: the reel (tape) name the file states ("A001"): a QuickTime timecode track's, or an
        MXF tape package's; "" when it states none. Editing systems relink by it with the timecode.
      sound_files: where its camera recorded the clip's sound in files of their own (a P2 card), those
        files (MXF), one for each stream of `audio`, which is each one's first stream; () when the
        file's own streams are its sound.
    Properties: `container` (the canonical container name), `demuxer`, `video_duration`,
    `is_still_image`.
    """

    path: str
    format_name: str
    size: int
    duration: float | None
    video: VideoStream | None
    audio: tuple[AudioStream, ...]
    timecode: str | None
    brand: str = ""  # the ISO/QuickTime major brand: "qt  " for MOV, "isom" and kin for MP4
    start_time: float | None = None  # of the file: MPEG-TS and edit-listed MOV start above zero
    data_streams: int = 0  # timecode, GPS/telemetry and other data tracks (not proxied)
    other_video: tuple[tuple[int, int, int], ...] = ()  # (track number, width, height) after the first
    timecode_rate: str = ""  # the first tmcd track's rate ("24000/1001"), "" without one
    reel_name: str = ""  # the reel (tape) name of its timecode track or tape package, "" without one
    sound_files: tuple[str, ...] = ()  # a P2 clip's sound files, one for each of `audio`

    @property
    def container(self) -> str:
        """mov, mp4 or mxf (ffprobe names MOV and MP4 alike; the major brand tells them apart), a
        container a plugin declared with this file's format_name, else ffprobe's format_name."""
        names = set(self.format_name.split(","))
        if "mxf" in names:
            return "mxf"
        if "mov" in names:
            return "mp4" if self.brand.startswith(("isom", "iso", "mp4", "avc1")) else "mov"
        return vocabulary.container_of(self.format_name) or self.format_name

    @property
    def demuxer(self) -> str | None:
        """The demuxer the file was read with when it is one proxx accepts as media (e.g. "mov",
        "mxf", "mpegts"), else None. An engine opens a validated source with this demuxer only, so
        a file swapped after validation cannot bring in a playlist or any other format."""
        name = self.format_name.split(",")[0]
        return name if name in MEDIA_DEMUXERS else None

    @property
    def is_still_image(self) -> bool:
        """Read by an image demuxer: a picture file, not a video (a video of one frame is a video)."""
        return bool(set(self.format_name.split(",")) & STILL_IMAGE_FORMATS)

    @property
    def video_duration(self) -> float | None:
        """Seconds of its video stream, else of the file, or None when neither says."""
        if self.video is not None and self.video.duration is not None:
            return self.video.duration
        return self.duration


def file_url(path: str) -> str:
    """ffmpeg reads `a:b.mov` as protocol `a` and `-x.mov` as an option: the file: prefix makes
    every path (leading dash, colon, spaces, quotes, unicode) mean exactly that file."""
    return "file:" + path


@attrs.frozen
class Rate:
    """A stream's frame rate as an editing system uses it."""

    rate: Fraction  # exact: 24000/1001
    variable: bool  # the source's frames are not evenly spaced; the proxy conforms them to `rate`


def _close(a: Fraction, b: Fraction) -> bool:
    return b > 0 and abs(a - b) <= VARIABLE_RATE_GAP * b


def frame_rate(video: VideoStream) -> Rate:
    """The exact rate of `video`. ffprobe's r_frame_rate is the stream's base rate (for interlaced
    H.264 it is the field rate, twice the frame rate); its avg_frame_rate is frames over duration.
    A variable-rate stream (average more than 2 % off its base rate) takes its rate from its frame
    timing: the median frame duration, when within 0.5 % of a standard rate, else the standard rate
    nearest its average; never its declared or tick rate alone (phones and recorders declare 60 or
    600 for 30 fps pictures). Pictures less than one a second apart (a slideshow) have no editing
    rate: such a stream is conformed to the lowest standard rate, which the sparse-source bound
    (`proxx.media.policy.CONFORM_BOUND`) then refuses when it holds few pictures."""
    rate = _frame_rate(video)
    if 0 < rate.rate < MIN_VIDEO_RATE:  # a few pictures far apart (a slideshow): no editing rate
        return Rate(STANDARD_RATES[0], True)
    return rate


def _frame_rate(video: VideoStream) -> Rate:
    real, average = parse_rate(video.frame_rate), parse_rate(video.avg_frame_rate)
    if video.repeat_fields and real > 0:  # soft telecine: the coded film rate, 2 of every 5 fields
        return Rate(_nearest_standard(real * Fraction(2, 5)), False)
    if average <= 0 or (real > 0 and average > real):  # no average, or a nonsense one (raw DV says 60000)
        return Rate(real, False)
    if real <= 0 or _close(average, real):
        return Rate(real if real > 0 else _nearest_standard(average), False)
    if _close(average * 2, real) and video.field_order in INTERLACED:
        return Rate(real / 2, False)
    timed = _standard_within(1 / Fraction(video.frame_duration), FRAME_TIMING_SNAP) if video.frame_duration else None
    if timed is not None:  # the pictures' own spacing: a declared or tick rate is not their rate
        return Rate(timed, True)
    return Rate(_nearest_standard(average), True)


def _standard_within(rate: Fraction, tolerance: Fraction) -> Fraction | None:
    nearest = _nearest_standard(rate)
    return nearest if abs(nearest - rate) <= tolerance * nearest else None


def _nearest_standard(rate: Fraction) -> Fraction:
    return min(STANDARD_RATES, key=lambda standard: (abs(standard - rate), -standard))


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


def _rotation(stream: dict[str, Any]) -> int:
    """Display rotation in degrees (0, 90, 180, 270) from the display matrix, or the legacy
    `rotate` tag; which way it turns does not matter to the frame size, only to the picture."""
    value: Any = stream.get("tags", {}).get("rotate")
    for side in stream.get("side_data_list", ()):
        if side.get("side_data_type") == "Display Matrix" and "rotation" in side:
            value = side["rotation"]
    number = _float(value)
    return 0 if number is None else round(number / 90) * 90 % 360


def _timecode(fmt: dict[str, Any], streams: list[dict[str, Any]]) -> str | None:
    """The start timecode from wherever the container carries it: the video stream's tag (MOV,
    MXF source package), a tmcd/data track, then the file's (MXF material package, DV). Matroska
    spells its tags in capitals (TIMECODE)."""

    def tag(tags: dict[str, Any]) -> Any:
        return tags.get("timecode") or tags.get("TIMECODE")

    ordered = sorted(streams, key=lambda s: {"video": 0, "data": 1}.get(s.get("codec_type", ""), 2))
    candidates = [tag(s.get("tags", {})) for s in ordered]
    candidates.append(tag(fmt.get("tags", {})))
    return next((tc for tc in candidates if tc), None)


def stated_colour(entry: dict[str, Any]) -> Colour:
    """The colour description a stream (or a frame) of ffprobe's output states."""
    return Colour(
        str(entry.get("color_primaries", "")),
        str(entry.get("color_transfer", "")),
        str(entry.get("color_space", "")),
        str(entry.get("color_range", "")),
    )


def parse_probe(path: str, document: dict[str, Any]) -> MediaInfo:
    streams = document.get("streams", [])
    fmt = document.get("format", {})
    video = None
    audio = []
    data_streams = 0
    other_video: list[tuple[int, int, int]] = []
    timecode_rate = ""
    for stream in streams:
        kind = stream.get("codec_type")
        if kind == "data":
            data_streams += 1
            if stream.get("codec_tag_string") == "tmcd" and not timecode_rate:
                # The tmcd sample's frame duration over its time scale: what its timecode counts at.
                timecode_rate = str(stream.get("avg_frame_rate", "0/0"))
        picture = kind == "video" and not stream.get("disposition", {}).get("attached_pic")
        if picture and video is not None:
            other_video.append((len(other_video) + 2, int(stream.get("width", 0)), int(stream.get("height", 0))))
        if picture and video is None:
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
                avg_frame_rate=stream.get("avg_frame_rate", "0/0"),
                rotation=_rotation(stream),
                start_time=_float(stream.get("start_time")),
                colour=stated_colour(stream),
            )
        elif kind == "audio":
            audio.append(
                AudioStream(
                    codec=stream.get("codec_name", "unknown"),
                    channels=int(stream.get("channels", 0)),
                    channel_layout=stream.get("channel_layout", ""),
                    sample_rate=int(stream.get("sample_rate", 0)),
                    bits=_int(stream.get("bits_per_raw_sample")) or _int(stream.get("bits_per_sample")) or None,
                    start_time=_float(stream.get("start_time")),
                    duration=_float(stream.get("duration")),
                )
            )
    return MediaInfo(
        path=path,
        format_name=fmt.get("format_name", ""),
        size=int(fmt.get("size", 0) or 0),
        duration=_float(fmt.get("duration")),
        video=video,
        audio=tuple(audio),
        timecode=_timecode(fmt, streams) or _frame_timecode(document),
        brand=str(fmt.get("tags", {}).get("major_brand", "")),
        start_time=_float(fmt.get("start_time")),
        data_streams=data_streams,
        other_video=tuple(other_video),
        timecode_rate=timecode_rate,
        reel_name=next((str(s["tags"]["reel_name"]) for s in streams if s.get("tags", {}).get("reel_name")), ""),
    )


def _frame_timecode(document: dict[str, Any]) -> str | None:
    """A timecode carried in the first video frame (MPEG-2 GOP header in HDV/XDCAM transport
    streams, H.264 SEI), read only when the container has none."""
    for frame in document.get("frames", ()):
        for side in frame.get("side_data_list", ()):
            if side.get("timecode"):
                return str(side["timecode"])
            for entry in side.get("timecodes", ()):
                if entry.get("value"):
                    return str(entry["value"])
        if frame.get("tags", {}).get("timecode"):
            return str(frame["tags"]["timecode"])
    return None


# Containers whose timecode may live only in the video frames (GOP header, SEI).
FRAME_TIMECODE_FORMATS = frozenset({"mpegts", "mpeg", "mpegvideo", "h264", "hevc"})
# What the first frames say when the container does not: timecode, the scan (raw DV states none),
# and repeated fields (soft telecine: MPEG-2 repeat_first_field, H.264 pic_struct).
_FIRST_FRAMES = [
    "-select_streams", "v:0", "-read_intervals", "%+#4", "-show_frames",
    "-show_entries", "frame=interlaced_frame,top_field_first,repeat_pict,side_data_list:frame_tags=timecode",
]  # fmt: skip


# Probes remembered by file identity, so each file is probed once per job (and per process):
# validation's source probe serves verification and Fabric's fingerprint. Verification's output
# probe is not remembered (`probe_with_picture_colour`).
_PROBED: OrderedDict[tuple[int, int, int, int], MediaInfo] = OrderedDict()
_PROBING: dict[tuple[int, int, int, int], threading.Event] = {}  # set when that probe has ended
_PROBED_LOCK = threading.Lock()
PROBES_REMEMBERED = 4096


def probe(path: str, timeout: float = 60) -> MediaInfo:
    """Probe `path`; raise ProbeError with ffprobe's last error line when it cannot be read. The
    first two video frames are read too (a few milliseconds) only when the container states no
    field order, or, for MPEG streams, no timecode (an MPEG-2 GOP timecode shows from the 2nd packet).
    A file probed before, unchanged since (device, inode, size, modification time), is not probed
    again; the answer names the path asked for. `probe` reads sources as a camera recorded them: a
    file that states no start timecode takes the one its camera wrote in the XML beside it (a Sony
    camera's `C0001M01.XML`), and a P2 card's clip its sound from the files its camera recorded it
    in (`MediaInfo.sound_files`)."""
    return _remembered(path, timeout, _probe_source)


def _probe_source(path: str, timeout: float) -> MediaInfo:
    info = _probe(path, timeout)
    video, duration = info.video, info.video_duration
    if video is None:
        return info
    if info.timecode is None:
        rate = video.rate.rate
        pictures = video.nb_frames or (round(duration * rate) if duration else None)
        embedded = info.brand.startswith("XAVC")  # Sony's MP4, which keeps a copy of its sidecar
        info = attrs.evolve(info, timecode=sidecar_timecode(path, rate, pictures, embedded))
    sound_files = separate_sound(Path(path))
    if not sound_files:
        return info
    streams = tuple(clip_sound(str(sound_file), timeout) for sound_file in sound_files)
    return attrs.evolve(info, audio=streams, sound_files=tuple(map(str, sound_files)))


def clip_sound(sound_file: str, timeout: float = 60) -> AudioStream:
    """The sound a P2 clip's sound file holds: its one audio stream, in MXF; ProbeError for a file
    that is not one."""
    heard = probe(sound_file, timeout)
    if not heard.audio or heard.demuxer != "mxf" or heard.video is not None:
        raise ProbeError(f"{sound_file}: not a sound file of a clip (an MXF audio stream, no pictures)")
    return heard.audio[0]


def probe_afresh(path: str, timeout: float = 60) -> MediaInfo:
    """`probe(path)` read now and not remembered: for a file read once (a proxy being verified)."""
    return _probe(path, timeout)


def probe_with_picture_colour(path: str, timeout: float = 60) -> tuple[MediaInfo, Colour | None]:
    """`probe(path)` and `first_frame_colour(path)`, from one ffprobe run when it can be: the
    streams are read with the file's first two packets decoded, which hold exactly one packet of the
    first video stream in a proxy as ffmpeg writes it (a timecode or an audio packet, then the
    picture). Its picture is then the one `first_frame_colour` decodes alone; otherwise (two
    pictures first, or none) the picture is read on its own. The answer is the same either way.
    Verification reads each output it made this way, once: the answer is not remembered (nothing
    in the job asks for it again, and a 1,000-clip job held 1,000 of them to its end)."""
    document = _ffprobe(path, _WITH_FIRST_PACKETS, timeout)
    known, picture = _first_video_frame(document)
    info = _probe(path, timeout, document)
    if info.video is None:
        return info, None
    if not known:
        picture = _first_frame(path, timeout)
    if picture is None:
        return info, None
    scan = _frame_scan({"frames": [picture]}) or ""
    return attrs.evolve(info, video=attrs.evolve(info.video, picture_field_order=scan)), stated_colour(picture)


# What a first picture states: its colour, and its scan (a ProRes frame header codes its fields in
# an order of its own, which may not be the one its container states).
_PICTURE_ENTRIES = "color_range,color_space,color_primaries,color_transfer,interlaced_frame,top_field_first"
# The streams, with the file's first two packets (of any stream: -select_streams would cut the
# streams section down to the stream it selects) counted and decoded.
_WITH_FIRST_PACKETS = [
    "-show_format", "-show_streams", "-show_frames", "-count_packets", "-read_intervals", "%+#2",
    "-show_entries", f"frame=stream_index,{_PICTURE_ENTRIES}",
]  # fmt: skip


def _first_video_frame(document: dict[str, Any]) -> tuple[bool, dict[str, Any] | None]:
    """(whether it is known, what it is): the first picture of the first video stream (ffprobe's
    v:0) as ffprobe shows it, known when exactly one packet of that stream was decoded (what
    `first_frame_colour` decodes), None when it gave no picture. The frames and packet counts are
    taken out of `document`, which is then what `-show_format -show_streams` prints."""
    frames = document.pop("frames", None) or []
    streams = document.get("streams", ())
    read = {s.get("index"): _int(s.pop("nb_read_packets", None)) for s in streams}
    first = next((s.get("index") for s in streams if s.get("codec_type") == "video"), None)
    if first is None or read.get(first) != 1:
        return False, None
    return True, next((f for f in frames if f.get("stream_index") == first), None)


def _remembered(path: str, timeout: float, read: Callable[[str, float], MediaInfo]) -> MediaInfo:
    """`read(path, timeout)`, or what it gave for this file (same identity) earlier in this process."""
    try:
        st = os.stat(path)
    except OSError:
        return read(path, timeout)  # ffprobe says why it cannot be read
    identity = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)
    while True:
        with _PROBED_LOCK:
            known = _PROBED.get(identity)
            if known is not None:
                _PROBED.move_to_end(identity)
                return attrs.evolve(known, path=path)
            running = _PROBING.get(identity)
            if running is None:
                _PROBING[identity] = threading.Event()
                break
        if not running.wait(timeout):  # the same file is being probed: its answer serves both
            return read(path, timeout)
    try:
        info = read(path, timeout)
        with _PROBED_LOCK:
            _PROBED[identity] = info
            while len(_PROBED) > PROBES_REMEMBERED:
                _PROBED.popitem(last=False)
    finally:
        with _PROBED_LOCK:
            _PROBING.pop(identity).set()  # a failed probe is not remembered: a waiter probes again
    return info


def _probe(path: str, timeout: float, document: dict[str, Any] | None = None) -> MediaInfo:
    """The facts of `path`, from `document` (ffprobe's format and streams sections, without frames)
    when the caller has read it already."""
    if document is None:
        document = _ffprobe(path, ["-show_format", "-show_streams"], timeout)
    info = parse_probe(path, document)
    video = info.video
    if video is None:
        return info
    needs_timecode = info.timecode is None and bool(FRAME_TIMECODE_FORMATS & set(info.format_name.split(",")))
    real, average = parse_rate(video.frame_rate), parse_rate(video.avg_frame_rate)
    field_rate = average > 0 and real > average * Fraction(3, 2)  # a base rate of fields: interlaced or pulldown
    # DV's pictures say their own scan (a MOV around them often says "progressive" of interlaced DV).
    if needs_timecode or video.field_order in ("unknown", "") or field_rate or video.codec == "dvvideo":
        frames = _ffprobe(path, _FIRST_FRAMES, timeout)
        scan = _frame_scan(frames) or video.field_order
        info = attrs.evolve(
            info,
            timecode=info.timecode or _frame_timecode(frames),
            video=attrs.evolve(video, field_order=scan, repeat_fields=scan == "progressive" and _repeats(frames)),
        )
        video = info.video
        assert video is not None
    if frame_rate(video).variable:
        timing = ["-select_streams", "v:0", "-read_intervals", f"%+#{FRAME_TIMING_PACKETS}", "-show_entries",
                  "packet=pts_time,dts_time"]  # fmt: skip
        info = attrs.evolve(
            info, video=attrs.evolve(video, frame_duration=_median_spacing(_ffprobe(path, timing, timeout)))
        )
    return info


def _median_spacing(document: dict[str, Any]) -> float | None:
    """The median time between consecutive pictures (presentation order), or None below two."""
    times = sorted(
        t for t in (_float(p.get("pts_time", p.get("dts_time"))) for p in document.get("packets", ())) if t is not None
    )
    gaps = sorted(b - a for a, b in itertools.pairwise(times) if b > a)
    return gaps[len(gaps) // 2] if gaps else None


def first_frame_colour(path: str, timeout: float = 60) -> Colour | None:
    """The colour description the first decoded picture states (the ProRes frame header, the
    H.264/HEVC VUI), which may differ from what the container says; None when no frame decodes."""
    picture = _first_frame(path, timeout)
    return None if picture is None else stated_colour(picture)


def _first_frame(path: str, timeout: float) -> dict[str, Any] | None:
    """The first decoded picture of the first video stream, as ffprobe shows it, or None."""
    first = ["-select_streams", "v:0", "-read_intervals", "%+#1", "-show_frames", "-show_entries",
             f"frame={_PICTURE_ENTRIES}"]  # fmt: skip
    frames = _ffprobe(path, first, timeout).get("frames") or []
    return frames[0] if frames else None


def _signal_name(number: int) -> str:
    import signal

    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def _repeats(document: dict[str, Any]) -> bool:
    """Whether any of the first pictures is flagged to repeat a field (soft telecine)."""
    return any(_int(frame.get("repeat_pict")) for frame in document.get("frames", ()))


def _frame_scan(document: dict[str, Any]) -> str | None:
    """The field order the first frame is flagged with; None when no frame was read."""
    for frame in document.get("frames", ()):
        if "interlaced_frame" in frame:
            if not _int(frame.get("interlaced_frame")):
                return "progressive"
            return "tt" if _int(frame.get("top_field_first")) else "bb"
    return None


def _ffprobe(path: str, what: list[str], timeout: float) -> dict[str, Any]:
    ffprobe = require_tool("ffprobe")
    command = [ffprobe.path, "-v", "error", "-print_format", "json", *what, *probe_restrictions(), file_url(path)]
    try:
        done = subprocess.run(command, capture_output=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as error:
        raise ProbeTimedOut(f"ffprobe did not answer within {timeout:g} seconds") from error
    stderr = done.stderr.decode("utf-8", "replace").strip()
    if done.returncode < 0:
        signal_name = _signal_name(-done.returncode)
        raise ProbeCrashed(f"ffprobe ({ffprobe.path}) crashed with {signal_name} while reading it", signal_name)
    if done.returncode != 0:
        refused = [line for line in stderr.splitlines() if "Format not on whitelist" in line]  # not media
        last = (refused or stderr.splitlines() or [f"ffprobe exited with code {done.returncode}"])[-1]
        raise ProbeError(last.replace(file_url(path), "").replace(path, "").strip(" :") or last)
    try:
        document: dict[str, Any] = json.loads(done.stdout.decode("utf-8", "replace"))
    except json.JSONDecodeError as error:
        raise ProbeError(f"ffprobe gave unreadable output: {error}") from error
    return document


def remembered(path: str) -> bool:
    """Whether `probe(path)` would answer from memory: the file was probed before, unchanged since.
    Callers probing many files start threads only for the others (answering from memory is a few
    microseconds of Python, which threads only slow down)."""
    try:
        st = os.stat(path)
    except OSError:
        return False
    with _PROBED_LOCK:
        return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns) in _PROBED
