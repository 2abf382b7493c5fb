"""A JobSpec made outside `create_job` (a JobSpec inbox file, `Proxx.add_job`) is the job's audit trail
as it is stored: its intent compiles here, now, to exactly its canonical profile and origin, its
times are not in the future, and `retry_of` names a FAILED job of this store of the same intent.
Otherwise nothing is queued or run (the contract: no per-job overrides on any path)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import attrs
import pytest

from proxx import Proxx
from proxx.errors import JobValidationError, PreJobError
from proxx.jobspec.model import JobSpec, create_jobspec, new_job_id, utc_now
from proxx.media.samples import make_clip
from proxx.roots import Roots
from proxx.store import COMPLETED, FAILED, QUEUED
from proxx.watch.watcher import JobSpecInbox

INTENT = "HD Editorial LT"


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_clip(tmp_path_factory.mktemp("media") / "A001_C001.mov", frames=3, size="160x90")


@pytest.fixture
def out(tmp_path: Path) -> Path:
    folder = tmp_path / "out"
    folder.mkdir()
    return folder


def _made(proxx: Proxx, clip: Path, out: Path, intent: str = INTENT, **changes: Any) -> JobSpec:
    """A JobSpec as `create_job` makes it, not stored, with `changes`."""
    compiled = proxx.select(intent)
    spec = create_jobspec(compiled, [clip], out, utc_now(), proxx.requirements(compiled.canonical.engine))
    return attrs.evolve(spec, **changes)


def _failed_job(proxx: Proxx, clip: Path, tmp_path: Path, intent: str = INTENT) -> str:
    """A job ended FAILED in class B at once (its output folder does not exist)."""
    spec = proxx.create_job(intent, [clip], tmp_path / "missing")
    assert proxx.job(spec.job_id).state == FAILED
    return spec.job_id


def test_add_job_refuses_a_jobspec_whose_profile_was_changed(proxx_home, clip, out):
    proxx = Proxx.open()
    spec = proxx.create_job(INTENT, [clip], out)
    invented = attrs.evolve(spec.canonical_profile, id="proxy_custom", codec="h264", container="mp4",
                            resolution="scale_25")  # fmt: skip
    forged = attrs.evolve(
        spec,
        job_id=new_job_id(),
        proxy_profile="proxy_custom",
        canonical_profile=invented,
        clips=(attrs.evolve(spec.clips[0], output=str(out / "A001_C001.mp4")),),
    )
    with pytest.raises(JobValidationError, match="proxy_custom' is not in this machine's canonical registry"):
        proxx.add_job(forged)
    with pytest.raises(KeyError):
        proxx.job(forged.job_id)
    # The same canonical id with another definition, outputs named by its rule: refused as well.
    changed = attrs.evolve(spec.canonical_profile, resolution="scale_25")
    redefined = attrs.evolve(spec, job_id=new_job_id(), canonical_profile=changed)
    with pytest.raises(JobValidationError, match="differs from the registry's"):
        proxx.add_job(redefined)
    # Another intent's profile under this intent's name: the intent does not compile to it.
    other = _made(proxx, clip, out, "Review H.264")
    with pytest.raises(PreJobError, match="does not compile to what this JobSpec says it chose"):
        proxx.add_job(attrs.evolve(other, proxy_profile_origin=spec.proxy_profile_origin))
    assert [row.job_id for row in proxx.store.jobs()] == [spec.job_id]


def test_add_job_stores_and_runs_a_jobspec_as_create_job_makes_it(proxx_home, clip, out):
    proxx = Proxx.open()
    spec = _made(proxx, clip, out)
    proxx.add_job(spec)
    assert proxx.job(spec.job_id).state == QUEUED
    with pytest.raises(JobValidationError, match="already exists"):
        proxx.add_job(spec)
    result = proxx.run_job(spec.job_id)
    assert result is not None and result.state == COMPLETED


def test_add_job_holds_a_jobspec_to_its_roots(proxx_home, clip, out, tmp_path):
    proxx = Proxx.open()
    with pytest.raises(JobValidationError, match="not inside the roots"):
        proxx.add_job(_made(proxx, clip, out), roots=Roots([out]))
    assert proxx.store.jobs() == []


def _forgeries(proxx: Proxx, clip: Path, out: Path, tmp_path: Path) -> dict[str, tuple[JobSpec, str]]:
    spec = _made(proxx, clip, out)
    origin = spec.proxy_profile_origin
    other_intent = _failed_job(proxx, clip, tmp_path, "Review H.264")
    done = proxx.create_job("Review H.264", [clip], out)
    assert (result := proxx.run_job(done.job_id)) is not None and result.state == COMPLETED
    queued = proxx.create_job(INTENT, [clip], out)  # not run
    forged = {
        "file": (attrs.evolve(origin, file="/etc/passwd"), "the file, digest or override its origin names"),
        "digest": (attrs.evolve(origin, digest="sha256:" + "0" * 64), "the file, digest or override"),
        "overrides": (attrs.evolve(origin, overrides="/etc/hosts"), "the file, digest or override"),
    }
    cases = {name: (attrs.evolve(spec, proxy_profile_origin=o), why) for name, (o, why) in forged.items()}
    cases["created_at"] = (attrs.evolve(spec, created_at="2099-01-01T00:00:00.000Z"), "is in the future")
    cases["selected_at"] = (
        attrs.evolve(spec, selected_at="2099-01-01T00:00:00.000Z", created_at="2099-01-01T00:00:01.000Z"),
        "is in the future",
    )
    cases["order"] = (
        attrs.evolve(spec, selected_at=spec.created_at, created_at="2020-01-01T00:00:00.000Z"),
        "was selected",
    )
    cases["retry_of_unknown"] = (attrs.evolve(spec, retry_of="job-20200101T000000Z-00000000"), "not a job of")
    cases["retry_of_completed"] = (attrs.evolve(spec, retry_of=done.job_id), "is COMPLETED: only a FAILED job")
    cases["retry_of_queued"] = (attrs.evolve(spec, retry_of=queued.job_id), "only a FAILED job is retried")
    cases["retry_of_other_intent"] = (attrs.evolve(spec, retry_of=other_intent), "another intent")
    return {name: (attrs.evolve(s, job_id=new_job_id()), why) for name, (s, why) in cases.items()}


def test_the_inbox_refuses_forged_audit_fields(proxx_home, clip, out, tmp_path):
    proxx = Proxx.open()
    cases = _forgeries(proxx, clip, out, tmp_path)
    before = {row.job_id for row in proxx.store.jobs()}
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for name, (spec, _) in cases.items():
        (inbox / f"{name}.json").write_text(spec.to_json())
    events = JobSpecInbox(Proxx.open(), inbox, Roots([tmp_path, clip.parent]), settle=0.0).poll()
    said = {event.path.stem: event for event in events}
    for name, (_, why) in cases.items():
        assert said[name].outcome == "failed", name
        assert why in said[name].message and "Nothing was queued or run" in said[name].message, said[name].message
    assert {row.job_id for row in Proxx.open().store.jobs()} == before  # nothing stored, nothing in a result


def test_add_job_refuses_forged_audit_fields(proxx_home, clip, out, tmp_path):
    proxx = Proxx.open()
    for name, (spec, why) in _forgeries(proxx, clip, out, tmp_path).items():
        with pytest.raises((JobValidationError, PreJobError)) as refused:
            proxx.add_job(spec)
        assert why in refused.value.message, name
        with pytest.raises(KeyError):
            proxx.job(spec.job_id)


def test_the_inbox_queues_a_retry_of_a_failed_job_of_the_same_intent(proxx_home, clip, out, tmp_path):
    proxx = Proxx.open()
    original = _failed_job(proxx, clip, tmp_path)
    retry = _made(proxx, clip, out, retry_of=original)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "retry.json").write_text(retry.to_json())
    (event,) = JobSpecInbox(Proxx.open(), inbox, Roots([tmp_path, clip.parent]), settle=0.0).poll()
    assert event.outcome == "queued", event.message
    assert Proxx.open().spec(retry.job_id).retry_of == original


def test_add_job_refuses_a_retry_whose_intent_now_names_its_proxies_otherwise(
    proxx_home, clip, out, tmp_path, monkeypatch
):
    """A JobSpec retrying a job was taken when its intent compiled to the same canonical id, though the
    intent's naming had changed since the job: the retry's proxies were named otherwise than its
    original's (a silent substitution)."""
    studio = tmp_path / "studio"
    (studio / "user").mkdir(parents=True)
    intent = studio / "user" / "dailies.yaml"
    dailies = 'user_profile_version: "1.1"\nname: Dailies\nconstraints:\n  codecs: [h264]\n  resolution: [scale_50]\n'
    intent.write_text(dailies)
    monkeypatch.setenv("PROXX_PROFILES", str(studio))
    proxx = Proxx.open()
    original = _failed_job(proxx, clip, tmp_path, "Dailies")
    intent.write_text(dailies + "naming:\n  suffix: _Proxy\n")
    proxx = Proxx.open()
    retry = _made(proxx, clip, out, "Dailies", retry_of=original)
    with pytest.raises(JobValidationError, match="whose proxies it makes differently"):
        proxx.add_job(retry)
    with pytest.raises(KeyError):
        proxx.job(retry.job_id)
