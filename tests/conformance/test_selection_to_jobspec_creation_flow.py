"""Spec section "Selection -> JobSpec Creation Flow", steps 1-5."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from proxx import Proxx
from proxx.cli import main
from proxx.compile.profiles import Lifecycle
from proxx.errors import PreJobError
from proxx.jobspec.model import JobSpec
from proxx.resources import bundled_profiles_dir
from proxx.store import FAILED, QUEUED
from proxx.watch.watcher import MediaWatcher, watch

INTENT = "Review H.264"


def test_step_1_lists_active_intents_and_marks_deprecated_ones_unusable(proxx_home):
    statuses = {s.name: s for s in Proxx.open().intents()}
    assert statuses["HD Editorial LT"].lifecycle is Lifecycle.ACTIVE and statuses["HD Editorial LT"].selectable
    assert statuses["Legacy_ProRes_422"].lifecycle is Lifecycle.DEPRECATED
    assert not statuses["Legacy_ProRes_422"].selectable


def test_step_2_one_selection_only(proxx_home, clip, out, capsys):
    with pytest.raises(SystemExit) as usage:
        main(["run", "--profile", INTENT, "--profile", "HD Editorial LT", "--output", str(out), str(clip)])
    assert usage.value.code == 2
    assert "--profile was given more than once" in capsys.readouterr().err
    assert Proxx.open().store.jobs() == []


def _layer(tmp_path: Path) -> Path:
    layer = tmp_path / "studio"
    shutil.copytree(bundled_profiles_dir(), layer)
    return layer


def test_step_3_compiles_at_job_creation_against_the_registry_as_it_is_then(proxx_home, tmp_path, clip, monkeypatch):
    # A watch folder started while its intent was usable: once the intent is deprecated, the next
    # file dropped in makes no job, and the watch says why.
    layer = _layer(tmp_path)
    monkeypatch.setenv("PROXX_BUNDLED_PROFILES", "0")
    monkeypatch.setenv("PROXX_PROFILES", str(layer))
    card = tmp_path / "card"
    card.mkdir()
    shutil.copyfile(clip, card / "A001.mov")
    proxx = Proxx.open()
    watcher = MediaWatcher(proxx, card, INTENT, None, settle=0.0)
    assert [e.outcome for e in watcher.poll()] == ["queued"]
    intent_file = layer / "user" / "review_h264.yaml"
    intent_file.write_text(intent_file.read_text() + "lifecycle: deprecated\n")
    shutil.copyfile(clip, card / "A002.mov")
    events = []
    watch(watcher, interval=0.01, once=True, on_event=events.append)
    (refused,) = events
    assert refused.outcome == "refused" and refused.job_id is None
    assert refused.message == f"Intent '{INTENT}' is deprecated and cannot be used for new jobs."
    assert len(proxx.store.jobs()) == 1


def test_step_4_the_jobspec_records_profile_origin_sources_outputs_and_is_immutable(proxx_home, clip, out):
    proxx = Proxx.open()
    spec = proxx.create_job(INTENT, [clip], out)
    stored = proxx.store.spec(spec.job_id)
    assert stored == spec and isinstance(stored, JobSpec)
    assert stored.proxy_profile == stored.canonical_profile.id
    assert stored.proxy_profile_origin.name == INTENT and stored.selected_at
    assert [c.source for c in stored.clips] == [str(clip)]
    assert stored.clips[0].output.startswith(str(out))
    assert proxx.store.job(spec.job_id).state == QUEUED  # it enters the execution queue
    with pytest.raises(sqlite3.DatabaseError, match="immutable"):
        db = sqlite3.connect(proxx.store.path)
        db.execute("UPDATE jobspecs SET spec_json = '{}' WHERE job_id = ?", (spec.job_id,))


@pytest.mark.parametrize(
    ("intent", "message"),
    [
        ("No Such Intent", "Intent 'No Such Intent' does not exist."),
        ("Legacy_ProRes_422", "Intent 'Legacy_ProRes_422' is deprecated and cannot be used for new jobs."),
    ],
)
def test_step_5_a_failed_compile_creates_no_jobspec_and_says_why(proxx_home, clip, out, intent, message):
    proxx = Proxx.open()
    with pytest.raises(PreJobError) as caught:
        proxx.create_job(intent, [clip], out)
    assert caught.value.message == message
    assert proxx.store.jobs() == []
    assert not any(row.state == FAILED for row in proxx.store.jobs())


def test_an_invalid_intent_stays_invalid_until_its_definition_changes(proxx_home, tmp_path, monkeypatch):
    layer = tmp_path / "studio"
    (layer / "user").mkdir(parents=True)
    (layer / "canonical").mkdir()
    canonical = layer / "canonical" / "studio_h264.yaml"
    definition = (
        'canonical_profile_version: "1.0"\nid: studio_h264_eighth\nengine: ffmpeg\ncodec: h264\n'
        "container: mp4\nresolution: scale_25\naudio: aac\n"
    )
    intent = layer / "user" / "studio.yaml"
    intent.write_text('user_profile_version: "1.1"\nname: Studio\nconstraints:\n  resolution: [scale_25]\n'
                      "  engine_preference: [ffmpeg]\n  codecs: [h264]\n")  # fmt: skip
    monkeypatch.setenv("PROXX_BUNDLED_PROFILES", "0")
    monkeypatch.setenv("PROXX_PROFILES", str(layer))

    def lifecycle() -> Lifecycle:
        return {s.name: s for s in Proxx.open().intents()}["Studio"].lifecycle

    assert lifecycle() is Lifecycle.INVALID  # its canonical target is not there yet
    canonical.write_text(definition)
    assert lifecycle() is Lifecycle.INVALID  # it came back: the intent stays INVALID (never ACTIVE again)
    with pytest.raises(PreJobError, match="no longer compiles"):
        Proxx.open().select("Studio")
    intent.write_text(intent.read_text() + "notes: a new definition, by the administrator\n")
    assert lifecycle() is Lifecycle.ACTIVE  # its file changed: judged afresh
