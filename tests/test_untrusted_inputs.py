"""Untrusted inputs, second review (issue 24): each class of attack, written as the attacker would
(a crafted file, a planted link, a forged Redis entry, a hostile file name), asserting the refusal
and that nothing outside the allowed area was written or read."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import attrs
import pytest

from proxx import Proxx
from proxx.cli import main
from proxx.errors import JobValidationError
from proxx.execute.clips import Clips
from proxx.jobspec.model import create_jobspec, utc_now
from proxx.jobspec.untrusted import MAX_JOBSPEC_BYTES, nesting_exceeds, parse_bounded
from proxx.media.files import printable
from proxx.media.samples import make_clip
from proxx.media.tools import require_tool
from proxx.roots import Roots
from proxx.store import COMPLETED
from proxx.watch.watcher import JobSpecInbox, MediaWatcher
from proxx.web import service as service_module
from proxx.web.roots import MediaRoot, MediaRoots

INTENT = "HD Editorial LT"
PROXY_FOLDER_INTENT = """user_profile_version: "1.1"
name: Proxy Folder
constraints: {codecs: [h264], resolution: [scale_50]}
naming: {folder: Proxy, suffix: _Proxy}
"""


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_clip(tmp_path_factory.mktemp("media") / "A001.mov", frames=6, size="160x120")


@pytest.fixture
def area(tmp_path: Path, clip: Path) -> dict[str, Path]:
    """Media and an output folder inside the roots; another project's folder outside them."""
    media, out, outside = tmp_path / "media", tmp_path / "out", tmp_path / "other-project"
    for folder in (media, out, outside):
        folder.mkdir()
    (media / "A001.mov").write_bytes(clip.read_bytes())
    return {"media": media, "out": out, "outside": outside}


def _tree(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


@pytest.fixture
def proxy_folder_intent(tmp_path: Path) -> Iterator[Path]:
    repo = tmp_path / "repo" / "user"
    repo.mkdir(parents=True)
    (repo / "named.yaml").write_text(PROXY_FOLDER_INTENT)
    yield repo.parent


# --- parsers are linear, digests before parsing ---------------------------------------------------


def _seconds(text: str) -> float:
    """The best of three (the machine is shared)."""
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        with pytest.raises(JobValidationError):
            parse_bounded(text, "test")
        best = min(best, time.perf_counter() - started)
    return best


@pytest.mark.parametrize(
    "unit",
    ['\\"', '"a', "\\\\\\", '"\\', "[", '"[{'],
    ids=["escaped quotes", "many strings", "backslashes", "quote backslash", "brackets", "quoted brackets"],
)
def test_the_bounded_json_scan_is_linear_in_its_input(unit):
    """A 1 MiB file costs about eight times a 128 KiB one, whatever it repeats (quadratic: 64 times,
    and minutes for the whole file)."""
    small = _seconds('["' + unit * (MAX_JOBSPEC_BYTES // 8 // len(unit)))
    large = _seconds('["' + unit * (MAX_JOBSPEC_BYTES // len(unit) - 4))
    assert large < max(0.5, small * 40), (small, large)  # linear: about 8 times, whatever the load


def test_the_depth_scan_counts_brackets_outside_strings_only():
    assert not nesting_exceeds(json.dumps({"a": "[" * 100, "b": [[1]], "c": 'x\\"[[['}), 3)
    assert nesting_exceeds(json.dumps({"a": [[[1]]]}), 3)
    assert nesting_exceeds('{"a": "\\\\", "b": [[[[1]]]]}', 4)  # an escaped backslash ends no string early


def test_run_spec_checks_the_digest_before_parsing(proxx_home, tmp_path, capsys):
    """A file that is not the JobSpec its digest names is refused for that, whatever it holds: even
    a file the JSON parser would choke on never reaches it."""
    hostile = tmp_path / "spec.json"
    hostile.write_text("[" * 10_000)
    assert main(["run-spec", str(hostile), "--digest", "sha256:" + "0" * 64]) == 4
    err = capsys.readouterr().err
    assert "does not match its digest" in err and "nests" not in err


# --- every write inside an output folder by descriptor ---------------------------------------------


def test_swapping_the_proxy_folder_for_a_link_after_staging_redirects_nothing(
    proxx_home, area, proxy_folder_intent, monkeypatch
):
    """Right after proxx made the clip's private folder, `Proxy/` becomes a link to another project's
    folder holding a look-alike private folder: the engine still writes into the folder proxx made,
    and nothing is published through the link."""
    proxx = Proxx.open(profiles=[proxy_folder_intent])
    spec = proxx.create_job("Proxy Folder", [area["media"] / "A001.mov"], area["out"])
    private_name = f".proxx-partial-{spec.job_id[-8:]}-0"
    real_render = Clips._render
    written: list[str] = []

    def swap_then_render(self, clip, source, partial, report, threads):  # type: ignore[no-untyped-def]
        os.rename(area["out"] / "Proxy", area["out"] / "Proxy.moved")
        (area["outside"] / private_name).mkdir()
        (area["out"] / "Proxy").symlink_to(area["outside"])
        written.append(str(partial))
        return real_render(self, clip, source, partial, report, threads)

    monkeypatch.setattr(Clips, "_render", swap_then_render)
    result = proxx.run_job(spec.job_id)
    assert result is not None and result.failure is not None
    assert result.failure.reason in ("output_folder_unusable", "output_folder_moved")
    assert _tree(area["outside"]) == [private_name]  # the look-alike stays empty
    assert "/proc/" in written[0] and str(area["out"]) not in written[0]  # never a path to walk again
    kept = _tree(area["out"] / "Proxy.moved")
    assert any(name.endswith(".mp4") for name in kept), kept  # the render landed where proxx made room


# --- watch folders: no adopted Proxy/, any file name -----------------------------------------------


def test_a_watch_folder_never_adopts_a_proxy_folder_it_did_not_make(proxx_home, area, tmp_path):
    """Someone who can write to the watch folder makes `day1/Proxy` first (a folder of theirs, a
    link to elsewhere, or a plain file): the clip beside it is left alone and said so, once, and the
    watcher goes on with the rest, now and after a restart; `day3/Proxy`, made by the watcher, is
    used again after a restart."""
    card = tmp_path / "card"
    for day in ("day1", "day2", "day3", "day4"):
        (card / day).mkdir(parents=True)
        (card / day / "A001.mov").write_bytes((area["media"] / "A001.mov").read_bytes())
    (card / "day1" / "Proxy").mkdir()
    (card / "day2" / "Proxy").symlink_to(area["outside"])
    (card / "day4" / "Proxy").write_text("a plain file named Proxy")
    proxx = Proxx.open()
    events = MediaWatcher(proxx, card, INTENT, None, settle=0.0).poll()
    by_day = {e.path.parent.name: e for e in events if e.path.name == "A001.mov"}  # the clips' events
    assert by_day["day3"].outcome == "queued"
    for day in ("day1", "day2", "day4"):
        assert by_day[day].outcome == "skipped"
        assert "already exists and this watch folder did not make it" in by_day[day].message
    assert MediaWatcher(proxx, card, INTENT, None, settle=0.0).poll() == [
        e for e in events if e.outcome == "skipped"
    ]  # a restart says it again and survives
    (card / "day3" / "B001.mov").write_bytes((area["media"] / "A001.mov").read_bytes())
    again = [e for e in MediaWatcher(Proxx.open(), card, INTENT, None, settle=0.0).poll() if e.outcome == "queued"]
    assert [e.path for e in again] == [card / "day3" / "B001.mov"]
    assert _tree(area["outside"]) == []


def test_a_media_file_whose_name_is_not_utf8_never_stops_a_watcher_or_the_web_picker(proxx_home, area, tmp_path):
    card = tmp_path / "card"
    card.mkdir()
    odd = os.fsdecode(b"A\xff\xfe.mov")
    (card / odd).write_bytes((area["media"] / "A001.mov").read_bytes())
    (card / "B001.mov").write_bytes((area["media"] / "A001.mov").read_bytes())
    for _restart in range(2):
        events = MediaWatcher(Proxx.open(), card, INTENT, area["out"], settle=0.0).poll()
        skipped = [e for e in events if e.outcome == "skipped"]
        assert [printable(e.path) for e in skipped] == [str(card / "A\\xff\\xfe.mov")]
        assert "not UTF-8" in skipped[0].message
    assert [e.path.name for e in MediaWatcher(Proxx.open(), card, INTENT, area["out"], settle=0.0).poll()] == [odd]
    picker = MediaRoots([MediaRoot("card", card.resolve())], ())
    assert [e.name for e in picker.tree()] == ["card", "B001.mov"]
    assert [e.name for e in picker.listing("card")] == ["B001.mov"]


def test_a_source_or_output_named_with_bytes_that_are_not_utf8_is_refused_at_the_cli(proxx_home, area, capsys):
    """Named on the command line, such a file or folder reached the job store, which cannot write
    it: "internal error (UnicodeEncodeError)" instead of a refusal naming it."""
    odd = area["media"] / os.fsdecode(b"B\xff.mov")
    odd.write_bytes((area["media"] / "A001.mov").read_bytes())
    odd_out = area["out"] / os.fsdecode(b"day\xfe")
    odd_out.mkdir()
    for sources, output in (([str(odd)], area["out"]), ([str(area["media"] / "A001.mov")], odd_out)):
        assert main(["run", "--profile", INTENT, "--output", str(output), *sources]) == 3
        err = capsys.readouterr().err
        assert "is not UTF-8 text" in err and "internal error" not in err, err
        assert ("\\xff" if output == area["out"] else "\\xfe") in err
    assert [p.name for p in area["out"].iterdir()] == [odd_out.name] and list(odd_out.iterdir()) == []


def test_a_fifo_a_socket_and_a_device_named_as_sources_are_each_said_for_what_they_are(
    proxx_home, area, tmp_path, capsys
):
    """A socket was said to be "a device"; each special file is named for what it is, in one line."""
    import socket

    special = tmp_path / "special"
    special.mkdir()
    os.mkfifo(special / "pipe.mov")
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(str(special / "sock.mov"))
    (special / "zero.mov").symlink_to("/dev/zero")
    try:
        assert main(["run", "--profile", INTENT, "--output", str(area["out"]), str(special)]) == 4
    finally:
        listener.close()
    err = capsys.readouterr().err
    for name, kind in (("pipe.mov", "a FIFO"), ("sock.mov", "a socket"), ("zero.mov", "a device")):
        assert f"Source '{special / name}' is not a regular file ({kind}); only media files are read." in err, err
    assert list(area["out"].iterdir()) == []


def test_a_fifo_swapped_in_for_a_source_after_its_type_was_checked_never_blocks_validation(area, tmp_path, monkeypatch):
    """Validation checked the source was a regular file, then opened it by name to read its first
    bytes: a FIFO put there in between blocked that read for ever (seen with a loop of renames)."""
    import signal

    from proxx.validate import trust

    source = area["media"] / "A001.mov"
    real_stat = os.stat

    def stat_then_swap(path, *args, **kwargs):
        found = real_stat(path, *args, **kwargs)
        if str(path) == str(source) and not os.path.exists(tmp_path / "swapped"):
            (tmp_path / "swapped").touch()
            os.mkfifo(tmp_path / "fifo")
            os.rename(tmp_path / "fifo", source)  # what a racing rename does, between the stat and the open
        return found

    monkeypatch.setattr(trust.os, "stat", stat_then_swap)
    signal.alarm(10)  # a hang fails the test instead of stalling the suite
    try:
        problems, real = trust.check_source_file(str(source), None)
    finally:
        signal.alarm(0)
        monkeypatch.undo()
    assert real is None and [p.reason for p in problems] == ["source_not_a_file"]
    assert "(a FIFO)" in problems[0].message


# --- reuse: never asked for by an untrusted JobSpec -------------------------------------------------


def test_an_inbox_jobspec_asking_for_reuse_is_refused(proxx_home, area, tmp_path):
    proxx = Proxx.open()
    spec = create_jobspec(
        proxx.select(INTENT), [area["media"] / "A001.mov"], area["out"], utc_now(), proxx.requirements("ffmpeg")
    )
    document = json.loads(spec.to_json())
    document["reuse"] = True
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "reuse.json").write_text(json.dumps(document))
    roots = Roots([area["media"], area["out"]])
    (event,) = JobSpecInbox(proxx, inbox, roots, settle=0.0).poll()
    assert event.outcome == "failed"
    assert "it asks to reuse earlier outputs, which only an operator's own job may" in event.message
    assert proxx.store.jobs() == []


def _run(proxx: Proxx, sources: list[Path], output: Path, reuse: bool = False):  # type: ignore[no-untyped-def]
    output.mkdir(parents=True, exist_ok=True)
    result = proxx.run_job(proxx.create_job(INTENT, sources, output, reuse=reuse).job_id)
    assert result is not None and result.state == COMPLETED, result
    return result


def test_reuse_is_by_content_and_place(proxx_home, tmp_path):
    """A clip of the same shape (fingerprint) but other bytes is rendered, never given another
    clip's proxy; an identical clip reuses only a proxy inside the asking job's roots."""
    project, other = tmp_path / "project", tmp_path / "other-project"
    first = make_clip(other / "card" / "A001.mov", frames=6)
    proxx = Proxx.open()
    _run(proxx, [first], other / "out")
    twin = project / "card" / "A001.mov"  # the same bytes, in another project
    twin.parent.mkdir(parents=True)
    shutil.copyfile(first, twin)
    look_alike = project / "card" / "B001.mov"  # the same shape, other bytes (a title added)
    ffmpeg = require_tool("ffmpeg").path
    subprocess.run([ffmpeg, "-v", "error", "-i", str(first), "-map", "0", "-c", "copy", "-metadata", "title=B",
                    str(look_alike)], check=True)  # fmt: skip
    no_roots = _run(proxx, [look_alike], project / "out1", reuse=True)
    assert no_roots.clips[0].reused_from is None and no_roots.engine.version  # rendered
    roots = Roots([project])
    (project / "out2").mkdir()
    spec = proxx.create_job(INTENT, [twin], project / "out2", reuse=True, roots=roots)
    outside = proxx.run_job(spec.job_id)
    assert outside is not None and outside.state == COMPLETED and outside.clips[0].reused_from is None
    assert "outside this job's roots" in Path(outside.log_path).read_text()
    (project / "out3").mkdir()
    again = proxx.create_job(INTENT, [twin], project / "out3", reuse=True, roots=roots)
    inside = proxx.run_job(again.job_id)
    assert inside is not None and inside.clips[0].reused_from is not None
    assert inside.clips[0].reused_from.job_id == spec.job_id  # its own project's proxy of these bytes


# --- profile files: any unreadable file is its own problem; confusable names -----------------------

PROFILE = (
    'user_profile_version: "1.1"\nname: {name}\nconstraints:\n  codecs: [prores_lt]\n  max_frame_size: {size}\n'
    "  engine_preference: [ffmpeg]\n"
)


@pytest.fixture
def odd_repo(tmp_path: Path) -> Path:
    repo = tmp_path / "studio" / "user"
    repo.mkdir(parents=True)
    (repo / "dated.yaml").write_text(PROFILE.format(name="Dated", size="2026-02-30"))
    (repo / "date-named.yaml").write_text(PROFILE.format(name="2026-02-28", size="1920x1080"))
    (repo / "huge.yaml").write_text(PROFILE.format(name="Huge", size="9" * 5000))
    (repo / "lookalike.yaml").write_text(PROFILE.format(name="HD Edit\u043erial LT", size="1920x1080"))
    (repo / "latin.yaml").write_text(PROFILE.format(name="Studio Editorial", size="1920x1080"))
    (repo / "zero.yaml").write_text(PROFILE.format(name="Studio Edit0rial", size="1920x1080"))
    return repo.parent


def test_a_profile_value_yaml_would_read_as_a_date_or_a_huge_integer_is_that_files_problem(
    proxx_home, odd_repo, capsys, monkeypatch
):
    assert main(["validate", str(odd_repo)]) == 3
    out = capsys.readouterr().out
    assert f"{odd_repo / 'user' / 'dated.yaml'}:5: error [Dated]: constraints.max_frame_size: '2026-02-30'" in out
    assert f"{odd_repo / 'user' / 'huge.yaml'}:5: error: invalid YAML: an integer of 5000 digits" in out
    assert "date-named.yaml" not in out  # a name that looks like a date is a name
    monkeypatch.setenv("PROXX_PROFILES", str(odd_repo))
    assert main(["profiles", "--all"]) == 0  # the CLI and the web list the same intents
    listed = {status.name: status for status in Proxx.open().intents()}
    assert "2026-02-28" in listed and listed["2026-02-28"].selectable
    assert not listed["Dated"].selectable and "malformed" in (listed["Dated"].problem or "")


def test_validate_reports_intent_names_confusable_with_each_other(proxx_home, odd_repo, capsys):
    assert main(["validate", str(odd_repo)]) == 3
    out = capsys.readouterr().out
    lookalike = f"{odd_repo / 'user' / 'lookalike.yaml'}:2:"
    assert lookalike in out and "looks like 'HD Editorial LT'" in out  # the bundled intent
    assert "mixes scripts in the word 'Edit\\u043erial'" in out
    assert "intent name 'Studio Edit0rial' looks like 'Studio Editorial'" in out
    assert "intent name 'Studio Editorial' looks like 'Studio Edit0rial'" in out


def test_an_ascii_name_skips_the_unicode_work_without_changing_the_verdict():
    # ASCII is its own NFKD form with no mark or format character, and every ASCII letter is Latin:
    # the shortcuts `skeleton` and `mixed_script_word` take for ASCII names.
    import unicodedata

    from proxx.compile.confusable import mixed_script_word, skeleton

    ascii_characters = [chr(code) for code in range(128)]
    assert all(unicodedata.normalize("NFKD", c) == c for c in ascii_characters)
    assert not [c for c in ascii_characters if unicodedata.category(c) in ("Mn", "Me", "Cf")]
    assert all(unicodedata.name(c).startswith("LATIN") for c in ascii_characters if unicodedata.category(c)[0] == "L")
    assert skeleton("HD Edit0rial  LT") == skeleton("hd editorial lt") == skeleton("HD Edit\u043erial LT")
    assert mixed_script_word("HD Editorial LT") is None and mixed_script_word("HD Edit\u043erial") == "Edit\u043erial"


# --- bounded fan-out and load ----------------------------------------------------------------------


def test_a_folder_named_many_times_is_one_set_of_clips_and_the_cap_holds(proxx_home, area, monkeypatch):
    """One request naming a folder 500 times (and its files again) makes one clip per file, walked
    outside the lock other requests wait on; past the per-job cap nothing is created; a job list
    entry names its first source and counts the others."""
    from fastapi.testclient import TestClient

    from proxx.web.app import create_app
    from proxx.web.roots import parse_roots
    from proxx.web.service import WebService

    card = area["media"] / "card"
    card.mkdir()
    for n in range(4):
        (card / f"C{n:03d}.mov").write_bytes((area["media"] / "A001.mov").read_bytes())
    app = Proxx.open()
    service = WebService(app, MediaRoots(parse_roots([f"media={area['media']}"]), app.beside_outputs), profiles=[])
    walks: list[bool] = []
    real = service_module.expand_sources

    def watched(*args, **kwargs):  # type: ignore[no-untyped-def]
        walks.append(service._lock._is_owned())  # type: ignore[attr-defined]
        return real(*args, **kwargs)

    monkeypatch.setattr(service_module, "expand_sources", watched)
    with TestClient(create_app(service)) as client:
        sources = ["media/card"] * 499 + ["media/card/C000.mov"]
        made = client.post("/api/jobs", json={"intent": INTENT, "sources": sources, "output_folder": "media"})
        assert made.status_code == 201, made.text
        assert len(made.json()["sources"]) == 4 and walks == [False]
        monkeypatch.setenv("PROXX_MAX_CLIPS_PER_JOB", "3")
        refused = client.post("/api/jobs", json={"intent": INTENT, "sources": ["media/card"], "output_folder": "media"})
        assert refused.status_code == 422 and refused.json()["reason"] == "too_many_sources", refused.text
        assert "one job takes at most 3 (PROXX_MAX_CLIPS_PER_JOB)" in refused.json()["detail"]
        (listed,) = client.get("/api/jobs").json()
        assert listed["sources"] == ["media/card/C000.mov"] and listed["source_count"] == 4
    service.proxx.store.close()


def _closed(connection: object) -> bool:
    try:
        return connection.recv(1) == b""  # type: ignore[attr-defined]
    except ConnectionResetError:
        return True


@pytest.mark.parametrize(
    "started",
    [
        b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ",
        b"POST /api/jobs HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 999\r\n\r\n{",
    ],
    ids=["head", "body"],
)
def test_slow_clients_never_lock_the_web_server_out(proxx_home, area, tmp_path, started):
    """Clients that open connections and never finish a request, its head or its body (a byte now and
    then: the body's was not timed at all), are cut off after PROXX_WEB_HEADER_SECONDS; past
    PROXX_WEB_MAX_CONNECTIONS a connection is closed at once; the server answers everyone else
    throughout."""
    import re
    import signal
    import socket
    import subprocess
    import sys
    import urllib.request

    env = {**os.environ, "PROXX_HOME": str(tmp_path / "serve-home"), "PROXX_WEB_HEADER_SECONDS": "1",
           "PROXX_WEB_MAX_CONNECTIONS": "4"}  # fmt: skip
    proxx = str(Path(sys.executable).with_name("proxx"))
    process = subprocess.Popen(
        [proxx, "serve", "--port", "0", "--root", f"media={area['media']}", "--workers", "0"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    slow: list[socket.socket] = []
    try:
        assert process.stdout is not None
        match = re.match(r"proxx serve: http://127\.0\.0\.1:(\d+)/$", process.stdout.readline().strip())
        assert match
        port = int(match.group(1))
        for _ in range(4):
            client = socket.create_connection(("127.0.0.1", port))
            client.sendall(started)
            slow.append(client)
        time.sleep(0.3)
        extra = socket.create_connection(("127.0.0.1", port), timeout=5)
        assert _closed(extra)  # closed at once: four connections are open
        extra.close()
        started = time.monotonic()
        for client in slow:
            client.settimeout(5)
            client.sendall(b"a")  # a byte now and then keeps none of them alive past the deadline
            assert _closed(client)
        assert time.monotonic() - started < 3
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/media", timeout=5) as answer:
            assert answer.status == 200
    finally:
        for client in slow:
            client.close()
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=20)


# --- signed both ways: envelopes, replay, what the farm writes back --------------------------------

FARM_KEY = b"the facility's farm key"


def test_a_signed_message_is_good_only_for_its_domain_job_audience_and_time(tmp_path):
    from proxx.jobspec.signing import FARM_STATE, FARM_TASK, INBOX, SignatureRefused, open_sealed, seal

    job = "job-20261206T070000Z-0123abcd"
    task = seal(FARM_TASK, job, "proxx-farm", b'{"job_id": "x"}', FARM_KEY, 60)
    assert open_sealed(task, FARM_KEY, FARM_TASK, "proxx-farm")[1] == b'{"job_id": "x"}'
    refusals = {
        "a farm task as an inbox JobSpec": (task, INBOX, "proxx-farm", None),
        "a farm task as a worker's state": (task, FARM_STATE, "proxx-farm", None),
        "for another farm": (task, FARM_TASK, "other-farm", None),
        "for another job": (task, FARM_TASK, "proxx-farm", "job-20261206T070000Z-ffffffff"),
        "expired": (seal(FARM_TASK, job, "proxx-farm", b"{}", FARM_KEY, -1), FARM_TASK, "proxx-farm", None),
        "altered": (task.replace(b'"x"', b'"y"'), FARM_TASK, "proxx-farm", None),
        "not JSON, unsigned": (b"[" * 100_000, FARM_TASK, "proxx-farm", None),
        "a signature line only": (b"proxx-signed-1 hmac-sha256:00", FARM_TASK, "proxx-farm", None),
    }
    for what, (data, domain, audience, for_job) in refusals.items():
        with pytest.raises(SignatureRefused):
            open_sealed(data, FARM_KEY, domain, audience, for_job)
            pytest.fail(what)


def test_an_inbox_envelope_for_another_inbox_or_a_farm_task_is_refused(proxx_home, area, tmp_path):
    from proxx.jobspec.signing import FARM_TASK, INBOX, seal

    proxx = Proxx.open()
    spec = create_jobspec(
        proxx.select(INTENT), [area["media"] / "A001.mov"], area["out"], utc_now(), proxx.requirements("ffmpeg")
    )
    data = spec.to_json().encode()
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "other.json").write_bytes(seal(INBOX, spec.job_id, "/srv/other-inbox", data, FARM_KEY, 60))
    (inbox / "task.json").write_bytes(seal(FARM_TASK, spec.job_id, str(inbox), data, FARM_KEY, 60))
    (inbox / "expired.json").write_bytes(seal(INBOX, spec.job_id, str(inbox), data, FARM_KEY, -1))
    events = {e.path.name: e for e in JobSpecInbox(proxx, inbox, Roots([area["media"], area["out"]]), settle=0.0,
                                                    key=FARM_KEY).poll()}  # fmt: skip
    assert "signed for '/srv/other-inbox'" in events["other.json"].message
    assert "its signature does not verify" in events["task.json"].message  # another domain, another key
    assert "its signature has expired" in events["expired.json"].message
    assert proxx.store.jobs() == []


def test_an_inbox_file_whose_name_is_not_utf8_is_refused_and_the_inbox_goes_on(proxx_home, area, tmp_path):
    proxx = Proxx.open()
    spec = create_jobspec(
        proxx.select(INTENT), [area["media"] / "A001.mov"], area["out"], utc_now(), proxx.requirements("ffmpeg")
    )
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / os.fsdecode(b"job\xff.json")).write_text(spec.to_json())
    roots = Roots([area["media"], area["out"]])
    for _ in range(2):  # and after a restart
        JobSpecInbox(Proxx.open(), inbox, roots, settle=0.0).poll()
    (area["out"] / "next").mkdir()  # the first one's job, queued, makes area["out"]'s proxy
    spec2 = create_jobspec(
        proxx.select(INTENT),
        [area["media"] / "A001.mov"],
        area["out"] / "next",
        utc_now(),
        proxx.requirements("ffmpeg"),
    )
    (inbox / "next.json").write_text(spec2.to_json())
    events = JobSpecInbox(Proxx.open(), inbox, roots, settle=0.0).poll()
    assert [(e.path.name, e.outcome) for e in events] == [("next.json", "queued")]


def test_sign_jobspec_makes_a_file_one_inbox_accepts(proxx_home, area, tmp_path, monkeypatch, capsys):
    proxx = Proxx.open()
    spec = create_jobspec(
        proxx.select(INTENT), [area["media"] / "A001.mov"], area["out"], utc_now(), proxx.requirements("ffmpeg")
    )
    plain = tmp_path / "spec.json"
    plain.write_text(spec.to_json())
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    monkeypatch.setenv("PROXX_INBOX_KEY", FARM_KEY.decode())
    assert main(["sign-jobspec", str(plain), "--inbox", str(inbox), "--output", str(inbox / "signed.json")]) == 0
    assert main(["sign-jobspec", str(plain), "--inbox", "/srv/other", "--output", str(inbox / "other.json")]) == 0
    capsys.readouterr()
    roots = Roots([area["media"], area["out"]])
    events = {e.path.name: e for e in JobSpecInbox(proxx, inbox, roots, settle=0.0, key=FARM_KEY).poll()}
    assert events["signed.json"].outcome == "queued" and events["other.json"].outcome == "failed"


def test_an_inbox_jobspec_with_an_unknown_field_is_told_every_valid_field(proxx_home, area, tmp_path):
    """The refusal names every valid field (it was cut at 200 characters, mid-name), while a value
    or name from the file itself is quoted short, however long it is."""
    from proxx.jobspec.model import JobSpec

    proxx = Proxx.open()
    spec = create_jobspec(
        proxx.select(INTENT), [area["media"] / "A001.mov"], area["out"], utc_now(), proxx.requirements("ffmpeg")
    )
    document = json.loads(spec.to_json())
    document["resolution"] = "quarter"
    document["x" * 5000] = 1
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "extra.json").write_text(json.dumps(document))
    (event,) = JobSpecInbox(proxx, inbox, Roots([area["media"], area["out"]]), settle=0.0).poll()
    assert event.outcome == "failed"
    fields = [field.name for field in attrs.fields(JobSpec)]
    assert all(name in event.message for name in fields), event.message
    assert "'resolution'" in event.message and "x" * 100 not in event.message
    assert len(event.message) < 1500


@pytest.mark.parametrize("first", ["valid", "refused"])
def test_an_inbox_jobspec_edited_while_it_is_checked_is_read_again_never_filed_unread(
    proxx_home, area, tmp_path, monkeypatch, first
):
    """An operator saving a corrected JobSpec over the one the inbox was checking (compiling, probing
    its sources): the file as saved was moved to queued/ (or failed/, under the first one's error) as
    though handled, and never read. It stays in the inbox and the next pass reads it."""
    proxx = Proxx.open()
    made = [
        create_jobspec(
            proxx.select(INTENT),
            [area["media"] / "A001.mov"],
            area["out"] / f"v{n}",
            utc_now(),
            proxx.requirements("ffmpeg"),
        )
        for n in range(2)
    ]
    for n in range(2):
        (area["out"] / f"v{n}").mkdir()
    document = json.loads(made[0].to_json())
    document["reuse"] = first == "refused"
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    spec_file = inbox / "card.json"
    spec_file.write_text(json.dumps(document))
    checked = JobSpecInbox._check

    def saved_meanwhile(self, path):  # type: ignore[no-untyped-def]
        found = checked(self, path)
        spec_file.write_text(made[1].to_json())  # in place, as an editor saves
        return found

    monkeypatch.setattr(JobSpecInbox, "_check", saved_meanwhile)
    roots = Roots([area["media"], area["out"]])
    (event,) = JobSpecInbox(proxx, inbox, roots, settle=0.0).poll()
    assert event.outcome == ("queued" if first == "valid" else "failed")
    assert "changed after it was read" in event.message and "stays in the inbox" in event.message
    assert json.loads(spec_file.read_text())["job_id"] == made[1].job_id
    assert [p.name for p in (inbox / ("queued" if first == "valid" else "failed")).iterdir()] == []
    monkeypatch.setattr(JobSpecInbox, "_check", checked)
    (event,) = JobSpecInbox(proxx, inbox, roots, settle=0.0).poll()
    assert (event.outcome, event.job_id) == ("queued", made[1].job_id)
    assert json.loads((inbox / "queued" / "card.json").read_text())["job_id"] == made[1].job_id
    expected = [made[1].job_id] if first == "refused" else sorted(s.job_id for s in made)
    assert sorted(j.job_id for j in proxx.store.jobs()) == expected


def test_an_inbox_jobspec_giving_a_field_twice_is_refused(proxx_home, area, tmp_path):
    """JSON readers differ on a key given twice (Python's takes the last, others the first, as a
    signer or a reviewer may): it was queued as the last said. A number too long to read is refused
    in proxx's words, never Python's advice to change its settings."""
    proxx = Proxx.open()
    made = [create_jobspec(proxx.select(INTENT), [area["media"] / "A001.mov"], area["out"], utc_now(), proxx.requirements("ffmpeg"))
            for _ in range(2)]  # fmt: skip
    text = made[1].to_json()
    twice = text.replace('"job_id":', f'"job_id":"{made[0].job_id}","job_id":', 1)
    assert twice != text
    long_number = text.replace('"index":0', '"index":' + "9" * 5000, 1)
    assert long_number != text
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "twice.json").write_text(twice)
    (inbox / "long.json").write_text(long_number)
    events = {
        e.path.name: e for e in JobSpecInbox(proxx, inbox, Roots([area["media"], area["out"]]), settle=0.0).poll()
    }
    assert events["twice.json"].outcome == "failed" and events["twice.json"].failure_class == "B"
    assert "it gives 'job_id' more than once" in events["twice.json"].message
    assert "it holds a number too long to be read" in events["long.json"].message
    assert "set_int_max_str_digits" not in events["long.json"].message
    assert proxx.store.jobs() == []


def test_an_inbox_error_file_names_its_jobspec_escaped(proxx_home, area, tmp_path):
    """The error file beside a JobSpec queued twice named the file as it was: `cat` of it drove the
    operator's terminal, whose name held an escape sequence."""
    proxx = Proxx.open()
    spec = create_jobspec(
        proxx.select(INTENT), [area["media"] / "A001.mov"], area["out"], utc_now(), proxx.requirements("ffmpeg")
    )
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    roots = Roots([area["media"], area["out"]])
    (inbox / "first.json").write_text(spec.to_json())
    JobSpecInbox(proxx, inbox, roots, settle=0.0).poll()
    (inbox / "again\x1b]0;TITLE\x07.json").write_text(spec.to_json())
    (event,) = JobSpecInbox(proxx, inbox, roots, settle=0.0).poll()
    assert event.outcome == "failed" and "already exists" in event.message
    (error,) = (inbox / "failed").glob("*.error.txt")
    assert "\x1b" not in error.read_text() and "\\x1b]0;TITLE\\x07" in error.read_text()


@pytest.mark.parametrize("field", ["job_id", "naming", "half a character"])
def test_an_inbox_jobspec_with_a_line_break_after_a_value_its_pattern_ends_is_refused(
    proxx_home, area, tmp_path, field
):
    """JSON Schema reads `^job-...$` in ECMA-262, where `$` is the end of the text. Python's `re`
    let `job-...\\n` through, and a naming suffix `_Proxy\\n` with outputs named by it: a job id
    and a proxy name holding a line break were queued. Half a character (JSON's `"\\ud800"`), which
    no text holds, matches no pattern either: it had stopped the inbox's check of that file."""
    proxx = Proxx.open()
    spec = create_jobspec(
        proxx.select(INTENT), [area["media"] / "A001.mov"], area["out"], utc_now(), proxx.requirements("ffmpeg")
    )
    document = json.loads(spec.to_json())
    if field == "job_id":
        document["job_id"] += "\n"
    elif field == "half a character":
        document["job_id"] = "job-20261207T000000Z-0000000\ud800"
    else:
        document["naming"]["suffix"] = "_Proxy\n"
        document["clips"][0]["output"] = str(area["out"] / "A001_Proxy\n.mov")
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "spec.json").write_text(json.dumps(document))
    (event,) = JobSpecInbox(proxx, inbox, Roots([area["media"], area["out"]]), settle=0.0).poll()
    assert event.outcome == "failed", event.message
    named = "naming.suffix" if field == "naming" else "job_id"
    wrong = "\\ud800" if field == "half a character" else "\\n"
    assert f"is not a valid JobSpec: {named}: '" in event.message and f"{wrong}' is not valid" in event.message
    assert proxx.store.jobs() == [] and list(inbox.glob("*.json")) == []


@pytest.mark.parametrize("package", ["", "../proxx", "proxx\n"])
def test_an_inbox_jobspec_requiring_a_package_no_name_can_be_is_refused_in_words(proxx_home, area, tmp_path, package):
    """`requires` names distributions. An empty name made validation raise ("A distribution name is
    required"), and the job failed as proxx's own unexpected error instead of being refused."""
    proxx = Proxx.open()
    spec = create_jobspec(
        proxx.select(INTENT), [area["media"] / "A001.mov"], area["out"], utc_now(), proxx.requirements("ffmpeg")
    )
    document = json.loads(spec.to_json())
    document["requires"][package] = "0.1.0"
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "spec.json").write_text(json.dumps(document))
    (event,) = JobSpecInbox(proxx, inbox, Roots([area["media"], area["out"]]), settle=0.0).poll()
    assert event.outcome == "failed"
    assert f"it is not a valid JobSpec: requires: {package!r} is not valid" in event.message
    assert proxx.store.jobs() == []
