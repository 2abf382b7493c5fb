"""Class C, timeouts, immutability, lost workers, concurrency, retries, exporters."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from proxx import ExecutionError, Proxx, schemas
from proxx.execute import runner
from proxx.execute.clips import Clips
from proxx.export.exporter import Exporter
from proxx.media.samples import make_clip
from proxx.plugin import hookimpl
from proxx.pluginmanager import plugin_manager
from proxx.store import COMPLETED, FAILED, QUEUED, RUNNING
from tests.long_clip import make_long_clip

INTENT = "HD Editorial LT"
PROXX = [sys.executable, "-m", "proxx"]


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> list[Path]:
    folder = tmp_path_factory.mktemp("src")
    return [make_clip(folder / f"A001_C00{n}.mov", frames=6) for n in range(1, 4)]


@pytest.fixture(scope="module")
def long_clip(tmp_path_factory) -> Path:
    """Long enough that an encode is still running a second after it starts."""
    return make_long_clip(tmp_path_factory.mktemp("long") / "LONG_C001.mov", size="640x360", frames=720, audio=())


@pytest.fixture
def out(tmp_path) -> Path:
    folder = tmp_path / "out"
    folder.mkdir()
    return folder


def document(row) -> dict:
    result = json.loads(Path(row.result_path).read_text())
    assert schemas.violations(result, schemas.JOB_RESULT) == []
    return result


def test_what_a_published_proxy_is_is_read_as_it_is_published_not_again_after_the_last(
    out, clips, proxx_home, monkeypatch
):
    # The store remembers each proxy and its source (for a re-run) from what was read in the clip's
    # own thread as it was published, while others rendered; the job's end reads none of them again.
    from proxx.execute import recover
    from proxx.jobspec import rerun
    from proxx.store import Store

    read_at_publish = []
    real = recover.identities
    monkeypatch.setattr(recover, "identities", lambda s, o: read_at_publish.append(o) or real(s, o))

    def read_again(source: str, output: str) -> None:
        raise AssertionError(f"{output} read again after the last clip")

    monkeypatch.setattr(rerun, "identities", read_again)
    proxx = Proxx.open()
    spec = proxx.create_job(INTENT, clips[:2], out)
    result = proxx.run_job(spec.job_id)
    assert result.state == COMPLETED and sorted(read_at_publish) == sorted(c.output for c in spec.clips)
    store = Store.at(proxx_home)
    for clip in spec.clips:
        remembered = store.published(rerun.output_key(clip.output))
        assert remembered is not None and remembered.job_id == spec.job_id
        assert (remembered.source_identity, remembered.output_identity) == real(clip.source, clip.output)


# --- class C -------------------------------------------------------------------------------------


def test_a_source_that_breaks_mid_decode_is_told_as_damaged_where_it_stops(out, tmp_path, proxx_home):
    from proxx.media.tools import require_tool

    # moov first (faststart), then cut: the header promises 48 frames, the data stops half way.
    whole = tmp_path / "whole.mov"
    subprocess.run(
        [require_tool("ffmpeg").path, "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=320x180:rate=24",
         "-frames:v", "48", "-c:v", "libx264", "-preset", "ultrafast", "-movflags", "+faststart", str(whole)],
        check=True,
    )  # fmt: skip
    broken = tmp_path / "B001_C001.mov"
    broken.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    proxx = Proxx.open()
    spec = proxx.create_job(INTENT, [broken], out)
    result = proxx.run_job(spec.job_id)
    row = proxx.store.job(spec.job_id)
    assert row.state == FAILED and row.failure_class == "C", row.message
    assert row.reason == "source_damaged"
    assert not (out / "B001_C001.mov").exists()
    clip = document(row)["clips"][0]
    assert clip["state"] == "failed"
    # Where the data stops, as the operator reads it; ffmpeg's own words for the administrator.
    assert row.message.startswith("The source 'B001_C001.mov' could not be read past 00:00:0"), row.message
    assert "the file looks damaged" in row.message and "FFmpeg" not in row.message
    context = clip["failure"]["context"]
    assert 0 < context["read_up_to"] < 2 and "FFmpeg stopped reading the source" in context["admin_message"]
    assert clip["partial_output"] and Path(clip["partial_output"]).exists()  # kept for debugging
    assert result is not None and "=== exit code 0 after" in Path(result.log_path).read_text()  # it did run


def engine_profiles(folder: Path, engine: str, container: str, audio: str) -> tuple[Path, Path]:
    """A canonical profile `test_<engine>` for a test engine, and the intent "<Engine>" that reaches it."""
    canonical = folder / f"{engine}.yaml"
    canonical.write_text(
        f'canonical_profile_version: "1.0"\nid: test_{engine}\nengine: {engine}\ncodec: h264\n'
        f"container: {container}\nresolution: source\naudio: {audio}\n"
    )
    intent = folder / "intent.yaml"
    intent.write_text(
        f'user_profile_version: "1.1"\nname: {engine.title()}\nconstraints:\n  engine_preference: [{engine}]\n'
        "  resolution: [source]\n  codecs: [h264]\n"
    )
    return canonical, intent


class FailingEngine:
    """An engine plugin registered for one test whose render fails like a crashed encoder (or, with
    `reason="timeout"`, like a hung one: a failure of the whole job)."""

    def __init__(
        self, reason="engine_failed", message="Broken exited with code 3: Invalid data found when processing input"
    ):
        self.reason, self.message = reason, message

    @hookimpl
    def proxx_engines(self):
        from proxx.plugin import Availability, Engine

        failing = self

        class Broken(Engine):
            name = "broken"

            def availability(self):
                return Availability(True, version="9.9")

            def render(self, task):
                Path(task.partial_path).write_bytes(b"half a file")
                raise ExecutionError(failing.reason, failing.message)

        yield Broken()


def test_a_plugin_engine_whose_render_fails_is_class_c(out, clips, tmp_path, proxx_home):
    canonical, intent = engine_profiles(tmp_path, "broken", "mp4", "aac")
    pm = plugin_manager()
    pm.register(FailingEngine(), name="broken-engine")
    try:
        proxx = Proxx.open(profiles=[canonical, intent], pm=pm)
        spec = proxx.create_job("Broken", clips[:2], out)
        assert spec.engine == "broken"
        proxx.run_job(spec.job_id)
    finally:
        pm.unregister(name="broken-engine")
    row = proxx.store.job(spec.job_id)
    assert (row.state, row.failure_class, row.reason) == (FAILED, "C", "engine_failed")
    engine_words = "Broken exited with code 3: Invalid data found when processing input"
    # The operator reads which clip and what happened, never the engine's own words (an engine that
    # reports no progress: how far it got is not said).
    said = [
        f"The renderer stopped with an error while making the proxy of '{name}'. Retry the job; if it fails "
        "again, an administrator finds the renderer's own message in the job's result."
        for name in ("A001_C001.mov", "A001_C002.mov")
    ]
    assert row.message == f"2 of 2 clips failed (0 published): A001_C001.mov: {said[0]} A001_C002.mov: {said[1]}"
    result = document(row)
    # A clip's own failure fails that clip only: the next one still ran (and failed on its own).
    assert [c["state"] for c in result["clips"]] == ["failed", "failed"]
    assert [c["failure"]["message"] for c in result["clips"]] == said
    assert [c["failure"]["context"]["admin_message"] for c in result["clips"]] == [engine_words, engine_words]
    assert f"for an administrator: {engine_words}" in Path(row.log_path or "").read_text()
    assert not (out / "A001_C001.mp4").exists() and not (out / "A001_C002.mp4").exists()
    assert result["clips"][0]["partial_output"] == str(out / "A001_C001.proxx-partial-") + spec.job_id[-8:] + ".mp4"


def test_a_job_wide_failure_stops_the_job_at_once(out, clips, tmp_path, proxx_home, monkeypatch):
    monkeypatch.setenv("PROXX_PARALLEL_CLIPS", "1")  # one clip at a time: the next would start otherwise
    canonical, intent = engine_profiles(tmp_path, "broken", "mp4", "aac")
    pm = plugin_manager()
    pm.register(FailingEngine("timeout", "Broken timed out after 120 seconds"), name="hung-engine")
    try:
        proxx = Proxx.open(profiles=[canonical, intent], pm=pm)
        spec = proxx.create_job("Broken", clips, out)
        result = proxx.run_job(spec.job_id)
    finally:
        pm.unregister(name="hung-engine")
    assert result is not None and [c.state for c in result.clips] == ["failed", "not_run", "not_run"]
    assert result.failure is not None and result.failure.reason == "timeout"
    assert result.failure.message == (
        "1 of 3 clips failed (0 published): A001_C001.mov: Making the proxy of 'A001_C001.mov' took longer than the "
        "time allowed for it and was stopped. Retry the job; if it is stopped again, ask an administrator to allow "
        "more time."
    )
    assert result.failure.context["admin_message"] == "Broken timed out after 120 seconds"


class FailsFirstClipVerification:
    """A plugin whose extra verification check fails the job's first clip."""

    @hookimpl
    def proxx_verify_output(self, spec, clip, source, output):
        from proxx.verify.checks import Check

        return [Check("studio_rule", "clip 1 passes", "it does not", False)] if clip.index == 0 else []


def test_the_verify_output_hook_says_what_the_test_below_shows() -> None:
    """Plugin authors read the hook's doc (docs/hooks.md): a failed check fails its clip alone, read
    by operators as the test below reads it. It said the whole job failed."""
    from proxx import hookspecs

    said = " ".join((hookspecs.proxx_verify_output.__doc__ or "").split())
    assert "A failed check fails that clip in class C" in said and "the job's other clips go on" in said
    assert '"the <name in words> is <actual>, the intent promises <expected>"' in said


def test_a_failed_verification_fails_that_clip_and_the_others_publish(out, clips, proxx_home):
    # Clip 1's output is probed while clip 2 renders; its failed verification fails clip 1 only.
    pm = plugin_manager()
    pm.register(FailsFirstClipVerification(), name="fails-first")
    try:
        proxx = Proxx.open(pm=pm)
        spec = proxx.create_job(INTENT, clips, out)
        result = proxx.run_job(spec.job_id)
    finally:
        pm.unregister(name="fails-first")
    assert result is not None and result.state == FAILED
    assert [c.state for c in result.clips] == ["failed", "completed", "completed"]
    assert result.failure is not None and result.failure.reason == "verification_failed"
    assert result.failure.message.startswith("1 of 3 clips failed (2 published): A001_C001.mov: Output file")
    assert "the studio rule is it does not, the intent promises clip 1 passes" in result.failure.message
    # (Fabric, when installed, seals the two published proxies in ascmhl/ and .proxx/)
    assert sorted(p.name for p in out.iterdir() if p.name not in (".proxx", "ascmhl")) == [
        "A001_C001.proxx-partial-" + spec.job_id[-8:] + ".mov",
        "A001_C002.mov",
        "A001_C003.mov",
    ]
    assert [c.index for c in proxx.store.spec(spec.job_id).clips] == [0, 1, 2]
    new, done = proxx.retry(spec.job_id)
    assert done == 2 and [Path(c.source).name for c in new.clips] == ["A001_C001.mov"]


def test_real_ffmpeg_failing_reads_exited_with_code_and_its_last_word(out, clips, tmp_path, proxx_home, monkeypatch):
    from proxx.media.tools import find_tool
    from tests.wrapped_ffmpeg import real_ffmpeg, wrapped_ffmpeg

    # The real binary, handed an option it does not know when it is asked to render.
    wrapper = wrapped_ffmpeg(tmp_path, '" -progress "', f'exec "{real_ffmpeg()}" -no_such_option "$@"')
    monkeypatch.setenv("PROXX_FFMPEG", str(wrapper))
    find_tool.cache_clear()
    try:
        proxx = Proxx.open()
        spec = proxx.create_job(INTENT, clips[:1], out)
        proxx.run_job(spec.job_id)
    finally:
        find_tool.cache_clear()
    row = proxx.store.job(spec.job_id)
    assert (row.state, row.failure_class, row.reason) == (FAILED, "C", "engine_failed")
    assert row.message.startswith("The renderer stopped with an error while making the proxy of 'A001_C001.mov'")
    assert "(exit status 8)" in row.message and "FFmpeg" not in row.message
    failure = document(row)["failure"]
    assert failure["context"]["exit_code"] == 8
    assert failure["context"]["admin_message"] == (
        "FFmpeg exited with code 8: Error splitting the argument list: Option not found"
    )
    log = Path(row.log_path).read_text()
    assert "Unrecognized option 'no_such_option'." in log and "=== exit code 8 after" in log
    assert list(out.iterdir()) == []  # nothing under a final name, and no partial: ffmpeg wrote none


def test_timeout_kills_the_encoder_and_fails_class_c(out, long_clip, proxx_home, monkeypatch):
    monkeypatch.setenv("PROXX_TIMEOUT_MIN", "0.5")
    monkeypatch.setenv("PROXX_TIMEOUT_FACTOR", "0")
    proxx = Proxx.open()
    spec = proxx.create_job("Archive ProRes", [long_clip], out)
    started = time.monotonic()
    proxx.run_job(spec.job_id)
    assert time.monotonic() - started < 10
    row = proxx.store.job(spec.job_id)
    assert (row.state, row.failure_class, row.reason) == (FAILED, "C", "timeout")
    assert row.message.startswith("Making the proxy of 'LONG_C001.mov' took longer than the 0.5 seconds allowed")
    assert document(row)["failure"]["context"]["admin_message"] == "FFmpeg timed out after 0.5 seconds"
    assert not (out / "LONG_C001.mov").exists()


# --- immutability ----------------------------------------------------------------------------------


def test_the_database_refuses_to_update_or_delete_a_stored_jobspec(out, clips, proxx_home):
    proxx = Proxx.open()
    spec = proxx.create_job(INTENT, clips[:1], out)
    db = sqlite3.connect(proxx.store.path)
    with pytest.raises(sqlite3.IntegrityError, match="JobSpecs are immutable"):
        db.execute("UPDATE jobspecs SET spec_json = '{}' WHERE job_id = ?", (spec.job_id,))
    with pytest.raises(sqlite3.IntegrityError, match="never deleted"):
        db.execute("DELETE FROM jobspecs WHERE job_id = ?", (spec.job_id,))


def test_a_jobspec_altered_behind_proxxs_back_is_detected_and_nothing_runs(out, clips, proxx_home):
    proxx = Proxx.open()
    spec = proxx.create_job(INTENT, clips[:1], out)
    db = sqlite3.connect(proxx.store.path)
    db.execute("DROP TRIGGER jobspecs_immutable")
    tampered = spec.to_json().replace(str(out), str(out.parent))
    db.execute("UPDATE jobspecs SET spec_json = ? WHERE job_id = ?", (tampered, spec.job_id))
    db.commit()
    proxx.run_job(spec.job_id)
    row = proxx.store.job(spec.job_id)
    assert (row.state, row.failure_class, row.reason) == (FAILED, "B", "JobSpec digest mismatch")
    assert not list(out.iterdir()) and not list(out.parent.glob("*.mov"))


def test_states_only_move_forward(out, clips, proxx_home):
    proxx = Proxx.open()
    spec = proxx.create_job(INTENT, clips[:1], out)
    proxx.run_job(spec.job_id)
    db = sqlite3.connect(proxx.store.path)
    with pytest.raises(sqlite3.IntegrityError, match="only move forward"):
        db.execute("UPDATE jobs SET state = 'QUEUED' WHERE job_id = ?", (spec.job_id,))
    steps = [(t.from_state, t.to_state) for t in proxx.store.transitions(spec.job_id)]
    assert steps == [(None, QUEUED), (QUEUED, RUNNING), (RUNNING, COMPLETED)]


# --- lost workers and concurrency -----------------------------------------------------------------


def _cli(*args: str, env: dict | None = None, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([*PROXX, *args], capture_output=True, text=True, env=env, timeout=120, **kwargs)


def test_a_worker_killed_mid_encode_is_failed_worker_lost_on_the_next_look(out, long_clip, proxx_home):
    env = {**os.environ, "PROXX_HOME": str(proxx_home)}
    assert _cli("submit", "--profile", "Archive ProRes", "--output", str(out), str(long_clip), env=env).returncode == 0
    worker = subprocess.Popen([*PROXX, "worker", "--once"], env=env, start_new_session=True,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    deadline = time.monotonic() + 60
    while not list(out.glob("*.proxx-partial-*")):
        assert time.monotonic() < deadline, "the encode never started"
        time.sleep(0.05)
    os.killpg(worker.pid, signal.SIGKILL)
    worker.wait()
    time.sleep(0.3)  # the encoder dies with its worker (proxx.execute.process)
    listed = _cli("jobs", "list", "--json", env=env)
    (job,) = json.loads(listed.stdout)
    assert (job["state"], job["reason"]) == (FAILED, "worker lost")
    assert not (out / "LONG_C001.mov").exists()
    partial = next(out.glob("*.proxx-partial-*"))
    size = partial.stat().st_size
    time.sleep(0.5)
    assert partial.stat().st_size == size, "the encoder outlived its worker"
    # Never re-run by itself: another worker finds nothing to do.
    again = _cli("worker", "--once", env=env)
    assert "worker ran 0 job(s)" in again.stdout


def test_concurrent_workers_never_take_the_same_job(tmp_path, clips, proxx_home):
    env = {**os.environ, "PROXX_HOME": str(proxx_home)}
    proxx = Proxx.open()
    ids = []
    for n in range(6):
        folder = tmp_path / f"out{n}"
        folder.mkdir()
        ids.append(proxx.create_job(INTENT, clips[:1], folder).job_id)
    commands = [["worker", "--once", "--concurrency", "2"], ["worker", "--once"], ["worker", "--once"]]
    workers = [subprocess.Popen([*PROXX, *c], env=env, stdout=subprocess.PIPE, text=True) for c in commands]
    ran = [int(w.communicate(timeout=120)[0].strip().splitlines()[-1].split()[2]) for w in workers]
    assert sum(ran) == 6
    for job_id in ids:
        assert proxx.store.job(job_id).state == COMPLETED
        claims = [t for t in proxx.store.transitions(job_id) if t.to_state == RUNNING]
        assert len(claims) == 1


# --- many clips and retry --------------------------------------------------------------------------


def test_retry_covers_only_the_clips_without_a_verified_output(out, clips, tmp_path, proxx_home, monkeypatch):
    broken = tmp_path / "A001_C009.mov"
    broken.write_bytes(b"not video")
    proxx = Proxx.open()
    # Validation would refuse the broken clip, so replace it after validation by running the clips
    # in order: C001 renders, then a clip that vanished after validation fails at render time.
    spec = proxx.create_job(INTENT, [clips[0], clips[1], clips[2]], out)
    real_run = Clips.run

    def run_with_a_vanishing_source(self):  # after validation, before the clips render
        os.rename(clips[1], tmp_path / "moved-away.mov")
        try:
            return real_run(self)
        finally:
            os.rename(tmp_path / "moved-away.mov", clips[1])

    monkeypatch.setattr(Clips, "run", run_with_a_vanishing_source)
    result = proxx.run_job(spec.job_id)
    monkeypatch.undo()
    assert result.state == FAILED
    assert [c.state for c in result.clips] == ["completed", "failed", "completed"]
    assert (out / "A001_C001.mov").exists() and not (out / "A001_C002.mov").exists()

    new, done = proxx.retry(spec.job_id)
    assert done == 2 and new.retry_of == spec.job_id
    assert [Path(c.source).name for c in new.clips] == ["A001_C002.mov"]
    retried = proxx.run_job(new.job_id)
    assert retried is not None and retried.state == COMPLETED
    assert proxx.store.job(spec.job_id).state == FAILED  # the original stays FAILED
    assert sorted(p.name for p in out.glob("*.mov")) == ["A001_C001.mov", "A001_C002.mov", "A001_C003.mov"]


def test_a_job_declared_lost_while_it_renders_is_never_published(out, clips, proxx_home, monkeypatch):
    proxx = Proxx.open()
    spec = proxx.create_job(INTENT, clips[:1], out)
    real_render = Clips._render

    def render_then_lose_the_job(*args):
        run = real_render(*args)
        # Meanwhile the worker stalled past its lease, and another proxx command looked.
        with sqlite3.connect(proxx.store.path) as db:
            db.execute("UPDATE jobs SET lease_until = 0 WHERE job_id = ?", (spec.job_id,))
        assert Proxx.open().store.job(spec.job_id).reason == "worker lost"
        return run

    monkeypatch.setattr(Clips, "_render", render_then_lose_the_job)
    result = proxx.run_job(spec.job_id)
    assert result.failure is not None and result.failure.reason == "worker_lost"
    assert not (out / "A001_C001.mov").exists()  # verified, yet never published
    assert result.clips[0].partial_output and Path(result.clips[0].partial_output).exists()
    assert proxx.store.job(spec.job_id).reason == "worker lost"  # the first verdict stands


def test_a_worker_lost_after_writing_its_result_gets_the_result_the_store_says(out, clips, proxx_home, monkeypatch):
    # The worker dies between writing its result (COMPLETED) and recording the job's ending: the job is
    # found lost, and its result is written again from the store's state and the clips' journal.
    proxx = Proxx.open()
    spec = proxx.create_job(INTENT, clips[:2], out)
    with monkeypatch.context() as patched:
        patched.setattr(runner.Runner, "_end", lambda self, result: None)
        written = proxx.run_job(spec.job_id)
    assert written is not None and written.state == COMPLETED
    assert proxx.store.job(spec.job_id).state == RUNNING
    with sqlite3.connect(proxx.store.path) as db:  # its lease runs out without a heartbeat
        db.execute("UPDATE jobs SET lease_until = 0 WHERE job_id = ?", (spec.job_id,))
    row = Proxx.open().store.job(spec.job_id)
    assert (row.state, row.reason, row.published) == (FAILED, "worker lost", 2)
    recovered = document(row)
    assert recovered["state"] == FAILED and recovered["failure"]["reason"] == "worker lost"
    assert [c["state"] for c in recovered["clips"]] == ["completed", "completed"]


def test_only_failed_jobs_can_be_retried(out, clips, proxx_home):
    from proxx import PreJobError
    from proxx.errors import JobStateError

    proxx = Proxx.open()
    spec = proxx.create_job(INTENT, clips[:1], out)
    proxx.run_job(spec.job_id)
    with pytest.raises(JobStateError, match="only FAILED jobs can be retried") as refused:
        proxx.retry(spec.job_id)
    # no failure class (class A is an intent that does not compile), and still what callers catch
    assert refused.value.failure_class is None and isinstance(refused.value, PreJobError)
    with pytest.raises(JobStateError, match="only queued and running jobs can be cancelled"):
        proxx.cancel(spec.job_id)


# --- exporters -------------------------------------------------------------------------------------


class Exporters:
    def __init__(self) -> None:
        self.seen: list[tuple[str, str]] = []

    @hookimpl
    def proxx_exporters(self):
        def record(spec, result):
            self.seen.append((spec.job_id, result.state))
            return {"rows": 1}

        def explode(spec, result):
            raise OSError(28, "No space left on device")

        yield Exporter("a-recorder", record)
        yield Exporter("b-exploder", explode)


def test_every_finished_job_is_exported_and_an_exporter_error_never_changes_the_state(
    out, clips, tmp_path, proxx_home, monkeypatch
):
    exporters = Exporters()
    pm = plugin_manager()
    pm.register(exporters, name="test-exporters")
    written: list[Path] = []
    real_write = runner.write_text_atomically
    monkeypatch.setattr(
        runner, "write_text_atomically", lambda path, text: written.append(path) or real_write(path, text)
    )
    try:
        proxx = Proxx.open(pm=pm)
        good = proxx.create_job(INTENT, clips[:1], out)
        proxx.run_job(good.job_id)
        bad = proxx.create_job(INTENT, [tmp_path / "missing.mov"], out)
        proxx.run_job(bad.job_id)
    finally:
        pm.unregister(name="test-exporters")
    assert exporters.seen == [(good.job_id, COMPLETED), (bad.job_id, FAILED)]
    # Each job's result JSON written once, with the exporters' outcomes: the exporters run first.
    assert written == [proxx_home / "jobs" / job_id / "result.json" for job_id in (good.job_id, bad.job_id)]
    row = proxx.store.job(good.job_id)
    assert row.state == COMPLETED
    exports = document(row)["exports"]
    assert exports[0] == {"exporter": "a-recorder", "ok": True, "error": None, "details": {"rows": 1}}
    assert exports[1]["ok"] is False and "No space left on device" in exports[1]["error"]
    assert "exporter b-exploder failed" in Path(row.log_path).read_text()


# --- names that a shell would mangle ---------------------------------------------------------------


def test_names_with_dashes_spaces_quotes_and_unicode(tmp_path, clips, proxx_home):
    weird = tmp_path / "-cam A 'quoted' \"double\" $(rm -rf x) & ; ünï.mov"
    weird.write_bytes(clips[0].read_bytes())
    out = tmp_path / "out -dir ; é"
    out.mkdir()
    proxx = Proxx.open()
    spec = proxx.create_job(INTENT, [weird], out)
    result = proxx.run_job(spec.job_id)
    assert result is not None and result.state == COMPLETED, result.failure
    assert (out / (weird.stem + ".mov")).exists()


def test_sigterm_lets_the_running_job_finish_and_takes_no_new_one(tmp_path, long_clip, clips, proxx_home):
    env = {**os.environ, "PROXX_HOME": str(proxx_home)}
    for folder, source in ((tmp_path / "a", long_clip), (tmp_path / "b", clips[0])):
        folder.mkdir()
        assert _cli("submit", "--profile", INTENT, "--output", str(folder), str(source), env=env).returncode == 0
    worker = subprocess.Popen([*PROXX, "worker"], env=env, stdout=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not list((tmp_path / "a").glob("*.proxx-partial-*")):  # the long encode has started
        assert time.monotonic() < deadline and worker.poll() is None
        time.sleep(0.02)
    worker.send_signal(signal.SIGTERM)
    out, _ = worker.communicate(timeout=60)
    assert worker.returncode == 0 and "worker ran 1 job(s)" in out
    states = sorted(j["state"] for j in json.loads(_cli("jobs", "list", "--json", env=env).stdout))
    assert states == [COMPLETED, QUEUED]


class ConcurrencyProbe:
    """An engine plugin that copies the source slowly and records how many clips render at once."""

    def __init__(self, parallel_clips=None):
        self.parallel_clips, self.running, self.most = parallel_clips, 0, 0
        self.lock = __import__("threading").Lock()

    @hookimpl
    def proxx_engines(self):
        from proxx.plugin import Availability, Engine

        probe = self

        class Slow(Engine):
            name = "slow"
            parallel_clips = probe.parallel_clips

            def availability(self):
                return Availability(True, version="1")

            def render(self, task):
                import shutil
                import time

                from proxx.execute.engine import RenderReport

                with probe.lock:
                    probe.running += 1
                    probe.most = max(probe.most, probe.running)
                time.sleep(0.3)
                shutil.copyfile(task.clip.source, task.partial_path)
                with probe.lock:
                    probe.running -= 1
                return RenderReport("1")

        yield Slow()


@pytest.mark.parametrize(("declared", "budget", "expected"), [(None, "2", 2), (1, "2", 1), (None, "1", 1)])
def test_clips_render_side_by_side_within_the_engine_and_the_budget(
    declared, budget, expected, out, clips, tmp_path, proxx_home, monkeypatch
):
    monkeypatch.setenv("PROXX_PARALLEL_CLIPS", budget)
    canonical, intent = engine_profiles(tmp_path, "slow", "mov", "copy")
    engine = ConcurrencyProbe(declared)
    pm = plugin_manager()
    pm.register(engine, name="slow-engine")
    try:
        proxx = Proxx.open(profiles=[canonical, intent], pm=pm)
        spec = proxx.create_job("Slow", clips, out)
        result = proxx.run_job(spec.job_id)
    finally:
        pm.unregister(name="slow-engine")
    assert engine.most == expected
    assert [Path(c.source).name for c in result.clips] == [Path(c).name for c in clips]  # job order
    assert result.state == COMPLETED, result.failure
