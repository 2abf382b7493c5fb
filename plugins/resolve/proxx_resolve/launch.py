"""Headless mode: start Resolve with `-nogui` when none answers, and stop exactly what was started.

A Resolve that already answers is used as it is and never stopped (the reference refuses to start
a second one; connecting to it is the better answer for an operator). One started Resolve serves
every job of the worker process and is stopped when the worker exits, or at once when a render
hung or crashed (its state is then suspect).
"""

from __future__ import annotations

import atexit
import os
import subprocess
import threading

from proxx.plugin import start_process, stop_process


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
                # Its process group dies with the worker, however the worker dies.
                self.process = start_process([self.command, "-nogui"], stdin=subprocess.DEVNULL, stdout=log, stderr=log)
            finally:
                log.close()
            atexit.register(self.stop)

    def stop(self) -> None:
        with self._lock:
            process, self.process = self.process, None
        if process is not None:
            stop_process(process, grace=30)  # SIGTERM first: let Resolve save its database and quit

    def exit_status(self) -> str | None:
        """Why a started Resolve is gone (it quit on its own), or None while it runs."""
        if self.process is None or self.process.poll() is None:
            return None
        return f"the started Resolve ({self.command} -nogui) exited with code {self.process.returncode}"
