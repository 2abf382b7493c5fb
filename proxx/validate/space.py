"""How much disk an output needs, estimated before it exists.

Bits per pixel per frame (`proxx.vocabulary`): for the bundled codecs, what the FFmpeg recipes wrote
on full-frame luma noise (the worst picture a camera makes: a grainy, noisy one) at the proxy's own
size, plus 25 % (`benchmarks/space_estimate.py`). Published target rates (ProRes LT: 1.7 bits per
pixel) were up to four times too low on such pictures. A margin of 10 % and the reserve proxx always
leaves free (PROXX_MIN_FREE_SPACE, default 64 MiB) come on top.
"""

from __future__ import annotations

import os

from proxx import vocabulary
from proxx.compile.profiles import CanonicalProfile
from proxx.media.geometry import frame_size
from proxx.media.probe import MediaInfo

PCM_BYTES_PER_SAMPLE = 3  # 24-bit, the largest audio any policy writes


def estimate_output_bytes(profile: CanonicalProfile, info: MediaInfo) -> int:
    if info.video is None:
        return 0
    duration = info.video_duration or 0.0
    width, height = frame_size(profile, info.video)
    fps = float(info.video.fps) or 30.0
    video = vocabulary.codec(profile.codec).bits_per_pixel * width * height * fps * duration / 8
    channels = sum(stream.channels for stream in info.audio)
    audio = channels * 48000 * PCM_BYTES_PER_SAMPLE * duration
    return int(video + audio)


RESERVE_VARIABLE = "PROXX_MIN_FREE_SPACE"
DEFAULT_RESERVE = 64 * 1024 * 1024


def reserve_bytes() -> int:
    """PROXX_MIN_FREE_SPACE: the bytes proxx always leaves free on an output volume (default 64 MiB)."""
    return int(os.environ.get(RESERVE_VARIABLE, str(DEFAULT_RESERVE)))


def required_margin(estimate: int) -> int:
    """10 % of the estimate plus the reserve proxx always leaves free (`reserve_bytes`)."""
    return estimate // 10 + reserve_bytes()
