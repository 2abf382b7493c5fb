"""Pictures read from a media file, shrunk to a few pixels a side, and its sound at a low rate, by a
decoder kept warm.

Verification reads up to four pictures of every clip (proxx.verify.picture) and the first seconds
of its sound (proxx.verify.sound). Each picture read in an ffmpeg run of its own cost a fresh
process faulting in its decoder's buffers: 65 % of a 1080p picture's 22-25 ms of CPU was the
kernel's (3,371 page faults a read). A decoder process kept for the next read (FFmpeg's libraries
through PyAV, which reuse that memory) reads the same picture in 6-13 ms.

The decoding still happens in a process of its own, never in proxx's: a file crafted to crash or
hang a decoder stops that process (its read fails, in words, and the next read starts another),
not the job, the watch folder or the farm worker that asked. Each asking thread takes an idle
decoder process or starts one (about 80 ms of CPU: Python and FFmpeg's libraries), and gives it
back; a job starts one as its clips begin to render (`warm`), so that its first read does not wait
for it. There are at most as many as the process has cores, each holding about 50-60 MB after 1080p
reads; one left idle for IDLE_SECONDS ends, so that a watch folder or a web server waiting for work
holds none.

The decoder process runs `proxx/media/decoder_process.py` (`python -I`), which imports PyAV and the
standard library only: what it imports is most of what a start costs.
"""

from __future__ import annotations

import atexit
import itertools
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

# The longest answer line taken from a decoder (a few hundred bytes): {"times": [...], "turn": [a, b,
# c, d], "size": n} before its pictures' n bytes, or {"error": "...", "size": 0}.
_ANSWER_LIMIT = 1 << 20
# How long a decoder waits for its next read before it ends: far longer than between two reads of a
# job (a clip's reads come within its verification, the next clip's within its render).
IDLE_SECONDS = 30.0


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
    """A read that gave no pictures: FFmpeg's words for why, or how the decoder process ended."""


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
    leave_out_damaged: bool = False,
    timeout: float = 60,
) -> Pictures:
    """Up to `count` pictures of the first video stream of the file at `path` (opened with the
    demuxer `options`), each shrunk to `side` x `side` by area. None from a time the file cannot be
    opened at.

    seek: open the file at its last keyframe at or before this time (seconds from its start), and,
      with `accurate`, give no picture before the time itself.
    start: give no picture before this time (seconds from the file's start), decoding from its start
      or, given `seek` too, from that keyframe.
    colour: the colour matrix ("colorspace") and "range" the pictures are read as, where the file's
      own words are not to be taken.
    leave_out_damaged: a packet that does not decode is left out and the read goes on, as ffmpeg's
      command line, and so the engine, reads a source; otherwise (a file proxx made, which must
      decode whole) the read fails.
    """
    request = {"path": path, "options": dict(options), "count": count, "side": side, "seek": seek,
               "accurate": accurate, "start": start, "colour": dict(colour or {}),
               "leave_out_damaged": leave_out_damaged}  # fmt: skip
    size = side * side * 3
    answer, pictures = _exchange(request, count * size, timeout, lambda answer, given: len(given) % size == 0)
    a, b, c, d = (int(value) for value in answer["turn"])
    frames = [pictures[at : at + size] for at in range(0, len(pictures), size)]
    return Pictures([float(time) for time in answer["times"]], frames, (a, b, c, d))


def sound(
    path: str,
    options: Mapping[str, str],
    tracks: Sequence[tuple[int, int]],
    rate: int,
    seconds: float,
    *,
    seek: float = 0.0,
    leave_out_damaged: bool = False,
    timeout: float = 60,
) -> list[bytes]:
    """The first `seconds` of sound of each (audio stream, channels) in `tracks` (the stream's
    number among the file's audio streams) of the file at `path` (opened with the demuxer
    `options`), from `seek` seconds after the file's start, to the sample: each made `rate` Hz,
    16-bit, with that many channels, interleaved (as ffmpeg's `aformat` makes it). Shorter where the
    file ends sooner. `leave_out_damaged` as `read` takes it."""
    request = {
        "path": path, "options": dict(options), "tracks": [track for track, _ in tracks],
        "channels": [channels for _, channels in tracks], "rate": rate, "seconds": seconds, "seek": seek,
        "leave_out_damaged": leave_out_damaged,
    }  # fmt: skip
    most = [round(seconds * rate) * 2 * channels for _, channels in tracks]

    def whole(answer: dict[str, Any], heard: bytes) -> bool:
        sizes = answer.get("sizes")
        return (
            isinstance(sizes, list)
            and len(sizes) == len(most)
            and all(isinstance(size, int) and 0 <= size <= limit for size, limit in zip(sizes, most, strict=True))
            and sum(sizes) == len(heard)
        )

    answer, heard = _exchange(request, sum(most), timeout, whole)
    sizes = answer["sizes"]
    ends = list(itertools.accumulate(sizes))
    return [heard[end - size : end] for end, size in zip(ends, sizes, strict=True)]


def warm() -> None:
    """Start a decoder process now unless one is idle: the next read finds it ready, its start
    (about 80 ms of CPU, 0.1 s) made while the caller does other work (an engine renders) rather
    than when the read is asked for. Idle from now, it ends after IDLE_SECONDS unused, as any idle
    decoder does (a render longer than that: the first read starts another, as without it)."""
    _POOL.warm()


def _exchange(
    request: dict[str, Any], most: int, timeout: float, whole: Callable[[dict[str, Any], bytes], bool]
) -> tuple[dict[str, Any], bytes]:
    """`request` answered by an idle decoder process (or a new one): its answer and up to `most`
    bytes, which `whole` finds well made; DecoderError with FFmpeg's words where it read nothing. A
    process whose answer is not well made (a decoder a crafted file took over) reads nothing more."""
    process = _POOL.take()
    try:
        answer, given = _ask(process, request, most, timeout)
        if "error" not in answer and not whole(answer, given):
            raise DecoderError("the decoder's answer could not be read")
    except BaseException:
        _POOL.discard(process)
        raise
    _POOL.give_back(process)
    if "error" in answer:
        raise DecoderError(str(answer["error"]))
    return answer, given


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
        try:
            answer = json.loads(line) if line.endswith(b"\n") else None
        except ValueError:
            answer = None
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
    try:
        code = process.wait(timeout=1)  # a decoder that ended closed its output as it ended
    except subprocess.TimeoutExpired:
        return "the decoder's answer could not be read"
    return f"the decoder stopped (exit code {code})" if code >= 0 else f"the decoder stopped (signal {-code})"


def _end(process: subprocess.Popen[bytes]) -> None:
    process.kill()
    process.wait()
    for pipe in (process.stdin, process.stdout):
        if pipe is not None:
            pipe.close()


class _Pool:
    """Decoder processes, each reading for one thread at a time: at most `most`, as many as the
    process's cores (a third thread verifying beside two would only wait for a core), the idle ones
    kept for the next read."""

    def __init__(self, most: int) -> None:
        self.most = most
        self._idle: list[tuple[subprocess.Popen[bytes], float]] = []  # each with when it was given back
        self._started = 0  # idle or reading
        self._changed = threading.Condition()
        self._ender: threading.Thread | None = None  # ends the decoders left idle

    def take(self) -> subprocess.Popen[bytes]:
        with self._changed:
            while True:
                if self._idle:
                    process, _ = self._idle.pop()  # the latest given back: the oldest ones end first
                    if process.poll() is None:
                        return process
                    self._started -= 1
                    _end(process)
                elif self._started < self.most:
                    self._started += 1
                    break
                else:
                    self._changed.wait()
        return self._start()

    def warm(self) -> None:
        with self._changed:
            if self._idle or self._started >= self.most:
                return
            self._started += 1
        self.give_back(self._start())  # idle while it starts: a read given it waits for its answer

    def _start(self) -> subprocess.Popen[bytes]:
        """A new decoder process, counted in `_started` already."""
        try:
            # -I: none of the environment's Python settings, nor the current folder, change what it runs.
            return subprocess.Popen(
                [sys.executable, "-I", str(Path(__file__).with_name("decoder_process.py"))],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            )  # fmt: skip
        except BaseException:
            self._gone()
            raise

    def give_back(self, process: subprocess.Popen[bytes]) -> None:
        with self._changed:
            self._idle.append((process, time.monotonic()))
            self._changed.notify_all()
            if self._ender is None:
                self._ender = threading.Thread(target=self._end_idle, name="proxx-decoder-idle", daemon=True)
                self._ender.start()

    def _end_idle(self) -> None:
        """End each decoder idle for IDLE_SECONDS, until none is idle."""
        while True:
            with self._changed:
                if not self._idle:
                    self._ender = None
                    return
                now = time.monotonic()
                ended = [process for process, since in self._idle if now - since >= IDLE_SECONDS]
                if not ended:
                    self._changed.wait(min(since for _, since in self._idle) + IDLE_SECONDS - now)
                    continue
                self._idle = [(process, since) for process, since in self._idle if process not in ended]
                self._started -= len(ended)
                self._changed.notify_all()
            for process in ended:
                _end(process)

    def discard(self, process: subprocess.Popen[bytes]) -> None:
        """A process whose read failed: ended, and another started in its place when needed."""
        _end(process)
        self._gone()

    def _gone(self) -> None:
        with self._changed:
            self._started -= 1
            self._changed.notify_all()

    def close(self) -> None:
        with self._changed:
            idle, self._idle = self._idle, []
            self._started -= len(idle)
            self._changed.notify_all()
        for process, _ in idle:
            _end(process)

    def forget(self) -> None:
        """In a forked child: the parent's decoders are the parent's to use and end."""
        self._idle, self._started, self._changed, self._ender = [], 0, threading.Condition(), None


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # macOS, Windows: no affinity to ask
        return os.cpu_count() or 1


_POOL = _Pool(_cores())
atexit.register(_POOL.close)
if hasattr(os, "register_at_fork"):  # not on Windows, which starts processes afresh
    os.register_at_fork(after_in_child=_POOL.forget)
