"""Watch folders and the JobSpec inbox, polled with real files (and real ffmpeg for the one job run)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from proxx import Proxx
from proxx.cli import main
from proxx.jobspec.model import create_jobspec, utc_now
from proxx.media.samples import make_clip
from proxx.roots import Roots
from proxx.store import COMPLETED, FAILED, QUEUED
from proxx.watch.scan import Settler
from proxx.watch.watcher import JobSpecInbox, MediaWatcher, watch
from proxx.worker import work
from tests.long_clip import make_long_clip

INTENT = "Review H.264"


def test_a_file_settles_only_once_it_stopped_growing(tmp_path):
    path = tmp_path / "A001.mov"
    path.write_bytes(b"x" * 10)
    settler = Settler(1.0)
    assert settler.observe(path, now=0.0) is None
    with path.open("ab") as handle:
        handle.write(b"more")
    assert settler.observe(path, now=0.5) is None  # grew: the clock starts again
    assert settler.observe(path, now=1.2) is None  # unchanged for 0.7 s only
    assert settler.pending == 1
    stat = settler.observe(path, now=1.6)
    assert stat is not None and stat.st_size == 14
    assert settler.pending == 0


def test_media_files_become_jobs_once_and_proxies_go_beside_them(proxx_home, tmp_path):
    card = tmp_path / "card"
    make_clip(card / "A001.mov", frames=4)
    make_clip(card / "day2" / "B001.mov", frames=4)
    (card / ".A002.mov").write_bytes(b"hidden")  # hidden: skipped
    (card / "notes.txt").write_text("not media")
    (card / "C001.mov.part").write_bytes(b"still copying")
    (card / "D001.proxx-partial-1a2b3c4d.mov").write_bytes(b"proxx's own temporary")
    (card / ".cache").mkdir()
    (card / ".cache" / "E001.mov").write_bytes(b"inside a hidden folder")

    proxx = Proxx.open()
    watcher = MediaWatcher(proxx, card, INTENT, None, settle=0.2)
    events = []
    assert watch(watcher, interval=0.05, once=True, on_event=events.append) == 2
    skipped = {e.path.name: e.message for e in events if e.outcome == "skipped"}
    assert skipped == {  # said once each; hidden files silently
        "notes.txt": "not a video file, not a camera clip",
        "C001.mov.part": "still being written (a partial file)",
        "D001.proxx-partial-1a2b3c4d.mov": "still being written (a partial file)",
    }
    events = [e for e in events if e.outcome != "skipped"]
    assert sorted(e.path.name for e in events) == ["A001.mov", "B001.mov"]
    jobs = {e.path.name: proxx.store.spec(e.job_id) for e in events}
    assert jobs["B001.mov"].output_directory == str(card / "day2" / "Proxy")
    assert all(proxx.store.job(e.job_id).state == QUEUED for e in events)

    assert work(proxx, once=True) == 2
    assert all(proxx.store.job(e.job_id).state == COMPLETED for e in events)
    assert (card / "Proxy").is_dir() and list((card / "Proxy").iterdir())

    # A restart (new process state, same PROXX_HOME): nothing is queued again, and proxies are not media.
    again = MediaWatcher(Proxx.open(), card, INTENT, None, settle=0.0)
    assert [e.outcome for e in again.poll()] == ["skipped"] * 3  # a new process says it again, once
    make_clip(card / "A003.mov", frames=4)
    assert [e.path.name for e in again.poll()] == ["A003.mov"]
    assert again.poll() == []


def test_the_watch_command_with_an_output_folder(proxx_home, tmp_path, capsys):
    folder = tmp_path / "in"
    out = tmp_path / "out"
    out.mkdir()
    make_clip(folder / "A001.mov", frames=4)
    args = ["watch", str(folder), "--profile", INTENT, "--output", str(out), "--once", "--settle", "0.1",
            "--interval", "0.05"]  # fmt: skip
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert printed.splitlines()[0] == (
        f"Watching '{folder}' for media with intent '{INTENT}'; proxies go to '{out}'; "
        "jobs wait for `proxx worker` or `proxx serve` (or watch with --run)."
    )
    assert "QUEUED  " in printed and "A001.mov as job job-" in printed and "1 file(s) handled" in printed
    assert main(args) == 0
    assert "0 file(s) handled" in capsys.readouterr().out
    assert main(["watch", str(folder), "--profile", "No Such Intent", "--output", str(out), "--once"]) == 3


def test_the_jobspec_inbox_queues_valid_jobspecs_and_rejects_the_rest(proxx_home, tmp_path):
    proxx = Proxx.open()
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    src = make_clip(tmp_path / "A001.mov", frames=4)
    (tmp_path / "out").mkdir()
    spec = create_jobspec(proxx.select(INTENT), [src], tmp_path / "out", utc_now(), proxx.requirements("ffmpeg"))
    (inbox / "good.json").write_text(spec.to_json())
    broken = json.loads(spec.to_json())
    del broken["clips"]
    broken["job_id"] = "job-20260101T000000Z-00000000"
    (inbox / "no_clips.json").write_text(json.dumps(broken))
    (inbox / "garbage.json").write_text("{not json")
    (inbox / "readme.txt").write_text("ignored")

    events = {e.path.name: e for e in JobSpecInbox(proxx, inbox, Roots([tmp_path]), settle=0.0).poll()}
    assert events["good.json"].outcome == "queued" and events["good.json"].job_id == spec.job_id
    assert proxx.store.spec(spec.job_id) == spec  # queued unchanged
    assert proxx.store.job(spec.job_id).state == QUEUED
    assert (inbox / "queued" / "good.json").exists()
    assert events["no_clips.json"].outcome == "failed"
    assert events["no_clips.json"].failure_class == events["garbage.json"].failure_class == "B"
    assert events["good.json"].failure_class is None
    error = (inbox / "failed" / "no_clips.error.txt").read_text()
    assert "clips" in error
    assert (inbox / "failed" / "no_clips.json").exists()
    assert "not readable JSON" in (inbox / "failed" / "garbage.error.txt").read_text()
    assert (inbox / "readme.txt").exists()

    (inbox / "again.json").write_text(spec.to_json())  # the same JobSpec twice is queued once
    (event,) = JobSpecInbox(proxx, inbox, Roots([tmp_path]), settle=0.0).poll()
    assert event.outcome == "failed" and "already exists" in event.message and event.failure_class == "B"


def test_watch_once_ends_with_the_exit_code_of_the_worst_file(proxx_home, tmp_path, capsys):
    """A script draining an inbox or a folder with --once learns that some files failed, and how:
    as `worker --once`, the worst failure's exit code (4 for class B), 0 when nothing failed."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "garbage.json").write_text("{not json")
    args = ["watch", str(inbox), "--jobspecs", "--root", str(tmp_path), "--once", "--settle", "0",
            "--interval", "0.05"]  # fmt: skip
    assert main(args) == 4
    assert capsys.readouterr().out.splitlines()[-1] == "1 file(s) handled, 1 FAILED or refused"
    assert main(args) == 0  # nothing new
    assert "0 file(s) handled" in capsys.readouterr().out


def test_watch_run_proxies_a_folder_of_mixed_media_itself(proxx_home, tmp_path, capsys):
    folder = tmp_path / "in"
    out = tmp_path / "out"
    out.mkdir()
    make_clip(folder / "A001.mov", frames=4)
    (folder / "B001.mov").write_text("a text file named .mov")
    (folder / "A001.xml").write_text("<sidecar/>")
    args = ["watch", str(folder), "--profile", INTENT, "--output", str(out), "--once", "--settle", "0.1",
            "--interval", "0.05", "--run"]  # fmt: skip
    assert main(args) == 4  # the text file's job, refused in class B
    printed = capsys.readouterr().out
    assert printed.splitlines()[-1] == "2 file(s) handled, 1 FAILED or refused"
    assert printed.splitlines()[0].endswith("jobs run here, one at a time.")
    assert f"SKIPPED {folder / 'A001.xml'}: a sidecar (the camera's metadata), not a camera clip" in printed
    assert printed.count("COMPLETED job ") == 1  # the text file's job failed in class B when it was created
    assert printed.count(f"FAILED  {folder / 'B001.mov'} as job ") == 1
    assert "B001.mov' is not a media container" in printed or "B001.mov' is not a decodable video" in printed
    # the good clip's proxy only, in the watched folder's own sub-folder, as a folder source's
    assert sorted(p.stem for p in (out / "in").iterdir() if p.is_file()) == ["A001"]
    assert all(r.state != QUEUED for r in Proxx.open().store.jobs())


def test_a_watch_says_when_no_worker_takes_its_jobs(proxx_home, tmp_path, capsys):
    folder = tmp_path / "in"
    out = tmp_path / "out"
    out.mkdir()
    make_clip(folder / "A001.mov", frames=4)
    make_clip(folder / "A002.mov", frames=4)
    args = ["watch", str(folder), "--profile", INTENT, "--output", str(out), "--once", "--settle", "0.3",
            "--interval", "0.1", "--warn-after", "0"]  # fmt: skip
    assert main(args) == 0
    warnings = [line for line in capsys.readouterr().out.splitlines() if line.startswith("WARNING")]
    assert warnings == [
        "WARNING 2 job(s) queued for 0 s and no worker has taken one: start `proxx worker` or `proxx serve`, "
        "or watch with --run."
    ]  # once per stall, not every poll


def test_a_folder_watched_for_another_intent_or_output_is_handled_anew(proxx_home, tmp_path):
    folder, review, editorial = tmp_path / "in", tmp_path / "review", tmp_path / "editorial"
    review.mkdir()
    editorial.mkdir()
    make_clip(folder / "A001.mov", frames=4)
    proxx = Proxx.open()
    (first,) = MediaWatcher(proxx, folder, INTENT, review, settle=0.0).poll()
    assert first.outcome == "queued"
    assert MediaWatcher(Proxx.open(), folder, INTENT, review, settle=0.0).poll() == []  # a restart: handled
    (other,) = MediaWatcher(Proxx.open(), folder, "HD Editorial LT", editorial, settle=0.0).poll()
    assert other.outcome == "queued" and other.job_id != first.job_id
    (elsewhere,) = MediaWatcher(Proxx.open(), folder, INTENT, editorial, settle=0.0).poll()
    assert elsewhere.outcome == "queued"
    relative = Path(os.path.relpath(review))  # the same output, named from the working folder
    assert MediaWatcher(Proxx.open(), Path(os.path.relpath(folder)), INTENT, relative, settle=0.0).poll() == []


def test_a_clip_whose_copy_was_completed_after_its_job_is_handled_again(proxx_home, tmp_path):
    """A copy that stopped half-way settles and becomes a job that fails (a cut file); once the copy is
    completed, the clip is handled again, never left unproxied because its name was handled. A file
    changing while its job still waits is left to that job until it ends."""
    whole = make_clip(tmp_path / "A001_C002.mov", frames=24)
    card = tmp_path / "ingest" / "CARD1"
    out = tmp_path / "out"
    out.mkdir()
    clip = card / "A001_C002.mov"
    card.mkdir(parents=True)
    clip.write_bytes(whole.read_bytes()[:20_000])  # the copy stopped here
    proxx = Proxx.open()
    watcher = MediaWatcher(proxx, card.parent, INTENT, out, settle=0.0)
    (cut,) = watcher.poll()
    assert cut.outcome == "failed" and "not a decodable video" in cut.message
    assert watcher.poll() == []

    clip.write_bytes(whole.read_bytes())  # an hour later, the copy is completed
    (completed,) = MediaWatcher(Proxx.open(), card.parent, INTENT, out, settle=0.0).poll()  # a restart, too
    assert completed.outcome == "queued" and completed.job_id != cut.job_id
    os.utime(clip, ns=(1, 1))  # changed while its job waits: that job reads it as it is when it runs
    assert watcher.poll() == []
    assert work(proxx, once=True) == 1
    assert proxx.store.job(completed.job_id).state == COMPLETED
    (again,) = watcher.poll()  # its job ended: handled again, and its proxy is there
    assert again.outcome == "skipped" and again.message.startswith("already proxied")
    assert watcher.poll() == []


def test_a_card_copied_again_keeping_its_files_times_is_handled_again(proxx_home, tmp_path):
    """A card taken away while its clip's job waited (the job fails: its source does not exist) and
    copied back as a copy keeping its files' times would (size and modification time as before): the
    copy is another file, and its clip is handled again, never left unproxied. A clip with its proxy
    whose status alone changes (a permission, a hard link) is not handled again."""
    import shutil

    card, aside, out = tmp_path / "ingest" / "CARD1", tmp_path / "aside", tmp_path / "out"
    out.mkdir()
    make_clip(card / "CLIPS" / "A001_C001.mov", frames=4)
    proxx = Proxx.open()
    watcher = MediaWatcher(proxx, card.parent, INTENT, out, settle=0.0)
    (queued,) = watcher.poll()
    shutil.move(card, aside)
    assert work(proxx, once=True) == 1
    assert "does not exist" in (proxx.store.job(queued.job_id).message or "")
    shutil.copytree(aside, card)  # copy2: the times kept
    (again,) = watcher.poll()
    assert again.outcome == "queued" and again.job_id != queued.job_id
    assert work(proxx, once=True) == 1 and proxx.store.job(again.job_id).state == COMPLETED
    assert watcher.poll() == []
    clip = card / "CLIPS" / "A001_C001.mov"
    os.chmod(clip, 0o640)  # only its status changes (a permission, a backup's hard link): its proxy is there
    os.link(clip, tmp_path / "backup.mov")
    assert watcher.poll() == [] and watcher.poll() == []
    assert watcher.ledger.handled_in(clip.parent)[str(clip)][2] == clip.stat().st_ctime_ns  # noted once


def test_a_proxy_already_at_its_name_is_said_whose_it_is(proxx_home, tmp_path):
    """A clip whose name is taken by a proxy a job published says which job made it and from what: from
    this very file before it changed (its copy completed after a cut copy was proxied), or from another
    clip of the same name. proxx never replaces it; the operator learns what to move away."""
    whole = make_clip(tmp_path / "src" / "A001_C001.mov", frames=24, rate="25")
    card, out = tmp_path / "ingest" / "CARD1", tmp_path / "out"
    out.mkdir()
    card.mkdir(parents=True)
    clip = card / "A001_C001.mov"
    make_clip(clip, frames=12, rate="25")  # what a copy stopped half-way left: a shorter clip
    proxx = Proxx.open()
    watcher = MediaWatcher(proxx, card.parent, INTENT, out, settle=0.0)
    (first,) = watcher.poll()
    assert work(proxx, once=True) == 1 and proxx.store.job(first.job_id).state == COMPLETED
    clip.write_bytes(whole.read_bytes())  # the copy completed
    (again,) = watcher.poll()
    proxy = out / "ingest" / "CARD1" / "A001_C001.mp4"
    assert again.outcome == "failed" and again.message == (
        f"Output path '{proxy}' already exists: it is the proxy job {first.job_id} made from this source file as "
        "it was then, and the file has changed since (a copy completed or made again). proxx never replaces a "
        "file: move that proxy away, then retry this job."
    )
    make_clip(card / "A001_C001.mp4", frames=12, rate="25")  # another camera's clip of the same name
    (other,) = watcher.poll()
    assert other.outcome == "failed" and other.message == (
        f"Output path '{proxy}' already exists: it is the proxy job {first.job_id} made from "
        f"'{clip}', another source of the same name. proxx never replaces a file: move that proxy away, then "
        "retry this job."
    )


def test_a_job_lost_while_it_ran_stays_failed_and_is_retried_only_by_an_operator(proxx_home, tmp_path, capsys):
    """A watch (or its worker) killed while its job ran: the job is found lost (FAILED "worker lost")
    and stays so, as every failed job: the contract allows no retry without an operator's. Its
    clip is not queued again by the watch, however often it passes; `jobs retry` makes it, and
    `jobs show` of the lost job then says it was retried."""
    card, out = tmp_path / "ingest" / "CARD1", tmp_path / "out"
    out.mkdir()
    make_clip(card / "A001_C001.mov", frames=4)
    proxx = Proxx.open()
    watcher = MediaWatcher(proxx, card.parent, INTENT, out, settle=0.0)
    (queued,) = watcher.poll()
    assert proxx.store.claim("vanished", queued.job_id, lease=0.01) == queued.job_id  # its worker vanished
    time.sleep(0.05)
    assert proxx.store.reap_lost() == [queued.job_id]
    assert watcher.poll() == [] and MediaWatcher(Proxx.open(), card.parent, INTENT, out, settle=0.0).poll() == []
    assert [row.job_id for row in proxx.store.jobs()] == [queued.job_id]
    assert proxx.store.job(queued.job_id).state == FAILED

    assert main(["jobs", "retry", queued.job_id]) == 0
    (retry,) = [row for row in proxx.store.jobs() if row.job_id != queued.job_id]
    capsys.readouterr()
    assert main(["jobs", "show", queued.job_id]) == 0  # shown: the command did what it was asked
    assert f"Retried as {retry.job_id}\n" in capsys.readouterr().out


def test_sigterm_to_a_watch_that_runs_its_jobs_lets_the_running_job_finish(proxx_home, tmp_path):
    """A service manager stopping `proxx watch --run` (SIGTERM) mid-job: the job finishes and its proxy
    is published and the watch ends 0; never a job cut short, FAILED "worker
    lost", with its clip unmade."""
    card, out = tmp_path / "ingest" / "CARD1", tmp_path / "out"
    out.mkdir()
    make_long_clip(card / "A001_C001.mov", size="640x360", frames=720, audio=())
    env = {**os.environ, "PROXX_HOME": str(proxx_home)}
    args = ["watch", str(card.parent), "--profile", INTENT, "--output", str(out), "--settle", "0.1",
            "--interval", "0.1", "--run"]  # fmt: skip
    watching = subprocess.Popen([sys.executable, "-m", "proxx", *args], env=env, stdout=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not list(out.rglob("*.proxx-partial-*")):  # the encode has started
        assert time.monotonic() < deadline and watching.poll() is None
        time.sleep(0.02)
    watching.send_signal(signal.SIGTERM)
    printed, _ = watching.communicate(timeout=60)
    assert watching.returncode == 0, printed
    assert "Stopping: no new file is queued; the running job, if any, finishes first." in printed
    (job,) = Proxx.open().store.jobs()
    assert job.state == COMPLETED and f"COMPLETED job {job.job_id}" in printed
    assert (out / "ingest" / "CARD1" / "A001_C001.mp4").is_file()
    assert not list(out.rglob("*.proxx-partial-*"))


def test_a_ledger_from_before_watches_had_keys_still_counts_for_every_watch(tmp_path):
    import sqlite3

    from proxx.watch.ledger import Ledger

    old = sqlite3.connect(tmp_path / "watch.db")
    old.execute(
        "CREATE TABLE handled (path TEXT PRIMARY KEY, kind TEXT NOT NULL, size INTEGER NOT NULL, "
        "mtime_ns INTEGER NOT NULL, job_id TEXT, outcome TEXT NOT NULL, handled_at TEXT NOT NULL) STRICT"
    )
    old.execute("INSERT INTO handled VALUES (?, 'media', 1, 1, NULL, 'queued', 'then')", (str(tmp_path / "A.mov"),))
    old.commit()
    old.close()
    for key in ("one", "another"):
        ledger = Ledger(tmp_path / "watch.db", key)
        assert set(ledger.handled_in(tmp_path)) == {str(tmp_path / "A.mov")}
        ledger.close()


def test_a_ledger_from_before_it_kept_status_change_times_opens_and_compares_the_rest(tmp_path):
    import sqlite3

    from proxx.watch.ledger import Ledger

    old = sqlite3.connect(tmp_path / "watch.db")
    old.execute(
        "CREATE TABLE seen (path TEXT NOT NULL, watch TEXT NOT NULL, kind TEXT NOT NULL, size INTEGER NOT NULL, "
        "mtime_ns INTEGER NOT NULL, job_id TEXT, outcome TEXT NOT NULL, handled_at TEXT NOT NULL, "
        "PRIMARY KEY (path, watch)) STRICT"
    )
    old.execute("INSERT INTO seen VALUES (?, 'w', 'media', 1, 2, NULL, 'skipped', 'then')", (str(tmp_path / "A.mov"),))
    old.commit()
    old.close()
    ledger = Ledger(tmp_path / "watch.db", "w")
    assert ledger.handled_in(tmp_path) == {str(tmp_path / "A.mov"): (1, 2, None, None)}
    ledger.record(tmp_path / "A.mov", "media", 3, 4, "job-x", "queued", 5)
    assert ledger.handled_in(tmp_path) == {str(tmp_path / "A.mov"): (3, 4, 5, "job-x")}
    ledger.close()


def test_the_ledger_answers_for_one_folder_at_a_time(tmp_path):
    from proxx.watch.ledger import Ledger

    ledger = Ledger(tmp_path / "watch.db")
    card = tmp_path / "CARD" / "CLIP"
    for path in (card / "A.mov", card / "B.mov", card / "sub" / "C.mov", tmp_path / "CARD" / "CLIP2" / "D.mov"):
        ledger.record(path, "media", 1, 1, None, "queued")
    assert set(ledger.handled_in(card)) == {str(card / "A.mov"), str(card / "B.mov")}  # not below, not a sibling
    assert set(ledger.handled_in(card / "sub")) == {str(card / "sub" / "C.mov")}
    assert ledger.handled_in(tmp_path / "CARD") == {}
    ledger.close()


@pytest.mark.parametrize("run", [[], ["--run"]])
def test_a_proxy_subfolder_is_never_made_on_a_camera_card(proxx_home, tmp_path, capsys, run):
    """A camera card is read-only: its clip's job is refused (class B) and no Proxy/ is made on it,
    with --run or without; a folder that is no card gets its Proxy/ as before."""
    ingest = tmp_path / "ingest"
    make_clip(ingest / "DCIM" / "100CANON" / "MVI_0001.MOV", size="160x90", frames=3)
    before = sorted(p.relative_to(ingest).as_posix() for p in ingest.rglob("*"))
    args = ["watch", str(ingest), "--profile", INTENT, "--proxy-subfolder", "--settle", "0", "--interval", "0.05",
            "--once", *run]  # fmt: skip
    assert main(args) == 4
    printed = capsys.readouterr().out
    assert "a camera card is never written to" in printed, printed
    assert sorted(p.relative_to(ingest).as_posix() for p in ingest.rglob("*")) == before  # no Proxy/ made
    make_clip(tmp_path / "copies" / "A001.mov", size="160x90", frames=3)
    (queued,) = MediaWatcher(Proxx.open(), tmp_path / "copies", INTENT, None, settle=0.0).poll()
    assert queued.outcome == "queued" and (tmp_path / "copies" / "Proxy").is_dir()


def _fill(volume: Path) -> Path:
    """Fill `volume` to its last byte; the file that does it."""
    filler = volume / "filler"
    with open(filler, "wb", buffering=0) as f:
        for size in (65536, 512, 1):
            try:
                while True:
                    f.write(b"\0" * size)
            except OSError:
                pass
    return filler


def test_a_watch_whose_proxx_home_fills_up_waits_and_queues_each_file_once_space_is_back(tmp_path, monkeypatch):
    """PROXX_HOME full while watching: the watch stopped with "internal error (OperationalError)" (no
    log either: the disk was full) and the file was never queued."""
    from tests.test_full_volume import tmpfs

    with tmpfs(tmp_path / "home", "4m") as home:
        monkeypatch.setenv("PROXX_HOME", str(home))
        card, out = tmp_path / "card", tmp_path / "out"
        out.mkdir()
        make_clip(card / "A001.mov", frames=4)
        watcher = MediaWatcher(Proxx.open(), card, "HD Editorial LT", out, settle=0.0)
        filler = _fill(home)
        (waiting,) = watcher.poll()
        assert waiting.outcome == "waiting" and waiting.message.startswith(f"PROXX_HOME '{home}' is full")
        assert watcher.poll() == []  # said once
        filler.unlink()
        assert [event.outcome for event in watcher.poll()] == ["resumed", "queued"]
        assert [row.state for row in watcher.proxx.store.jobs()] == [QUEUED]


def test_a_proxy_folder_whose_making_cannot_be_remembered_is_made_again_later(tmp_path, monkeypatch):
    """With --proxy-subfolder and PROXX_HOME full, the watch stopped ("internal error"), its new
    Proxy/ folder left unremembered: once space was back, it was "a folder this watch did not make",
    never written into."""
    from tests.test_full_volume import tmpfs

    with tmpfs(tmp_path / "home", "4m") as home:
        monkeypatch.setenv("PROXX_HOME", str(home))
        copies = tmp_path / "copies"
        make_clip(copies / "A001.mov", frames=4)
        watcher = MediaWatcher(Proxx.open(), copies, "HD Editorial LT", None, settle=0.0)
        filler = _fill(home)
        (waiting,) = watcher.poll()
        assert waiting.outcome == "waiting" and "is full" in waiting.message
        assert not (copies / "Proxy").exists()
        filler.unlink()
        assert [event.outcome for event in watcher.poll()] == ["resumed", "queued"]
        assert (copies / "Proxy").is_dir()


def test_a_queued_file_whose_record_cannot_be_written_is_never_queued_again(tmp_path, proxx_home):
    """Its job made, the watch's own record of the file could not be written (its volume full): the
    next pass queued it again, a second job for the same file."""
    from proxx.watch.ledger import Ledger
    from tests.test_full_volume import tmpfs

    card, out = tmp_path / "card", tmp_path / "out"
    out.mkdir()
    make_clip(card / "A001.mov", frames=4)
    proxx = Proxx.open()
    with tmpfs(tmp_path / "records", "1m") as records:
        ledger = Ledger(records / "watch.db", "media")
        watcher = MediaWatcher(proxx, card, "HD Editorial LT", out, settle=0.0, ledger=ledger)
        filler = _fill(records)
        assert [event.outcome for event in watcher.poll()] == ["queued"]
        assert watcher.poll() == [] and len(proxx.store.jobs()) == 1
        filler.unlink()
        assert watcher.poll() == [] and len(proxx.store.jobs()) == 1
        ledger.close()
        assert Ledger(records / "watch.db", "media").handled_in(card)  # recorded once there was room
