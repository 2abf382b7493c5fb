"""A clip long enough to be cancelled, killed or timed out while it renders, made cheaply.

Encoding 2,400 frames of 720p for a test costs 20 s on a loaded 2-core machine; one second encoded by
`make_clip` and repeated by stream copy costs about one. The result is the same kind of file (codec,
size, rate, colour description, start timecode, audio streams and their layouts, frame count, duration;
the audio is padded to the picture's length as PCM); only the picture and the tone repeat every second,
which no test of a long clip looks at.
"""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path

from proxx.media.probe import file_url
from proxx.media.samples import make_clip
from proxx.media.tools import require_tool

TIMECODE = "01:00:00:00"  # make_clip's default start timecode


def make_long_clip(
    path: Path, *, size: str, frames: int, rate: str = "24000/1001", audio: Sequence[int] = (2,)
) -> Path:
    """`make_clip(path, size=size, frames=frames, rate=rate, audio=audio)`, its first second repeated.

    The audio is re-encoded as PCM (`make_clip`'s default) so that it ends with the picture: a stream copy
    of looped PCM comes out a few milliseconds short.
    """
    second = max(1, round(Fraction(rate)))
    segment = make_clip(path.with_name(f"{path.stem}.segment{path.suffix}"), size=size, rate=rate,
                        frames=min(frames, second), audio=audio)  # fmt: skip
    duration = frames / Fraction(rate)
    command = [require_tool("ffmpeg").path, "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
               "-stream_loop", "-1", "-i", file_url(str(segment)), "-map", "0:v", "-map", "0:a?", "-c:v", "copy",
               "-c:a", "pcm_s24le", "-af", "apad",
               "-frames:v", str(frames), "-t", f"{float(duration):.6f}", "-timecode", TIMECODE,
               file_url(str(path))]  # fmt: skip
    subprocess.run(command, check=True, capture_output=True, timeout=300)
    segment.unlink()
    return path
