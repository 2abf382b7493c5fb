"""The picture itself, which every fact a probe reads can leave wrong: a renderer's slate ("media
offline") or another clip in the source's place, a picture mirrored or turned (a phone's display
matrix ignored), its colour planes swapped, its matrix misread, or a full-range source's levels
taken as limited (washed out or crushed).

For every clip with pictures, the first picture of the source as players show it and the first
picture of the output are decoded by ffmpeg (not the engine: it reads the two files), each shrunk
to a few pixels a side, and compared: the output must look like the source, not like the source
turned or mirrored; where only the range changes, its contrast must be the source's; where no
colour is converted, it must be the source's picture. One ffmpeg run a file, on one thread: about
75 ms of CPU for a 10 s 1080p H.264 source and its ProRes proxy together, 15 ms at 160x90.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Sequence

from proxx.compile.profiles import CanonicalProfile
from proxx.media.allowlist import probe_restrictions
from proxx.media.colour import Colour
from proxx.media.policy import proxy_target
from proxx.media.probe import MediaInfo, file_url
from proxx.media.tools import require_tool
from proxx.verify.checks import Check

# Pixels a side of the compared pictures: a turned or mirrored picture, or levels that moved, show
# at this size, and decoding a frame shrunk to it costs little more than opening the two files.
SIDE = 16
# A picture this close to the source on average (0-255 a channel) is the source's, whatever else it
# resembles (a right proxy reads 0-1 off); further off, it is the source turned or mirrored when one
# of those is twice as close (a portrait test pattern mirrored: 6 off, its mirror image 0.1).
SAME_PICTURE = 3.0
# Further off than this, the output's first picture is not the source's (right proxies of the camera
# and colour classes: 0-3 measured; BT.709 pictures converted as BT.601: 9; a slate or another clip:
# 60-110; the colour planes swapped: 100).
UNLIKE = 6.0
# Where only the range changes, a right proxy keeps the source's contrast: its values against the
# source's rise with a slope within this of 1 (0.97-1.0 measured); levels read the wrong way
# stretch it by 255/219 (1.14 measured on a gradient, clipping aside) or squeeze it by 219/255.
SAME_CONTRAST = 0.07
# Below this spread of values (0-255) a picture is too flat to tell its contrast.
CONTRAST_TOLD = 16.0

Picture = list[list[tuple[int, ...]]]  # rows of (R, G, B)


def picture_checks(profile: CanonicalProfile, source: MediaInfo, output: MediaInfo, timeout: float = 60) -> list[Check]:
    """The checks `picture_orientation` (not turned or mirrored), `picture_levels` (a full-range
    source whose proxy changes only the range) and `picture_content` (the two alike, where no colour
    is converted and the others pass), each comparing the first pictures."""
    if source.video is None or output.video is None:
        return []
    colour = proxy_target(profile, source).colour
    levels = colour.source.range == "pc" and not colour.converts_colours
    try:
        shown, made = _first_pictures(
            source.path, output.path, timeout, _as_read(colour.source), _as_read(output.video.colour)
        )
    except (OSError, subprocess.SubprocessError, ValueError) as error:
        names = ["picture_orientation", *(["picture_levels"] if levels else [])]
        names += [] if colour.converts_colours else ["picture_content"]
        return [
            Check(name, "the first picture read from both files", f"not readable: {error}", False) for name in names
        ]
    checks = [_orientation(shown, made)]
    if levels:
        checks.append(_levels(shown, made))
    if not colour.converts_colours and all(check.passed for check in checks):
        checks.append(_same_picture(shown, made))
    return checks


def _same_picture(shown: Picture, made: Picture) -> Check:
    """Decoded anyway, the two first pictures must be alike where no colour is converted: a proxy that
    is a renderer's slate ("media offline"), another clip, or the source with its colour planes
    swapped or its matrix misread passes every stated fact and the turn and levels checks."""
    expected = f"the source's first picture (within {UNLIKE:g} of 255 on average)"
    distance = _distance(shown, made)

    return Check("picture_content", expected, f"{distance:.1f} of 255 from it on average", distance <= UNLIKE)


def _levels(shown: Picture, made: Picture) -> Check:
    expected = f"the source's contrast (within {SAME_CONTRAST:.0%})"
    source = [value for row in shown for pixel in row for value in pixel]
    output = [value for row in made for pixel in row for value in pixel]
    mean_source, mean_output = sum(source) / len(source), sum(output) / len(output)
    spread = sum((x - mean_source) ** 2 for x in source) / len(source)
    if spread < CONTRAST_TOLD**2:
        return Check("picture_levels", expected, "too flat to tell", True)
    together = sum((x - mean_source) * (y - mean_output) for x, y in zip(source, output, strict=True)) / len(source)
    slope = together / spread
    return Check(
        "picture_levels", expected, f"{slope:.2f} times the source's contrast", abs(slope - 1) <= SAME_CONTRAST
    )


def _orientation(shown: Picture, made: Picture) -> Check:
    expected = "the picture as the source shows it"
    distance = _distance(shown, made)
    if distance <= SAME_PICTURE:
        return Check("picture_orientation", expected, expected, True)
    closest, how = min((_distance(turn(shown), made), words) for words, turn in _TURNS)
    if closest * 2 <= distance:
        return Check("picture_orientation", expected, how, False)
    return Check("picture_orientation", expected, expected, True)  # unlike the source, but not turned: others say why


def _rotated(picture: Picture) -> Picture:
    """A quarter turn clockwise."""
    return [list(row) for row in zip(*picture[::-1], strict=True)]


def _mirrored(picture: Picture) -> Picture:
    return [row[::-1] for row in picture]


def _half(picture: Picture) -> Picture:
    return _rotated(_rotated(picture))


def _three_quarters(picture: Picture) -> Picture:
    return _rotated(_half(picture))


# Each way a picture can come out turned or mirrored, with how an operator says it.
_TURNS: list[tuple[str, Callable[[Picture], Picture]]] = [
    ("turned a quarter clockwise", _rotated),
    ("turned upside down", _half),
    ("turned a quarter anticlockwise", _three_quarters),
    ("mirrored left to right", _mirrored),
    ("mirrored top to bottom", lambda p: _mirrored(_half(p))),
    ("mirrored and turned a quarter clockwise", lambda p: _mirrored(_rotated(p))),
    ("mirrored and turned a quarter anticlockwise", lambda p: _mirrored(_three_quarters(p))),
]


def _distance(a: Picture, b: Picture) -> float:
    total = sum(abs(x - y) for row_a, row_b in zip(a, b, strict=True) for pa, pb in zip(row_a, row_b, strict=True)
                for x, y in zip(pa, pb, strict=True))  # fmt: skip
    return total / (SIDE * SIDE * 3)


def _as_read(colour: Colour) -> str:
    """The filter that makes a file's pictures read as `colour`: the source as the policy takes it to
    be (an untagged HD source is BT.709, which ffmpeg's scaler would take as BT.601, 9 of 255 off its
    proxy on average), the output as its stream states (a DNxHR picture in MXF states none itself, and
    was read as BT.601, 8 of 255 off): only then does a right proxy read as its source."""
    stated = [f"{name}={value}" for name, value in (("colorspace", colour.matrix), ("range", colour.range)) if value]
    return f"setparams={':'.join(stated)}," if stated else ""


def _first_pictures(
    source: str, output: str, timeout: float, source_as: str = "", output_as: str = ""
) -> tuple[Picture, Picture]:
    """The first picture of each, as players show it (ffmpeg applies the display matrix), shrunk to
    SIDE x SIDE, each read through the filter `_as_read` gives it: an ffmpeg run a file (one run
    reading both through one filter graph once never ended, in a 1,000-clip card)."""
    return _first_picture(source, source_as, timeout), _first_picture(output, output_as, timeout)


def _first_picture(path: str, as_read: str, timeout: float) -> Picture:
    # full_chroma_int: shrinking 4:2:2 pictures and making them RGB in one step otherwise misplaces
    # their colour (a 4:2:2 proxy of a 4:4:4 source, the same pixels, read 20 of 255 apart).
    shrink = f"setpts=PTS-STARTPTS,scale={SIDE}:{SIDE}:flags=area+accurate_rnd+full_chroma_int,format=rgb24"
    command: Sequence[str] = [
        require_tool("ffmpeg").path, "-v", "error", "-nostdin",
        # One thread: ffmpeg's frame threads would decode pictures ahead that are never used (twice
        # the CPU at 1080p), beside the other clips' renders.
        "-threads", "1", *probe_restrictions(), "-i", file_url(path), "-map", "0:v:0",
        "-filter_threads", "1", "-vf", f"{as_read}{shrink}", "-frames:v", "1", "-f", "rawvideo", "pipe:1",
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, timeout=timeout, check=False)
    row = SIDE * 3
    if done.returncode != 0 or len(done.stdout) != row * SIDE:
        lines = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise ValueError(lines[-1] if lines else f"ffmpeg exited with code {done.returncode}")
    frame = done.stdout
    return [[tuple(frame[y * row + x * 3 : y * row + x * 3 + 3]) for x in range(SIDE)] for y in range(SIDE)]
