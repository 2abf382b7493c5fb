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
from proxx.worker import work
from tests.conformance.paths import PATHS, create_and_run

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


# --- each guarantee on every path that creates or runs jobs (tests/conformance/paths.py) -----------


def _rows(outcome):
    proxx = Proxx.open()
    return proxx, [proxx.store.job(job_id) for job_id in outcome.job_ids]


@pytest.mark.parametrize("path", PATHS)
def test_1_on_every_path_a_job_runs_only_from_its_stored_jobspec(proxx_home, tmp_path, clip, path):
    outcome = create_and_run(path, INTENT, clip, tmp_path)
    proxx, rows = _rows(outcome)
    assert rows and not outcome.refusal
    for row in rows:
        spec = proxx.store.spec(row.job_id)  # checked against the digest recorded at creation
        result = proxx.result(row.job_id)
        assert result is not None and result.job_id == spec.job_id and result.proxy_profile == spec.proxy_profile
        assert [c.source for c in result.clips] == [c.source for c in spec.clips]


@pytest.mark.parametrize("path", PATHS)
def test_2_on_every_path_completed_means_every_output_verified(proxx_home, tmp_path, clip, path):
    outcome = create_and_run(path, INTENT, clip, tmp_path)
    proxx, rows = _rows(outcome)
    assert rows and all(row.state == COMPLETED for row in rows)
    for row in rows:
        result = proxx.result(row.job_id)
        assert result is not None
        for done in result.clips:
            assert done.checks and all(check.passed for check in done.checks)
            assert Path(done.output).is_file() and Path(done.output).stat().st_size > 0


def test_2_the_checks_cover_existence_streams_and_size(proxx_home, clip, out):
    proxx = Proxx.open()
    result = proxx.run_job(proxx.create_job(INTENT, [clip], out).job_id)
    assert result is not None
    names = {check.name for check in result.clips[0].checks}
    assert {"output_exists", "video_codec", "audio_streams"} <= names, names  # a missing stream fails the last two


@pytest.mark.parametrize("path", PATHS)
def test_3_on_every_path_no_silent_substitution(proxx_home, tmp_path, clip, path):
    outcome = create_and_run(path, "Legacy_ProRes_422", clip, tmp_path)
    assert outcome.job_ids == ()  # nothing created in its place
    assert "Legacy_ProRes_422" in outcome.refusal and "deprecated" in outcome.refusal


def test_3_no_closest_match(proxx_home, clip, out, capsys):
    assert main(["run", "--profile", "Review H.26", "--output", str(out), str(clip)]) == 3
    assert capsys.readouterr().err.strip() == "proxx: Intent 'Review H.26' does not exist."
    assert Proxx.open().store.jobs() == []


@pytest.mark.parametrize("path", PATHS)
def test_4_on_every_path_a_failed_job_stays_failed(proxx_home, tmp_path, clip, path, monkeypatch):
    monkeypatch.setenv("PROXX_MIN_FREE_SPACE", str(2**62))  # class B: nothing can run
    outcome = create_and_run(path, INTENT, clip, tmp_path)
    proxx, rows = _rows(outcome)
    assert rows and all(row.state == FAILED and row.failure_class == "B" for row in rows)
    monkeypatch.delenv("PROXX_MIN_FREE_SPACE")
    assert work(proxx, once=True) == 0  # a worker with room now takes none of them again
    for row in rows:
        assert proxx.store.job(row.job_id).state == FAILED and proxx.store.retries_of(row.job_id) == []
    assert len(proxx.store.jobs()) == len(rows)


def test_4_a_retry_is_the_operator_s_explicit_act_and_a_new_job(proxx_home, tmp_path, clip, out, capsys):
    proxx = Proxx.open()
    failed = proxx.create_job(INTENT, [tmp_path / "A404.mov"], out)
    shutil.copyfile(clip, tmp_path / "A404.mov")  # the operator fixed the source
    assert main(["jobs", "retry", failed.job_id]) == 0
    proxx = Proxx.open()
    (retry,) = proxx.store.retries_of(failed.job_id)
    assert retry != failed.job_id and proxx.store.job(failed.job_id).state == FAILED


def test_5_the_jobspec_s_canonical_profile_decides_execution_even_after_the_registry_changed(proxx_home, tmp_path,
                                                                                            clip, out, monkeypatch):  # fmt: skip
    from proxx.resources import bundled_profiles_dir

    layer = tmp_path / "studio"
    shutil.copytree(bundled_profiles_dir(), layer)
    monkeypatch.setenv("PROXX_BUNDLED_PROFILES", "0")
    monkeypatch.setenv("PROXX_PROFILES", str(layer))
    proxx = Proxx.open()
    spec = proxx.create_job(INTENT, [clip], out)
    intent = layer / "user" / "review_h264.yaml"
    intent.write_text(intent.read_text().replace("scale_50", "scale_25"))  # now means a quarter-size proxy
    result = proxx.run_job(spec.job_id)
    assert result is not None and result.state == COMPLETED and result.proxy_profile == spec.proxy_profile
    dimensions = {c.name: c.actual for c in result.clips[0].checks}["dimensions"]
    assert dimensions == "160x90"  # half of 320x180, as the JobSpec says


def test_6_reprocessing_is_a_new_job_the_original_jobspec_unchanged(proxx_home, tmp_path, clip, out):
    proxx = Proxx.open()
    failed = proxx.create_job(INTENT, [tmp_path / "A405.mov"], out)
    before = proxx.store.spec(failed.job_id).to_json()
    shutil.copyfile(clip, tmp_path / "A405.mov")
    new, _ = proxx.retry(failed.job_id)
    assert new.job_id != failed.job_id and new.retry_of == failed.job_id
    assert proxx.store.spec(failed.job_id).to_json() == before


def test_7_no_failure_is_generic_on_any_operator_surface(operator_surfaces):
    from tests.conformance.surfaces import GENERIC

    generic = {where: GENERIC.findall(text) for where, text in operator_surfaces.texts.items()}
    assert {where: lines for where, lines in generic.items() if lines} == {}
    for case, shown in operator_surfaces.messages.items():
        assert len(shown.split()) >= 6, (case, shown)  # says what failed and why, not only that it did


def test_7_no_silent_errors_or_missing_logs(proxx_home, tmp_path, clip, out, monkeypatch):
    monkeypatch.setenv("PROXX_TIMEOUT_MIN", "0.001")
    monkeypatch.setenv("PROXX_TIMEOUT_FACTOR", "0")
    proxx = Proxx.open()
    result = proxx.run_job(proxx.create_job("HD Editorial LT", [clip], out).job_id)
    assert result is not None and result.state == FAILED and result.failure is not None
    assert result.failure.reason == "timeout" and result.failure.context["source"] == str(clip)
    log = Path(result.log_path).read_text()
    assert "timed out" in log and "$ " in log  # what ran, and how it ended


@pytest.mark.parametrize("path", PATHS)
def test_5_on_every_path_the_same_jobspec_gives_the_same_bytes(proxx_home, tmp_path, clip, path):
    reference = tmp_path / "reference"
    reference.mkdir()
    proxx = Proxx.open()
    alone = proxx.run_job(proxx.create_job(INTENT, [clip], reference).job_id)
    assert alone is not None and alone.state == COMPLETED
    proxx, rows = _rows(create_and_run(path, INTENT, clip, tmp_path))
    assert rows
    for row in rows:
        result = proxx.result(row.job_id)
        assert result is not None and result.state == COMPLETED
        assert {_digest(c.output) for c in result.clips} == {_digest(alone.clips[0].output)}


@pytest.mark.parametrize("path", PATHS)
def test_6_on_every_path_the_jobspec_is_the_same_after_the_run(proxx_home, tmp_path, clip, path):
    import sqlite3

    outcome = create_and_run(path, INTENT, clip, tmp_path)
    proxx, rows = _rows(outcome)
    db = sqlite3.connect(proxx.store.path)
    assert rows
    for row in rows:
        stored = proxx.store.spec(row.job_id)  # its digest checked: the JobSpec created, unchanged by running
        assert stored.job_id == row.job_id and row.state == COMPLETED
        with pytest.raises(sqlite3.DatabaseError, match="immutable"):
            db.execute("UPDATE jobspecs SET spec_json = '{}' WHERE job_id = ?", (row.job_id,))


@pytest.mark.parametrize("path", PATHS)
def test_7_on_every_path_a_failure_has_class_reason_context_and_message(proxx_home, tmp_path, clip, path,
                                                                         monkeypatch):  # fmt: skip
    monkeypatch.setenv("PROXX_MIN_FREE_SPACE", str(2**62))
    proxx, rows = _rows(create_and_run(path, INTENT, clip, tmp_path))
    assert rows
    for row in rows:
        result = proxx.result(row.job_id)
        assert result is not None and result.failure is not None
        failure = result.failure
        assert (failure.failure_class, failure.reason) == ("B", "insufficient_space")
        assert failure.context and failure.message.startswith("Insufficient disk space")


def test_7_the_logs_of_watch_and_worker_name_the_failure_s_class_as_run_does(proxx_home, tmp_path, clip, capsys):
    # `proxx run`, `jobs show` and the web say which kind of failure ended a job first; the lines a
    # watch folder and `proxx worker` print for the same job said FAILED and the message only.
    from tests.conformance.surfaces import cut_short

    said = {}
    for path, command in {
        "run": ["run", "--profile", INTENT, "--output"],
        "worker": ["submit", "--profile", INTENT, "--output"],
        "watch": ["watch", "--profile", INTENT, "--once", "--settle", "0", "--output"],
        "watch --run": ["watch", "--profile", INTENT, "--once", "--settle", "0", "--run", "--output"],
    }.items():
        media = tmp_path / path.replace(" ", "") / "media"
        media.mkdir(parents=True)
        (media / "B001_C001.mov").write_bytes(b"not a picture " * 4096)  # class B: nothing can run
        cut = cut_short(clip, media)  # class C: it runs, and the source ends a third of a second in
        for made in ("whole.mov", "indexed.mov"):
            (media / made).unlink()
        out = media.parent / "out"
        out.mkdir()
        capsys.readouterr()
        if path.startswith("watch"):
            main([*command, str(out), str(media)])
        else:
            for source in (media / "B001_C001.mov", cut):
                main([*command, str(out), str(source)])
        if path in ("worker", "watch"):
            main(["worker", "--once"])
        printed = capsys.readouterr()
        said[path] = printed.out + printed.err
    for path, text in said.items():
        assert "(job validation failure, class B)" in text and "(execution failure, class C)" in text, (path, text)
