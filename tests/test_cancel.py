"""An operator's cancel: Ctrl-C or SIGTERM to `proxx run`, `proxx jobs cancel` from another terminal,
the API. The job ends FAILED "cancelled by the operator" (no new state), the encoder is stopped, the
result JSON is written, clips not started are not_run and the cancelled clip leaves no partial."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from proxx import Proxx, schemas
from proxx.errors import CANCELLED
from proxx.media.samples import make_clip
from proxx.store import FAILED, Store
from tests.long_clip import make_long_clip

INTENT = "HD Editorial LT"
PROXX = [sys.executable, "-m", "proxx"]


@pytest.fixture(scope="module")
def sources(tmp_path_factory) -> list[Path]:
    """A clip long enough to be cancelled while it renders, then a short one."""
    folder = tmp_path_factory.mktemp("src")
    long = make_long_clip(folder / "A001_C001.mov", size="1280x720", frames=2400, audio=())
    return [long, make_clip(folder / "A001_C002.mov", frames=6)]


def start_run(home: Path, out: Path, sources: list[Path]) -> subprocess.Popen[str]:
    env = {**os.environ, "PROXX_HOME": str(home), "PROXX_PARALLEL_CLIPS": "1"}  # clips one at a time
    return subprocess.Popen(
        [*PROXX, "run", "--profile", INTENT, "--output", str(out), *map(str, sources)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def wait_until_rendering(home: Path, out: Path) -> str:
    """The job's id once its first clip is being encoded (its private folder has a file)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        staged = [p for p in out.glob(".proxx-partial-*/*") if p.stat().st_size > 0]
        if staged:
            return Store.at(home).jobs()[0].job_id
        time.sleep(0.1)
    raise AssertionError("the encode never started")


def encoders_of(pid: int) -> list[str]:
    """ffmpeg processes still running whose parent is `pid` (a stopped encoder is gone)."""
    found = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            text = status.read_text()
        except OSError:
            continue
        fields = dict(line.split(":\t", 1) for line in text.splitlines() if ":\t" in line)
        if fields.get("PPid", "").strip() == str(pid) and "ffmpeg" in fields.get("Name", ""):
            found.append(status.parent.name)
    return found


def assert_cancelled(home: Path, out: Path, job_id: str) -> dict:
    row = Store.at(home).job(job_id)
    assert row.state == FAILED and row.reason == CANCELLED, row.message
    assert row.message == "Cancelled by the operator: 0 of 2 clip(s) published, 1 stopped, 1 not run."
    result = json.loads(Path(row.result_path).read_text())
    assert schemas.violations(result, schemas.JOB_RESULT) == []
    assert [c["state"] for c in result["clips"]] == ["failed", "not_run"]
    assert result["clips"][0]["failure"]["reason"] == CANCELLED and result["clips"][0]["partial_output"] is None
    assert sorted(p.name for p in out.iterdir()) == []  # no partial, no private folder
    return result


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_to_proxx_run_cancels_the_job(tmp_path, sources, signum):
    out, home = tmp_path / "out", tmp_path / "home"
    out.mkdir()
    process = start_run(home, out, sources)
    job_id = wait_until_rendering(home, out)
    assert encoders_of(process.pid)
    process.send_signal(signum)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 5, stderr
    assert f"Cancelling job {job_id}" in stderr
    assert (
        "Stopped: A001_C001.mov: Cancelled by the operator while the proxy of 'A001_C001.mov' was being made" in stderr
    )
    assert "; its partial output was removed." in stderr
    assert "Not run: A001_C002.mov" in stderr
    (summary,) = [line for line in stderr.splitlines() if line.endswith(f"Job {job_id} FAILED, with '{INTENT}'.")]
    assert summary.startswith("Cancelled by the operator: 0 of 2 clip(s) published, 1 stopped, 1 not run."), stderr
    assert "class C" not in stderr
    assert_cancelled(home, out, job_id)
    env = {**os.environ, "PROXX_HOME": str(home)}
    shown = subprocess.run([*PROXX, "jobs", "show", job_id], capture_output=True, text=True, env=env, timeout=60)
    assert "State     Cancelled by the operator (FAILED)" in shown.stdout
    listed = subprocess.run([*PROXX, "jobs", "list"], capture_output=True, text=True, env=env, timeout=60)
    assert "Cancelled (FAILED)" in listed.stdout


def test_a_second_sigint_close_behind_the_first_is_still_a_cancel(tmp_path, sources):
    # A terminal's Ctrl-C and `timeout` often deliver two signals close together.
    out, home = tmp_path / "out", tmp_path / "home"
    out.mkdir()
    process = start_run(home, out, sources)
    job_id = wait_until_rendering(home, out)
    process.send_signal(signal.SIGINT)
    # The second once the first is taken: two sent before the process runs its handler (a loaded
    # machine) are one signal to it, as to any process.
    assert process.stderr is not None
    said = [process.stderr.readline()]
    while said[-1] and not said[-1].startswith(f"Cancelling job {job_id}"):
        said.append(process.stderr.readline())
    assert said[-1], said
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    stderr = "".join(said) + stderr
    assert process.returncode == 5, stderr
    assert "interrupted" not in stderr and f"Still cancelling job {job_id}" in stderr
    assert_cancelled(home, out, job_id)


def test_jobs_cancel_from_another_terminal_stops_the_encoder(tmp_path, sources):
    out, home = tmp_path / "out", tmp_path / "home"
    out.mkdir()
    process = start_run(home, out, sources)
    job_id = wait_until_rendering(home, out)
    env = {**os.environ, "PROXX_HOME": str(home), "PROXX_PARALLEL_CLIPS": "1"}  # clips one at a time
    started = time.monotonic()
    done = subprocess.run([*PROXX, "jobs", "cancel", job_id[-8:]], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert time.monotonic() - started < 10 and done.stdout.startswith("Cancelled by the operator: ")
    assert not encoders_of(process.pid)
    process.communicate(timeout=60)
    assert process.returncode == 5
    assert_cancelled(home, out, job_id)
    again = subprocess.run([*PROXX, "jobs", "cancel", job_id], env=env, capture_output=True, text=True, timeout=60)
    assert again.returncode == 1 and "only queued and running jobs can be cancelled" in again.stderr  # no failure


def test_a_queued_job_cancelled_ends_at_once_with_its_result(tmp_path, sources, proxx_home):
    out = tmp_path / "out"
    out.mkdir()
    proxx = Proxx.open()
    spec = proxx.submit(INTENT, sources, out)
    row = proxx.cancel(spec.job_id[-8:])
    assert (row.state, row.reason, row.message) == (FAILED, CANCELLED, "Cancelled by the operator before it started.")
    # It never started: QUEUED -> FAILED, no start time, and class B (nothing was executed), never C.
    assert [(t.from_state, t.to_state) for t in proxx.store.transitions(spec.job_id)][1:] == [("QUEUED", "FAILED")]
    assert (row.started_at, row.failure_class) == (None, "B")
    result = json.loads(Path(row.result_path).read_text())
    assert (result["started_at"], result["failure"]["failure_class"]) == (None, "B")
    assert [c["state"] for c in result["clips"]] == ["not_run", "not_run"]
    again = proxx.run_job(spec.job_id)  # nothing runs: its result, as a job refused before it started
    assert again is not None and again.failure is not None and again.failure.reason == CANCELLED


def test_another_job_never_removes_a_failed_attempts_partials(tmp_path, sources, proxx_home):
    """Kept for debugging until the operator says otherwise: publishing the same clip again (a
    retry, another job) leaves an earlier attempt's partial output where it is."""
    out = tmp_path / "out"
    out.mkdir()
    stale = out / "A001_C002.proxx-partial-0badc0de.mov"  # a crashed earlier attempt at this clip
    stale.write_bytes(b"half an encode")
    proxx = Proxx.open()
    result = proxx.run_job(proxx.create_job(INTENT, [sources[1]], out).job_id)
    assert result is not None and result.state == "COMPLETED"
    assert sorted(p.name for p in out.glob("*.mov")) == ["A001_C002.mov", stale.name]


def test_jobs_show_lists_the_partials_a_crashed_worker_left(tmp_path, sources, proxx_home):
    out = tmp_path / "out"
    out.mkdir()
    proxx = Proxx.open()
    spec = proxx.submit(INTENT, sources[1:], out)
    proxx.store.claim("gone-worker", spec.job_id, lease=-1)  # its worker died mid-encode: lease expired
    staged = out / f".proxx-partial-{spec.job_id[-8:]}-0" / f"A001_C002.proxx-partial-{spec.job_id[-8:]}.mov"
    staged.parent.mkdir()
    staged.write_bytes(b"half an encode")
    assert proxx.store.reap_lost() == [spec.job_id]
    env = {**os.environ, "PROXX_HOME": str(proxx_home)}
    shown = subprocess.run([*PROXX, "jobs", "show", spec.job_id[-8:]], capture_output=True, text=True, env=env)
    assert f"Partial   {staged}  (a partial output of this job, not a proxy)" in shown.stdout
