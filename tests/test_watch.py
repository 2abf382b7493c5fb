"""Watch folders and the JobSpec inbox, polled with real files (and real ffmpeg for the one job run)."""

from __future__ import annotations

import json

from proxx import Proxx
from proxx.cli import main
from proxx.execute.worker import work
from proxx.jobspec.model import create_jobspec, utc_now
from proxx.media.samples import make_clip
from proxx.roots import Roots
from proxx.store import COMPLETED, QUEUED
from proxx.watch.scan import Settler
from proxx.watch.watcher import JobSpecInbox, MediaWatcher, watch

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
    assert sorted(e.path.name for e in events) == ["A001.mov", "B001.mov"]
    jobs = {e.path.name: proxx.store.spec(e.job_id) for e in events}
    assert jobs["B001.mov"].output_directory == str(card / "day2" / "Proxy")
    assert all(proxx.store.job(e.job_id).state == QUEUED for e in events)

    assert work(proxx, once=True) == 2
    assert all(proxx.store.job(e.job_id).state == COMPLETED for e in events)
    assert (card / "Proxy").is_dir() and list((card / "Proxy").iterdir())

    # A restart (new process state, same PROXX_HOME): nothing is queued again, and proxies are not media.
    again = MediaWatcher(Proxx.open(), card, INTENT, None, settle=0.0)
    assert again.poll() == []
    make_clip(card / "A003.mov", frames=4)
    assert [e.path.name for e in again.poll()] == ["A003.mov"]


def test_the_watch_command_with_an_output_folder(proxx_home, tmp_path, capsys):
    folder = tmp_path / "in"
    out = tmp_path / "out"
    out.mkdir()
    make_clip(folder / "A001.mov", frames=4)
    args = ["watch", str(folder), "--profile", INTENT, "--output", str(out), "--once", "--settle", "0.1",
            "--interval", "0.05"]  # fmt: skip
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "QUEUED  " in printed and "A001.mov as job job-" in printed and "1 file(s) handled" in printed
    assert main(args) == 0
    assert "0 file(s) handled" in capsys.readouterr().out
    assert main(["watch", str(folder), "--profile", "No Such Intent", "--output", str(out), "--once"]) == 3


def test_the_jobspec_inbox_queues_valid_jobspecs_and_rejects_the_rest(proxx_home, tmp_path):
    proxx = Proxx.open()
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    src = make_clip(tmp_path / "A001.mov", frames=4)
    spec = create_jobspec(proxx.select(INTENT), [src], tmp_path / "out", utc_now(), {"proxx": "0.1.0"})
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
    error = (inbox / "failed" / "no_clips.error.txt").read_text()
    assert "clips" in error
    assert (inbox / "failed" / "no_clips.json").exists()
    assert "not readable JSON" in (inbox / "failed" / "garbage.error.txt").read_text()
    assert (inbox / "readme.txt").exists()

    (inbox / "again.json").write_text(spec.to_json())  # the same JobSpec twice is queued once
    (event,) = JobSpecInbox(proxx, inbox, Roots([tmp_path]), settle=0.0).poll()
    assert event.outcome == "failed" and "already exists" in event.message
