"""The sound itself: a renderer that maps a source's tracks (a camera's boom, lavaliers and room
tracks; a broadcast camera's eight) in another order, swaps a stereo track's sides or leaves a track
silent, its only one too, makes a proxy whose every stated fact (track count, channels, rate, codec,
length) is right.

For every source with sound, the first seconds of each track of the source and of the output are read by
ffmpeg (not the engine: it reads the two files), at a low rate, and each channel's loudness over
time (its envelope) is compared: each channel of output track N must sound like the same channel of
source track N, not like another of the source's channels (a stereo pair's sides swapped), and must
not be silent where the source's is not. Tracks that
cannot be told apart (silent, a steady tone, copies of one microphone) pass: nothing tells them
apart. One ffmpeg run a clip: about 30 ms of CPU for a 10 s 1080p clip with a stereo track, 9 ms for
three frames at 160x90; a source without sound costs nothing here.
"""

from __future__ import annotations

import math
import subprocess
from collections.abc import Sequence

from proxx.media.allowlist import probe_restrictions
from proxx.media.probe import MediaInfo, file_url
from proxx.media.tools import require_tool
from proxx.verify.checks import Check

SECONDS = 2.0  # of each track, from its start: enough windows to tell voices and rooms apart
RATE = 8000  # Hz, mono: loudness over time needs no more
WINDOW = 400  # samples: 50 ms windows
# An envelope that moves less than this (of full scale) is steady: silence or a tone, not told apart.
STEADY = 0.002
# Output track N is source track M's when it follows M's envelope this closely and N's this much less.
FOLLOWS = 0.9
BY_MORE = 0.3
# Output track N is silent when its level is under this share of its source track's.
SILENT_SHARE = 0.03

Envelope = list[float]


def sound_checks(source: MediaInfo, output: MediaInfo, timeout: float = 60) -> list[Check]:
    """`audio[N].sound` for each output track of a source with sound."""
    tracks = min(len(source.audio), len(output.audio))
    if tracks == 0:
        return []
    heard_channels = [max(stream.channels, 1) for stream in source.audio]
    made_channels = [max(stream.channels, 1) for stream in output.audio[:tracks]]
    try:
        envelopes = _envelopes(source.path, heard_channels, output.path, made_channels, timeout)
    except (OSError, subprocess.SubprocessError, ValueError) as error:
        expected = "the first seconds of every track read from both files"
        return [Check(f"audio[{n}].sound", expected, f"not readable: {error}", False) for n in range(tracks)]
    heard, made = envelopes[: len(source.audio)], envelopes[len(source.audio) :]
    return [_sound(n, heard, made[n]) for n in range(tracks)]


def _sound(n: int, heard: Sequence[Sequence[Envelope]], made: Sequence[Envelope]) -> Check:
    """Output track N, channel by channel: each sounds like the same channel of source track N. A
    stereo track's two sides swapped, or one left silent, is as wrong as two tracks swapped."""
    name, expected = f"audio[{n}].sound", f"source track {n + 1}'s"
    sources = [(m, c, envelope) for m, track in enumerate(heard) for c, envelope in enumerate(track)]
    for k, envelope in enumerate(made[: len(heard[n])]):
        wrong = _channel(n, k, sources, envelope)
        if wrong is not None:
            side = f"channel {k + 1}: " if len(made) > 1 else ""
            return Check(name, expected, side + wrong, False)
    return Check(name, expected, expected, True)


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


def _envelopes(
    source: str, source_channels: Sequence[int], output: str, output_channels: Sequence[int], timeout: float
) -> list[list[Envelope]]:
    """Each channel's loudness in 50 ms windows (0-1 of full scale), track by track, the source's
    tracks first, read in one ffmpeg run: every track at RATE, cut to SECONDS, all merged into one
    stream of every channel."""
    tracks = [(file, track, channels) for file, counts in ((0, source_channels), (1, output_channels))
              for track, channels in enumerate(counts)]  # fmt: skip

    def cut(channels: int) -> str:
        layout = "mono" if channels == 1 else "stereo" if channels == 2 else f"{channels}c"
        return f"aformat=sample_fmts=s16:sample_rates={RATE}:channel_layouts={layout},atrim=duration={SECONDS}"

    graph = ";".join(f"[{file}:a:{track}]{cut(channels)}[t{i}]" for i, (file, track, channels) in enumerate(tracks))
    graph += ";" + "".join(f"[t{i}]" for i in range(len(tracks))) + f"amerge=inputs={len(tracks)}"
    channels = sum(count for *_, count in tracks)
    command = [
        require_tool("ffmpeg").path, "-v", "error", "-nostdin",
        *probe_restrictions(), "-i", file_url(source), *probe_restrictions(), "-i", file_url(output),
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
        values = samples[channel::channels]
        heard.append(
            [
                math.sqrt(sum(v * v for v in values[start : start + WINDOW]) / WINDOW) / 32768
                for start in range(0, frames - WINDOW + 1, WINDOW)
            ]
        )
    envelopes, first = [], 0
    for *_, count in tracks:
        envelopes.append(heard[first : first + count])
        first += count
    return envelopes
