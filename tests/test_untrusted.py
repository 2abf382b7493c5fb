"""Attacks by a hostile or careless user of a shared facility (issue 13), each written as that user
would: a crafted inbox file, a real playlist, a real symlink, a real FIFO, a real alias bomb. Each
asserts the refusal and its message, and that nothing outside the allowed area was written or read."""

from __future__ import annotations

import json
import os
import resource
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from proxx import PreJobError, Proxx
from proxx.jobspec.model import create_jobspec, utc_now
from proxx.jobspec.signing import INBOX, seal
from proxx.media.samples import make_clip
from proxx.roots import Roots
from proxx.store import COMPLETED, FAILED, QUEUED
from proxx.watch.watcher import JobSpecInbox, MediaWatcher

INTENT = "HD Editorial LT"
PROXX = [sys.executable, "-m", "proxx"]
NAMED_INTENT = """user_profile_version: "1.1"
name: Proxy Folder
constraints: {codecs: [h264], resolution: [scale_50]}
naming: {folder: Proxy, suffix: _Proxy}
"""


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_clip(tmp_path_factory.mktemp("media") / "A001.mov", frames=12, size="320x240")


@pytest.fixture
def area(tmp_path: Path, clip: Path) -> dict[str, Path]:
    """A facility: media and an output folder inside the roots, a secret and a home outside them."""
    media, out, outside = tmp_path / "media", tmp_path / "out", tmp_path / "outside"
    for folder in (media, out, outside):
        folder.mkdir()
    (media / "A001.mov").write_bytes(clip.read_bytes())
    secret = make_clip(outside / "secret.mov", frames=12, size="320x240")
    return {"media": media, "out": out, "outside": outside, "secret": secret, "inbox": _inbox(tmp_path)}


def _inbox(tmp_path: Path) -> Path:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    return inbox


def _outside_untouched(area: dict[str, Path]) -> None:
    assert sorted(p.name for p in area["outside"].rglob("*")) == ["secret.mov"]


def _good_spec(proxx: Proxx, area: dict[str, Path]) -> dict:
    compiled = proxx.select(INTENT)
    spec = create_jobspec(compiled, [area["media"] / "A001.mov"], area["out"], utc_now(), proxx.requirements("ffmpeg"))
    return json.loads(spec.to_json())


def _poll(inbox: JobSpecInbox) -> dict:
    return {e.path.name: e for e in inbox.poll()}


# --- the JobSpec inbox --------------------------------------------------------------------------


def test_an_inbox_jobspec_cannot_write_or_read_outside_its_roots(proxx_home, area):
    proxx = Proxx.open()
    roots = Roots([area["media"], area["out"]])
    crafted = {}
    keys = _good_spec(proxx, area)  # ssh key planting: an output of the attacker's choosing
    keys["clips"][0]["output"] = str(area["outside"] / ".ssh" / "authorized_keys")
    crafted["keys.json"] = keys
    climb = _good_spec(proxx, area)
    climb["clips"][0]["output"] = str(area["out"] / ".." / "outside" / "A001.mov")
    crafted["climb.json"] = climb
    read = _good_spec(proxx, area)
    read["clips"][0]["source"] = str(area["secret"])
    read["clips"][0]["output"] = str(area["out"] / "secret.mov")
    crafted["read.json"] = read
    folder = _good_spec(proxx, area)
    folder["output_directory"] = str(area["outside"])
    folder["clips"][0]["output"] = str(area["outside"] / "A001.mov")
    crafted["folder.json"] = folder
    for name, document in crafted.items():
        (area["inbox"] / name).write_text(json.dumps(document))

    events = _poll(JobSpecInbox(proxx, area["inbox"], roots, settle=0.0))
    assert {name: e.outcome for name, e in events.items()} == dict.fromkeys(crafted, "failed")
    assert "is not the name the intent's naming gives" in events["keys.json"].message
    assert "is not the name the intent's naming gives" in events["climb.json"].message
    assert f"'{area['secret']}' is not inside the roots of this entry point" in events["read.json"].message
    assert f"'{area['outside']}' is not inside the roots of this entry point" in events["folder.json"].message
    assert "Nothing was queued or run" in (area["inbox"] / "failed" / "keys.error.txt").read_text()
    assert proxx.store.jobs() == []
    _outside_untouched(area)


def test_an_inbox_jobspec_whose_profile_snapshot_differs_from_the_registry_is_refused(proxx_home, area):
    proxx = Proxx.open()
    poisoned = _good_spec(proxx, area)  # the id says LT, the snapshot says something else: poisons reuse
    poisoned["canonical_profile"]["codec"] = "h264"
    poisoned["canonical_profile"]["container"] = "mp4"
    poisoned["clips"][0]["output"] = str(area["out"] / "A001.mp4")
    (area["inbox"] / "poisoned.json").write_text(json.dumps(poisoned))
    renamed = _good_spec(proxx, area)
    renamed["proxy_profile"] = "proxy_h264_low"
    (area["inbox"] / "renamed.json").write_text(json.dumps(renamed))

    events = _poll(JobSpecInbox(proxx, area["inbox"], Roots([area["media"], area["out"]]), settle=0.0))
    snapshot_id = poisoned["canonical_profile"]["id"]
    assert events["poisoned.json"].outcome == "failed"
    assert f"its profile snapshot of canonical id '{snapshot_id}' differs from the registry's" in (
        events["poisoned.json"].message
    )
    assert "are not those of its profile snapshot" in events["renamed.json"].message
    assert proxx.store.jobs() == []


def test_an_inbox_with_a_key_accepts_only_jobspecs_signed_with_it(proxx_home, area):
    proxx = Proxx.open()
    key = b"facility inbox key"
    spec = _good_spec(proxx, area)
    spec_json = json.dumps(spec, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    audience = str(area["inbox"])
    (area["inbox"] / "unsigned.json").write_text(json.dumps(spec))
    (area["inbox"] / "forged.json").write_bytes(seal(INBOX, spec["job_id"], audience, spec_json, b"a guessed key", 60))
    inbox = JobSpecInbox(proxx, area["inbox"], Roots([area["media"], area["out"]]), settle=0.0, key=key)
    events = _poll(inbox)
    assert "it carries no signature" in events["unsigned.json"].message
    assert "its signature does not verify" in events["forged.json"].message
    assert proxx.store.jobs() == []

    (area["inbox"] / "signed.json").write_bytes(seal(INBOX, spec["job_id"], audience, spec_json, key, 60))
    (event,) = inbox.poll()
    assert event.outcome == "queued" and proxx.store.job(spec["job_id"]).state == QUEUED


def _deep(levels: int) -> str:
    return "[" * levels + "]" * levels


def test_one_bad_file_never_stalls_the_inbox(proxx_home, area, tmp_path):
    proxx = Proxx.open()
    inbox = area["inbox"]
    os.mkfifo(inbox / "x.json")  # reading it would wait for ever
    (inbox / "zero.json").symlink_to("/dev/zero")  # reading it would never end
    (inbox / "deep.json").write_text(_deep(100_000))  # RecursionError in json
    (inbox / "huge.json").write_text(json.dumps({"name": "x" * (2 * 1024 * 1024)}))  # a 2 MB intent name
    (inbox / "failed").mkdir()
    (inbox / "failed" / "huge.error.txt").symlink_to(area["outside"] / "planted")  # never written through
    good = _good_spec(proxx, area)
    (inbox / "good.json").write_text(json.dumps(good))

    signal.alarm(20)  # a hang fails the test instead of stalling the suite
    try:
        started = time.monotonic()
        events = _poll(JobSpecInbox(proxx, inbox, Roots([area["media"], area["out"]]), settle=0.0))
        assert time.monotonic() - started < 10
    finally:
        signal.alarm(0)
    assert events["good.json"].outcome == "queued" and proxx.store.job(good["job_id"]).state == QUEUED
    assert "it is not a regular file" in events["x.json"].message
    assert "it is a symbolic link" in events["zero.json"].message
    assert "it nests more than 16 levels deep" in events["deep.json"].message
    assert "more than 1048576" in events["huge.json"].message
    for name in ("x", "zero", "deep", "huge"):
        assert events[f"{name}.json"].outcome == "failed"
        assert not os.path.lexists(inbox / f"{name}.json")  # moved away: a restart does not meet it again
    assert (inbox / "failed" / "huge.1.error.txt").exists()
    assert os.path.islink(inbox / "failed" / "zero.json")  # moved as a link, never read
    _outside_untouched(area)
    assert proxx.store.jobs() == [proxx.store.job(good["job_id"])]


def test_an_inbox_never_moves_or_writes_through_a_link_planted_at_its_own_folders(proxx_home, area, tmp_path):
    # Anyone who may drop JobSpecs may plant `failed` or `queued`: a link to someone else's folder.
    proxx = Proxx.open()
    inbox, victim = area["inbox"], tmp_path / "victim"
    victim.mkdir()
    (victim / "bad.json").write_text("the victim's own file")
    (inbox / "failed").symlink_to(victim)
    (inbox / "bad.json").write_text("not json")
    (event,) = JobSpecInbox(proxx, inbox, Roots([area["media"], area["out"]]), settle=0.0).poll()
    assert event.outcome == "failed" and "is not a folder proxx can use" in event.message
    assert sorted(p.name for p in victim.iterdir()) == ["bad.json"]
    assert (victim / "bad.json").read_text() == "the victim's own file"
    assert (inbox / "bad.json").read_text() == "not json"  # left where it was, said

    os.unlink(inbox / "failed")
    os.mkdir(inbox / "failed")
    os.chmod(inbox / "failed", 0o777)  # this user's, but others could plant a name inside: closed first
    (event,) = JobSpecInbox(proxx, inbox, Roots([area["media"], area["out"]]), settle=0.0).poll()
    assert event.outcome == "failed" and (inbox / "failed" / "bad.error.txt").exists()
    assert os.stat(inbox / "failed").st_mode & 0o022 == 0
    if os.geteuid() == 0:  # another user's folder (only root can make one here)
        os.chown(inbox / "failed", 4242, 4242)
        (inbox / "bad2.json").write_text("not json")
        (event,) = JobSpecInbox(proxx, inbox, Roots([area["media"], area["out"]]), settle=0.0).poll()
        assert event.outcome == "failed" and "was not made by proxx" in event.message
        assert (inbox / "bad2.json").exists()


def test_an_inbox_queues_nothing_where_it_cannot_move_the_jobspec(proxx_home, area, tmp_path):
    proxx = Proxx.open()
    inbox = area["inbox"]
    (inbox / "queued").symlink_to(tmp_path)  # planted: the JobSpec could not be moved away once queued
    good = _good_spec(proxx, area)
    (inbox / "good.json").write_text(json.dumps(good))
    (event,) = JobSpecInbox(proxx, inbox, Roots([area["media"], area["out"]]), settle=0.0).poll()
    assert event.outcome == "failed" and "is not a folder proxx can use" in event.message
    assert proxx.store.jobs() == [] and (inbox / "good.json").exists()


@pytest.mark.parametrize("planted", ["output folder", "card sub-folder"])
def test_validation_never_writes_its_test_file_through_a_planted_link(proxx_home, area, tmp_path, planted):
    victim = tmp_path / "victim"
    victim.mkdir()
    card = area["media"] / "A001"
    card.mkdir()
    (card / "C0001.mov").write_bytes((area["media"] / "A001.mov").read_bytes())
    out = area["out"]
    if planted == "output folder":
        out = area["out"] / "shared"
        out.symlink_to(victim)
    else:
        (out / "A001").symlink_to(victim)  # where the card's clips would be kept
    os.utime(victim, ns=(1, 1))
    proxx = Proxx.open()
    row = proxx.store.job(proxx.create_job("HD Editorial LT", [card], out).job_id)
    assert row.state == FAILED and "symbolic link" in (row.message or "")
    assert os.stat(victim).st_mtime_ns == 1 and list(victim.iterdir()) == []  # no file made, even for a moment


def test_an_inbox_without_roots_does_not_start(proxx_home, area, capsys):
    from proxx.cli import main

    assert main(["watch", str(area["inbox"]), "--jobspecs", "--once"]) == 2
    assert "a JobSpec inbox needs the folders its JobSpecs may use: give --root DIR" in capsys.readouterr().err


# --- sources that are not media files -----------------------------------------------------------


def _playlist(target: Path) -> str:
    return f"#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:0.5,\n{target}\n#EXT-X-ENDLIST\n"


def _run(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PROXX_HOME": str(home)}
    return subprocess.run([*PROXX, *args], capture_output=True, text=True, env=env, timeout=120)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("A002.m3u8", "playlist", "is not a media file: it is an HLS playlist, which proxx never reads"),
        ("A002.mov", "playlist", "is not a media file: it is an HLS playlist, which proxx never reads"),
        ("A003.mov", "concat", "is not a media file: it is a concat list, which proxx never reads"),
    ],
)
def test_playlists_and_concat_lists_are_refused(proxx_home, area, name, content, message):
    source = area["media"] / name
    text = _playlist(area["secret"]) if content == "playlist" else f"ffconcat version 1.0\nfile '{area['secret']}'\n"
    source.write_text(text)
    done = _run(proxx_home, "run", "--profile", INTENT, str(source), "--output", str(area["out"]))
    assert done.returncode == 4, done.stderr
    assert message in done.stdout + done.stderr
    assert list(area["out"].iterdir()) == []


def test_a_symlink_to_a_system_file_is_not_video(proxx_home, area):
    (area["media"] / "passwd.txt").symlink_to("/etc/passwd")
    done = _run(proxx_home, "run", "--profile", INTENT, str(area["media"] / "passwd.txt"), "--output", str(area["out"]))
    assert done.returncode == 4
    assert "passwd.txt' is not a decodable video" in done.stdout + done.stderr
    assert list(area["out"].iterdir()) == []


def test_a_source_without_a_duration_is_refused_before_anything_runs(proxx_home, area):
    from proxx.media.tools import require_tool

    raw = area["media"] / "A004.h264"  # a bare H.264 stream: ffprobe reads no duration
    subprocess.run(
        [require_tool("ffmpeg").path, "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=24",
         "-frames:v", "12", "-c:v", "libx264", "-f", "h264", str(raw)],
        check=True,
    )  # fmt: skip
    done = _run(proxx_home, "run", "--profile", INTENT, str(raw), "--output", str(area["out"]))
    assert done.returncode == 4
    assert "A004.h264' has no duration proxx can read" in done.stdout + done.stderr
    assert list(area["out"].iterdir()) == []


def test_a_watch_folder_refuses_a_playlist_and_a_link_leading_outside_it(proxx_home, area):
    proxx = Proxx.open()
    (area["media"] / "A002.mov").write_text(_playlist(area["secret"]))
    (area["media"] / "A003.mov").symlink_to(area["secret"])
    events = MediaWatcher(proxx, area["media"], INTENT, area["out"], settle=0.0).poll()
    assert sorted(e.path.name for e in events) == ["A001.mov", "A002.mov", "A003.mov"]
    results = {e.path.name: proxx.run_job(e.job_id) for e in events}
    assert results["A001.mov"].state == COMPLETED
    a002, a003 = results["A002.mov"].failure, results["A003.mov"].failure
    assert a002 is not None and a002.failure_class == "B" and "it is an HLS playlist" in a002.message
    assert a003 is not None and a003.reason == "source_outside_roots"
    assert "is not inside the media roots of this job (links resolved)" in a003.message
    # in the watched folder's own sub-folder, as a folder source's (beside Fabric's records)
    assert sorted(p.name for p in (area["out"] / area["media"].name).glob("*.mov")) == ["A001.mov"]
    _outside_untouched(area)


def test_ffmpeg_is_given_only_local_files_through_the_validated_demuxer(area, tmp_path):
    from proxx.media.probe import probe
    from proxx_ffmpeg.recipes import build_args

    proxx = Proxx.open(bundled=True)
    profile = proxx.select(INTENT).canonical
    source = area["media"] / "A001.mov"
    info = probe(str(source))
    args = build_args("ffmpeg", info, str(tmp_path / "o.mov"), profile)
    at = args.index("-i")
    assert args[at - 4 : at] == ["-protocol_whitelist", "file", "-f", "mov"]
    # The file is swapped for a playlist after validation: the forced demuxer never opens what it names.
    source.write_text(_playlist(area["secret"]))
    from proxx.media.tools import require_tool

    args[0] = require_tool("ffmpeg").path
    done = subprocess.run(args, capture_output=True, text=True, timeout=60)
    assert done.returncode != 0 and not (tmp_path / "o.mov").exists()


def test_a_source_folder_swapped_for_a_link_after_the_job_was_created_is_refused(proxx_home, area):
    proxx = Proxx.open()
    card = area["media"] / "card"
    card.mkdir()
    (card / "A001.mov").write_bytes((area["media"] / "A001.mov").read_bytes())
    spec = proxx.create_job(INTENT, [card / "A001.mov"], area["out"], roots=Roots([area["media"], area["out"]]))
    (card / "A001.mov").unlink()
    card.rmdir()
    (area["outside"] / "A001.mov").symlink_to(area["secret"])
    card.symlink_to(area["outside"])  # the attacker's folder, holding the secret under the same name
    result = proxx.run_job(spec.job_id)
    assert result is not None and result.failure is not None
    assert (result.failure.failure_class, result.failure.reason) == ("B", "source_outside_roots")
    assert list(area["out"].iterdir()) == []
    (area["outside"] / "A001.mov").unlink()
    _outside_untouched(area)


# --- outputs ------------------------------------------------------------------------------------


def test_a_link_planted_at_the_temporary_names_never_redirects_the_engine(proxx_home, area):
    proxx = Proxx.open()
    spec = proxx.create_job(INTENT, [area["media"] / "A001.mov"], area["out"])
    suffix = spec.job_id[-8:]
    final = Path(spec.clips[0].output)
    # The old predictable partial name: a dangling link into the attacker's folder.
    (area["out"] / f"{final.stem}.proxx-partial-{suffix}{final.suffix}").symlink_to(area["outside"] / "stolen.mov")
    result = proxx.run_job(spec.job_id)
    assert result is not None and result.state == COMPLETED
    assert final.is_file() and not final.is_symlink()
    _outside_untouched(area)

    (area["outside"].parent / "out2").mkdir()
    again = proxx.create_job(INTENT, [area["media"] / "A001.mov"], area["outside"].parent / "out2")
    private = Path(again.clips[0].output).parent / f".proxx-partial-{again.job_id[-8:]}-0"
    private.symlink_to(area["outside"])  # the engine's private folder, planted
    result = proxx.run_job(again.job_id)
    assert result is not None and result.failure is not None
    assert result.failure.reason == "partial_name_taken"
    assert "already has the temporary name" in result.failure.message
    _outside_untouched(area)


def test_a_proxy_folder_that_is_a_link_receives_nothing(proxx_home, area, tmp_path):
    repo = tmp_path / "repo" / "user"
    repo.mkdir(parents=True)
    (repo / "named.yaml").write_text(NAMED_INTENT)
    proxx = Proxx.open(profiles=[repo.parent])
    (area["out"] / "Proxy").symlink_to(area["outside"])
    spec = proxx.create_job("Proxy Folder", [area["media"] / "A001.mov"], area["out"])
    result = proxx.run_job(spec.job_id)
    assert result is not None and result.failure is not None
    assert (result.failure.failure_class, result.failure.reason) == ("B", "output_folder_is_link")
    assert "is a symbolic link; outputs are never written through one" in result.failure.message
    _outside_untouched(area)


# --- retry --------------------------------------------------------------------------------------


def test_retry_never_launders_a_tampered_job(proxx_home, area):
    proxx = Proxx.open()
    spec = proxx.create_job(INTENT, [area["media"] / "A001.mov"], area["out"])
    db = sqlite3.connect(proxx.store.path)
    db.execute("DROP TRIGGER jobspecs_immutable")
    tampered = spec.to_json().replace(str(area["media"] / "A001.mov"), str(area["secret"]))
    db.execute("UPDATE jobspecs SET spec_json = ? WHERE job_id = ?", (tampered, spec.job_id))
    db.commit()
    proxx.run_job(spec.job_id)
    assert proxx.store.job(spec.job_id).reason == "JobSpec digest mismatch"
    with pytest.raises(PreJobError, match="cannot be retried: its stored JobSpec does not match its digest"):
        proxx.retry(spec.job_id)
    done = _run(proxx_home, "jobs", "retry", spec.job_id, "--run")
    assert done.returncode == 3 and "cannot be retried" in done.stderr
    assert [j.job_id for j in proxx.store.jobs()] == [spec.job_id]
    assert list(area["out"].iterdir()) == []


# --- profile repositories -----------------------------------------------------------------------

BOMB = """user_profile_version: "1.1"
name: Bomb
description: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
constraints: {codecs: [h264]}
"""


def _capped(limit: int) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


@pytest.fixture
def hostile_repo(tmp_path: Path) -> Iterator[Path]:
    repo = tmp_path / "hostile" / "user"
    repo.mkdir(parents=True)
    (repo / "bomb.yaml").write_text(BOMB)
    (repo / "deep.yaml").write_text('user_profile_version: "1.1"\nname: Deep\nx: ' + _deep(64) + "\n")
    (repo / "big.yaml").write_text('user_profile_version: "1.1"\nname: Big\n#' + "x" * (300 * 1024) + "\n")
    yield repo.parent


def test_a_profile_file_is_read_up_to_one_byte_past_its_bound_whatever_its_size(tmp_path):
    from proxx.compile.parse import MAX_PROFILE_BYTES, _read_bounded

    for size in (0, 1, 65535, 65536, 65537, MAX_PROFILE_BYTES, MAX_PROFILE_BYTES + 1, MAX_PROFILE_BYTES + 2, 1 << 20):
        data = os.urandom(size)
        (tmp_path / "p.yaml").write_bytes(data)
        assert _read_bounded(tmp_path / "p.yaml") == data[: MAX_PROFILE_BYTES + 1], size
    assert len(_read_bounded(Path("/dev/zero"))) == MAX_PROFILE_BYTES + 1  # a stream that never ends


def test_a_yaml_alias_bomb_is_refused_under_a_memory_cap(proxx_home, hostile_repo):
    env = {**os.environ, "PROXX_HOME": str(proxx_home), "PROXX_PROFILES": str(hostile_repo)}
    started = time.monotonic()
    done = subprocess.run(
        [*PROXX, "validate", str(hostile_repo)],
        capture_output=True, text=True, env=env, timeout=60, preexec_fn=lambda: _capped(1024**3),
    )  # fmt: skip
    assert time.monotonic() - started < 20
    assert done.returncode == 3, done.stderr
    out = done.stdout + done.stderr
    assert "bomb.yaml" in out and "YAML anchors and aliases are not allowed in profile files" in out
    assert "deep.yaml" in out and "nests more than 16 levels deep" in out
    assert "big.yaml" in out and "larger than 256 KiB" in out
    listed = subprocess.run(
        [*PROXX, "profiles", "--all"],
        capture_output=True, text=True, env=env, timeout=60, preexec_fn=lambda: _capped(1024**3),
    )  # fmt: skip
    assert listed.returncode == 0 and "HD Editorial LT" in listed.stdout
