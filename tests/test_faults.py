"""Faults that must end a clip or a job, never the process or a worker thread: long names, paths past
PATH_MAX, plugins that raise or answer the wrong type, exporters whose details cannot be recorded."""

from __future__ import annotations

import datetime
import errno
import json
import os
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from proxx import ConfigurationError, Proxx
from proxx.cli import main
from proxx.execute import clips as clips_module
from proxx.execute import publish as publish_module
from proxx.execute import runner as runner_module
from proxx.execute.engine import RenderTask
from proxx.execute.publish import partial_path
from proxx.export.exporter import Exporter
from proxx.media.samples import make_clip
from proxx.plugin import Availability, Engine, hookimpl
from proxx.pluginmanager import plugin_manager
from proxx.store import COMPLETED, FAILED
from tests.test_execution import engine_profiles

INTENT = "Review H.264"


def tiny(path: Path) -> Path:
    return make_clip(path, size="160x90", frames=3)


@pytest.fixture
def out(tmp_path: Path) -> Path:
    folder = tmp_path / "out"
    folder.mkdir()
    return folder


@pytest.fixture
def registered() -> Iterator[list[str]]:
    """Plugins registered on the process-wide manager (what `proxx` commands open) for one test."""
    names: list[str] = []
    yield names
    for name in names:
        plugin_manager().unregister(name=name)


def register(names: list[str], plugin: object, name: str) -> None:
    plugin_manager().register(plugin, name=name)
    names.append(name)


# --- 1. long file names ------------------------------------------------------------------------


def test_a_source_name_near_the_limit_renders_under_a_shortened_partial_name(tmp_path, out, proxx_home):
    # The final name (254 bytes) fits; its partial name (23 bytes more) would not: the partial's
    # stem is shortened, and the job completes with nothing left behind.
    source = tiny(tmp_path / "card" / ("L" * 250 + ".mov"))
    proxx = Proxx.open()
    spec = proxx.create_job(INTENT, [source], out)
    result = proxx.run_job(spec.job_id)
    assert result is not None and result.state == COMPLETED, result and result.failure
    assert sorted(p.name for p in out.iterdir() if p.name not in (".proxx", "ascmhl")) == ["L" * 250 + ".mp4"]


def test_shortened_partial_names_fit_and_stay_apart():
    from proxx.jobspec.model import ClipSpec

    job_id = "job-0123456789abcdef-3f9a1c2b"
    names = [f"/out/{'é' * 120}{end}.mov" for end in ("A", "B")]  # 2 bytes a character
    partials = [partial_path(ClipSpec(0, "/in/x.mov", name, ""), job_id) for name in names]
    assert all(len(os.fsencode(p.name)) <= 255 for p in partials)
    assert partials[0] != partials[1]
    assert all(p.name.endswith(".proxx-partial-3f9a1c2b.mov") for p in partials)
    short = partial_path(ClipSpec(0, "/in/x.mov", "/out/A001.mov", ""), job_id)
    assert short.name == "A001.proxx-partial-3f9a1c2b.mov"  # names that fit keep their whole stem


def test_a_final_name_too_long_is_refused_at_validation_naming_the_file(tmp_path, out, proxx_home):
    source = tiny(tmp_path / "card" / ("L" * 252 + ".ts"))  # 255 bytes; its proxy .mp4 would be 256
    proxx = Proxx.open()
    spec = proxx.create_job(INTENT, [source], out)
    row = proxx.store.job(spec.job_id)
    assert (row.state, row.failure_class, row.reason) == (FAILED, "B", "output_name_too_long")
    assert f"'{source.name}'" in (row.message or "") and "at most 255" in (row.message or "")


def test_an_oserror_while_a_clip_runs_fails_that_clip_not_the_process(tmp_path, out, proxx_home, monkeypatch):
    sources = [tiny(tmp_path / "card" / f"A001_C00{n}.mov") for n in (1, 2)]

    def publish(spec, clip, staged, roots):
        if clip.index == 0:
            raise OSError(errno.ENAMETOOLONG, "File name too long")
        return real_publish(spec, clip, staged, roots)

    real_publish = publish_module.publish
    monkeypatch.setattr(clips_module, "publish", publish)
    proxx = Proxx.open()
    spec = proxx.create_job(INTENT, sources, out)
    result = proxx.run_job(spec.job_id)
    assert result is not None and result.state == FAILED
    assert [c.state for c in result.clips] == ["failed", "completed"]
    failure = result.clips[0].failure
    assert failure is not None and (failure.failure_class, failure.reason) == ("C", "internal_error")
    assert "'A001_C001.mov'" in failure.message and "OSError" in failure.message
    assert "Traceback" in Path(result.log_path).read_text()
    assert proxx.store.job(spec.job_id).state == FAILED


# --- 2. paths past PATH_MAX --------------------------------------------------------------------


def test_an_output_path_longer_than_path_max_is_a_class_b_problem(tmp_path, proxx_home):
    source = tiny(tmp_path / "card" / "A001_C001.mov")
    output = tmp_path.joinpath(*["d" * 200] * 25)  # about 5,000 characters: past PATH_MAX (4096)
    proxx = Proxx.open()
    spec = proxx.create_job(INTENT, [source], output)
    row = proxx.store.job(spec.job_id)
    assert (row.state, row.failure_class, row.reason) == (FAILED, "B", "output_folder_unusable")
    assert "longer than this system allows" in (row.message or "")
    assert len(row.message or "") < 400  # the path shown by its two ends, not its 5,000 characters


# --- 3. plugins that raise ---------------------------------------------------------------------


class RaisingValidator:
    @hookimpl
    def proxx_validate_job(self, spec, sources):
        raise RuntimeError("studio database unreachable")


def test_a_validate_job_hook_that_raises_fails_the_job_in_class_b_naming_the_plugin(
    tmp_path, out, proxx_home, registered
):
    register(registered, RaisingValidator(), "studio-rules")
    source = tiny(tmp_path / "card" / "A001_C001.mov")
    proxx = Proxx.open()
    spec = proxx.create_job(INTENT, [source], out)
    row = proxx.store.job(spec.job_id)
    assert (row.state, row.failure_class, row.reason) == (FAILED, "B", "plugin_failed")
    assert "'studio-rules'" in (row.message or "") and "RuntimeError: studio database unreachable" in (
        row.message or ""
    )


def test_a_worker_ends_a_job_that_raises_failed_and_takes_the_next(tmp_path, out, proxx_home, monkeypatch, capsys):
    sources = [tiny(tmp_path / "card" / f"A001_C00{n}.mov") for n in (1, 2)]
    proxx = Proxx.open()
    first = proxx.create_job(INTENT, sources[:1], out)
    second = proxx.create_job(INTENT, sources[1:], out)
    real_validate = runner_module.validate

    def validate(spec, *args, **kwargs):
        if spec.job_id == first.job_id:
            raise KeyError("a bug")
        return real_validate(spec, *args, **kwargs)

    monkeypatch.setattr(runner_module, "validate", validate)
    code = main(["worker", "--once"])
    said = capsys.readouterr()
    assert "Traceback" not in said.out + said.err and "Exception in thread" not in said.err
    assert "worker ran 2 job(s), 1 FAILED" in said.out
    assert code == 5  # a job failed (class C): a script draining the queue learns it
    row = proxx.store.job(first.job_id)
    assert (row.state, row.failure_class, row.reason) == (FAILED, "C", "internal_error")
    assert "KeyError" in (row.message or "")
    assert "Traceback" in Path(row.log_path or "").read_text()
    assert proxx.store.job(second.job_id).state == COMPLETED


def test_a_job_whose_validation_raises_when_created_is_never_left_queued(
    tmp_path, out, proxx_home, monkeypatch, capsys
):
    from proxx import app as app_module

    def validate(*args, **kwargs):
        raise KeyError("a bug")

    monkeypatch.setattr(app_module, "validate", validate)
    monkeypatch.setattr(runner_module, "validate", validate)
    source = tiny(tmp_path / "card" / "A001_C001.mov")
    code = main(["run", "--profile", INTENT, str(source), "--output", str(out)])
    said = capsys.readouterr()
    assert code == 5 and "internal error (" not in said.err
    (row,) = Proxx.open().store.iter_jobs()
    assert (row.state, row.failure_class, row.reason) == (FAILED, "C", "internal_error")


def test_a_worker_loop_that_fails_itself_says_so_in_one_line_and_exits_non_zero(proxx_home, monkeypatch, capsys):
    from proxx import worker as worker_module

    def recover_lost(*args):
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(worker_module, "recover_lost", recover_lost)
    assert main(["worker", "--once"]) == 1
    said = capsys.readouterr()
    assert "Traceback" not in said.out + said.err and "Exception in thread" not in said.err
    assert "proxx: worker: internal error (OSError: [Errno 5] Input/output error); details in " in said.err
    (log,) = (proxx_home / "logs").glob("worker-error-*.log")
    assert "Traceback" in log.read_text()


class RaisingClipCheck:
    @hookimpl
    def proxx_engines(self):
        class Picky(Engine):
            name = "picky"

            def availability(self) -> Availability:
                return Availability(True, version="1")

            def validate_clip(self, spec, clip, source):  # type: ignore[no-untyped-def]
                raise ValueError("no frame size")

            def render(self, task: RenderTask):  # type: ignore[no-untyped-def]
                raise AssertionError("never rendered: refused")

        yield Picky()


def test_an_engine_whose_validate_clip_raises_refuses_the_job_naming_the_plugin(tmp_path, out, proxx_home, registered):
    register(registered, RaisingClipCheck(), "picky-plugin")
    (tmp_path / "profiles").mkdir()
    canonical, intent = engine_profiles(tmp_path / "profiles", "picky", "mov", "pcm")
    proxx = Proxx.open(profiles=[canonical, intent])
    spec = proxx.create_job("Picky", [tiny(tmp_path / "card" / "A001_C001.mov")], out)
    row = proxx.store.job(spec.job_id)
    assert (row.state, row.failure_class, row.reason) == (FAILED, "B", "plugin_failed")
    assert "plugin 'picky-plugin' failed in its engine's validate_clip (ValueError: no frame size)" in (
        row.message or ""
    )


def test_an_operator_reads_a_raising_validate_clip_without_the_plugins_name_or_method(
    tmp_path, out, proxx_home, registered, capsys
):
    """A plugin is often named as its engine (the tutorial's `inhouse`): the engine's name reworded as
    "the renderer" made operators read "plugin 'the renderer' failed in its engine's validate_clip"."""
    register(registered, RaisingClipCheck(), "picky")
    (tmp_path / "profiles").mkdir()
    canonical, intent = engine_profiles(tmp_path / "profiles", "picky", "mov", "pcm")
    source = tiny(tmp_path / "card" / "A001_C001.mov")
    spec = Proxx.open(profiles=[canonical, intent]).create_job("Picky", [source], out)
    capsys.readouterr()
    assert main(["jobs", "show", spec.job_id]) == 0
    shown = capsys.readouterr().out
    assert (
        f"Source file '{source}' could not be checked: the plugin of the renderer this intent needs failed while "
        "checking it (an administrator finds why in the job's result document). Nothing was run; ask an "
        "administrator to fix or remove the plugin."
    ) in shown.replace("\n      ", " ")
    assert "validate_clip" not in shown and "'the renderer'" not in shown


class RaisingAvailability(Engine):
    name = "flaky"

    def availability(self) -> Availability:
        raise OSError("license server unreachable")

    def render(self, task: RenderTask):  # type: ignore[no-untyped-def]
        raise AssertionError("never rendered: not available")


class FlakyPlugin:
    @hookimpl
    def proxx_engines(self):
        yield RaisingAvailability()


def test_an_availability_check_that_raises_is_that_engine_unavailable(
    tmp_path, out, proxx_home, registered, capsys, monkeypatch
):
    register(registered, FlakyPlugin(), "flaky-plugin")
    assert main(["registry"]) == 0
    said = capsys.readouterr().out
    assert "flaky      NOT available: its availability check failed in plugin 'flaky-plugin'" in said
    assert "ffmpeg     available" in said  # the other engines are still listed
    (tmp_path / "profiles").mkdir()
    canonical, _ = engine_profiles(tmp_path / "profiles", "flaky", "mov", "pcm")
    source = tiny(tmp_path / "card" / "A001_C001.mov")
    monkeypatch.setenv("PROXX_PROFILES", str(canonical.parent))
    code = main(["run", "--profile", "Flaky", "--output", str(out), str(source)])
    capsys.readouterr()
    assert code == 4
    (row,) = Proxx.open().store.iter_jobs()
    assert (row.state, row.failure_class, row.reason) == (FAILED, "B", "engine_unavailable")
    assert "flaky-plugin" in (row.message or "")


# --- 4. exporters ------------------------------------------------------------------------------


class UnrecordableExporter:
    @hookimpl
    def proxx_exporters(self):
        yield Exporter("odd-exporter", lambda spec, result: {"when": object()})


def test_an_exporter_whose_details_cannot_be_recorded_is_its_failed_export(tmp_path, out, proxx_home, registered):
    register(registered, UnrecordableExporter(), "odd")
    source = tiny(tmp_path / "card" / "A001_C001.mov")
    proxx = Proxx.open()
    spec = proxx.create_job(INTENT, [source], out)
    result = proxx.run_job(spec.job_id)
    assert result is not None and result.state == COMPLETED
    row = proxx.store.job(spec.job_id)
    assert row.state == COMPLETED
    exports = json.loads(Path(row.result_path or "").read_text())["exports"]
    (export,) = [e for e in exports if e["exporter"] == "odd-exporter"]
    assert export["ok"] is False and "cannot be recorded" in export["error"]


# --- 5. hooks answering the wrong type ---------------------------------------------------------


class EngineNotIterable:
    @hookimpl
    def proxx_engines(self):
        return RaisingAvailability()


class BareFunctionExporter:
    @hookimpl
    def proxx_exporters(self):
        yield lambda spec, result: None


class ProfilesAsText:
    @hookimpl
    def proxx_canonical_profiles(self):
        return "/opt/studio/profiles"


@pytest.mark.parametrize(
    ("plugin", "hook", "got"),
    [
        (EngineNotIterable(), "proxx_engines", "a RaisingAvailability"),
        (BareFunctionExporter(), "proxx_exporters", "an iterable holding a function"),
        (ProfilesAsText(), "proxx_canonical_profiles", "a str ('/opt/studio/profiles')"),
    ],
)
def test_a_hook_answering_the_wrong_type_is_a_configuration_error_naming_the_plugin(
    plugin, hook, got, proxx_home, registered, capsys
):
    register(registered, plugin, "bad")
    with pytest.raises(ConfigurationError) as raised:
        Proxx.open().exporters  # noqa: B018  (collected when first asked)
    assert raised.value.message.startswith(f"Plugin 'bad' is broken: its {hook} hook returned {got}, where it must")
    assert main(["run", "--profile", INTENT, "/nowhere.mov", "--output", "/nowhere"]) == 6
    assert f"Plugin 'bad' is broken: its {hook} hook" in capsys.readouterr().err


class TextProblems:
    @hookimpl
    def proxx_validate_job(self, spec, sources):
        yield "the reel name is wrong"


def test_a_validate_job_hook_yielding_text_fails_the_job_naming_the_plugin(tmp_path, out, proxx_home, registered):
    register(registered, TextProblems(), "studio-rules")
    proxx = Proxx.open()
    spec = proxx.create_job(INTENT, [tiny(tmp_path / "card" / "A001_C001.mov")], out)
    row = proxx.store.job(spec.job_id)
    assert (row.state, row.failure_class, row.reason) == (FAILED, "B", "plugin_failed")
    assert "plugin 'studio-rules' answered its proxx_validate_job hook with an iterable holding a str" in (
        row.message or ""
    )


class TupleChecks:
    @hookimpl
    def proxx_verify_output(self, spec, clip, source, output):
        yield ("reel", True)


def test_a_verify_output_hook_yielding_tuples_fails_the_clip_naming_the_plugin(tmp_path, out, proxx_home, registered):
    register(registered, TupleChecks(), "studio-checks")
    proxx = Proxx.open()
    spec = proxx.create_job(INTENT, [tiny(tmp_path / "card" / "A001_C001.mov")], out)
    result = proxx.run_job(spec.job_id)
    assert result is not None and result.state == FAILED
    failure = result.failure
    assert failure is not None and (failure.failure_class, failure.reason) == ("C", "plugin_failed")
    assert "plugin 'studio-checks' answered its proxx_verify_output hook with an iterable holding a tuple" in (
        failure.message
    )
    assert proxx.store.job(spec.job_id).state == FAILED


class StampChecks:
    @hookimpl
    def proxx_verify_output(self, spec, clip, source, output):
        from proxx.plugin import Check

        yield Check("studio_stamp", datetime.datetime(2026, 12, 7), "stamped", True)  # not text


def test_a_check_whose_values_are_not_text_fails_the_clip_naming_the_plugin_before_publishing(
    tmp_path, out, proxx_home, registered
):
    """A check holding a datetime was taken: the proxy was published, then recording the clip failed,
    and the job said "Nothing was published" of a proxy under its final name."""
    register(registered, StampChecks(), "studio-stamps")
    proxx = Proxx.open()
    spec = proxx.create_job(INTENT, [tiny(tmp_path / "card" / "A001_C001.mov")], out)
    result = proxx.run_job(spec.job_id)
    assert result is not None and result.failure is not None
    assert (result.failure.failure_class, result.failure.reason) == ("C", "plugin_failed")
    assert (
        "plugin 'studio-stamps' answered its proxx_verify_output hook with an iterable holding a Check whose "
        "expected is a datetime" in result.failure.message
    )
    assert not Path(spec.clips[0].output).exists()


class ReturnsNothing:
    @hookimpl
    def proxx_engines(self):
        class Silent(Engine):
            name = "silent"

            def availability(self) -> Availability:
                return Availability(True, version="1")

            def render(self, task: RenderTask):  # type: ignore[no-untyped-def]
                Path(task.partial_path).write_bytes(b"x")
                return None

        yield Silent()


def test_an_engine_whose_render_returns_none_fails_the_clip_naming_the_engine(tmp_path, out, proxx_home, registered):
    register(registered, ReturnsNothing(), "silent-plugin")
    canonical, intent = engine_profiles(tmp_path, "silent", "mov", "pcm")
    proxx = Proxx.open(profiles=[canonical, intent])
    spec = proxx.create_job("Silent", [tiny(tmp_path / "card" / "A001_C001.mov")], out)
    result = proxx.run_job(spec.job_id)
    assert result is not None and result.state == FAILED
    failure = result.failure
    assert failure is not None and (failure.failure_class, failure.reason) == ("C", "plugin_failed")
    assert "engine ('silent') returned NoneType from render" in failure.message
    assert proxx.store.job(spec.job_id).state == FAILED


def test_an_output_folder_removed_while_a_clip_renders_is_said_as_that(tmp_path, proxx_home, monkeypatch):
    """The engine still writes into its private folder's open descriptor after `rm -rf` of the output
    folder, and exits 0: verification then found no file and said "failed verification: no proxy
    file was written ... tell an administrator", when the folder itself had gone."""
    out = tmp_path / "day1" / "out"
    out.mkdir(parents=True)
    source = tiny(tmp_path / "card" / "A001_C001.mov")
    real_render = clips_module.Clips._render

    def render_then_remove(self, *args, **kwargs):
        real_render(self, *args, **kwargs)
        shutil.rmtree(out.parent)

    monkeypatch.setattr(clips_module.Clips, "_render", render_then_remove)
    proxx = Proxx.open()
    spec = proxx.create_job(INTENT, [source], out)
    result = proxx.run_job(spec.job_id)
    assert result is not None and result.state == FAILED
    failure = result.clips[0].failure
    assert failure is not None and (failure.failure_class, failure.reason) == ("C", "output_unwritable")
    assert failure.message.startswith("The output folder was removed or moved away while the proxy of 'A001_C001.mov'")
    assert "verification" not in failure.message and not out.parent.exists()


def test_jobs_clean_shows_the_partial_outputs_it_removed_escaped(tmp_path, out, proxx_home, monkeypatch, capsys):
    """`proxx jobs clean` printed each removed partial's path as it is: a source named with an escape
    sequence recoloured the operator's terminal."""
    from proxx.cli import main

    source = tiny(tmp_path / "card" / "e\x1b[31mRED\x1b]0;TITLE\x07.mov")

    def publish(spec, clip, staged, roots):
        raise OSError(errno.EIO, "Input/output error")  # the clip fails; its output is kept for debugging

    monkeypatch.setattr(clips_module, "publish", publish)
    proxx = Proxx.open()
    spec = proxx.create_job(INTENT, [source], out)
    result = proxx.run_job(spec.job_id)
    assert result is not None and result.clips[0].partial_output
    capsys.readouterr()
    assert main(["jobs", "clean", spec.job_id]) == 0
    shown = capsys.readouterr().out
    assert "\x1b" not in shown and "\x07" not in shown
    assert "Removed   " in shown and "e\\x1b[31mRED\\x1b]0;TITLE\\x07.proxx-partial-" in shown


class DetailedCopy:
    """An engine that renders (a stream copy into MOV) and reports details the result JSON cannot
    hold: a datetime, as an engine stamping when it rendered would."""

    @hookimpl
    def proxx_engines(self):
        from proxx.plugin import RenderReport, require_tool, run_process

        class Detailed(Engine):
            name = "detailed"

            def availability(self) -> Availability:
                return Availability(True, version="1")

            def render(self, task: RenderTask) -> RenderReport:
                ffmpeg = require_tool("ffmpeg").path
                run_process([ffmpeg, "-nostdin", "-n", "-loglevel", "error", "-i", task.clip.source, "-c", "copy",
                             "-f", "mov", task.partial_path], task, label="Detailed")  # fmt: skip
                return RenderReport("detailed 1", {"rendered_at": datetime.datetime(2026, 12, 7, 6, 0)})

        yield Detailed()


def test_an_engines_details_the_result_cannot_hold_fail_its_clip_naming_the_engine(
    tmp_path, out, proxx_home, registered
):
    """Details that are not JSON (`RenderReport.details`) failed the writing of the job's whole
    result: the job ended "an unexpected error in proxx or one of its plugins", its proxy published."""
    register(registered, DetailedCopy(), "detailed")
    (tmp_path / "profiles").mkdir()
    canonical, intent = engine_profiles(tmp_path / "profiles", "detailed", "mov", "copy")
    proxx = Proxx.open(profiles=[canonical, intent])
    spec = proxx.create_job("Detailed", [tiny(tmp_path / "card" / "A001_C001.mov")], out)
    result = proxx.run_job(spec.job_id)
    assert result is not None and result.failure is not None
    assert (result.failure.failure_class, result.failure.reason) == ("C", "plugin_failed")
    (clip,) = result.clips
    assert clip.failure is not None and clip.failure.message.startswith(
        "The proxy of 'A001_C001.mov' was not published: the detailed engine ('detailed') returned details its "
        "job's result cannot hold as JSON (Object of type datetime is not JSON serializable)."
    )
    assert not (out / "A001_C001.mov").exists()


def test_a_proxy_published_but_not_recorded_is_said_to_be_at_its_final_name(tmp_path, out, proxx_home, monkeypatch):
    """Recording a published proxy can fail (the job's folder unwritable, an I/O error): the clip
    failed saying "Nothing was published for it" of a proxy at its final name."""
    from proxx.execute import recover

    def unrecordable(job_dir, clip):
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(recover, "record_published", unrecordable)
    proxx = Proxx.open()
    spec = proxx.create_job(INTENT, [tiny(tmp_path / "card" / "A001_C001.mov")], out)
    result = proxx.run_job(spec.job_id)
    assert result is not None and result.failure is not None
    (clip,) = result.clips
    assert Path(clip.output).exists() and clip.failure is not None
    assert clip.failure.message == (
        "The proxy of 'A001_C001.mov' is at its final name, but proxx met an unexpected error recording it "
        "(OSError: [Errno 5] Input/output error), so it does not count as published: move it away before "
        "retrying the job. An administrator finds the details in the job's log."
    )


def test_a_new_job_store_opened_by_two_at_once_opens_for_both(tmp_path):
    """A web server and a worker started together on a new PROXX_HOME: SQLite told one of the two
    "database is locked" at once as both switched the new store to its write-ahead log (14 in 150
    tries), and it failed, saying the store "stayed locked by another process for 30 s"."""
    from proxx.store import Store

    for attempt in range(40):
        home, failed = tmp_path / str(attempt), []

        def open_store(home: Path = home, failed: list[Exception] = failed) -> None:
            try:
                Store.at(home)
            except Exception as error:  # what the test is about
                failed.append(error)

        both = [threading.Thread(target=open_store) for _ in range(2)]
        for thread in both:
            thread.start()
        for thread in both:
            thread.join()
        assert failed == [], failed


def test_a_job_store_locked_by_another_process_is_said_as_that(tmp_path, out, proxx_home, monkeypatch, capsys):
    """A store another process held locked (a backup, an sqlite3 shell) read "internal error
    (OperationalError)" after 30 s, on `jobs list` as on `run`; a worker said the same at each poll."""
    import sqlite3

    from proxx import store as store_module
    from proxx.worker import work

    source = tiny(tmp_path / "A001.mov")
    proxx = Proxx.open()
    spec = proxx.create_job("HD Editorial LT", [source], out)
    monkeypatch.setattr(store_module, "BUSY_SECONDS", 0.2, raising=False)
    holder = sqlite3.connect(proxx.store.path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    said: list[str] = []
    try:
        assert main(["jobs", "list"]) == 6
        assert work(proxx, once=True, on_error=said.append) == 0
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    err = capsys.readouterr().err
    locked = f"The job store '{proxx.store.path}' stayed locked by another process for 0.2 s"
    assert err.startswith(f"proxx: configuration error: {locked}") and err.count("\n") == 1
    assert said and said[0].startswith(f"worker: {locked}")
    said.clear()
    holder = sqlite3.connect(proxx.store.path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    stop = threading.Event()
    worker = threading.Thread(target=work, args=(proxx,), kwargs={"poll_seconds": 0.05, "stop": stop,
                                                                  "on_error": said.append})  # fmt: skip
    worker.start()
    try:  # a worker waiting for the store says so once, not at every look
        time.sleep(1.5)
    finally:
        stop.set()
        worker.join()
        holder.execute("ROLLBACK")
        holder.close()
    assert len(said) == 1 and said[0].startswith(f"worker: {locked}")
    assert proxx.store.job(spec.job_id).state == "QUEUED"  # nothing lost: it runs once the store is free
    assert work(proxx, once=True) == 1 and proxx.store.job(spec.job_id).state == COMPLETED
