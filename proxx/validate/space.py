"""How much disk an output needs, estimated before it exists.

Bits per pixel per frame (`proxx.vocabulary`) from the codecs' published target rates (ProRes white paper: 1920x1080 at
29.97 fps is Proxy 45, LT 102, 422 147, HQ 220, 4444 330 Mbit/s; DNxHR LB 36, SQ 116, HQ 176 Mbit/s
at 1080p 24), rounded up; H.264 at CRF 23 is content-dependent, so it is taken generously. The
estimate is an upper bound in practice; a margin on top covers container overhead and bad guesses.
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


def required_margin(estimate: int) -> int:
    """10 % of the estimate plus a fixed reserve: PROXX_MIN_FREE_SPACE bytes (default 64 MiB) that
    proxx always leaves free."""
    reserve = int(os.environ.get("PROXX_MIN_FREE_SPACE", str(64 * 1024 * 1024)))
    return estimate // 10 + reserve
