"""A job's lease and cancel poll open a store connection of their own only when the job lasts long
enough to need one (each opening and closing costs a short job 0.65 ms of CPU)."""

from __future__ import annotations

import time

import pytest

import proxx.execute.cancel as cancel_module
import proxx.execute.lease as lease_module
from proxx import Proxx
from proxx.execute.cancel import POLL_SECONDS, CancelSignal
from proxx.execute.lease import StoreLease
from proxx.media.samples import make_clip
from proxx.store import Store


@pytest.fixture
def running(tmp_path, monkeypatch) -> tuple[Proxx, str]:
    monkeypatch.setenv("PROXX_HOME", str(tmp_path / "home"))
    proxx = Proxx.open()
    (tmp_path / "out").mkdir()
    spec = proxx.create_job("HD Editorial LT", [make_clip(tmp_path / "A001.mov", frames=3)], tmp_path / "out")
    assert proxx.store.reserve("w1", spec.job_id, lease=30) == spec.job_id
    assert proxx.store.start("w1", spec.job_id, lease=30)
    return proxx, spec.job_id


def opened_stores(monkeypatch, module) -> list[Store]:
    opened: list[Store] = []

    def counted(path):
        opened.append(Store(path))
        return opened[-1]

    monkeypatch.setattr(module, "Store", counted)
    return opened


def lease_until(proxx: Proxx, job_id: str) -> str:
    return str(proxx.store._db.execute("SELECT lease_until FROM jobs WHERE job_id = ?", (job_id,)).fetchone()[0])


def test_a_job_shorter_than_a_renewal_opens_no_store_for_its_lease(running, monkeypatch):
    proxx, job_id = running
    opened = opened_stores(monkeypatch, lease_module)
    with StoreLease(proxx.store, "w1", seconds=30).keep(job_id):
        time.sleep(0.05)
    assert opened == []


def test_a_longer_job_renews_its_lease_through_a_store_of_its_own_then_closes_it(running, monkeypatch):
    proxx, job_id = running
    opened = opened_stores(monkeypatch, lease_module)
    before = lease_until(proxx, job_id)
    with StoreLease(proxx.store, "w1", seconds=0.3).keep(job_id):  # renewed every 0.1 s
        time.sleep(0.45)
    assert len(opened) == 1 and lease_until(proxx, job_id) != before
    with pytest.raises(Exception, match="closed"):
        opened[0].job(job_id)


def test_the_cancel_poll_first_asks_a_poll_period_in(running, monkeypatch):
    proxx, job_id = running
    opened = opened_stores(monkeypatch, cancel_module)
    signal = CancelSignal(proxx.store.path, job_id)
    assert proxx.store.request_cancel(job_id)
    assert not signal() and opened == []  # a job done sooner never opens a store
    time.sleep(POLL_SECONDS + 0.05)
    assert signal() and len(opened) == 1
    signal.close()
