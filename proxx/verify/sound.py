"""The sound itself, which every stated fact (track count, channels, rate, codec, length) can leave
wrong: a renderer that maps a source's tracks in another order, swaps a stereo pair's sides, leaves a
track silent (its only one too), puts another clip's sound in its place, delays it against the
pictures (lips off), cuts it short or plays it at another speed and trims it to its length.

For every source with sound, FFmpeg's libraries in proxx's decoder process (`proxx.media.decoder`;
not the engine) read the first seconds of each track of the source and of the output from their
first pictures, and for a clip longer than that the seconds before its end too, at a low rate, and
each channel's loudness over time (its envelope) is compared: each channel of output track N must
sound like the same channel of source track N, not like another of the source's channels, not like
none of them, and not silent where the source's is not; and it must follow the source's without a
delay of more than a frame, at the start and at the end. Tracks that cannot be told apart (silent, a
steady tone, copies of one microphone) pass: nothing tells them apart. One read a file and place:
a one-second 640x360 clip with a stereo track costs the decoder kept between reads 8 ms of CPU,
where an ffmpeg run of both files, a fresh process, took 17 (benchmarks/HISTORY.md, "Nineteenth
session").
"""

from __future__ import annotations

import math
import operator
from collections.abc import Sequence
from fractions import Fraction

import attrs

from proxx.media import decoder
from proxx.media.allowlist import demuxer_options
from proxx.media.probe import MediaInfo, file_url
from proxx.verify.checks import Check

SECONDS = 2.0  # of each track, from its start: enough windows to tell voices and rooms apart
# A clip whose sound lasts this much longer than SECONDS is read again as long, ending this much
# before its end (a coded stream's padded last frame, a stated length's rounding): the end of sound
# cut short, or played slower or faster and trimmed to length, is where it is heard most.
LATER = 1.0
BEFORE_END = 0.25
RATE = 8000  # Hz, mono: loudness over time needs no more
WINDOW = 80  # samples: 10 ms windows, in which a delay is measured
COARSE = 5  # fine windows to a coarse one (50 ms), in which channels are told apart
# An envelope that moves less than this (of full scale) is steady: silence or a tone, not told apart.
STEADY = 0.002
# Output track N is source track M's when it follows M's envelope this closely and N's this much less.
FOLLOWS = 0.9
BY_MORE = 0.3
# Output track N is silent when its level is under this share of its source track's, and silent in
# part when it is for this long where its source's sounds.
SILENT_SHARE = 0.03
SILENT_STRETCH = 0.25
# A channel that follows its source channel's envelope less than this, however shifted, is another
# sound (right proxies, PCM or AAC, follow it at 0.95 and more).
ALIKE = 0.5
# A delay is told where the envelope, shifted by it, follows the source's this closely, and this
# much more closely than unshifted (a steady rhythm follows itself at several shifts).
IN_STEP = 0.8
CLEARER = 0.05
# The delays looked at, in fine windows either way, and the least overlap they are measured over.
MOST_DELAY = 30
LEAST_OVERLAP = 30

Envelope = list[float]


@attrs.frozen
class _Read:
    """Each track's channels' fine envelopes of one file, from `seek` seconds after its first picture;
    a P2 clip's tracks from its sound files (`MediaInfo.sound_files`), one track each. A `source` is
    read as the engine reads it, a damaged packet left out; a proxy must decode whole."""

    path: str
    seek: float
    channels: tuple[int, ...]
    sound_files: tuple[str, ...] = ()
    source: bool = False

    def files(self) -> dict[str, list[tuple[int, int, int]]]:
        """Each file to open, with the tracks it holds: (track, its audio stream's number in the
        file, channels)."""
        if self.sound_files:
            return {
                sound_file: [(track, 0, channels)]
                for track, (sound_file, channels) in enumerate(zip(self.sound_files, self.channels, strict=True))
            }
        return {self.path: [(track, track, channels) for track, channels in enumerate(self.channels)]}


def sound_checks(source: MediaInfo, output: MediaInfo, timeout: float = 60) -> list[Check]:
    """`audio[N].sound` and `audio[N].sync` for each output track of a source with sound."""
    tracks = min(len(source.audio), len(output.audio))
    if tracks == 0:
        return []
    heard_channels = tuple(max(stream.channels, 1) for stream in source.audio)
    made_channels = tuple(max(stream.channels, 1) for stream in output.audio[:tracks])
    reads = [
        _Read(source.path, _lead(source), heard_channels, source.sound_files, source=True),
        _Read(output.path, _lead(output), made_channels),
    ]
    # The last seconds the proxy must keep: its pictures' and each track's, as both files state them.
    lengths = [
        length for length in (source.video_duration, *(s.duration for s in (*source.audio, *output.audio))) if length
    ]
    end = min(lengths, default=0.0) - SECONDS - BEFORE_END
    if end >= LATER:
        reads += [attrs.evolve(read, seek=read.seek + end) for read in reads]
    try:
        envelopes = _envelopes(reads, timeout)
    except (OSError, ValueError) as error:
        expected = "the first seconds of every track read from both files"
        return [
            Check(f"audio[{n}].{name}", expected, f"not readable: {error}", False)
            for n in range(tracks)
            for name in ("sound", "sync")
        ]
    rate = output.video.fps if output.video is not None else Fraction(0)
    frame = float(1 / rate) if rate > 0 else 1 / 24
    checks = []
    for n in range(tracks):
        # Each channel against its source channel in each pair of reads (the source's, the output's):
        # at the start, and before the end.
        pairs = [
            [_compare(own, made) for own, made in zip(heard[n], made[n], strict=False)]
            for heard, made in zip(envelopes[::2], envelopes[1::2], strict=True)
        ]
        checks.append(_sound(n, envelopes[0], envelopes[1][n], pairs))
        checks.append(_sync(n, pairs, frame))
    return checks


def _lead(info: MediaInfo) -> float:
    """Where the first picture is, from the file's start: a proxy starts at its source's first
    picture, and each file is read from there."""
    if info.video is None or info.video.start_time is None:
        return 0.0
    return max(info.video.start_time - (info.start_time or 0.0), 0.0)


@attrs.frozen
class _Compared:
    """One output channel against its source channel over one read: how long it is silent where the
    source's sounds, how many fine windows late it follows it (negative: early), and how closely."""

    silent: float
    late: int
    follows: float


def _compare(own: Envelope, made: Envelope) -> _Compared:
    silent = _silent_seconds(_coarse(own), _coarse(made))
    late, follows = _delay(own, made) if silent < SILENT_STRETCH else (0, 1.0)
    return _Compared(silent, late, follows)


def _silent_seconds(own: Envelope, made: Envelope) -> float:
    """How long `made` is silent in the coarse windows where `own` sounds (a tenth of its loudest
    and more): a track cut short with silence keeps its length."""
    loudest = max(own, default=0.0)
    windows = sum(1 for x, y in zip(own, made, strict=False) if x >= loudest / 10 > 0 and y < SILENT_SHARE * x)
    return windows * COARSE * WINDOW / RATE


def _sound(
    n: int, heard: Sequence[Sequence[Envelope]], made: Sequence[Envelope], pairs: Sequence[Sequence[_Compared]]
) -> Check:
    """Output track N, channel by channel: each sounds like the same channel of source track N. A
    stereo track's two sides swapped, or one left silent, is as wrong as two tracks swapped; so is a
    sound that follows none of the source's, or one silent before its end where the source's is not."""
    name, expected = f"audio[{n}].sound", f"source track {n + 1}'s"
    coarse_heard = [[_coarse(envelope) for envelope in track] for track in heard]
    sources = [(m, c, envelope) for m, track in enumerate(coarse_heard) for c, envelope in enumerate(track)]
    for k, envelope in enumerate(made[: len(heard[n])]):
        wrong = _channel(n, k, sources, _coarse(envelope))
        for where, pair in zip(("at the start", "before the end"), pairs, strict=False):
            if wrong is None and pair[k].silent >= SILENT_STRETCH:
                wrong = f"silent for {pair[k].silent:.2f} s {where}"
            elif wrong is None and pair[k].follows < ALIKE:
                wrong = f"another sound than the source's {where}, or the source's out of step or at another speed"
        if wrong is not None:
            side = f"channel {k + 1}: " if len(made) > 1 else ""
            return Check(name, expected, side + wrong, False)
    return Check(name, expected, expected, True)


def _sync(n: int, pairs: Sequence[Sequence[_Compared]], frame: float) -> Check:
    """Output track N's sound as much ahead of or behind its pictures as the source's, within a
    frame, at the start and before the end: sound delayed inside its stream (its stated start
    right), or played slower or faster, and trimmed to length has every stated fact right, and lips
    move out of step with their words."""
    expected = f"in step with the source's (within {frame * 1000:.0f} ms)"
    for where, channels in zip(("at the start", "before the end"), pairs, strict=False):
        for channel in channels:
            late = channel.late * WINDOW / RATE
            if channel.follows >= IN_STEP and abs(late) > frame:
                words = f"{abs(late) * 1000:.0f} ms {'late' if late > 0 else 'early'} {where}"
                return Check(f"audio[{n}].sync", expected, words, False)
    return Check(f"audio[{n}].sync", expected, expected, True)


def _delay(own: Envelope, made: Envelope) -> tuple[int, float]:
    """How many fine windows `made` follows `own` late (negative: early), and how closely it follows
    it there: (0, 1.0) for envelopes too steady or too short to tell."""
    count = min(len(own), len(made))
    if count < LEAST_OVERLAP + 1 or _spread(own[:count]) < STEADY or _spread(made[:count]) < STEADY:
        return 0, 1.0
    most = min(MOST_DELAY, count - LEAST_OVERLAP)
    own, made = own[:count], made[:count]
    unshifted = _correlation(own, made)
    # The closest coarse shift first, then the fine ones about it: a third of the correlations.
    coarse_own, coarse_made = _coarse(own), _coarse(made)
    around = max(
        range(-(most // COARSE), most // COARSE + 1), key=lambda shift: _shifted(coarse_own, coarse_made, shift)
    )
    best, windows = unshifted, 0
    for shift in range(max(-most, (around - 1) * COARSE), min(most, (around + 1) * COARSE) + 1):
        follows = _shifted(own, made, shift)
        if follows > best:
            best, windows = follows, shift
    return (windows, best) if best - unshifted >= CLEARER else (0, max(best, unshifted))


def _shifted(own: Envelope, made: Envelope, shift: int) -> float:
    """How closely `made` follows `own` `shift` windows late (negative: early)."""
    count = len(own)
    if shift >= 0:
        return _correlation(own[: count - shift], made[shift:count])
    return _correlation(own[-shift:count], made[: count + shift])


def _coarse(envelope: Envelope) -> Envelope:
    """50 ms windows' loudness from 10 ms ones'."""
    return [
        math.sqrt(sum(x * x for x in envelope[start : start + COARSE]) / COARSE)
        for start in range(0, len(envelope) - COARSE + 1, COARSE)
    ]


def _channel(n: int, k: int, sources: Sequence[tuple[int, int, Envelope]], made: Envelope) -> str | None:
    """What is wrong with channel K of output track N (None: nothing heard is)."""
    own = next(envelope for m, c, envelope in sources if (m, c) == (n, k))
    if _level(own) > 0 and _level(made) < SILENT_SHARE * _level(own):
        return "silent"
    if _spread(made) < STEADY:
        return None  # steady: nothing to tell it by
    same = _correlation(own, made)
    others = [
        (_correlation(other, made), m, c) for m, c, other in sources if (m, c) != (n, k) and _spread(other) >= STEADY
    ]
    if others:
        closest, m, c = max(others)
        if closest >= FOLLOWS and closest - same >= BY_MORE:
            channels = sum(1 for track, *_ in sources if track == m)
            return f"source track {m + 1}'s" + (f" channel {c + 1}" if channels > 1 else "")
    return None


def _level(envelope: Envelope) -> float:
    return sum(envelope) / len(envelope) if envelope else 0.0


def _spread(envelope: Envelope) -> float:
    mean = _level(envelope)
    return math.sqrt(sum((x - mean) ** 2 for x in envelope) / len(envelope)) if envelope else 0.0


def _correlation(a: Envelope, b: Envelope) -> float:
    count = min(len(a), len(b))
    a, b = a[:count], b[:count]
    spread_a, spread_b = _spread(a), _spread(b)
    if count == 0 or spread_a < STEADY or spread_b < STEADY:
        return 0.0
    mean_a, mean_b = _level(a), _level(b)
    return sum((x - mean_a) * (y - mean_b) for x, y in zip(a, b, strict=True)) / (count * spread_a * spread_b)


def _envelopes(reads: Sequence[_Read], timeout: float) -> list[list[list[Envelope]]]:
    """Each channel's loudness in 10 ms windows (0-1 of full scale), read by read and track by track:
    each read's files opened at its `seek` by the decoder process (`proxx.media.decoder`), every
    track made RATE Hz and cut to SECONDS. The reads before the end are made up to SECONDS with
    silence where a file ends sooner; then every track is cut to the shortest, so that each pair of
    reads is compared over the same windows."""
    heard: list[list[bytes]] = []  # read by read, track by track: 16-bit samples, channels interleaved
    for i, read in enumerate(reads):
        tracks = [b""] * len(read.channels)
        for path, held in read.files().items():
            given = decoder.sound(
                file_url(path), demuxer_options(), [(stream, channels) for _, stream, channels in held],
                RATE, SECONDS, seek=read.seek, leave_out_damaged=read.source, timeout=timeout,
            )  # fmt: skip
            for (track, _, channels), samples in zip(held, given, strict=True):
                # The reads before the end: a file ending sooner, made up with silence.
                tracks[track] = samples.ljust(round(SECONDS * RATE) * 2 * channels, b"\0") if i >= 2 else samples
        heard.append(tracks)
    frames = min(len(samples) // (2 * channels) for tracks, read in zip(heard, reads, strict=True)
                 for samples, channels in zip(tracks, read.channels, strict=True))  # fmt: skip
    if frames < WINDOW:
        raise ValueError("no sound was decoded")
    return [
        [_channel_envelopes(samples, channels, frames) for samples, channels in zip(tracks, read.channels, strict=True)]
        for tracks, read in zip(heard, reads, strict=True)
    ]


def _channel_envelopes(samples: bytes, channels: int, frames: int) -> list[Envelope]:
    """Each channel's loudness in WINDOW-sample windows over its first `frames` samples."""
    values = memoryview(samples).cast("h")
    envelopes = []
    for channel in range(channels):
        own = values[channel : frames * channels : channels].tolist()
        envelopes.append(
            [
                math.sqrt(sum(map(operator.mul, window, window)) / WINDOW) / 32768
                for window in (own[start : start + WINDOW] for start in range(0, frames - WINDOW + 1, WINDOW))
            ]
        )
    return envelopes
