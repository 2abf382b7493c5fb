"""The farm when its broker cannot be reached: nothing is created, and listings still work."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from proxx import ConfigurationError, Proxx
from proxx.jobspec.model import create_jobspec, utc_now
from proxx.media.samples import make_clip
from proxx.store import QUEUED
from proxx_farm.testing import free_port


def test_an_unreachable_farm_creates_no_job(proxx_home, tmp_path):
    proxx = Proxx.open()
    src = make_clip(tmp_path / "A001.mov", frames=2)
    with pytest.raises(ConfigurationError, match="cannot be reached") as refused:
        proxx.submit("Review H.264", [src], tmp_path, farm=f"redis://127.0.0.1:{free_port()}/0")
    assert proxx.store.jobs() == []
    # In words an operator can act on; the client library's own for an administrator.
    assert "cannot be reached (Connection refused): nothing was sent to the farm. Check " in refused.value.message
    assert "connecting to" not in refused.value.message and "connecting to" in refused.value.context["error"]


def test_listing_with_the_farm_gone_leaves_farm_jobs_as_they_were(proxx_home, tmp_path):
    proxx = Proxx.open()
    src = make_clip(tmp_path / "A001.mov", frames=2)
    spec = create_jobspec(proxx.select("Review H.264"), [src], tmp_path, utc_now(), proxx.requirements("ffmpeg"))
    proxx.store.add(spec, f"redis://127.0.0.1:{free_port()}/0")
    again = Proxx.open()  # opening the store mirrors farm jobs: the broker is down, nothing changes
    assert again.store.job(spec.job_id).state == QUEUED
    assert again.store.claim("local", lease=30) is None  # and no local worker takes it meanwhile


def test_a_broker_password_is_redacted_and_found_again_only_in_the_environment(monkeypatch):
    from proxx_farm.state import connectable, redacted

    assert redacted("redis://:pw@farm:6379/0") == "redis://:***@farm:6379/0"
    assert redacted("rediss://render:p%40ss@farm.example:6380/2") == "rediss://render:***@farm.example:6380/2"
    assert redacted("redis://farm:6379/0") == "redis://farm:6379/0"
    monkeypatch.delenv("PROXX_FARM_BROKER", raising=False)
    assert connectable("redis://farm:6379/0") == "redis://farm:6379/0"
    assert connectable("redis://:***@farm:6379/0") is None
    monkeypatch.setenv("PROXX_FARM_BROKER", "redis://:pw@other:6379/0")
    assert connectable("redis://:***@farm:6379/0") is None  # another farm's password is no answer
    monkeypatch.setenv("PROXX_FARM_BROKER", "redis://:pw@farm:6379/0")
    assert connectable("redis://:***@farm:6379/0") == "redis://:pw@farm:6379/0"


def test_an_unreachable_farm_never_shows_its_password(proxx_home, tmp_path):
    src = make_clip(tmp_path / "A001.mov", frames=2)
    with pytest.raises(ConfigurationError) as raised:
        Proxx.open().submit("Review H.264", [src], tmp_path, farm=f"redis://:s3cret@127.0.0.1:{free_port()}/0")
    assert "s3cret" not in raised.value.message and ":***@127.0.0.1" in raised.value.message
    assert "s3cret" not in str(raised.value.context)


def test_a_broker_that_refuses_the_job_fails_it_with_its_result_and_says_why(proxx_home, tmp_path, capsys):
    import redis

    from proxx.cli import main
    from proxx.result import load_result
    from proxx.schemas import JOB_RESULT, violations
    from proxx.store import FAILED
    from proxx_farm.testing import RedisServer

    src = make_clip(tmp_path / "A001.mov", frames=4)
    (tmp_path / "out").mkdir()
    with RedisServer() as server:  # reachable, but it takes no write: out of memory (a replica says read-only)
        redis.Redis.from_url(server.url).config_set("maxmemory", 1)
        argv = ["submit", "--farm", server.url, "--profile", "HD Editorial LT", "--output", str(tmp_path / "out")]
        assert main([*argv, str(src)]) == 6  # a configuration problem, never "internal error"
    said = capsys.readouterr().err
    assert "The job could not be queued on the render farm" in said and "internal error" not in said
    (row,) = Proxx.open().store.jobs()
    assert (row.state, row.failure_class, row.reason) == (FAILED, "B", "farm_unreachable")
    assert row.result_path is not None
    result = load_result(Path(row.result_path))
    assert violations(result.to_dict(), JOB_RESULT) == [] and result.state == FAILED
    assert result.failure is not None and result.failure.reason == "farm_unreachable"
    assert [clip.state for clip in result.clips] == ["not_run"]


def test_a_farm_inbox_says_why_the_broker_refused_its_jobspec(proxx_home, tmp_path):
    import redis

    from proxx.roots import Roots
    from proxx.store import FAILED
    from proxx.watch.watcher import JobSpecInbox
    from proxx_farm.testing import RedisServer

    src = make_clip(tmp_path / "A001.mov", frames=4)
    (tmp_path / "out").mkdir()
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    proxx = Proxx.open()
    compiled = proxx.select("HD Editorial LT")
    spec = create_jobspec(compiled, [src], tmp_path / "out", utc_now(), proxx.requirements(compiled.canonical.engine))
    (inbox / "j.json").write_text(spec.to_json())
    with RedisServer() as server:
        redis.Redis.from_url(server.url).config_set("maxmemory", 1)
        (event,) = JobSpecInbox(proxx, inbox, Roots([tmp_path]), settle=0.0, farm=server.url).poll()
    assert (event.outcome, event.job_id) == ("failed", spec.job_id)
    assert "could not be queued on the render farm" in event.message
    assert "could not be queued" in (inbox / "failed" / "j.error.txt").read_text()
    assert proxx.store.job(spec.job_id).state == FAILED


def test_a_farm_watch_folder_says_the_job_the_broker_refused_and_goes_on(proxx_home, tmp_path):
    """The watch stopped (its caller's configuration error) when the broker refused a job it was sent."""
    import redis

    from proxx.store import FAILED
    from proxx.watch.watcher import MediaWatcher
    from proxx_farm.testing import RedisServer

    card, out = tmp_path / "card", tmp_path / "out"
    make_clip(card / "A001.mov", frames=4)
    out.mkdir()
    proxx = Proxx.open()
    with RedisServer() as server:
        redis.Redis.from_url(server.url).config_set("maxmemory", 1)
        watcher = MediaWatcher(proxx, card, "HD Editorial LT", out, settle=0.0, farm=server.url)
        (event,) = watcher.poll()
        assert (event.outcome, event.failure_class) == ("failed", "B")
        assert "could not be queued on the render farm" in event.message and ".." not in event.message
        assert proxx.store.job(event.job_id or "").state == FAILED
        assert watcher.poll() == []  # handled: its job failed, said once, as any job refused in class B


def test_a_farm_watch_warns_when_no_farm_worker_takes_its_jobs(proxx_home, tmp_path):
    """A watch feeding the farm said nothing however long its jobs waited with no farm worker: the
    warning was for local workers only."""
    import os
    import signal
    import subprocess
    import sys

    from proxx_farm.testing import RedisServer

    card, out = tmp_path / "card", tmp_path / "out"
    make_clip(card / "A001.mov", frames=4)
    out.mkdir()
    with RedisServer() as server:  # and no worker
        argv = [sys.executable, "-m", "proxx", "watch", str(card), "--profile", "HD Editorial LT", "--output",
                str(out), "--farm", server.url, "--settle", "0", "--interval", "0.2", "--warn-after", "1"]  # fmt: skip
        watching = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                    env={**os.environ, "PROXX_HOME": str(proxx_home)})  # fmt: skip
        try:
            watching.wait(timeout=6)
        except subprocess.TimeoutExpired:
            watching.send_signal(signal.SIGTERM)
        said, err = watching.communicate(timeout=30)
    warnings = [line for line in said.splitlines() if line.startswith("WARNING")]
    assert warnings == [
        "WARNING 1 job(s) queued on the render farm for 1 s and no farm worker has taken one: start `proxx farm "
        "worker` where the engines their intent needs are installed."
    ], said + err


def test_a_farm_worker_waits_for_its_broker_however_long_it_is_away(proxx_home, tmp_path):
    """Celery gave up after 100 tries to reach the broker (some 47 minutes, started or running), and the
    worker stopped: a broker away for an hour stopped every worker of the farm for good."""
    from proxx_farm.testing import FarmWorker

    worker = FarmWorker(f"redis://127.0.0.1:{free_port()}/0", "W", ("ffmpeg",), home=tmp_path / "w")
    try:
        deadline = time.monotonic() + 60
        while "Trying again" not in worker.log_path.read_text(errors="replace"):
            assert time.monotonic() < deadline and worker.process.poll() is None
            time.sleep(0.2)
        assert "(1/None)" in worker.log_path.read_text(errors="replace")  # no last try
    finally:
        worker.stop()
