"""An engine's external processes: started in a process group of their own that dies with the worker
however the worker dies, followed for progress, cancel and timeout, their output copied to the job log.

    run = run_process(command, task, label="FFmpeg", parse_progress=fraction_of, progress_stream="stdout")

`run_process` is the whole life of an encoder that runs once per clip; `start_process` and
`stop_process` are for a process that outlives one clip (an application started once per worker).

Why a shell, and not Linux's PR_SET_PDEATHSIG: that must be set between fork and exec (a
`preexec_fn`), which keeps Python from starting the process with vfork (1.5 ms more per clip, most
of a short clip's start-up) and exists on Linux only. Instead one small POSIX shell per worker
process, started at the first process in a session of its own (a signal to the worker's process
group does not reach it), reads a pipe the worker holds: "+ <group>" when a process starts, "- <group>"
once it has ended. When the worker dies, by any signal, the kernel closes the pipe; the shell reads
end of file and kills every process group still listed, then ends. On a normal exit no group is
listed and it just ends. Linux and macOS; Windows has no shell to use (processes are still followed,
cancelled and timed out there).
"""

from __future__ import annotations

import atexit
import codecs
import contextlib
import os
import re
import selectors
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import IO, Any, Literal

import attrs

from proxx.errors import ExecutionError
from proxx.execute.cancel import cancelled_error
from proxx.execute.engine import RenderTask
from proxx.folders import FolderRefused, open_append
from proxx.names import safe

POLL_SECONDS = 0.25  # between asks whether the operator cancelled: a cancel stops the process this soon
_LINE_END = re.compile(rb"\r\n|\r|\n")  # progress meters redraw with a carriage return


@attrs.frozen
class ProcessRun:
    """A process `run_process` followed to exit code 0 (any other code raised "engine_failed").

    Fields:
      seconds: wall-clock time from start to exit.
      messages: what it wrote on stderr that was not progress, as copied to the job log.
    """

    seconds: float
    messages: str


def last_line(messages: str) -> str:
    """The last non-blank line of a process's messages: the default reason of a failure."""
    lines = [line.strip() for line in messages.splitlines() if line.strip()]
    return lines[-1] if lines else "no error message"


def _tail(messages: str, lines: int = 20) -> str:
    return "\n".join([line.rstrip() for line in messages.splitlines() if line.strip()][-lines:])


def _open_log(log_path: str | os.PathLike[str]) -> int:
    """The job's log, opened to append (`proxx.folders.open_append`); one planted there (a link,
    another user's file or folder) fails the clip, saying so, and receives nothing."""
    try:
        return open_append(Path(log_path))
    except FolderRefused as refused:
        raise ExecutionError(
            "log_refused",
            f"The job's log cannot be written: {refused}. Nothing was rendered.",
            {"log_path": str(log_path)},
        ) from None


def run_process(
    command: Sequence[str],
    task: RenderTask,
    *,
    label: str,
    parse_progress: Callable[[str], float | None] | None = None,
    progress_stream: Literal["stdout", "stderr"] = "stderr",
    failure_line: Callable[[str], str] = last_line,
    env: Mapping[str, str] | None = None,
    cwd: str | None = None,
) -> ProcessRun:
    """Run `command` for `task`'s clip and return once it exited with code 0.

    The process starts in a process group of its own that is killed should this process die
    (`start_process`). Its output is read as it comes, in this thread: each line of `progress_stream`
    (lines end at a newline or a carriage return) goes to `parse_progress`, which returns the
    fraction of the clip done (0..1, reported through `task.progress` when it changed) or None for a
    line that is not progress. stderr is the message stream: what is not progress there is appended
    to `task.log_path` (after the command line) and kept for the failure message. stdout is copied to
    the log too, unless it is the progress stream (a machine report such as ffmpeg's `-progress
    pipe:1`, read by the parser only).

    Raises ExecutionError, the process group killed first:

    - `cancelled_error(task.clip.source)` once `task.is_cancelled()` (asked every POLL_SECONDS);
    - reason "timeout", "<label> timed out after N seconds", past `task.timeout`;
    - reason "engine_failed", "<label> exited with code N: <failure_line(messages)>", its context
      holding `exit_code` and `engine_messages` (the last lines it wrote on stderr).
    """
    started = time.monotonic()
    # The log as `joblog.append` opens it: never through a link, nor a file or folder someone else made.
    with os.fdopen(_open_log(task.log_path), "a", encoding="utf-8") as log:
        # A file name is written escaped (`proxx.names.safe`): it can neither drive the terminal of
        # whoever reads the log nor start a line of its own.
        shown = safe(subprocess.list2cmdline(command))
        log.write(f"\n=== clip {task.clip.index}: {safe(task.clip.source)}\n$ {shown}\n")
        log.flush()
        process = start_process(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=dict(env) if env is not None else None,
            cwd=cwd,
        )
        try:
            follower = _Follower(log, parse_progress, progress_stream, task.progress)
            stopped = follower.follow(process, started + task.timeout, task.is_cancelled)
        finally:
            stop_process(process)  # a failure while following: never leave it running
        code = process.returncode
        seconds = time.monotonic() - started
        messages = "".join(follower.messages)
        if stopped == "cancelled":
            log.write("=== cancelled by the operator: the process was stopped\n")
            raise cancelled_error(task.clip.source)
        if stopped == "timeout":
            log.write(f"=== timed out after {task.timeout:g} seconds: the process was stopped\n")
            raise ExecutionError(
                "timeout",
                f"{label} timed out after {task.timeout:g} seconds",
                {"source": task.clip.source, "timeout_seconds": task.timeout},
            )
        log.write(f"=== exit code {code} after {seconds:.2f} s\n")
    if code != 0:
        raise ExecutionError(
            "engine_failed",
            f"{label} exited with code {code}: {failure_line(messages)}",
            # The last lines it wrote: for an engine to tell what failed (`proxx.errors`' reasons).
            {"source": task.clip.source, "exit_code": code, "engine_messages": _tail(messages)},
        )
    return ProcessRun(seconds=seconds, messages=messages)


class _Follower:
    """Reads both pipes of one process until they close (no helper threads: on a batch of short
    clips, two threads per clip cost more than the reading)."""

    def __init__(
        self,
        log: IO[str],
        parse: Callable[[str], float | None] | None,
        progress_stream: str,
        report: Callable[[float], None],
    ) -> None:
        self.log, self.parse, self.progress_stream, self.report = log, parse, progress_stream, report
        self.messages: list[str] = []
        self.pending = {"stdout": b"", "stderr": b""}
        self.decoders = {name: codecs.getincrementaldecoder("utf-8")("replace") for name in self.pending}
        self.fraction = -1.0

    def follow(self, process: subprocess.Popen[bytes], deadline: float, cancelled: Callable[[], bool]) -> str:
        """ "" once both pipes closed and the process exited; "timeout" or "cancelled" once the
        process group was killed for that."""
        assert process.stdout is not None and process.stderr is not None
        with selectors.DefaultSelector() as selector:
            selector.register(process.stdout, selectors.EVENT_READ, "stdout")
            selector.register(process.stderr, selectors.EVENT_READ, "stderr")
            while selector.get_map():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return "timeout"
                if cancelled():
                    return "cancelled"
                for key, _ in selector.select(min(remaining, POLL_SECONDS)):
                    chunk = os.read(key.fd, 65536)
                    if not chunk:
                        selector.unregister(key.fileobj)
                        self._read(key.data, b"", final=True)
                    else:
                        self._read(key.data, chunk, final=False)
        while process.poll() is None:  # pipes closed: it is exiting (a timeout still applies)
            if time.monotonic() >= deadline:
                return "timeout"
            if cancelled():
                return "cancelled"
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=POLL_SECONDS)
        self.log.flush()
        return ""

    def _read(self, stream: str, chunk: bytes, *, final: bool) -> None:
        if self.parse is None or stream != self.progress_stream:
            text = self.decoders[stream].decode(chunk, final=final)
            if text:
                self.log.write(text)
                if stream == "stderr":
                    self.messages.append(text)
            return
        *lines, rest = _LINE_END.split(self.pending[stream] + chunk)
        if final and rest:
            lines.append(rest)
            rest = b""
        self.pending[stream] = rest
        for raw in lines:
            line = raw.decode("utf-8", "replace")
            fraction = self.parse(line) if line.strip() else None
            if fraction is None:
                if stream == "stderr" and line.strip():  # stdout as the progress stream is for the parser only
                    self.log.write(line + "\n")
                    self.messages.append(line + "\n")
            elif fraction != self.fraction:
                self.fraction = fraction
                self.report(min(1.0, max(0.0, fraction)))


def start_process(command: Sequence[str], **popen: Any) -> subprocess.Popen[Any]:
    """`subprocess.Popen(command, **popen)` in a session (so a process group) of its own, killed
    whole should this process die by any signal (Linux, macOS). End it with `stop_process`, which
    also forgets it; until then it is killed with this process."""
    process: subprocess.Popen[Any] = subprocess.Popen(command, start_new_session=True, **popen)
    _tell(f"+ {process.pid}")
    return process


def stop_process(process: subprocess.Popen[Any], grace: float = 0.0) -> int | None:
    """End a process `start_process` started and return its exit code (None if it would not end):
    when it still runs, SIGTERM to its group and up to `grace` seconds to quit (an application that
    saves state), then SIGKILL to the group. A process that already exited is only waited for."""
    try:
        if process.poll() is None and grace > 0:
            _signal_group(process, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=grace)
        if process.poll() is None:
            _signal_group(process, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=10)
        return process.returncode
    finally:
        if process.returncode is not None:  # forgotten only once gone: its group number may be reused
            _tell(f"- {process.pid}")


def _signal_group(process: subprocess.Popen[Any], signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        if hasattr(os, "killpg"):
            os.killpg(process.pid, signum)
        else:  # Windows: no process groups
            process.send_signal(signum)


# --- the reaper: the shell that kills listed process groups once this process is gone -------------

# Builtins only: nothing forks while it waits.
_WATCH = r"""
trap '' HUP INT TERM QUIT PIPE
groups=
while read -r sign group; do
  case $sign in
    +) groups="$groups $group" ;;
    -) kept=; for g in $groups; do [ "$g" = "$group" ] || kept="$kept $g"; done; groups=$kept ;;
  esac
done
for g in $groups; do kill -s KILL -- "-$g" 2>/dev/null; done
"""

_lock = threading.Lock()
_reaper: subprocess.Popen[bytes] | None = None


def _tell(line: str) -> None:
    global _reaper
    with _lock:
        for _ in range(2):  # a reaper someone killed is replaced once
            if _reaper is None:
                _reaper = _start_reaper()
                if _reaper is None:
                    return
            assert _reaper.stdin is not None
            try:
                _reaper.stdin.write(line.encode() + b"\n")
                _reaper.stdin.flush()
                return
            except OSError:
                _reaper = None


def _start_reaper() -> subprocess.Popen[bytes] | None:
    shell = shutil.which("sh") if os.name == "posix" else None
    if shell is None:
        return None
    reaper = subprocess.Popen(
        [shell, "-c", _WATCH],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    atexit.register(_stop_reaper, reaper)
    return reaper


def _stop_reaper(reaper: subprocess.Popen[bytes]) -> None:
    """On a normal exit: end of file; what is still listed is killed, and the reaper ends."""
    with contextlib.suppress(OSError, subprocess.TimeoutExpired):
        if reaper.stdin is not None:
            reaper.stdin.close()
        reaper.wait(timeout=5)


def _forget_in_child() -> None:
    """A forked child (a prefork farm worker) starts a reaper of its own and must not hold the
    parent's pipe open: the parent's reaper would never see it close."""
    global _reaper, _lock
    _lock = threading.Lock()  # another thread may have held it at the fork
    if _reaper is not None and _reaper.stdin is not None:
        with contextlib.suppress(OSError):
            _reaper.stdin.close()
    _reaper = None


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_in_child)
