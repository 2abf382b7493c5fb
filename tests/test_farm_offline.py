"""The farm when its broker cannot be reached: nothing is created, and listings still work."""

from __future__ import annotations

import pytest

from proxx import ConfigurationError, Proxx
from proxx.farm.local import free_port
from proxx.jobspec.model import create_jobspec, utc_now
from proxx.media.samples import make_clip
from proxx.store import QUEUED


def test_an_unreachable_farm_creates_no_job(proxx_home, tmp_path):
    proxx = Proxx.open()
    src = make_clip(tmp_path / "A001.mov", frames=2)
    with pytest.raises(ConfigurationError, match="cannot be reached"):
        proxx.submit("Review H.264", [src], tmp_path, farm=f"redis://127.0.0.1:{free_port()}/0")
    assert proxx.store.jobs() == []


def test_listing_with_the_farm_gone_leaves_farm_jobs_as_they_were(proxx_home, tmp_path):
    proxx = Proxx.open()
    src = make_clip(tmp_path / "A001.mov", frames=2)
    spec = create_jobspec(proxx.select("Review H.264"), [src], tmp_path, utc_now(), {})
    proxx.store.add(spec, f"redis://127.0.0.1:{free_port()}/0")
    again = Proxx.open()  # opening the store mirrors farm jobs: the broker is down, nothing changes
    assert again.store.job(spec.job_id).state == QUEUED
    assert again.store.claim("local") is None  # and no local worker takes it meanwhile
