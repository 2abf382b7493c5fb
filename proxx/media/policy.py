"""The media policy: what a proxy of a given source must be, so an editing system relinks it and the
editor sees the same picture. Every engine renders to a `ProxyTarget` and verification checks the
output against the same target; the README's "Media policy" section is this module in prose.

* Geometry. A source is displayed as its coded picture turned by its rotation and stretched by its
  sample aspect ratio (SAR). Proxies are rendered upright (the rotation applied to the pixels, no
  rotation metadata), keep the source's SAR, and are sized on the displayed picture
  (`proxx.media.geometry`). Verification compares display aspect ratios, so a squashed or stretched
  picture fails whatever its SAR says.
* Frame rate. A constant-rate source keeps its exact rate. A variable-rate source (phones, screen
  recordings) becomes constant-rate at its nominal rate, with the source's duration: frames are
  repeated or dropped to their nearest slot, as every editing system conforms such media anyway.
* Scan. Intraframe editorial profiles (ProRes, DNxHR, DNxHD) keep an interlaced source interlaced,
  with its field order; long-GOP review profiles (H.264, HEVC) deinterlace to progressive at the same
  frame rate (one frame per frame, both fields blended by motion-adaptive interpolation).
* Audio. Every audio stream is kept with its channel count (8 mono camera tracks stay 8 tracks); an
  unlabelled stream reads back with its channel count's default label; sample rates are kept except
  where the container forces one (MXF: 48 kHz, and no layout label). Each keeps its sync with the
  picture (its offset from the first picture, as the source has it) and its length; what of it lies
  before the first picture is left out, as is what lies after the last one of a conformed
  variable-rate source (which ends where its pictures do) or of an MXF proxy (whose tracks share the
  pictures' duration).
* Timecode. The source's start timecode, wherever it was carried (see `proxx.media.probe`), drop
  frame included; none when the source has none (MXF always carries one: 00:00:00:00).
* Start. A source that starts above zero (MPEG-TS, edit lists) gives a proxy of the same duration
  that starts at zero, its timecode still the source's.
* Alpha. Editorial proxies carry no alpha channel: a source's alpha is dropped.
* Colour. Every proxy states a definite colour description, the source's where it states one,
  else the default for its picture size, converted only explicitly (`proxx.media.colour`).
"""

from __future__ import annotations

import math
from fractions import Fraction

import attrs

from proxx.compile.profiles import CanonicalProfile
from proxx.media.colour import ColourTarget, colour_target, source_colour
from proxx.media.geometry import display_aspect, frame_size, upright
from proxx.media.probe import INTERLACED, AudioStream, MediaInfo, VideoStream, parse_rate

# ffmpeg's field orders name the field coded first, then the one displayed first.
TOP_FIRST = frozenset({"tt", "bt"})
# Profiles whose codec is long-GOP: deinterlaced for review.
DEINTERLACED_FAMILIES = frozenset({"h264", "h265", "hevc"})
MXF_SAMPLE_RATE = 48000
MXF_NO_TIMECODE = "00:00:00:00"
DEFAULT_LAYOUTS = {1: "mono", 2: "stereo"}
# AAC and ALAC have no "side" surround configurations; the same speakers read back as plain 5.1.
CODED_LAYOUT = {"5.1(side)": "5.1", "5.0(side)": "5.0"}


def deinterlaces(profile: CanonicalProfile) -> bool:
    return profile.codec_family in DEINTERLACED_FAMILIES


def is_interlaced(video: VideoStream) -> bool:
    return video.field_order in INTERLACED


def top_field_first(field_order: str) -> bool:
    """Whether ffprobe's `field_order` ("tt", "bt", ...) shows the top field first."""
    return field_order in TOP_FIRST


@attrs.frozen
class AudioTarget:
    """One audio stream of the proxy, as the media policy wants it (one per source stream, in order).

    Fields:
      channels: its channel count; sample_rate: in Hz.
      layout: its channel layout ("stereo", "5.1"), or None when the source's is unlabelled (then any
        label of that many channels is right).
      start: where it starts, in seconds after the proxy's first picture (the source's own offset
        from its first picture, 0 when it started before it), or None when the source does not say.
      duration: its length in seconds (the source stream's, less what is left out before the first
        picture and, for a conformed variable-rate source or in MXF, after the last), or None when
        the source does not say.
      bits: for the audio policies "pcm" and "copy" (written in another codec than the source's),
        the least bits per sample the stream keeps: a lossless source's own, at most 24; 16 for a
        lossy one (AAC). None for other policies.

    .. versionchanged:: 1.2
       `bits`, so that an engine writing PCM reads the depth verification checks.
    """

    channels: int
    sample_rate: int
    layout: str | None  # None: the source is unlabelled, any label of `channels` channels is right
    start: float | None = None
    duration: float | None = None
    bits: int | None = None


@attrs.frozen
class ProxyTarget:
    """What the proxy of one source must be (`proxy_target`): what engines render to and what
    verification checks.

    Fields:
      width, height: the coded output frame, upright (rotation applied), even.
      sample_aspect_ratio: the output's SAR, keeping the source's display aspect.
      display_aspect: the source's display aspect ratio.
      rotation: the source's rotation, which the output renders into its pixels.
      rate: the exact constant output frame rate; variable_rate: the source's was variable.
      field_order: "progressive", or the source's interlaced field order when kept.
      deinterlace: True when the engine must deinterlace (long-GOP profiles of interlaced sources).
      duration: the source's video duration in seconds; the output matches it within a frame.
      timecode: the start timecode the output carries, or None.
      audio: per source audio stream, the channels, sample rate and layout the output keeps.
      colour: the source's colour and the one the proxy states (a `ColourTarget`).
      reel_name: the source's reel name, which a MOV output's timecode track and an MXF output's tape
        package carry; "" for a source without one and for MP4.
    Properties: `interlaced`, `top_field_first` (an interlaced output's field dominance).
    """

    width: int  # coded, upright
    height: int
    sample_aspect_ratio: Fraction
    display_aspect: Fraction  # the source's, as displayed
    rotation: int  # the source's rotation, rendered into the pixels
    rate: Fraction
    variable_rate: bool
    field_order: str  # "progressive", or the source's interlaced field order
    deinterlace: bool
    duration: float | None
    timecode: str | None
    audio: tuple[AudioTarget, ...]
    colour: ColourTarget
    reel_name: str = ""

    @property
    def interlaced(self) -> bool:
        """The output keeps the source's interlaced fields (`field_order` is not "progressive")."""
        return self.field_order in INTERLACED

    @property
    def top_field_first(self) -> bool:
        """The output's top field is displayed first (ffprobe's `field_order` "tt" or "bt")."""
        return top_field_first(self.field_order)


# A constant-rate proxy may make at most this many times the pictures its source holds: beyond it
# the source's timestamps are sparse (a few pictures spread over a long time), and a conform would
# turn a small file into hours of a worker's time for a proxy of repeated pictures.
CONFORM_BOUND = 4


def conform_pictures(video: VideoStream, duration: float | None) -> tuple[int, int] | None:
    """(pictures a constant-rate proxy of `video` makes over `duration`, pictures `video` holds), or
    None when either is unknown."""
    held = video.nb_frames
    average = parse_rate(video.avg_frame_rate)
    if not held and average > 0 and duration:
        held = round(average * Fraction(duration))
    if not held or not duration:
        return None
    return math.ceil(video.rate.rate * Fraction(duration)), held


# Audio codecs that keep every sample exactly (A-law and mu-law are 8-bit companded: lossy).
LOSSLESS_AUDIO = ("pcm_", "alac", "flac")
LOSSY_PCM = frozenset({"pcm_alaw", "pcm_mulaw", "pcm_vidc"})
# A lossless stream keeps at least its source's bits per sample, up to this many (32-bit integer and
# float sources are written as 24-bit PCM, what every editing system takes).
KEPT_BITS = 24
# Of a source whose codec states no bit depth (AAC, MP3: decoded), at least this many.
DECODED_BITS = 16


def lossless_audio(codec: str) -> bool:
    return codec.startswith(LOSSLESS_AUDIO) and codec not in LOSSY_PCM


def _audio_target(profile: CanonicalProfile, stream: AudioStream, video: VideoStream, end: float | None) -> AudioTarget:
    """`end`: where the proxy's pictures end on the source's clock when the audio is cut there too
    (a conformed variable-rate source), else None."""
    start, duration = _audio_span(stream, video.start_time, end)
    bits = None
    if profile.audio in ("pcm", "copy"):
        bits = min(stream.bits or DECODED_BITS, KEPT_BITS) if lossless_audio(stream.codec) else DECODED_BITS
    if profile.container == "mxf":  # MXF stores PCM at 48 kHz only, and no channel-layout label
        return AudioTarget(stream.channels, MXF_SAMPLE_RATE, None, start, duration, bits)
    label = stream.channel_layout or None
    if label is not None and (profile.audio == "aac" or profile.container == "mp4"):
        label = CODED_LAYOUT.get(label, label)
    return AudioTarget(stream.channels, stream.sample_rate, label, start, duration, bits)


def _audio_span(
    stream: AudioStream, first_picture: float | None, end: float | None
) -> tuple[float | None, float | None]:
    """(start after the first picture, duration) of what the proxy keeps of `stream`: the proxy starts
    at the source's first picture, so audio before it is left out (the engines seek to that picture)."""
    if stream.start_time is None or first_picture is None:
        return None, stream.duration  # nothing to measure the offset from: the length uncut
    start = max(stream.start_time, first_picture)
    if stream.duration is None:
        return start - first_picture, None
    stop = stream.start_time + stream.duration
    if end is not None:
        stop = min(stop, end)
    return start - first_picture, max(stop - start, 0.0)


def proxy_target(profile: CanonicalProfile, source: MediaInfo) -> ProxyTarget:
    """What `profile` promises for `source` (which has video: validation refused anything else)."""
    video = source.video
    if video is None:
        raise ValueError(f"{source.path} has no video stream")
    width, height = frame_size(profile, video)
    rate = video.rate
    deinterlace = deinterlaces(profile) and is_interlaced(video)
    field_order = video.field_order if is_interlaced(video) and not deinterlace else "progressive"
    return ProxyTarget(
        width=width,
        height=height,
        sample_aspect_ratio=upright(video)[2],
        display_aspect=display_aspect(video),
        rotation=video.rotation,
        rate=rate.rate,
        variable_rate=rate.variable,
        field_order=field_order,
        deinterlace=deinterlace,
        duration=source.video_duration,
        timecode=source.timecode,
        audio=tuple(
            _audio_target(
                profile, _measured(stream, source), video, _picture_end(video, source, rate.variable, profile.container)
            )
            for stream in source.audio
        ),
        colour=video_colour(profile, video),
        reel_name=_reel_name(profile.container, source),
    )


def _reel_name(container: str, source: MediaInfo) -> str:
    """The source's reel name where the proxy's container names one, as editing systems read it to
    relink a proxy by reel and timecode: MXF in a tape package, MOV in its timecode track (so only
    with a timecode). MP4's timecode track has no field for it."""
    return source.reel_name if container == "mxf" or (container == "mov" and source.timecode) else ""


# Containers whose audio stream durations ffprobe estimates rather than reads: an AC-3 track of an
# MPEG-TS clip of 1.024 s was given as 0.928 s (three coded frames short), so the proxy's audio is
# checked for its start only.
ESTIMATED_AUDIO_DURATIONS = frozenset({"mpegts", "mpeg"})


def _measured(stream: AudioStream, source: MediaInfo) -> AudioStream:
    """`stream` with its duration when the source's container states it, else with none."""
    return attrs.evolve(stream, duration=None) if source.demuxer in ESTIMATED_AUDIO_DURATIONS else stream


def _picture_end(video: VideoStream, source: MediaInfo, variable_rate: bool, container: str) -> float | None:
    """Where the proxy's pictures end on the source's clock when its audio ends there too, else None
    (the audio is kept to its own end): a conformed variable-rate source (its engines stop every
    stream there, `-t`), and any MXF proxy (its tracks share one duration, the pictures')."""
    if not (variable_rate or container == "mxf") or source.video_duration is None:
        return None
    return (video.start_time or 0.0) + source.video_duration


def video_colour(profile: CanonicalProfile, video: VideoStream) -> ColourTarget:
    """The colour `profile` gives a proxy of `video` (`proxx.media.colour`)."""
    picture = source_colour(video.colour, video.width, video.height, video.pix_fmt)
    return colour_target(profile.codec_family, picture, video.width, video.height)
