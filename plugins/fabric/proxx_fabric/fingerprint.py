"""The Fabric fingerprint: "this source, rendered by this canonical profile", recognised anywhere.

Format version 1, written `fp1:<64 lowercase hex digits>`: the SHA-256 of the UTF-8 canonical JSON
(keys sorted, no whitespace) of

    {"canonical_profile": "<canonical id>",
     "fingerprint_version": "1",
     "source": {"container": "mov", "video_codec": "prores", "width": 3840, "height": 2160,
                "frame_rate": "24000/1001", "frames": 1440, "audio": ["2:stereo", "1:mono"]}}

Its only inputs are the canonical profile id and the source's intrinsic properties, as ffprobe reads
them:
- container: "mov", "mp4" (told apart by the ISO major brand), "mxf", else ffprobe's format name;
- video_codec: the codec family, ffprobe's codec name ("prores" for every ProRes flavour, "dnxhd"
  for DNxHD and DNxHR, "h264", "hevc"...);
- width and height: the coded frame size of the first video stream;
- frame_rate: the exact rational rate, reduced ("24000/1001", "25/1");
- frames: the total duration, quantised to whole frames at that exact rate: round(video stream
  duration x rate), falling back to the container duration. Rounding to the nearest frame absorbs
  the sub-frame timestamp jitter of float durations, so a re-probe (on any machine, of any copy)
  gives the same count. A source without video counts whole milliseconds at rate "1000/1";
- audio: one "<channels>:<layout>" per audio stream in stream order ("2:stereo", "6:5.1(side)",
  "1:" when the file declares no layout).

Never inputs: paths or file names, times, host, operator, the user profile (intent) name, the
output, the engine or its version. It is not a content hash; xxh128 content hashes are recorded
beside it. Matching is exact.
"""

from __future__ import annotations

import hashlib
import json
from fractions import Fraction
from typing import Any

import attrs

from proxx.plugin import MediaInfo

FINGERPRINT_VERSION = "1"
PREFIX = f"fp{FINGERPRINT_VERSION}:"


@attrs.frozen
class Intrinsics:
    """The fingerprint inputs of one source."""

    container: str
    video_codec: str
    width: int
    height: int
    frame_rate: str
    frames: int
    audio: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {**attrs.asdict(self), "audio": list(self.audio)}

    @classmethod
    def from_dict(cls, document: dict[str, Any]) -> Intrinsics:
        fields = {field.name for field in attrs.fields(cls)}
        if set(document) != fields:
            raise ValueError(f"source intrinsics need exactly {sorted(fields)}, got {sorted(document)}")
        return cls(**{**document, "audio": tuple(document["audio"])})


def intrinsics_of(info: MediaInfo) -> Intrinsics:
    """The fingerprint inputs of a probed source (the probe's path plays no part)."""
    audio = tuple(f"{a.channels}:{a.channel_layout}" for a in info.audio)
    video = info.video
    duration = info.video_duration or 0.0
    if video is None or video.fps <= 0:
        return Intrinsics(info.container, "", 0, 0, "1000/1", round(duration * 1000), audio)
    rate = Fraction(video.fps)
    return Intrinsics(
        container=info.container,
        video_codec=video.codec,
        width=video.width,
        height=video.height,
        frame_rate=f"{rate.numerator}/{rate.denominator}",
        frames=round(Fraction(duration) * rate),
        audio=audio,
    )


def fingerprint(canonical_id: str, source: Intrinsics) -> str:
    """The version 1 fingerprint of `source` rendered by the canonical profile `canonical_id`."""
    document = {
        "canonical_profile": canonical_id,
        "fingerprint_version": FINGERPRINT_VERSION,
        "source": source.to_dict(),
    }
    text = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return PREFIX + hashlib.sha256(text.encode("utf-8")).hexdigest()
