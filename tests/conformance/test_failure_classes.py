"""Spec section "Failure Classes": A (pre-job), B (job validation), C (execution)."""

from __future__ import annotations

import html
import json
import re
import shutil
from pathlib import Path

import pytest

from proxx import Proxx
from proxx.cli import main
from proxx.errors import CANCELLED
from proxx.jobspec.model import JobSpec, create_jobspec, utc_now
from proxx.result import CLIP_COMPLETED, CLIP_NOT_RUN, load_result
from proxx.roots import Roots
from proxx.store import FAILED
from proxx.watch.watcher import JobSpecInbox
from proxx.worker import work
from tests.conformance.paths import PATHS, create_and_run
from tests.conformance.surfaces import EXECUTION_CASES

INTENT = "Review H.264"


def _repository(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, intent_yaml: str) -> None:
    layer = tmp_path / "studio"
    (layer / "user").mkdir(parents=True)
    (layer / "user" / "intent.yaml").write_text(intent_yaml)
    monkeypatch.setenv("PROXX_PROFILES", str(layer))


# --- A) pre-job ----------------------------------------------------------------------------------


def test_a_unsatisfiable_constraints_name_the_constraint(proxx_home, tmp_path, clip, out, monkeypatch):
    intent = 'user_profile_version: "1.0"\nname: HD_Editorial_LT\nconstraints:\n  max_resolution: same\n'
    intent += "  preferred_codecs: [h264]\n"  # every H.264 profile is scaled: none keeps the source size
    _repository(tmp_path, monkeypatch, intent)
    proxx = Proxx.open()
    with pytest.raises(Exception) as caught:
        proxx.create_job("HD_Editorial_LT", [clip], out)
    assert caught.value.message == (  # type: ignore[attr-defined]
        "Intent 'HD_Editorial_LT' no longer compiles: preferred_codecs constraint incompatible with canonical registry."
    )
    assert proxx.store.jobs() == []


def test_a_the_constraint_and_value_in_validate(tmp_path, capsys):
    intent = 'user_profile_version: "1.0"\nname: Same\nconstraints:\n  allow_long_gop: true\n'
    intent += "  max_resolution: same\n  preferred_codecs: [h264]\n"
    (tmp_path / "same.yaml").write_text(intent)
    assert main(["validate", str(tmp_path / "same.yaml")]) == 3
    assert "preferred_codecs constraint ([h264]) incompatible with canonical registry given max_resolution (same)" in (
        capsys.readouterr().out
    )


def test_a_json_prints_a_failure_document(proxx_home, clip, out, capsys):
    assert main(["run", "--json", "--profile", "Legacy_ProRes_422", "--output", str(out), str(clip)]) == 3
    document = json.loads(capsys.readouterr().out)
    assert set(document) == {"failure_class", "reason", "message", "context"}
    assert (document["failure_class"], document["reason"]) == ("A", "profile_deprecated")
    assert document["message"] == "Intent 'Legacy_ProRes_422' is deprecated and cannot be used for new jobs."
    assert document["context"]["profile"] == "Legacy_ProRes_422"


# --- B) job validation ---------------------------------------------------------------------------


def test_b_every_problem_of_every_clip_fails_the_whole_job_at_once_without_execution(proxx_home, tmp_path, clip, out):
    good = shutil.copyfile(clip, tmp_path / "A002_C001.mov")
    proxx = Proxx.open()
    spec = proxx.create_job(INTENT, [good, tmp_path / "gone.mov", tmp_path / "lost.mov"], out)
    row = proxx.store.job(spec.job_id)
    assert (row.state, row.failure_class) == (FAILED, "B")  # immediately, before any worker
    assert row.message == (
        f"2 problems, nothing was run:\n- Source file '{tmp_path / 'gone.mov'}' does not exist.\n"
        f"- Source file '{tmp_path / 'lost.mov'}' does not exist."
    )
    result = load_result(Path(row.result_path or ""))  # the result JSON is written
    assert [c.state for c in result.clips] == [CLIP_NOT_RUN] * 3 and result.engine.version == ""
    assert list(out.iterdir()) == []
    assert [r.job_id for r in proxx.store.jobs(FAILED)] == [spec.job_id]  # seen in the job list


def test_b_a_job_fails_at_once_while_a_worker_of_the_same_store_waits_for_jobs(proxx_home, tmp_path, out):
    # `proxx serve` and `proxx watch --run` create jobs beside their own worker threads: a worker took a
    # job between its creation and its refusal, so the web answered QUEUED and the watch said QUEUED
    # for a job that could never run (the worker refused it a moment later).
    import threading

    proxx = Proxx.open()
    stop = threading.Event()
    worker = threading.Thread(target=work, args=(proxx,), kwargs={"poll_seconds": 0.001, "stop": stop})
    worker.start()
    try:
        states = [proxx.store.job(proxx.create_job(INTENT, [tmp_path / f"gone{n}.mov"], out).job_id).state
                  for n in range(40)]  # fmt: skip
    finally:
        stop.set()
        worker.join()
    assert states == [FAILED] * 40


def test_b_a_job_failing_when_a_worker_takes_it_goes_queued_to_failed_never_running(proxx_home, tmp_path, clip, out):
    source = shutil.copyfile(clip, tmp_path / "A003_C001.mov")
    proxx = Proxx.open()
    spec = proxx.submit(INTENT, [source], out)
    Path(source).unlink()
    work(proxx, once=True)
    assert [(t.from_state, t.to_state) for t in proxx.store.transitions(spec.job_id)] == [
        (None, "QUEUED"),
        ("QUEUED", "FAILED"),
    ]
    assert proxx.store.job(spec.job_id).failure_class == "B"


# --- C) execution --------------------------------------------------------------------------------


def test_c_one_clip_s_execution_failure_lets_the_others_go_on(proxx_home, tmp_path, clip, out, monkeypatch):
    from proxx_ffmpeg import engine

    bad = shutil.copyfile(clip, tmp_path / "A004_C001.mov")
    good = shutil.copyfile(clip, tmp_path / "A005_C001.mov")
    real = engine.build_args

    def failing(ffmpeg, source, destination, profile, threads=None):  # the decoder fails on one clip
        args = real(ffmpeg, source, destination, profile, threads)
        return [*args[:-1], "-frames:v", "0", args[-1]] if "A004" in str(source.path) else args

    monkeypatch.setattr(engine, "build_args", failing)
    monkeypatch.setenv("PROXX_PARALLEL_CLIPS", "1")
    proxx = Proxx.open()
    result = proxx.run_job(proxx.create_job(INTENT, [bad, good], out).job_id)
    assert result is not None and result.state == FAILED and result.failure is not None
    assert result.failure.failure_class == "C"
    assert [c.state for c in result.clips] == ["failed", CLIP_COMPLETED]
    assert Path(result.log_path).read_text()  # stdout/stderr captured


# --- the inbox: a JobSpec that creates a job on arrival ------------------------------------------


@pytest.mark.parametrize(
    ("origin", "expected"),
    [
        ("No Such Intent", "Intent 'No Such Intent' does not exist."),
        ("Legacy_ProRes_422", "Intent 'Legacy_ProRes_422' is deprecated and cannot be used for new jobs."),
        ("HD Editorial LT", "intent 'HD Editorial LT' does not compile to what this JobSpec says it chose"),
    ],
)
def test_a_an_inbox_jobspec_whose_origin_does_not_compile_to_it_is_refused(proxx_home, tmp_path, clip, out, origin,
                                                                            expected):  # fmt: skip
    proxx = Proxx.open()
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    spec = create_jobspec(proxx.select(INTENT), [clip], out, utc_now(), proxx.requirements("ffmpeg"))
    document = json.loads(spec.to_json())
    document["proxy_profile_origin"]["name"] = origin  # a label that is not what made this profile
    (inbox / "spec.json").write_text(json.dumps(document))
    (event,) = JobSpecInbox(proxx, inbox, Roots([tmp_path, clip.parent]), settle=0.0).poll()
    assert event.outcome == "failed" and expected in event.message
    assert proxx.store.jobs() == []


# --- A) each cause, as operators read it (tests/conformance/surfaces.py) -------------------------


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("unknown", "Intent 'No Such Intent' does not exist."),
        ("deprecated", "Intent 'Legacy_ProRes_422' is deprecated and cannot be used for new jobs."),
        ("ambiguous", "Intent 'Studio Ambiguous' no longer compiles: its constraints match more than one"),
        ("engine_missing", "Intent 'Studio Elsewhere' no longer compiles: it needs a renderer that is not installed"),
        ("malformed", "Intent 'Studio Broken' no longer compiles: its definition is malformed"),
    ],
    ids=["unknown", "deprecated", "ambiguous", "engine_missing", "malformed"],
)
def test_a_cause(operator_surfaces, case, expected):
    shown = operator_surfaces.messages[case]
    assert shown.startswith(f"proxx: {expected}"), shown
    assert f"api create: {case}" in operator_surfaces.texts  # the web refused it too (422)


@pytest.mark.parametrize("path", PATHS)
def test_a_creates_no_jobspec_and_runs_nothing(proxx_home, tmp_path, clip, path):
    outcome = create_and_run(path, "No Such Intent", clip, tmp_path)
    assert outcome.job_ids == () and "'No Such Intent' does not exist" in outcome.refusal
    assert not (tmp_path / "media" / "out").exists() or list((tmp_path / "media" / "out").iterdir()) == []


def test_a_the_ui_gets_the_explicit_message_and_the_class(operator_surfaces):
    answer = json.loads(operator_surfaces.texts["api create: deprecated"])
    assert answer["failure_class"] == "A" and answer["reason"] == "profile_deprecated"
    assert answer["detail"] == "Intent 'Legacy_ProRes_422' is deprecated and cannot be used for new jobs."
    assert "is deprecated and cannot be used for new jobs." in operator_surfaces.texts["web form: deprecated"]


# --- B) each cause: the JobSpec exists, FAILED at once, nothing executed --------------------------


def _refused_in_b(proxx: Proxx, job_id: str) -> str:
    row = proxx.store.job(job_id)
    assert (row.state, row.failure_class) == (FAILED, "B")
    assert [(t.from_state, t.to_state) for t in proxx.store.transitions(job_id)] == [
        (None, "QUEUED"),
        ("QUEUED", "FAILED"),
    ]
    assert proxx.store.spec(job_id).job_id == job_id
    return row.message or ""


def test_b_source_does_not_exist(proxx_home, tmp_path, out):
    proxx = Proxx.open()
    spec = proxx.create_job(INTENT, [tmp_path / "gone.mov"], out)
    assert _refused_in_b(proxx, spec.job_id) == f"Source file '{tmp_path / 'gone.mov'}' does not exist."


def test_b_source_unreadable_permissions(tmp_path, clip):
    import os
    import subprocess
    import sys

    folder = Path(os.environ.get("TMPDIR", "/tmp")) / f"proxx-conformance-{os.getpid()}"
    (folder / "out").mkdir(parents=True, exist_ok=True)
    try:
        folder.chmod(0o777)
        (folder / "out").chmod(0o777)
        locked = Path(shutil.copyfile(clip, folder / "locked.mov"))
        locked.chmod(0)
        command = [
            sys.executable,
            "-m",
            "proxx",
            "run",
            "--profile",
            INTENT,
            "--output",
            str(folder / "out"),
            str(locked),
        ]
        if os.geteuid() == 0:  # root reads everything: run as nobody
            command = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", *command]
        env = {**os.environ, "PROXX_HOME": str(folder / "home")}
        done = subprocess.run(command, capture_output=True, text=True, cwd="/", env=env, timeout=120)
        assert done.returncode == 4, done.stderr
        assert f"Source file '{locked}' is not readable" in done.stdout + done.stderr
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def test_b_source_corrupt(proxx_home, tmp_path, out):
    broken = tmp_path / "A001_C009.mov"
    broken.write_bytes(b"\x00\x00\x00\x18ftypqt  " + bytes(200))
    proxx = Proxx.open()
    spec = proxx.create_job(INTENT, [broken], out)
    assert _refused_in_b(proxx, spec.job_id).startswith(f"Source file '{broken}' is not a decodable video")


def test_b_output_path_invalid_or_unwritable(proxx_home, tmp_path, clip):
    proxx = Proxx.open()
    spec = proxx.create_job(INTENT, [clip], tmp_path / "no-such-folder")
    assert _refused_in_b(proxx, spec.job_id) == f"Output folder '{tmp_path / 'no-such-folder'}' does not exist."


def test_b_output_naming_collision(proxx_home, clip, out):
    (out / "A001_C001.mp4").write_bytes(b"someone's file")
    proxx = Proxx.open()
    spec = proxx.create_job(INTENT, [clip], out)
    assert _refused_in_b(proxx, spec.job_id) == f"Output path '{out / 'A001_C001.mp4'}' already exists."
    assert (out / "A001_C001.mp4").read_bytes() == b"someone's file"


def test_b_insufficient_disk_space(proxx_home, clip, out, monkeypatch):
    monkeypatch.setenv("PROXX_MIN_FREE_SPACE", str(2**62))
    proxx = Proxx.open()
    spec = proxx.create_job(INTENT, [clip], out)
    assert _refused_in_b(proxx, spec.job_id).startswith("Insufficient disk space")


def test_b_engine_unavailable(operator_surfaces):
    shown = operator_surfaces.messages["engine_unavailable"]
    assert "FAILED (job validation failure, class B): The renderer this intent needs is not available" in shown


def test_b_a_jobspec_made_with_other_versions_is_refused_on_every_path_that_runs_it(proxx_home, tmp_path, clip, capsys):
    """A JobSpec states the versions of proxx and of its engine's package it was made with (`requires`):
    run by others, the same canonical profile may not give the same proxy. The render farm's workers
    refuse it; so does every other path that runs a JobSpec it did not make itself (the Python API's
    `add_job`, the JobSpec inbox and its worker, an OpenJD task's `run-spec`): class B, nothing run,
    in the same words."""
    proxx = Proxx.open()
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    said = {}

    def made_elsewhere(path: str) -> tuple[str, Path]:
        source = Path(shutil.copyfile(clip, tmp_path / f"{path}_C001.mov"))
        requires = {**proxx.requirements("ffmpeg"), "proxx": "0.0.1"}
        spec = create_jobspec(proxx.select(INTENT), [source], tmp_path / f"out_{path}", utc_now(), requires)
        (tmp_path / f"out_{path}").mkdir()
        return spec.to_json(), Path(spec.clips[0].output)

    document, api_output = made_elsewhere("api")
    api_spec = JobSpec.from_json(document)
    proxx.add_job(api_spec)
    work(proxx, once=True)
    said["add_job"] = api_spec.job_id

    document, inbox_output = made_elsewhere("inbox")
    (inbox / "spec.json").write_text(document)
    JobSpecInbox(proxx, inbox, Roots([tmp_path]), settle=0.0).poll()
    work(proxx, once=True)
    said["inbox"] = JobSpec.from_json(document).job_id

    document, openjd_output = made_elsewhere("openjd")
    (tmp_path / "task.json").write_text(document)
    capsys.readouterr()
    assert main(["run-spec", "--digest", JobSpec.from_json(document).digest, str(tmp_path / "task.json")]) == 4
    assert "requires proxx 0.0.1" in capsys.readouterr().err
    said["run-spec"] = JobSpec.from_json(document).job_id

    messages = set()
    for path, job_id in said.items():
        row = proxx.store.job(job_id)
        assert (row.state, row.failure_class, row.reason) == (FAILED, "B", "version_mismatch"), (path, row)
        assert "RUNNING" not in [t.to_state for t in proxx.store.transitions(job_id)], path
        messages.add(row.message)
    assert len(messages) == 1 and "requires proxx 0.0.1" in messages.pop()
    assert not [o for o in (api_output, inbox_output, openjd_output) if o.exists()]

    # Made with another version of its renderer's package: said of "the renderer", the package's name
    # and versions for an administrator.
    (package,) = set(proxx.requirements("ffmpeg")) - {"proxx"}
    source = Path(shutil.copyfile(clip, tmp_path / "engine_C001.mov"))
    requires = {**proxx.requirements("ffmpeg"), package: "0.0.1"}
    spec = create_jobspec(proxx.select(INTENT), [source], tmp_path / "out_api", utc_now(), requires)
    proxx.add_job(spec)
    row = proxx.store.job(spec.job_id)
    assert (row.state, row.failure_class, row.reason) == (FAILED, "B", "version_mismatch")
    assert "another version of the renderer this intent needs" in (row.message or "")
    assert "ffmpeg" not in (row.message or "").lower()
    failure = proxx.result(spec.job_id).failure  # type: ignore[union-attr]
    assert f"the JobSpec requires {package} 0.0.1" in failure.context["admin_message"]  # type: ignore[union-attr]


def test_b_a_jobspec_that_does_not_say_its_versions_is_refused_on_every_path(proxx_home, tmp_path, clip, capsys):
    """Every JobSpec proxx makes says which version of proxx made it; one that does not would run on any
    system, whatever that renders with: refused as one made with other versions is, on each path."""
    proxx = Proxx.open()
    said = "The JobSpec does not say which version of proxx made it; nothing was executed."
    inbox = tmp_path / "inbox"
    inbox.mkdir()

    def made_elsewhere(path: str, requires: dict[str, str]) -> JobSpec:
        source = Path(shutil.copyfile(clip, tmp_path / f"{path}_C001.mov"))
        (tmp_path / f"out_{path}").mkdir()
        return create_jobspec(proxx.select(INTENT), [source], tmp_path / f"out_{path}", utc_now(), requires)

    (package,) = set(proxx.requirements("ffmpeg")) - {"proxx"}
    api = made_elsewhere("api", {})
    proxx.add_job(JobSpec.from_json(api.to_json()))
    work(proxx, once=True)
    inboxed = made_elsewhere("inbox", {package: proxx.requirements("ffmpeg")[package]})  # the renderer's only
    (inbox / "spec.json").write_text(inboxed.to_json())
    JobSpecInbox(proxx, inbox, Roots([tmp_path]), settle=0.0).poll()
    work(proxx, once=True)
    task = made_elsewhere("openjd", {})
    (tmp_path / "task.json").write_text(task.to_json())
    capsys.readouterr()
    assert main(["run-spec", "--digest", task.digest, str(tmp_path / "task.json")]) == 4
    assert said in capsys.readouterr().err
    for spec in (api, inboxed, task):
        row = proxx.store.job(spec.job_id)
        assert (row.state, row.failure_class, row.reason) == (FAILED, "B", "versions_unstated"), row
        assert said in (row.message or "")
        assert "RUNNING" not in [t.to_state for t in proxx.store.transitions(spec.job_id)]
        assert not Path(spec.clips[0].output).exists()


# --- C) each cause: executed, FAILED after the attempt, result and logs written -----------------


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("engine_error", "The renderer stopped with an error while making the proxy of 'A100_C001.mov'"),
        ("format_differs", "Output file generated but failed verification: the proxy's video is not the format"),
        ("no_picture", "Output file generated but failed verification: the proxy has no picture"),
        ("timeout", "Making the proxy of 'A200_C001.mov' took longer than the 0.001 seconds allowed for it"),
        ("source_damaged", "The source 'A210_C001.mov' could not be read past 00:00:0"),
        ("disk_full", "The output volume ran out of space while the proxy of 'A220_C001.mov' was being made"),
        ("output_unwritable", "The output folder could no longer be written while the proxy of 'A221_C001.mov'"),
    ],
    ids=["engine_error", "format_differs", "no_picture", "timeout", "source_damaged", "disk_full", "output_unwritable"],
)
def test_c_cause(operator_surfaces, case, expected):
    shown = operator_surfaces.messages[case]
    assert expected in shown and "FAILED (execution failure, class C)" in shown, shown


# What each class C case says on every operator surface: which clip, what happened (and how far it
# got where that is known), what to do.
SAID = {
    "engine_error": ("The renderer stopped with an error while making the proxy of 'A100_C001.mov'", "Retry the job"),
    "source_damaged": ("could not be read past 00:00:0", "the file looks damaged", "Copy it again"),
    "disk_full": ("ran out of space while the proxy of 'A220_C001.mov' was being made, 30 % of the way through",
                  "Free space there, then retry the job"),
    "output_unwritable": ("could no longer be written while the proxy of 'A221_C001.mov' was being made, 30 % of "
                          "the way through", "Make the folder writable again"),
    "timeout": ("Making the proxy of 'A200_C001.mov' took longer than", "was stopped", "allow more time"),
    "cancelled": ("Cancelled by the operator while the proxy of 'A222_C001.mov' was being made, 30 % of the way "
                  "through", "its partial output was removed"),
}  # fmt: skip


def _engine_words(admin_message: str) -> str:
    """The engine's own words in a failure's record: what it wrote after "exited with code N: ", or
    its last line's text after its "[component @ address]" marks."""
    exited = re.search(r"exited with code -?\d+: (.*)$", admin_message)
    return exited.group(1) if exited else admin_message.rsplit("] ", 1)[-1]


@pytest.mark.parametrize("case", EXECUTION_CASES)
def test_c_operators_read_which_clip_and_what_happened_never_the_engines_words(operator_surfaces, case):
    shown = {where: html.unescape(text) for where, text in operator_surfaces.of_job(case).items()}
    job_id = operator_surfaces.jobs[case]
    # The CLI's run, jobs show, the job's page and its operator API all say it in the operator's terms.
    for where in (f"cli run: {case}", f"cli jobs show: {job_id}", f"web /jobs/{job_id}", f"web /api/jobs/{job_id}"):
        for words in SAID[case]:
            assert words in shown[where].replace("\\'", "'"), (where, words, shown[where])
    result = json.loads(operator_surfaces.integrator[f"result: {case}"])
    (failed,) = [clip["failure"] for clip in result["clips"] if clip["failure"]]
    if case == "cancelled":  # the operator stopped the engine: nothing it said is the failure
        assert "admin_message" not in failed["context"]
    else:
        admin = failed["context"]["admin_message"]
        engine = _engine_words(admin)
        assert len(engine) > 12, admin
        leaked = {where for where, text in operator_surfaces.texts.items() if engine in html.unescape(text)}
        assert leaked == set(), (engine, leaked)
        # ... while administrators and integrators keep them: --verbose, the result JSON.
        assert admin in operator_surfaces.integrator[f"jobs show --verbose: {case}"]
    assert failed["reason"] == {"engine_error": "engine_failed", "cancelled": CANCELLED}.get(case, case)


def test_c_partial_output_kept_result_and_logs_written(proxx_home, clip, out, monkeypatch):
    from proxx_ffmpeg import engine

    real = engine.build_args
    monkeypatch.setattr(engine, "build_args", lambda *a, **k: [*real(*a, **k)[:-1], "-vn", real(*a, **k)[-1]])
    proxx = Proxx.open()
    result = proxx.run_job(proxx.create_job(INTENT, [clip], out).job_id)
    assert result is not None and result.state == FAILED and result.failure is not None
    assert result.failure.failure_class == "C"
    (partial,) = [p for p in out.iterdir() if ".proxx-partial-" in p.name]  # kept for debugging
    assert result.clips[0].partial_output == str(partial)
    assert (
        Path(result.log_path).read_text().count("$ ") == 1
        and Path(proxx.store.job(result.job_id).result_path or "").is_file()
    )


def test_a_re_run_with_nothing_missing_is_no_failure_of_any_class_on_any_path(proxx_home, tmp_path, clip, capsys):
    # Every proxy already there: no job is created, and nothing failed. `proxx run` says so and exits 0,
    # a watch folder skips the file; the web answered 422 "Pre-job failure", class A.
    from fastapi.testclient import TestClient

    from proxx.errors import PreJobError
    from proxx.web.app import create_app
    from proxx.web.roots import MediaRoots, parse_roots
    from proxx.web.service import WebService

    media = tmp_path / "media"
    (media / "out").mkdir(parents=True)
    source = shutil.copyfile(clip, media / "A001_C001.mov")
    again = ["run", "--profile", "Review H.264", "--output", str(media / "out"), str(source)]
    assert main(again) == 0 and main(again) == 0
    assert "no job was created" in capsys.readouterr().out
    proxx = Proxx.open()
    with pytest.raises(PreJobError) as nothing:
        proxx.create_job("Review H.264", [source], media / "out")
    assert (nothing.value.reason, nothing.value.failure_class) == ("nothing_missing", None)
    web = WebService(proxx, MediaRoots(parse_roots([f"media={media}"]), proxx.beside_outputs))
    with TestClient(create_app(web)) as http:
        body = {"intent": "Review H.264", "sources": ["media/A001_C001.mov"], "output_folder": "media/out"}
        answer = http.post("/api/jobs", json=body).json()
    assert (answer["status"], answer["reason"], answer["failure_class"]) == (409, "nothing_missing", None)
    assert "Pre-job failure" not in answer["title"] and "no job was created" in answer["detail"]
    assert len(proxx.store.jobs()) == 1
