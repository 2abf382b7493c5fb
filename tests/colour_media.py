"""Small files of each colour class a proxy must describe right (issue 21), made with ffmpeg, and the
independent checks of a proxy's colour: another ffmpeg build (Debian's, which has zscale) reads
the description back and converts the picture with zimg, a colour-managed library that honours the
tags and refuses a description that cannot be (an RGB matrix on YUV, an unknown transfer).

`COLOUR_MEDIA`: {class: maker(folder) -> Path}; `COLOUR_EXPECT`: {class: the description its proxies
state, as (primaries, transfer, matrix, range) classes}. Every file is a handful of frames.
"""

from __future__ import annotations

import functools
import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

from proxx.media.tools import require_tool

# Names that describe the same picture, per property: BT.601's matrix under two names, SMPTE 170M's
# primaries under two, one curve under four.
SAME = {
    "primaries": {"smpte240m": "smpte170m"},
    "transfer": {"smpte170m": "bt709", "bt2020-10": "bt709", "bt2020-12": "bt709"},
    "matrix": {"smpte170m": "bt601", "bt470bg": "bt601"},
}
FRAMES = "4"


def _run(args: list[str]) -> None:
    command = [require_tool("ffmpeg").path, "-nostdin", "-hide_banner", "-v", "error", "-y", *args]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"ffmpeg failed: {' '.join(command)}\n{done.stderr[-2000:]}")


def _tags(**tags: str) -> list[str]:
    """Label the pictures (setparams: ffmpeg 8 takes an encoder's colour from its frames) and the
    encoder alike; only the properties given, so the others stay unstated."""
    if not tags:
        return []
    options = [arg for name, value in tags.items() for arg in (f"-{name}", value)]
    names = {"color_primaries": "color_primaries", "color_trc": "color_trc", "colorspace": "colorspace",
             "color_range": "range"}  # fmt: skip
    return ["-vf", "setparams=" + ":".join(f"{names[k]}={v}" for k, v in tags.items()), *options]


def _h264(out: Path, size: str, rate: str, pix_fmt: str = "yuv420p", **tags: str) -> Path:
    _run([
        "-f", "lavfi", "-i", f"smptebars=s={size}:r={rate}", "-frames:v", FRAMES, *_tags(**tags),
        "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", pix_fmt, str(out),
    ])  # fmt: skip
    return out


def _prores_hdr(out: Path, transfer: str) -> Path:
    """10-bit ProRes HQ tagged BT.2020 with an HDR curve, as cameras and grading write HLG and PQ."""
    tags = _tags(color_primaries="bt2020", color_trc=transfer, colorspace="bt2020nc", color_range="tv")
    _run([
        "-f", "lavfi", "-i", "testsrc2=s=1280x720:r=25", "-frames:v", FRAMES, *tags, "-c:v", "prores_ks",
        "-profile:v", "3", "-pix_fmt", "yuv422p10le", str(out),
    ])  # fmt: skip
    return out


COLOUR_MEDIA: dict[str, Callable[[Path], Path]] = {
    # what x264 and many screen recorders write: a BT.601 matrix, primaries and transfer unknown
    "bt601_only_sd": lambda d: _h264(d / "bt601_only_sd.mp4", "720x480", "30000/1001", colorspace="bt470bg"),
    "bt601_only_hd": lambda d: _h264(d / "bt601_only_hd.mov", "1280x720", "25", colorspace="smpte170m"),
    "bt709": lambda d: _h264(
        d / "bt709.mp4", "1280x720", "25", color_primaries="bt709", color_trc="bt709", colorspace="bt709"
    ),
    "bt601_only_pal": lambda d: _h264(d / "bt601_only_pal.mov", "720x576", "25"),  # ffmpeg states the matrix only
    # full range, BT.709 matrix, nothing else stated
    "full_range": lambda d: _h264(d / "full_range.mp4", "1280x720", "25", color_range="pc", colorspace="bt709"),
    # a screen recording: the sRGB curve, which ProRes and DNxHR cannot state (converted there)
    "srgb_screen": lambda d: _h264(
        d / "srgb_screen.mp4", "1280x720", "25", color_primaries="bt709", color_trc="iec61966-2-1", colorspace="bt709"
    ),
    "hlg": lambda d: _prores_hdr(d / "hlg.mov", "arib-std-b67"),
    "pq": lambda d: _prores_hdr(d / "pq.mov", "smpte2084"),
    # an RGB picture: no matrix of its own
    "rgb_animation": lambda d: _run_rgb(d / "rgb_animation.mov"),
}


def _run_rgb(out: Path) -> Path:
    _run(["-f", "lavfi", "-i", "testsrc2=s=640x360:r=25", "-frames:v", FRAMES, "-c:v", "qtrle", str(out)])
    return out


# (primaries, transfer, matrix, range) a proxy of each class states; "keep" ranges depend on the codec.
COLOUR_EXPECT: dict[str, tuple[str, str, str, str]] = {
    "bt601_only_sd": ("smpte170m", "bt709", "bt601", "tv"),
    "bt601_only_hd": ("bt709", "bt709", "bt601", "tv"),
    "bt709": ("bt709", "bt709", "bt709", "tv"),
    "bt601_only_pal": ("bt470bg", "bt709", "bt601", "tv"),
    "full_range": ("bt709", "bt709", "bt709", "pc"),  # ProRes and DNxHR: converted to tv
    "srgb_screen": ("bt709", "iec61966-2-1", "bt709", "tv"),  # ProRes and DNxHR: converted to BT.709's curve
    "hlg": ("bt2020", "arib-std-b67", "bt2020nc", "tv"),
    "pq": ("bt2020", "smpte2084", "bt2020nc", "tv"),
    "rgb_animation": ("smpte170m", "bt709", "bt601", "tv"),  # 640x360: SD, so 525-line
}


def generate(folder: Path) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    return {name: maker(folder) for name, maker in COLOUR_MEDIA.items()}


# --- the independent checks: another ffmpeg build, with zimg ---------------------------------------------


@functools.cache
def colour_managed_ffmpeg() -> tuple[str, str] | None:
    """(ffmpeg, ffprobe) of a build with the zscale filter, other than the engine's: Debian's
    (scripts/install-colour-check.sh), else any on PATH that has it. None when there is none."""
    engine = Path(require_tool("ffmpeg").path).resolve()
    for folder in ("/usr/bin", *(str(Path(p).parent) for p in filter(None, [shutil.which("ffmpeg")]))):
        ffmpeg, ffprobe = Path(folder) / "ffmpeg", Path(folder) / "ffprobe"
        if not (ffmpeg.exists() and ffprobe.exists()) or ffmpeg.resolve() == engine:
            continue
        filters = subprocess.run([str(ffmpeg), "-hide_banner", "-filters"], capture_output=True, text=True)
        if " zscale " in filters.stdout:
            return str(ffmpeg), str(ffprobe)
    return None


def described_colour(path: str | Path) -> dict[str, dict[str, Any]]:
    """What the container (stream) and the first picture (frame) state, read by the other build."""
    tools = colour_managed_ffmpeg()
    assert tools is not None
    entries = "color_range,color_space,color_primaries,color_transfer"
    stream = subprocess.run(
        [tools[1], "-v", "error", "-select_streams", "v:0", "-show_entries", f"stream={entries}",
         "-read_intervals", "%+#1", "-show_frames", "-of", "json", f"file:{path}"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    document = json.loads(stream.stdout)
    frame = (document.get("frames") or [{}])[0]
    return {"stream": document["streams"][0], "frame": {k: frame.get(k) for k in entries.split(",")}}


def colour_managed_conversion(path: str | Path) -> subprocess.CompletedProcess[str]:
    """Convert every picture to full-range BT.709 RGB with zimg, honouring the file's tags: refused
    when they are incomplete or impossible (zimg: "no path between colorspaces", "YUV color
    family cannot have RGB matrix coefficients")."""
    tools = colour_managed_ffmpeg()
    assert tools is not None
    return subprocess.run(
        [tools[0], "-nostdin", "-v", "error", "-i", f"file:{path}", "-map", "0:v:0",
         "-frames:v", "1", "-vf", "zscale=p=709:t=709:m=709:r=full,format=gbrp", "-f", "null", "-"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip


def assert_colour_managed(path: str | Path) -> None:
    """The proxy at `path` states a complete colour description that zimg converts, when a build
    with zscale is here (scripts/test.sh installs one; without it the colour tests say so by skipping)."""
    if colour_managed_ffmpeg() is None:
        return
    done = colour_managed_conversion(path)
    assert done.returncode == 0, f"{path}: {done.stderr.strip()}"
