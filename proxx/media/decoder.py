"""Pictures read from a media file, shrunk to a few pixels a side, by a decoder kept warm.

Verification reads up to four pictures of every clip (proxx.verify.picture). Each read in an ffmpeg
run of its own cost a fresh process faulting in its decoder's buffers: 65 % of a 1080p picture's
22-25 ms of CPU was the kernel's (3,371 page faults a read). A decoder process kept for the next
read (FFmpeg's libraries through PyAV, which reuse that memory) reads the same picture in 6-13 ms.

The decoding still happens in a process of its own, never in proxx's: a file crafted to crash or
hang a decoder stops that process (its read fails, in words, and the next read starts another),
not the job, the watch folder or the farm worker that asked. Each asking thread takes an idle
decoder process or starts one (about 80 ms of CPU: Python and FFmpeg's libraries), and gives it
back; one stays until proxx's process ends, as many as read at once (two with two clips at a time),
each holding about 50-60 MB after 1080p reads.

This file is also the decoder process's program (`python -I decoder.py`): it imports only the
standard library and PyAV, not proxx. It reads one request (a JSON line) at a time on its input
and answers with a JSON line, then the pictures' bytes (RGB, 8 bits a channel, rows top first).
It ends when its input does.
"""

from __future__ import annotations

import atexit
import gc
import itertools
import json
import os
import subprocess
import sys
import threading
from collections.abc import Mapping, Sequence
from typing import IO, Any

import attrs

# The longest answer line taken from a decoder (a few hundred bytes): {"times": [...], "turn": [a, b,
# c, d], "size": n} before its pictures' n bytes, or {"error": "...", "size": 0}.
_ANSWER_LIMIT = 1 << 20


@attrs.frozen
class Pictures:
    """What a read gave.

    Fields:
      times: each picture's time, in seconds from the file's start.
      frames: each picture's bytes: RGB, 8 bits a channel, rows top first, `side` x `side`.
      turn: how players turn them: the display matrix's 2 x 2 part (a, b, c, d) in whole units, which
        shows the pixel at (x, y) from the middle at (a x + c y, b x + d y); (1, 0, 0, 1) where none.
    """

    times: list[float]
    frames: list[bytes]
    turn: tuple[int, int, int, int]


class DecoderError(ValueError):
    """A read that gave no pictures: the file's words for why (ffmpeg's), or the decoder's end."""


def read(
    path: str,
    options: Mapping[str, str],
    count: int,
    side: int,
    *,
    seek: float | None = None,
    accurate: bool = False,
    start: float | None = None,
    colour: Mapping[str, str] | None = None,
    timeout: float = 60,
) -> Pictures:
    """Up to `count` pictures of the first video stream of the file at `path` (opened with the
    demuxer `options`), each shrunk to `side` x `side` by area. None from a time the file cannot be
    opened at.

    seek: open the file at its last keyframe at or before this time (seconds from its start), and,
      with `accurate`, give no picture before the time itself.
    start: give no picture before this time (seconds from the file's start), decoding from its start.
    colour: the colour matrix ("colorspace") and "range" the pictures are read as, where the file's
      own words are not to be taken.
    """
    request = {"path": path, "options": dict(options), "count": count, "side": side, "seek": seek,
               "accurate": accurate, "start": start, "colour": dict(colour or {})}  # fmt: skip
    process = _POOL.take()
    try:
        answer, pictures = _ask(process, request, count * side * side * 3, timeout)
    except BaseException:
        _end(process)
        raise
    _POOL.give_back(process)
    if "error" in answer:
        raise DecoderError(str(answer["error"]))
    a, b, c, d = (int(value) for value in answer["turn"])
    size = side * side * 3
    frames = [pictures[at : at + size] for at in range(0, len(pictures), size)]
    return Pictures([float(time) for time in answer["times"]], frames, (a, b, c, d))


def _ask(
    process: subprocess.Popen[bytes], request: dict[str, Any], most: int, timeout: float
) -> tuple[dict[str, Any], bytes]:
    assert process.stdin is not None and process.stdout is not None
    # A read that takes longer than `timeout` ends its process: its pipe then ends too.
    expired = threading.Event()

    def stop() -> None:
        expired.set()
        process.kill()

    timer = threading.Timer(timeout, stop)
    timer.start()
    try:
        process.stdin.write(json.dumps(request).encode() + b"\n")
        process.stdin.flush()
        line = process.stdout.readline(_ANSWER_LIMIT)
        answer = json.loads(line) if line.endswith(b"\n") else None
        if not isinstance(answer, dict) or not isinstance(answer.get("size"), int) or not 0 <= answer["size"] <= most:
            raise DecoderError(_ended(process, expired))
        size = answer["size"]
        pictures = process.stdout.read(size)
        if len(pictures) != size:
            raise DecoderError(_ended(process, expired))
        return answer, pictures
    except OSError as error:  # its input closed: it had ended
        raise DecoderError(_ended(process, expired)) from error
    finally:
        timer.cancel()


def _ended(process: subprocess.Popen[bytes], expired: threading.Event) -> str:
    if expired.is_set():
        return "the decoder took too long and was stopped"
    process.kill()
    code = process.wait()
    return f"the decoder stopped (exit code {code})" if code >= 0 else f"the decoder stopped (signal {-code})"


def _end(process: subprocess.Popen[bytes]) -> None:
    process.kill()
    process.wait()
    for pipe in (process.stdin, process.stdout):
        if pipe is not None:
            pipe.close()


class _Pool:
    """Decoder processes not reading now, for the next read."""

    def __init__(self) -> None:
        self._idle: list[subprocess.Popen[bytes]] = []
        self._lock = threading.Lock()

    def take(self) -> subprocess.Popen[bytes]:
        with self._lock:
            while self._idle:
                process = self._idle.pop()
                if process.poll() is None:
                    return process
                _end(process)
        # -I: none of the environment's Python settings, nor the current folder, change what it runs.
        return subprocess.Popen(
            [sys.executable, "-I", __file__], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip

    def give_back(self, process: subprocess.Popen[bytes]) -> None:
        with self._lock:
            self._idle.append(process)

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for process in idle:
            _end(process)

    def forget(self) -> None:
        """In a forked child: the parent's decoders are the parent's to use and end."""
        self._idle, self._lock = [], threading.Lock()


_POOL = _Pool()
atexit.register(_POOL.close)
os.register_at_fork(after_in_child=_POOL.forget)


# The decoder process.


def _serve(requests: IO[bytes], answers: IO[bytes]) -> None:
    import av

    av.logging.set_level(None)  # its words are carried in the errors it raises
    for line in requests:
        try:
            times, pictures, turn = _decode(av, json.loads(line))
            answer: dict[str, Any] = {"times": times, "turn": turn, "size": sum(map(len, pictures))}
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


def _decode(av: Any, request: dict[str, Any]) -> tuple[list[float], list[bytes], list[int]]:
    count, side, seek, start = request["count"], request["side"], request["seek"], request["start"]
    earliest = seek if seek is not None and request["accurate"] else start
    with av.open(request["path"], options=request["options"]) as container:
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
                    graph, source, sink = _graph(av, stream, side, request["colour"])
                    turn = _turn(frame)
                source.push(frame)
                pictures.append(_rows(sink.pull().planes[0], side))
                times.append(at)
                if len(pictures) == count:
                    return True
            return False

        # Decoding stops at the last picture wanted: one thread decodes no picture ahead of it.
        for packet in container.demux(stream):  # its last packet is empty, which flushes the decoder
            if given(stream.decode(packet)):
                break
        return times, pictures, turn


def _graph(av: Any, stream: Any, side: int, colour: dict[str, str]) -> tuple[Any, Any, Any]:
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
    _serve(sys.stdin.buffer, sys.stdout.buffer)
