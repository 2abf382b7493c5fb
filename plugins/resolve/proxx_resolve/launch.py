"""Headless mode: start Resolve with `-nogui` when none answers, and stop exactly what was started.

A Resolve that already answers is used as it is and never stopped (the reference refuses to start
a second one; connecting to it is the better answer for an operator). One started Resolve serves
every job of the worker process and is stopped when the worker exits, or at once when a render
hung or crashed (its state is then suspect).
"""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import subprocess
import threading


class Launcher:
    def __init__(self, command: str) -> None:
        self.command = command
        self.process: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()

    @property
    def started(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self, log_path: str | None = None) -> None:
        with self._lock:
            if self.started:
                return
            log = open(log_path or os.devnull, "ab")  # noqa: SIM115 - handed to the child, closed below
            try:
                self.process = subprocess.Popen(
                    [self.command, "-nogui"],
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=log,
                    start_new_session=True,
                )
            finally:
                log.close()
            atexit.register(self.stop)

    def stop(self) -> None:
        with self._lock:
            process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        _signal(process, signal.SIGTERM)  # let Resolve save its database and quit
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            _signal(process, signal.SIGKILL)
            process.wait(timeout=10)

    def exit_status(self) -> str | None:
        """Why a started Resolve is gone (it quit on its own), or None while it runs."""
        if self.process is None or self.process.poll() is None:
            return None
        return f"the started Resolve ({self.command} -nogui) exited with code {self.process.returncode}"


def _signal(process: subprocess.Popen[bytes], signum: int) -> None:
    """The whole process group where there are groups (Resolve starts helpers), else the process."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        if hasattr(os, "killpg"):
            os.killpg(process.pid, signum)
        else:
            process.send_signal(signum)
