"""The render farm with a real redis-server and real Celery workers (`proxx farm worker` processes).

Worker A (started as `celery -A proxx_farm.app worker`) takes FFmpeg jobs only and does not even
have the `slowcopy` test engine installed; worker B (started as `proxx farm worker`)
has both (its plugin folder is on its Python path, as an installed distribution). Both map
<tmp>/Volumes/Media to <tmp>/mnt/media. The profile repository that defines the test intent exists
only on the submitting side: the workers run what the JobSpec says and compile nothing.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from proxx import PreJobError, Proxx
from proxx.cli import main
from proxx.compile.select import select
from proxx.jobspec.model import create_jobspec, utc_now
from proxx.media.samples import make_clip
from proxx.pluginmanager import build_plugin_manager, plugin_manager
from proxx.result import load_result
from proxx.roots import Roots
from proxx.schemas import JOB_RESULT, violations
from proxx.store import COMPLETED, FAILED, JobRow, Store
from proxx_farm.state import FarmState
from proxx_farm.submit import dispatch
from proxx_farm.testing import FarmWorker, RedisServer, wait_finished
from tests.benchmarks import run_benchmark

PLUGIN_DIR = Path(__file__).parent / "farm_plugin"
LEASE = 3.0
SLOW_INTENT = """user_profile_version: "1.1"
name: Slow Copy
constraints:
  codecs: [h264]
  resolution: [source]
  engine_preference: [slowcopy]
"""


@pytest.fixture(scope="module")
def farm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    root = tmp_path_factory.mktemp("farm")
    (root / "mnt" / "media").mkdir(parents=True)
    mapping = f"{root}/Volumes/Media={root}/mnt/media"
    env = {
        "PROXX_FARM_LEASE_SECONDS": str(LEASE),
        "PROXX_FARM_VISIBILITY_TIMEOUT": "3",
        "PROXX_BUNDLED_PROFILES": "0",  # nothing to compile from, were a worker to try
        "PROXX_PROFILES": "",
    }
    with RedisServer() as server:
        a = FarmWorker(server.url, "A", ("ffmpeg",), home=root / "home-a", map_paths=[mapping],
                       env={**env, "PROXX_LOAD_PLUGINS": "ffmpeg"}, via_celery=True)  # fmt: skip
        b = FarmWorker(server.url, "B", ("ffmpeg", "slowcopy"), home=root / "home-b", map_paths=[mapping],
                       env={**env, "PYTHONPATH": os.pathsep.join([str(PLUGIN_DIR), os.environ.get("PYTHONPATH", "")])})  # fmt: skip
        try:
            a.wait_ready()
            b.wait_ready()
            yield {"broker": server.url, "root": root, "workers": {"A": a, "B": b}, "env": env, "mapping": mapping}
        finally:
            a.stop()
            b.stop()


@pytest.fixture
def proxx(proxx_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Proxx]:
    monkeypatch.syspath_prepend(str(PLUGIN_DIR))  # the submitting machine has the test engine too
    repo = tmp_path / "repo"
    (repo / "user").mkdir(parents=True)
    (repo / "user" / "slow_copy.yaml").write_text(SLOW_INTENT)
    yield Proxx.open(profiles=[repo], pm=build_plugin_manager())
    # The process-wide manager, if built meanwhile, holds the test engine: the tests after this one
    # (the conformance kit's "Studio Same Size" compiled to it) must not find it.
    plugin_manager.cache_clear()


def wait_rendering(state: FarmState, job_id: str, timeout: float = 60.0) -> None:
    """Until a farm worker runs the job and has reported progress."""
    deadline = time.monotonic() + timeout
    while not (state.job(job_id).get("state") == "RUNNING" and float(state.job(job_id).get("progress") or 0) > 0):
        assert time.monotonic() < deadline, f"job {job_id} never started rendering"
        time.sleep(0.1)


def worker_name(row: JobRow) -> str:
    return (row.worker_id or "").split(":")[0]


def test_jobs_route_by_engine_with_the_whole_jobspec(farm, proxx, tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    state = FarmState.connect(farm["broker"])
    # Keep B busy (it takes one job at a time), so that the FFmpeg job can only go to A.
    busy = proxx.submit("Slow Copy", [make_clip(tmp_path / "C0.slow3.mov", frames=4)], out, farm=farm["broker"])
    deadline = time.monotonic() + 60
    while state.job(busy.job_id).get("state") != "RUNNING":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    ffmpeg_job = proxx.submit("Review H.264", [make_clip(tmp_path / "A001.mov")], out, farm=farm["broker"])
    copies = [busy] + [proxx.submit("Slow Copy", [make_clip(tmp_path / f"C{n}.mov", frames=4)], out, farm=farm["broker"])
                       for n in (1, 2)]  # fmt: skip
    # Dispatched jobs are never claimed by a local worker.
    assert proxx.store.claim("local-worker", lease=30) is None

    rows = [wait_finished(proxx, spec.job_id) for spec in [ffmpeg_job, *copies]]
    assert [r.state for r in rows] == [COMPLETED] * 4, [r.message for r in rows]
    assert worker_name(rows[0]) == "A"
    assert {worker_name(r) for r in rows[1:]} == {"B"}  # A has no slowcopy engine and never got one
    for spec, row in zip([ffmpeg_job, *copies], rows, strict=True):
        result = load_result(Path(row.result_path))
        assert result.jobspec_digest == proxx.store.stored_digest(spec.job_id)
        assert Path(result.clips[0].output).exists()
        assert result.worker_id == row.worker_id
        assert Path(row.log_path).read_text()
    # Exporters run where the job ran, those installed on that worker (the exporter tutorial says so):
    # A loads ffmpeg alone, so its job has no exporter outcome; B has Fabric, which indexed in B's home.
    exported = [[e.exporter for e in load_result(Path(row.result_path)).exports] for row in rows]
    assert exported == [[], ["fabric"], ["fabric"], ["fabric"]]
    assert (farm["root"] / "home-b" / "fabric.db").exists() and not (farm["root"] / "home-a" / "fabric.db").exists()
    # The workers never saw the intent's repository: the JobSpec travelled whole, versions included.
    assert copies[0].requires == {"proxx": copies[0].requires["proxx"], "proxx-slowcopy": "1.0"}

    capsys.readouterr()
    assert main(["jobs", "list"]) == 0
    listing = capsys.readouterr().out
    states = {line.split()[0]: line.split()[1] for line in listing.splitlines()[1:]}  # short id -> state
    assert all(states[spec.job_id[-8:]] == "COMPLETED" for spec in [ffmpeg_job, *copies])


def test_progress_of_a_running_farm_job_shows_in_the_store(farm, proxx, tmp_path):
    src = make_clip(tmp_path / "B001.slow4.mov", frames=4)
    (tmp_path / "out").mkdir()
    spec = proxx.submit("Slow Copy", [src], tmp_path / "out", farm=farm["broker"])
    deadline = time.monotonic() + 60
    while True:
        proxx.refresh()
        row = proxx.store.job(spec.job_id)
        if row.state == "RUNNING" and row.progress > 0:
            break
        assert row.state in ("QUEUED", "RUNNING"), row.message
        assert time.monotonic() < deadline
        time.sleep(0.2)
    assert worker_name(row) == "B"
    assert 0 < row.progress < 1
    # Let it finish so that later tests find the worker free.
    assert wait_finished(proxx, spec.job_id).state == COMPLETED


def test_paths_are_mapped_for_execution_and_recorded_while_the_jobspec_stays(farm, proxx):
    root = farm["root"]
    make_clip(root / "mnt" / "media" / "D001.mov", frames=4)
    (root / "mnt" / "media" / "proxies").mkdir()
    as_named = root / "Volumes" / "Media"  # how the submitting host mounts the share: absent here
    spec = proxx.submit("Slow Copy", [as_named / "D001.mov"], as_named / "proxies", farm=farm["broker"])
    row = wait_finished(proxx, spec.job_id)
    assert row.state == COMPLETED, row.message
    assert (root / "mnt" / "media" / "proxies" / "D001.mov").exists()
    assert not as_named.exists()
    stored = proxx.store.spec(spec.job_id)  # digest-checked: unchanged
    assert stored.clips[0].source == str(as_named / "D001.mov")
    result = load_result(Path(row.result_path))
    mapping = result.engine.details["path_mapping"]
    assert mapping["rules"] == [{"from": f"{root}/Volumes/Media", "to": f"{root}/mnt/media"}]
    assert mapping["worker_paths"][0]["output"] == str(root / "mnt" / "media" / "proxies" / "D001.mov")
    assert result.clips[0].output == str(as_named / "proxies" / "D001.mov")  # as the JobSpec names it
    assert violations(json.loads(Path(row.result_path).read_text()), JOB_RESULT) == []


def test_a_mapped_job_s_outcome_is_told_in_the_jobspec_s_paths_and_a_re_run_finds_its_proxy(farm, proxx, capsys):
    # The submitting host mounts the share too, where the JobSpec names it: its operator was shown the
    # worker's paths ("Proxy: <tmp>/mnt/media/..."), and a re-run of the card, its proxy there, was a
    # new job refused in class B ("Output path ... already exists") instead of nothing to do.
    root = farm["root"]
    as_named = root / "Volumes" / "Media"
    make_clip(root / "mnt" / "media" / "F001.mov", frames=4)
    (root / "mnt" / "media" / "rerun").mkdir()
    as_named.parent.mkdir(exist_ok=True)
    as_named.symlink_to(root / "mnt" / "media")
    try:
        capsys.readouterr()
        argv = ["--profile", "Review H.264", "--output", str(as_named / "rerun"), str(as_named / "F001.mov")]
        assert main(["submit", "--farm", farm["broker"], *argv, "--follow"]) == 0
        said = capsys.readouterr().out
        assert f"Proxy:  {as_named / 'rerun' / 'F001.mp4'}\n" in said, said
        job_id = proxx.store.jobs()[0].job_id
        result = load_result(Path(proxx.store.job(job_id).result_path or ""))
        assert [(c.source, c.output) for c in result.clips] == [
            (str(as_named / "F001.mov"), str(as_named / "rerun" / "F001.mp4"))
        ]
        worked = result.engine.details["path_mapping"]["worker_paths"]
        assert worked == [{"index": 0, "source": str(root / "mnt" / "media" / "F001.mov"),
                           "output": str(root / "mnt" / "media" / "rerun" / "F001.mp4")}]  # fmt: skip
        assert main(["run", *argv]) == 0
        assert "no job was created" in capsys.readouterr().out
        assert [row.job_id for row in proxx.store.jobs()] == [job_id]
    finally:
        as_named.unlink()


def _stored_spec(proxx: Proxx, tmp_path: Path, requires: dict[str, str], broker: str):
    src = make_clip(tmp_path / "E001.mov", frames=4)
    (tmp_path / "out").mkdir()
    spec = create_jobspec(proxx.select("Slow Copy"), [src], tmp_path / "out", utc_now(), requires)
    proxx.store.add(spec, broker)
    return spec


def test_a_version_mismatch_is_refused_in_class_b(farm, proxx, tmp_path):
    spec = _stored_spec(proxx, tmp_path, {"proxx": "0.0.1", "proxx-slowcopy": "1.0"}, farm["broker"])
    dispatch(proxx, spec, farm["broker"], FarmState.connect(farm["broker"]))
    row = wait_finished(proxx, spec.job_id)
    assert (row.state, row.failure_class, row.reason) == (FAILED, "B", "version_mismatch")
    assert "requires proxx 0.0.1" in (row.message or "") and "nothing was executed" in (row.message or "")
    assert not Path(spec.clips[0].output).exists()
    result = load_result(Path(row.result_path))
    assert [c.state for c in result.clips] == ["not_run"]
    # The operator's retry is a new job, compiled afresh (current versions), back on the same farm.
    retried, done = proxx.retry(spec.job_id)
    assert done == 0 and retried.retry_of == spec.job_id
    assert proxx.store.dispatched()[retried.job_id] == farm["broker"]
    assert wait_finished(proxx, retried.job_id).state == COMPLETED


def test_a_job_refused_by_its_workers_checks_is_never_seen_running(farm, proxx, tmp_path):
    """Class B on the farm: the worker reserves the job (QUEUED, its lease held), checks it, and a job
    with missing sources goes QUEUED -> FAILED listing every problem. An observer polling the farm
    record, and the submitting machine's mirror, never see it RUNNING."""
    sources = [make_clip(tmp_path / f"M00{n}.mov", frames=2) for n in (1, 2)]
    (tmp_path / "out").mkdir()
    spec = create_jobspec(proxx.select("Slow Copy"), sources, tmp_path / "out", utc_now(), proxx.requirements("ffmpeg"))
    proxx.store.add(spec, farm["broker"])
    for source in sources:  # gone before the worker looks (a card taken out after submission)
        source.unlink()
    state = FarmState.connect(farm["broker"])
    seen: list[str] = []
    observer = threading.Thread(target=_observe, args=(state, spec.job_id, seen), daemon=True)
    observer.start()
    dispatch(proxx, spec, farm["broker"], state)
    row = wait_finished(proxx, spec.job_id)
    observer.join(timeout=30)
    assert (row.state, row.failure_class) == (FAILED, "B"), row.message
    assert "RUNNING" not in seen and seen[-1] == FAILED, seen
    assert "started_at" not in state.job(spec.job_id)
    assert [(t.from_state, t.to_state) for t in proxx.store.transitions(spec.job_id)] == [
        (None, "QUEUED"),
        ("QUEUED", FAILED),
    ]
    assert (row.message or "").startswith("2 problems, nothing was run:")
    assert all(str(source) in (row.message or "") for source in sources)
    assert [c.state for c in load_result(Path(row.result_path or "")).clips] == ["not_run", "not_run"]


def _observe(state: FarmState, job_id: str, seen: list[str], timeout: float = 90.0) -> None:
    """Record every state the farm record of `job_id` passes through, until it ends."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        now = state.client.hget(f"proxx:farm:job:{job_id}", "state")
        if now and (not seen or seen[-1] != now):
            seen.append(str(now))
        if now in (COMPLETED, FAILED):
            return
        time.sleep(0.001)


def test_an_altered_jobspec_is_refused(farm, proxx, tmp_path):
    spec = _stored_spec(proxx, tmp_path, {}, farm["broker"])
    altered = json.loads(spec.to_json())
    altered["clips"][0]["output"] = str(tmp_path / "elsewhere.mov")
    dispatch(proxx, spec, farm["broker"], FarmState.connect(farm["broker"]), json.dumps(altered))
    row = wait_finished(proxx, spec.job_id)
    assert (row.state, row.failure_class, row.reason) == (FAILED, "B", "JobSpec digest mismatch")
    assert not (tmp_path / "elsewhere.mov").exists() and not Path(spec.clips[0].output).exists()


def test_watch_folders_and_the_jobspec_inbox_feed_the_farm(farm, proxx, tmp_path):
    from proxx.watch.watcher import JobSpecInbox, MediaWatcher

    card = tmp_path / "card"
    make_clip(card / "H001.mov", frames=4)
    (event,) = MediaWatcher(proxx, card, "Slow Copy", None, settle=0.0, farm=farm["broker"]).poll()
    row = wait_finished(proxx, event.job_id)
    assert row.state == COMPLETED and worker_name(row) == "B"
    assert (card / "Proxy" / "H001.mov").exists()  # beside the media, where Resolve looks

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    src = make_clip(tmp_path / "I001.mov", frames=4)
    (tmp_path / "out").mkdir()
    compiled = proxx.select("Slow Copy")
    spec = create_jobspec(compiled, [src], tmp_path / "out", utc_now(), proxx.requirements(compiled.canonical.engine))
    (inbox / "from-pipeline.json").write_text(spec.to_json())
    (event,) = JobSpecInbox(proxx, inbox, Roots([tmp_path]), settle=0.0, farm=farm["broker"]).poll()
    assert event.outcome == "queued" and event.job_id == spec.job_id
    assert wait_finished(proxx, spec.job_id).state == COMPLETED
    assert proxx.store.spec(spec.job_id) == spec


def test_a_worker_without_the_engine_refuses_to_start(proxx_home, capsys):
    assert main(["farm", "worker", "--engines", "ffmpeg,resolve"]) == 6
    assert "cannot take resolve jobs" in capsys.readouterr().err


def test_submit_goes_to_the_farm_when_configured(farm, proxx_home, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PROXX_FARM_BROKER", farm["broker"])
    src = make_clip(tmp_path / "F001.mov", frames=4)
    (tmp_path / "out").mkdir()
    assert main(["submit", "--profile", "Review H.264", "--output", str(tmp_path / "out"), str(src)]) == 0
    printed = capsys.readouterr().out
    assert "QUEUED on the render farm" in printed
    job_id = printed.split()[1]
    proxx = Proxx.open()
    assert wait_finished(proxx, job_id).state == COMPLETED
    assert main(["jobs", "show", job_id]) == 0
    assert "COMPLETED" in capsys.readouterr().out


def test_a_lost_prefork_child_is_given_back_refused_and_failed(farm, proxx, tmp_path):
    """Celery's reject_on_worker_lost hands the task of a killed pool process straight back; the
    claim refuses it, and the lease fails the job. (A Redis database of its own keeps it apart.)"""
    broker = farm["broker"].rsplit("/", 1)[0] + "/1"
    pool = FarmWorker(broker, "P", ("slowcopy",), home=tmp_path / "home-p", concurrency=2,
                      env={**farm["env"], "PYTHONPATH": str(PLUGIN_DIR)})  # fmt: skip
    try:
        pool.wait_ready()
        src = make_clip(tmp_path / "G001.slow30.mov", frames=4)
        (tmp_path / "out").mkdir()
        spec = proxx.submit("Slow Copy", [src], tmp_path / "out", farm=broker)
        state = FarmState.connect(broker)
        deadline = time.monotonic() + 60
        while float(state.job(spec.job_id).get("progress") or 0) == 0:
            assert time.monotonic() < deadline
            time.sleep(0.1)
        child = int(state.job(spec.job_id)["worker_id"].split(":")[1])
        assert child != pool.process.pid
        os.kill(child, 9)
        deadline = time.monotonic() + 30
        while int(state.job(spec.job_id).get("refused_deliveries") or 0) < 1:
            assert time.monotonic() < deadline, "the lost task was not given back"
            time.sleep(0.1)
        row = wait_finished(proxx, spec.job_id, timeout=30)
        assert (row.state, row.reason) == (FAILED, "worker lost")
        assert not Path(spec.clips[0].output).exists()
        assert pool.process.poll() is None  # the worker itself lives on
    finally:
        pool.stop()


def test_a_job_declared_lost_while_it_runs_is_never_published(farm, proxx, tmp_path):
    """A worker cut off from Redis for longer than its lease and its grace (simulated: a reaper's
    verdict written while it renders) renders on, but never puts the output under its final name;
    its own record of what happened then replaces the reaper's guess."""
    src = make_clip(tmp_path / "L001.slow3.mov", frames=4)
    (tmp_path / "out").mkdir()
    spec = proxx.submit("Slow Copy", [src], tmp_path / "out", farm=farm["broker"])
    state = FarmState.connect(farm["broker"])
    wait_rendering(state, spec.job_id)
    state.client.hset(f"proxx:farm:job:{spec.job_id}", mapping={"state": "FAILED", "reason": "worker lost"})
    state.client.delete(f"proxx:farm:alive:{spec.job_id}")
    assert wait_finished(proxx, spec.job_id).reason in ("worker lost", "worker_lost")

    worker_store = Store(farm["root"] / "home-b" / "farm-worker" / "proxx.db")  # only B has slowcopy
    try:
        deadline = time.monotonic() + 30
        while worker_store.job(spec.job_id).state == "RUNNING":  # B renders on, then decides
            assert time.monotonic() < deadline
            time.sleep(0.1)
        result = load_result(Path(worker_store.job(spec.job_id).result_path or ""))
    finally:
        worker_store.close()
    assert result.failure is not None and result.failure.reason == "worker_lost", result.failure
    assert not Path(spec.clips[0].output).exists()
    assert result.clips[0].partial_output and Path(result.clips[0].partial_output).exists()
    deadline = time.monotonic() + 10
    while state.job(spec.job_id)["reason"] != "worker_lost":  # the worker's own word replaces the guess
        assert time.monotonic() < deadline, state.job(spec.job_id)
        time.sleep(0.1)


def test_a_machine_without_an_engine_submits_its_jobs_to_a_farm_that_has_it(farm, proxx_home, tmp_path, monkeypatch):
    monkeypatch.setenv("PROXX_LOAD_PLUGINS", "ffmpeg,farm")  # this workstation has no slowcopy plugin
    repo = tmp_path / "repo"
    (repo / "user").mkdir(parents=True)
    (repo / "user" / "slow_copy.yaml").write_text(SLOW_INTENT)
    (repo / "canonical").mkdir()
    canonical = PLUGIN_DIR / "proxx_slowcopy" / "canonical" / "slowcopy_h264_source.yaml"
    (repo / "canonical" / canonical.name).write_text(canonical.read_text())
    here = Proxx.open(profiles=[repo], pm=build_plugin_manager())
    assert "slowcopy" not in here.engines
    src = make_clip(tmp_path / "W001_C001.mov", frames=4)
    (tmp_path / "out").mkdir()
    with pytest.raises(PreJobError, match="it needs a renderer that is not installed here"):
        here.create_job("Slow Copy", [src], tmp_path / "out")  # to run here: class A, as always

    assert {"ffmpeg", "slowcopy"} <= FarmState.connect(farm["broker"]).engines()  # A: ffmpeg; B: both
    spec = here.submit("Slow Copy", [src], tmp_path / "out", farm=farm["broker"])
    assert spec.engine == "slowcopy" and set(spec.requires) == {"proxx"}
    row = wait_finished(here, spec.job_id)
    assert row.state == COMPLETED, row.message
    assert Path(spec.clips[0].output).exists()


def test_a_farm_inbox_queues_only_jobspecs_some_worker_of_the_farm_takes(farm, proxx_home, tmp_path, monkeypatch):
    from proxx.watch.watcher import JobSpecInbox

    monkeypatch.setenv("PROXX_LOAD_PLUGINS", "ffmpeg,farm")  # this machine has no slowcopy plugin
    repo = tmp_path / "repo"
    (repo / "user").mkdir(parents=True)
    (repo / "canonical").mkdir()
    (repo / "user" / "slow_copy.yaml").write_text(SLOW_INTENT)
    canonical = PLUGIN_DIR / "proxx_slowcopy" / "canonical" / "slowcopy_h264_source.yaml"
    (repo / "canonical" / canonical.name).write_text(canonical.read_text())
    (repo / "user" / "nowhere.yaml").write_text(
        SLOW_INTENT.replace("Slow Copy", "Nowhere").replace("slowcopy", "nowhere")
    )
    (repo / "canonical" / "nowhere.yaml").write_text(canonical.read_text().replace("slowcopy", "nowhere"))
    src = make_clip(tmp_path / "I001.mov", frames=4)
    (tmp_path / "out").mkdir()
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    here = Proxx.open(profiles=[repo], pm=build_plugin_manager())
    for intent in ("Slow Copy", "Nowhere"):  # as a machine with the engine installed compiles it
        compiled = select(here.current_repository(), intent, engines=None)
        spec = create_jobspec(
            compiled, [src], tmp_path / "out", utc_now(), here.requirements(compiled.canonical.engine)
        )
        (inbox / f"{intent}.json").write_text(spec.to_json())
    events = {
        e.path.stem: e for e in JobSpecInbox(here, inbox, Roots([tmp_path]), settle=0.0, farm=farm["broker"]).poll()
    }
    assert events["Slow Copy"].outcome == "queued"  # worker B takes slowcopy
    assert events["Nowhere"].outcome == "failed" and events["Nowhere"].job_id is None
    assert "it needs a renderer that is not installed here" in events["Nowhere"].message
    assert [row.job_id for row in here.store.jobs()] == [events["Slow Copy"].job_id]
    assert wait_finished(here, events["Slow Copy"].job_id).state == COMPLETED


def test_sigkill_mid_encode_fails_the_job_once_and_never_reruns_it(farm, proxx, tmp_path):
    """Last in this module: it kills one of the module's workers."""
    victim_b = farm["workers"]["B"]
    extra = FarmWorker(farm["broker"], "V", ("slowcopy",), home=tmp_path / "home-v",
                       env={**farm["env"], "PYTHONPATH": str(PLUGIN_DIR)})  # fmt: skip
    try:
        extra.wait_ready()
        src = make_clip(tmp_path / "K001.slow30.mov", frames=4)
        (tmp_path / "out").mkdir()
        spec = proxx.submit("Slow Copy", [src], tmp_path / "out", farm=farm["broker"])
        state = FarmState.connect(farm["broker"])
        wait_rendering(state, spec.job_id)
        running_on = state.job(spec.job_id)["worker_id"].split(":")[0]
        victim = victim_b if running_on == "B" else extra
        victim.kill()
        killed_at = time.monotonic()
        while state.job(spec.job_id).get("state") == "RUNNING":  # the other worker's reaper decides
            assert time.monotonic() - killed_at < 30
            time.sleep(0.05)
        to_failed = time.monotonic() - killed_at
        print(f"worker death -> FAILED in {to_failed:.2f} s (lease {LEASE} s)")
        assert to_failed < LEASE * 3 + 2  # `lost_after`: a lease, a grace of another, a reaper pass

        row = wait_finished(proxx, spec.job_id)
        assert (row.state, row.failure_class, row.reason) == (FAILED, "C", "worker lost")
        assert f"Worker {running_on}:" in (row.message or "")
        # Celery gives the unacknowledged task back (visibility timeout 3 s); the surviving worker
        # refuses it instead of running the job a second time.
        deadline = time.monotonic() + 30
        while int(state.job(spec.job_id).get("refused_deliveries") or 0) < 1:
            assert time.monotonic() < deadline, "the lost task was never delivered again"
            time.sleep(0.2)
        time.sleep(1)
        assert state.job(spec.job_id)["state"] == FAILED
        assert not Path(spec.clips[0].output).exists()  # never a final name
        assert proxx.store.transitions(spec.job_id)[-1].to_state == FAILED
    finally:
        extra.stop()


def test_the_worker_lost_benchmark_runs():
    out = run_benchmark("farm_worker_lost.py", "--runs", "1", timeout=300)
    assert "killed mid-encode -> FAILED 'worker lost' in" in out


def test_the_throughput_benchmark_runs():
    options = ["--clips", "2", "--frames", "4", "--size", "320x180", "--runs", "1"]
    out = run_benchmark("farm_throughput.py", *options, timeout=300)
    assert "each of 2 jobs started once and published once: True" in out and "farm / bare:" in out, out
    assert "proxx's own CPU a job: the workers" in out and "the workers' peak memory" in out, out


def test_a_farm_password_is_never_stored_and_mirroring_takes_it_from_the_environment(
    proxx_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = "s3cret-Pa55word"
    monkeypatch.delenv("PROXX_FARM_BROKER", raising=False)
    with RedisServer(password=secret) as server:
        src = make_clip(tmp_path / "A001_C001.mov", frames=2)
        spec = Proxx.open().submit("Review H.264", [src], tmp_path, farm=server.url)
        stored = Proxx.open().store.dispatched()[spec.job_id]
        assert stored == server.url.replace(secret, "***")
        for file in proxx_home.glob("proxx.db*"):  # the database and its write-ahead log
            assert secret.encode() not in file.read_bytes(), file.name
        FarmState.connect(server.url).claim(spec.job_id, "farm-host:1", lease=60)  # a farm worker took it

        store = Proxx.open().store
        assert store.job(spec.job_id).state == "QUEUED"  # password unknown here: left alone, and said
        assert any("needs its password: set PROXX_FARM_BROKER" in problem for problem in store.refresh_problems)
        monkeypatch.setenv("PROXX_FARM_BROKER", server.url)
        assert Proxx.open().store.job(spec.job_id).state == "RUNNING"  # mirrored with the password from there


def test_a_mirrored_farm_job_keeps_the_time_the_farm_finished_it(proxx_home: Path, tmp_path: Path) -> None:
    with RedisServer() as server:
        spec = Proxx.open().submit(
            "Review H.264", [make_clip(tmp_path / "A001.mov", frames=2)], tmp_path, farm=server.url
        )
        state = FarmState.connect(server.url)
        assert state.claim(spec.job_id, "farm-host:1", lease=60)
        assert state.finish(spec.job_id, "farm-host:1", {"state": COMPLETED})
        # The submitting machine mirrors an hour later: the farm's times stand, not the mirror's.
        started, finished = "2026-11-29T09:00:00.000Z", "2026-11-29T09:00:05.250Z"
        state.client.hset(f"proxx:farm:job:{spec.job_id}", mapping={"started_at": started, "finished_at": finished})
        store = Proxx.open().store
        row = store.job(spec.job_id)
    assert (row.state, row.started_at, row.finished_at) == (COMPLETED, started, finished)
    assert [(t.to_state, t.at) for t in store.transitions(spec.job_id)][-2:] == [
        ("RUNNING", started),
        (COMPLETED, finished),
    ]


def test_jobs_list_and_show_say_when_farm_states_could_not_be_refreshed(
    proxx_home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with RedisServer() as server:
        spec = Proxx.open().submit(
            "Review H.264", [make_clip(tmp_path / "A001.mov", frames=2)], tmp_path, farm=server.url
        )
        assert FarmState.connect(server.url).claim(spec.job_id, "farm-host:1", lease=60)
        assert main(["jobs", "list"]) == 0
        assert "could not be refreshed" not in capsys.readouterr().err
        server.stop()  # the broker goes away: the states shown are the last known, and said to be
        assert main(["jobs", "list"]) == 0
        listed = capsys.readouterr()
        assert "RUNNING" in listed.out
        assert "Note: render farm states could not be refreshed" in listed.err
        assert "last known state" in listed.err
        assert main(["jobs", "show", spec.job_id]) == 0
        assert "could not be refreshed" in capsys.readouterr().err
