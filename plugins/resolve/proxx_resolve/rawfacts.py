"""What Resolve says of a RAW clip that ffprobe cannot read, and the checks verification makes with
it: the output's frame size, frame rate, duration and audio, as Resolve's clip properties give them
(the core checks only the format of such an output, having no probe of its source)."""

from __future__ import annotations

import threading
from fractions import Fraction

import attrs

from proxx.plugin import CanonicalProfile, Check, MediaInfo, output_size


@attrs.frozen
class RawClip:
    """A RAW clip as Resolve's clip properties describe it.

    Fields:
      size: "Resolution" as (width, height); rate: "FPS", exact; frames: "Frames";
      audio_channels: "Audio Ch" (None when Resolve does not say).
    """

    size: tuple[int, int]
    rate: Fraction
    frames: int
    audio_channels: int | None


# RAW clips rendered in this process and not yet verified, by the partial output's path.
_RENDERED: dict[str, RawClip] = {}
_LOCK = threading.Lock()


def remember(partial_path: str, clip: RawClip) -> None:
    with _LOCK:
        _RENDERED[partial_path] = clip


def recall(partial_path: str) -> RawClip | None:
    with _LOCK:
        return _RENDERED.pop(partial_path, None)


def raw_checks(profile: CanonicalProfile, clip: RawClip, output: MediaInfo) -> list[Check]:
    """The output against Resolve's own facts of its RAW source."""
    video = output.video
    if video is None:
        return []  # the core's format checks already fail it
    width, height = output_size(profile, *clip.size)
    checks = [Check("dimensions", f"{width}x{height}", f"{video.width}x{video.height}",
                    (video.width, video.height) == (width, height))]  # fmt: skip
    rate = video.fps
    checks.append(Check("frame_rate", f"{clip.rate.numerator}/{clip.rate.denominator}", video.frame_rate,
                        rate == clip.rate))  # fmt: skip
    duration = output.video_duration
    if clip.frames and duration is not None:
        expected = clip.frames / clip.rate
        close = abs(Fraction(duration) - expected) <= 1 / clip.rate + Fraction(1, 1000)
        checks.append(Check("duration", f"{float(expected):.3f} s (± 1 frame)", f"{duration:.3f} s", close))
    if clip.audio_channels is not None:
        channels = sum(stream.channels for stream in output.audio)
        checks.append(Check("audio_channels", str(clip.audio_channels), str(channels), channels == clip.audio_channels))
    return checks
