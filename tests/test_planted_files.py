"""Files someone else planted where proxx writes or reads back: a file put under a proxy's final name
is never taken for a published proxy, nor replaced; nothing under PROXX_HOME/jobs/<id>/ is written
through a link or into another user's folder; an OpenJD export never replaces a file."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from proxx import Proxx
from proxx.execute.recover import recover_lost
from proxx.media.samples import make_clip

INTENT = "HD Editorial LT"
PROXX = [sys.executable, "-m", "proxx"]


@pytest.fixture(scope="module")
def sources(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    folder = tmp_path_factory.mktemp("src")
    return [make_clip(folder / f"A001_C00{n}.mov", frames=3, audio=()) for n in (1, 2)]


@pytest.fixture(scope="module")
def valid_proxy(tmp_path_factory: pytest.TempPathFactory, sources: list[Path]) -> Path:
    """A valid proxy of A001_C002, made by a job of another home: what an attacker copies."""
    home, out = tmp_path_factory.mktemp("other-home"), tmp_path_factory.mktemp("other-out")
    done = proxx(home, "run", "--profile", INTENT, "--output", str(out), str(sources[1]))
    assert done.returncode == 0, done.stderr
    return out / "A001_C002.mov"


def proxx(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PROXX_HOME": str(home), "PROXX_PARALLEL_CLIPS": "1"}
    return subprocess.run([*PROXX, *args], capture_output=True, text=True, env=env, timeout=300)


def test_a_retry_never_takes_a_file_planted_at_a_final_name_for_a_published_proxy(
    tmp_path: Path, sources: list[Path], valid_proxy: Path
) -> None:
    home, out = tmp_path / "home", tmp_path / "out"
    out.mkdir()
    submitted = proxx(home, "submit", "--profile", INTENT, "--output", str(out), str(sources[0]))
    assert submitted.returncode == 0, submitted.stderr
    (job,) = json.loads(proxx(home, "jobs", "list", "--json").stdout)
    assert proxx(home, "jobs", "cancel", job["job_id"]).returncode == 0
    planted = out / "A001_C001.mov"
    shutil.copy2(valid_proxy, planted)  # another clip's valid proxy, under this clip's final name
    before = planted.read_bytes()

    retried = proxx(home, "jobs", "retry", job["job_id"], "--run")
    text = retried.stdout + retried.stderr
    assert "nothing left to make" not in text
    assert retried.returncode != 0 and f"'{planted}' already exists" in text, text
    assert "Traceback" not in text
    assert planted.read_bytes() == before  # never replaced


def test_a_lost_job_never_counts_a_file_planted_at_a_final_name(
    tmp_path: Path, sources: list[Path], valid_proxy: Path, proxx_home: Path
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    app = Proxx.open()
    spec = app.submit(INTENT, sources[:1], out)
    app.store.claim("gone-worker", spec.job_id, lease=-1)  # its worker died before publishing anything
    app.store.start_remote(spec.job_id, "gone-worker", "2026-01-01T00:00:00Z")
    shutil.copy2(valid_proxy, out / "A001_C001.mov")
    (result,) = recover_lost(app.store, proxx_home, app.store.reap_lost())
    assert [c.state for c in result.clips] == ["failed"]
    assert app.store.published(str(out / "A001_C001.mov").casefold()) is None


def test_nothing_of_a_job_is_written_through_links_planted_in_its_folder(
    tmp_path: Path, sources: list[Path], proxx_home: Path
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    app = Proxx.open()
    spec = app.submit(INTENT, sources[:1], out)
    folder = proxx_home / "jobs" / spec.job_id
    folder.mkdir(parents=True)
    victims = {name: tmp_path / f"victim-{name}" for name in ("job.log", "published.jsonl")}
    for name, victim in victims.items():
        victim.write_text("someone else's file\n")
        (folder / name).symlink_to(victim)
    app.run_job(spec.job_id)
    for victim in victims.values():
        assert victim.read_text() == "someone else's file\n"
    row = app.store.job(spec.job_id)
    assert row.state == "FAILED" and "symbolic link" in (row.message or ""), row.message


@pytest.mark.skipif(os.geteuid() != 0, reason="making a folder of another user needs root")
def test_a_job_folder_another_user_made_receives_nothing(tmp_path: Path, sources: list[Path], proxx_home: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    app = Proxx.open()
    spec = app.submit(INTENT, sources[:1], out)
    folder = proxx_home / "jobs" / spec.job_id  # made first by another member of a group-writable home
    folder.mkdir(parents=True, mode=0o777)
    (folder / "job.log").write_text("")
    for path in (folder, folder / "job.log"):
        os.chown(path, 65534, 65534)
    os.chmod(folder, 0o777)
    app.run_job(spec.job_id)
    assert sorted(p.name for p in folder.iterdir()) == ["job.log"] and (folder / "job.log").read_text() == ""
    row = app.store.job(spec.job_id)
    assert (row.state, row.reason) == ("FAILED", "result_refused")  # refused, not said to be a full disk
    assert "belongs to another user" in (row.message or "") and "Free space" not in (row.message or "")


def jobspec_for(home: Path, source: Path, out: Path) -> str:
    """A valid JobSpec's text for `source` into `out`, as a client of the inbox makes it."""
    env = {**os.environ, "PROXX_HOME": str(home)}
    code = (
        "import sys; from pathlib import Path; from proxx import Proxx; "
        "from proxx.jobspec.model import create_jobspec, utc_now; "
        f"proxx = Proxx.open(); spec = create_jobspec(proxx.select({INTENT!r}), [Path({str(source)!r})], "
        f"Path({str(out)!r}), utc_now(), proxx.requirements('ffmpeg')); sys.stdout.write(spec.to_json())"
    )
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True).stdout


def test_an_inbox_jobspec_with_a_name_too_long_for_its_error_file_is_queued_once_and_said_so(tmp_path: Path) -> None:
    home, inbox, out = tmp_path / "home", tmp_path / "inbox", tmp_path / "out"
    inbox.mkdir()
    out.mkdir()
    source = make_clip(tmp_path / "src" / "A001_C001.mov", frames=3, audio=())  # inside the inbox's root
    good, bad = "g" * 250 + ".json", "b" * 250 + ".json"  # 255 characters: NAME.error.txt cannot exist
    (inbox / good).write_text(jobspec_for(home, source, out))
    (inbox / bad).write_text("{not json")
    args = ["watch", str(inbox), "--jobspecs", "--root", str(tmp_path), "--once", "--settle", "0", "--run"]
    done = proxx(home, *args, "--interval", "0.05")
    text = done.stdout + done.stderr
    assert "Traceback" not in text
    lines = text.splitlines()
    assert [line.split()[0] for line in lines if good in line] == ["QUEUED"], text
    assert [line.split()[0] for line in lines if bad in line] == ["FAILED"], text
    assert any(line.startswith("COMPLETED") for line in lines), text
    assert sorted(p.name for p in inbox.iterdir()) == ["failed", "queued"]  # nothing left to fail again
    (queued,) = (inbox / "queued").iterdir()
    assert queued.name.startswith("g" * 200) and queued.suffix == ".json"
    failed = sorted(p.name for p in (inbox / "failed").iterdir())
    assert len(failed) == 2 and failed[0].startswith("b" * 200) and failed[0].endswith(".error.txt")
    assert "not readable JSON" in (inbox / "failed" / failed[0]).read_text()
    again = proxx(home, *args, "--interval", "0.05")
    assert again.returncode == 0 and "0 file(s) handled" in again.stdout and "Traceback" not in again.stderr


@pytest.mark.parametrize("planted", ["link", "foreign"])
def test_a_planted_inbox_folder_is_said_in_one_line_a_pass(tmp_path: Path, planted: str) -> None:
    home, inbox, victim = tmp_path / "home", tmp_path / "inbox", tmp_path / "victim"
    inbox.mkdir()
    victim.mkdir()
    for name in ("one.json", "two.json", "three.json"):
        (inbox / name).write_text("{not json")
    if planted == "link":
        (inbox / "failed").symlink_to(victim)
    else:
        if os.geteuid() != 0:
            pytest.skip("making a folder of another user needs root")
        (inbox / "failed").mkdir(mode=0o777)
        os.chown(inbox / "failed", 65534, 65534)
    args = ["watch", str(inbox), "--jobspecs", "--root", str(tmp_path), "--once", "--settle", "0"]
    done = proxx(home, *args, "--interval", "0.05")
    text = done.stdout + done.stderr
    assert "Traceback" not in text and "FolderRefused" not in text
    refused = [
        line for line in text.splitlines() if "nothing was written through it" in line or "never followed" in line
    ]
    assert len(refused) == 1 and refused[0].startswith("FAILED"), text
    assert sorted(p.name for p in inbox.iterdir()) == ["failed", "one.json", "three.json", "two.json"]
    assert list(victim.iterdir()) == [] and (planted == "link" or list((inbox / "failed").iterdir()) == [])


@pytest.mark.parametrize("name", ["proxx.db", "watch.db"])
def test_a_database_planted_as_a_link_in_proxx_home_is_refused_in_one_line(tmp_path: Path, name: str) -> None:
    home, inbox, victim = tmp_path / "home", tmp_path / "inbox", tmp_path / "victim.db"
    inbox.mkdir()
    if name == "watch.db":
        assert proxx(home, "jobs", "list").returncode == 0  # the store made, as proxx makes it
    else:
        home.mkdir()
    (home / name).symlink_to(victim)  # dangling: SQLite would create the file it names
    done = proxx(home, "watch", str(inbox), "--jobspecs", "--root", str(tmp_path), "--once", "--settle", "0")
    text = done.stdout + done.stderr
    assert done.returncode != 0 and "Traceback" not in text
    assert f"'{home / name}' is a symbolic link; proxx never opens one" in done.stderr, text
    assert not victim.exists()


def test_an_internal_error_log_is_never_written_through_a_planted_logs_link(tmp_path: Path, proxx_home: Path) -> None:
    from proxx.cli import _log_internal_error

    victim = tmp_path / "victim"
    victim.mkdir()
    proxx_home.mkdir()
    (proxx_home / "logs").symlink_to(victim)
    try:
        raise RuntimeError("an internal error")
    except RuntimeError:
        assert _log_internal_error() is None
    assert list(victim.iterdir()) == []
    os.unlink(proxx_home / "logs")
    try:
        raise RuntimeError("an internal error")
    except RuntimeError:
        written = _log_internal_error()
    assert written is not None and "an internal error" in written.read_text()


@pytest.mark.skipif(os.geteuid() != 0, reason="planting a file of another user needs root")
def test_caches_another_member_of_proxx_home_planted_are_never_read(tmp_path: Path) -> None:
    """PROXX_HOME's profile cache and its memory of INVALID intents were read whoever wrote them: a
    member of a group-writable PROXX_HOME could change what an intent says and compiles to, or mark
    one INVALID, with a file of theirs. Only proxx's own files are read back."""
    home = tmp_path / "home"
    assert proxx(home, "profiles").returncode == 0
    cache = home / "cache" / "profiles.json"
    document = json.loads(cache.read_text())
    (entry,) = [e for f, e in document["files"].items() if f.endswith("review_h264.yaml")]
    entry["document"]["description"] = "Forged by another user"
    forged = {"Review H.264": {entry["document"]["user_profile_version"]: {"found_at": "", "why": "forged"}}}
    for path, planted in ((cache, document), (home / "intents-invalid.json", forged)):
        path.unlink(missing_ok=True)
        path.write_text(json.dumps(planted))
        os.chown(path, 65534, 65534)
    shown = proxx(home, "profiles")
    assert shown.returncode == 0, shown.stderr
    assert "Small, light files for review" in shown.stdout and "Forged" not in shown.stdout
    assert "Review H.264" in shown.stdout.split("Not available")[0]  # still choosable: not taken as INVALID


@pytest.mark.parametrize("planted", ["file", "link"])
def test_a_subfolder_name_taken_by_a_file_or_a_link_is_refused_before_anything_runs(
    tmp_path: Path, sources: list[Path], proxx_home: Path, planted: str
) -> None:
    """The folder a card's proxies go into (`<output>/<card>/`), its name taken by a file or by a link
    someone put there: every clip failed in class C, one by one, though nothing could be made."""
    card = tmp_path / "A001"
    card.mkdir()
    for source in sources:
        os.link(source, card / source.name)
    out, elsewhere = tmp_path / "out", tmp_path / "elsewhere"
    out.mkdir()
    elsewhere.mkdir()
    if planted == "file":
        (out / "A001").write_text("someone's notes\n")
    else:
        (out / "A001").symlink_to(elsewhere)
    app = Proxx.open()
    spec = app.create_job(INTENT, [card], out)
    row = app.store.job(spec.job_id)
    assert (row.state, row.failure_class, row.reason) == ("FAILED", "B", "output_folder_taken"), row.message
    assert f"Output subfolder '{out / 'A001'}' cannot be made: its name is taken by" in (row.message or "")
    assert list(elsewhere.iterdir()) == [] and sorted(p.name for p in out.iterdir()) == ["A001"]
