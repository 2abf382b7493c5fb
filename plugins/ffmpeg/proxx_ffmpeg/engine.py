"""The FFmpeg engine: renders canonical profiles whose `engine` is `ffmpeg`."""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable
from typing import IO

from proxx import Availability, Engine, ExecutionError, JobValidationError
from proxx.execute.engine import RenderReport, RenderTask, cannot_render
from proxx.jobspec.model import ClipSpec, JobSpec
from proxx.media.probe import MediaInfo
from proxx.media.tools import find_tool, require_tool
from proxx_ffmpeg.recipes import build_args, unsupported

# stderr lines that say nothing about why ffmpeg failed
_NOISE = ("Press [q]", "Conversion failed!", "frame=", "size=", "video:", "    ")


def _resolve_prctl() -> Callable[..., int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl: Callable[..., int] = ctypes.CDLL(None, use_errno=True).prctl
        return prctl
    except (OSError, AttributeError):
        return None


# Resolved once in the parent: the child between fork and exec must not load libraries or import.
_PRCTL = _resolve_prctl()
_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """Runs in the child before exec: on Linux, SIGKILL ffmpeg if the worker that started it dies,
    so a killed worker never leaves an encoder writing on."""
    if _PRCTL is not None:
        _PRCTL(_PR_SET_PDEATHSIG, signal.SIGKILL)


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
        command = build_args(ffmpeg.path, task.source, task.partial_path, task.spec.canonical_profile)
        duration = task.source.video_duration or 0.0
        with open(task.log_path, "a", encoding="utf-8") as log:
            log.write(f"\n=== clip {task.clip.index}: {task.clip.source}\n$ {subprocess.list2cmdline(command)}\n")
            log.flush()
            started = time.monotonic()
            process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                start_new_session=True,  # its own process group, killed whole on timeout
                preexec_fn=_die_with_parent,
            )
            stderr_lines: list[str] = []
            drain = threading.Thread(target=_drain, args=(process.stderr, log, stderr_lines), daemon=True)
            drain.start()
            timed_out = threading.Event()

            def on_timeout() -> None:
                timed_out.set()
                _kill_group(process)

            timer = threading.Timer(task.timeout, on_timeout)
            timer.start()
            try:
                assert process.stdout is not None
                _follow_progress(process.stdout, duration, task.progress)
                code = process.wait()
            finally:
                timer.cancel()
                if process.poll() is None:
                    _kill_group(process)
                    process.wait()
            drain.join(timeout=10)
            elapsed = time.monotonic() - started
            log.write(f"=== exit code {code} after {elapsed:.2f} s\n")
        if timed_out.is_set():
            raise ExecutionError(
                "timeout",
                f"FFmpeg timed out after {task.timeout:g} seconds",
                {"source": task.clip.source, "timeout_seconds": task.timeout},
            )
        if code != 0:
            raise ExecutionError(
                "engine_failed",
                f"FFmpeg exited with code {code}: {last_meaningful_line(''.join(stderr_lines))}",
                {"source": task.clip.source, "exit_code": code},
            )
        return RenderReport(
            engine_version=ffmpeg.version,
            details={"binary": ffmpeg.path, "binary_origin": ffmpeg.origin, "seconds": round(elapsed, 3)},
        )


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)


def _drain(stream: IO[bytes] | None, log: IO[str], lines: list[str]) -> None:
    """Copy ffmpeg's stderr to the job log as it comes, keeping it for the failure message."""
    if stream is None:
        return
    for raw in stream:
        line = raw.decode("utf-8", "replace")
        lines.append(line)
        log.write(line)
    log.flush()


def _follow_progress(stdout: IO[bytes], duration: float, report: Callable[[float], None]) -> None:
    """Parse `-progress pipe:1` blocks (key=value lines ending with progress=continue|end)."""
    for raw in stdout:
        key, _, value = raw.decode("ascii", "replace").strip().partition("=")
        if key == "out_time_us" and duration > 0 and value.lstrip("-").isdigit():
            report(min(1.0, max(0.0, int(value) / 1e6 / duration)))
        elif key == "progress" and value == "end":
            report(1.0)
