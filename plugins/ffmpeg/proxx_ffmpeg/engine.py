"""The FFmpeg engine: renders canonical profiles whose `engine` is `ffmpeg`."""

from __future__ import annotations

import codecs
import contextlib
import os
import selectors
import signal
import subprocess
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import IO

from proxx.plugin import (
    Availability,
    ClipSpec,
    Engine,
    ExecutionError,
    JobSpec,
    JobValidationError,
    MediaInfo,
    RenderReport,
    RenderTask,
    cancelled_error,
    cannot_render,
    find_tool,
    proxy_target,
    require_tool,
)
from proxx_ffmpeg.fields import FieldOrderError, set_field_order
from proxx_ffmpeg.reaper import dies_with_this_process
from proxx_ffmpeg.recipes import build_args, unsupported

# stderr lines that say nothing about why ffmpeg failed
CANCEL_POLL = 0.25  # seconds between asks whether the operator cancelled: a cancel stops the encoder this soon
_NOISE = ("Press [q]", "Conversion failed!", "frame=", "size=", "video:", "    ")


def last_meaningful_line(stderr: str) -> str:
    lines = [line.strip() for line in stderr.splitlines() if line.strip() and not line.startswith(_NOISE)]
    return lines[-1] if lines else "no error message"


class FFmpegEngine(Engine):
    name = "ffmpeg"
    display_name = "FFmpeg"

    def availability(self) -> Availability:
        ffmpeg, ffprobe = find_tool("ffmpeg"), find_tool("ffprobe")
        if ffmpeg is None or ffprobe is None:
            missing = " and ".join(n for n, t in (("ffmpeg", ffmpeg), ("ffprobe", ffprobe)) if t is None)
            return Availability(False, f"{missing} not found")
        return Availability(True, version=ffmpeg.version)

    def validate_clip(self, spec: JobSpec, clip: ClipSpec, source: MediaInfo) -> Iterable[JobValidationError]:
        why = unsupported(spec.canonical_profile, source)
        if why:
            yield cannot_render(clip, why)

    def render(self, task: RenderTask) -> RenderReport:
        ffmpeg = require_tool("ffmpeg")
        assert task.source is not None  # ffmpeg never takes RAW: validation refused it
        command = build_args(ffmpeg.path, task.source, task.partial_path, task.spec.canonical_profile, task.threads)
        duration = task.source.video_duration or 0.0
        with open(task.log_path, "a", encoding="utf-8") as log:
            log.write(f"\n=== clip {task.clip.index}: {task.clip.source}\n$ {subprocess.list2cmdline(command)}\n")
            log.flush()
            started = time.monotonic()
            with (
                subprocess.Popen(
                    command,
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    start_new_session=True,  # its own process group, killed whole on timeout
                ) as process,
                dies_with_this_process(process),
            ):
                try:
                    stderr, stopped = _follow(
                        process, log, duration, task.progress, started + task.timeout, task.is_cancelled
                    )
                    code = process.wait()
                finally:
                    if process.poll() is None:  # a failure while following: never leave it running
                        _kill_group(process)
            elapsed = time.monotonic() - started
            log.write(f"=== exit code {code} after {elapsed:.2f} s\n")
        if stopped == "cancelled":
            raise cancelled_error(task.clip.source)
        if stopped == "timeout":
            raise ExecutionError(
                "timeout",
                f"FFmpeg timed out after {task.timeout:g} seconds",
                {"source": task.clip.source, "timeout_seconds": task.timeout},
            )
        if code != 0:
            raise ExecutionError(
                "engine_failed",
                f"FFmpeg exited with code {code}: {last_meaningful_line(stderr)}",
                {"source": task.clip.source, "exit_code": code},
            )
        target = proxy_target(task.spec.canonical_profile, task.source)
        if target.interlaced and task.spec.canonical_profile.container == "mov":
            try:
                set_field_order(Path(task.partial_path), target.field_order)
            except (OSError, FieldOrderError) as error:
                raise ExecutionError(
                    "engine_failed",
                    f"FFmpeg's output could not be marked with the source's field order: {error}",
                    {"source": task.clip.source},
                ) from error
        return RenderReport(
            engine_version=ffmpeg.version,
            details={"binary": ffmpeg.path, "binary_origin": ffmpeg.origin, "seconds": round(elapsed, 3)},
        )


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)


def _follow(
    process: subprocess.Popen[bytes],
    log: IO[str],
    duration: float,
    report: Callable[[float], None],
    deadline: float,
    cancelled: Callable[[], bool],
) -> tuple[str, str]:
    """Read both of ffmpeg's pipes in this thread until they close: `-progress pipe:1` blocks on
    stdout (key=value lines ending with progress=continue|end) and its messages on stderr, copied to
    the job log as they come and returned for the failure message. Past `deadline`, or once the
    operator cancels (asked at least every CANCEL_POLL seconds), its process group is killed and
    (stderr so far, "timeout" or "cancelled") returned; else (stderr, ""). No helper threads: on a
    batch of short clips, starting two threads per clip cost more than the reading."""
    messages: list[str] = []
    decoder = codecs.getincrementaldecoder("utf-8")("replace")
    progress = b""
    assert process.stdout is not None and process.stderr is not None
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ, "progress")
        selector.register(process.stderr, selectors.EVENT_READ, "messages")
        while selector.get_map():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                _kill_group(process)
                return "".join(messages), "timeout"
            if cancelled():
                _kill_group(process)
                log.write("=== cancelled by the operator: the encoder was stopped\n")
                return "".join(messages), "cancelled"
            for key, _ in selector.select(min(remaining, CANCEL_POLL)):
                chunk = os.read(key.fd, 65536)
                if not chunk:
                    selector.unregister(key.fileobj)
                elif key.data == "messages":
                    text = decoder.decode(chunk)
                    messages.append(text)
                    log.write(text)
                else:
                    *lines, progress = (progress + chunk).split(b"\n")
                    for line in lines:
                        _progress_line(line, duration, report)
    log.flush()
    return "".join(messages), ""


def _progress_line(line: bytes, duration: float, report: Callable[[float], None]) -> None:
    key, _, value = line.decode("ascii", "replace").strip().partition("=")
    if key == "out_time_us" and duration > 0 and value.lstrip("-").isdigit():
        report(min(1.0, max(0.0, int(value) / 1e6 / duration)))
    elif key == "progress" and value == "end":
        report(1.0)
