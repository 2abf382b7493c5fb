"""Spec section "Guarantees to the Operator", "Always True" 1-7."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

from proxx import Proxx
from proxx.cli import main
from proxx.execute import schedule
from proxx.store import COMPLETED, FAILED

INTENT = "Review H.264"


def test_1_no_job_runs_without_a_jobspec_proxx_created(proxx_home, tmp_path, clip, out, capsys):
    # A hand-written JobSpec file given to run-spec without the digest proxx recorded never runs.
    proxx = Proxx.open()
    spec = proxx.create_job(INTENT, [clip], out)
    handmade = tmp_path / "handmade.json"
    handmade.write_text(spec.to_json().replace(spec.job_id, "job-20260101T000000Z-0badc0de"))
    assert main(["run-spec", str(handmade)]) == 4
    assert "only with the digest recorded when proxx created it" in capsys.readouterr().err
    assert [r.job_id for r in Proxx.open().store.jobs()] == [spec.job_id]


def test_2_no_job_is_completed_without_verified_output(proxx_home, clip, out):
    proxx = Proxx.open()
    result = proxx.run_job(proxx.create_job(INTENT, [clip], out).job_id)
    assert result is not None and result.state == COMPLETED
    (done,) = result.clips
    assert done.checks and all(check.passed for check in done.checks)
    assert Path(done.output).stat().st_size > 0


def test_4_no_automatic_retries(proxx_home, tmp_path, clip, out):
    from proxx.worker import work

    proxx = Proxx.open()
    spec = proxx.create_job(INTENT, [tmp_path / "gone.mov"], out)
    assert work(proxx, once=True) == 0  # a failed job stays failed: no worker takes it again
    assert proxx.store.job(spec.job_id).state == FAILED and proxx.store.retries_of(spec.job_id) == []


def _digest(path: str) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@pytest.mark.parametrize("intent", ["Review H.264", "HD Editorial LT"])
def test_5_no_hidden_execution_changes_the_same_jobspec_gives_the_same_bytes_alone_and_in_a_batch(
    proxx_home, tmp_path, clip, monkeypatch, intent
):
    # Alone, a clip renders with every core; in a batch it gets a share of them (its thread count
    # chosen by load). The bytes must not change, and the result says what ran and with what.
    alone_out, batch_out = tmp_path / "alone", tmp_path / "batch"
    alone_out.mkdir()
    batch_out.mkdir()
    proxx = Proxx.open()
    alone = proxx.run_job(proxx.create_job(intent, [clip], alone_out).job_id)
    monkeypatch.setenv("PROXX_PARALLEL_CLIPS", "2")
    monkeypatch.setattr(schedule.core_share(), "cores", 4)
    others = [shutil.copyfile(clip, tmp_path / f"B00{n}_C001.mov") for n in range(3)]
    batch = proxx.run_job(proxx.create_job(intent, [clip, *others], batch_out).job_id)
    assert alone is not None and batch is not None and batch.state == COMPLETED
    assert _digest(alone.clips[0].output) == _digest(batch.clips[0].output)
    assert batch.engine.version and batch.engine.details["binary"]  # the toolchain
    assert set(batch.engine.details["threads"]) == {"decoder", "encoder"}  # what it ran with, recorded
    assert " -threads 2 " in Path(batch.log_path).read_text()  # clips of the batch did get a share


def test_6_jobspecs_are_immutable(proxx_home, clip, out):
    import sqlite3

    proxx = Proxx.open()
    spec = proxx.create_job(INTENT, [clip], out)
    db = sqlite3.connect(proxx.store.path)
    with pytest.raises(sqlite3.DatabaseError, match="never deleted"):
        db.execute("DELETE FROM jobspecs WHERE job_id = ?", (spec.job_id,))


def test_7_every_failure_has_class_reason_context_and_message(proxx_home, tmp_path, out):
    proxx = Proxx.open()
    spec = proxx.create_job(INTENT, [tmp_path / "gone.mov"], out)
    row = proxx.store.job(spec.job_id)
    assert row.failure_class == "B" and row.reason == "source_missing" and row.message
    result = proxx.run_job(spec.job_id)
    assert result is not None and result.failure is not None
    assert result.failure.context == {"source": str(tmp_path / "gone.mov")}


def test_3_no_silent_substitution_a_retry_compiles_afresh_and_never_falls_back(proxx_home, tmp_path, out, monkeypatch):
    from proxx.errors import PreJobError
    from proxx.resources import bundled_profiles_dir

    layer = tmp_path / "studio"
    shutil.copytree(bundled_profiles_dir(), layer)
    monkeypatch.setenv("PROXX_BUNDLED_PROFILES", "0")
    monkeypatch.setenv("PROXX_PROFILES", str(layer))
    proxx = Proxx.open()
    failed = proxx.create_job(INTENT, [tmp_path / "gone.mov"], out)  # FAILED in class B
    intent_file = layer / "user" / "review_h264.yaml"
    intent_file.write_text(intent_file.read_text() + "lifecycle: deprecated\n")
    with pytest.raises(PreJobError) as caught:
        proxx.retry(failed.job_id)
    assert caught.value.message == f"Intent '{INTENT}' is deprecated and cannot be used for new jobs."
    assert [r.job_id for r in proxx.store.jobs()] == [failed.job_id]  # nothing created in its place
