"""Spec section "Selection -> JobSpec Creation Flow", steps 1-5."""

from __future__ import annotations

import contextlib
import io
import re
import shutil
import sqlite3
from pathlib import Path

import pytest

from proxx import Proxx
from proxx.cli import main
from proxx.compile.profiles import Lifecycle
from proxx.errors import PreJobError
from proxx.jobspec.model import JobSpec
from proxx.openjd import export_openjd
from proxx.resources import bundled_profiles_dir
from proxx.roots import Roots
from proxx.store import FAILED, QUEUED
from proxx.watch.watcher import JobSpecInbox, MediaWatcher, watch

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


# An intent "Studio" of the installation's own repository, and its canonical target's definition.
_STUDIO_TARGET = (
    'canonical_profile_version: "1.0"\nid: studio_h264_eighth\nengine: ffmpeg\ncodec: h264\n'
    "container: mp4\nresolution: scale_25\naudio: aac\n"
)


def _studio(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """The repository's intent file and where its canonical target goes (not written yet)."""
    layer = tmp_path / "studio"
    (layer / "user").mkdir(parents=True)
    (layer / "canonical").mkdir()
    intent = layer / "user" / "studio.yaml"
    intent.write_text('user_profile_version: "1.1"\nname: Studio\nconstraints:\n  resolution: [scale_25]\n'
                      "  engine_preference: [ffmpeg]\n  codecs: [h264]\n")  # fmt: skip
    monkeypatch.setenv("PROXX_BUNDLED_PROFILES", "0")
    monkeypatch.setenv("PROXX_PROFILES", str(layer))
    return intent, layer / "canonical" / "studio_h264.yaml"


def test_an_invalid_intent_stays_invalid_until_its_version_changes(proxx_home, tmp_path, monkeypatch):
    intent, canonical = _studio(tmp_path, monkeypatch)

    def lifecycle() -> Lifecycle:
        return {s.name: s for s in Proxx.open().intents()}["Studio"].lifecycle

    assert lifecycle() is Lifecycle.INVALID  # its canonical target is not there yet
    canonical.write_text(_STUDIO_TARGET)
    assert lifecycle() is Lifecycle.INVALID  # it came back: the intent stays INVALID (never ACTIVE again)
    with pytest.raises(PreJobError, match="no longer compiles"):
        Proxx.open().select("Studio")
    intent.write_text(intent.read_text() + "notes: a cosmetic edit, by the administrator\n")
    assert lifecycle() is Lifecycle.INVALID  # its file changed, its version did not: still the same intent
    intent.write_text(intent.read_text().replace('"1.1"', '"1.2"'))
    assert lifecycle() is Lifecycle.ACTIVE  # a new version: judged afresh


def test_an_intent_found_invalid_stays_so_for_the_inbox_and_openjd_tasks(proxx_home, tmp_path, clip, monkeypatch):
    # JobSpecs made while the intent compiled, arriving after it was found INVALID and its target
    # came back: refused as choosing the intent is, with no job created.
    _, canonical = _studio(tmp_path, monkeypatch)
    canonical.write_text(_STUDIO_TARGET)
    out, inbox = tmp_path / "out", tmp_path / "inbox"
    out.mkdir()
    inbox.mkdir()
    (spec,) = export_openjd(Proxx.open(), "Studio", [clip], tmp_path / "openjd").specs
    (inbox / "spec.json").write_text(spec.to_json())
    canonical.unlink()
    assert {s.name: s for s in Proxx.open().intents()}["Studio"].lifecycle is Lifecycle.INVALID
    canonical.write_text(_STUDIO_TARGET)

    (event,) = JobSpecInbox(Proxx.open(), inbox, Roots([tmp_path, clip.parent]), settle=0.0).poll()
    assert event.outcome == "failed" and "Intent 'Studio' no longer compiles" in event.message
    code, said = _said(["run-spec", str(tmp_path / "openjd" / "jobspecs" / f"{spec.job_id}.json"),
                        "--digest", spec.digest])  # fmt: skip
    assert code == 3 and "Intent 'Studio' no longer compiles" in said
    assert Proxx.open().store.jobs() == []


def _said(argv: list[str]) -> tuple[int, str]:
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(err):
        code = main(argv)
    return code, err.getvalue()


def test_step_1_deprecated_intents_are_marked_unusable_on_the_cli_and_the_web(proxx_home, capsys):
    assert main(["profiles"]) == 0
    listed = capsys.readouterr().out
    selectable, _, apart = listed.partition("Not available for new jobs:")
    assert "Legacy_ProRes_422" not in selectable and "Legacy_ProRes_422  deprecated" in apart
    from proxx.web.roots import MediaRoots
    from proxx.web.service import WebService

    proxx = Proxx.open()
    web = WebService(proxx, MediaRoots((), proxx.beside_outputs))
    (legacy,) = [i for i in web.intents() if i.name == "Legacy_ProRes_422"]
    assert (legacy.lifecycle, legacy.selectable) == ("deprecated", False)
    web.proxx.store.close()


def test_step_1_each_intent_is_shown_with_name_description_and_lifecycle(proxx_home, capsys):
    import json

    assert main(["profiles", "--all", "--json"]) == 0
    shown = {i["name"]: i for i in json.loads(capsys.readouterr().out)}
    assert shown["Review H.264"]["description"] and shown["Review H.264"]["lifecycle"] == "active"
    assert shown["Legacy_ProRes_422"]["lifecycle"] == "deprecated"


def test_step_2_no_configuration_panel(proxx_home, tmp_path):
    from fastapi.testclient import TestClient

    from proxx.web.app import create_app
    from proxx.web.roots import MediaRoots, parse_roots
    from proxx.web.service import WebService

    proxx = Proxx.open()
    web = WebService(proxx, MediaRoots(parse_roots([f"media={tmp_path}"]), proxx.beside_outputs))
    try:
        with TestClient(create_app(web)) as http:
            page = http.get("/jobs/new").text
    finally:
        web.proxx.store.close()
    fields = set(re.findall(r'<(?:input|select|textarea)[^>]*name="([^"]+)"', page))
    assert fields == {"csrf", "intent", "sources", "output_folder", "new_folder"}  # what, which files, where


def test_step_2_no_override_fields(proxx_home):
    from proxx.web.models import CreateJob

    assert set(CreateJob.model_fields) == {"intent", "sources", "output_folder", "new_folder"}
    assert CreateJob.model_config.get("extra") == "forbid"


def test_step_3_uses_the_canonical_registry_as_it_is_then(proxx_home, tmp_path, clip, out, monkeypatch):
    # A canonical profile added while a long-running shell is open makes its intent ambiguous at once.
    layer = tmp_path / "studio"
    (layer / "canonical").mkdir(parents=True)
    monkeypatch.setenv("PROXX_PROFILES", str(layer))
    proxx = Proxx.open()
    proxx.create_job(INTENT, [clip], out)
    (layer / "canonical" / "twin.yaml").write_text(
        'canonical_profile_version: "1.0"\nid: studio_h264_half_twin\nengine: ffmpeg\ncodec: h264\n'
        "container: mov\nresolution: scale_50\naudio: aac\n"
    )
    with pytest.raises(PreJobError, match="more than one canonical profile"):
        proxx.create_job(INTENT, [clip], out)
    assert len(proxx.store.jobs()) == 1


def test_step_3_deterministic_the_same_intent_always_yields_the_same_canonical_profile(proxx_home):
    chosen = {Proxx.open().select(name).canonical for name in [INTENT] * 3}
    assert len(chosen) == 1
    assert {Proxx.open().select("HD Editorial LT").canonical.id for _ in range(3)} == {"proxy_prores_lt_hd"}


def test_step_4_the_jobspec_holds_the_resolved_canonical_profile(proxx_home, clip, out):
    spec = Proxx.open().create_job(INTENT, [clip], out)
    assert spec.proxy_profile == "proxy_h264_low" == spec.canonical_profile.id


def test_step_4_the_jobspec_holds_the_origin_intent_and_the_time_it_was_selected(proxx_home, clip, out):
    spec = Proxx.open().create_job(INTENT, [clip], out)
    assert (spec.proxy_profile_origin.type, spec.proxy_profile_origin.name) == ("user_profile", INTENT)
    assert spec.proxy_profile_origin.version == "1.1" and spec.selected_at.endswith("Z")


def test_step_4_the_jobspec_holds_the_source_paths(proxx_home, clip, out):
    spec = Proxx.open().create_job(INTENT, [clip], out)
    assert [c.source for c in spec.clips] == [str(clip)]


def test_step_4_the_jobspec_holds_the_output_paths(proxx_home, clip, out):
    spec = Proxx.open().create_job(INTENT, [clip], out)
    assert [c.output for c in spec.clips] == [str(out / "A001_C001.mp4")]


def test_step_4_the_job_enters_the_execution_queue(proxx_home, clip, out):
    from proxx.worker import work

    proxx = Proxx.open()
    spec = proxx.create_job(INTENT, [clip], out)
    assert proxx.store.job(spec.job_id).state == QUEUED
    assert work(proxx, once=True) == 1 and proxx.store.job(spec.job_id).state == "COMPLETED"


def test_step_5_the_failure_is_surfaced_at_once(proxx_home, clip, out, capsys):
    import time

    started = time.monotonic()
    assert main(["submit", "--profile", "No Such Intent", "--output", str(out), str(clip)]) == 3
    assert time.monotonic() - started < 5 and "does not exist" in capsys.readouterr().err
    assert Proxx.open().store.jobs() == []


def test_step_5_the_message_is_explicit_and_actionable(operator_surfaces):
    from tests.conformance.surfaces import PRE_JOB

    for case, intent in PRE_JOB.items():
        shown = operator_surfaces.messages[case]
        assert f"Intent '{intent}'" in shown, shown  # which choice failed ...
        assert any(why in shown for why in ("does not exist", "deprecated", "no longer compiles")), shown  # ... why


def test_step_5_no_retry_no_fallback_no_silent_substitution(proxx_home, tmp_path, clip, out, monkeypatch):
    layer = tmp_path / "studio"
    (layer / "user").mkdir(parents=True)
    (layer / "user" / "amb.yaml").write_text('user_profile_version: "1.0"\nname: Any ProRes\nconstraints:\n'
                                             "  preferred_codecs: [prores]\n")  # fmt: skip
    monkeypatch.setenv("PROXX_PROFILES", str(layer))
    proxx = Proxx.open()
    for _ in range(2):
        with pytest.raises(PreJobError, match="more than one canonical profile"):
            proxx.create_job("Any ProRes", [clip], out)  # never the first of the candidates
    assert proxx.store.jobs() == []


def test_step_2_one_selection_only_whatever_the_form_s_encoding(proxx_home, tmp_path, clip):
    # The page's form posted as multipart/form-data with two intents: refused, never the last one taken.
    from fastapi.testclient import TestClient

    from proxx.web.app import create_app
    from proxx.web.roots import MediaRoots, parse_roots
    from proxx.web.service import WebService

    (tmp_path / "out").mkdir()
    shutil.copyfile(clip, tmp_path / "A001_C001.mov")
    proxx = Proxx.open()
    web = WebService(proxx, MediaRoots(parse_roots([f"media={tmp_path}"]), proxx.beside_outputs))
    try:
        with TestClient(create_app(web)) as http:
            token = re.search(r'name="csrf" value="([^"]+)"', http.get("/jobs/new").text)
            assert token is not None
            fields = [("csrf", token.group(1)), ("intent", "Legacy_ProRes_422"), ("intent", INTENT),
                      ("sources", "media/A001_C001.mov"), ("output_folder", "media/out")]  # fmt: skip
            body = "".join(f'--b0\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n' for k, v in fields)
            page = http.post(
                "/jobs",
                content=f"{body}--b0--\r\n".encode(),
                headers={"Content-Type": "multipart/form-data; boundary=b0"},
                follow_redirects=False,
            )
        # the page's form is urlencoded: any other body is refused as its type, never one intent taken
        assert page.status_code == 415 and page.json()["reason"] == "unsupported_media_type"
        assert web.proxx.store.jobs() == []
    finally:
        web.proxx.store.close()


def test_step_3_uses_the_registry_as_it_is_then_even_a_file_rewritten_with_its_old_time(
    proxx_home, tmp_path, clip, monkeypatch
):
    # An intent's file rewritten in place, same size, its modification time put back (`cp -p`, `touch -r`,
    # a restore): the definition read before was compiled again, and recorded with the new file's digest.
    import hashlib
    import os

    layer = _layer(tmp_path)
    monkeypatch.setenv("PROXX_BUNDLED_PROFILES", "0")
    monkeypatch.setenv("PROXX_PROFILES", str(layer))
    running = Proxx.open()  # a long-running shell (a watch folder, the web), and a new command below
    assert running.create_job(INTENT, [clip], tmp_path).proxy_profile == "proxy_h264_low"
    intent_file = layer / "user" / "review_h264.yaml"
    before = intent_file.stat()
    text = intent_file.read_text()
    with intent_file.open("r+") as rewritten:
        rewritten.write(text.replace("scale_50", "scale_25"))
    os.utime(intent_file, ns=(before.st_atime_ns, before.st_mtime_ns))
    digest = "sha256:" + hashlib.sha256(intent_file.read_bytes()).hexdigest()
    for proxx in (running, Proxx.open()):
        spec = proxx.create_job(INTENT, [clip], tmp_path)
        assert (spec.proxy_profile, spec.proxy_profile_origin.digest) == ("proxy_h264_quarter", digest)
