"""Class B is immediate on the farm too, and no farm job stays QUEUED in silence: a job the checks
that do not depend on the worker refuse ends FAILED before it is sent, with the words and exit code
of a local submit; a task a worker refuses ends its job FAILED with the worker's reason when the
refusal names it (believed as far as this machine can check it), and a job no worker takes says so."""

from __future__ import annotations

import contextlib
import io
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from proxx import Proxx
from proxx.cli import main
from proxx.media.samples import make_clip
from proxx.store import FAILED, QUEUED
from proxx_farm.state import FarmState
from proxx_farm.testing import FarmWorker, RedisServer

INTENT = "HD Editorial LT"
KEY = "the facility's farm key"


def _said(argv: list[str]) -> tuple[int, str]:
    said = io.StringIO()
    with contextlib.redirect_stdout(said), contextlib.redirect_stderr(said):
        code = main(argv)
    return code, " ".join(said.getvalue().split())


@pytest.fixture(scope="module")
def sources(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("sources")
    return (
        make_clip(root / "media" / "A001_C001.mov", frames=3, size="160x90"),
        make_clip(root / "wsrc" / "A001_C001.mov", frames=3, size="160x90"),
    )


@pytest.fixture
def broker() -> Iterator[str]:
    with RedisServer() as server:
        yield server.url


def test_a_farm_submit_of_colliding_outputs_fails_in_class_b_at_once_as_a_local_one(
    proxx_home, sources, broker, tmp_path, monkeypatch
):
    monkeypatch.setenv("PROXX_LOAD_PLUGINS", "ffmpeg,farm")
    out = tmp_path / "c4"
    out.mkdir()
    local = _said(["submit", "--profile", INTENT, "--output", str(out), *map(str, sources)])
    farm = _said(["submit", "--farm", broker, "--profile", INTENT, "--output", str(out), *map(str, sources)])
    assert local[0] == farm[0] == 4, (local, farm)
    assert "would both be written to" in farm[1] and "QUEUED" not in farm[1]
    assert farm[1].replace(" on the render farm", "").split("Job ")[0] == local[1].split("Job ")[0]
    rows = Proxx.open().store.jobs()
    farm_row = next(r for r in rows if r.job_id in Proxx.open().store.dispatched(unfinished=False))
    assert (farm_row.state, farm_row.failure_class, farm_row.reason) == (FAILED, "B", "output_collision")
    assert FarmState.connect(broker).job(farm_row.job_id) == {}  # never sent


def test_a_farm_submit_over_an_existing_output_fails_in_class_b_at_once(
    proxx_home, sources, broker, tmp_path, monkeypatch
):
    monkeypatch.setenv("PROXX_LOAD_PLUGINS", "ffmpeg,farm")
    out = tmp_path / "out"
    out.mkdir()
    (out / "A001_C001.mov").write_bytes(b"an earlier proxy")
    code, said = _said(["submit", "--farm", broker, "--profile", INTENT, "--output", str(out), str(sources[0])])
    assert code == 4 and f"Output path '{out / 'A001_C001.mov'}' already exists." in said


@pytest.fixture
def keyed_worker(broker: str, tmp_path: Path) -> Iterator[FarmWorker]:
    env = {"PROXX_FARM_KEY": KEY, "PROXX_LOAD_PLUGINS": "ffmpeg,farm"}
    worker = FarmWorker(broker, "K", ("ffmpeg",), home=tmp_path / "worker", env=env)
    try:
        worker.wait_ready()
        yield worker
    finally:
        worker.stop()


def _ended(proxx: Proxx, job_id: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while proxx.store.job(job_id).state == QUEUED:
        assert time.monotonic() < deadline, f"still QUEUED: {proxx.store.job(job_id).message}"
        time.sleep(0.2)
        proxx.refresh()


def test_a_task_a_keyed_worker_refuses_ends_the_job_of_a_machine_without_the_key(
    proxx_home, sources, broker, keyed_worker, tmp_path, monkeypatch
):
    monkeypatch.setenv("PROXX_LOAD_PLUGINS", "ffmpeg,farm")
    monkeypatch.delenv("PROXX_FARM_KEY", raising=False)
    out = tmp_path / "out"
    out.mkdir()
    proxx = Proxx.open()
    spec = proxx.submit(INTENT, [sources[0]], out, farm=broker)
    _ended(proxx, spec.job_id)
    row = proxx.store.job(spec.job_id)
    assert (row.state, row.failure_class, row.reason) == (FAILED, "B", "farm_signature_invalid")
    assert "it carries no signature with this farm's key" in (row.message or "")
    result = proxx.result(spec.job_id)  # with its result, as every ended job
    assert result is not None
    # listing the problem found before anything ran, as a local job refused in class B does
    assert [problem.reason for problem in result.validation_problems] == ["farm_signature_invalid"]
    code, said = _said(["jobs", "show", spec.job_id])
    assert code == 0 and "FAILED" in said and "carries no signature" in said
    (refusal,) = FarmState.connect(broker).refused_tasks()
    assert refusal["job_id"] == spec.job_id and refusal["proven"] == "no"


def test_an_expired_task_ends_its_job_through_the_workers_signed_record(
    proxx_home, sources, broker, keyed_worker, tmp_path, monkeypatch
):
    monkeypatch.setenv("PROXX_LOAD_PLUGINS", "ffmpeg,farm")
    monkeypatch.setenv("PROXX_FARM_KEY", KEY)
    monkeypatch.setenv("PROXX_FARM_TASK_SECONDS", "-60")  # expired when it is sent
    out = tmp_path / "out"
    out.mkdir()
    proxx = Proxx.open()
    spec = proxx.submit(INTENT, [sources[0]], out, farm=broker)
    _ended(proxx, spec.job_id)
    row = proxx.store.job(spec.job_id)
    assert (row.state, row.failure_class, row.reason) == (FAILED, "B", "farm_signature_invalid")
    assert "its signature has expired" in (row.message or "")


def test_a_queued_farm_job_no_worker_takes_says_so(proxx_home, sources, broker, tmp_path, monkeypatch):
    monkeypatch.setenv("PROXX_LOAD_PLUGINS", "ffmpeg,farm")
    out = tmp_path / "out"
    out.mkdir()
    proxx = Proxx.open()
    spec = proxx.submit(INTENT, [sources[0]], out, farm=broker)
    proxx.refresh()
    assert proxx.store.job(spec.job_id).state == QUEUED
    code, listed = _said(["jobs", "list"])
    assert code == 0 and "no render farm worker that takes this kind of job is running now" in listed
    code, shown = _said(["jobs", "show", spec.job_id])
    assert code == 0 and "QUEUED" in shown and "it may never run" in shown


def test_under_a_key_an_unsigned_refusal_is_said_never_believed(proxx_home, sources, broker, tmp_path, monkeypatch):
    monkeypatch.setenv("PROXX_LOAD_PLUGINS", "ffmpeg,farm")
    monkeypatch.setenv("PROXX_FARM_KEY", KEY)
    out = tmp_path / "out"
    out.mkdir()
    proxx = Proxx.open()
    spec = proxx.submit(INTENT, [sources[0]], out, farm=broker)
    state = FarmState.connect(broker)
    state.advertise("W", ["ffmpeg"], ttl=60)
    state.refused("anyone", spec.job_id, "farm_signature_invalid", "Forged refusal.", proven=True)
    proxx.refresh()
    row = proxx.store.job(spec.job_id)
    assert row.state == QUEUED and "refused a task naming this job (Forged refusal)" in (row.message or "")
