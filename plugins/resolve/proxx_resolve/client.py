"""The parent side of the scripting bridge: start `python -m proxx_resolve.bridge`, speak JSON lines
with it, and enforce a deadline by killing its whole process group."""

from __future__ import annotations

import contextlib
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from typing import IO, Any

from proxx.plugin import start_process, stop_process
from proxx_resolve.locate import ScriptingPaths

TERMINAL = ("done", "failed")


class BridgeDied(Exception):
    """The bridge ended without its last word: killed by a signal or crashed inside Resolve's library."""

    def __init__(self, returncode: int | None) -> None:
        self.returncode = returncode
        super().__init__(describe_exit(returncode))


class BridgeTimeout(Exception):
    """The deadline passed; the bridge was killed."""


def describe_exit(code: int | None) -> str:
    if code is None:
        return "did not exit"
    if code < 0:
        with contextlib.suppress(ValueError):
            return f"was killed by {signal.Signals(-code).name}"
        return f"was killed by signal {-code}"
    return f"exited with code {code}"


class Bridge:
    """One bridge process for one request. Use as a context manager: leaving it kills the process."""

    def __init__(self, paths: ScriptingPaths, log: IO[str], deadline: float) -> None:
        env = dict(os.environ)
        if paths.library:
            env["RESOLVE_SCRIPT_LIB"] = paths.library
        self.paths = paths
        self.deadline = deadline  # time.monotonic() value past which the bridge is killed
        self.killed = False
        # Its own process group, killed whole when it is done with and should the worker die.
        self.process: subprocess.Popen[str] = start_process(
            [sys.executable, "-m", "proxx_resolve.bridge"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
            encoding="utf-8",
            env=env,
        )
        self._events: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True, name="resolve-bridge-reader")
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            with contextlib.suppress(json.JSONDecodeError):
                self._events.put(json.loads(line))
        self._events.put(None)

    def send(self, message: dict[str, Any]) -> None:
        assert self.process.stdin is not None
        with contextlib.suppress(BrokenPipeError, OSError):
            self.process.stdin.write(json.dumps({**message, "module_dirs": [self.paths.modules_dir]}) + "\n")
            self.process.stdin.flush()

    def events(self) -> Iterator[dict[str, Any]]:
        """Events up to the bridge's last word ("done" or "failed"); raises BridgeTimeout, or BridgeDied
        when the bridge ends without one."""
        while True:
            remaining = self.deadline - time.monotonic()
            if remaining <= 0:
                self.kill()
                raise BridgeTimeout()
            try:
                event = self._events.get(timeout=min(remaining, 0.5))
            except queue.Empty:
                continue
            if event is None:
                raise BridgeDied(self._wait_exit())
            yield event
            if event.get("event") in TERMINAL:
                return

    def _wait_exit(self) -> int | None:
        try:
            return self.process.wait(timeout=max(0.1, min(5.0, self.deadline - time.monotonic())))
        except subprocess.TimeoutExpired:
            self.kill()
            return self.process.returncode

    def kill(self) -> None:
        if self.process.poll() is None:
            self.killed = True
        stop_process(self.process)

    def __enter__(self) -> Bridge:
        return self

    def __exit__(self, *exc: object) -> None:
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=2)  # after its last word the bridge exits by itself
        self.kill()
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()
        self._reader.join(timeout=2)


def request(paths: ScriptingPaths, message: dict[str, Any], log: IO[str], seconds: float) -> list[dict[str, Any]]:
    """A one-shot request (probe, cleanup): every event the bridge sent, in order."""
    with Bridge(paths, log, time.monotonic() + seconds) as bridge:
        bridge.send(message)
        return list(bridge.events())
