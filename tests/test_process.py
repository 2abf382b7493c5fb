"""An engine's external process (`proxx.plugin.run_process`, `start_process`, `stop_process`): progress
read through the engine's parser, messages in the job log, a failure's last line in its message,
cancel and timeout stopping the whole process group, and every process group dying with the process
that started it, whatever kills that process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from proxx.plugin import ClipSpec, ExecutionError, RenderTask, run_process

pytestmark = pytest.mark.skipif(os.name != "posix", reason="the reaper needs a POSIX shell")


def task_for(tmp_path: Path, timeout: float = 30, cancelled=lambda: False) -> tuple[RenderTask, list[float]]:
    reported: list[float] = []
    clip = ClipSpec(index=0, source=str(tmp_path / "A001.mov"), output=str(tmp_path / "A001.mp4"))
    task = RenderTask(
        spec=None,  # run_process reads the clip, the log and the callbacks only
        clip=clip,
        source=None,
        partial_path=str(tmp_path / "partial.mp4"),
        log_path=str(tmp_path / "job.log"),
        timeout=timeout,
        progress=reported.append,
        cancel_signal=cancelled,
    )
    return task, reported


def percent(line: str) -> float | None:
    """An encoder's progress meter: "encoded 40%"."""
    return int(line.split()[1].rstrip("%")) / 100 if line.startswith("encoded ") else None


def test_progress_lines_are_parsed_and_messages_logged(tmp_path: Path) -> None:
    task, reported = task_for(tmp_path)
    script = r"printf 'starting\nencoded 10%%\rencoded 50%%\rencoded 100%%\ndone\n' >&2; echo out-line"
    run = run_process(["sh", "-c", script], task, label="Tool", parse_progress=percent)
    assert reported == [0.1, 0.5, 1.0]
    log = Path(task.log_path).read_text()
    assert "$ sh -c" in log and "starting\n" in log and "done\n" in log and "out-line\n" in log
    output = log.split("\n$ ", 1)[1].split("\n", 1)[1]  # after the command line
    assert "encoded" not in output, "progress lines stay out of the log"
    assert run.messages == "starting\ndone\n"
    assert "=== exit code 0" in log


def test_a_failure_names_the_tool_its_exit_code_and_last_message(tmp_path: Path) -> None:
    task, _ = task_for(tmp_path)
    with pytest.raises(ExecutionError) as raised:
        run_process(["sh", "-c", "echo 'first' >&2; echo 'Unknown encoder x' >&2; exit 3"], task, label="Tool")
    assert raised.value.reason == "engine_failed"
    assert raised.value.message == "Tool exited with code 3: Unknown encoder x"
    assert raised.value.context["exit_code"] == 3


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and ") Z " in stat.read_text()  # a zombie waiting for its parent is dead


def _wait_gone(pid: int) -> None:
    deadline = time.monotonic() + 5
    while not _gone(pid):
        assert time.monotonic() < deadline, f"process {pid} outlived its stop"
        time.sleep(0.05)


@pytest.mark.parametrize("stop", ["timeout", "cancel"])
def test_a_timeout_or_cancel_kills_the_whole_process_group(tmp_path: Path, stop: str) -> None:
    started = time.monotonic()
    if stop == "timeout":
        task, _ = task_for(tmp_path, timeout=0.5)
    else:
        task, _ = task_for(tmp_path, cancelled=lambda: time.monotonic() - started > 0.5)
    pid_file = tmp_path / "helper.pid"
    script = f"sleep 60 & echo $! > {pid_file}; wait"  # a helper process of the tool's own
    with pytest.raises(ExecutionError) as raised:
        run_process(["sh", "-c", script], task, label="Tool")
    assert time.monotonic() - started < 5
    if stop == "timeout":
        assert (raised.value.reason, raised.value.message) == ("timeout", "Tool timed out after 0.5 seconds")
    else:
        assert raised.value.reason == "cancelled by the operator"
    _wait_gone(int(pid_file.read_text()))


STARTER = textwrap.dedent(
    """
    import os, subprocess, sys, time
    from proxx.plugin import start_process, stop_process

    ended = start_process(["true"])
    ended.wait()
    stop_process(ended)  # a process that ended is forgotten: its group number may be reused
    child = start_process(["sleep", "60"])
    if os.fork() == 0:  # a forked child (a prefork farm worker) that outlives its parent
        os.setsid()
        print(child.pid, os.getpid(), flush=True)
        time.sleep(60)
        os._exit(0)
    time.sleep(60)
    """
)


def test_a_killed_worker_takes_its_processes_with_it() -> None:
    starter = subprocess.Popen(
        [sys.executable, "-c", STARTER], stdout=subprocess.PIPE, text=True, start_new_session=True
    )
    assert starter.stdout is not None
    encoder, forked = map(int, starter.stdout.readline().split())
    assert not _gone(encoder)
    try:
        os.killpg(starter.pid, signal.SIGKILL)  # no handler runs; its forked child lives on
        starter.wait()
        _wait_gone(encoder)
    finally:
        os.kill(forked, signal.SIGKILL)
