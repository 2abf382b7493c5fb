"""Crafted farm messages against a real Redis and a real farm worker with the facility's key and
roots (issue 13): forged, unsigned and path-climbing tasks are refused and recorded before anything
is claimed or written; a signed task outside the worker's roots fails in class B."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from proxx import ConfigurationError, Proxx
from proxx.cli import main
from proxx.jobspec.model import create_jobspec, digest_of, utc_now
from proxx.jobspec.signing import FARM_TASK, seal
from proxx.media.samples import make_clip
from proxx.store import COMPLETED, FAILED, JobRow
from proxx_farm.app import TASK_NAME, app_for, queue_for
from proxx_farm.state import FarmState
from proxx_farm.testing import FarmWorker, RedisServer

KEY = "the facility's farm key"
INTENT = "Review H.264"


@pytest.fixture(scope="module")
def farm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    root = tmp_path_factory.mktemp("keyed-farm")
    media, outside = root / "media", root / "outside"
    media.mkdir()
    outside.mkdir()
    env = {"PROXX_FARM_KEY": KEY, "PROXX_FARM_ROOTS": str(media), "PROXX_LOAD_PLUGINS": "ffmpeg,farm"}
    with RedisServer() as server:
        worker = FarmWorker(server.url, "K", ("ffmpeg",), home=root / "worker" / "home", env=env)
        try:
            worker.wait_ready()
            yield {"broker": server.url, "root": root, "media": media, "outside": outside, "worker": worker}
        finally:
            worker.stop()


@pytest.fixture
def proxx(proxx_home: Path, monkeypatch: pytest.MonkeyPatch, farm: dict) -> Proxx:
    monkeypatch.setenv("PROXX_FARM_KEY", KEY)
    monkeypatch.setenv("PROXX_LOAD_PLUGINS", "ffmpeg,farm")
    return Proxx.open()


def _wait(predicate, timeout: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def _finished(proxx: Proxx, job_id: str) -> JobRow:
    def done() -> bool:
        proxx.refresh()
        return proxx.store.job(job_id).state in (COMPLETED, FAILED)

    _wait(done, 90)
    return proxx.store.job(job_id)


def _send(broker: str, message: str) -> None:
    """What an attacker who can reach the broker does: put a task on the queue, digest recomputed."""
    spec_json = message.rpartition("\n")[2]
    app_for(broker).send_task(TASK_NAME, args=[message, digest_of(spec_json), None], queue=queue_for("ffmpeg"))


def _sealed(spec_json: str, key: bytes, job_id: str, audience: str = "proxx-farm") -> str:
    return seal(FARM_TASK, job_id, audience, spec_json.encode(), key, 3600).decode()


def _files(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def test_forged_unsigned_and_climbing_tasks_are_refused_and_recorded(farm, proxx):
    state = FarmState.connect(farm["broker"])
    source = make_clip(farm["media"] / "F001.mov", frames=12, size="320x240")
    compiled = proxx.select(INTENT)
    spec = create_jobspec(compiled, [source], farm["outside"], utc_now(), proxx.requirements("ffmpeg"))
    spec_json = spec.to_json()
    climbing = json.loads(spec_json)
    climbing["job_id"] = "../../../../escaped"
    before = _files(farm["root"] / "worker")

    _send(farm["broker"], _sealed(spec_json, b"a guessed key", spec.job_id))
    _send(farm["broker"], spec_json)
    _send(farm["broker"], _sealed(json.dumps(climbing), KEY.encode(), spec.job_id))
    _wait(lambda: len(state.refused_tasks()) >= 3)

    refused = state.refused_tasks()[::-1]
    assert [r["reason"] for r in refused] == ["farm_signature_invalid", "farm_signature_invalid", "invalid_jobspec"]
    assert "its signature does not verify with this farm's key (PROXX_FARM_KEY)" in str(refused[0]["message"])
    assert "it carries no signature" in str(refused[1]["message"])
    assert "job id '../../../../escaped' is malformed" in str(refused[2]["message"])
    assert state.job(spec.job_id) == {}  # never claimed, never run
    assert _files(farm["outside"]) == []
    assert not (farm["root"] / "escaped").exists() and not (farm["root"].parent / "escaped").exists()
    written = [f for f in _files(farm["root"] / "worker") if "farm-replay.db" not in f and f != "home/farm-worker"]
    assert written == before  # no job folder, no log, no result (only the record of the signed task accepted)


def test_a_signed_job_runs_and_one_outside_the_workers_roots_fails_in_class_b(farm, proxx):
    out = farm["media"] / "out"
    out.mkdir()
    good = proxx.submit(INTENT, [make_clip(farm["media"] / "G001.mov", frames=12, size="320x240")], out,
                        farm=farm["broker"])  # fmt: skip
    secret = make_clip(farm["outside"] / "secret.mov", frames=12, size="320x240")
    bad = proxx.submit(INTENT, [secret], out, farm=farm["broker"])
    assert _finished(proxx, good.job_id).state == COMPLETED
    row = _finished(proxx, bad.job_id)
    assert (row.state, row.failure_class, row.reason) == (FAILED, "B", "jobspec_outside_roots")
    # said as the farm's: the job was created where no roots apply (`proxx submit`)
    assert f"'{secret}' is not inside the folders the render farm's workers may use (their --root" in (
        row.message or ""
    )
    assert _files(out) == [Path(good.clips[0].output).name]
    assert _files(farm["outside"]) == ["secret.mov"]


def test_without_a_key_the_farm_refuses_a_broker_elsewhere(proxx_home, monkeypatch, capsys, tmp_path):
    monkeypatch.delenv("PROXX_FARM_KEY", raising=False)
    assert main(["farm", "worker", "--broker", "redis://192.0.2.7:6379/0"]) == 6
    assert "is not on this machine, so its tasks must be signed: set PROXX_FARM_KEY" in capsys.readouterr().err
    proxx = Proxx.open()
    with pytest.raises(ConfigurationError, match="set PROXX_FARM_KEY"):
        proxx.submit(INTENT, [make_clip(tmp_path / "A001.mov", frames=4)], tmp_path, farm="redis://192.0.2.7:6379/0")
    assert proxx.store.jobs() == []
