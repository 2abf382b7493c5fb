"""What exporters need to know about a published proxy and its source, as typed values read from
their probes (never parsed back out of check texts): start timecodes, frame rate, frame count,
duration and the displayed picture size."""

from __future__ import annotations

from fractions import Fraction

import attrs

from proxx.media.geometry import upright
from proxx.media.probe import MediaInfo


@attrs.frozen
class ClipFacts:
    """A published proxy's facts, in its `ClipResult` (completed clips only).

    Fields:
      source_timecode: the source's start timecode ("01:00:00:00"), or None when it has none.
      proxy_timecode: the proxy's start timecode, or None (an MXF proxy of a source without one).
      frame_rate: the proxy's exact frame rate, a rational as text ("24000/1001").
      frame_count: how many frames the proxy holds.
      duration: the proxy's duration in seconds.
      display_width, display_height: the picture as an editing system displays it (upright, square
        pixels): a 1440x1080 anamorphic proxy with a 4:3 sample aspect ratio displays 1920x1080.
    """

    source_timecode: str | None
    proxy_timecode: str | None
    frame_rate: str
    frame_count: int
    duration: float
    display_width: int
    display_height: int


def clip_facts(source: MediaInfo | None, output: MediaInfo) -> ClipFacts | None:
    """The facts of a verified output (None when it has no video: verification refused it)."""
    video = output.video
    if video is None:
        return None
    rate = video.fps
    duration = output.video_duration or 0.0
    frames = video.nb_frames if video.nb_frames else round(Fraction(duration).limit_denominator(1_000_000) * rate)
    width, height, sar = upright(video)
    return ClipFacts(
        source_timecode=source.timecode if source is not None else None,
        proxy_timecode=output.timecode,
        frame_rate=f"{rate.numerator}/{rate.denominator}",
        frame_count=int(frames),
        duration=round(duration, 6),
        display_width=round(width * sar),
        display_height=height,
    )
