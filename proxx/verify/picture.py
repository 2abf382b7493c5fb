"""The picture itself, which every fact a probe reads can leave wrong: a renderer's slate ("media
offline") or another clip in the source's place, a picture mirrored or turned (a phone's display
matrix ignored), its colour planes swapped, its matrix misread, or a full-range source's levels
taken as limited (washed out or crushed).

For every clip with pictures, the first picture of the source as players show it and the first
picture of the output are decoded by FFmpeg's libraries in a decoder process of proxx's own
(`proxx.media.decoder`; not the engine, which only writes), each shrunk to a few pixels a side, and
compared: the output must look like the source, not like the source turned or mirrored; where only
the range changes, its contrast must be the source's; where no colour is converted, it must be the
source's picture (where colours are converted, not unlike it: within 20 of 255 rather than 6). One
read a file, on one thread.

The first pictures are read four times as large a side, from which the 16 x 16 ones are averaged,
and their rows' and columns' brightness (each a profile of 64 values) are compared too: a proxy
whose picture is cropped (zoomed in), letterboxed or pillarboxed, squeezed or moved inside the right
frame size follows the source's profiles only once they are stretched or moved by as much. A
difference too small to show at 16 x 16 (a 1.85 picture letterboxed in 16:9, a crop of 3 %) shows
there (`picture_geometry`). The larger read costs the decoder no more CPU; averaging and comparing
it in Python about 2 ms a clip (each picture kept as its values in a row, as the decoder gives
them, so that sums and differences run over them whole: nested rows of pixels took 8 ms).

Where the first pictures are alike, three pictures later in the clip are compared too: a renderer's
proxy frozen after its first picture, reversed, cut to a slate or black, or carrying another clip's
pictures after a right first one, is unlike its source there; one whose pictures were dropped and
others repeated to keep their count shows the source's picture a frame off. They are read where the
source is cheap to read: its last keyframe (intra-coded picture) before two thirds of the clip, read
with the two pictures after it without decoding any before it, and the proxy's pictures at the same
time. Where that keyframe comes before two thirds of the clip or one second, whichever is sooner
(a source of one GOP: x264's default output, a screen recording, a phone clip shorter than its
GOP), the source is decoded from it to its pictures there; a file whose read at its keyframe gives
nothing (an MPEG-TS file of one GOP, which is opened past its only keyframe, for it has no index to
seek by) is decoded from its start.
Each proxy picture is compared with the source picture its slot shows, found from the times of
the source's pictures read: where they are a frame apart (a constant rate kept, in any container),
its own. Where the proxy does not keep them one for one (a variable rate, a rate conformed, a
picture the source lost), one proxy picture is read with the five source pictures around it, and
may show either the one a player shows at its slot's time or the one nearest its slot.
Clips of a second or more only; one more read a file.

What a clip's reads cost, in the decoder's CPU (1080p H.264 source of one GOP, its ProRes proxy):
the first pictures 7-13 ms each, where an ffmpeg run each took 22-25 ms, most of it a fresh
process faulting in its decoder's buffers (benchmarks/HISTORY.md, "Fifteenth session").
"""

from __future__ import annotations

import functools
import itertools
import math
import operator
from collections.abc import Mapping, Sequence
from fractions import Fraction

from proxx.compile.profiles import CanonicalProfile
from proxx.media import decoder
from proxx.media.allowlist import demuxer_options
from proxx.media.colour import Colour
from proxx.media.policy import proxy_target
from proxx.media.probe import MediaInfo, file_url
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
# A source picture this near (in frames) to the middle between two of the proxy's slots may be put
# in either (a time base of 1/600 s meets 29.97 fps slots between them); one this near to a slot is
# at it (its time is read in floating point).
SLOT_DOUBT = 0.1
SAME_SLOT = 0.01
# A clip shorter than this (seconds) is not read again: its first picture is most of it.
LATER_SHORTEST = 1.0
# A source whose last keyframe before LATER_AT is sooner than this many seconds (its first picture,
# in a source of one GOP) is decoded from it to its pictures here, or at LATER_AT if sooner: 25-30
# pictures at most (90 ms of CPU for a 720p screen recording, 62 ms for 16 pictures of a simple 1080p
# clip), where reading at two thirds of a 6 s recording took 266 ms.
ONE_GOP_LATEST = 1.0

# A square picture: its values row after row, each pixel's R, G and B in turn (the decoder's rgb24).
Picture = Sequence[float]
Profile = list[float]
# How a picture is turned or mirrored: the 2 x 2 matrix (a, b, c, d) that moves the pixel (x, y),
# about the middle, to (a x + c y, b x + d y) (a display matrix's own part, `decoder.Pictures.turn`).
Turn = tuple[int, int, int, int]


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
    except (OSError, ValueError) as error:
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
    side = _side(picture)
    row = 3 * side
    if axis == "rows":
        return [sum(picture[y * row : (y + 1) * row]) / row for y in range(side)]
    return [sum(sum(picture[3 * x + c :: row]) for c in range(3)) / row for x in range(side)]


def _shape(profile: Profile) -> Profile:
    """A profile less its mean: a picture's shape, whatever its overall brightness."""
    mean = sum(profile) / len(profile)
    return [value - mean for value in profile]


def _profile_distance(source: Profile, made: Profile, stretch: Fraction, move: Fraction) -> float:
    """How far `made` is, on average, from `source` stretched by `stretch` about its middle and moved
    by `move` cells, black where it does not reach."""
    size, moved, stretched = len(source), float(move), float(stretch)
    total = 0.0
    for i, value in enumerate(made):
        # The cell of the source this cell of the output shows, in cells from the source's first.
        at = ((2 * i + 1 - size) / 2 - moved) / stretched + (size - 1) / 2
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
    row = 3 * _side(picture)
    step = row // (3 * SIDE)
    area = step * step
    shrunk: list[float] = []
    for y in range(SIDE):
        # This band of rows summed value by value, then each channel's `step` pixels side by side.
        band = functools.reduce(_added, (picture[(y * step + k) * row : (y * step + k + 1) * row] for k in range(step)))
        channels = [functools.reduce(_added, (band[c + 3 * k :: 3 * step] for k in range(step))) for c in range(3)]
        shrunk += (total / area for pixel in zip(*channels, strict=True) for total in pixel)
    return shrunk


def _added(a: Picture, b: Picture) -> list[float]:
    return list(map(operator.add, a, b))


def _later_checks(
    profile: CanonicalProfile, source: MediaInfo, output: MediaInfo, timeout: float, unlike: float
) -> list[Check]:
    """`picture_later`: the source's pictures at its last keyframe before two thirds of the clip, and
    the two after it, or, where that keyframe is sooner, at two thirds of the clip or at
    ONE_GOP_LATEST, whichever is sooner (`_later_source_pictures`), against the proxy's at the same
    time."""
    assert source.video is not None and output.video is not None
    target = proxy_target(profile, source)
    duration, rate = output.video_duration, target.rate
    if not duration or duration < LATER_SHORTEST or rate <= 0:
        return []
    colour = target.colour
    expected = "the source's pictures later in the clip"
    before = _lead(source) + float(LATER_AT * Fraction(duration))
    # A source whose pictures the proxy keeps one for one (a constant rate, kept; counted by its
    # container or not, as MPEG-TS counts none): three proxy pictures against the source's three.
    # Another (a variable rate, a rate conformed, pulldown removed): one proxy picture, and the five
    # source pictures around it, to tell which of them the engine put in its slot.
    steady = not target.variable_rate and not source.video.repeat_fields and source.video.fps == rate
    wanted = LATER_PICTURES + (0 if steady else 2)
    try:
        times, heard = _later_source_pictures(source, _as_read(colour.source), before, duration, wanted, timeout)
        if not heard or (times[0] - _lead(source)) * rate < 1:
            return []
        # One for one where the pictures read are a frame apart: not where a capture lost one there.
        one_for_one = steady and all(abs((b - a) * float(rate) - 1) < 0.25 for a, b in itertools.pairwise(times))
        at = times[0 if one_for_one else min(2, len(heard) - 1)] - _lead(source)
        # From half a frame before: the proxy's picture at that time, not the one before it.
        seek = _lead(output) + at - float(1 / rate) / 2
        count = len(heard) if one_for_one else 1
        # The proxy's pictures wanted are from half a frame after the seek.
        made_times, made = _read(output.path, _as_read(output.video.colour), count, timeout, seek=seek, accurate=True)
        if not made:
            raise ValueError(f"no picture at {at:.2f} s")
    except (OSError, ValueError) as error:
        return [Check("picture_later", expected, f"not readable: {error}", False)]
    # Where each source picture read falls, in frames of the proxy's rate from its first picture; and
    # the next one's, where the pictures are a frame apart.
    positions = [(time - _lead(source)) * float(rate) for time in times]
    following = positions[-1] + 1 if one_for_one else None
    for picture, time in zip(made, made_times, strict=True):
        when = time - _lead(output)
        distances = [_distance(other, picture) for other in heard]
        closest = min(range(len(heard)), key=lambda j: distances[j])
        shown = _shown_in_slot(positions, round(when * float(rate)), following)
        if shown is not None and closest not in shown:
            best = min(distances[j] for j in shown)
            if best > SAME_PICTURE and distances[closest] * 2 <= best:
                # How far the picture it shows is from its slot, in frames: at least one.
                off = round(positions[closest] - when * float(rate)) or (1 if closest > shown[-1] else -1)
                frames = f"{abs(off)} frame{'s' if abs(off) > 1 else ''} {'later' if off > 0 else 'earlier'}"
                words = f"the source's picture {frames} at {when:.2f} s: pictures dropped or repeated before it"
                return [Check("picture_later", expected, words, False)]
        if distances[closest] > unlike:
            words = f"{distances[closest]:.1f} of 255 from the source's at {when:.2f} s"
            return [Check("picture_later", expected, words, False)]
    return [Check("picture_later", expected, f"the source's at {at:.2f} s", True)]


def _shown_in_slot(positions: Sequence[float], slot: int, following: float | None) -> range | None:
    """Which of the source's pictures read, at `positions` (in frames of the proxy's rate from its
    first picture), the proxy's picture in `slot` may show. Either way of conforming a rate is
    right: the one a player shows at the slot's time (the last at or before it), or the one nearest
    the slot (the FFmpeg engine's `fps` filter), a position within SLOT_DOUBT of half a frame falling
    either side. None where it may be a picture not read: one before the first, or one after the
    last where `following` (the next picture's position) is not known."""
    held = max((j for j, p in enumerate(positions) if p - SAME_SLOT <= slot), default=-1)
    nearest = max((j for j, p in enumerate(positions) if math.floor(p + 0.5 - SLOT_DOUBT) <= slot), default=-1)
    unread_next = following is None or math.floor(following + 0.5 - SLOT_DOUBT) <= slot
    if held < 0 or (nearest == len(positions) - 1 and unread_next):
        return None
    return range(held, nearest + 1)


def _lead(info: MediaInfo) -> float:
    """Where the first picture is, from the file's start (which a seek counts from)."""
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
    mean_source, mean_output = sum(shown) / len(shown), sum(made) / len(made)
    spread = sum((x - mean_source) ** 2 for x in shown) / len(shown)
    if spread < CONTRAST_TOLD**2:
        return Check("picture_levels", expected, "too flat to tell", True)
    together = sum((x - mean_source) * (y - mean_output) for x, y in zip(shown, made, strict=True)) / len(shown)
    slope = together / spread
    return Check(
        "picture_levels", expected, f"{slope:.2f} times the source's contrast", abs(slope - 1) <= SAME_CONTRAST
    )


def _orientation(shown: Picture, made: Picture) -> Check:
    expected = "the picture as the source shows it"
    distance = _distance(shown, made)
    if distance <= SAME_PICTURE:
        return Check("picture_orientation", expected, expected, True)
    closest, how = min((_distance(_turned(shown, turn), made), words) for words, turn in _TURNS)
    if closest * 2 <= distance:
        return Check("picture_orientation", expected, how, False)
    return Check("picture_orientation", expected, expected, True)  # unlike the source, but not turned: others say why


# Each way a picture can come out turned or mirrored, with how an operator says it (y counts down).
_TURNS: list[tuple[str, Turn]] = [
    ("turned a quarter clockwise", (0, 1, -1, 0)),
    ("turned upside down", (-1, 0, 0, -1)),
    ("turned a quarter anticlockwise", (0, -1, 1, 0)),
    ("mirrored left to right", (-1, 0, 0, 1)),
    ("mirrored top to bottom", (1, 0, 0, -1)),
    ("mirrored and turned a quarter clockwise", (0, 1, 1, 0)),
    ("mirrored and turned a quarter anticlockwise", (0, -1, -1, 0)),
]


def _distance(a: Picture, b: Picture) -> float:
    """How far apart two pictures of one size are, on average (0-255 a value)."""
    if len(a) != len(b):
        raise ValueError(f"pictures of {len(a)} and {len(b)} values compared")
    return float(sum(map(abs, map(operator.sub, a, b)))) / len(a)


def _as_read(colour: Colour) -> dict[str, str]:
    """What makes a file's pictures read as `colour`: the source as the policy takes it to be (an
    untagged HD source is BT.709, which ffmpeg's scaler would take as BT.601, 9 of 255 off its proxy
    on average), the output as its stream states (a DNxHR picture in MXF states none itself, and was
    read as BT.601, 8 of 255 off): only then does a right proxy read as its source."""
    return {name: value for name, value in (("colorspace", colour.matrix), ("range", colour.range)) if value}


def _first_pictures(
    source: MediaInfo, output: MediaInfo, timeout: float, source_as: Mapping[str, str], output_as: Mapping[str, str]
) -> tuple[Picture, Picture]:
    """The first picture of each, as players show it (the display matrix applied), read as
    `_as_read` says and shrunk to GEOMETRY_SIDE a side."""
    return _first_picture(source, source_as, timeout, True), _first_picture(output, output_as, timeout, False)


def _first_picture(info: MediaInfo, as_read: Mapping[str, str], timeout: float, source: bool) -> Picture:
    assert info.video is not None
    pictures = _read(info.path, as_read, 1, timeout, side=GEOMETRY_SIDE, source=source)[1]
    if not pictures:
        raise ValueError("no picture was decoded")
    return pictures[0]


def _later_source_pictures(
    source: MediaInfo, as_read: Mapping[str, str], before: float, duration: float, count: int, timeout: float
) -> tuple[list[float], list[Picture]]:
    """`count` pictures of the source from its last keyframe at or before `before` seconds from its
    start (the file opened there, no picture before it decoded), but none sooner than LATER_AT of the
    clip or ONE_GOP_LATEST, whichever is sooner: a source of one GOP (x264's default output, a
    screen recording) is decoded from its first picture to there. Each picture's time from the
    file's start, and the pictures. A file whose read at its keyframe gives none (an MPEG-TS file of
    one GOP, opened past its only keyframe, for it has no index to seek by) is decoded from its
    start, without a seek."""
    assert source.video is not None
    soonest = _lead(source) + min(float(LATER_AT * Fraction(duration)), ONE_GOP_LATEST)
    read = _read(source.path, as_read, count, timeout, seek=before, start=soonest, source=True)
    return read if read[1] else _read(source.path, as_read, count, timeout, start=soonest, source=True)


def _read(
    path: str,
    as_read: Mapping[str, str],
    count: int,
    timeout: float,
    side: int = SIDE,
    seek: float | None = None,
    accurate: bool = False,
    start: float | None = None,
    source: bool = False,
) -> tuple[list[float], list[Picture]]:
    """Up to `count` pictures of the file from `seek` or `start` (its first: neither), as players
    show them, each read as `as_read` says and shrunk to `side` a side; and their times, in seconds
    from the file's start. No pictures when the file has none from there. A `source` is read as the
    engine reads it, a damaged packet left out; a proxy must decode whole."""
    read = decoder.read(
        file_url(path), demuxer_options(), count, side,
        seek=seek, accurate=accurate, start=start, colour=as_read, leave_out_damaged=source, timeout=timeout,
    )  # fmt: skip
    return read.times, [_turned(frame, read.turn) for frame in read.frames]


def _side(picture: Picture) -> int:
    return math.isqrt(len(picture) // 3)


def _turned(picture: Picture, turn: Turn) -> Picture:
    """The picture with each pixel moved as `turn` moves it: as players show it, given a display
    matrix's. Turning and mirroring a square commute with shrinking it: ffmpeg's own turning before
    the shrink reads within 0.02 of 255 of this."""
    if turn == (1, 0, 0, 1):
        return picture
    return operator.itemgetter(*_moved_values(_side(picture), turn))(picture)  # type: ignore[no-any-return]


@functools.cache
def _moved_values(side: int, turn: Turn) -> tuple[int, ...]:
    """For each value of a picture `side` pixels a side turned by `turn`, where it was before."""
    a, b, c, d = turn
    was = [0] * (side * side)
    for y in range(side):
        for x in range(side):
            # Twice the distance from the middle, so that a side of even length stays whole.
            dx, dy = 2 * x - (side - 1), 2 * y - (side - 1)
            was[(b * dx + d * dy + side - 1) // 2 * side + (a * dx + c * dy + side - 1) // 2] = y * side + x
    return tuple(3 * pixel + channel for pixel in was for channel in range(3))
