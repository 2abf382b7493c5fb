"""Encoders die with the process that started them, however it dies.

A killed worker must not leave an encoder writing on. Linux's PR_SET_PDEATHSIG would do it, but it
must be set between fork and exec (a `preexec_fn`), which keeps Python from starting the encoder
with vfork: 1.5 ms more per clip, most of a short clip's start-up, and Linux only. Instead one
small POSIX shell per process, started at its first encode in a session of its own (a signal to the
worker's process group does not reach it), reads the pipe the worker holds: "+ <group>" when an
encoder starts, "- <group>" when it has ended. When the worker dies, by any signal, the kernel closes
the pipe; the shell reads end of file and kills every process group still listed, then ends. On a
normal exit no group is listed and it just ends. Linux and macOS; Windows has no shell to use.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import subprocess
import threading
from collections.abc import Iterator

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
                _reaper = _start()
                if _reaper is None:
                    return
            assert _reaper.stdin is not None
            try:
                _reaper.stdin.write(line.encode() + b"\n")
                _reaper.stdin.flush()
                return
            except OSError:
                _reaper = None


def _start() -> subprocess.Popen[bytes] | None:
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
    atexit.register(_stop, reaper)
    return reaper


def _stop(reaper: subprocess.Popen[bytes]) -> None:
    """On a normal exit: end of file, nothing listed, the reaper ends."""
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


@contextlib.contextmanager
def dies_with_this_process(process: subprocess.Popen[bytes]) -> Iterator[None]:
    """While the block runs, `process` (started with start_new_session=True: its group is its pid)
    is killed with its whole process group should this process die. Leave the block only once it
    has ended."""
    _tell(f"+ {process.pid}")
    try:
        yield
    finally:
        _tell(f"- {process.pid}")
