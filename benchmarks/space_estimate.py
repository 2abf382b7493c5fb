"""Bits per pixel per frame each bundled canonical profile's FFmpeg recipe writes on the worst
pictures there are for it: full-frame noise (every pixel random, luma and chroma), at the profile's
own proxy size for a 1920x1080 source. The free-space check (`proxx.validate.space`) must not be
below these; `proxx.vocabulary` takes each measured figure with a margin of 25 % on top.

    python benchmarks/space_estimate.py [--frames 12] [--size 1920x1080]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

from proxx import vocabulary
from proxx.compile.repository import load_repository
from proxx.media.geometry import frame_size
from proxx.media.probe import probe
from proxx.media.tools import require_tool
from proxx.resources import bundled_profiles_dir

MARGIN = 1.25  # what the bundled bounds add to the figures measured here


def noise_source(path: Path, size: str, frames: int) -> Path:
    """Noise in every plane, kept intact (lossless H.264, 4:4:4 would not be every source's: 4:2:0)."""
    ffmpeg = require_tool("ffmpeg").path
    subprocess.run(
        [ffmpeg, "-v", "error", "-y", "-f", "lavfi", "-i",
         f"nullsrc=s={size}:r=24000/1001,geq=lum='random(1)*255':cb='128':cr='128'",
         "-frames:v", str(frames), "-c:v", "libx264", "-qp", "0", "-pix_fmt", "yuv420p",
         "-timecode", "01:00:00:00", str(path)],
        check=True,
    )  # fmt: skip
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=12)
    parser.add_argument("--size", default="1920x1080")
    args = parser.parse_args()
    from proxx_ffmpeg.recipes import build_args, unsupported

    ffmpeg = require_tool("ffmpeg").path
    repository = load_repository([bundled_profiles_dir()])
    with tempfile.TemporaryDirectory(prefix="proxx-space-") as tmp:
        source = noise_source(Path(tmp) / "noise.mov", args.size, args.frames)
        info = probe(str(source))
        assert info.video is not None
        print(f"noise source {args.size}, {args.frames} frames; bound = measured x {MARGIN} (vocabulary)")
        print(f"{'codec':<16} {'measured':>9} {'bound':>7}  holds")
        worst: dict[str, float] = {}
        for profile in sorted(repository.registry, key=lambda p: p.id):
            if profile.engine != "ffmpeg" or unsupported(profile, info):
                continue
            width, height = frame_size(profile, info.video)
            output = Path(tmp) / f"{profile.id}{vocabulary.extension(profile.container)}"
            command = build_args(ffmpeg, info, str(output), profile)
            subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            written = probe(str(output))
            frames = written.video.nb_frames if written.video and written.video.nb_frames else args.frames
            bits = output.stat().st_size * 8 / (width * height * frames)
            worst[profile.codec] = max(worst.get(profile.codec, 0.0), bits)
        for codec, bits in sorted(worst.items()):
            bound = vocabulary.codec(codec).bits_per_pixel
            print(f"{codec:<16} {bits:9.2f} {bound:7.2f}  {'yes' if bound >= bits else 'NO'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
