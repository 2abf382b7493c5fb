"""The sound itself, which every stated fact (track count, channels, rate, codec, length) can leave
wrong: a renderer that maps a source's tracks in another order, swaps a stereo pair's sides, leaves a
track silent (its only one too), puts another clip's sound in its place, delays it against the
pictures (lips off), cuts it short or plays it at another speed and trims it to its length.

For every source with sound, ffmpeg (not the engine: it reads the two files) reads the first seconds
of each track of the source and of the output from their first pictures, and for a clip longer than
that the seconds before its end too, at a low rate, and each channel's loudness over time (its
envelope) is compared: each channel of output track N must sound like the same channel of source
track N, not like another of the source's channels, not like none of them, and not silent where the
source's is not; and it must follow the source's without a delay of more than a frame, at the start
and at the end. Tracks that cannot be told apart (silent, a steady tone, copies of one microphone)
pass: nothing tells them apart. One ffmpeg run a clip: about 55 ms of CPU for a 10 s 1080p clip with
a stereo track (half of it opening both files again to read before the end), 8 ms for three frames
at 160x90.
"""

from __future__ import annotations

import math
import operator
import subprocess
from collections.abc import Sequence
from fractions import Fraction

import attrs

from proxx.media.allowlist import probe_restrictions
from proxx.media.probe import MediaInfo, file_url
from proxx.media.tools import require_tool
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
    a P2 clip's tracks from its sound files (`MediaInfo.sound_files`), one track each."""

    path: str
    seek: float
    channels: tuple[int, ...]
    sound_files: tuple[str, ...] = ()

    def inputs(self) -> list[tuple[str, str]]:
        """Each file to open, with the stream of it each track is: (file, "a:N")."""
        if self.sound_files:
            return [(sound_file, "a:0") for sound_file in self.sound_files]
        return [(self.path, f"a:{track}") for track in range(len(self.channels))]


def sound_checks(source: MediaInfo, output: MediaInfo, timeout: float = 60) -> list[Check]:
    """`audio[N].sound` and `audio[N].sync` for each output track of a source with sound."""
    tracks = min(len(source.audio), len(output.audio))
    if tracks == 0:
        return []
    heard_channels = tuple(max(stream.channels, 1) for stream in source.audio)
    made_channels = tuple(max(stream.channels, 1) for stream in output.audio[:tracks])
    reads = [
        _Read(source.path, _lead(source), heard_channels, source.sound_files),
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
    except (OSError, subprocess.SubprocessError, ValueError) as error:
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
    """Each channel's loudness in 10 ms windows (0-1 of full scale), read by read and track by track,
    in one ffmpeg run: each read's file opened at its `seek`, every track at RATE, cut to SECONDS,
    all merged into one stream of every channel. The reads before the end are made up to SECONDS
    with silence where a file ends sooner: the merge ends with its shortest input."""
    tracks = [(i, track, channels) for i, read in enumerate(reads) for track, channels in enumerate(read.channels)]

    def cut(i: int, channels: int) -> str:
        layout = "mono" if channels == 1 else "stereo" if channels == 2 else f"{channels}c"
        padded = f"apad=whole_dur={SECONDS}," if i >= 2 else ""
        return f"aformat=sample_fmts=s16:sample_rates={RATE}:channel_layouts={layout},{padded}atrim=duration={SECONDS}"

    inputs: list[str] = []
    streams: list[str] = []  # each track's, as "<input number>:a:N"
    for read in reads:
        seek = ["-ss", f"{read.seek:.6f}"] if read.seek > 0 else []
        opened: dict[str, int] = {}
        for path, stream in read.inputs():
            if path not in opened:
                opened[path] = inputs.count("-i")
                inputs += [*seek, *probe_restrictions(), "-i", file_url(path)]
            streams.append(f"{opened[path]}:{stream}")
    graph = ";".join(f"[{streams[n]}]{cut(i, channels)}[t{n}]" for n, (i, _track, channels) in enumerate(tracks))
    graph += ";" + "".join(f"[t{n}]" for n in range(len(tracks))) + f"amerge=inputs={len(tracks)}"
    channels = sum(count for *_, count in tracks)
    command = [
        require_tool("ffmpeg").path, "-v", "error", "-nostdin", *inputs,
        "-filter_complex", graph, "-f", "s16le", "-ac", str(channels), "pipe:1",
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, timeout=timeout, check=False)
    if done.returncode != 0 or len(done.stdout) < 2 * channels * WINDOW:
        lines = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise ValueError(lines[-1] if lines else f"ffmpeg exited with code {done.returncode}")
    samples = memoryview(done.stdout).cast("h")
    frames = len(samples) // channels
    heard: list[Envelope] = []
    for channel in range(channels):
        values = samples[channel::channels].tolist()
        heard.append(
            [
                math.sqrt(sum(map(operator.mul, window, window)) / WINDOW) / 32768
                for window in (values[start : start + WINDOW] for start in range(0, frames - WINDOW + 1, WINDOW))
            ]
        )
    envelopes: list[list[list[Envelope]]] = [[] for _ in reads]
    first = 0
    for i, _track, count in tracks:
        envelopes[i].append(heard[first : first + count])
        first += count
    return envelopes
