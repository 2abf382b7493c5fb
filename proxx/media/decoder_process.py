"""The decoder process's program (`proxx.media.decoder` starts it): pictures of media files,
decoded by FFmpeg's libraries through PyAV and shrunk to a few pixels a side, and their sound at a
low rate, one read after another. It imports PyAV and the standard library only: what it imports
is most of what a start costs (about 80 ms of CPU, PyAV's share 70), paid once for each decoder a
process keeps.

It reads one request (a JSON line) at a time on its input and answers with a JSON line, then the
pictures' bytes (RGB, 8 bits a channel, rows top first) or the sound's (16-bit samples, each track's
channels interleaved, one track after another). It ends when its input does.
"""

from __future__ import annotations

import gc
import itertools
import json
import os
import sys
from collections.abc import Sequence
from typing import IO, Any

import av


def _serve(requests: IO[bytes], answers: IO[bytes]) -> None:
    av.logging.set_level(None)  # its words are carried in the errors it raises
    # The collection after each read (below) then walks only what reads made, not the 15,000
    # objects of the imports: well under 0.01 ms a read instead of 1.2 ms.
    gc.freeze()
    for line in requests:
        try:
            request = json.loads(line)
            if "tracks" in request:
                pictures = _sound(request)
                answer: dict[str, Any] = {"sizes": list(map(len, pictures))}
            else:
                times, pictures, turn = _decode(request)
                answer = {"times": times, "turn": turn}
            answer["size"] = sum(map(len, pictures))
        except (av.FFmpegError, OSError, ValueError, KeyError, TypeError, IndexError) as error:
            answer, pictures = {"error": _words(error), "size": 0}, []
        answers.write(json.dumps(answer).encode() + b"\n")
        for picture in pictures:
            answers.write(picture)
        answers.flush()
        # What a read leaves (its filter graph's nodes and the graph refer to one another) stayed
        # until Python's own collection: 33 MB more for each 1080p clip's reads, up to 345 MB.
        gc.collect()


def _words(error: BaseException) -> str:
    strerror = getattr(error, "strerror", None)
    return str(strerror or error or type(error).__name__)


def _decode(request: dict[str, Any]) -> tuple[list[float], list[bytes], list[int]]:
    count, side, seek, start = request["count"], request["side"], request["seek"], request["start"]
    earliest = seek if seek is not None and request["accurate"] else start
    with _open(request) as container:
        if not container.streams.video:
            raise ValueError("the file has no picture")
        stream = container.streams.video[0]
        # One thread: frame threads would decode pictures ahead that are never used.
        stream.thread_type = "NONE"
        stream.codec_context.thread_count = 1
        time_base = stream.time_base
        origin = (container.start_time or 0) / 1_000_000
        if seek is not None:
            try:
                container.seek(int((origin + seek) / time_base), stream=stream, backward=True)
            except av.FFmpegError:  # an MPEG-TS file of one keyframe: "End of file"
                return [], [], [1, 0, 0, 1]
        graph: Any = None
        source: Any = None
        sink: Any = None
        times: list[float] = []
        pictures: list[bytes] = []
        turn = [1, 0, 0, 1]

        def given(frames: Sequence[Any]) -> bool:
            nonlocal graph, source, sink, turn
            for frame in frames:
                at = frame.time
                if at is None:
                    continue
                at -= origin
                if earliest is not None and at < earliest - 1e-6:
                    continue
                if graph is None:
                    graph, source, sink = _graph(stream, side, request["colour"])
                    turn = _turn(frame)
                source.push(frame)
                pictures.append(_rows(sink.pull().planes[0], side))
                times.append(at)
                if len(pictures) == count:
                    return True
            return False

        # Decoding stops at the last picture wanted: one thread decodes no picture ahead of it.
        for packet in container.demux(stream):  # its last packet is empty, which flushes the decoder
            if given(_decoded(packet, request["leave_out_damaged"])):
                break
        return times, pictures, turn


def _decoded(packet: Any, leave_out_damaged: bool) -> Any:
    """The frames `packet` decodes to; none for a packet that does not decode where
    `leave_out_damaged` (as ffmpeg's command line, and so the engine, leaves it out and goes on),
    else FFmpeg's error."""
    try:
        return packet.decode()
    except av.FFmpegError:
        if leave_out_damaged:
            return []
        raise


def _open(request: dict[str, Any]) -> Any:
    """The file, opened with the demuxer options asked for. Its metadata, which no read uses, is
    read whatever its encoding: PyAV refuses text that is not UTF-8 (a title in Latin-1), which
    ffmpeg passes on as it finds it."""
    return av.open(request["path"], options=request["options"], metadata_errors="replace")


# How long before the time asked for a sound read opens the file. A file is opened at a keyframe of
# its pictures found by their decoding times, which may lie after the sound at that time: in MPEG-2
# in MPEG-PS, as SD camcorders write it, opened at the time itself, the read missed the sound's first
# 130 ms. Opened earlier, the samples before the time are left out to the sample.
SEEK_MARGIN = 1_000_000  # microseconds


def _sound(request: dict[str, Any]) -> list[bytes]:
    """The first `seconds` of each of the file's audio streams numbered in `tracks` (among its
    audio streams), from `seek` seconds after the file's start to the sample (none: from each
    stream's first), each made `rate` Hz and 16-bit with as many channels as `channels` gives it,
    interleaved; less where the file ends sooner. What decoding the file from its start and leaving
    out the samples before `seek` gives (ffmpeg's `-ss SEEK -i FILE -filter_complex
    "[0:a:N]aformat=...,atrim=duration=SECONDS"` gives it up to a frame off in DV and AVI files). A
    file opened past the time (its sound starts after it) is read again from its start."""
    try:
        return _sound_from(request, opened_early=True)
    except _OpenedLate:
        return _sound_from(request, opened_early=False)


class _OpenedLate(Exception):
    """A file opened before the time asked for gave sound that starts after it."""


def _sound_from(request: dict[str, Any], opened_early: bool) -> list[bytes]:
    """`_sound`, the file opened SEEK_MARGIN before the time asked for where `opened_early` (and
    _OpenedLate where its sound then starts after that time), else read from its start."""
    rate, seek = request["rate"], request["seek"]
    wanted = round(request["seconds"] * rate)
    with _open(request) as container:
        audio = container.streams.audio
        if any(not 0 <= track < len(audio) for track in request["tracks"]):
            raise ValueError(f"the file has {len(audio)} audio streams")
        streams = [audio[track] for track in request["tracks"]]
        start = round(seek * 1_000_000) + (container.start_time or 0)  # microseconds, as the file counts
        # Sooner than SEEK_MARGIN after the file's start, the file is read from its start.
        opened = opened_early and start - SEEK_MARGIN > (container.start_time or 0)
        if opened:
            container.seek(start - SEEK_MARGIN, backward=True)
        reads = {
            stream.index: _Heard(channels, rate, start / 1_000_000 if seek else None, wanted)
            for stream, channels in zip(streams, request["channels"], strict=True)
        }
        for packet in container.demux(*streams):  # each stream's last packet is empty: it flushes
            read = reads[packet.stream.index]
            if not read.full:
                for frame in _decoded(packet, request["leave_out_damaged"]):
                    read.take(frame)
                if opened and read.late:
                    raise _OpenedLate
            if all(read.full for read in reads.values()):
                break
        else:
            for read in reads.values():
                read.take(None)  # the file ended: what the filters hold
        return [bytes(read.heard[: wanted * read.frame_size]) for read in reads.values()]


class _Heard:
    """One audio stream's samples as they are made `rate` Hz and 16-bit with `channels` channels,
    none before `start` (seconds, as the file's timestamps count) where given. Its filters are made
    for the samples the decoder gives, as ffmpeg makes them, and made again where those change: a
    stream may state one sample format and decode to another (MPEG-1 Layer II in MPEG-TS)."""

    def __init__(self, channels: int, rate: int, start: float | None, wanted: int) -> None:
        self.frame_size = 2 * channels
        self.heard = bytearray()
        self._size = wanted * self.frame_size
        layout = "mono" if channels == 1 else "stereo" if channels == 2 else f"{channels}c"
        self._made = f"sample_fmts=s16:sample_rates={rate}:channel_layouts={layout}"
        self._start = start
        self._filters: tuple[Any, Any, Any] | None = None  # the graph, its source, its sink
        self._made_for: tuple[str, str, int] | None = None
        self.late = False  # its first samples came after `start`: the read began past it

    @property
    def full(self) -> bool:
        return len(self.heard) >= self._size

    def take(self, frame: Any) -> None:
        """`frame` through the filters (None: the stream's end), and what they give."""
        if frame is not None and self._made_for != (given := (frame.format.name, frame.layout.name, frame.sample_rate)):
            if self._made_for is None and self._start is not None and frame.time is not None:
                self.late = frame.time > self._start
            self.take(None)  # what the filters made for the samples before hold
            self._filters, self._made_for = self._graph(frame), given
        if self._filters is None:
            return
        _, source, sink = self._filters
        source.push(frame)
        while not self.full:
            try:
                made = sink.pull()
            except (av.BlockingIOError, av.EOFError):
                return
            self.heard += bytes(made.planes[0])[: made.samples * self.frame_size]

    def _graph(self, frame: Any) -> tuple[Any, Any, Any]:
        graph = av.filter.Graph()
        chain = [
            graph.add_abuffer(
                sample_rate=frame.sample_rate, format=frame.format.name, layout=frame.layout.name,
                channels=len(frame.layout.channels), time_base=frame.time_base,
            )
        ]  # fmt: skip
        if self._start is not None:  # ffmpeg's accurate seek: the samples before it, left out
            chain.append(graph.add("atrim", f"start={self._start!r}"))
        chain.append(graph.add("aformat", self._made))
        chain.append(graph.add("abuffersink"))
        for before, after in itertools.pairwise(chain):
            before.link_to(after)
        graph.configure()
        return graph, chain[0], chain[-1]


def _graph(stream: Any, side: int, colour: dict[str, str]) -> tuple[Any, Any, Any]:
    graph = av.filter.Graph()
    chain = [graph.add_buffer(template=stream)]
    if colour:
        chain.append(graph.add("setparams", ":".join(f"{name}={value}" for name, value in colour.items())))
    # full_chroma_int: shrinking 4:2:2 pictures and making them RGB in one step otherwise misplaces
    # their colour (a 4:2:2 proxy of a 4:4:4 source, the same pixels, read 20 of 255 apart).
    chain.append(graph.add("scale", f"{side}:{side}:flags=area+accurate_rnd+full_chroma_int"))
    chain.append(graph.add("format", "rgb24"))
    chain.append(graph.add("buffersink"))
    for before, after in itertools.pairwise(chain):
        before.link_to(after)
    graph.configure()
    return graph, chain[0], chain[-1]


def _rows(plane: Any, side: int) -> bytes:
    """The picture's rows without the padding each row of a plane may carry."""
    data, stride = bytes(plane), plane.line_size
    return b"".join(data[y * stride : y * stride + side * 3] for y in range(side))


def _turn(frame: Any) -> list[int]:
    """The display matrix's 2 x 2 part (16.16 fixed point), each rounded to -1, 0 or 1."""
    data = frame.side_data.get("DISPLAYMATRIX")
    if data is None:
        return [1, 0, 0, 1]
    matrix = [int.from_bytes(bytes(data)[at : at + 4], "little", signed=True) for at in range(0, 36, 4)]
    return [round(matrix[i] / 65536) for i in (0, 1, 3, 4)]


if __name__ == "__main__":
    # The answers go out on a copy of the output; the output itself then goes where errors go, so
    # that nothing a library prints can fall between an answer and its pictures.
    answers = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    _serve(sys.stdin.buffer, answers)
