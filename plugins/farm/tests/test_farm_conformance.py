"""The V2 contract on the render farm's path (tests/conformance/README.md names each test here for
the statement it checks): a real redis-server and one real `proxx farm worker` for the module, keyed
as a facility deploys it across machines (PROXX_FARM_KEY), tiny generated clips.

The worker's own profile repository says something else than the submitting machine's: its
"Review H.264" is a quarter-size proxy. A farm worker compiles nothing, so what it renders is what the
JobSpec made at the job's creation says, whatever any repository says later or elsewhere."""

from __future__ import annotations

import hashlib
import html
import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from proxx import PreJobError, Proxx
from proxx.cli import main
from proxx.execute import schedule
from proxx.jobspec.model import create_jobspec, digest_of, utc_now
from proxx.media.samples import make_clip
from proxx.resources import bundled_profiles_dir
from proxx.result import load_result
from proxx.schemas import JOB_RESULT, violations
from proxx.store import COMPLETED
from proxx_farm.app import TASK_NAME, app_for, queue_for
from proxx_farm.state import FarmState
from proxx_farm.submit import dispatch
from proxx_farm.testing import FarmWorker, RedisServer, wait_finished
from tests.conformance.surfaces import cut_short, forbidden_words

KEY = "the facility's farm key"
INTENT = "Review H.264"


@pytest.fixture(scope="module")
def farm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The broker's URL of a farm with one worker taking FFmpeg jobs."""
    root = tmp_path_factory.mktemp("conformance-farm")
    elsewhere = root / "worker-profiles"
    shutil.copytree(bundled_profiles_dir(), elsewhere)
    review = elsewhere / "user" / "review_h264.yaml"
    review.write_text(review.read_text().replace("scale_50", "scale_25"))
    env = {
        "PROXX_FARM_KEY": KEY,
        "PROXX_LOAD_PLUGINS": "ffmpeg,farm",
        "PROXX_BUNDLED_PROFILES": "0",
        "PROXX_PROFILES": str(elsewhere),
        "PROXX_PARALLEL_CLIPS": "2",  # a job's clips render side by side, each with a share of the cores
    }
    with RedisServer() as server:
        worker = FarmWorker(server.url, "W", ("ffmpeg",), home=root / "worker", env=env)
        try:
            worker.wait_ready()
            yield server.url
        finally:
            worker.stop()


@pytest.fixture
def proxx(proxx_home: Path, monkeypatch: pytest.MonkeyPatch, farm: str) -> Proxx:
    monkeypatch.setenv("PROXX_FARM_KEY", KEY)
    return Proxx.open()


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_clip(tmp_path_factory.mktemp("conformance-clip") / "A001_C001.mov", frames=4, size="320x180")


def _digest(path: str | Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _folder(base: Path, name: str) -> Path:
    folder = base / name
    folder.mkdir()
    return folder


@pytest.mark.parametrize("intent", [INTENT, "HD Editorial LT"])
def test_5_on_the_farm_the_same_jobspec_gives_the_same_bytes_as_alone_and_in_a_batch(
    proxx, farm, clip, tmp_path, monkeypatch, intent
):
    """A two-clip job on the farm (its worker's clips side by side), the clip alone here, and here in
    a batch (a share of 4 cores each): three thread counts, one toolchain, the same bytes."""
    other = shutil.copyfile(clip, tmp_path / "B001_C001.mov")
    spec = proxx.submit(intent, [clip, other], _folder(tmp_path, "farm"), farm=farm)
    row = wait_finished(proxx, spec.job_id)
    assert row.state == COMPLETED, row.message
    on_the_farm = load_result(Path(row.result_path or ""))

    alone_out, batch_out = _folder(tmp_path, "alone"), _folder(tmp_path, "batch")
    assert main(["run", "--profile", intent, "--output", str(alone_out), str(clip)]) == 0
    monkeypatch.setenv("PROXX_PARALLEL_CLIPS", "2")
    monkeypatch.setattr(schedule.core_share(), "cores", 4)
    assert main(["run", "--profile", intent, "--output", str(batch_out), str(clip), str(other)]) == 0
    results = [on_the_farm, *(proxx.result(r.job_id) for r in Proxx.open().store.jobs()[:2])]
    outputs = [Path(c.output) for result in results if result is not None for c in result.clips]
    assert len(outputs) == 5 and len({_digest(output) for output in outputs}) == 1, outputs
    # What ran, and with what, is in each result: the same toolchain, the thread counts used.
    threads = set()
    for result in results:
        assert result is not None and result.state == COMPLETED
        assert (result.engine.version, result.engine.details["binary"]) == (
            on_the_farm.engine.version,
            on_the_farm.engine.details["binary"],
        )
        threads.add(result.engine.details["threads"]["decoder"])
    assert len(threads) >= 2, threads  # the renders did run with different thread counts
    # Each clip's own share of the cores is in the result too (the job's details hold the last one).
    alone, batch = sorted((r for r in results[1:] if r is not None), key=lambda r: len(r.clips))
    assert [c.threads for c in alone.clips] == [None] and [c.threads for c in batch.clips] == [2, 2]
    assert [violations(r.to_dict(), JOB_RESULT) for r in (on_the_farm, alone, batch)] == [[], [], []]


def test_5_on_the_farm_a_job_runs_from_the_snapshot_of_its_creation_and_only_signed_by_proxx(
    proxx_home, farm, clip, tmp_path, monkeypatch
):
    studio = tmp_path / "studio"
    shutil.copytree(bundled_profiles_dir(), studio)
    monkeypatch.setenv("PROXX_BUNDLED_PROFILES", "0")
    monkeypatch.setenv("PROXX_PROFILES", str(studio))
    monkeypatch.setenv("PROXX_FARM_KEY", KEY)
    proxx = Proxx.open()
    out = _folder(tmp_path, "out")
    compiled = proxx.select(INTENT)  # the job is compiled at its creation ...
    spec = create_jobspec(compiled, [clip], out, utc_now(), proxx.requirements("ffmpeg"))
    proxx.store.add(spec, farm)
    forged = create_jobspec(compiled, [shutil.copyfile(clip, tmp_path / "F001_C001.mov")], out, utc_now(), {})
    intent = studio / "user" / "review_h264.yaml"
    intent.write_text(intent.read_text() + "lifecycle: deprecated\n")  # ... and its intent deprecated since
    with pytest.raises(PreJobError, match="is deprecated and cannot be used for new jobs"):
        Proxx.open().submit(INTENT, [clip], out, farm=farm)

    state = FarmState.connect(farm)
    refused_before = len(state.refused_tasks())
    dispatch(proxx, spec, farm, state)  # signed by this proxx, which created it
    # The same JobSpec made by hand (no signature of proxx): never run, even from a valid snapshot.
    app_for(farm).send_task(
        TASK_NAME, args=[forged.to_json(), digest_of(forged.to_json()), None], queue=queue_for("ffmpeg")
    )
    row = wait_finished(proxx, spec.job_id)
    assert row.state == COMPLETED, row.message
    result = proxx.result(spec.job_id)
    assert result is not None and result.proxy_profile == spec.proxy_profile
    assert proxx.store.spec(spec.job_id).proxy_profile_origin.name == INTENT
    deadline = time.monotonic() + 30
    while len(state.refused_tasks()) == refused_before:
        assert time.monotonic() < deadline, "the hand-made task was not refused"
        time.sleep(0.1)
    assert state.refused_tasks()[0]["reason"] == "farm_signature_invalid"
    assert state.job(forged.job_id) == {} and not Path(forged.clips[0].output).exists()


def test_2_no_per_job_override_reaches_the_farm(proxx, farm, clip, tmp_path, capsys):
    studio = tmp_path / "studio"
    (studio / "user").mkdir(parents=True)
    (studio / "user" / "review.yaml").write_text(
        f'user_profile_version: "1.1"\nname: {INTENT}\noverrides: true\nconstraints:\n  codecs: [prores]\n'
    )
    out = _folder(tmp_path, "out")
    state = FarmState.connect(farm)
    jobs_before = set(state.client.scan_iter("proxx:farm:job:*"))
    with pytest.raises(SystemExit) as usage:
        main(
            ["submit", "--farm", farm, "--profiles", str(studio), "--profile", INTENT, "--output", str(out), str(clip)]
        )
    assert usage.value.code == 2 and "unrecognized arguments: --profiles" in capsys.readouterr().err
    assert proxx.store.jobs() == [] and set(state.client.scan_iter("proxx:farm:job:*")) == jobs_before

    # The worker's own repository redefines the intent (a quarter-size proxy): it compiles nothing,
    # the JobSpec made here decides (half size).
    spec = proxx.submit(INTENT, [clip], out, farm=farm)
    row = wait_finished(proxx, spec.job_id)
    assert row.state == COMPLETED, row.message
    result = load_result(Path(row.result_path or ""))
    assert {c.name: c.actual for c in result.clips[0].checks}["dimensions"] == "160x90"
    assert result.proxy_profile == spec.proxy_profile == proxx.select(INTENT).canonical.id


def _shown(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    code = main(argv)
    said = capsys.readouterr()
    assert code in (0, 1, 4, 5), (code, said)
    return said.out + said.err


def test_8_on_the_farm_operators_read_the_same_words_as_locally(proxx, farm, clip, tmp_path, capsys):
    """A job that renders, one whose source is gone when the worker checks it (class B there), one
    whose source is damaged mid-file (class C), and intents that cannot be used (class A): `submit`,
    `jobs show` and `jobs list` say the same of each failure on the farm as here, and never a codec,
    container, engine or canonical name."""
    forbidden, _ = forbidden_words(proxx)
    studio = sorted({w for i in proxx.intents() for w in (i.name, i.description) if w}, key=len, reverse=True)
    out, here = _folder(tmp_path, "out"), _folder(tmp_path, "here")
    texts: dict[str, str] = {}
    texts["submit"] = _shown(["submit", "--farm", farm, "--profile", INTENT, "--output", str(out), str(clip)], capsys)
    done = texts["submit"].split()[1]
    gone = shutil.copyfile(clip, tmp_path / "G001_C001.mov")
    missing = create_jobspec(proxx.select(INTENT), [gone], out, utc_now(), proxx.requirements("ffmpeg"))
    proxx.store.add(missing, farm)
    local = {"B": proxx.create_job(INTENT, [gone], here).job_id}
    Path(gone).unlink()
    dispatch(proxx, missing, farm, FarmState.connect(farm))
    damaged = cut_short(clip, _folder(tmp_path, "damaged"))
    texts["submit damaged"] = _shown(["submit", "--farm", farm, "--profile", INTENT, "--output", str(out),
                                      str(damaged)], capsys)  # fmt: skip
    on_the_farm = {"B": missing.job_id, "C": texts["submit damaged"].split()[1]}
    local["C"] = proxx.create_job(INTENT, [damaged], here).job_id
    for job_id in local.values():
        proxx.run_job(job_id)
    for job_id in (done, *on_the_farm.values(), *local.values()):
        wait_finished(proxx, job_id)
        texts[f"jobs show {job_id}"] = _shown(["jobs", "show", job_id], capsys)
    texts["jobs list"] = _shown(["jobs", "list"], capsys)
    # Class A: the farm's `submit` refuses as the local one does, word for word.
    for intent in ("Legacy_ProRes_422", "No Such Intent"):
        refusals = []
        for farm_option in (["--farm", farm], []):
            assert main(["submit", *farm_option, "--profile", intent, "--output", str(out), str(clip)]) == 3
            said = capsys.readouterr()
            refusals.append(said.out + said.err)
        assert refusals[0] == refusals[1] and intent in refusals[0], refusals
        texts[f"submit {intent}"] = refusals[0]

    assert proxx.store.job(done).state == COMPLETED
    for failure_class, job_id in on_the_farm.items():
        farm_row, local_row = proxx.store.job(job_id), proxx.store.job(local[failure_class])
        assert farm_row.failure_class == local_row.failure_class == failure_class
        assert farm_row.reason == local_row.reason
        # The operator's words for the same failure are the same on the farm as here.
        shown_here = _message_lines(texts[f"jobs show {local[failure_class]}"])
        assert _message_lines(texts[f"jobs show {job_id}"]) == shown_here
    for where, text in texts.items():
        for words in studio:
            text = text.replace(words, "")
        assert forbidden.findall(text) == [], (where, text)


def _message_lines(shown: str) -> list[str]:
    """What `jobs show` says of a job, without what differs between any two jobs (ids, times, paths)."""
    return [re.sub(r"\b[0-9a-f]{8,}\b|\d{4}-\d\d-\d\dT[\d:.]+Z?|/\S+", "", line) for line in shown.splitlines()]


def test_6_on_the_web_a_farm_out_of_reach_is_said_as_such_never_genericized(proxx, clip, tmp_path, capsys):
    # The web's retry and cancel of a farm job while its broker is down: the CLI says the farm cannot be
    # reached; the web said "The profile repository or an installed plugin is broken", the wrong thing.
    from fastapi.testclient import TestClient

    from proxx.web.app import create_app
    from proxx.web.roots import MediaRoots, parse_roots
    from proxx.web.service import WebService

    media = tmp_path / "media"
    (media / "out").mkdir(parents=True)
    source = shutil.copyfile(clip, media / "A001_C001.mov")
    with RedisServer() as server:
        cancelled = proxx.submit(INTENT, [source], media / "out", farm=server.url).job_id
        proxx.cancel(cancelled)
        queued = proxx.submit(INTENT, [source], media / "out", farm=server.url).job_id
    assert main(["jobs", "cancel", queued]) == 6
    said = capsys.readouterr().err
    assert "The render farm's broker" in said and "cannot be reached" in said
    web = WebService(proxx, MediaRoots(parse_roots([f"media={media}"]), proxx.beside_outputs))
    with TestClient(create_app(web)) as http:
        for answer in (http.post(f"/api/jobs/{cancelled}/retry"), http.post(f"/api/jobs/{queued}/cancel")):
            detail = answer.json()["detail"]
            assert answer.status_code == 503 and answer.json()["reason"] == "farm_unreachable", detail
            assert "The render farm cannot be reached" in detail and "profile repository" not in detail
            assert "redis://" not in detail  # the broker's address stays in the server log
        token = re.search(r'name="csrf" value="([^"]+)"', http.get("/jobs/new").text)
        assert token is not None
        page = http.post(f"/jobs/{queued}/cancel", data={"csrf": token.group(1)})
        assert page.status_code == 503 and "The render farm cannot be reached" in page.text
    assert proxx.store.job(queued).state == "QUEUED" and len(proxx.store.jobs()) == 2


def test_4_on_the_farm_a_job_cancelled_before_it_started_is_failed_and_the_operator_may_retry_it(
    proxx, clip, tmp_path, capsys
):
    # Under the farm's key (as a facility deploys it), the cancel's end was written unsigned on the
    # farm: the job stayed QUEUED here for ever, said to be ended elsewhere, and could not be retried.
    out = _folder(tmp_path, "out")
    with RedisServer() as server:  # no worker: the job waits QUEUED until the operator cancels it
        job = proxx.submit(INTENT, [clip], out, farm=server.url).job_id
        assert main(["jobs", "cancel", job]) == 0
        assert f"Cancelled by the operator before it started. Job {job} FAILED." in capsys.readouterr().out
        row = proxx.store.job(job)
        assert (row.state, row.failure_class, row.started_at) == ("FAILED", "B", None)
        new, done = proxx.retry(job)
        assert done == 0 and proxx.store.job(new.job_id).state == "QUEUED"


def test_7_on_the_farm_a_job_that_never_ran_has_its_log_as_locally(proxx, farm, clip, tmp_path, monkeypatch):
    # A farm job cancelled before it started, or refused by its worker before it was taken: its result
    # named a job log that was never written, where a local job's log says how it ended.
    def logged(job_id: str) -> str:
        row = proxx.store.job(job_id)
        result = load_result(Path(row.result_path or ""))
        assert row.log_path == result.log_path, job_id
        return Path(result.log_path).read_text(encoding="utf-8")

    local = proxx.create_job(INTENT, [clip], _folder(tmp_path, "local")).job_id
    assert main(["jobs", "cancel", local]) == 0
    assert "Cancelled by the operator before it started." in logged(local)
    with RedisServer() as server:  # no worker: the job waits QUEUED until the operator cancels it
        cancelled = proxx.submit(INTENT, [clip], _folder(tmp_path, "cancelled"), farm=server.url).job_id
        assert main(["jobs", "cancel", cancelled]) == 0
    assert "Cancelled by the operator before it started." in logged(cancelled)
    monkeypatch.delenv("PROXX_FARM_KEY")  # this machine sends it unsigned: the keyed worker refuses it
    refused = proxx.submit(INTENT, [clip], _folder(tmp_path, "refused"), farm=farm).job_id
    assert wait_finished(proxx, refused, timeout=30).reason == "farm_signature_invalid"
    assert "it carries no signature with this farm's key" in logged(refused)


def test_step_4_on_the_farm_a_jobspec_given_to_add_job_enters_the_farm_s_queue(proxx, farm, clip, tmp_path):
    # `Proxx.add_job(spec, executor=broker)`, an integrator's JobSpec for the farm: it was stored as the
    # farm's and never sent, QUEUED here for ever (no local worker takes a farm's job).
    compiled = proxx.select(INTENT)
    spec = create_jobspec(
        compiled, [clip], _folder(tmp_path, "out"), utc_now(), proxx.requirements(compiled.canonical.engine)
    )
    proxx.add_job(spec, executor=farm)
    row = wait_finished(proxx, spec.job_id, timeout=30)
    assert row.state == COMPLETED, row.message


def test_7_on_the_web_operators_see_a_farm_job_s_outcome(proxx, farm, clip, tmp_path):
    # A farm job in the web's media roots (created by `submit --farm`, or a farm job retried from the
    # page): the web never asked the farm, and showed it QUEUED for ever, its proxy long made.
    from fastapi.testclient import TestClient

    from proxx.web.app import create_app
    from proxx.web.roots import MediaRoots, parse_roots
    from proxx.web.service import WebService

    media = tmp_path / "media"
    out = _folder(media.parent, "media") / "out"
    out.mkdir()
    source = shutil.copyfile(clip, media / "A001_C001.mov")
    web = WebService(proxx, MediaRoots(parse_roots([f"media={media}"]), proxx.beside_outputs))
    with TestClient(create_app(web)) as http:
        job_id = proxx.submit(INTENT, [source], out, farm=farm).job_id
        deadline = time.monotonic() + 60
        while (job := http.get(f"/api/jobs/{job_id}").json())["state"] not in ("COMPLETED", "FAILED"):
            assert time.monotonic() < deadline, job["state"]
            time.sleep(0.2)
        assert job["state"] == "COMPLETED" and [c["output"] for c in job["clips"]] == ["media/out/A001_C001.mp4"]
        assert [j["state"] for j in http.get("/api/jobs").json()] == ["COMPLETED"]


def test_7_on_the_web_a_farm_job_that_may_never_run_says_why_as_jobs_show_does(proxx, clip, tmp_path, capsys):
    # A farm job no worker takes: `jobs list` and `jobs show` say why it may never run; the web
    # showed it QUEUED in silence.
    from fastapi.testclient import TestClient

    from proxx.web.app import create_app
    from proxx.web.roots import MediaRoots, parse_roots
    from proxx.web.service import WebService

    media = tmp_path / "media"
    (media / "out").mkdir(parents=True)
    source = shutil.copyfile(clip, media / "A001_C001.mov")
    with RedisServer() as server:  # no worker takes this farm's jobs
        job_id = proxx.submit(INTENT, [source], media / "out", farm=server.url).job_id
        assert main(["jobs", "show", job_id]) == 0
        said = capsys.readouterr().out
        assert "Still QUEUED: no render farm worker that takes this kind of job is running now" in said
        web = WebService(proxx, MediaRoots(parse_roots([f"media={media}"]), proxx.beside_outputs))
        with TestClient(create_app(web)) as http:
            note = http.get(f"/api/jobs/{job_id}").json()["note"]
            assert note.startswith("Still QUEUED: no render farm worker") and note in said
            assert [j["note"] for j in http.get("/api/jobs").json()] == [note]
            for page in (f"/jobs/{job_id}", "/jobs"):
                assert note in html.unescape(http.get(page).text), page
