"""An encoder dies with the process that started it, whatever kills that process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

pytestmark = pytest.mark.skipif(os.name != "posix", reason="the reaper needs a POSIX shell")

STARTER = textwrap.dedent(
    """
    import os, subprocess, sys, time
    from proxx_ffmpeg.reaper import dies_with_this_process

    ended = subprocess.Popen(["true"], start_new_session=True)
    with dies_with_this_process(ended):
        ended.wait()  # a render that ended is forgotten: its group number may be reused
    child = subprocess.Popen(["sleep", "60"], start_new_session=True)
    with dies_with_this_process(child):
        if os.fork() == 0:  # a forked child (a prefork farm worker) that outlives its parent
            os.setsid()
            print(child.pid, os.getpid(), flush=True)
            time.sleep(60)
            os._exit(0)
        time.sleep(60)
    """
)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") if os.path.exists(f"/proc/{pid}/stat") else open(os.devnull) as stat:
        return ") Z " not in stat.read()  # a zombie waiting for its reaper is dead


def test_a_killed_worker_takes_its_encoders_with_it():
    starter = subprocess.Popen(
        [sys.executable, "-c", STARTER], stdout=subprocess.PIPE, text=True, start_new_session=True
    )
    assert starter.stdout is not None
    encoder, forked = map(int, starter.stdout.readline().split())
    assert _alive(encoder)
    try:
        os.killpg(starter.pid, signal.SIGKILL)  # no handler runs; its forked child lives on
        starter.wait()
        deadline = time.monotonic() + 5
        while _alive(encoder):
            assert time.monotonic() < deadline, "the encoder outlived the process that started it"
            time.sleep(0.05)
    finally:
        os.kill(forked, signal.SIGKILL)
