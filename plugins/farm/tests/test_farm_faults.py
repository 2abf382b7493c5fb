"""Faults injected into a real farm (a redis-server and a `proxx farm worker`): the broker stopped and
started again with and without its data while a job renders, an operator's cancel of a queued and
of a running farm job, and a worker SIGKILLed after it published a clip. No farm job is ever left
QUEUED or RUNNING, a live worker is never called lost, and a published proxy is always recorded.

The lease is 2 s, so a silent job is declared lost within `lost_after()` = 6 s; each test takes
seconds."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_farm import PLUGIN_DIR, SLOW_INTENT

from proxx import Proxx
from proxx.cli import main
from proxx.media.samples import make_clip
from proxx.pluginmanager import build_plugin_manager
from proxx.result import CLIP_COMPLETED, load_result
from proxx.store import COMPLETED, FAILED
from proxx_farm.state import FarmState, lost_after
from proxx_farm.testing import FarmWorker, RedisServer, wait_finished

LEASE = 2.0
ENV = {
    "PROXX_FARM_LEASE_SECONDS": str(LEASE),
    "PROXX_FARM_VISIBILITY_TIMEOUT": "3",
    "PROXX_PARALLEL_CLIPS": "1",  # clips one at a time, in order
    "PROXX_BUNDLED_PROFILES": "0",
    "PROXX_PROFILES": "",
    "PYTHONPATH": os.pathsep.join([str(PLUGIN_DIR), os.environ.get("PYTHONPATH", "")]),
}


@pytest.fixture(scope="module")
def farm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    root = tmp_path_factory.mktemp("faults")
    with RedisServer() as server:
        worker = FarmWorker(server.url, "F", ("slowcopy",), home=root / "home-f", env=ENV)
        try:
            worker.wait_ready()
            yield {"server": server, "broker": server.url, "worker": worker, "root": root}
        finally:
            worker.stop()


@pytest.fixture
def proxx(proxx_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Proxx:
    monkeypatch.syspath_prepend(str(PLUGIN_DIR))
    monkeypatch.setenv("PROXX_FARM_LEASE_SECONDS", str(LEASE))
    repo = tmp_path / "repo"
    (repo / "user").mkdir(parents=True)
    (repo / "user" / "slow_copy.yaml").write_text(SLOW_INTENT)
    return Proxx.open(profiles=[repo], pm=build_plugin_manager())


def submit(proxx: Proxx, farm: dict, tmp_path: Path, *names: str) -> str:
    out = tmp_path / "out"
    out.mkdir(exist_ok=True)
    sources = [make_clip(tmp_path / name, frames=4) for name in names]
    return proxx.submit("Slow Copy", sources, out, farm=farm["broker"]).job_id


def wait_farm(farm: dict, job_id: str, until: str, timeout: float = 60.0) -> dict[str, str]:
    """Until the job's farm record is in state `until` ("rendering": RUNNING with progress)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            record = FarmState.connect(farm["broker"]).job(job_id)
        except Exception:  # the broker is starting again
            record = {}
        if until == "rendering":
            if record.get("state") == "RUNNING" and float(record.get("progress") or 0) > 0:
                return record
        elif record.get("state") == until:
            return record
        assert time.monotonic() < deadline, f"job {job_id}: {record}"
        time.sleep(0.1)


def test_a_broker_away_for_longer_than_a_lease_costs_no_render(farm, proxx, tmp_path):
    """Redis stopped (its data saved) for 1.5 leases while a job renders: the render goes on, the
    worker is not called lost, and the job publishes and records when the broker is back."""
    job_id = submit(proxx, farm, tmp_path, "B001.slow5.mov")
    wait_farm(farm, job_id, "rendering")
    farm["server"].stop(keep_data=True)
    time.sleep(LEASE * 1.5)
    farm["server"].start()
    row = wait_finished(proxx, job_id)
    assert row.state == COMPLETED, row.message
    assert Path(proxx.store.spec(job_id).clips[0].output).is_file()
    log = farm["worker"].log_path.read_text(errors="replace")
    assert "worker lost" not in log and "farm_worker_error" not in log


def test_a_broker_restarted_without_its_data_loses_no_job(farm, proxx, tmp_path):
    """Redis restarted empty while job R renders and job Q waits behind it: R's worker writes its
    record again and R completes; Q's task went with the data, so Q is resolved FAILED, "the farm
    lost this job's record", within `lost_after()`; neither stays QUEUED or RUNNING."""
    running = submit(proxx, farm, tmp_path, "R001.slow5.mov")
    wait_farm(farm, running, "rendering")
    queued = submit(proxx, farm, tmp_path, "Q001.mov")
    farm["server"].stop(keep_data=False)
    farm["server"].start()
    restarted = time.monotonic()
    proxx.refresh()  # meanwhile Q says so, never what was said of it before (no worker for it, say)
    assert (proxx.store.job(queued).message or "").startswith("The render farm has no record of this job now")
    row = wait_finished(proxx, running)
    assert row.state == COMPLETED, row.message
    assert load_result(Path(row.result_path or "")).clips[0].state == CLIP_COMPLETED
    lost = wait_finished(proxx, queued, timeout=lost_after() + 20)
    print(f"record lost -> FAILED in {time.monotonic() - restarted:.1f} s (lost_after {lost_after():g} s)")
    assert (lost.state, lost.reason) == (FAILED, "farm record lost")
    assert "lost this job's record" in (lost.message or "")
    assert not Path(proxx.store.spec(queued).clips[0].output).exists()


def test_a_finished_job_the_broker_forgot_before_it_was_mirrored_is_sent_again(farm, proxx, tmp_path):
    """The job completes on the farm while the submitting machine does not look; the broker then
    restarts empty. The worker's outbox sends the closing record again, and the job is COMPLETED
    here with its result; once recorded here, the outbox forgets it."""
    job_id = submit(proxx, farm, tmp_path, "O001.mov")
    wait_farm(farm, job_id, COMPLETED)
    farm["server"].stop(keep_data=False)
    farm["server"].start()
    row = wait_finished(proxx, job_id, timeout=lost_after())
    assert row.state == COMPLETED, row.message
    assert row.published == 1
    kept = farm["root"] / "home-f" / "farm-worker" / "outbox" / f"{job_id}.json"
    deadline = time.monotonic() + 10
    while kept.exists():
        assert time.monotonic() < deadline, "the outbox never forgot a recorded job"
        time.sleep(0.2)


def test_cancel_reaches_queued_and_running_farm_jobs(farm, proxx, tmp_path, capsys):
    running = submit(proxx, farm, tmp_path, "C001.slow30.mov")
    wait_farm(farm, running, "rendering")
    queued = submit(proxx, farm, tmp_path, "C002.mov")

    assert main(["jobs", "cancel", queued]) == 0
    assert "Cancelled by the operator before it started." in capsys.readouterr().out
    assert proxx.store.job(queued).state == FAILED

    asked = time.monotonic()
    assert main(["jobs", "cancel", running, "--wait", "20"]) == 0
    took = time.monotonic() - asked
    out = capsys.readouterr().out
    print(f"running farm job cancelled in {took:.1f} s")
    assert "Cancelled by the operator" in out and "not stopped" not in out, out
    assert took < 8
    row = proxx.store.job(running)
    assert (row.state, row.reason) == (FAILED, "cancelled by the operator")
    output = Path(proxx.store.spec(running).clips[0].output)
    assert not output.exists()
    assert not list(output.parent.glob("*proxx-partial*")), "the cancelled clip's partial output was not removed"

    # The queued job's task still reaches the worker once the running one ended: it never starts.
    state = FarmState.connect(farm["broker"])
    deadline = time.monotonic() + 20
    while int(state.job(queued).get("refused_deliveries") or 0) < 1:
        assert time.monotonic() < deadline, state.job(queued)
        time.sleep(0.2)
    assert state.job(queued)["state"] == FAILED
    assert not Path(proxx.store.spec(queued).clips[0].output).exists()


def test_ctrl_c_on_a_followed_farm_submit_cancels_the_job_on_the_farm(farm, proxx_home, tmp_path):
    repo = tmp_path / "repo"
    (repo / "user").mkdir(parents=True)
    (repo / "user" / "slow_copy.yaml").write_text(SLOW_INTENT)
    (tmp_path / "out").mkdir()
    source = make_clip(tmp_path / "F001.slow30.mov", frames=4)
    env = {**os.environ, **ENV, "PROXX_HOME": str(proxx_home), "PROXX_PROFILES": str(repo)}
    submit = subprocess.Popen(
        [sys.executable, "-m", "proxx", "submit", "--farm", farm["broker"], "--follow",
         "--profile", "Slow Copy", "--output", str(tmp_path / "out"), str(source)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert submit.stdout is not None
    first = submit.stdout.readline()
    assert first.startswith("Job "), first + submit.communicate()[1]
    job_id = first.split()[1]
    wait_farm(farm, job_id, "rendering")
    submit.send_signal(signal.SIGINT)
    asked = time.monotonic()
    out, err = submit.communicate(timeout=30)
    print(f"Ctrl-C on a followed farm submit: ended in {time.monotonic() - asked:.1f} s")
    assert submit.returncode != 0, out + err
    assert "Cancelled by the operator" in err, out + err
    assert not list((tmp_path / "out").iterdir())  # no proxy, no partial


def test_an_operators_cancel_takes_a_job_from_the_worker_checking_it(farm, proxx, tmp_path):
    """A job reserved by a worker (QUEUED, being checked) is cancelled at once; the worker's start and
    its own verdict are then refused. (A Redis database of its own: no worker takes the task.)"""
    broker = farm["broker"].rsplit("/", 1)[0] + "/3"
    (tmp_path / "out").mkdir()
    spec = proxx.submit("Slow Copy", [make_clip(tmp_path / "X001.mov", frames=2)], tmp_path / "out", farm=broker)
    state = FarmState.connect(broker)
    assert state.reserve(spec.job_id, "checker:1", lease=LEASE)
    assert state.cancel(spec.job_id) == "cancelled"
    assert not state.start(spec.job_id, "checker:1", LEASE, "2026-12-06T10:00:00.000Z")
    assert not state.finish(spec.job_id, "checker:1", {"state": FAILED, "failure_class": "B"})
    assert not state.reserve(spec.job_id, "another:1", lease=LEASE)
    assert (state.job(spec.job_id)["state"], state.job(spec.job_id)["reason"]) == (FAILED, "cancelled by the operator")
    row = wait_finished(proxx, spec.job_id, timeout=10)
    assert [t.to_state for t in proxx.store.transitions(spec.job_id)] == ["QUEUED", FAILED] and row.state == FAILED


def test_a_worker_killed_while_it_checks_a_job_never_runs_it(farm, proxx, tmp_path):
    """A worker reserves a job (QUEUED, its lease held) and dies while it checks it. The job is never
    seen RUNNING, is declared lost by another worker's reaper with "nothing was run", and the task
    Celery gives back is refused: never lost, never run. (A Redis database of its own.)"""
    broker = farm["broker"].rsplit("/", 1)[0] + "/2"
    checker = FarmWorker(broker, "R1", ("slowcopy",), home=tmp_path / "home-r1", env=ENV)
    reaper = None
    try:
        checker.wait_ready()
        (tmp_path / "out").mkdir()
        src = make_clip(tmp_path / "R001.slowcheck60.mov", frames=2)
        spec = proxx.submit("Slow Copy", [src], tmp_path / "out", farm=broker)
        state = FarmState.connect(broker)
        deadline = time.monotonic() + 60
        while not state.job(spec.job_id).get("worker_id"):  # reserved: it is being checked
            assert time.monotonic() < deadline, state.job(spec.job_id)
            time.sleep(0.05)
        assert state.job(spec.job_id)["state"] == "QUEUED"
        checker.kill()
        reaper = FarmWorker(broker, "R2", ("slowcopy",), home=tmp_path / "home-r2", env=ENV)
        reaper.wait_ready()
        row = wait_finished(proxx, spec.job_id, timeout=lost_after() + 30)
        assert (row.state, row.reason) == (FAILED, "worker lost")
        assert "nothing was run" in (row.message or "")
        assert [t.to_state for t in proxx.store.transitions(spec.job_id)] == ["QUEUED", FAILED]
        deadline = time.monotonic() + 30
        while int(state.job(spec.job_id).get("refused_deliveries") or 0) < 1:  # the task given back
            assert time.monotonic() < deadline, "the dead worker's task was not given back"
            time.sleep(0.1)
        assert state.job(spec.job_id)["state"] == FAILED and "started_at" not in state.job(spec.job_id)
        assert not Path(spec.clips[0].output).exists()
    finally:
        checker.stop()
        if reaper is not None:
            reaper.stop()


def test_a_watch_waits_for_its_broker_and_queues_every_file_once_when_it_is_back(farm, proxx, tmp_path, capsys):
    """A watch folder and a JobSpec inbox run unattended: a broker gone, at their start or while
    they watch, is said once, in one line, and every file waits where it is (no job is made for it)
    until the broker is back; then each is queued once, and rendered once."""
    from proxx.jobspec.model import create_jobspec, utc_now
    from proxx.roots import Roots
    from proxx.watch.watcher import JobSpecInbox, MediaWatcher

    card, out, inbox = tmp_path / "card", tmp_path / "out", tmp_path / "inbox"
    out.mkdir()
    inbox.mkdir()
    make_clip(card / "A001.mov", frames=4)
    watcher = MediaWatcher(proxx, card, "Slow Copy", out, settle=0.0, farm=farm["broker"])
    (first,) = watcher.poll()
    assert first.outcome == "queued" and wait_finished(proxx, first.job_id).state == COMPLETED
    compiled = proxx.select("Slow Copy")
    src = make_clip(tmp_path / "I001.mov", frames=4)
    spec = create_jobspec(compiled, [src], out, utc_now(), proxx.requirements(compiled.canonical.engine))
    (inbox / "i.json").write_text(spec.to_json())
    inbox_watcher = JobSpecInbox(proxx, inbox, Roots([tmp_path]), settle=0.0, farm=farm["broker"])
    farm["server"].stop(keep_data=True)
    try:
        make_clip(card / "A002.mov", frames=4)
        make_clip(card / "A003.mov", frames=4)
        (waiting,) = watcher.poll()  # A003 is not even tried: the broker is gone
        assert (waiting.outcome, waiting.job_id, waiting.path.name) == ("waiting", None, "A002.mov")
        assert (
            "cannot be reached (Connection refused)" in waiting.message and "queued once it is fixed" in waiting.message
        )
        assert watcher.poll() == []  # said once an outage
        (waiting,) = inbox_watcher.poll()
        assert (waiting.outcome, waiting.job_id) == ("waiting", None) and (inbox / "i.json").exists()
        assert len(proxx.store.jobs()) == 1  # no job for a file that waits
        # A watch started while the broker is gone: one line, no traceback; with --once, exit 6.
        # (A bundled intent: the process's own plugins, which a test run may have loaded without the test engine.)
        argv = ["watch", str(card), "--profile", "HD Editorial LT", "--output", str(out), "--farm", farm["broker"]]
        assert main([*argv, "--once", "--settle", "0"]) == 6
        said = capsys.readouterr()
        assert [line.split()[0] for line in said.out.splitlines()[1:]] == ["WAITING", "0"]
        assert "Traceback" not in said.err and said.err.count("\n") == 1
    finally:
        farm["server"].start()
    assert [event.outcome for event in watcher.poll()] == ["resumed", "queued", "queued"]
    assert [event.outcome for event in inbox_watcher.poll()] == ["resumed", "queued"]
    assert watcher.poll() == [] and inbox_watcher.poll() == []
    rows = proxx.store.jobs()
    assert len(rows) == 4 and all(wait_finished(proxx, row.job_id).state == COMPLETED for row in rows)
    assert sorted(p.name for p in (out / "card").iterdir()) == ["A001.mov", "A002.mov", "A003.mov"]


def test_a_farm_retry_whose_intent_now_makes_other_proxies_sends_nothing(farm, proxx, tmp_path):
    """A retry goes back to the farm compiled afresh: one whose intent now names its proxies otherwise
    (its profile changed since) is refused in class A before anything is created or sent."""
    from proxx.errors import PreJobError

    source = make_clip(tmp_path / "A001.mov", frames=4)
    out = tmp_path / "out"
    spec = proxx.submit("Slow Copy", [source], out, farm=farm["broker"])  # no output folder yet: its worker fails it
    assert wait_finished(proxx, spec.job_id).state == FAILED
    out.mkdir()
    intent = tmp_path / "repo" / "user" / "slow_copy.yaml"
    intent.write_text(intent.read_text() + "naming:\n  suffix: _Proxy\n")
    with pytest.raises(PreJobError, match="now makes its proxies differently") as refused:
        proxx.retry(spec.job_id)
    assert refused.value.failure_class is not None and refused.value.failure_class.value == "A"
    assert len(proxx.store.jobs()) == 1
    out.rmdir()
    intent.write_text(SLOW_INTENT)  # as it was: the retry goes to the farm (and fails there again, no folder)
    new, done = proxx.retry(spec.job_id)
    assert done == 0 and wait_finished(proxx, new.job_id).state == FAILED and new.retry_of == spec.job_id


def test_a_worker_killed_after_a_publish_records_it_and_a_retry_makes_only_the_rest(farm, proxx, tmp_path):
    """Last: it kills the module's worker. Clip 1 of 2 is published, then the worker's host dies.
    The job ends FAILED "worker lost" within `lost_after()` with clip 1 recorded as published, and
    `jobs retry` makes only clip 2."""
    job_id = submit(proxx, farm, tmp_path, "K001.mov", "K002.slow8.mov")
    spec = proxx.store.spec(job_id)
    state = FarmState.connect(farm["broker"])
    deadline = time.monotonic() + 60
    while "published:0" not in state.job(job_id):
        assert time.monotonic() < deadline, state.job(job_id)
        time.sleep(0.05)
    farm["worker"].kill()
    killed = time.monotonic()
    row = wait_finished(proxx, job_id, timeout=lost_after() + 20)
    print(f"worker killed -> FAILED in {time.monotonic() - killed:.1f} s")
    assert (row.state, row.reason) == (FAILED, "worker lost")
    assert row.published == 1
    result = load_result(Path(row.result_path or ""))
    assert [c.state for c in result.clips] == [CLIP_COMPLETED, "failed"]
    assert Path(spec.clips[0].output).is_file()

    retry, done = proxx.retry(job_id, here=True)
    assert done == 1 and [c.source for c in retry.clips] == [spec.clips[1].source]
    finished = proxx.run_job(retry.job_id)
    assert finished is not None and finished.state == COMPLETED, finished.failure
    assert json.loads(Path(proxx.store.job(retry.job_id).result_path or "").read_text())["state"] == COMPLETED
