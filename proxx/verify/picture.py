"""The picture itself, which every fact a probe reads can leave wrong: a renderer's slate ("media
offline") or another clip in the source's place, a picture mirrored or turned (a phone's display
matrix ignored), its colour planes swapped, its matrix misread, or a full-range source's levels
taken as limited (washed out or crushed).

For every clip with pictures, the first picture of the source as players show it and the first
picture of the output are decoded by ffmpeg (not the engine: it reads the two files), each shrunk
to a few pixels a side, and compared: the output must look like the source, not like the source
turned or mirrored; where only the range changes, its contrast must be the source's; where no
colour is converted, it must be the source's picture (where colours are converted, not unlike it:
within 20 of 255 rather than 6). One ffmpeg run a file, on one thread: about
75 ms of CPU for a 10 s 1080p H.264 source and its ProRes proxy together, 15 ms at 160x90.

The first pictures are read four times as large a side, from which the 16 x 16 ones are averaged,
and their rows' and columns' brightness (each a profile of 64 values) are compared too: a proxy
whose picture is cropped (zoomed in), letterboxed or pillarboxed, squeezed or moved inside the right
frame size follows the source's profiles only once they are stretched or moved by as much. A
difference too small to show at 16 x 16 (a 1.85 picture letterboxed in 16:9, a crop of 3 %) shows
there (`picture_geometry`). The larger read costs ffmpeg no more CPU; averaging and comparing it in
Python about 8 ms a clip.

Where the first pictures are alike, three pictures later in the clip are compared too: a renderer's
proxy frozen after its first picture, reversed, cut to a slate or black, or carrying another clip's
pictures after a right first one, is unlike its source there; one whose pictures were dropped and
others repeated to keep their count shows the source's picture a frame off. They are read where the
source is cheap to read: its last keyframe (intra-coded picture) before two thirds of the clip, read
with the two pictures after it without decoding any before it, and the proxy's pictures at the same
time. Where the source's index (ffprobe, about 2 ms) says its only keyframe there is its first
picture (x264's default output, a screen recording, a phone clip shorter than its GOP), it is
decoded from there to its pictures at two thirds of the clip or at one second, whichever is sooner;
so is a file whose read at its keyframe gives nothing (an MPEG-TS file of one GOP, which ffmpeg
opens past its only keyframe, for it has no index to seek by).
Where the proxy does not keep the source's pictures one for one (a variable rate, a rate conformed),
its picture at a time may be the source's just before or after it: one proxy picture is compared
with the five source pictures around it.
Clips of a second or more only; one more ffmpeg run a file: about 80 ms of CPU for a 10 s 1080p
H.264 source of 1 s GOPs and its ProRes proxy together, 60-100 ms for a source of one GOP.

Each read stops decoding after the last picture it gives: ffmpeg otherwise decodes two or three
pictures ahead that it then throws away, half the cost of a 1080p ProRes first picture. A picture
and every picture it is made from are decoded by the time it is shown, so packets decoded later than
that (by their decoding time, and half a picture more for a second field) are dropped before the
decoder (a bitstream filter on the input, where the ffmpeg in use takes one). Every picture a clip's
check reads, 1080p H.264 source and ProRes proxy: 197 -> 157 ms of CPU; ProRes source: 175 ->
130 ms.
"""

from __future__ import annotations

import math
import re
import subprocess
from collections.abc import Callable, Sequence
from fractions import Fraction

from proxx.compile.profiles import CanonicalProfile
from proxx.media.allowlist import probe_restrictions
from proxx.media.colour import Colour
from proxx.media.policy import proxy_target
from proxx.media.probe import MediaInfo, ProbeError, file_url, keyframe_before
from proxx.media.tools import require_tool
from proxx.verify.checks import Check, source_frames

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
# Where colours are converted (an sRGB screen recording's curve made BT.709's, an RGB picture made
# YUV), right proxies read 0-5.2 off their source: further off than this, the picture is not the
# source's (a slate or another clip: 60-110).
CONVERTED_UNLIKE = 20.0
# Where only the range changes, a right proxy keeps the source's contrast: its values against the
# source's rise with a slope within this of 1 (0.97-1.0 measured); levels read the wrong way
# stretch it by 255/219 (1.14 measured on a gradient, clipping aside) or squeeze it by 219/255.
SAME_CONTRAST = 0.07
# Below this spread of values (0-255) a picture is too flat to tell its contrast.
CONTRAST_TOLD = 16.0

# The first pictures are read this many pixels a side, their profiles compared at this size.
GEOMETRY_SIDE = 64
# The stretches (1.0: none) and moves (pixels of GEOMETRY_SIDE) tried on each profile: a renderer's
# crop, box or squeeze is within them.
STRETCHES = tuple(Fraction(n, 100) for n in range(90, 111))
MOVES = tuple(Fraction(n, 2) for n in range(-6, 7))
# A profile whose shape (its brightness less its mean) differs from the source's by less than this on
# average (0-255) is the source's: right proxies of 7 camera structures in ProRes and H.264 read
# 0.00-0.15 off, quarter-size H.264 proxies of test patterns up to 0.53; a picture cropped by 2 %
# reads 1.4 off across, moved 4 pixels in 1280 1.6, letterboxed 1.85 in 16:9 9.0 down.
SAME_PROFILE = 1.0

# The later pictures are read at the source's last keyframe before this part of the clip: three of
# them, to tell a picture a frame off from its neighbours.
LATER_AT = Fraction(2, 3)
LATER_PICTURES = 3
# A clip shorter than this (seconds) is not read again: its first picture is most of it.
LATER_SHORTEST = 1.0
# A source whose only keyframe before LATER_AT is its first picture is decoded from it to its
# pictures at LATER_AT, or at this many seconds if sooner: 25-30 pictures at most (90 ms of CPU for
# a 720p screen recording, 62 ms for 16 pictures of a simple 1080p clip), where reading at two
# thirds of a 6 s recording took 266 ms.
ONE_GOP_LATEST = 1.0

Picture = Sequence[Sequence[tuple[float, ...]]]  # rows of (R, G, B)
Profile = list[float]


def picture_checks(profile: CanonicalProfile, source: MediaInfo, output: MediaInfo, timeout: float = 60) -> list[Check]:
    """The checks `picture_orientation` (not turned or mirrored), `picture_levels` (a full-range
    source whose proxy changes only the range), `picture_content` and `picture_geometry` (the two
    alike, framed alike, where no colour is converted and the others pass), each comparing the first
    pictures, and `picture_later`."""
    if source.video is None or output.video is None:
        return []
    colour = proxy_target(profile, source).colour
    levels = colour.source.range == "pc" and not colour.converts_colours
    # A converted picture's rows and columns are shaped otherwise; a picture smaller than twice the
    # read's side is blurred by its enlarging more than a crop moves it (a right 80x44 proxy of a
    # 160x90 clip read 1.7 off).
    framing = (
        not colour.converts_colours
        and min(source.video.width, source.video.height, output.video.width, output.video.height) >= 2 * GEOMETRY_SIDE
    )
    try:
        large_shown, large_made = _first_pictures(
            source, output, timeout, _as_read(colour.source), _as_read(output.video.colour)
        )
    except (OSError, subprocess.SubprocessError, ValueError) as error:
        names = ["picture_orientation", *(["picture_levels"] if levels else [])]
        names += ["picture_content"] + (["picture_geometry"] if framing else [])
        return [
            Check(name, "the first picture read from both files", f"not readable: {error}", False) for name in names
        ]
    shown, made = _shrunk(large_shown), _shrunk(large_made)
    checks = [_orientation(shown, made)]
    if levels:
        checks.append(_levels(shown, made))
    unlike = CONVERTED_UNLIKE if colour.converts_colours else UNLIKE
    if all(check.passed for check in checks):
        checks.append(_same_picture(shown, made, unlike))
        if framing:
            checks.append(_geometry(large_shown, large_made))
        if all(check.passed for check in checks):
            checks += _later_checks(profile, source, output, timeout, unlike)
    return checks


def _geometry(shown: Picture, made: Picture) -> Check:
    """The first pictures framed alike: each of the output's profiles (the brightness of its rows, of
    its columns) is the source's, not the source's stretched or moved, with black where the source's
    picture does not reach."""
    expected = "the source's picture filling the frame as the source's does"
    found = []
    for axis, words in (("rows", "height"), ("columns", "width")):
        heard, seen = _profile(shown, axis), _profile(made, axis)
        off = _profile_distance(_shape(heard), _shape(seen), Fraction(1), Fraction(0))
        if off < SAME_PROFILE:
            continue
        # What it looks like: the stretch and move of the source's picture it follows most closely.
        _, stretch, move = min(
            (_profile_distance(heard, seen, stretch, move), stretch, move) for stretch in STRETCHES for move in MOVES
        )
        found.append(
            f"its {words} framed otherwise ({off:.2f} of 255 off), most like the source's picture at "
            f"{float(stretch):.0%} of it, {float(move / GEOMETRY_SIDE):+.1%} off centre"
        )
    if found:
        return Check("picture_geometry", expected, "; ".join(found), False)
    return Check("picture_geometry", expected, expected, True)


def _profile(picture: Picture, axis: str) -> Profile:
    """The mean brightness (0-255) of each row, or each column, of a picture."""
    lines = picture if axis == "rows" else list(zip(*picture, strict=True))
    return [sum(map(sum, line)) / (3 * len(line)) for line in lines]


def _shape(profile: Profile) -> Profile:
    """A profile less its mean: a picture's shape, whatever its overall brightness."""
    mean = sum(profile) / len(profile)
    return [value - mean for value in profile]


def _profile_distance(source: Profile, made: Profile, stretch: Fraction, move: Fraction) -> float:
    """How far `made` is, on average, from `source` stretched by `stretch` about its middle and moved
    by `move` cells, black where it does not reach."""
    size = len(source)
    total = 0.0
    for i, value in enumerate(made):
        # The cell of the source this cell of the output shows, in cells from the source's first.
        at = float((Fraction(2 * i + 1 - size, 2) - move) / stretch) + (size - 1) / 2
        if at < -0.5 or at > size - 0.5:
            total += value  # beyond the source's picture: black
            continue
        below = min(max(int(at), 0), size - 1)
        above = min(below + 1, size - 1)
        part = min(max(at - below, 0.0), 1.0)
        total += abs(value - (source[below] * (1 - part) + source[above] * part))
    return total / size


def _shrunk(picture: Picture) -> Picture:
    """A GEOMETRY_SIDE picture averaged down to SIDE x SIDE: what ffmpeg's area scaling to that size
    gives (each small pixel the mean of the large ones it covers)."""
    step = len(picture) // SIDE
    area = step * step
    shrunk = []
    for y in range(SIDE):
        # Each column of this band of rows, summed: (R, G, B) totals, then `step` columns at a time.
        band = picture[y * step : (y + 1) * step]
        columns = [tuple(map(sum, zip(*pixels, strict=True))) for pixels in zip(*band, strict=True)]
        shrunk.append(
            [
                tuple(sum(part) / area for part in zip(*columns[x * step : (x + 1) * step], strict=True))
                for x in range(SIDE)
            ]
        )
    return shrunk


def _later_checks(
    profile: CanonicalProfile, source: MediaInfo, output: MediaInfo, timeout: float, unlike: float
) -> list[Check]:
    """`picture_later`: the source's pictures at its last keyframe before two thirds of the clip, and
    the two after it, against the proxy's at the same time; where that keyframe is its first
    picture, or a read there gives none, its pictures at two thirds of the clip or at
    ONE_GOP_LATEST, whichever is sooner."""
    assert source.video is not None and output.video is not None
    target = proxy_target(profile, source)
    duration, rate = output.video_duration, target.rate
    if not duration or duration < LATER_SHORTEST or rate <= 0:
        return []
    colour = target.colour
    expected = "the source's pictures later in the clip"
    before = _lead(source) + float(LATER_AT * Fraction(duration))
    # A source whose pictures the proxy keeps one for one: each proxy picture is its own, not a
    # neighbour's. Another (a variable rate, a rate conformed): the proxy's picture at a time may be
    # the source's just before or after it, so one proxy picture is read between five of the source's.
    counted = source_frames(target, source) is not None and source.video.fps == rate
    wanted = LATER_PICTURES + (0 if counted else 2)
    keyframe = _keyframe_before(source, before, timeout)
    # One GOP there (the index says so): decoded from its first picture, to a bounded point.
    one_gop = (
        keyframe is not None and source.video.start_time is not None and (keyframe - _lead(source)) * float(rate) < 1
    )
    fps = float(source.video.fps)
    try:
        if one_gop:
            times, heard = _from_the_start(source, colour.source, duration, wanted, timeout)
        else:
            # The pictures from the keyframe, cut after the last wanted (seconds from `before`, where
            # ffmpeg opens the file) where the index says where that keyframe is.
            last = None if keyframe is None or not fps or not _indexed(source) else keyframe + (wanted - 1) / fps
            times, heard = _keyframe_pictures(
                source.path, _as_read(colour.source), before, timeout, wanted,
                None if last is None else _cut_after(last - before, source.video.fps),
            )  # fmt: skip
            if not heard:  # an MPEG-TS file of one keyframe, opened past it: read as a one-GOP source
                times, heard = _from_the_start(source, colour.source, duration, wanted, timeout)
        if not heard or (times[0] - _lead(source)) * rate < 1:
            return []
        at = times[0 if counted else min(2, len(heard) - 1)] - _lead(source)
        # From half a frame before: the proxy's picture at that time, not the one before it.
        seek = _lead(output) + at - float(1 / rate) / 2
        count = len(heard) if counted else 1
        # The proxy's pictures wanted are from half a frame after the seek.
        cut = _cut_after((count - 0.5) / float(rate), rate) if _indexed(output) else None
        made = _pictures(output.path, _as_read(output.video.colour), ["-ss", f"{seek:.6f}"], count, timeout, cut)
        if not made:
            raise ValueError(f"no picture at {at:.2f} s")
    except (OSError, subprocess.SubprocessError, ValueError) as error:
        return [Check("picture_later", expected, f"not readable: {error}", False)]
    for i, picture in enumerate(made):
        when = at + i / float(rate)
        distances = [_distance(other, picture) for other in heard]
        closest = min(range(len(heard)), key=lambda j: distances[j])
        if counted and i < len(heard) and distances[i] > SAME_PICTURE and distances[closest] * 2 <= distances[i]:
            off = closest - i
            frames = f"{abs(off)} frame{'s' if abs(off) > 1 else ''} {'later' if off > 0 else 'earlier'}"
            words = f"the source's picture {frames}"
            return [
                Check(
                    "picture_later", expected, f"{words} at {when:.2f} s: pictures dropped or repeated before it", False
                )
            ]
        if distances[closest] > unlike:
            return [
                Check(
                    "picture_later",
                    expected,
                    f"{distances[closest]:.1f} of 255 from the source's at {when:.2f} s",
                    False,
                )
            ]
    return [Check("picture_later", expected, f"the source's at {at:.2f} s", True)]


def _keyframe_before(source: MediaInfo, before: float, timeout: float) -> float | None:
    """Where the source's index says its last keyframe at or before `before` seconds from its start
    is, from its start (about 2 ms): where its first picture is, a read there would give the first
    pictures again. None where the index does not say: the pictures there are read, and show it."""
    try:
        keyframe = keyframe_before(source.path, (source.start_time or 0.0) + before, timeout)
    except (OSError, ProbeError):
        return None
    return None if keyframe is None else keyframe - (source.start_time or 0.0)


def _cut_after(last: float, rate: Fraction) -> float | None:
    """Where a read whose last wanted picture is shown at `last` seconds (from where the file is
    opened) may stop decoding: just over half a picture later, so that the second field of an
    interlaced picture coded as two is decoded too, and the next picture not. None where the times
    the file's probe gave are no help."""
    cut = last + 0.6 / float(rate) if rate > 0 else math.nan
    return cut if math.isfinite(cut) else None


# The demuxers whose index ffmpeg seeks by (MOV and MP4, MXF), opening the file at the keyframe at or
# before the time asked for (an MPEG-TS file is opened at a keyframe after it): only their reads from
# a time are cut.
_INDEXED = frozenset({"mov", "mxf"})


def _indexed(info: MediaInfo) -> bool:
    return info.demuxer in _INDEXED


def _lead(info: MediaInfo) -> float:
    """Where the first picture is, from the file's start (which ffmpeg's -ss counts from)."""
    if info.video is None or info.video.start_time is None:
        return 0.0
    return max(info.video.start_time - (info.start_time or 0.0), 0.0)


def _same_picture(shown: Picture, made: Picture, unlike: float) -> Check:
    """Decoded anyway, the two first pictures must be alike (within `unlike`, looser where colours
    are converted): a proxy that is a renderer's slate ("media offline"), another clip, or the source
    with its colour planes swapped or its matrix misread passes every stated fact and the turn and
    levels checks."""
    expected = f"the source's first picture (within {unlike:g} of 255 on average)"
    distance = _distance(shown, made)
    return Check("picture_content", expected, f"{distance:.1f} of 255 from it on average", distance <= unlike)


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
    source: MediaInfo, output: MediaInfo, timeout: float, source_as: str = "", output_as: str = ""
) -> tuple[Picture, Picture]:
    """The first picture of each, as players show it (ffmpeg applies the display matrix), shrunk to
    SIDE x SIDE, each read through the filter `_as_read` gives it: an ffmpeg run a file (one run
    reading both through one filter graph once never ended, in a 1,000-clip card)."""
    return _first_picture(source, source_as, timeout), _first_picture(output, output_as, timeout)


def _first_picture(info: MediaInfo, as_read: str, timeout: float) -> Picture:
    assert info.video is not None
    cut = _cut_after(_lead(info), info.video.fps)
    pictures = _read(info.path, as_read, [], 1, timeout, side=GEOMETRY_SIDE, cut=cut)[0]
    if not pictures:
        raise ValueError("no picture was decoded")
    return pictures[0]


# showinfo's report of each picture's number and time, in seconds from where the input was opened.
_SHOWN_AT = re.compile(rb"n: *([0-9]+) .*?pts_time:(-?[0-9.]+)")


def _keyframe_pictures(
    path: str, as_read: str, before: float, timeout: float, count: int = LATER_PICTURES, cut: float | None = None
) -> tuple[list[float], list[Picture]]:
    """The file's last keyframe at or before `before` seconds from its start (ffmpeg opens it there,
    decoding no picture before it) and the pictures after it, `count` in all: each one's time, in
    seconds from the file's start, and the pictures. `cut`: `_read`'s."""
    seek = ["-ss", f"{before:.6f}", "-noaccurate_seek"]
    pictures, log = _read(path, f"showinfo,{as_read}", seek, count, timeout, "info", cut=cut)
    return [before + time for time in _times(log, len(pictures))], pictures


def _from_the_start(
    source: MediaInfo, colour: Colour, duration: float, count: int, timeout: float
) -> tuple[list[float], list[Picture]]:
    """A source of one GOP (or whose seek lands past its only keyframe): decoded from its first
    picture to its pictures at LATER_AT of the clip or at ONE_GOP_LATEST, whichever is sooner; `count`
    of them, each one's time from the file's start, and the pictures. No seek: an MPEG-TS file,
    without an index, is opened past its only keyframe."""
    assert source.video is not None
    start = _lead(source) + min(float(LATER_AT * Fraction(duration)), ONE_GOP_LATEST)
    fps = source.video.fps
    cut = _cut_after(start + (count - 1) / float(fps), fps) if fps > 0 else None
    as_read = f"trim=start={start:.6f},showinfo,{_as_read(colour)}"
    pictures, log = _read(source.path, as_read, [], count, timeout, "info", cut=cut)
    return _times(log, len(pictures)), pictures


def _times(log: bytes, count: int) -> list[float]:
    """The times showinfo reported for the first `count` pictures, from where the file was opened."""
    shown = {int(number): float(time) for number, time in _SHOWN_AT.findall(log)}
    if any(n not in shown for n in range(count)):
        raise ValueError("the pictures' times were not reported")
    return [shown[n] for n in range(count)]


def _pictures(
    path: str, as_read: str, seek: Sequence[str], count: int, timeout: float, cut: float | None = None
) -> list[Picture]:
    return _read(path, as_read, seek, count, timeout, cut=cut)[0]


def _read(
    path: str,
    before: str,
    seek: Sequence[str],
    count: int,
    timeout: float,
    level: str = "error",
    side: int = SIDE,
    cut: float | None = None,
) -> tuple[list[Picture], bytes]:
    """Up to `count` pictures of the file from `seek` (its first: none), as players show them (ffmpeg
    applies the display matrix), each read through the filter `before` and shrunk to SIDE x SIDE;
    with what ffmpeg logged at `level`. No pictures when the file has none from there.

    `cut`: the time (seconds from where the file is opened) after which no packet is decoded, by its
    decoding time: a picture shown by then and every picture it is made from are decoded by then,
    and ffmpeg otherwise decodes two or three pictures more than it gives (half a 1080p ProRes first
    picture's read). Where that gives fewer pictures than asked for (timestamps other than the
    probe's), or the ffmpeg in use takes no bitstream filter on an input (Debian 12's 5.1), the file
    is read again without it."""
    ffmpeg = require_tool("ffmpeg").path
    if cut is not None and ffmpeg not in _UNCUT:
        # Packets later than `cut` are dropped before the decoder sees them (noise's `drop` expression).
        done = _run(ffmpeg, path, before, [*seek, "-bsf:v", f"noise=drop=gt(dts*tb\\,{cut:.6f})"], count, timeout,
                    level, side)  # fmt: skip
        if done.returncode == 0 and len(done.stdout) == count * side * side * 3:
            return _decoded(done, side)
        whole = _run(ffmpeg, path, before, seek, count, timeout, level, side)
        if done.returncode != 0 and whole.returncode == 0:
            _UNCUT.add(ffmpeg)
        return _decoded(whole, side)
    return _decoded(_run(ffmpeg, path, before, seek, count, timeout, level, side), side)


# The ffmpeg builds found to take no bitstream filter on an input: their reads are not cut.
_UNCUT: set[str] = set()


def _run(
    ffmpeg: str, path: str, before: str, seek: Sequence[str], count: int, timeout: float, level: str, side: int
) -> subprocess.CompletedProcess[bytes]:
    # full_chroma_int: shrinking 4:2:2 pictures and making them RGB in one step otherwise misplaces
    # their colour (a 4:2:2 proxy of a 4:4:4 source, the same pixels, read 20 of 255 apart).
    shrink = f"setpts=PTS-STARTPTS,scale={side}:{side}:flags=area+accurate_rnd+full_chroma_int,format=rgb24"
    command: Sequence[str] = [
        ffmpeg, "-v", level, "-hide_banner", "-nostats", "-nostdin",
        # One thread: ffmpeg's frame threads would decode pictures ahead that are never used (twice
        # the CPU at 1080p), beside the other clips' renders.
        "-threads", "1", *seek, *probe_restrictions(), "-i", file_url(path), "-map", "0:v:0",
        "-filter_threads", "1", "-vf", f"{before}{shrink}", "-frames:v", str(count),
        # Each picture decoded, none repeated or dropped to keep a rate.
        "-fps_mode", "passthrough", "-f", "rawvideo", "pipe:1",
    ]  # fmt: skip
    return subprocess.run(command, capture_output=True, timeout=timeout, check=False)


def _decoded(done: subprocess.CompletedProcess[bytes], side: int) -> tuple[list[Picture], bytes]:
    row, size = side * 3, side * side * 3
    if done.returncode != 0 or len(done.stdout) % size:
        lines = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise ValueError(lines[-1] if lines else f"ffmpeg exited with code {done.returncode}")
    frames = [done.stdout[start : start + size] for start in range(0, len(done.stdout), size)]
    pictures: list[Picture] = [
        [list(zip(*(frame[y * row + c : (y + 1) * row : 3] for c in range(3)), strict=True)) for y in range(side)]
        for frame in frames
    ]
    return pictures, done.stderr
