"""What the submitting machine takes from the farm's Redis, which more than the farm's workers can
write: only what a worker signed, bounded and checked, one bad entry never stopping the rest; and a
worker's replay record, which refuses a task it accepted before (from any of its processes)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from proxx import Proxx
from proxx.cli import main
from proxx.jobspec.model import create_jobspec, utc_now
from proxx.jobspec.signing import FARM_TASK, seal
from proxx.testing import make_clip
from proxx_farm.replay import ReplayRecord

INTENT = "HD Editorial LT"
FARM_KEY = b"the facility's farm key"


@pytest.fixture
def area(tmp_path: Path) -> dict[str, Path]:
    media, out = tmp_path / "media", tmp_path / "out"
    out.mkdir()
    make_clip(media / "A001.mov", frames=6, size="160x120")
    return {"media": media, "out": out}


def test_a_worker_accepts_a_task_once(tmp_path: Path) -> None:
    job = "job-20261206T070000Z-0123abcd"
    task = seal(FARM_TASK, job, "proxx-farm", b'{"job_id": "x"}', FARM_KEY, 60)
    record = ReplayRecord(tmp_path / "replay.db")
    assert record.first_time(task, job, int(time.time()) + 60)
    assert not ReplayRecord(tmp_path / "replay.db").first_time(task, job, int(time.time()) + 60)  # another process


@pytest.fixture
def redis_url() -> Iterator[str]:
    from proxx_farm.testing import RedisServer

    with RedisServer() as server:
        yield server.url


def _farm_job(proxx: Proxx, area: dict[str, Path], broker: str) -> str:
    spec = create_jobspec(proxx.select(INTENT), [area["media"] / "A001.mov"], area["out"], utc_now(), {})
    proxx.store.add(spec, broker)
    return spec.job_id


def test_the_submitting_machine_mirrors_only_what_a_worker_signed(proxx_home, area, redis_url, monkeypatch, capsys):
    """Any Redis client, without the farm key, writes a job COMPLETED with a forged result, another
    RUNNING, another with a result nested 100,000 deep: none is mirrored, and `jobs list` works."""
    import redis

    monkeypatch.setenv("PROXX_FARM_KEY", FARM_KEY.decode())
    proxx = Proxx.open()
    forged, running, deep = (_farm_job(proxx, area, redis_url) for _ in range(3))
    client = redis.Redis.from_url(redis_url)
    result = {"job_id": forged, "state": "COMPLETED", "clips": []}
    client.hset(f"proxx:farm:job:{forged}", mapping={"state": "COMPLETED", "result": json.dumps(result)})
    client.hset(f"proxx:farm:job:{running}", mapping={"state": "RUNNING", "worker_id": "evil", "progress": "0.5"})
    client.hset(f"proxx:farm:job:{deep}", mapping={"state": "COMPLETED", "result": "[" * 100_000,
                                                   "sealed": "proxx-signed-1 hmac-sha256:00\n{}\n" + "[" * 100_000})  # fmt: skip
    proxx.refresh()
    assert [proxx.store.job(j).state for j in (forged, running, deep)] == ["QUEUED"] * 3
    assert main(["jobs", "list"]) == 0
    assert main(["jobs", "show", forged]) == 0
    capsys.readouterr()


def test_without_a_key_a_bad_entry_is_skipped_and_never_stops_jobs_list(
    proxx_home, area, redis_url, monkeypatch, capsys
):
    import redis

    monkeypatch.delenv("PROXX_FARM_KEY", raising=False)
    proxx = Proxx.open()
    deep, other = _farm_job(proxx, area, redis_url), _farm_job(proxx, area, redis_url)
    client = redis.Redis.from_url(redis_url)
    client.hset(f"proxx:farm:job:{deep}", mapping={"state": "COMPLETED", "result": "[" * 100_000})
    client.hset(f"proxx:farm:job:{other}", mapping={"state": "COMPLETED", "result": json.dumps({"job_id": deep})})
    client.hset(f"proxx:farm:job:{deep}-x", mapping={"state": "FAILED"})
    assert main(["jobs", "list"]) == 0
    assert main(["jobs", "list"]) == 0  # and again: the entry is still there, still harmless
    assert [proxx.store.job(j).state for j in (deep, other)] == ["QUEUED", "QUEUED"]  # nested; another job's
    capsys.readouterr()


def test_a_refresh_asks_the_broker_for_a_backlog_in_a_few_round_trips(proxx_home, area, redis_url, monkeypatch):
    """`jobs list` and the web page refresh before they list: a backlog of 600 farm jobs costs a
    few exchanges with the broker (it cost two for every job), and every record is still mirrored."""
    import redis
    import redis.connection

    proxx = Proxx.open()
    jobs = [_farm_job(proxx, area, redis_url) for _ in range(600)]
    client = redis.Redis.from_url(redis_url)
    for job_id in jobs:
        client.hset(f"proxx:farm:job:{job_id}", mapping={"state": "QUEUED", "engine": "ffmpeg"})
    running = jobs[550]  # in the second batch
    client.hset(f"proxx:farm:job:{running}", mapping={"state": "RUNNING", "worker_id": "w1:1", "started_at": utc_now(),
                                                      "progress": "0.5"})  # fmt: skip
    client.delete(f"proxx:farm:job:{jobs[0]}")  # a record the broker lost: its grace period starts
    sent = []
    send = redis.connection.AbstractConnection.send_packed_command
    monkeypatch.setattr(redis.connection.AbstractConnection, "send_packed_command",
                        lambda self, *a, **k: (sent.append(1), send(self, *a, **k))[1])  # fmt: skip
    assert proxx.refresh() == []
    # The connection's greeting (HELLO, CLIENT, PING: 5), then for each 500 jobs a SCRIPT EXISTS and
    # one pipeline: 9 or 10 in all, against 1,207 before.
    assert len(sent) <= 12, len(sent)
    assert proxx.store.job(running).state == "RUNNING"
    assert proxx.store.job(running).progress == 0.5
    assert {proxx.store.job(j).state for j in jobs if j != running} == {"QUEUED"}


def test_a_process_submitting_and_refreshing_keeps_one_connection_to_the_broker(proxx_home, area, redis_url):
    """A watch folder or the web page submits job after job and looks at the farm once a second:
    each job and each look connected to the broker and greeted it again."""
    import redis

    proxx = Proxx.open()
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    before = int(client.info("stats")["total_connections_received"])
    jobs = [proxx.submit(INTENT, [area["media"] / "A001.mov"], area["out"] / str(n), farm=redis_url) for n in range(8)]
    for _ in range(3):
        proxx.refresh()
    connections = int(client.info("stats")["total_connections_received"]) - before
    # proxx's client for submitting and the one for looking (their timeouts differ), and Celery's
    # two for the tasks: 4, whatever the number of jobs and looks (it was one more for each: 13)
    assert connections <= 4, connections
    assert {proxx.store.job(spec.job_id).state for spec in jobs} == {"QUEUED"}


def test_an_acknowledgement_never_makes_a_record_the_broker_lost_again(redis_url):
    import redis

    from proxx_farm.state import FarmState

    state = FarmState.connect(redis_url)
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    client.hset("proxx:farm:job:kept", mapping={"state": "COMPLETED"})
    state.acknowledge("kept")
    state.acknowledge("lost")
    assert client.hget("proxx:farm:job:kept", "mirrored")
    assert not client.exists("proxx:farm:job:lost")


def test_a_forked_worker_uses_the_broker_client_its_parent_made(redis_url):
    import os

    from proxx_farm.state import FarmState

    parent = FarmState.connect(redis_url)  # a prefork parent connected before its children forked
    pid = os.fork()
    if pid == 0:
        child = FarmState.connect(redis_url)
        os._exit(0 if child is parent and child.client.ping() else 1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
